"""The QLoRA lab tab, in five steps: task and data, configure, train, compare, export.

Thin over tutor.qlora.QLoRALab. Training runs in a worker process; this page polls its progress
log every two seconds, so a reload (or another browser) re-attaches to a running job.

API endpoints (gradio_client): ``qlora_preview``, ``qlora_basic``, ``qlora_start``,
``qlora_status``, ``qlora_stop``, ``qlora_resume``, ``qlora_compare``, ``qlora_export``.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

from labs.identity import viewer_of
from trainer.config import field_help
from trainer.progress import format_duration
from tutor.core import Core
from tutor.qlora import LabError, RunStatus

POLL_SECONDS = 2.0
LEARNING_RATES = [0.0001, 0.0002, 0.0005, 0.001]
RANKS = [4, 8, 16, 32]
EMPTY_CURVE = pd.DataFrame({"step": [], "loss": [], "series": []})


def _lab_errors(call):
    try:
        return call()
    except LabError as exc:
        raise gr.Error(str(exc)) from None


def status_markdown(status: RunStatus) -> str:
    run = status.run
    head = f"**Run** `{run.id}` — **{status.phase}**"
    if run.status == "queued":
        ahead = status.position
        return f"{head}\n\nWaiting for the machine: {ahead} run(s) ahead of yours. It starts by itself."
    lines = [head]
    if status.max_steps:
        share = status.step / status.max_steps
        lines.append(
            f'<progress value="{status.step}" max="{status.max_steps}" style="width:100%"></progress>\n\n'
            f"step {status.step}/{status.max_steps} ({share:.0%}) · elapsed {format_duration(status.elapsed_s)}"
            f" · remaining ≈ {format_duration(status.eta_s) if run.status == 'running' else '0s'}"
            f" · {status.tokens_per_s or 0:.0f} tokens/s · memory {status.memory_mb or 0:.0f} MB"
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


def build_qlora_tab(core: Core) -> tuple:
    lab = core.qlora
    hardware = lab.hardware
    default = lab.default_config("sentiment")
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
    run_id = gr.Textbox(visible=False, label="run id")

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
        preview_note = gr.Markdown()
        preview = gr.Dataframe(headers=["input", "answer"], interactive=False, wrap=True)

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
            f"`{lab.command()}` (add `--max-steps N` or `--resume`)."
        )

    with gr.Accordion("3 · Train", open=True):
        with gr.Row():
            start_btn = gr.Button("Start training", variant="primary")
            stop_btn = gr.Button("Stop (keeps a checkpoint)")
            resume_btn = gr.Button("Resume")
        status_md = gr.Markdown("_No run yet._")
        curve = gr.LinePlot(EMPTY_CURVE, x="step", y="loss", color="series", title="Loss", height=280)
        log_box = gr.Textbox(label="Log (latest events)", lines=6, interactive=False)

    with gr.Accordion("4 · Compare", open=True):
        metrics_md = gr.Markdown(metrics_markdown(None))
        samples = gr.Dataframe(headers=["input", "reference", "before", "after"], interactive=False, wrap=True)
        with gr.Row():
            compare_in = gr.Textbox(label="Try your own input", placeholder="Nordvik Paper's order intake fell 12%.")
            compare_btn = gr.Button("Answer with adapter off and on")
        with gr.Row():
            base_out = gr.Textbox(label="Base model (adapter off)", interactive=False)
            tuned_out = gr.Textbox(label="Fine-tuned (adapter on)", interactive=False)

    with gr.Accordion("5 · Export", open=True):
        gr.Markdown(
            "The adapter loads with `PeftModel.from_pretrained(base, folder)`; the merged model is the base with "
            "the adapter folded in (a 16- or 32-bit copy, never the 4-bit one); the GGUF file runs in llama.cpp "
            "and Ollama (`ollama create my-model -f Modelfile` with `FROM ./model-f16.gguf`)."
        )
        with gr.Row():
            adapter_btn = gr.Button("Adapter (.zip)")
            merged_btn = gr.Button("Merged model (.zip)")
            gguf_btn = gr.Button("GGUF f16 (llama.cpp, Ollama)")
            report_btn = gr.Button("Report (.md)")
        download = gr.File(label="Download", interactive=False)

    timer = gr.Timer(POLL_SECONDS, active=False)

    # --- handlers: one core call each ---------------------------------------------------------
    def qlora_preview(task_value: str, file, request: gr.Request):
        viewer = viewer_of(core, request)
        path = getattr(file, "path", None) or getattr(file, "name", None) or (file if isinstance(file, str) else None)
        data = _lab_errors(lambda: lab.preview(task_value, path, owner=viewer.username))
        labels = f" Labels: {data.labels}." if data.labels else ""
        note = f"**{data.examples} examples** from `{data.source}`.{labels}\n\n{data.critic}"
        return note, pd.DataFrame(data.rows, columns=["input", "answer"]), data.source

    def qlora_basic(yaml_text: str, lr_value, rank_value, steps_value, quantize_value) -> str:
        """A Basic control changed: edit those fields in the YAML, keeping the learner's other edits."""
        config = _lab_errors(
            lambda: lab.edit_config(
                yaml_text, learning_rate=lr_value, rank=rank_value, max_steps=steps_value, quantize=quantize_value
            )
        )
        return config.to_yaml()

    def refresh(current_run: str, request: gr.Request):
        viewer = viewer_of(core, request)
        if not current_run:
            run = lab.latest(viewer.username)
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
        status = _lab_errors(lambda: lab.status(viewer.username, current_run))
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

    status_outputs = [run_id, status_md, curve, log_box, metrics_md, samples, timer]

    def qlora_start(yaml_text: str, request: gr.Request) -> str:
        viewer = viewer_of(core, request)
        return _lab_errors(lambda: lab.start_run(viewer.username, yaml_text)).id

    def qlora_status(current_run: str, request: gr.Request) -> dict:
        """The run's state as JSON (for scripts): status, phase, step, max_steps, metrics."""
        viewer = viewer_of(core, request)
        status = _lab_errors(lambda: lab.status(viewer.username, current_run))
        return {
            "id": status.run.id,
            "status": status.run.status,
            "phase": status.phase,
            "position": status.position,
            "step": status.step,
            "max_steps": status.max_steps,
            "message": status.run.message,
            "metrics": {k: status.metrics[k] for k in ("before", "after", "seconds")} if status.metrics else None,
        }

    def qlora_stop(current_run: str, request: gr.Request) -> str:
        viewer = viewer_of(core, request)
        return _lab_errors(lambda: lab.stop(viewer.username, current_run)).id

    def qlora_resume(current_run: str, request: gr.Request) -> str:
        viewer = viewer_of(core, request)
        return _lab_errors(lambda: lab.resume(viewer.username, current_run)).id

    def qlora_compare(current_run: str, text: str, request: gr.Request) -> tuple[str, str]:
        viewer = viewer_of(core, request)
        return _lab_errors(lambda: lab.compare(viewer.username, current_run, text))

    def qlora_export(current_run: str, kind: str, request: gr.Request) -> str:
        viewer = viewer_of(core, request)
        return str(_lab_errors(lambda: lab.export(viewer.username, current_run, kind)))

    def task_changed(task_value, file, lr_value, rank_value, steps_value, quantize_value, request: gr.Request):
        """A new task starts from that task's shipped defaults, with the Basic choices applied."""
        note, frame, source_value = qlora_preview(task_value, file, request)
        config = _lab_errors(
            lambda: lab.basic_config(
                task_value,
                source_value,
                learning_rate=lr_value,
                rank=rank_value,
                max_steps=steps_value,
                quantize=quantize_value,
            )
        )
        return note, frame, config.to_yaml()

    def upload_changed(task_value, file, yaml_text: str, request: gr.Request):
        """New data: preview and check it, then point the learner's config at it (other edits kept)."""
        note, frame, source_value = qlora_preview(task_value, file, request)
        try:
            new_yaml = lab.with_source(yaml_text, source_value).to_yaml()
        except LabError as exc:  # the preview still helps; the YAML is left for the learner to fix
            note += f"\n\n**The config below has an error, so `data.source` was not changed:** {exc}"
            new_yaml = gr.skip()
        return note, frame, new_yaml

    preview_outputs = [preview_note, preview, config_yaml]
    task.change(
        task_changed,
        inputs=[task, upload, lr, rank, steps, quantize],
        outputs=preview_outputs,
        api_visibility="private",
    )
    upload.change(
        upload_changed, inputs=[task, upload, config_yaml], outputs=preview_outputs, api_visibility="private"
    )
    gr.on(
        [lr.change, rank.change, steps.change, quantize.change],
        qlora_basic,
        inputs=[config_yaml, lr, rank, steps, quantize],
        outputs=config_yaml,
        api_visibility="private",
    )
    # API-only twins of the page's handlers (typed inputs, for scripts and tests).
    gr.api(qlora_status, api_name="qlora_status")
    gr.api(qlora_compare, api_name="qlora_compare")
    gr.api(qlora_export, api_name="qlora_export")

    start_btn.click(qlora_start, inputs=config_yaml, outputs=run_id, api_name="qlora_start").then(
        refresh, inputs=run_id, outputs=status_outputs, api_visibility="private"
    )
    stop_btn.click(qlora_stop, inputs=run_id, outputs=run_id, api_name="qlora_stop").then(
        refresh, inputs=run_id, outputs=status_outputs, api_visibility="private"
    )
    resume_btn.click(qlora_resume, inputs=run_id, outputs=run_id, api_name="qlora_resume").then(
        refresh, inputs=run_id, outputs=status_outputs, api_visibility="private"
    )
    timer.tick(refresh, inputs=run_id, outputs=status_outputs, api_visibility="private", show_progress="hidden")
    compare_btn.click(
        qlora_compare,
        inputs=[run_id, compare_in],
        outputs=[base_out, tuned_out],
        api_visibility="private",
        concurrency_id="llm",
        concurrency_limit=1,
    )

    def export_handler(kind: str):
        def handler(current: str, request: gr.Request) -> str:
            return qlora_export(current, kind, request)

        return handler

    for button, kind in (
        (adapter_btn, "adapter"),
        (merged_btn, "merged"),
        (gguf_btn, "gguf"),
        (report_btn, "report"),
    ):
        button.click(export_handler(kind), inputs=run_id, outputs=download, api_visibility="private")

    def restore(request: gr.Request):
        preview_values = qlora_preview("sentiment", None, request)
        return (*preview_values[:2], *refresh("", request))

    return restore, [preview_note, preview, *status_outputs]
