"""Item analysis for a quiz, with Moodle's formulas.

Per question i over s attempts (x = the question's marks, T = attempt totals, R = T - x):

- facility F = mean(x) / max(x_i), in %: how easy the question was;
- discrimination index DI = 100 · corr(x, R): do the learners who did well on the *rest* of the
  test also get this one right?
- discriminative efficiency DE = 100 · cov(x, R) / cov_max, where cov_max is the covariance
  of x and R each sorted ascending — DI relative to the best possible for this difficulty.
  Moodle flags a question whose DE is below 15%. Moodle divides a negative covariance by cov_max
  too, which can fall below -100% (x = 0,0,1 with R = 2,3,0 gives -125%): here a negative
  covariance is divided by the most negative one possible (x ascending, R descending), so DE
  stays within ±100% and -100% means "as badly as these marks allow".

For the whole test: Cronbach's alpha (Moodle's CIC) = k/(k-1) · (1 - Σ var(x_i) / var(T)), only
when every attempt saw the same questions (random draws make it undefined).

Which attempts: like Moodle's statistics report, one attempt per learner ("first" by default, or
"last" / "highest"), or "all". Items are listed in the quiz's question order.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import select

from tutor.quiz.bank import Bank
from tutor.quiz.versions import bank_of
from tutor.store import Store
from tutor.tables import AttemptAnswer, QuizAttempt, QuizBankVersion

DUBIOUS_DE = 15.0  # percent; below this Moodle marks the question for review
# Below this many analysed attempts the numbers are mostly noise (a correlation over 3 learners
# says nothing); the report warns and shows fewer digits.
RELIABLE_ATTEMPTS = 10


@dataclass(frozen=True)
class ItemStats:
    question_id: str
    attempts: int
    facility: float | None  # percent
    sd: float | None  # of the fraction scored, 0..1
    discrimination: float | None  # percent
    efficiency: float | None  # percent
    dubious: bool  # DE below 15% (or undefined with enough attempts)
    option_counts: dict[int, int]  # bank option index -> how many chose it


@dataclass(frozen=True)
class QuizStats:
    quiz_id: str
    attempts: int  # analysed: one per learner unless ``which`` is "all"
    which: str  # "first", "last", "highest" or "all"
    learners: int  # who have a submitted attempt
    submitted: int  # submitted attempts in all, analysed or not
    mean_percent: float | None
    median_percent: float | None
    cronbach_alpha: float | None  # 0..1; None when undefined
    items: list[ItemStats]
    note: str


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def analysed_label(stats: QuizStats) -> str:
    """Which attempts the numbers come from, for a report's heading (the web tab, the CLI): one
    per learner (first, last or highest) or all of them."""
    if stats.attempts == 0:
        return "no submitted attempts yet"
    if stats.which == "all":
        return f"{_plural(stats.attempts, 'attempt')} by {_plural(stats.learners, 'learner')}"
    return (
        f"{_plural(stats.learners, 'learner')}, {stats.which} attempt of each "
        f"({_plural(stats.submitted, 'attempt')} submitted)"
    )


def _cov(a: list[float], b: list[float]) -> float:
    mean_a, mean_b = statistics.fmean(a), statistics.fmean(b)
    return sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True)) / (len(a) - 1)


def item_stats(question_id: str, marks: list[float], rests: list[float], max_mark: float) -> tuple:
    """(facility, sd, DI, DE) for one question; None where too few attempts or no variance."""
    if not marks:
        return None, None, None, None
    facility = 100 * statistics.fmean(marks) / max_mark
    if len(marks) < 2:
        return facility, None, None, None
    sd = statistics.stdev([m / max_mark for m in marks])
    var_x, var_r = statistics.variance(marks), statistics.variance(rests)
    if var_x == 0 or var_r == 0:
        return facility, sd, None, None
    cov = _cov(marks, rests)
    di = 100 * cov / (var_x * var_r) ** 0.5
    return facility, sd, di, efficiency(marks, rests, cov)


def efficiency(marks: list[float], rests: list[float], cov: float) -> float | None:
    """DE in percent: ``cov`` over the most extreme covariance of the same sign that these marks
    and rests allow (sorted alike for a positive one, sorted oppositely for a negative one)."""
    best = _cov(sorted(marks), sorted(rests))
    worst = _cov(sorted(marks), sorted(rests, reverse=True))
    bound = best if cov >= 0 else -worst
    return 100 * cov / bound if bound > 0 else None


def cronbach_alpha(matrix: list[list[float]]) -> float | None:
    """Rows are attempts, columns questions (the same questions in every row)."""
    if len(matrix) < 2 or len(matrix[0]) < 2:
        return None
    k = len(matrix[0])
    columns = list(zip(*matrix, strict=True))
    total_var = statistics.variance([sum(row) for row in matrix])
    if total_var == 0:
        return None
    return k / (k - 1) * (1 - sum(statistics.variance(col) for col in columns) / total_var)


def pick_attempts(attempts: list[QuizAttempt], which: str) -> list[QuizAttempt]:
    """One attempt per learner (``attempts`` ordered by learner, then number), or all of them."""
    if which == "all":
        return attempts
    chosen: dict[int, QuizAttempt] = {}
    for attempt in attempts:
        best = chosen.get(attempt.user_id)
        if best is None or which == "last" or (which == "highest" and (attempt.percent or 0) > (best.percent or 0)):
            chosen[attempt.user_id] = attempt
    return list(chosen.values())


def question_order(quiz_id: str, banks: list[Bank], question_ids: set[str]) -> list[str]:
    """``question_ids`` in the quiz's order: its fixed questions, then drawn ones in bank order
    (``banks`` newest first, so an edited quiz shows its current order); ids no bank has left
    come last, numbers compared as numbers (q2 before q10)."""
    rank: dict[str, int] = {}
    for bank in banks:
        quiz = next((q for q in bank.quizzes if q.id == quiz_id), None)
        for question_id in (quiz.questions if quiz else []) + [q.id for q in bank.questions]:
            rank.setdefault(question_id, len(rank))
    return sorted(question_ids, key=lambda q: (rank.get(q, len(rank)), len(q), q))


def _load(
    store: Store, quiz_id: str, which: str
) -> tuple[list[QuizAttempt], list[QuizAttempt], list[AttemptAnswer], list[Bank]]:
    """The quiz's submitted attempts, the ones analysed, their answers and their banks."""
    with store.session() as session:
        submitted = list(
            session.exec(
                select(QuizAttempt)
                .where(QuizAttempt.quiz_id == quiz_id, QuizAttempt.submitted_at.is_not(None))  # type: ignore[union-attr]
                .order_by(QuizAttempt.user_id, QuizAttempt.number)
            )
        )
        attempts = pick_attempts(submitted, which)
        ids = [a.id for a in attempts]
        answers = list(session.exec(select(AttemptAnswer).where(AttemptAnswer.attempt_id.in_(ids)))) if ids else []  # type: ignore[union-attr]
        version_ids = {a.bank_version_id for a in attempts}
        stored = session.exec(select(QuizBankVersion).where(QuizBankVersion.id.in_(version_ids))) if ids else []  # type: ignore[union-attr]
        banks = [bank_of(v) for v in sorted(stored, key=lambda v: v.version, reverse=True)]
    return submitted, attempts, answers, banks


def _item(question_id: str, rows: list[tuple[AttemptAnswer, float]]) -> ItemStats:
    """One question's statistics from (answer, attempt total) pairs."""
    marks = [row.score for row, _ in rows]
    rests = [total - row.score for row, total in rows]
    facility, sd, di, de = item_stats(question_id, marks, rests, rows[0][0].max_score)
    counts: dict[int, int] = defaultdict(int)
    for row, _ in rows:
        for index in json.loads(row.selected):
            counts[index] += 1
    dubious = de is not None and de < DUBIOUS_DE
    return ItemStats(question_id, len(rows), facility, sd, di, de, dubious, dict(counts))


def quiz_stats(store: Store, quiz_id: str, which: str = "first") -> QuizStats:
    """Statistics over each learner's ``which`` attempt ("first", "last", "highest") or "all"."""
    submitted, attempts, answers, banks = _load(store, quiz_id, which)
    by_attempt: dict[int, dict[str, AttemptAnswer]] = defaultdict(dict)
    for answer in answers:
        by_attempt[answer.attempt_id][answer.question_id] = answer
    totals = {a.id: sum(row.score for row in by_attempt[a.id].values()) for a in attempts}
    question_ids = question_order(quiz_id, banks, {answer.question_id for answer in answers})
    items = [
        _item(q, [(by_attempt[a.id][q], totals[a.id]) for a in attempts if q in by_attempt[a.id]])
        for q in question_ids
    ]

    same_questions = len({frozenset(by_attempt[a.id]) for a in attempts}) == 1
    alpha = None
    note = ""
    if attempts and same_questions:
        alpha = cronbach_alpha([[by_attempt[a.id][q].score for q in question_ids] for a in attempts])
    elif attempts:
        note = "attempts saw different questions (random draws): Cronbach's alpha is not defined"
    if 0 < len(attempts) < RELIABLE_ATTEMPTS:
        note = (note + "; " if note else "") + (
            f"only {len(attempts)} attempts analysed: too few for reliable statistics "
            f"(below {RELIABLE_ATTEMPTS} they are mostly noise)"
        )
    percents = [a.percent or 0.0 for a in attempts]
    return QuizStats(
        quiz_id=quiz_id,
        attempts=len(attempts),
        which=which,
        learners=len({a.user_id for a in submitted}),
        submitted=len(submitted),
        mean_percent=statistics.fmean(percents) if percents else None,
        median_percent=statistics.median(percents) if percents else None,
        cronbach_alpha=alpha,
        items=items,
        note=note,
    )
