"""Database tables (SQLModel). One class per table; later features add theirs here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlmodel import Field, SQLModel, UniqueConstraint

Role = Literal["learner", "instructor"]
ROLES: tuple[str, ...] = ("learner", "instructor")


def utcnow() -> datetime:
    """Now, in UTC, time-zone aware (SQLModel stores aware datetimes)."""
    return datetime.now(UTC)


class User(SQLModel, table=True):
    """A learner or instructor. In single mode the one local learner has no password."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    # argon2 hash (salt and parameters included); None for the password-less local learner.
    password_hash: str | None = None
    role: str = Field(default="learner", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class LessonCompletion(SQLModel, table=True):
    """One row per lesson a user has marked complete."""

    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    lesson_id: str = Field(max_length=64)
    completed_at: datetime = Field(default_factory=utcnow)
