"""The one object the UI and the CLI talk to: settings, database and course, plus the
operations a learner can do. No Gradio here, so tests drive it directly.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from tutor import accounts, lesson_progress
from tutor.advisors import ADVISORS, AdvisorRequest, evaluation
from tutor.advisors import history as advisor_history
from tutor.advisors.ask import (
    Answered,
    Asked,
    Kind,
    QuestionEvent,
    answer_question,
    answer_within,
    classify,
    earlier_recommendation,
    near_a_course_sentence,
    prepare,
)
from tutor.advisors.base import Recommendation, UploadedFile, check_message, read_upload, to_json
from tutor.advisors.case_reader import load_case_reader
from tutor.advisors.extractive import QuoteScorer, ranked_texts
from tutor.advisors.history import CUT_OFF
from tutor.advisors.question_within import names_the_course
from tutor.advisors.quiz_guard import QuizGuard
from tutor.advisors.sentence_ranker import RankerError, check_ranker_dir, ranker_at
from tutor.advisors.service import Advice, QuestionAnswer, advise
from tutor.advisors.strategy import tells_a_project
from tutor.advisors.turn import ExplanationCheck, FinalAnswer, Recommended, TurnEvent, run_turn
from tutor.content import ContentError, Course, Page, load_course, render_for_app
from tutor.learner_jobs import OneAtATime
from tutor.llm import ChatModel, LLMError, get_chat_model
from tutor.llm.line import ModelLine
from tutor.quiz import analysis, attempts, bank_files, versions
from tutor.quiz.bank import Bank, BankError, QuizDefinition
from tutor.rag import CourseIndex, RetrievalError
from tutor.settings import Settings
from tutor.store import Store, StoreError, open_store
from tutor.tables import AdvisorMessage, QuizBankVersion


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


@dataclass
class AdvisorTurn:
    """A message being answered: stored as soon as it is sent, the answer stored when done. A use
    case has ``advice`` (the rules' recommendation); a question or quiz-answer request ``asked``."""

    conversation_id: int
    advice: Advice | None = None
    asked: Asked | None = None
    answer_id: int | None = None  # the answer's row, stored (marked cut off) before it streams


class Core:
    def __init__(self, settings: Settings, store: Store, course: Course) -> None:
        self.settings = settings
        self.store = store
        self.course = course
        self._index: CourseIndex | None = None
        self._index_lock = threading.Lock()
        self.advisor_jobs = OneAtATime("an advisor answer")
        # Learners waiting for a local advisor model, each with their place; a server batches requests.
        self.model_line = None if settings.backend == "openai" else ModelLine()
        self._qlora = None
        self._local_models = None
        self._guard: tuple[tuple[int, ...], QuizGuard] | None = None

    @classmethod
    def start(cls, settings: Settings) -> Core:
        """Load the course and open the database, or raise StartupError with a one-line reason."""
        try:
            course = load_course(settings.lessons_dir)
        except ContentError as exc:
            raise StartupError(f"course content: {exc}") from None
        if not course.lessons:
            raise StartupError(f"no lessons found in {settings.lessons_dir}")
        if settings.quote_ranker:
            try:
                check_ranker_dir(Path(settings.quote_ranker))
            except RankerError as exc:
                raise StartupError(f"quote_ranker: {exc}") from None
        try:
            store = open_store(settings.resolved_database_url)
        except StoreError as exc:
            raise StartupError(str(exc)) from None
        try:
            versions.sync_shipped_banks(store, settings.quizzes_dir)
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
        done = lesson_progress.completed_lessons(self.store, viewer.user_id)
        return [
            LessonStatus(page.id, page.meta.order, page.title, page.meta.minutes, done.get(page.id))
            for page in self.course.lessons
        ]

    def mark_complete(self, viewer: Viewer, lesson_id: str) -> datetime:
        self.lesson(lesson_id)  # reject unknown ids before writing anything
        return lesson_progress.mark_complete(self.store, viewer.user_id, lesson_id)

    def mark_incomplete(self, viewer: Viewer, lesson_id: str) -> None:
        self.lesson(lesson_id)
        lesson_progress.mark_incomplete(self.store, viewer.user_id, lesson_id)

    def neighbour(self, lesson_id: str, step: int) -> str:
        """The id of the lesson ``step`` places away, clamped to the first and last."""
        ids = [page.id for page in self.course.lessons]
        index = ids.index(self.lesson(lesson_id).id)
        return ids[max(0, min(len(ids) - 1, index + step))]

    # --- quizzes (learner) -----------------------------------------------------------------

    def quizzes(self) -> list[QuizDefinition]:
        """Published quizzes: the lesson quizzes in lesson order, then the rest."""
        order = {page.id: page.meta.order for page in self.course.lessons}
        return sorted(versions.published_quizzes(self.store), key=lambda q: (order.get(q.lesson, 99), q.id))

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
    # Every operation here checks the role. The `tutor quiz` commands are the server operator's
    # tools (run on the server, with the database at hand): they pass Core.operator().

    OPERATOR_ID = 0  # no account has it (ids start at 1): versions the operator stores name no author

    @classmethod
    def operator(cls) -> Viewer:
        """The server's operator, for the CLI only: instructor rights without an account.
        Never built from a web request (those are resolved by :meth:`viewer`)."""
        return Viewer(user_id=cls.OPERATOR_ID, username="operator", role="instructor")

    @staticmethod
    def require_instructor(viewer: Viewer) -> None:
        if not viewer.is_instructor:
            raise AccessError("only instructors can do this")

    def bank_versions(self, viewer: Viewer, published_only: bool = False) -> list[tuple[QuizBankVersion, Bank]]:
        """Stored bank versions with their banks: all (by bank, oldest first) or the published ones."""
        self.require_instructor(viewer)
        rows = versions.published(self.store) if published_only else versions.list_all(self.store)
        return [(version, versions.bank_of(version)) for version in rows]

    def newest_bank(self, viewer: Viewer, bank_id: str) -> Bank | None:
        """The newest version of a bank, published or not; None for an unknown bank."""
        self.require_instructor(viewer)
        newest = versions.newest(self.store, bank_id)
        return versions.bank_of(newest) if newest else None

    def import_bank(self, viewer: Viewer, data: str | bytes, filename: str) -> bank_files.ReadResult:
        """Validate a YAML/GIFT file and store it as a new, unpublished version (if it is valid)."""
        self.require_instructor(viewer)
        result = bank_files.read_bank(data, filename)
        if result.bank is not None:
            self.save_bank(viewer, result.bank, filename)
        return result

    def save_bank(self, viewer: Viewer, bank: Bank, source: str, publish: bool = False) -> QuizBankVersion:
        """Store a validated bank as a new version (unless it equals the newest); publish it if asked."""
        self.require_instructor(viewer)
        author = None if viewer.user_id == self.OPERATOR_ID else viewer.user_id
        conflicts = versions.quiz_id_conflicts(self.store, bank) if publish else []
        if conflicts:  # before storing: an import asked to publish does all of it or nothing
            raise versions.QuizError("; ".join(conflicts))
        version = versions.save(self.store, bank, source, author)
        if publish:
            versions.publish(self.store, version.id)
        return version

    def publish_bank(self, viewer: Viewer, bank_id: str) -> int:
        """Publish the newest version of a bank; returns its version number."""
        self.require_instructor(viewer)
        newest = versions.newest(self.store, bank_id)
        if newest is None or newest.id is None:
            raise KeyError(f"no bank {bank_id!r}")
        versions.publish(self.store, newest.id)
        return newest.version

    def export_bank(self, viewer: Viewer, bank_id: str, fmt: str) -> str:
        bank = self.newest_bank(viewer, bank_id)
        if bank is None:
            raise KeyError(f"no bank {bank_id!r}")
        return bank_files.export_bank(bank, fmt)

    def gradebook_csv(self, viewer: Viewer) -> str:
        self.require_instructor(viewer)
        return attempts.gradebook_csv(self.store)

    def quiz_statistics(self, viewer: Viewer, quiz_id: str) -> analysis.QuizStats:
        self.require_instructor(viewer)
        return analysis.quiz_stats(self.store, quiz_id)

    # --- advisor labs ------------------------------------------------------------------------

    def course_index(self) -> CourseIndex:
        """The retrieval index over the course (built or checked on first use)."""
        with self._index_lock:
            if self._index is None:
                self._index = CourseIndex(
                    self.course, self.settings.data_dir, self.settings.embedding_model, self.settings.chroma_url
                )
            return self._index

    def warm_up(self, log=print) -> None:
        """Build or check the course index and load the model, so the first question is quick.
        Run in a background thread by ``tutor serve``; problems are logged, not raised."""
        try:
            index = self.course_index()
            report = index.ensure()
            log(f"course index {'built' if report.built else 'up to date'}: {report.chunks} chunks")
            sentences = ranked_texts(index.chunks())
            index.embed(sentences)
            log(f"course sentences embedded for ranking: {len(sentences)}")
        except RetrievalError as exc:
            log(f"course search unavailable: {exc}")
        try:
            log(f"advisor model ready: {self.chat_model().name}")
        except LLMError as exc:
            log(f"advisor model unavailable: {exc}")

    @property
    def qlora(self):
        """The QLoRA lab (runs, status, compare, export); created on first use."""
        if self._qlora is None:
            from tutor.training_lab import TrainingLab

            self._qlora = TrainingLab(self.settings)
        return self._qlora

    @property
    def local_models(self):
        """The Local models lab (list, quantize, chat, compare, model cards); created on first use."""
        if self._local_models is None:
            from tutor.local_models.lab import LocalModelsLab

            self._local_models = LocalModelsLab(
                self.settings, self.store, self._finished_runs, check_space=self.qlora.check_space
            )
        return self._local_models

    def _finished_runs(self, owner: str) -> list[tuple[str, Path, str]]:
        """A learner's finished QLoRA-lab runs: (run id, folder, base model; "" is the packaged one)."""
        found = []
        for run in self.qlora.runs.runs(owner):
            if run.status == "done":
                with contextlib.suppress(Exception):  # a run folder deleted meanwhile
                    found.append((run.id, self.qlora.runs.folder(run.id), self.qlora.runs.config(run.id).model.name))
        return found

    # Instructors see, stop and delete every learner's runs (a run holding the one training slot,
    # a learner's files filling the disk); learners do the same to their own in the lab.
    def lab_runs(self, viewer: Viewer) -> list:
        """Every run with its size in bytes, newest first: [(Run, bytes)]."""
        self.require_instructor(viewer)
        return self.qlora.all_runs()

    def stop_run(self, viewer: Viewer, run_id: str):
        return self.qlora.stop(self._run_owner(viewer), run_id)

    def delete_run(self, viewer: Viewer, run_id: str):
        return self.qlora.delete(self._run_owner(viewer), run_id)

    @staticmethod
    def _run_owner(viewer: Viewer) -> str | None:
        return None if viewer.is_instructor else viewer.username

    def chat_model(self) -> ChatModel:
        """The advisors' language model, loaded once per process (raises LLMError if it cannot load)."""
        return get_chat_model(self.settings)

    def search_course(self, query: str, k: int | None = None):
        return self.course_index().search(query, k=k or self.settings.rag_top_k)

    @staticmethod
    def _lab(lab: str) -> str:
        if lab not in ADVISORS:
            raise KeyError(f"no advisor lab {lab!r} (labs: {', '.join(ADVISORS)})")
        return lab

    def advisor_request(
        self, text: str, file_paths: list[str | Path] | None = None, history: list[str] | None = None
    ) -> AdvisorRequest:
        """Check and read the learner's input; AdvisorInputError says what is wrong with it."""
        paths = [p for p in file_paths or [] if p]
        text = check_message(text, self.settings.advisor_max_chars, bool(paths))
        max_bytes = self.settings.max_upload_bytes
        files: list[UploadedFile] = [read_upload(path, max_bytes) for path in paths]
        return AdvisorRequest(text=text, history=list(history or []), files=files)

    def advise_once(self, lab: str, text: str, file_paths: list[str | Path] | None = None) -> Advice:
        """A recommendation without storing anything (CLI and API)."""
        request = self.advisor_request(text, file_paths)
        return self._advise(self._lab(lab), request)

    def _advise(self, lab: str, request: AdvisorRequest) -> Advice:
        return advise(
            self.course,
            self.course_index(),
            lab,
            request,
            k=self.settings.rag_top_k,
            answer_within=lambda asking, question, recommendation: self._answer_within(
                lab, asking, question, recommendation
            ),
        )

    def _answer_within(
        self, lab: str, request: AdvisorRequest, question: str, recommendation: Recommendation
    ) -> QuestionAnswer:
        """The question a use case asks beyond the verdict, answered as any course question is,
        without the model: the model explains the recommendation. The whole message decides whether
        the course answers it and finds passages; the quotes answer the question's own sentences
        (``in_context``): the rest of the case ("12 person saas shop, support runs on zendesk…")
        drew them towards the case and away from what was asked."""
        asked = self._asked(lab, AdvisorRequest(text=request.text), "question")
        asked.recommendation = recommendation
        # The conversation comes along for the quotes only: a follow-up's "that pile" is what an
        # earlier message told. (Searched and judged, the message stands alone, as a use case does.)
        answer = answer_within(
            asked, question, self.course_index(), self.quiz_guard(), self.quote_scorer(), history=request.history
        )
        return QuestionAnswer(answer.answer, answer.outcome, asked.passages)

    def start_advice(
        self, viewer: Viewer, lab: str, text: str, file_paths: list[str | Path] | None = None
    ) -> AdvisorTurn:
        """Store the learner's message and prepare its answer: the recommendation for a use case,
        the retrieved passages for a question (the model runs after this)."""
        self._lab(lab)
        conversation = advisor_history.current_conversation(self.store, viewer.user_id, lab)
        earlier = advisor_history.user_texts(self.store, conversation) if conversation else []
        request = self.advisor_request(text, file_paths, earlier)
        if conversation is None:
            conversation = advisor_history.start_conversation(self.store, viewer.user_id, lab)
        advisor_history.add_message(
            self.store, conversation, "user", request.text, files=[f.name for f in request.files]
        )
        advice, asked = self._prepare(lab, request)
        return AdvisorTurn(conversation, advice=advice, asked=asked)

    def _prepare(self, lab: str, request: AdvisorRequest) -> tuple[Advice | None, Asked | None]:
        """A use case gets the rules' recommendation; a question (or quiz-answer request) its passages."""
        kind = self._kind_in(lab, request)
        if kind != "use_case":
            asked = self._asked(lab, request, kind)
            if not (asked.outcome == "off_course" and lab == "strategy" and tells_a_project(request.text)):
                return None, asked
            # A learner's own project, asked as a question the course does not answer word for word:
            # the strategy rules decide it rather than the chat saying the course does not cover it.
        # The rules read the use case told so far, not the course questions asked in between.
        request.history = [m for m in request.history if self._kind_in(lab, AdvisorRequest(m)) == "use_case"]
        return self._advise(lab, request), None

    def _kind_in(self, lab: str, request: AdvisorRequest) -> Kind:
        """``message_kind`` as ``lab`` reads it, the same for a message and for the history it leaves."""
        kind = self.message_kind(request)
        if kind == "question" and lab == "eval" and not names_the_course(request.text):
            # "…fills species, breed and age into our practice system. How should I test it?": the closing
            # how-question asks for the suite ("the course never mentions Phi-3" answered it before).
            kind = "use_case" if evaluation.asks_for_a_suite(request.text) else kind
        return kind

    def message_kind(self, request: AdvisorRequest) -> Kind:
        """Use case, course question or quiz-answer request: the word rules read with the learned
        use-case reader (case_reader.py) over the course index's embedding."""
        return classify(request, self.quiz_guard(), self)

    def case_probability(self, text: str) -> float | None:
        """The learned reader's belief that ``text`` is a use case; None without the reader or search."""
        reader = load_case_reader()
        if reader is None:
            return None
        try:
            return reader.probability(self.course_index().embed([text])[0], text)
        except (RetrievalError, ValueError):
            return None

    def near_course(self, text: str) -> bool:
        """Whether ``text`` comes within ON_COURSE_SENTENCE of a course sentence (True when search is
        down: a message is not called off the course for that)."""
        return near_a_course_sentence(self.course_index(), text, when_search_is_down=True)

    def respond(
        self, lab: str, text: str, history: list[str] | None = None, file_paths: list[str | Path] | None = None
    ) -> Iterator[TurnEvent | QuestionEvent]:
        """What the chat would answer to ``text`` after ``history`` (API, evaluation): nothing stored."""
        advice, asked = self._prepare(self._lab(lab), self.advisor_request(text, file_paths, history))
        return self.answer(advice, drafts=False) if advice else self.answer_question(asked)

    def finish_advice(
        self,
        viewer: Viewer,
        turn: AdvisorTurn,
        answer: str,
        model: str = "",
        error: str = "",
        citations: list[dict] | None = None,
    ) -> None:
        owner = advisor_history.owner_of(self.store, turn.conversation_id)
        if owner is None or owner[0] != viewer.user_id:
            raise AccessError("not your conversation")
        recommendation = turn.advice.recommendation if turn.advice else None
        if citations is None:
            citations = [c.model_dump() for c in recommendation.citations] if recommendation else []
        stored = {
            "recommendation": to_json(recommendation) if recommendation else "",
            "citations": citations,
            "model": model,
            "error": error,
        }
        if turn.answer_id is None:
            advisor_history.add_message(self.store, turn.conversation_id, "assistant", answer, **stored)
        else:
            advisor_history.update_message(self.store, turn.answer_id, answer, **stored)

    def advisor_turn(
        self, viewer: Viewer, lab: str, text: str, file_paths: list[str | Path] | None = None
    ) -> Iterator[TurnEvent | QuestionEvent]:
        """One chat turn. The message is checked and stored now (AdvisorInputError, KeyError before
        anything streams; LearnerBusy while this learner's previous answer is still being written),
        with its answer's row marked cut off; a use case's recommendation is stored as soon as it
        is made, and the whole answer just before the last event (FinalAnswer or Answered)."""
        release = self.advisor_jobs.take(viewer.username)
        try:
            turn = self.start_advice(viewer, lab, text, file_paths)
            answer_id = advisor_history.add_message(self.store, turn.conversation_id, "assistant", "", error=CUT_OFF)
        except BaseException:
            release()
            raise
        return self._stored_answer(viewer, replace(turn, answer_id=answer_id), release)

    def _stored_answer(
        self, viewer: Viewer, turn: AdvisorTurn, release: Callable[[], None]
    ) -> Iterator[TurnEvent | QuestionEvent]:
        try:
            yield from self._answer_and_store(viewer, turn)
        finally:
            release()

    def _answer_and_store(self, viewer: Viewer, turn: AdvisorTurn) -> Iterator[TurnEvent | QuestionEvent]:
        events = self.answer(turn.advice) if turn.advice else self.answer_question(turn.asked)
        for event in events:
            if isinstance(event, Recommended) and turn.answer_id is not None:  # settled: keep it if cut off
                advisor_history.update_message(
                    self.store,
                    turn.answer_id,
                    event.markdown,
                    recommendation=to_json(event.advice.recommendation),
                    citations=[c.model_dump() for c in event.advice.recommendation.citations],
                    error=CUT_OFF,
                )
            if isinstance(event, FinalAnswer):
                self.finish_advice(viewer, turn, event.text, model=event.model, error=event.error)
            elif isinstance(event, Answered):
                cited = [{"page_id": c.page_id, "anchor": c.anchor, "page_title": c.page, "section": c.section}
                         for c in event.answer.citations]  # fmt: skip
                self.finish_advice(viewer, turn, event.text, event.answer.model, event.answer.error, cited)
            yield event

    def answer(self, advice: Advice, *, drafts: bool = True, checked: bool = True) -> Iterator[TurnEvent]:
        """The events of answering ``advice`` with the chat model; nothing is stored (the API and
        the CLI pass ``drafts=False``: only the chat drafts dataset examples). ``checked=False``
        shows the model's words unchecked: only the evaluation's baseline does that."""
        return run_turn(
            advice,
            self.chat_model,
            max_new_tokens=self.settings.llm_max_new_tokens,
            temperature=self.settings.llm_temperature,
            drafts=drafts,
            check=self._checker() if checked else None,
            line=self.model_line,
        )

    # --- course questions ----------------------------------------------------------------------

    def quiz_guard(self) -> QuizGuard:
        """Built from every stored bank version (published or not), rebuilt when one is added."""
        rows = versions.list_all(self.store)
        key = tuple(row.id for row in rows)
        if self._guard is None or self._guard[0] != key:
            self._guard = (key, QuizGuard(versions.bank_of(row) for row in rows))
        return self._guard[1]

    def _asked(self, lab: str, request: AdvisorRequest, kind: Kind) -> Asked:
        guard = self.quiz_guard()
        return prepare(
            self.course_index(),
            lab,
            request,
            kind,
            guard,
            scorer=self.quote_scorer(),
            k=self.settings.rag_top_k,
            earlier_use_case=lambda: earlier_recommendation(lab, request.history, guard, request.text, self),
        )

    def ask(self, lab: str, text: str, history: list[str] | None = None) -> Iterator[QuestionEvent]:
        """A question about the course, answered from the course (CLI and API: nothing stored).
        ``history``: earlier messages of the conversation, oldest first, for follow-ups."""
        request = self.advisor_request(text, None, history)
        kind: Kind = "quiz_request" if self.quiz_guard().asks_for_answer(request.text) else "question"
        return self.answer_question(self._asked(self._lab(lab), request, kind))

    def answer_question(self, asked: Asked, *, checked: bool = True) -> Iterator[QuestionEvent]:
        """``checked=False`` shows the model's words unchecked: only the evaluation does that."""
        return answer_question(
            asked,
            self.chat_model,
            self.quiz_guard(),
            self.quote_scorer(),
            max_new_tokens=self.settings.llm_max_new_tokens,
            temperature=self.settings.llm_temperature,
            checked=checked,
            line=self.model_line,
        )

    def _checker(self) -> ExplanationCheck:
        return ExplanationCheck(self.quiz_guard(), self.quote_scorer())

    def quote_scorer(self) -> QuoteScorer:
        """How the course sentences an answer quotes are ranked: with the learned ranker the
        settings name (loaded once), else by embedding similarity."""
        ranker = ranker_at(self.settings.quote_ranker) if self.settings.quote_ranker else None
        return QuoteScorer(self.course_index(), ranker)

    def new_conversation(self, viewer: Viewer, lab: str) -> int:
        return advisor_history.start_conversation(self.store, viewer.user_id, self._lab(lab))

    def conversation(self, viewer: Viewer, lab: str) -> list[AdvisorMessage]:
        """The viewer's current conversation with a lab (empty when there is none)."""
        conversation = advisor_history.current_conversation(self.store, viewer.user_id, self._lab(lab))
        return advisor_history.messages(self.store, conversation) if conversation else []

    def advisor_conversations(self, viewer: Viewer, lab: str | None = None, username: str | None = None):
        self.require_instructor(viewer)
        return advisor_history.conversations(self.store, lab or None, username or None)

    def read_conversation(self, viewer: Viewer, conversation_id: int) -> list[AdvisorMessage]:
        """Instructors read any conversation; learners only their own."""
        owner = advisor_history.owner_of(self.store, conversation_id)
        if owner is None:
            raise KeyError(f"no conversation {conversation_id}")
        if owner[0] != viewer.user_id:
            self.require_instructor(viewer)
        return advisor_history.messages(self.store, conversation_id)


def recommendation_of(message: AdvisorMessage) -> dict | None:
    return json.loads(message.recommendation) if message.recommendation else None
