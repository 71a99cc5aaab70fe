"""The QLoRA lab tab, in five steps: task and data, configure, train, compare, export.

Thin over tutor.training_lab.TrainingLab (``core.qlora``). Training runs in a worker process; this
page polls its progress log every two seconds, so a reload (or another browser) re-attaches to a
running job.

The page is built one step at a time: ``_data_step`` ... ``_export_step`` each lay out one
accordion and return its components; ``LabEvents`` holds the handlers (one core call each); the
``_wire_*`` functions connect the two, and ``build_qlora_tab`` puts it all together.

API endpoints (gradio_client): ``qlora_start``, ``qlora_status``, ``qlora_stop``, ``qlora_resume``, ``qlora_delete``,
``qlora_compare``, ``qlora_export``.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import pandas as pd

from labs.identity import viewer_of
from trainer.config import TrainConfig, field_help
from trainer.model import Hardware
from trainer.progress import format_duration
from tutor.core import Core
from tutor.training_lab import DataPreview, LabError, RunStatus

POLL_SECONDS = 2.0
# Exports wait in Gradio's queue, one at a time (the page shows the place); the lab's file lock
# holds the same across app processes.
EXPORT_QUEUE = {"concurrency_id": "export", "concurrency_limit": 1}
LEARNING_RATES = [0.0001, 0.0002, 0.0005, 0.001]
RANKS = [4, 8, 16, 32]
EMPTY_CURVE = pd.DataFrame({"step": [], "loss": [], "series": []})
CRITIC_EXAMPLES = 5  # issues shown in the preview's note


def _lab_errors(call):
    try:
        return call()
    except LabError as exc:
        raise gr.Error(str(exc)) from None


# --- what the components show: pure functions of the core's answers -----------------------------


def critic_markdown(preview: DataPreview) -> str:
    """The dataset critic's findings: counts per kind and the first few issues."""
    if not preview.issues:
        return "The dataset critic found no issues (duplicates, leakage, formats, lengths, balance, PII)."
    counts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in preview.issue_counts.items())
    shown = "\n".join(f"- line {i.line or '-'}: **{i.kind}** — {i.detail}" for i in preview.issues[:CRITIC_EXAMPLES])
    return f"The dataset critic found {len(preview.issues)} issue(s) ({counts}), for example:\n{shown}"


def preview_markdown(preview: DataPreview) -> str:
    labels = f" Labels: {preview.labels}." if preview.labels else ""
    return f"**{preview.examples} examples** from `{preview.source}`.{labels}\n\n{critic_markdown(preview)}"


def status_markdown(status: RunStatus) -> str:
    run, progress = status.run, status.progress
    head = f"**Run** `{run.id}` — **{status.phase}**"
    if run.status == "queued":
        ahead = status.position
        return f"{head}\n\nWaiting for the machine: {ahead} run(s) ahead of yours. It starts by itself."
    lines = [head]
    if progress.max_steps:
        share = progress.step / progress.max_steps
        lines.append(
            f'<progress value="{progress.step}" max="{progress.max_steps}" style="width:100%"></progress>\n\n'
            f"step {progress.step}/{progress.max_steps} ({share:.0%}) · elapsed {format_duration(progress.elapsed_s)}"
            f" · remaining ≈ {format_duration(progress.eta_s) if run.status == 'running' else '0s'}"
            f" · {progress.tokens_per_s or 0:.0f} tokens/s · memory {progress.memory_mb or 0:.0f} MB"
        )
    if run.message:
        lines.append(f"⚠️ {run.message}")
    if run.status in ("stopped", "interrupted"):
        lines.append("Press **Resume** to continue from the last checkpoint.")
    if status.metrics:
        before, after = status.metrics["before"], status.metrics["after"]
        lines.append(
            f"✅ Finished in {format_duration(status.metrics['seconds'])}: {after['metric']} "
            f"{before['value']:.3f} → **{after['value']:.3f}**. See step 4."
        )
    return "\n\n".join(lines)


def metrics_markdown(status: RunStatus | None) -> str:
    if status is None or not status.metrics:
        return "_Finish a run to compare the model before and after fine-tuning._"
    before, after = status.metrics["before"], status.metrics["after"]
    rows = []
    for name, value in after["details"].items():
        old = before["details"].get(name, 0.0)
        rows.append(f"| {name} | {old:.3f} | {value:.3f} | {value - old:+.3f} |")
    return (
        f"Held-out test set: {after['examples']} examples never trained on.\n\n"
        "| metric | before | after | change |\n|---|---|---|---|\n" + "\n".join(rows)
    )


def samples_frame(status: RunStatus | None) -> pd.DataFrame:
    samples = (status.metrics or {}).get("samples", []) if status else []
    return pd.DataFrame(samples[:12], columns=["input", "reference", "before", "after"])


# --- the page, one builder per step of the lab ---------------------------------------------------


def _intro(hardware: Hardware) -> None:
    where = (
        f"**{hardware.name}** found: runs use 4-bit NF4 weights with bf16 compute (QLoRA)."
        if hardware.is_gpu
        else f"No GPU found; training runs on the **{hardware.name}**: full-precision LoRA, a run of a few minutes."
    )
    gr.Markdown(
        "## QLoRA lab\nFine-tune a real model on this machine: pick a task, check the data, configure, train "
        f"with a live loss curve, compare before and after, export. {where} One run trains at a time on this "
        "server; others wait in a queue."
    )


@dataclass
class DataStep:
    task: gr.Radio
    upload: gr.File
    note: gr.Markdown
    preview: gr.Dataframe


def _data_step() -> DataStep:
    with gr.Accordion("1 · Task and data", open=True):
        with gr.Row():
            task = gr.Radio(
                ["sentiment", "summarization"],
                value="sentiment",
                label="Task",
                info="sentiment: financial news → positive/negative/neutral (accuracy, macro-F1). "
                "summarization: chat dialogue → one-sentence summary (ROUGE-L).",
            )
            upload = gr.File(label="Your own data (optional, .jsonl or .csv)", file_types=[".jsonl", ".csv"])
        note = gr.Markdown()
        preview = gr.Dataframe(headers=["input", "answer"], interactive=False, wrap=True)
    return DataStep(task, upload, note, preview)


@dataclass
class ConfigureStep:
    lr: gr.Dropdown
    rank: gr.Dropdown
    steps: gr.Slider
    quantize: gr.Checkbox
    config_yaml: gr.Code

    @property
    def basic(self) -> list:
        """The Basic panel's controls, in the order the handlers take them."""
        return [self.lr, self.rank, self.steps, self.quantize]


def _configure_step(default: TrainConfig, command: str) -> ConfigureStep:
    with gr.Accordion("2 · Configure", open=True):
        with gr.Row():
            lr = gr.Dropdown(
                LEARNING_RATES,
                value=default.training.learning_rate,
                label="Learning rate",
                info="LoRA tolerates higher rates than full fine-tuning; too high and the loss jumps.",
            )
            rank = gr.Dropdown(
                RANKS,
                value=default.lora.r,
                label="LoRA rank r",
                info="Size of the update. Small tasks need little; alpha is set to 2 x r.",
            )
            steps = gr.Slider(
                10,
                400,
                value=default.training.max_steps or 60,
                step=10,
                label="Training steps",
                info="The time budget: each step trains on one batch.",
            )
            quantize = gr.Checkbox(
                value=default.model.quantization == "4bit",
                label="4-bit base (QLoRA)",
                info="Saves GPU memory; slower on a CPU.",
            )
        with gr.Accordion("Advanced: every field (YAML)", open=False):
            config_yaml = gr.Code(value=default.to_yaml(), language="yaml", label="Training config")
            gr.Markdown(
                "| field | default | what it does |\n|---|---|---|\n"
                + "\n".join(f"| `{name}` | `{value}` | {text} |" for name, value, text in field_help())
            )
        gr.Markdown(
            "The same run from a terminal: save the YAML above as `my-run.yaml`, then "
            f"`{command}` (add `--max-steps N` or `--resume`)."
        )
    return ConfigureStep(lr, rank, steps, quantize, config_yaml)


@dataclass
class TrainStep:
    start: gr.Button
    stop: gr.Button
    resume: gr.Button
    delete: gr.Button
    status: gr.Markdown
    curve: gr.LinePlot
    log: gr.Textbox


def _train_step() -> TrainStep:
    with gr.Accordion("3 · Train", open=True):
        with gr.Row():
            start = gr.Button("Start training", variant="primary")
            stop = gr.Button("Stop (keeps a checkpoint)")
            resume = gr.Button("Resume")
            delete = gr.Button("Delete run", variant="stop")
        status = gr.Markdown("_No run yet._")
        curve = gr.LinePlot(EMPTY_CURVE, x="step", y="loss", color="series", title="Loss", height=280)
        log = gr.Textbox(label="Log (latest events)", lines=6, interactive=False)
    return TrainStep(start, stop, resume, delete, status, curve, log)


@dataclass
class CompareStep:
    metrics: gr.Markdown
    samples: gr.Dataframe
    text: gr.Textbox
    button: gr.Button
    base: gr.Textbox
    tuned: gr.Textbox


def _compare_step() -> CompareStep:
    with gr.Accordion("4 · Compare", open=True):
        metrics = gr.Markdown(metrics_markdown(None))
        samples = gr.Dataframe(headers=["input", "reference", "before", "after"], interactive=False, wrap=True)
        with gr.Row():
            text = gr.Textbox(label="Try your own input", placeholder="Nordvik Paper's order intake fell 12%.")
            button = gr.Button("Answer with adapter off and on")
        with gr.Row():
            base = gr.Textbox(label="Base model (adapter off)", interactive=False)
            tuned = gr.Textbox(label="Fine-tuned (adapter on)", interactive=False)
    return CompareStep(metrics, samples, text, button, base, tuned)


@dataclass
class ExportStep:
    buttons: dict[str, gr.Button]  # export kind -> its button
    download: gr.File


def _export_step() -> ExportStep:
    with gr.Accordion("5 · Export", open=True):
        gr.Markdown(
            "The adapter loads with `PeftModel.from_pretrained(base, folder)`; the merged model is the base with "
            "the adapter folded in (a 16- or 32-bit copy, never the 4-bit one); the GGUF file runs in llama.cpp "
            "and Ollama (`ollama create my-model -f Modelfile` with `FROM ./model-f16.gguf`)."
        )
        with gr.Row():
            buttons = {
                "adapter": gr.Button("Adapter (.zip)"),
                "merged": gr.Button("Merged model (.zip)"),
                "gguf": gr.Button("GGUF f16 (llama.cpp, Ollama)"),
                "report": gr.Button("Report (.md)"),
            }
        download = gr.File(label="Download", interactive=False)
    return ExportStep(buttons, download)


# --- handlers: one core call each ----------------------------------------------------------------


class LabEvents:
    """The tab's event handlers. Each asks the lab's core one thing for the signed-in learner and
    shapes the answer for the components; the core's LabError becomes a message (gr.Error)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.lab = core.qlora

    def _owner(self, request: gr.Request) -> str:
        return viewer_of(self.core, request).username

    # step 1 and 2: data and config
    def qlora_preview(self, task_value: str, file, request: gr.Request):
        owner = self._owner(request)
        path = getattr(file, "path", None) or getattr(file, "name", None) or (file if isinstance(file, str) else None)
        data = _lab_errors(lambda: self.lab.preview(task_value, path, owner=owner))
        return preview_markdown(data), pd.DataFrame(data.rows, columns=["input", "answer"]), data.source

    def qlora_basic(self, yaml_text: str, lr_value, rank_value, steps_value, quantize_value) -> str:
        """A Basic control changed: edit those fields in the YAML, keeping the learner's other edits."""
        config = _lab_errors(
            lambda: self.lab.edit_config(
                yaml_text, learning_rate=lr_value, rank=rank_value, max_steps=steps_value, quantize=quantize_value
            )
        )
        return config.to_yaml()

    def task_changed(self, task_value, file, lr_value, rank_value, steps_value, quantize_value, request: gr.Request):
        """A new task starts from that task's shipped defaults, with the Basic choices applied."""
        note, frame, source_value = self.qlora_preview(task_value, file, request)
        config = _lab_errors(
            lambda: self.lab.basic_config(
                task_value,
                source_value,
                learning_rate=lr_value,
                rank=rank_value,
                max_steps=steps_value,
                quantize=quantize_value,
            )
        )
        return note, frame, config.to_yaml()

    def upload_changed(self, task_value, file, yaml_text: str, request: gr.Request):
        """New data: preview and check it, then point the learner's config at it (other edits kept)."""
        note, frame, source_value = self.qlora_preview(task_value, file, request)
        try:
            new_yaml = self.lab.with_source(yaml_text, source_value).to_yaml()
        except LabError as exc:  # the preview still helps; the YAML is left for the learner to fix
            note += f"\n\n**The config below has an error, so `data.source` was not changed:** {exc}"
            new_yaml = gr.skip()
        return note, frame, new_yaml

    # step 3: train
    def refresh(self, current_run: str, request: gr.Request):
        """Every status output (see build_qlora_tab's status_outputs), for the latest run when none is given."""
        owner = self._owner(request)
        if not current_run:
            run = self.lab.latest(owner)
            if run is None:
                return (
                    "",
                    "_No run yet._",
                    EMPTY_CURVE,
                    "",
                    metrics_markdown(None),
                    samples_frame(None),
                    gr.Timer(active=False),
                )
            current_run = run.id
        status = _lab_errors(lambda: self.lab.status(owner, current_run))
        frame = pd.DataFrame(status.curve) if status.curve else EMPTY_CURVE
        return (
            current_run,
            status_markdown(status),
            frame,
            "\n".join(status.log_tail),
            metrics_markdown(status),
            samples_frame(status),
            gr.Timer(active=status.run.active),
        )

    def qlora_start(self, yaml_text: str, request: gr.Request) -> str:
        owner = self._owner(request)
        return _lab_errors(lambda: self.lab.start_run(owner, yaml_text)).id

    def qlora_status(self, current_run: str, request: gr.Request) -> dict:
        """The run's state as JSON (for scripts): status, phase, step, max_steps, metrics."""
        owner = self._owner(request)
        status = _lab_errors(lambda: self.lab.status(owner, current_run))
        return {
            "id": status.run.id,
            "status": status.run.status,
            "phase": status.phase,
            "position": status.position,
            "step": status.progress.step,
            "max_steps": status.progress.max_steps,
            "message": status.run.message,
            "metrics": {k: status.metrics[k] for k in ("before", "after", "seconds")} if status.metrics else None,
        }

    def qlora_stop(self, current_run: str, request: gr.Request) -> str:
        owner = self._owner(request)
        return _lab_errors(lambda: self.lab.stop(owner, current_run)).id

    def qlora_resume(self, current_run: str, request: gr.Request) -> str:
        owner = self._owner(request)
        return _lab_errors(lambda: self.lab.resume(owner, current_run)).id

    def qlora_delete(self, current_run: str, request: gr.Request) -> str:
        """Delete a finished run of one's own (frees its space); "" so the page shows the latest left."""
        owner = self._owner(request)
        _lab_errors(lambda: self.lab.delete(owner, current_run))
        return ""

    # step 4 and 5: compare and export
    def qlora_compare(self, current_run: str, text: str, request: gr.Request) -> tuple[str, str]:
        owner = self._owner(request)
        return _lab_errors(lambda: self.lab.compare(owner, current_run, text))

    def qlora_export(self, current_run: str, kind: str, request: gr.Request) -> str:
        owner = self._owner(request)
        return str(_lab_errors(lambda: self.lab.export(owner, current_run, kind)))

    def export_handler(self, kind: str):
        def handler(current: str, request: gr.Request) -> str:
            return self.qlora_export(current, kind, request)

        return handler

    def restore(self, request: gr.Request):
        """On page load: the built-in data's preview, and the learner's latest run."""
        preview_values = self.qlora_preview("sentiment", None, request)
        return (*preview_values[:2], *self.refresh("", request))


# --- wiring: which event calls which handler -----------------------------------------------------


def _wire_data_and_config(events: LabEvents, data: DataStep, configure: ConfigureStep) -> None:
    preview_outputs = [data.note, data.preview, configure.config_yaml]
    data.task.change(
        events.task_changed,
        inputs=[data.task, data.upload, *configure.basic],
        outputs=preview_outputs,
        api_visibility="private",
    )
    data.upload.change(
        events.upload_changed,
        inputs=[data.task, data.upload, configure.config_yaml],
        outputs=preview_outputs,
        api_visibility="private",
    )
    # .input, not .change: only the learner's own edits rewrite the YAML. A programmatic update
    # ("Open in the QLoRA lab" sets the YAML and the rank and rate together) must not trigger a
    # Basic rewrite that reads the controls half-updated and overwrites the advised config.
    gr.on(
        [control.input for control in configure.basic],
        events.qlora_basic,
        inputs=[configure.config_yaml, *configure.basic],
        outputs=configure.config_yaml,
        api_visibility="private",
    )


def _wire_train(events: LabEvents, run_id, config_yaml, train: TrainStep, timer, status_outputs: list) -> None:
    for button, handler, inputs, api_name in (
        (train.start, events.qlora_start, config_yaml, "qlora_start"),
        (train.stop, events.qlora_stop, run_id, "qlora_stop"),
        (train.resume, events.qlora_resume, run_id, "qlora_resume"),
        (train.delete, events.qlora_delete, run_id, "qlora_delete"),
    ):
        button.click(handler, inputs=inputs, outputs=run_id, api_name=api_name).then(
            events.refresh, inputs=run_id, outputs=status_outputs, api_visibility="private"
        )
    timer.tick(events.refresh, inputs=run_id, outputs=status_outputs, api_visibility="private", show_progress="hidden")


def _wire_compare_and_export(events: LabEvents, run_id, compare: CompareStep, export: ExportStep) -> None:
    compare.button.click(
        events.qlora_compare,
        inputs=[run_id, compare.text],
        outputs=[compare.base, compare.tuned],
        api_visibility="private",
        concurrency_id="compare",
        concurrency_limit=1,
    )
    for kind, button in export.buttons.items():
        button.click(
            events.export_handler(kind),
            inputs=run_id,
            outputs=export.download,
            api_visibility="private",
            **EXPORT_QUEUE,
        )


def build_qlora_tab(core: Core) -> tuple:
    """Lay out the five steps and wire them; returns (page-load handler, its outputs) for app.py."""
    lab = core.qlora
    _intro(lab.hardware)
    run_id = gr.Textbox(visible=False, label="run id")
    data = _data_step()
    configure = _configure_step(lab.default_config("sentiment"), lab.command())
    train = _train_step()
    compare = _compare_step()
    export = _export_step()
    timer = gr.Timer(POLL_SECONDS, active=False)
    status_outputs = [run_id, train.status, train.curve, train.log, compare.metrics, compare.samples, timer]

    events = LabEvents(core)
    _wire_data_and_config(events, data, configure)
    # API-only twins of the page's handlers (typed inputs, for scripts and tests).
    gr.api(events.qlora_status, api_name="qlora_status")
    gr.api(events.qlora_compare, api_name="qlora_compare")
    gr.api(events.qlora_export, api_name="qlora_export", **EXPORT_QUEUE)
    _wire_train(events, run_id, configure.config_yaml, train, timer, status_outputs)
    _wire_compare_and_export(events, run_id, compare, export)
    return events.restore, [data.note, data.preview, *status_outputs], configure


def wire_open_in_lab(core: Core, tabs: gr.Tabs, button: gr.Button, recommendation: gr.JSON, configure) -> None:
    """The hyperparameter advisor's "Open in the QLoRA lab": its LoRA and optimiser settings go
    into this lab's config (the Basic controls and the YAML) and the page switches to the lab."""

    def open_in_lab(data: dict | None, yaml_text: str, request: gr.Request) -> tuple:
        viewer_of(core, request)
        config = _lab_errors(lambda: core.qlora.with_advice(data, yaml_text))
        gr.Info(
            "Loaded the advised rank, alpha, dropout, target modules and learning-rate schedule. Steps, batch, "
            "sequence length and precision stay this lab's: it trains a 135M model on this machine."
        )
        lr = config.training.learning_rate if config.training.learning_rate in LEARNING_RATES else gr.skip()
        rank = config.lora.r if config.lora.r in RANKS else gr.skip()
        return gr.Tabs(selected="qlora"), config.to_yaml(), lr, rank

    button.click(
        open_in_lab,
        inputs=[recommendation, configure.config_yaml],
        outputs=[tabs, configure.config_yaml, configure.lr, configure.rank],
        api_visibility="private",
    )
