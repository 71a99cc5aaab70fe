"""The one object the UI and the CLI talk to: settings, database and course, plus the
operations a learner can do. No Gradio here, so tests drive it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tutor import accounts, progress
from tutor.content import ContentError, Course, Page, load_course, render_for_app
from tutor.settings import Settings
from tutor.store import Store, StoreError, open_store


class StartupError(RuntimeError):
    """The app cannot start; the message is one line for the user."""


class AccessError(PermissionError):
    """The caller may not do this (not signed in, unknown user, wrong role)."""


@dataclass(frozen=True)
class Viewer:
    """Who is asking: resolved on the server from the signed-in session, never from the client."""

    user_id: int
    username: str
    role: str

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"


@dataclass(frozen=True)
class LessonStatus:
    id: str
    order: int
    title: str
    minutes: int
    completed_at: datetime | None

    @property
    def done(self) -> bool:
        return self.completed_at is not None


class Core:
    def __init__(self, settings: Settings, store: Store, course: Course) -> None:
        self.settings = settings
        self.store = store
        self.course = course

    @classmethod
    def start(cls, settings: Settings) -> Core:
        """Load the course and open the database, or raise StartupError with a one-line reason."""
        try:
            course = load_course(settings.lessons_dir)
        except ContentError as exc:
            raise StartupError(f"course content: {exc}") from None
        if not course.lessons:
            raise StartupError(f"no lessons found in {settings.lessons_dir}")
        try:
            store = open_store(settings.resolved_database_url)
        except StoreError as exc:
            raise StartupError(str(exc)) from None
        return cls(settings, store, course)

    # --- who is asking -------------------------------------------------------------------

    def viewer(self, username: str | None) -> Viewer:
        """The user behind a request. Single mode: always the local learner."""
        if self.settings.mode == "single":
            user = accounts.ensure_local_learner(self.store, self.settings.learner_name)
        else:
            if not username:
                raise AccessError("sign in first")
            user = accounts.get_user(self.store, username)
            if user is None:
                raise AccessError(f"unknown user {username!r}")
        assert user.id is not None
        return Viewer(user_id=user.id, username=user.username, role=user.role)

    def authenticate(self, username: str, password: str) -> bool:
        return accounts.authenticate(self.store, username, password)

    # --- lessons -------------------------------------------------------------------------

    def page(self, page_id: str) -> Page:
        page = self.course.get(page_id)
        if page is None:
            raise KeyError(f"no page {page_id!r}")
        return page

    def lesson(self, lesson_id: str) -> Page:
        page = self.page(lesson_id)
        if page.meta.kind != "lesson":
            raise KeyError(f"{lesson_id!r} is not a lesson")
        return page

    def page_markdown(self, page_id: str) -> str:
        """The page as the app shows it, links rewritten to open inside the app."""
        page = self.page(page_id)
        return render_for_app(self.course, page)

    def lesson_statuses(self, viewer: Viewer) -> list[LessonStatus]:
        done = progress.completed_lessons(self.store, viewer.user_id)
        return [
            LessonStatus(page.id, page.meta.order, page.title, page.meta.minutes, done.get(page.id))
            for page in self.course.lessons
        ]

    def mark_complete(self, viewer: Viewer, lesson_id: str) -> datetime:
        self.lesson(lesson_id)  # reject unknown ids before writing anything
        return progress.mark_complete(self.store, viewer.user_id, lesson_id)

    def mark_incomplete(self, viewer: Viewer, lesson_id: str) -> None:
        self.lesson(lesson_id)
        progress.mark_incomplete(self.store, viewer.user_id, lesson_id)

    def neighbour(self, lesson_id: str, step: int) -> str:
        """The id of the lesson ``step`` places away, clamped to the first and last."""
        ids = [page.id for page in self.course.lessons]
        index = ids.index(self.lesson(lesson_id).id)
        return ids[max(0, min(len(ids) - 1, index + step))]
