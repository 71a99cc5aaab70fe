"""Lesson progress: which lessons a user has marked complete, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import delete, select

from tutor.store import Store
from tutor.tables import LessonCompletion


def mark_complete(store: Store, user_id: int, lesson_id: str) -> datetime:
    """Record completion (idempotent: a second call keeps the first date) and return its date."""
    existing = completed_lessons(store, user_id).get(lesson_id)
    if existing is not None:
        return existing
    try:
        with store.session() as session:
            row = LessonCompletion(user_id=user_id, lesson_id=lesson_id)
            session.add(row)
        return row.completed_at
    except IntegrityError:  # a double click raced us; the other insert won
        return completed_lessons(store, user_id)[lesson_id]


def mark_incomplete(store: Store, user_id: int, lesson_id: str) -> None:
    with store.session() as session:
        session.exec(
            delete(LessonCompletion).where(
                LessonCompletion.user_id == user_id, LessonCompletion.lesson_id == lesson_id
            )
        )


def completed_lessons(store: Store, user_id: int) -> dict[str, datetime]:
    """lesson id -> when it was completed, for one user only."""
    with store.session() as session:
        rows = session.exec(select(LessonCompletion).where(LessonCompletion.user_id == user_id))
        return {row.lesson_id: row.completed_at for row in rows}
