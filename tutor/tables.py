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


class QuizBankVersion(SQLModel, table=True):
    """One immutable version of a quiz bank. Attempts point at the version they were taken on,
    so an old attempt still shows exactly what the learner saw."""

    __table_args__ = (UniqueConstraint("bank_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    bank_id: str = Field(index=True, max_length=64)
    version: int
    title: str
    content: str  # the validated bank as JSON
    content_hash: str = Field(max_length=64)  # sha256 of content: re-importing the same bank is a no-op
    source: str = Field(default="", max_length=255)  # file it was imported from
    published: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    created_by: int | None = Field(default=None, foreign_key="user.id")


class QuizAttempt(SQLModel, table=True):
    """A learner's attempt at a quiz. ``layout`` fixes the questions and option order for the
    attempt; ``draft`` keeps unsubmitted answers so a reload resumes where the learner was."""

    __table_args__ = (UniqueConstraint("user_id", "quiz_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    quiz_id: str = Field(index=True, max_length=64)
    bank_version_id: int = Field(foreign_key="quizbankversion.id")
    number: int  # 1 for the first attempt at this quiz, 2 for the second, ...
    layout: str  # JSON: [{"question": id, "order": [option indices in display order]}, ...]
    draft: str = "{}"  # JSON: {question id: [display positions]} while in progress
    started_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = Field(default=None, index=True)
    score: float | None = None
    max_score: float | None = None
    percent: float | None = None
    passed: bool | None = None


class AttemptAnswer(SQLModel, table=True):
    """The graded answer to one question of a submitted attempt."""

    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="quizattempt.id", index=True)
    question_id: str = Field(max_length=64)
    position: int  # 1-based place in the attempt
    selected: str  # JSON list of option indices in the bank's order
    score: float
    max_score: float


class AdvisorConversation(SQLModel, table=True):
    """One conversation of a learner with an advisor lab. Instructors can read them."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    lab: str = Field(index=True, max_length=32)
    title: str = Field(default="", max_length=120)  # the start of the first message
    started_at: datetime = Field(default_factory=utcnow)


class AdvisorMessage(SQLModel, table=True):
    """A learner's message or an advisor's answer. The learner's message is stored before the model
    runs, so a crash or a stopped answer never loses what was asked."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="advisorconversation.id", index=True)
    role: str = Field(max_length=16)  # user | assistant
    content: str  # the learner's text, or the answer as shown (recommendation + explanation)
    files: str = "[]"  # JSON list of uploaded file names
    recommendation: str | None = None  # JSON of the typed Recommendation
    citations: str = "[]"  # JSON list of {page_id, anchor, page_title, section, why}
    model: str = Field(default="", max_length=200)  # which model wrote the explanation
    error: str = ""  # what went wrong, if the answer is incomplete
    created_at: datetime = Field(default_factory=utcnow)


class ModelServer(SQLModel, table=True):
    """An OpenAI-compatible server (Ollama, vLLM, a hosted API) in the Local models lab's list.
    ``owner`` "" is a server an instructor added for everyone."""

    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(default="", index=True, max_length=64)
    name: str = Field(max_length=64)
    base_url: str = Field(max_length=500)
    model: str = Field(default="", max_length=200)
    api_key: str = Field(default="", max_length=500)  # stored as given: use a key scoped to this use
    price_per_million: float | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ModelComparisonRecord(SQLModel, table=True):
    """A side-by-side comparison in a learner's history, with the reflection written about it."""

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(index=True, max_length=64)
    prompt_set: str = Field(max_length=200)
    models: str = Field(max_length=2000)  # the model ids, comma-separated
    result: str  # tutor.local_models.compare.Comparison as JSON
    reflection: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class ModelCardReview(SQLModel, table=True):
    """A learner's critique of one model's card: each checklist item's state, and a note."""

    __table_args__ = (UniqueConstraint("owner", "model_id"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(index=True, max_length=64)
    model_id: str = Field(max_length=500)
    items: str  # JSON: {item key: "documented" | "partly" | "missing"}
    note: str = ""
    updated_at: datetime = Field(default_factory=utcnow)
