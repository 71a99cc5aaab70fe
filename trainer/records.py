"""Reading JSON Lines and CSV text into records, each with the line it starts on.

The one reader behind every data file the project takes: the trainer's loader, the dataset
critic and the evaluation designer's metric files. So a line number means the same thing
everywhere (the line a record starts on, also for CSV fields that span lines), and every reader
accepts the same things. Problems are collected rather than raised, because callers differ: the
trainer stops at the first one, the dataset critic lists them all.

``decode_text`` turns a file's bytes into the text these readers take, so every caller that
starts from bytes accepts the same encodings and refuses binary files with the same reason.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any, Literal

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
# Byte-order marks, each with the codec for the bytes after it and its name for messages. Windows
# Notepad ("Unicode") and PowerShell's Out-File write UTF-16 LE with a mark, Excel's "CSV UTF-8"
# and Notepad's "UTF-8 with BOM" write UTF-8 with one. UTF-32 LE's mark begins with UTF-16 LE's
# (FF FE), so the four-byte marks are tried first.
BYTE_ORDER_MARKS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)
SNIFF_BYTES = 8192  # how much of a file is looked at for NUL characters; a multiple of 4
BadLineCause = Literal["json", "quote", "columns"]


@dataclass(frozen=True)
class Record:
    line: int  # 1-based line the record starts on
    value: Any  # a parsed JSON value (an object for well-formed data), or a CSV row {column: text}


@dataclass(frozen=True)
class BadLine:
    line: int
    detail: str  # e.g. "Expecting ',' delimiter (column 12)"
    # What broke, for callers that advise on a fix: a JSON line that does not parse, a CSV quote
    # that never closes (or text after a closing quote), a CSV row with more values than the header.
    cause: BadLineCause


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
            result.problems.append(BadLine(number, f"not valid JSON: {exc.msg} (column {exc.colno})", "json"))
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
            result.problems.append(BadLine(start, _broken_quote(exc, reader.line_num), "quote"))
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
            result.problems.append(BadLine(line, "more values than header columns", "columns"))
            continue
        result.records.append(Record(line, {name: row[i] if i < len(row) else "" for i, name in enumerate(header)}))
    result.lines = reader.line_num
    return result


def _broken_quote(exc: csv.Error, line_num: int) -> str:
    if "end of data" in str(exc):
        return "a quote opens a value on this line and is never closed, so every line after it was read into it"
    return f"a quoted value opens on this line and the CSV breaks on line {line_num} ({exc})"


class NotTextError(ValueError):
    """Bytes that are not text the readers take. ``line`` is the 1-based line where decoding
    failed; None for a binary file (NUL characters: an image, an archive, model weights)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.line = line

    @property
    def binary(self) -> bool:
        return self.line is None


def decode_text(data: bytes) -> str:
    """A text file's bytes as text, without its byte-order mark: UTF-8 (the default), or UTF-8,
    UTF-16 or UTF-32 when a byte-order mark says so. NotTextError for binary data or bytes that do
    not decode."""
    mark, codec, name = _encoding_of(data)
    body = data[len(mark) :]
    # NUL characters, not NUL bytes, mark a binary file: in UTF-16 every ASCII letter sits beside a
    # NUL byte. Decoding the start leniently first also means a binary file gets "binary" rather
    # than the decoding error its first odd byte would give (a PNG starts with 0x89).
    if "\x00" in body[:SNIFF_BYTES].decode(codec, errors="replace"):
        raise NotTextError("looks like a binary file (it holds NUL bytes)")
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].decode(codec, errors="replace").count("\n") + 1
        if codec == "utf-8":  # the message learners already know, marked or not
            raise NotTextError(f"not UTF-8 text (byte 0x{body[exc.start]:02x})", line) from None
        raise NotTextError(
            f"not valid {name} text, though it starts with a {name} byte-order mark ({exc.reason})", line
        ) from None


def _encoding_of(data: bytes) -> tuple[bytes, str, str]:
    """(byte-order mark, codec, name) for ``data``; no mark means UTF-8."""
    for mark, codec, name in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return mark, codec, name
    return b"", "utf-8", "UTF-8"


def is_csv(name: str) -> bool:
    return name.lower().endswith(".csv")


def is_jsonl(name: str) -> bool:
    return name.lower().endswith(JSONL_SUFFIXES)
