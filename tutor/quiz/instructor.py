"""Instructor operations on banks: read a YAML or GIFT file into a validated bank (nothing is
imported from a file with errors), export, keep the shipped banks in sync, and the gradebook."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from tutor.tables import QuizAttempt, QuizBankVersion, User
from tutor.quiz import attempts
from tutor.quiz.bank import Bank, BankError, QuizDefinition, dump_bank_yaml, parse_bank_yaml
from tutor.quiz.gift import parse_gift, write_gift
from tutor.store import Store

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
        if b"\x00" in text[:8192]:
            return ReadResult(None, [f"{name}:1: this is a binary file, not a YAML or GIFT bank"])
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            return ReadResult(None, [f"{name}:{line}: not UTF-8 text"])
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


def newest_version(store: Store, bank_id: str) -> QuizBankVersion | None:
    with store.session() as session:
        return session.exec(
            select(QuizBankVersion).where(QuizBankVersion.bank_id == bank_id).order_by(QuizBankVersion.version.desc())  # type: ignore[union-attr]
        ).first()


def list_versions(store: Store) -> list[QuizBankVersion]:
    with store.session() as session:
        return list(session.exec(select(QuizBankVersion).order_by(QuizBankVersion.bank_id, QuizBankVersion.version)))


def sync_shipped_banks(store: Store, quizzes_dir: Path) -> list[str]:
    """Import and publish the banks that ship in ``quizzes_dir`` when they are new or their file
    changed. A version an instructor imported from elsewhere is never overridden."""
    messages = []
    for path in sorted(quizzes_dir.glob("*.y*ml")):
        result = read_bank(path.read_bytes(), str(path))
        if result.bank is None:
            raise BankError(result.problems)
        newest = newest_version(store, result.bank.bank)
        if newest is not None and newest.source != str(path):
            continue  # an instructor's own version is in charge of this bank
        if newest is None or newest.content_hash != attempts.bank_hash(result.bank):
            version = attempts.save_bank_version(store, result.bank, str(path))
            attempts.publish(store, version.id)
            messages.append(f"published {result.bank.bank} v{version.version} from {path.name}")
    return messages


def gradebook_csv(store: Store) -> str:
    """One row per learner: each published quiz's grade (by its grading method), attempts, pass."""
    quizzes = attempts.published_quizzes(store)
    with store.session() as session:
        learners = list(session.exec(select(User).where(User.role == "learner").order_by(User.username)))
        submitted = list(session.exec(select(QuizAttempt).where(QuizAttempt.submitted_at.is_not(None))))  # type: ignore[union-attr]
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["username"]
    for quiz in quizzes:
        header += [f"{quiz.id} grade %", f"{quiz.id} attempts"] + ([f"{quiz.id} passed"] if quiz.pass_mark else [])
    writer.writerow(header)
    for learner in learners:
        row: list[object] = [learner.username]
        for quiz in quizzes:
            mine = sorted(
                (a for a in submitted if a.user_id == learner.id and a.quiz_id == quiz.id), key=lambda a: a.number
            )
            grade = attempts.overall_grade(quiz.grading, [a.percent or 0.0 for a in mine])
            row += ["" if grade is None else f"{grade:.1f}", len(mine)]
            if quiz.pass_mark:
                row.append("" if grade is None else ("yes" if grade >= quiz.pass_mark else "no"))
        writer.writerow(row)
    return out.getvalue()
