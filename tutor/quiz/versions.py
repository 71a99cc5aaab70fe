"""Quiz-bank versions: every QuizBankVersion row is read and written here.

A bank imported (or changed) becomes a new, unpublished version; publishing one makes it the
version new attempts use, and older versions stay for the attempts taken on them. The banks that
ship in ``quizzes/`` are imported and published at start-up when they are new or changed.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from sqlalchemy import update
from sqlmodel import select

from tutor.quiz.bank import Bank, BankError, QuizDefinition
from tutor.quiz.bank_files import read_bank
from tutor.store import Store
from tutor.tables import QuizBankVersion


class QuizError(ValueError):
    """A request about a quiz that cannot be done; the message is for the learner."""


def bank_hash(bank: Bank) -> str:
    return hashlib.sha256(bank.model_dump_json().encode()).hexdigest()


def save(store: Store, bank: Bank, source: str = "", user_id: int | None = None) -> QuizBankVersion:
    """Store ``bank`` as a new (unpublished) version, unless it equals the newest version."""
    digest = bank_hash(bank)
    with store.session() as session:
        current = session.exec(
            select(QuizBankVersion)
            .where(QuizBankVersion.bank_id == bank.bank)
            .order_by(QuizBankVersion.version.desc())  # type: ignore[union-attr]
        ).first()
        if current is not None and current.content_hash == digest:
            return current
        version = QuizBankVersion(
            bank_id=bank.bank,
            version=(current.version + 1) if current else 1,
            title=bank.title,
            content=bank.model_dump_json(),
            content_hash=digest,
            source=source[:255],
            created_by=user_id,
        )
        session.add(version)
    return version


def quiz_id_conflicts(store: Store, bank: Bank) -> list[str]:
    """A message per quiz id of ``bank`` that another bank's published version already uses.
    Learners list, start and track quizzes by id alone, so an id may belong to one bank only;
    a new version of the same bank keeps its ids, of course."""
    owners = {
        quiz.id: version.bank_id
        for version in published(store)
        if version.bank_id != bank.bank
        for quiz in bank_of(version).quizzes
    }
    return [
        f"quiz id {quiz.id!r} already belongs to bank {owners[quiz.id]}: give this bank's quiz another id"
        for quiz in bank.quizzes
        if quiz.id in owners
    ]


def publish(store: Store, version_id: int) -> QuizBankVersion:
    """Make this version the one new attempts use (older versions stay for their attempts).
    QuizError when one of its quiz ids belongs to another published bank."""
    with store.session() as session:
        stored = session.get(QuizBankVersion, version_id)
    if stored is None:
        raise QuizError(f"no bank version {version_id}")
    conflicts = quiz_id_conflicts(store, bank_of(stored))
    if conflicts:
        raise QuizError("; ".join(conflicts))
    with store.session() as session:
        # Loaded again in the session that writes, so the bulk update below reaches this row's
        # object too (re-publishing the published version must still end with it published).
        version = session.get(QuizBankVersion, version_id)
        if version is None:
            raise QuizError(f"no bank version {version_id}")
        session.exec(update(QuizBankVersion).where(QuizBankVersion.bank_id == version.bank_id).values(published=False))
        version.published = True
        session.add(version)
    return version


def newest(store: Store, bank_id: str) -> QuizBankVersion | None:
    """The bank's latest version, published or not (None for an unknown bank)."""
    with store.session() as session:
        return session.exec(
            select(QuizBankVersion).where(QuizBankVersion.bank_id == bank_id).order_by(QuizBankVersion.version.desc())  # type: ignore[union-attr]
        ).first()


def list_all(store: Store) -> list[QuizBankVersion]:
    """Every version of every bank, by bank, oldest first."""
    with store.session() as session:
        return list(session.exec(select(QuizBankVersion).order_by(QuizBankVersion.bank_id, QuizBankVersion.version)))


def published(store: Store) -> list[QuizBankVersion]:
    """The published version of each bank."""
    with store.session() as session:
        return list(session.exec(select(QuizBankVersion).where(QuizBankVersion.published)))


def bank_of(version: QuizBankVersion) -> Bank:
    """The bank stored in a version. Versions never change, so each is parsed once per process."""
    return _parse_bank(version.content_hash, version.content)


@functools.lru_cache(maxsize=64)
def _parse_bank(content_hash: str, content: str) -> Bank:
    return Bank.model_validate_json(content)


def find_quiz(store: Store, quiz_id: str) -> tuple[QuizDefinition, Bank, QuizBankVersion]:
    """A published quiz with its bank and version; QuizError when no published bank has it."""
    for version in published(store):
        bank = bank_of(version)
        try:
            return bank.quiz(quiz_id), bank, version
        except KeyError:
            continue
    raise QuizError(f"there is no published quiz {quiz_id!r}")


def published_quizzes(store: Store) -> list[QuizDefinition]:
    return [quiz for version in published(store) for quiz in bank_of(version).quizzes]


def sync_shipped_banks(store: Store, quizzes_dir: Path) -> list[str]:
    """Import and publish the banks that ship in ``quizzes_dir`` when they are new or their file
    changed. A version an instructor imported from elsewhere is never overridden."""
    messages = []
    for path in sorted(quizzes_dir.glob("*.y*ml")):
        result = read_bank(path.read_bytes(), str(path))
        if result.bank is None:
            raise BankError(result.problems)
        current = newest(store, result.bank.bank)
        if current is not None and current.source != str(path):
            continue  # an instructor's own version is in charge of this bank
        if current is None or current.content_hash != bank_hash(result.bank):
            version = save(store, result.bank, str(path))
            try:
                publish(store, version.id)
            except QuizError as exc:
                # Not a start-up failure: the app must run for the other bank to be fixed. The
                # version waits unpublished until an instructor publishes it.
                messages.append(f"not published {result.bank.bank} v{version.version} from {path.name}: {exc}")
                continue
            messages.append(f"published {result.bank.bank} v{version.version} from {path.name}")
    return messages
