"""A learner's runs side by side: the run table, and a comparison of 2-4 finished runs (loss curves
overlaid, the metric before and after, a config diff of only the fields that differ, the data
versions' diff, and each run's answers on the same held-out examples), as data and as Markdown.

Everything here is read from the runs' own folders (config.yaml, the event log, metrics.json), so
a comparison only ever shows what was measured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from trainer.config import TrainConfig
from trainer.data import DataError, load_examples
from trainer.progress import format_duration, summarise
from trainer.runs import Run, RunError, RunQueue
from tutor import data_versions

LETTERS = "ABCD"
NOT_COMPARED = {"training.output_dir", "data.source"}  # always differ, or shown as the data version
SIDE_BY_SIDE = 8  # held-out examples answered by every run, shown next to each other
DATA_DIFF_SHOWN = 10


class CompareError(ValueError):
    """A comparison that cannot be made; the message says why."""


@dataclass
class RunRow:
    id: str
    owner: str
    task: str
    data: str  # the data version, as a person reads it
    changes: dict[str, object]  # fields that differ from this host's default config for the task
    metric: str = ""
    before: float | None = None
    after: float | None = None
    seconds: float | None = None
    status: str = ""
    experiment: str = ""  # "<experiment title> · <arm>" for a guided experiment's run

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Compared:
    letter: str
    run: Run
    config: TrainConfig
    metrics: dict
    data: str
    seconds: float | None
    label: str = ""


@dataclass
class Comparison:
    runs: list[Compared]
    curves: list[dict] = field(default_factory=list)  # {"step", "loss", "series"}
    config_diff: list[dict] = field(default_factory=list)  # {"field", "A": value, "B": value, ...}
    data_diff: dict = field(default_factory=dict)  # {"same": bool, "only": {letter: [inputs]}, "counts": {...}}
    answers: list[dict] = field(default_factory=list)  # {"input", "reference", "base", "A", "B", ...}, all shared rows

    @property
    def letters(self) -> list[str]:
        return [c.letter for c in self.runs]


def flatten(config: TrainConfig) -> dict[str, object]:
    """``{"lora.r": 8, "training.learning_rate": 0.001, ...}``."""
    flat = {}
    for section, values in config.model_dump().items():
        for name, value in values.items():
            flat[f"{section}.{name}"] = value
    return flat


def changes_from(config: TrainConfig, default: TrainConfig) -> dict[str, object]:
    mine, base = flatten(config), flatten(default)
    return {key: value for key, value in mine.items() if key not in NOT_COMPARED and base.get(key) != value}


def read_metrics(folder: Path) -> dict:
    path = folder / "metrics.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_row(queue: RunQueue, run: Run, default: TrainConfig) -> RunRow:
    try:
        config = queue.config(run.id)
    except Exception:  # a run folder without a readable config still gets a row
        return RunRow(run.id, run.owner, run.task, "?", {}, status=run.status)
    metrics = read_metrics(queue.folder(run.id))
    after = metrics.get("after") or {}
    ended = run.finished or None
    seconds = metrics.get("seconds") or ((ended - run.started) if ended and run.started else None)
    experiment = run.extra.get("experiment_title", "")
    return RunRow(
        id=run.id,
        owner=run.owner,
        task=run.task,
        data=data_versions.describe_source(config.data.source),
        changes=changes_from(config, default),
        metric=after.get("metric", ""),
        before=(metrics.get("before") or {}).get("value"),
        after=after.get("value"),
        seconds=seconds,
        status=run.status,
        experiment=f"{experiment} · {run.extra.get('arm', '')}" if experiment else "",
    )


def compare(queue: RunQueue, owner: str | None, run_ids: list[str]) -> Comparison:
    """2-4 finished runs of one task, all the learner's own (``owner`` None: anyone's)."""
    ids = list(dict.fromkeys(i for i in run_ids if i))
    if not 2 <= len(ids) <= len(LETTERS):
        raise CompareError(f"pick 2 to {len(LETTERS)} runs to compare (got {len(ids)})")
    runs = []
    for run_id in ids:
        try:
            runs.append(queue.get(run_id, owner))
        except RunError as exc:
            raise CompareError(str(exc)) from None
    for run in runs:
        if run.status != "done":
            raise CompareError(f"run {run.id} is {run.status}; only finished runs can be compared")
    tasks = {run.task for run in runs}
    if len(tasks) > 1:
        raise CompareError(
            f"these runs are of different tasks ({', '.join(sorted(tasks))}); their metrics cannot be compared"
        )
    compared = []
    for letter, run in zip(LETTERS, runs, strict=False):
        config = queue.config(run.id)
        metrics = read_metrics(queue.folder(run.id))
        if not metrics.get("after"):
            raise CompareError(f"run {run.id} finished without metrics; it cannot be compared")
        label = run.extra.get("arm") or run.id
        compared.append(
            Compared(
                letter,
                run,
                config,
                metrics,
                data_versions.describe_source(config.data.source),
                metrics.get("seconds"),
                label,
            )
        )
    result = Comparison(runs=compared)
    result.curves = _curves(queue, compared)
    result.config_diff = _config_diff(compared)
    result.data_diff = _data_diff(compared)
    result.answers = _answers(compared)
    return result


def _curves(queue: RunQueue, runs: list[Compared]) -> list[dict]:
    rows = []
    for item in runs:
        progress = summarise(queue.events(item.run.id))
        name = f"{item.letter} ({item.label})"
        rows += [{"step": s, "loss": v, "series": f"{name} train"} for s, v in progress.loss]
        rows += [{"step": s, "loss": v, "series": f"{name} eval"} for s, v in progress.validation]
    return rows


def _config_diff(runs: list[Compared]) -> list[dict]:
    flats = [flatten(item.config) for item in runs]
    keys = [key for key in flats[0] if key != "training.output_dir"]
    rows = []
    for key in keys:
        values = [flat.get(key) for flat in flats]
        if key == "data.source":  # a stored version reads as its label, not a server path
            values = [data_versions.describe_source(str(value)) for value in values]
        if any(value != values[0] for value in values[1:]):
            rows.append({"field": key, **{item.letter: value for item, value in zip(runs, values, strict=True)}})
    return rows


def _data_diff(runs: list[Compared]) -> dict:
    sources = [item.config.data.source for item in runs]
    if len(set(sources)) == 1:
        return {"same": True, "counts": {}, "only": {}}
    inputs: dict[str, set[str]] = {}
    for item in runs:
        try:
            inputs[item.letter] = {example.input for example in load_examples(item.config.data)}
        except DataError as exc:  # a deleted upload: say so rather than fail the whole comparison
            return {"same": False, "counts": {}, "only": {}, "error": str(exc)}
    everyone = set.intersection(*inputs.values())
    only = {letter: sorted(rows - everyone) for letter, rows in inputs.items()}
    return {
        "same": False,
        "counts": {letter: len(rows) for letter, rows in inputs.items()},
        "shared": len(everyone),
        "only": only,
    }


def _answers(runs: list[Compared]) -> list[dict]:
    """Held-out examples that every run answered (each run's test set is scored into metrics.json;
    the trainer's hash split keeps a row in the test set of every version that still has it)."""
    by_run = [{s["input"]: s for s in item.metrics.get("samples", [])} for item in runs]
    common = [text for text in by_run[0] if all(text in answered for answered in by_run[1:])]
    rows = []
    for text in common:
        row = {"input": text, "reference": by_run[0][text].get("reference", "")}
        row["base"] = by_run[0][text].get("before", "")
        for item, answered in zip(runs, by_run, strict=True):
            row[item.letter] = answered[text].get("after", "")
        rows.append(row)
    return rows


def metric_rows(comparison: Comparison) -> list[dict]:
    rows = []
    for item in comparison.runs:
        before, after = item.metrics["before"], item.metrics["after"]
        rows.append(
            {
                "run": f"{item.letter} ({item.label})",
                "data": item.data,
                "metric": after["metric"],
                "before": round(before["value"], 3),
                "after": round(after["value"], 3),
                "change": round(after["value"] - before["value"], 3),
                "test examples": after.get("examples"),
                "time": format_duration(item.seconds) if item.seconds else "?",
            }
        )
    return rows


def markdown(comparison: Comparison, title: str = "Run comparison", summary: str = "") -> str:
    """The comparison as a Markdown report (the download, and `tutor runs compare`)."""
    parts = [f"# {title}", ""]
    if summary:
        parts += [summary, ""]
    parts += ["## Runs", "", "| run | id | data | metric | before | after | change | test examples | time |"]
    parts.append("|---|---|---|---|---|---|---|---|---|")
    for item, row in zip(comparison.runs, metric_rows(comparison), strict=True):
        parts.append(
            f"| {row['run']} | `{item.run.id}` | {row['data']} | {row['metric']} | {row['before']:.3f} | "
            f"{row['after']:.3f} | {row['change']:+.3f} | {row['test examples']} | {row['time']} |"
        )
    parts += ["", "## Config: the fields that differ", ""]
    if comparison.config_diff:
        parts.append("| field | " + " | ".join(comparison.letters) + " |")
        parts.append("|---" * (len(comparison.letters) + 1) + "|")
        for row in comparison.config_diff:
            parts.append(f"| `{row['field']}` | " + " | ".join(f"`{row[x]}`" for x in comparison.letters) + " |")
    else:
        parts.append("The configs are the same.")
    parts += ["", "## Data", "", data_diff_text(comparison), ""]
    parts += ["## Loss at the end", ""]
    for name, last in final_losses(comparison).items():
        ends = [f"{kind} {value:.3f} (step {step})" for kind, (step, value) in last.items()]
        parts.append(f"- {name}: " + ", ".join(ends))
    parts += ["", "## Answers on the same held-out examples", ""]
    if comparison.answers:
        shown, shared = min(SIDE_BY_SIDE, len(comparison.answers)), len(comparison.answers)
        parts.append(f"{shown} of the {shared} held-out rows that every run answered; base: before fine-tuning.")
        parts.append("")
        parts.append("| input | reference | base | " + " | ".join(comparison.letters) + " |")
        parts.append("|---" * (len(comparison.letters) + 3) + "|")
        for row in comparison.answers[:SIDE_BY_SIDE]:
            cells = [row["input"], row["reference"], row["base"], *(row[x] for x in comparison.letters)]
            parts.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    else:
        parts.append("No held-out example was in every run's test set (different seeds or data), so none is shown.")
    return "\n".join(parts) + "\n"


def data_diff_text(comparison: Comparison) -> str:
    diff = comparison.data_diff
    if diff.get("same"):
        return "Every run trained on the same data version: " + comparison.runs[0].data + "."
    if diff.get("error"):
        return f"The data versions differ, and one could not be read back: {diff['error']}"
    lines = [f"- {item.letter}: {item.data}, {diff['counts'][item.letter]} rows" for item in comparison.runs]
    lines.append(f"- rows in every version: {diff['shared']}")
    for letter, rows in diff["only"].items():
        if rows:
            shown = "; ".join(_cell(r, 90) for r in rows[:DATA_DIFF_SHOWN])
            more = f" (and {len(rows) - DATA_DIFF_SHOWN} more)" if len(rows) > DATA_DIFF_SHOWN else ""
            lines.append(f"- only in {letter} ({len(rows)}): {shown}{more}")
    return "\n".join(lines)


def final_losses(comparison: Comparison) -> dict[str, dict[str, tuple[int, float]]]:
    """The last train and eval loss of each run, from the curves."""
    result: dict[str, dict[str, tuple[int, float]]] = {}
    for row in comparison.curves:
        name, _, kind = row["series"].rpartition(" ")
        result.setdefault(name, {})[kind] = (row["step"], row["loss"])
    return result


def _cell(text: object, limit: int = 160) -> str:
    value = " ".join(str(text).split()).replace("|", "\\|")
    return value if len(value) <= limit else value[: limit - 1] + "…"
