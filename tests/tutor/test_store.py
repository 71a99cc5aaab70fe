"""The database: tables created on start, WAL for SQLite, progress kept per user and across
restarts, and one-line errors for URLs that cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tutor import accounts, lesson_progress
from tutor.store import StoreError, open_store


def test_tables_are_created_on_start(database_url: str) -> None:
    store = open_store(database_url)
    with store.engine.connect() as conn:
        names = set(store.engine.dialect.get_table_names(conn))
    assert {"user", "lessoncompletion"} <= names
    store.close()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'deep' / 'folder' / 'tutor.db'}")  # folders are created
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.close()


def test_completion_is_idempotent_and_keeps_the_first_date(database_url: str) -> None:
    store = open_store(database_url)
    user = accounts.add_user(store, "ada", "correct horse", "learner")
    first = lesson_progress.mark_complete(store, user.id, "training-data")
    second = lesson_progress.mark_complete(store, user.id, "training-data")
    assert first == second
    assert list(lesson_progress.completed_lessons(store, user.id)) == ["training-data"]
    lesson_progress.mark_incomplete(store, user.id, "training-data")
    assert lesson_progress.completed_lessons(store, user.id) == {}
    store.close()


def test_progress_is_per_user(database_url: str) -> None:
    store = open_store(database_url)
    ada = accounts.add_user(store, "ada", "correct horse", "learner")
    bob = accounts.add_user(store, "bob", "battery staple", "learner")
    lesson_progress.mark_complete(store, ada.id, "what-is-fine-tuning")
    assert lesson_progress.completed_lessons(store, bob.id) == {}
    assert set(lesson_progress.completed_lessons(store, ada.id)) == {"what-is-fine-tuning"}
    store.close()


def test_progress_survives_reopening_the_database(database_url: str) -> None:
    store = open_store(database_url)
    user = accounts.ensure_local_learner(store, "learner")
    lesson_progress.mark_complete(store, user.id, "hyperparameters-lora")
    store.close()

    reopened = open_store(database_url)
    again = accounts.ensure_local_learner(reopened, "learner")
    assert again.id == user.id
    assert set(lesson_progress.completed_lessons(reopened, again.id)) == {"hyperparameters-lora"}
    reopened.close()


def test_unreachable_postgres_is_one_line_with_password_hidden() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql+psycopg://tutor:s3cret@127.0.0.1:1/tutor")
    message = str(caught.value)
    assert message.startswith("cannot open database postgresql+psycopg://tutor:***@127.0.0.1:1/tutor")
    assert "s3cret" not in message and "\n" not in message


def test_unknown_driver_and_unwritable_sqlite_path_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database driver for 'nosuchdb'"):
        open_store("nosuchdb://host/db")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the folder"):
        open_store(f"sqlite:///{blocker / 'sub' / 'tutor.db'}")
