"""Reading JSON Lines and CSV text into records, each with the line it starts on.

The one reader behind every data file the project takes: the trainer's loader, the dataset
critic and the evaluation designer's metric files. So a line number means the same thing
everywhere (the line a record starts on, also for CSV fields that span lines), and every reader
accepts the same things. Problems are collected rather than raised, because callers differ: the
trainer stops at the first one, the dataset critic lists them all.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")


@dataclass(frozen=True)
class Record:
    line: int  # 1-based line the record starts on
    value: Any  # a parsed JSON value (an object for well-formed data), or a CSV row {column: text}


@dataclass(frozen=True)
class BadLine:
    line: int
    detail: str  # e.g. "Expecting ',' delimiter (column 12)"


@dataclass
class Records:
    records: list[Record] = field(default_factory=list)
    problems: list[BadLine] = field(default_factory=list)
    lines: int = 0  # lines in the text
    columns: list[str] | None = None  # a CSV file's header

    @property
    def first_problem(self) -> BadLine | None:
        return self.problems[0] if self.problems else None


def read_jsonl(text: str) -> Records:
    """One JSON value per non-blank line; a line that does not parse becomes a BadLine."""
    result = Records()
    lines = text.splitlines()
    result.lines = len(lines)
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            result.problems.append(BadLine(number, f"not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        result.records.append(Record(number, value))
    return result


def read_csv(text: str, *, normalise_header: bool = True) -> Records:
    """Rows as {column: text}. With ``normalise_header``, column names are stripped and lower-cased
    ("Prompt " and "prompt" name the same column). A row with more values than the header has
    becomes a BadLine; a row with fewer values has empty strings for the missing columns."""
    # strict: a quote that is never closed, or text after a closing quote, is an error rather than
    # every later row silently read into one value.
    reader = csv.reader(io.StringIO(text), strict=True)
    result = Records(columns=[])
    start = 1
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.problems.append(BadLine(start, _broken_quote(exc, reader.line_num)))
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if header is None:
            header = [name.strip().lower() for name in row] if normalise_header else row
            result.columns = header
            continue
        if not row:
            continue  # a blank line
        if len(row) > len(header):
            result.problems.append(BadLine(line, "more values than header columns"))
            continue
        result.records.append(Record(line, {name: row[i] if i < len(row) else "" for i, name in enumerate(header)}))
    result.lines = reader.line_num
    return result


def _broken_quote(exc: csv.Error, line_num: int) -> str:
    if "end of data" in str(exc):
        return "a quote opens a value on this line and is never closed, so every line after it was read into it"
    return f"a quoted value opens on this line and the CSV breaks on line {line_num} ({exc})"


def is_csv(name: str) -> bool:
    return name.lower().endswith(".csv")


def is_jsonl(name: str) -> bool:
    return name.lower().endswith(JSONL_SUFFIXES)
