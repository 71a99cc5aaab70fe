"""The one object the UI and the CLI talk to: settings, database and course, plus the
operations a learner can do. No Gradio here, so tests drive it directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tutor import accounts, progress
from tutor.content import ContentError, Course, Page, load_course, render_for_app
from tutor.quiz import analysis, attempts, instructor
from tutor.quiz.bank import BankError, QuizDefinition
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
        try:
            instructor.sync_shipped_banks(store, settings.quizzes_dir)
        except BankError as exc:
            store.close()
            raise StartupError(f"quiz bank: {exc.problems[0]}") from None
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

    # --- quizzes (learner) -----------------------------------------------------------------

    def quizzes(self) -> list[QuizDefinition]:
        """Published quizzes: the lesson quizzes in lesson order, then the rest."""
        order = {page.id: page.meta.order for page in self.course.lessons}
        return sorted(attempts.published_quizzes(self.store), key=lambda q: (order.get(q.lesson, 99), q.id))

    def quiz_for_lesson(self, lesson_id: str) -> str | None:
        return next((quiz.id for quiz in self.quizzes() if quiz.lesson == lesson_id), None)

    def start_quiz(self, viewer: Viewer, quiz_id: str) -> attempts.AttemptView:
        return attempts.start_or_resume(self.store, viewer.user_id, quiz_id)

    def save_answers(self, viewer: Viewer, attempt_id: int, answers: dict[str, list[int]]) -> None:
        attempts.save_draft(self.store, viewer.user_id, attempt_id, answers)

    def submit_quiz(self, viewer: Viewer, attempt_id: int, answers: dict[str, list[int]]) -> attempts.AttemptResult:
        return attempts.submit(self.store, viewer.user_id, attempt_id, answers)

    def review_attempt(self, viewer: Viewer, attempt_id: int) -> attempts.AttemptResult:
        return attempts.review(self.store, viewer.user_id, attempt_id)

    def quiz_summaries(self, viewer: Viewer) -> list[attempts.QuizSummary]:
        return attempts.summaries(self.store, viewer.user_id)

    # --- quizzes (instructor) --------------------------------------------------------------

    @staticmethod
    def require_instructor(viewer: Viewer) -> None:
        if not viewer.is_instructor:
            raise AccessError("only instructors can do this")

    def import_bank(self, viewer: Viewer, data: str | bytes, filename: str) -> instructor.ReadResult:
        """Validate a YAML/GIFT file and store it as a new, unpublished version (if it is valid)."""
        self.require_instructor(viewer)
        result = instructor.read_bank(data, filename)
        if result.bank is not None:
            attempts.save_bank_version(self.store, result.bank, filename, viewer.user_id)
        return result

    def publish_bank(self, viewer: Viewer, bank_id: str) -> int:
        """Publish the newest version of a bank; returns its version number."""
        self.require_instructor(viewer)
        newest = instructor.newest_version(self.store, bank_id)
        if newest is None or newest.id is None:
            raise KeyError(f"no bank {bank_id!r}")
        attempts.publish(self.store, newest.id)
        return newest.version

    def export_bank(self, viewer: Viewer, bank_id: str, fmt: str) -> str:
        self.require_instructor(viewer)
        newest = instructor.newest_version(self.store, bank_id)
        if newest is None:
            raise KeyError(f"no bank {bank_id!r}")
        return instructor.export_bank(attempts.bank_of(newest), fmt)

    def gradebook_csv(self, viewer: Viewer) -> str:
        self.require_instructor(viewer)
        return instructor.gradebook_csv(self.store)

    def quiz_statistics(self, viewer: Viewer, quiz_id: str) -> analysis.QuizStats:
        self.require_instructor(viewer)
        return analysis.quiz_stats(self.store, quiz_id)
