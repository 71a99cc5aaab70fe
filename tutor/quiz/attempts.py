"""Quiz attempts on the server: start (questions drawn and options shuffled once, then stored),
save a draft, submit (graded in one transaction, idempotent), review, and grades across attempts
(each learner's summaries and the class gradebook). Bank versions live in :mod:`tutor.quiz.versions`.

What leaves this module for a learner before submission is an :class:`AttemptView`: question
stems and option texts in display order, nothing else — no weights, no feedback, no key.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from tutor.quiz import versions
from tutor.quiz.bank import Bank, QuizDefinition
from tutor.quiz.grading import grade
from tutor.quiz.versions import QuizError  # raised here too; callers catch attempts.QuizError
from tutor.store import Store
from tutor.tables import AttemptAnswer, QuizAttempt, QuizBankVersion, User, utcnow

# --- what the learner sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class ShownQuestion:
    position: int  # 1-based
    question_id: str
    stem: str
    multiple: bool  # several options may be chosen
    points: float
    options: tuple[str, ...]  # texts in this attempt's display order
    selected: tuple[int, ...]  # display positions (1-based) saved in the draft


@dataclass(frozen=True)
class AttemptView:
    """An attempt in progress: safe to send to the browser."""

    attempt_id: int
    quiz_id: str
    title: str
    number: int
    questions: tuple[ShownQuestion, ...]


@dataclass(frozen=True)
class ReviewedOption:
    text: str
    chosen: bool
    correct: bool | None  # None: the review options do not reveal it yet
    feedback: str | None


@dataclass(frozen=True)
class ReviewedQuestion:
    position: int
    question_id: str
    stem: str
    score: float | None
    max_score: float
    options: tuple[ReviewedOption, ...]
    general_feedback: str | None


@dataclass(frozen=True)
class AttemptResult:
    attempt_id: int
    quiz_id: str
    title: str
    number: int
    submitted_at: datetime
    score: float | None  # None when scores are not shown yet
    max_score: float
    percent: float | None
    passed: bool | None
    pass_mark: float
    questions: tuple[ReviewedQuestion, ...]


# --- starting ----------------------------------------------------------------------------------


def _seen_questions(session: Session, user_id: int, quiz_id: str) -> set[str]:
    seen: set[str] = set()
    for attempt in session.exec(
        select(QuizAttempt).where(QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz_id)
    ):
        seen.update(item["question"] for item in json.loads(attempt.layout))
    return seen


def _layout(quiz: QuizDefinition, bank: Bank, seen: set[str], rng: random.Random) -> list[dict]:
    chosen = list(quiz.questions)
    for draw in quiz.draws:
        pool = [q.id for q in bank.draw_pool(draw, set(chosen))]
        fresh = [question_id for question_id in pool if question_id not in seen]
        # Prefer questions this learner has not seen yet; top up from the rest when the pool runs dry.
        picked = rng.sample(fresh, min(draw.count, len(fresh)))
        rest = [question_id for question_id in pool if question_id not in picked]
        picked += rng.sample(rest, draw.count - len(picked))
        chosen += picked
    if quiz.shuffle_questions:
        rng.shuffle(chosen)
    layout = []
    for question_id in chosen:
        order = list(range(len(bank.question(question_id).options)))
        # True/false keeps True first; otherwise shuffle when the quiz asks for it.
        if quiz.shuffle_options and bank.question(question_id).type != "truefalse":
            rng.shuffle(order)
        layout.append({"question": question_id, "order": order})
    return layout


def _view(attempt: QuizAttempt, quiz: QuizDefinition, bank: Bank) -> AttemptView:
    draft = json.loads(attempt.draft)
    questions = []
    for position, item in enumerate(json.loads(attempt.layout), start=1):
        question = bank.question(item["question"])
        questions.append(
            ShownQuestion(
                position=position,
                question_id=question.id,
                stem=question.stem,
                multiple=question.type == "multiple",
                points=question.points,
                options=tuple(question.options[index].text for index in item["order"]),
                selected=tuple(draft.get(question.id, [])),
            )
        )
    assert attempt.id is not None
    return AttemptView(attempt.id, quiz.id, quiz.title, attempt.number, tuple(questions))


def open_attempt(session: Session, user_id: int, quiz_id: str) -> QuizAttempt | None:
    return session.exec(
        select(QuizAttempt).where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.quiz_id == quiz_id,
            QuizAttempt.submitted_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()


def start_or_resume(store: Store, user_id: int, quiz_id: str, rng: random.Random | None = None) -> AttemptView:
    """The learner's unfinished attempt at this quiz, or a new one if attempts remain."""
    quiz, bank, version = versions.find_quiz(store, quiz_id)
    with store.session() as session:
        current = open_attempt(session, user_id, quiz_id)
        if current is not None:
            return _view(current, quiz, versions.bank_of(session.get(QuizBankVersion, current.bank_version_id)))
        done = session.exec(
            select(QuizAttempt).where(QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz_id)
        ).all()
        if quiz.attempts_allowed and len(done) >= quiz.attempts_allowed:
            raise QuizError(f"no attempts left: {quiz.title} allows {quiz.attempts_allowed}")
        layout = _layout(quiz, bank, _seen_questions(session, user_id, quiz_id), rng or random.SystemRandom())
        attempt = QuizAttempt(
            user_id=user_id,
            quiz_id=quiz_id,
            bank_version_id=version.id,
            number=len(done) + 1,
            layout=json.dumps(layout),
        )
        session.add(attempt)
        try:
            session.flush()
        except IntegrityError:  # a second tab started the same attempt a moment ago: use that one
            session.rollback()
            current = open_attempt(session, user_id, quiz_id)
            if current is None:
                raise
            return _view(current, quiz, versions.bank_of(session.get(QuizBankVersion, current.bank_version_id)))
        return _view(attempt, quiz, bank)


# --- answering and submitting ------------------------------------------------------------------


def _own_attempt(session: Session, user_id: int, attempt_id: int) -> QuizAttempt:
    # Through the API an id can be any JSON value; only a whole number names an attempt.
    known = isinstance(attempt_id, int) and not isinstance(attempt_id, bool) and 0 < attempt_id < 2**31
    attempt = session.get(QuizAttempt, attempt_id) if known else None
    # The same message for "not yours" and "does not exist": attempt ids reveal nothing.
    if attempt is None or attempt.user_id != user_id:
        raise QuizError(f"no attempt {attempt_id} for you")
    return attempt


def _clean_answers(layout: list[dict], bank: Bank, answers: dict[str, list[int]]) -> dict[str, list[int]]:
    """Check display positions against the layout; unknown questions or positions are refused."""
    sizes = {item["question"]: len(item["order"]) for item in layout}
    clean: dict[str, list[int]] = {}
    if not isinstance(answers, dict):
        raise QuizError("answers must map question ids to lists of option numbers")
    for question_id, positions in answers.items():
        if question_id not in sizes:
            raise QuizError(f"question {question_id!r} is not part of this attempt")
        if not isinstance(positions, list) or not all(type(p) is int for p in positions):
            raise QuizError(f"question {question_id!r}: give a list of option numbers, e.g. [2]")
        positions = sorted(set(positions))
        if any(not 1 <= p <= sizes[question_id] for p in positions):
            raise QuizError(f"question {question_id!r} has options 1 to {sizes[question_id]}")
        if len(positions) > 1 and bank.question(question_id).type != "multiple":
            raise QuizError(f"question {question_id!r} takes one answer")
        clean[question_id] = positions
    return clean


def save_draft(store: Store, user_id: int, attempt_id: int, answers: dict[str, list[int]]) -> None:
    with store.session() as session:
        attempt = _own_attempt(session, user_id, attempt_id)
        if attempt.submitted_at is not None:
            raise QuizError("this attempt is already submitted")
        bank = versions.bank_of(session.get(QuizBankVersion, attempt.bank_version_id))
        draft = json.loads(attempt.draft)
        draft.update(_clean_answers(json.loads(attempt.layout), bank, answers))
        attempt.draft = json.dumps(draft)
        session.add(attempt)


def submit(store: Store, user_id: int, attempt_id: int, answers: dict[str, list[int]] | None = None) -> AttemptResult:
    """Grade and store the attempt in one transaction. Submitting twice returns the first result."""
    with store.session() as session:
        attempt = _own_attempt(session, user_id, attempt_id)
        if attempt.submitted_at is None:
            version = session.get(QuizBankVersion, attempt.bank_version_id)
            bank = versions.bank_of(version)
            quiz = bank.quiz(attempt.quiz_id)
            layout = json.loads(attempt.layout)
            final = json.loads(attempt.draft)
            final.update(_clean_answers(layout, bank, answers or {}))
            total = earned = 0.0
            rows = []
            for position, item in enumerate(layout, start=1):
                question = bank.question(item["question"])
                selected = [item["order"][p - 1] for p in final.get(question.id, [])]
                mark = grade(question, selected)
                total += mark.max_score
                earned += mark.score
                rows.append(
                    AttemptAnswer(
                        attempt_id=attempt_id,
                        question_id=question.id,
                        position=position,
                        selected=json.dumps(sorted(selected)),
                        score=mark.score,
                        max_score=mark.max_score,
                    )
                )
            percent = round(100 * earned / total, 4) if total else 0.0
            # Only the request that flips submitted_at from NULL writes the answers; a concurrent
            # double submit finds rowcount 0 and falls through to reading the stored result.
            flipped = session.exec(
                update(QuizAttempt)
                .where(QuizAttempt.id == attempt_id, QuizAttempt.submitted_at.is_(None))  # type: ignore[union-attr]
                .values(
                    submitted_at=utcnow(),
                    score=earned,
                    max_score=total,
                    percent=percent,
                    passed=(percent >= quiz.pass_mark) if quiz.pass_mark else None,
                    draft=json.dumps(final),
                )
            )
            if flipped.rowcount == 1:
                session.add_all(rows)
    return review(store, user_id, attempt_id)


# --- reviewing ---------------------------------------------------------------------------------


def _revealed(when: str, quiz: QuizDefinition, attempts: list[QuizAttempt]) -> bool:
    submitted = [a for a in attempts if a.submitted_at is not None]
    if when == "immediately":
        return True
    if when == "after_pass":
        return any(a.passed for a in submitted)
    if when == "after_last_attempt":
        return bool(quiz.attempts_allowed) and len(submitted) >= quiz.attempts_allowed
    return False


def review(store: Store, user_id: int, attempt_id: int) -> AttemptResult:
    """A submitted attempt as the quiz's review options allow the learner to see it now."""
    with store.session() as session:
        attempt = _own_attempt(session, user_id, attempt_id)
        if attempt.submitted_at is None:
            raise QuizError("submit the attempt before reviewing it")
        bank = versions.bank_of(session.get(QuizBankVersion, attempt.bank_version_id))
        quiz = bank.quiz(attempt.quiz_id)
        attempts = list(
            session.exec(select(QuizAttempt).where(QuizAttempt.user_id == user_id, QuizAttempt.quiz_id == quiz.id))
        )
        answers = {
            row.question_id: row
            for row in session.exec(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))
        }
    show_score = _revealed(quiz.review.score, quiz, attempts)
    show_feedback = _revealed(quiz.review.feedback, quiz, attempts)
    show_key = _revealed(quiz.review.correct_answer, quiz, attempts)
    questions = []
    for position, item in enumerate(json.loads(attempt.layout), start=1):
        question = bank.question(item["question"])
        answer = answers.get(question.id)
        selected = set(json.loads(answer.selected)) if answer else set()
        key = set(question.key())
        options = tuple(
            ReviewedOption(
                text=question.options[index].text,
                chosen=index in selected,
                correct=(index in key) if show_key else None,
                # The chosen options' feedback (Moodle's rule); every option's once the key is out,
                # when the quiz asks for it — earlier it would give the key away.
                feedback=question.options[index].feedback
                if show_feedback and (index in selected or (show_key and quiz.review.option_feedback == "all"))
                else None,
            )
            for index in item["order"]
        )
        questions.append(
            ReviewedQuestion(
                position=position,
                question_id=question.id,
                stem=question.stem,
                score=answer.score if (answer and show_score) else (0.0 if show_score else None),
                max_score=question.points,
                options=options,
                general_feedback=question.general_feedback if show_feedback else None,
            )
        )
    assert attempt.submitted_at is not None and attempt.max_score is not None
    return AttemptResult(
        attempt_id=attempt_id,
        quiz_id=quiz.id,
        title=quiz.title,
        number=attempt.number,
        submitted_at=attempt.submitted_at,
        score=attempt.score if show_score else None,
        max_score=attempt.max_score,
        percent=attempt.percent if show_score else None,
        passed=attempt.passed if show_score else None,
        pass_mark=quiz.pass_mark,
        questions=tuple(questions),
    )


# --- grades across attempts --------------------------------------------------------------------


def overall_grade(method: str, percents: list[float]) -> float | None:
    """The quiz grade from the submitted attempts' percents, oldest first (Moodle's methods)."""
    if not percents:
        return None
    if method == "highest":
        return max(percents)
    if method == "last":
        return percents[-1]
    if method == "first":
        return percents[0]
    return sum(percents) / len(percents)


@dataclass(frozen=True)
class QuizSummary:
    quiz_id: str
    title: str
    attempts: int
    grade: float | None  # percent, by the quiz's grading method
    passed: bool | None
    attempt_ids: tuple[int, ...]


def summaries(store: Store, user_id: int) -> list[QuizSummary]:
    """One line per published quiz for this learner (only their own attempts are read)."""
    with store.session() as session:
        attempts = list(
            session.exec(
                select(QuizAttempt)
                .where(QuizAttempt.user_id == user_id, QuizAttempt.submitted_at.is_not(None))  # type: ignore[union-attr]
                .order_by(QuizAttempt.number)
            )
        )
    out = []
    for quiz in versions.published_quizzes(store):
        mine = [a for a in attempts if a.quiz_id == quiz.id]
        grade_percent = overall_grade(quiz.grading, [a.percent or 0.0 for a in mine])
        passed = None if grade_percent is None or not quiz.pass_mark else grade_percent >= quiz.pass_mark
        out.append(QuizSummary(quiz.id, quiz.title, len(mine), grade_percent, passed, tuple(a.id for a in mine)))
    return out


def gradebook_csv(store: Store) -> str:
    """One row per learner: each published quiz's grade (by its grading method), attempts, pass."""
    quizzes = versions.published_quizzes(store)
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
            percent = overall_grade(quiz.grading, [a.percent or 0.0 for a in mine])
            row += ["" if percent is None else f"{percent:.1f}", len(mine)]
            if quiz.pass_mark:
                row.append("" if percent is None else ("yes" if percent >= quiz.pass_mark else "no"))
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula ("=HYPERLINK(…)") is kept as text."""
    return f"'{value}" if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")) else value
