"""Acting on the dataset critic's findings: each cleaning action removes (or fixes) exactly the rows
the critic points at, and says which, so a learner sees what curation did before training on it.

Actions, always applied in this order (each on what the one before left):

1. ``drop_empty``   rows with an empty input or answer, rows the trainer cannot read (no input and
                    output fields), and over-long rows (the critic's length outliers, or longer than
                    ``max_words`` when it is given);
2. ``lower_labels`` labels stripped and lower-cased ("Positive " -> "positive"), for label data;
3. ``dedupe``       exact and near-duplicates removed, keeping the first row of each cluster (the
                    critic's own MinHash check, so the result has no near-duplicates by its measure);
4. ``remove_leaks`` train and validation rows that nearly repeat a held-out test row, removed. The
                    test set is the trainer's: a row's split comes from a hash of its own input and
                    the seed (trainer.data.split_position), so removing rows never moves another row.

Line numbers are the source file's lines throughout, so "line 37 removed" points into the file the
learner has. The result is JSON Lines with each row's original fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from trainer.records import is_csv, read_csv, read_jsonl
from tutor.advisors import dataset_checks
from tutor.advisors.dataset_checks import Example

ACTIONS = ("drop_empty", "lower_labels", "dedupe", "remove_leaks")
ACTION_TITLES = {
    "drop_empty": "Drop empty, unreadable and over-long rows",
    "lower_labels": "Normalise label case",
    "dedupe": "Remove near-duplicates (keep one of each cluster)",
    "remove_leaks": "Remove rows that leak into the held-out test set",
}


class CleanError(ValueError):
    """A file the cleaner cannot work on; the message names the file and line."""


@dataclass(frozen=True)
class Removed:
    line: int  # the row's line in the source file
    reason: str
    row: dict


@dataclass
class Step:
    action: str
    before: int  # rows before this action
    after: int
    removed: list[Removed] = field(default_factory=list)
    changed: int = 0  # rows edited in place (label case)
    note: str = ""  # why an action did nothing it could have done (e.g. not label data)

    @property
    def title(self) -> str:
        return ACTION_TITLES[self.action]

    def summary(self) -> str:
        what = f"{self.before} → {self.after} rows"
        if self.changed:
            what += f", {self.changed} label(s) rewritten"
        return f"{self.title}: {what}" + (f" ({self.note})" if self.note else "")


@dataclass
class Cleaned:
    rows: list[dict]
    lines: list[int]  # each kept row's line in the source file
    steps: list[Step]

    def jsonl(self) -> str:
        return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in self.rows)

    @property
    def removed(self) -> list[Removed]:
        return [gone for step in self.steps for gone in step.removed]


@dataclass
class _Row:
    line: int
    record: dict
    example: Example | None  # None: the trainer cannot read it


def clean(
    text: str,
    filename: str,
    actions: list[str] | tuple[str, ...],
    *,
    max_words: int = 0,
    seed: int = 42,
    test_fraction: float = 0.1,
) -> Cleaned:
    """The file's rows after ``actions`` (any of ACTIONS; applied in ACTIONS' order)."""
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise CleanError(f"unknown cleaning action {unknown[0]!r}; use {', '.join(ACTIONS)}")
    if not actions:
        raise CleanError("choose at least one cleaning action")
    rows = _read(text, filename)
    steps: list[Step] = []
    for action in ACTIONS:
        if action not in actions:
            continue
        step = Step(action, before=len(rows), after=len(rows))
        rows = _ACTIONS[action](rows, step, max_words=max_words, seed=seed, test_fraction=test_fraction)
        step.after = len(rows)
        steps.append(step)
    return Cleaned(rows=[r.record for r in rows], lines=[r.line for r in rows], steps=steps)


def _read(text: str, filename: str) -> list[_Row]:
    """Every row with its line; a line that is not a JSON object stops the cleaning (the critic
    lists such lines: fix the file first, a cleaner that silently drops them would hide them)."""
    read = read_csv(text) if is_csv(filename) else read_jsonl(text)
    if read.problems:
        bad = read.problems[0]
        raise CleanError(f"{filename}:{bad.line}: {bad.detail}; fix this line first")
    examples, _, _ = dataset_checks.parse(text, filename if is_csv(filename) else "data.jsonl")
    by_line = {example.line: example for example in examples}
    rows = []
    for record in read.records:
        if not isinstance(record.value, dict):
            raise CleanError(f"{filename}:{record.line}: each line must be a JSON object; fix this line first")
        rows.append(_Row(record.line, dict(record.value), by_line.get(record.line)))
    if not rows:
        raise CleanError(f"{filename}: no rows to clean")
    return rows


def _remove(rows: list[_Row], step: Step, reasons: dict[int, str]) -> list[_Row]:
    step.removed += [Removed(r.line, reasons[r.line], r.record) for r in rows if r.line in reasons]
    return [r for r in rows if r.line not in reasons]


def _drop_empty(rows: list[_Row], step: Step, *, max_words: int, **_) -> list[_Row]:
    reasons: dict[int, str] = {}
    for row in rows:
        if row.example is None:
            reasons[row.line] = "no input and output fields the trainer can read"
        elif not row.example.input.strip():
            reasons[row.line] = "empty input"
        elif not row.example.output.strip():
            reasons[row.line] = "empty answer"
        elif max_words and len(f"{row.example.input} {row.example.output}".split()) > max_words:
            reasons[row.line] = f"longer than {max_words} words"
    readable = [r.example for r in rows if r.line not in reasons and r.example is not None]
    for issue in dataset_checks.check_lengths(readable):
        if issue.line is not None and "only" not in issue.detail:  # over-long only; short rows may be fine
            reasons.setdefault(issue.line, f"over-long: {issue.detail}")
    return _remove(rows, step, reasons)


def _lower_labels(rows: list[_Row], step: Step, **_) -> list[_Row]:
    examples = [r.example for r in rows if r.example is not None]
    if not dataset_checks.looks_like_labels(examples):
        step.note = "the answers are not labels, so nothing was changed"
        return rows
    for row in rows:
        if row.example is None or row.example.style == "chat":
            continue
        key = row.example.style.split("/")[1]
        value = row.record.get(key)
        if isinstance(value, str) and value != value.strip().lower():
            row.record[key] = value.strip().lower()
            row.example = Example(row.line, row.example.input, value.strip().lower(), row.example.style)
            step.changed += 1
    return rows


def _dedupe(rows: list[_Row], step: Step, **_) -> list[_Row]:
    examples = [r.example for r in rows if r.example is not None]
    reasons = {issue.line: issue.detail for issue in dataset_checks.check_duplicates(examples) if issue.line}
    return _remove(rows, step, reasons)


def _remove_leaks(rows: list[_Row], step: Step, *, seed: int, test_fraction: float, **_) -> list[_Row]:
    from trainer.data import split_position

    readable = [r.example for r in rows if r.example is not None]
    test = [e for e in readable if split_position(e.input.strip(), seed) < test_fraction]
    rest = [e for e in readable if split_position(e.input.strip(), seed) >= test_fraction]
    reasons = {
        issue.line: issue.detail.replace("the test file", "the test set").replace("test line", "held-out test line")
        for issue in dataset_checks.check_leakage(rest, test)
        if issue.line
    }
    if not test:
        step.note = "no row falls in the test set"
    return _remove(rows, step, reasons)


_ACTIONS = {"drop_empty": _drop_empty, "lower_labels": _lower_labels, "dedupe": _dedupe, "remove_leaks": _remove_leaks}
