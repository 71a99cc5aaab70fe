"""Progress events: one JSON object per line in ``progress.jsonl``, and one printed line per step.

The log is the contract between a training process and whoever watches it (the terminal, the
lab's web page after a reload, a test). Each line is flushed as it is written, so a killed run
leaves a readable log; a half-written last line is skipped when reading.

    {"event": "step", "step": 12, "max_steps": 60, "loss": 0.41, "lr": 0.00048, "tokens_per_s": 151.0, ...}
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any


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
