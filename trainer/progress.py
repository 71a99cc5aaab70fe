"""Progress events: one JSON object per line in ``progress.jsonl``, and one printed line per step.

The log is the contract between a training process and whoever watches it (the terminal, the
lab's web page after a reload, a test). Each line is flushed as it is written, so a killed run
leaves a readable log; a half-written last line is skipped when reading.

    {"event": "step", "step": 12, "max_steps": 60, "loss": 0.41, "lr": 0.00048, "tokens_per_s": 151.0, ...}

Writers: ``EventLog`` here (train.py, and callbacks.py for steps). Readers go through
``summarise``, which turns the events into one typed ``RunProgress``: the report, the run queue
and the lab all read the log that way.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTCOMES = ("done", "stopped", "diverged", "error")  # the events that end a run


class EventLog:
    def __init__(self, path: Path, *, echo: bool = True, fresh: bool = False) -> None:
        self.path = path
        self.echo = echo
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            path.write_text("", encoding="utf-8")

    def write(self, event: str, **fields: Any) -> dict:
        record = {"event": event, "time": round(time.time(), 3), **fields}
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, default=str) + "\n")
            out.flush()
        if self.echo:
            print(format_event(record), flush=True)
        return record


def read_events(path: Path) -> list[dict]:
    """Every complete event in the log; a line cut short by a killed process is skipped."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    events = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "event" in record:
            events.append(record)
    return events


@dataclass
class RunProgress:
    """What a run's event log says so far: where it is, how fast, its loss curves and how it ended."""

    phase: str = ""  # the latest phase event: data, model, evaluate before, train, evaluate after
    step: int = 0  # the latest step with a finite loss, of max_steps
    max_steps: int = 0
    eta_s: float | None = None
    tokens_per_s: float | None = None
    memory_mb: float | None = None
    elapsed_s: float | None = None
    # (step, loss) sorted by step; a resumed run repeats steps, and the last value of each counts.
    loss: list[tuple[int, float]] = field(default_factory=list)
    validation: list[tuple[int, float]] = field(default_factory=list)
    speeds: list[float] = field(default_factory=list)  # tokens/s of every step, in order
    peak_memory_mb: float = 0.0
    outcome: str = ""  # one of OUTCOMES once the run has ended, else ""
    message: str = ""  # the outcome's message (why it stopped, diverged or failed)


def summarise(events: list[dict]) -> RunProgress:
    """The one reading of a run's events (see ``read_events``) into a RunProgress."""
    progress = RunProgress()
    steps = [e for e in events if e["event"] == "step"]
    finite = [e for e in steps if isinstance(e.get("loss"), int | float)]  # "nan"/"inf" are written as text
    phases = [e for e in events if e["event"] == "phase"]
    if phases:
        progress.phase = phases[-1]["phase"]
    if finite:
        last = finite[-1]
        progress.step, progress.max_steps = last["step"], last.get("max_steps", 0)
        progress.eta_s, progress.tokens_per_s = last.get("eta_s"), last.get("tokens_per_s")
        progress.memory_mb, progress.elapsed_s = last.get("memory_mb"), last.get("elapsed_s")
    progress.loss = sorted({e["step"]: e["loss"] for e in finite}.items())
    progress.validation = sorted({e["step"]: e["eval_loss"] for e in events if e["event"] == "eval"}.items())
    progress.speeds = [e["tokens_per_s"] for e in steps if e.get("tokens_per_s")]
    progress.peak_memory_mb = max((e.get("memory_mb") or 0.0 for e in steps), default=0.0)
    ending = next((e for e in reversed(events) if e["event"] in OUTCOMES), None)
    if ending:
        progress.outcome, progress.message = ending["event"], ending.get("message", "")
    return progress


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def format_event(record: dict) -> str:
    """The one-line form printed by the CLI."""
    kind = record["event"]
    if kind == "step":
        return (
            f"step {record['step']}/{record['max_steps']}  loss {record['loss']:.4f}  lr {record['lr']:.2e}  "
            f"{record['tokens_per_s']:.0f} tok/s  eta {format_duration(record.get('eta_s'))}  "
            f"mem {record['memory_mb']:.0f} MB"
        )
    if kind == "eval":
        return f"eval  step {record['step']}  eval_loss {record['eval_loss']:.4f}"
    if kind == "phase":
        return f"[{record['phase']}] {record.get('detail', '')}".rstrip()
    if kind == "checkpoint":
        return f"checkpoint saved: {record['path']}"
    if kind in ("error", "stopped", "diverged"):
        return f"{kind.upper()}: {record.get('message', '')}"
    if kind == "done":
        return f"done in {format_duration(record.get('seconds'))}: {record.get('summary', '')}"
    return f"{kind}: " + ", ".join(f"{k}={v}" for k, v in record.items() if k not in ("event", "time"))
