"""The QLoRA lab tab, in six steps: task and data (and cleaning it), configure, train, compare,
export, and the learner's runs side by side with the guided experiments.

Thin over tutor.training_lab.TrainingLab (``core.qlora``). Training runs in a worker process; this
page polls its progress log every two seconds, so a reload (or another browser) re-attaches to a
running job.

The page is built one step at a time: ``_data_step`` ... ``_runs_step`` each lay out one
accordion and return its components; ``LabEvents`` holds the handlers (one core call each); the
``_wire_*`` functions connect the two, and ``build_qlora_tab`` puts it all together.

API endpoints (gradio_client): ``qlora_start``, ``qlora_status``, ``qlora_stop``, ``qlora_resume``, ``qlora_delete``,
``qlora_compare``, ``qlora_export``; for the runs and data versions: ``qlora_clean``, ``qlora_runs``,
``qlora_compare_runs``, ``qlora_experiment``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd

from labs.identity import viewer_of
from trainer.config import TrainConfig, field_help
from trainer.data import BUILTIN_SOURCES, DEFAULT_FIELDS
from trainer.progress import format_duration
from tutor import data_versions
from tutor.core import Core
from tutor.data_cleaning import ACTION_TITLES, ACTIONS
from tutor.experiments import EXPERIMENTS
from tutor.run_compare import SIDE_BY_SIDE, Comparison, RunRow, data_diff_text, metric_rows
from tutor.training_lab import CleanOutcome, DataPreview, LabError, RunStatus, TrainingLab

POLL_SECONDS = 2.0
# Exports wait in Gradio's queue, one at a time (the page shows the place); the lab's file lock
# holds the same across app processes.
EXPORT_QUEUE = {"concurrency_id": "export", "concurrency_limit": 1}
LEARNING_RATES = [0.0001, 0.0002, 0.0005, 0.001]
RANKS = [4, 8, 16, 32]
# No points yet: None, not an empty DataFrame. A Gradio 6 LinePlot that has once been given an empty
# frame draws no lines for any later data (checked in Chromium with gradio 6.31).
EMPTY_CURVE = None
CRITIC_EXAMPLES = 5  # issues shown in the preview's note
BUILTIN_CHOICES = [("Built-in, clean", "builtin"), ("Built-in, raw as generated", "builtin:raw")]
CLEAN_DEFAULT = ["drop_empty", "lower_labels", "dedupe"]  # the actions ticked at first
REMOVED_SHOWN = 500  # removed rows listed under a cleaning (the counts are always complete)
RUN_COLUMNS = ["run", "task", "data", "changes from the default", "metric", "before", "after", "time", "status"]
RUN_COLUMNS += ["experiment"]
METRIC_COLUMNS = ["run", "data", "metric", "before", "after", "change", "test examples", "time"]
RUN_WIDTHS = ["17%", "8%", "12%", "23%", "6%", "6%", "6%", "6%", "6%", "10%"]
ACTIVE = ("queued", "running")


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
    blocking = (
        f"\n\n⚠️ **The trainer cannot read this file as it is:** {preview.blocking}. Cleaning (below) may fix it."
        if preview.blocking
        else ""
    )
    source = preview.label or preview.source
    return f"**{preview.examples} examples** from `{source}`.{labels}{blocking}\n\n{critic_markdown(preview)}"


def status_markdown(status: RunStatus) -> str:
    run, progress = status.run, status.progress
    head = f"**Run** `{run.id}` — **{status.phase}**"
    if run.status == "queued":
        ahead = status.position
        waits = f" It waits for {status.waiting_for}." if status.waiting_for else ""
        note = f"\n\n⚠️ {run.message}" if run.message else ""
        return f"{head}\n\n{ahead} run(s) ahead of yours.{waits} It starts by itself.{note}"
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


# step 1b: the data versions and a cleaning


def version_label(version: data_versions.DataVersion) -> str:
    rows = f", {version.rows} rows" if version.rows else ""
    return f"Yours: {version.label}{rows}"


def source_dropdown(versions: list[data_versions.DataVersion], value: str) -> gr.Dropdown:
    """The source picker's choices (built-in sets, then the learner's versions) with ``value`` chosen."""
    choices = BUILTIN_CHOICES + [(version_label(v), v.path) for v in versions]
    if value not in [c[1] for c in choices]:
        choices.append((data_versions.describe_source(value), value))
    return gr.Dropdown(choices=choices, value=value)


def clean_markdown(outcome: CleanOutcome) -> str:
    """Each cleaning step's counts, before -> after, and where the new version went."""
    version = outcome.version
    lines = [
        f"**Saved as a new version:** `{version.label}`, {version.rows} rows. The config's `data.source` "
        "now reads it (step 2), and the preview above shows it.",
        "",
        "| step | rows before | rows after | removed | labels rewritten |",
        "|---|---|---|---|---|",
    ]
    for step in outcome.cleaned.steps:
        title = step.title + (f" ({step.note})" if step.note else "")
        lines.append(f"| {title} | {step.before} | {step.after} | {len(step.removed)} | {step.changed} |")
    return "\n".join(lines)


def row_input(row: dict, task: str) -> str:
    """The input text of a raw data row, whatever its field names."""
    for key in (*DEFAULT_FIELDS.get(task, ((),))[0], "input", "text", "sentence", "dialogue", "prompt"):
        if isinstance(row.get(key), str):
            return row[key]
    return json.dumps(row, ensure_ascii=False)[:300]


def removed_frame(outcome: CleanOutcome, task: str) -> pd.DataFrame:
    rows = [
        [step.action, gone.line, gone.reason, row_input(gone.row, task)]
        for step in outcome.cleaned.steps
        for gone in step.removed
    ]
    return pd.DataFrame(rows[:REMOVED_SHOWN], columns=["step", "line", "reason", "input"])


def clean_json(outcome: CleanOutcome, task: str, config_yaml: str) -> dict:
    version = outcome.version
    return {
        "id": version.id,
        "source": version.path,  # not "path": gradio_client would take the dict for a file to download
        "label": version.label,
        "rows": version.rows,
        "parent": version.parent,
        "steps": [
            {
                "action": step.action,
                "summary": step.summary(),
                "before": step.before,
                "after": step.after,
                "changed": step.changed,
                "note": step.note,
                "removed": [
                    {"line": gone.line, "reason": gone.reason, "input": row_input(gone.row, task)}
                    for gone in step.removed
                ],
            }
            for step in outcome.cleaned.steps
        ],
        "removed_lines": sorted(gone.line for gone in outcome.cleaned.removed),
        "config_yaml": config_yaml,
    }


# step 6: my runs, comparisons and experiments


def _changes_text(changes: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in changes.items()) or "(the default)"


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def runs_frame(rows: list[RunRow]) -> pd.DataFrame:
    table = [
        [
            row.id,
            row.task,
            row.data,
            _changes_text(row.changes),
            row.metric,
            _score(row.before),
            _score(row.after),
            format_duration(row.seconds) if row.seconds else "",
            row.status,
            row.experiment,
        ]
        for row in rows
    ]
    return pd.DataFrame(table, columns=RUN_COLUMNS)


def picker_choices(rows: list[RunRow]) -> list[tuple[str, str]]:
    """The finished runs, each as ``<id> · <experiment arm> · <metric after>`` (the table has the rest)."""
    choices = []
    for row in rows:
        if row.status == "done":
            arm = f" · {row.experiment}" if row.experiment else ""
            score = f" · {row.metric} {row.after:.3f}" if row.after is not None else ""
            choices.append((f"{row.id}{arm}{score}", row.id))
    return choices


def arm_text(row: RunRow | None, status: RunStatus | None) -> str:
    """One experiment arm's state: queued, running (step and time), or how it ended."""
    if row is None:
        return "deleted"
    if status is not None and row.status == "queued":
        return f"queued ({status.position} run(s) ahead)"
    if status is not None and row.status == "running":
        progress = status.progress
        if not progress.step:  # loading, or scoring the base model before training
            return f"running: {status.phase}"
        return f"running: step {progress.step}/{progress.max_steps}, {format_duration(progress.elapsed_s)} of training"
    if row.status == "done" and row.after is not None:
        return f"done in {format_duration(row.seconds)}: {row.metric} {row.before:.3f} → **{row.after:.3f}**"
    return row.status


def experiments_markdown(pairs: dict[str, list], rows: dict[str, RunRow], statuses: dict[str, RunStatus]) -> str:
    """The learner's guided experiments, newest first, with each arm's state."""
    if not pairs:
        return "_No guided experiment yet: start one above._"
    parts = []
    for runs in pairs.values():
        title = runs[0].extra.get("experiment_title", "Experiment")
        arms = [
            f"- {run.extra.get('arm', '?')}: `{run.id}`, {arm_text(rows.get(run.id), statuses.get(run.id))}"
            for run in runs
        ]
        done = all(getattr(rows.get(run.id), "status", "") == "done" for run in runs)
        tail = ["- Both arms have finished: tick them above and press **Compare**."] if done else []
        parts.append("\n".join([f"**{title}**", *arms, *tail]))
    return "\n\n".join(parts)


def _table(rows: list[dict]) -> pd.DataFrame:
    """Rows for a Dataframe: lists and dicts as text, so every cell shows."""
    return pd.DataFrame([{k: v if isinstance(v, str | int | float) else str(v) for k, v in r.items()} for r in rows])


def curves_frame(comparison: Comparison) -> pd.DataFrame | None:
    """The overlaid curves, a series per run and kind ("A train", "B (rank 16) eval"): a run named
    by its id is named by its letter alone (the legend cuts long names; the metrics table has the id)."""
    if not comparison.curves:
        return EMPTY_CURVE
    short = {f"{item.letter} ({item.label})": item.letter for item in comparison.runs if item.label == item.run.id}
    rows = []
    for row in comparison.curves:
        name, _, kind = row["series"].rpartition(" ")
        rows.append({**row, "series": f"{short.get(name, name)} {kind}"})
    return pd.DataFrame(rows)


def comparison_views(comparison: Comparison, verdict: str) -> tuple:
    """The comparison's outputs: verdict, curves, metrics, config diff, data diff, answers."""
    curves = curves_frame(comparison)
    config = comparison.config_diff
    config_frame = _table(config) if config else pd.DataFrame({"field": ["(the configs are the same)"]})
    answers = comparison.answers[:SIDE_BY_SIDE]
    answers_note = (
        f"{len(answers)} of the {len(comparison.answers)} held-out rows every run answered; base: before fine-tuning."
        if answers
        else "No held-out row was in every run's test set (different seeds or data), so no answers are shown."
    )
    return (
        verdict or "",
        curves,
        _table(metric_rows(comparison)),
        config_frame,
        data_diff_text(comparison),
        answers_note,
        answers_table(comparison),
    )


def answers_table(comparison: Comparison) -> gr.Dataframe:
    """The first SIDE_BY_SIDE shared held-out rows: input, reference, base, then a column per run."""
    columns = ["input", "reference", "base", *comparison.letters]
    each = 45 // len(comparison.letters)  # the runs' columns share what the input, reference and base leave
    widths = ["30%", "10%", "15%", *[f"{each}%"] * len(comparison.letters)]
    frame = pd.DataFrame(comparison.answers[:SIDE_BY_SIDE], columns=columns)
    return gr.Dataframe(value=frame, headers=columns, column_widths=widths)


def comparison_json(comparison: Comparison, verdict: str) -> dict:
    """The comparison as JSON (the qlora_compare_runs endpoint)."""
    runs = [
        {
            "letter": item.letter,
            "id": item.run.id,
            "label": item.label,
            "task": item.run.task,
            "data": item.data,
            "seconds": item.seconds,
            "before": item.metrics.get("before"),
            "after": item.metrics.get("after"),
        }
        for item in comparison.runs
    ]
    return {
        "runs": runs,
        "metrics": metric_rows(comparison),
        "config_diff": comparison.config_diff,
        "data_diff": comparison.data_diff,
        "data_diff_text": data_diff_text(comparison),
        "answers": comparison.answers,
        "curves": comparison.curves,
        "verdict": verdict,
    }


def lesson_link(core: Core, citation: str) -> str:
    """``lessons/x.md#anchor`` as a link that opens the lesson in the app."""
    name, _, anchor = citation.partition("#")
    page = next((p for p in core.course.pages() if p.path.name == Path(name).name), None)
    if page is None:
        return f"`{citation}`"
    return f"[{page.title}](?open={page.id}{'#' + anchor if anchor else ''})"


# --- the page, one builder per step of the lab ---------------------------------------------------


def _intro(lab: TrainingLab) -> None:
    hardware = lab.hardware
    if lab.on_cluster:
        gpus = lab.settings.runs_gpus
        where = (
            f"Runs train on the class's **Ray cluster**, side by side as its resources allow; each asks for "
            f"{lab.settings.runs_cpus:g} CPU(s)" + (f" and {gpus:g} GPU(s) (QLoRA, 4-bit)." if gpus else ".")
        )
    elif hardware.is_gpu:
        where = f"**{hardware.name}** found: runs use 4-bit NF4 weights with bf16 compute (QLoRA)."
        where += " One run trains at a time on this server; others wait in a queue."
    else:
        where = f"No GPU found; training runs on the **{hardware.name}**: full-precision LoRA, a run of a few minutes."
        where += " One run trains at a time on this server; others wait in a queue."
    gr.Markdown(
        "## QLoRA lab\nFine-tune a real model: pick a task, check and clean the data, configure, "
        "train with a live loss curve, compare before and after, export, and set your runs side by side. "
        f"{where}"
    )


@dataclass
class DataStep:
    task: gr.Radio
    source: gr.Dropdown
    upload: gr.File
    note: gr.Markdown
    preview: gr.Dataframe
    actions: gr.CheckboxGroup
    clean: gr.Button
    cleaned: gr.Markdown
    removed: gr.Dataframe


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
            source = gr.Dropdown(
                BUILTIN_CHOICES,
                value="builtin",
                label="Data",
                info="The built-in set cleaned, or as generated (near-duplicates and all), or one of your "
                "uploads and cleaned versions.",
                elem_id="qlora-source",
            )
            upload = gr.File(label="Your own data (optional, .jsonl or .csv)", file_types=[".jsonl", ".csv"])
        note = gr.Markdown()
        preview = gr.Dataframe(headers=["input", "answer"], interactive=False, wrap=True)
        with gr.Group():
            gr.Markdown(
                "**Act on the critic's findings.** Each action removes (or fixes) exactly the rows the critic "
                "points at and lists them; the result is saved as a new version of the data, and the config "
                "trains on it. Leaks are judged against the test set of the config's `data.seed` and "
                "`data.test_fraction`."
            )
            actions = gr.CheckboxGroup(
                [(ACTION_TITLES[action], action) for action in ACTIONS],
                value=CLEAN_DEFAULT,
                label="Cleaning actions (applied in this order)",
            )
            clean = gr.Button("Clean and save as a new version")
            cleaned = gr.Markdown()
            removed = gr.Dataframe(
                headers=["step", "line", "reason", "input"],
                label="Rows removed (line numbers of the source file)",
                interactive=False,
                wrap=True,
                max_height=320,
                column_widths=["10%", "6%", "34%", "50%"],
            )
    return DataStep(task, source, upload, note, preview, actions, clean, cleaned, removed)


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
            "and Ollama (`ollama create my-model -f Modelfile` with `FROM ./model-f16.gguf`). After a GGUF export "
            "the run appears in the **Local models** tab: quantize it there (which type to pick: "
            "[Quantization types](?open=local-models#quantization-types-what-q80-q4km-and-q2k-keep-and-lose)) "
            "and compare it with the base model on the same held-out prompts."
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


@dataclass
class RunsStep:
    table: gr.Dataframe
    picker: gr.CheckboxGroup
    compare: gr.Button
    report: gr.Button
    verdict: gr.Markdown
    curve: gr.LinePlot
    metrics: gr.Dataframe
    config_diff: gr.Dataframe
    data_diff: gr.Markdown
    answers_note: gr.Markdown
    answers: gr.Dataframe
    download: gr.File
    experiments: dict[str, gr.Button]  # experiment id -> its button
    seed: gr.Number  # training.seed for both arms: the same pair under other luck
    arms: gr.Markdown  # the learner's experiments, each arm's state

    @property
    def comparison(self) -> list:
        """The outputs of a comparison, in the order of comparison_views."""
        return [
            self.verdict,
            self.curve,
            self.metrics,
            self.config_diff,
            self.data_diff,
            self.answers_note,
            self.answers,
        ]


def _runs_step(core: Core) -> RunsStep:
    with gr.Accordion("6 · My runs and experiments", open=True):
        gr.Markdown(
            "Every run you have trained, with the fields that differ from this machine's default config. "
            "Tick 2 to 4 finished runs of one task to see them side by side: loss curves overlaid, the "
            "held-out metric before and after, the config fields that differ, the data versions, and each "
            "run's answers on the same held-out rows."
        )
        table = gr.Dataframe(
            headers=RUN_COLUMNS,
            interactive=False,
            wrap=True,
            label="My runs",
            max_height=360,
            column_widths=RUN_WIDTHS,
        )
        picker = gr.CheckboxGroup([], label="Finished runs to compare (2 to 4)", elem_id="qlora-compare-pick")
        with gr.Row():
            compare = gr.Button("Compare the selected runs", variant="primary")
            report = gr.Button("Download report (.md)")
        verdict = gr.Markdown()
        curve = gr.LinePlot(
            EMPTY_CURVE,
            x="step",
            y="loss",
            color="series",
            title="Loss, run by run",
            height=320,
            elem_id="qlora-curves",
        )
        metrics = gr.Dataframe(
            headers=METRIC_COLUMNS,
            label="Held-out metric, before and after",
            interactive=False,
            wrap=True,
            elem_id="qlora-compare-metrics",
        )
        config_diff = gr.Dataframe(
            headers=["field", "A", "B"],
            label="Config: only the fields that differ",
            interactive=False,
            wrap=True,
            elem_id="qlora-compare-config",
        )
        data_diff = gr.Markdown()
        answers_note = gr.Markdown()
        answers = gr.Dataframe(
            headers=["input", "reference", "base", "A", "B"],
            label="Answers on the same held-out rows",
            interactive=False,
            wrap=True,
        )
        download = gr.File(label="Comparison report", interactive=False, visible=False)

        gr.Markdown(
            "### Guided experiments\nEach starts two runs that differ in one thing, on this machine's default "
            "sentiment config, and queues them one after the other. Compare them when both have finished: "
            "the verdict says what the lesson expects and whether these runs agree."
        )
        experiments = {}
        with gr.Row():
            for experiment in EXPERIMENTS.values():
                with gr.Column():
                    gr.Markdown(
                        f"**{experiment.title}.** One change: {experiment.changes}.\n\n"
                        f"*The lesson expects:* {experiment.expectation} "
                        f"({lesson_link(core, experiment.citation)})"
                    )
                    experiments[experiment.id] = gr.Button(f"Start both runs: {experiment.title}")
        seed = gr.Number(
            value=42,
            precision=0,
            label="Seed for both runs (training.seed)",
            info="Another seed repeats a pair with other first weights and batch order (the same test rows): "
            "does the result hold?",
        )
        arms = gr.Markdown(experiments_markdown({}, {}, {}))
    return RunsStep(
        table, picker, compare, report, verdict, curve, metrics, config_diff, data_diff, answers_note, answers,
        download, experiments, seed, arms,
    )  # fmt: skip


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
    def _preview(self, owner: str, task_value: str, source_value: str = "builtin", upload: str | None = None):
        """(note, rows, source) of a data source, or of an upload (stored as a new version)."""
        data = _lab_errors(lambda: self.lab.preview(task_value, upload, owner=owner, source=source_value or "builtin"))
        return preview_markdown(data), pd.DataFrame(data.rows, columns=["input", "answer"]), data.source

    def _sources(self, owner: str, task_value: str, value: str) -> gr.Dropdown:
        return source_dropdown(self.lab.versions(owner, task_value), value)

    def _with_source(self, note: str, yaml_text: str, source_value: str) -> tuple:
        """(note, YAML) with the learner's config reading ``source_value``, other edits kept."""
        try:
            return note, self.lab.with_source(yaml_text, source_value).to_yaml()
        except LabError as exc:  # the preview still helps; the YAML is left for the learner to fix
            note += f"\n\n**The config below has an error, so `data.source` was not changed:** {exc}"
            return note, gr.skip()

    def qlora_preview(self, task: str, source: str, request: gr.Request) -> dict:
        """A data source's size and the dataset critic's findings (for scripts): examples, labels,
        issue_counts, issues (line, kind, detail), label, blocking."""
        owner = self._owner(request)
        data = _lab_errors(lambda: self.lab.preview(task, None, owner=owner, source=source or "builtin"))
        issues = [{"line": i.line, "kind": i.kind, "detail": i.detail} for i in data.issues]
        return {
            "source": data.source,
            "label": data.label,
            "examples": data.examples,
            "labels": data.labels,
            "issue_counts": data.issue_counts,
            "issues": issues,
            "blocking": data.blocking,
        }

    def qlora_basic(self, yaml_text: str, lr_value, rank_value, steps_value, quantize_value) -> str:
        """A Basic control changed: edit those fields in the YAML, keeping the learner's other edits."""
        config = _lab_errors(
            lambda: self.lab.edit_config(
                yaml_text, learning_rate=lr_value, rank=rank_value, max_steps=steps_value, quantize=quantize_value
            )
        )
        return config.to_yaml()

    def task_changed(
        self, task_value, source_value, lr_value, rank_value, steps_value, quantize_value, request: gr.Request
    ):
        """A new task starts from that task's shipped defaults, with the Basic choices applied; a
        cleaned version of the other task's data gives way to the built-in set.
        Outputs: note, preview, config_yaml, source."""
        owner = self._owner(request)
        versions = self.lab.versions(owner, task_value)
        if source_value not in BUILTIN_SOURCES and source_value not in [v.path for v in versions]:
            source_value = "builtin"
        note, frame, source_value = self._preview(owner, task_value, source_value)
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
        return note, frame, config.to_yaml(), source_dropdown(versions, source_value)

    def source_changed(self, task_value, source_value, yaml_text: str, request: gr.Request):
        """The learner chose other data: preview it and point the config at it (other edits kept).
        Outputs: note, preview, config_yaml."""
        note, frame, source_value = self._preview(self._owner(request), task_value, source_value)
        note, new_yaml = self._with_source(note, yaml_text, source_value)
        return note, frame, new_yaml

    def upload_changed(self, task_value, file, yaml_text: str, request: gr.Request):
        """New data: store it as a version, preview and check it, choose it, and point the learner's
        config at it (other edits kept). Clearing the upload changes nothing: the data stays as chosen.
        Outputs: note, preview, config_yaml, source."""
        path = getattr(file, "path", None) or getattr(file, "name", None) or (file if isinstance(file, str) else None)
        if not path:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        owner = self._owner(request)
        note, frame, source_value = self._preview(owner, task_value, upload=path)
        note, new_yaml = self._with_source(note, yaml_text, source_value)
        return note, frame, new_yaml, self._sources(owner, task_value, source_value)

    def _clean(self, owner: str, task_value: str, source_value: str, actions, yaml_text: str) -> tuple:
        """(CleanOutcome, the config YAML reading the new version). The split that "leaks into the
        test set" means is the config's: its data.seed and data.test_fraction."""
        blank = not (yaml_text or "").strip()
        config = self.lab.default_config(task_value) if blank else self.lab.parse(yaml_text)
        outcome = self.lab.clean_data(
            owner,
            task_value,
            source_value or "builtin",
            list(actions or []),
            seed=config.data.seed,
            test_fraction=config.data.test_fraction,
        )
        config.data.source = outcome.version.path
        return outcome, config.to_yaml()

    def clean_clicked(self, task_value, source_value, actions, yaml_text: str, request: gr.Request):
        """Clean the data shown, save it as a new version, preview it and point the config at it.
        Outputs: cleaned, removed, note, preview, config_yaml, source."""
        owner = self._owner(request)
        outcome, new_yaml = _lab_errors(lambda: self._clean(owner, task_value, source_value, actions, yaml_text))
        path = outcome.version.path
        note, frame, _ = self._preview(owner, task_value, path)
        sources = self._sources(owner, task_value, path)
        return clean_markdown(outcome), removed_frame(outcome, task_value), note, frame, new_yaml, sources

    def qlora_clean(self, task: str, source: str, actions: list[str], yaml_text: str, request: gr.Request) -> dict:
        """Clean ``source`` (builtin, builtin:raw or a version's path) with ``actions`` (drop_empty,
        lower_labels, dedupe, remove_leaks) and save a new version: its id, path and rows, each step's
        counts and removed lines, and ``yaml_text`` (blank: the task's default) reading the version."""
        owner = self._owner(request)
        outcome, new_yaml = _lab_errors(lambda: self._clean(owner, task, source, actions, yaml_text))
        return clean_json(outcome, task, new_yaml)

    # step 3: train
    def refresh(self, current_run: str, shown: list | None, request: gr.Request):
        """Every status output (see build_qlora_tab's status_outputs): the run's, for the latest run
        when none is given, then the run table's. The timer polls while any of the learner's runs is
        queued or running (an experiment's second arm starts when the first ends)."""
        owner = self._owner(request)
        rows = self.lab.run_table(owner)
        runs_view = self._runs_view(owner, rows, shown)
        busy = any(row.status in ACTIVE for row in rows)
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
                    gr.Timer(active=busy),
                    *runs_view,
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
            gr.Timer(active=status.run.active or busy),
            *runs_view,
        )

    def _runs_view(self, owner: str, rows: list[RunRow], shown: list | None) -> tuple:
        """(run table, compare picker, the picker's run ids, experiments). The picker is left alone
        while its choices stay the same, so the polling never clears a learner's ticks."""
        choices = picker_choices(rows)
        ids = [value for _, value in choices]
        picker = gr.skip() if ids == shown else gr.CheckboxGroup(choices=choices)
        pairs = self.lab.experiment_pairs(owner)
        statuses = {}
        for run in (run for arms in pairs.values() for run in arms if run.active):
            try:
                statuses[run.id] = self.lab.status(owner, run.id)
            except LabError:  # deleted meanwhile
                continue
        return runs_frame(rows), picker, ids, experiments_markdown(pairs, {r.id: r for r in rows}, statuses)

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
            "waiting_for": status.waiting_for,
            "node": status.run.node,
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

    # step 6: my runs, comparisons and guided experiments
    def qlora_runs(self, request: gr.Request) -> list[dict]:
        """The learner's runs, newest first: id, task, data (version), changes (fields that differ
        from the default config), metric, before, after, seconds, status, experiment."""
        return [row.as_dict() for row in self.lab.run_table(self._owner(request))]

    def qlora_compare_runs(self, run_ids: list[str], request: gr.Request) -> dict:
        """2 to 4 of the learner's finished runs of one task side by side: runs (with metrics before
        and after), metrics, config_diff, data_diff, answers, curves, and the verdict of a guided
        experiment ("" for other runs)."""
        owner = self._owner(request)
        comparison, verdict = _lab_errors(lambda: self.lab.experiment_verdict(owner, list(run_ids or [])))
        return comparison_json(comparison, verdict)

    def compare_clicked(self, run_ids: list[str], request: gr.Request) -> tuple:
        """Outputs: RunsStep.comparison."""
        owner = self._owner(request)
        comparison, verdict = _lab_errors(lambda: self.lab.experiment_verdict(owner, list(run_ids or [])))
        return comparison_views(comparison, verdict)

    def report_clicked(self, run_ids: list[str], request: gr.Request) -> gr.File:
        """The comparison as a Markdown file. Outputs: RunsStep.download."""
        owner = self._owner(request)
        path = _lab_errors(lambda: self.lab.comparison_report(owner, list(run_ids or [])))
        return gr.File(value=str(path), visible=True)

    def qlora_experiment(self, experiment_id: str, request: gr.Request, seed: int | None = None) -> list[str]:
        """Start both arms of a guided experiment (raw-vs-clean, learning-rate, rank), optionally
        with another training seed; their run ids."""
        owner = self._owner(request)
        return [run.id for run in _lab_errors(lambda: self.lab.start_experiment(owner, experiment_id, seed))]

    def experiment_handler(self, experiment_id: str):
        def handler(seed: float | None, request: gr.Request) -> str:
            """Start both arms; step 3 follows the first. Inputs: RunsStep.seed. Outputs: run_id."""
            ids = self.qlora_experiment(experiment_id, request, None if seed is None else int(seed))
            gr.Info(f"Queued both runs of '{EXPERIMENTS[experiment_id].title}': {', '.join(ids)}.")
            return ids[0]

        return handler

    def restore(self, request: gr.Request):
        """On page load: the built-in data's preview with the learner's data versions to choose
        from, the learner's latest run and their run table."""
        owner = self._owner(request)
        note, frame, _ = self._preview(owner, "sentiment", "builtin")
        return (note, frame, self._sources(owner, "sentiment", "builtin"), *self.refresh("", None, request))


# --- wiring: which event calls which handler -----------------------------------------------------


def _wire_data_and_config(events: LabEvents, data: DataStep, configure: ConfigureStep) -> None:
    preview_outputs = [data.note, data.preview, configure.config_yaml]
    data.task.change(
        events.task_changed,
        inputs=[data.task, data.source, *configure.basic],
        outputs=[*preview_outputs, data.source],
        api_visibility="private",
    )
    # .input: only the learner's own choice; the handlers below set it along with the config.
    data.source.input(
        events.source_changed,
        inputs=[data.task, data.source, configure.config_yaml],
        outputs=preview_outputs,
        api_visibility="private",
    )
    data.upload.change(
        events.upload_changed,
        inputs=[data.task, data.upload, configure.config_yaml],
        outputs=[*preview_outputs, data.source],
        api_visibility="private",
    )
    data.clean.click(
        events.clean_clicked,
        inputs=[data.task, data.source, data.actions, configure.config_yaml],
        outputs=[data.cleaned, data.removed, *preview_outputs, data.source],
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


def _wire_train(events: LabEvents, run_id, config_yaml, train: TrainStep, timer, refresh: dict) -> None:
    """``refresh``: the inputs and outputs of events.refresh."""
    for button, handler, inputs, api_name in (
        (train.start, events.qlora_start, config_yaml, "qlora_start"),
        (train.stop, events.qlora_stop, run_id, "qlora_stop"),
        (train.resume, events.qlora_resume, run_id, "qlora_resume"),
        (train.delete, events.qlora_delete, run_id, "qlora_delete"),
    ):
        button.click(handler, inputs=inputs, outputs=run_id, api_name=api_name).then(
            events.refresh, **refresh, api_visibility="private"
        )
    timer.tick(events.refresh, **refresh, api_visibility="private", show_progress="hidden")


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


def _wire_runs(events: LabEvents, run_id, runs: RunsStep, refresh: dict) -> None:
    runs.compare.click(events.compare_clicked, inputs=runs.picker, outputs=runs.comparison, api_visibility="private")
    runs.report.click(events.report_clicked, inputs=runs.picker, outputs=runs.download, api_visibility="private")
    for experiment_id, button in runs.experiments.items():
        button.click(
            events.experiment_handler(experiment_id), inputs=runs.seed, outputs=run_id, api_visibility="private"
        ).then(events.refresh, **refresh, api_visibility="private")


def build_qlora_tab(core: Core) -> tuple:
    """Lay out the six steps and wire them; returns (page-load handler, its outputs, the configure
    step) for app.py."""
    lab = core.qlora
    _intro(lab)
    run_id = gr.Textbox(visible=False, label="run id")
    data = _data_step()
    configure = _configure_step(lab.default_config("sentiment"), lab.command())
    train = _train_step()
    compare = _compare_step()
    export = _export_step()
    runs = _runs_step(core)
    timer = gr.Timer(POLL_SECONDS, active=False)
    shown = gr.State(None)  # the run ids the compare picker offers
    status_outputs = [
        *(run_id, train.status, train.curve, train.log, compare.metrics, compare.samples, timer),
        *(runs.table, runs.picker, shown, runs.arms),
    ]
    refresh = {"inputs": [run_id, shown], "outputs": status_outputs}

    events = LabEvents(core)
    _wire_data_and_config(events, data, configure)
    # API-only twins of the page's handlers (typed inputs, for scripts and tests).
    gr.api(events.qlora_status, api_name="qlora_status")
    gr.api(events.qlora_compare, api_name="qlora_compare")
    gr.api(events.qlora_export, api_name="qlora_export", **EXPORT_QUEUE)
    for endpoint in (events.qlora_preview, events.qlora_clean, events.qlora_runs, events.qlora_compare_runs):
        gr.api(endpoint, api_name=endpoint.__name__)
    gr.api(events.qlora_experiment, api_name="qlora_experiment")
    _wire_train(events, run_id, configure.config_yaml, train, timer, refresh)
    _wire_compare_and_export(events, run_id, compare, export)
    _wire_runs(events, run_id, runs, refresh)
    return events.restore, [data.note, data.preview, data.source, *status_outputs], configure


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
