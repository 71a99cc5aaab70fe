"""Bank files: read a YAML or GIFT file into a validated bank (nothing is taken from a file with
errors), and write a bank back out as YAML or GIFT. No database here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from trainer.records import NotTextError, decode_text
from tutor.quiz.bank import Bank, BankError, QuizDefinition, dump_bank_yaml, parse_bank_yaml
from tutor.quiz.gift import parse_gift, write_gift

GIFT_SUFFIXES = (".gift", ".txt")
YAML_SUFFIXES = (".yaml", ".yml")
MAX_BANK_BYTES = 2_000_000  # a bank is text; anything larger is almost certainly the wrong file


@dataclass
class ReadResult:
    bank: Bank | None
    problems: list[str] = field(default_factory=list)  # file:line: message — the file is refused
    skipped: list[str] = field(default_factory=list)  # file:line: message — unsupported, left out


def read_bank(text: str | bytes, filename: str) -> ReadResult:
    """Parse a bank file by its extension (.yaml/.yml, or .gift/.txt)."""
    name = Path(filename).name or "bank"
    if isinstance(text, bytes):
        if len(text) > MAX_BANK_BYTES:
            return ReadResult(None, [f"{name}:1: file is {len(text):,} bytes; a bank is at most {MAX_BANK_BYTES:,}"])
        try:
            # The project's one decoder: UTF-8, or UTF-16/32 with the byte-order mark Windows editors write.
            text = decode_text(text)
        except NotTextError as exc:
            if exc.binary:
                return ReadResult(None, [f"{name}:1: this is a binary file, not a YAML or GIFT bank"])
            return ReadResult(None, [f"{name}:{exc.line}: {exc}"])
    text = text.removeprefix("\ufeff")  # text handed over already decoded may still carry its mark
    suffix = Path(name).suffix.lower()
    if suffix in YAML_SUFFIXES:
        try:
            return ReadResult(parse_bank_yaml(text, name))
        except BankError as exc:
            return ReadResult(None, exc.problems)
    if suffix in GIFT_SUFFIXES:
        result = parse_gift(text, name)
        if result.errors:
            return ReadResult(None, result.errors, result.skipped)
        if not result.questions:
            return ReadResult(None, [f"{name}:1: no supported questions in this file"], result.skipped)
        bank_id = re.sub(r"[^a-z0-9-]+", "-", Path(name).stem.lower()).strip("-") or "imported"
        questions_ids = [q.id for q in result.questions]
        quiz = QuizDefinition(id=bank_id[:64], title=f"{Path(name).stem}: all questions", questions=questions_ids)
        try:
            bank = Bank(bank=bank_id[:64], title=Path(name).stem, questions=result.questions, quizzes=[quiz])
        except ValueError as exc:
            return ReadResult(None, [f"{name}:1: {exc}"], result.skipped)
        return ReadResult(bank, [], result.skipped)
    return ReadResult(None, [f"{name}:1: unknown bank format {suffix or '(no extension)'!r}: use .yaml or .gift"])


def export_bank(bank: Bank, fmt: str) -> str:
    if fmt == "yaml":
        return dump_bank_yaml(bank)
    if fmt == "gift":
        return write_gift(bank)
    raise ValueError(f"unknown format {fmt!r}: use yaml or gift")
