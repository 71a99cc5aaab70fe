"""Item analysis for a quiz, with Moodle's formulas.

Per question i over s attempts (x = the question's marks, T = attempt totals, R = T - x):

- facility F = mean(x) / max(x_i), in %: how easy the question was;
- discrimination index DI = 100 · corr(x, R): do the learners who did well on the *rest* of the
  test also get this one right?
- discriminative efficiency DE = 100 · cov(x, R) / cov_max, where cov_max is the covariance
  of x and R each sorted ascending — DI relative to the best possible for this difficulty.
  Moodle flags a question whose DE is below 15%.

For the whole test: Cronbach's alpha (Moodle's CIC) = k/(k-1) · (1 - Σ var(x_i) / var(T)), only
when every attempt saw the same questions (random draws make it undefined).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import select

from tutor.store import Store
from tutor.tables import AttemptAnswer, QuizAttempt

DUBIOUS_DE = 15.0  # percent; below this Moodle marks the question for review


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
    attempts: int
    mean_percent: float | None
    median_percent: float | None
    cronbach_alpha: float | None  # 0..1; None when undefined
    items: list[ItemStats]
    note: str


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
    cov_max = _cov(sorted(marks), sorted(rests))
    de = 100 * cov / cov_max if cov_max > 0 else None
    return facility, sd, di, de


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


def quiz_stats(store: Store, quiz_id: str, which: str = "first") -> QuizStats:
    """Statistics over each learner's ``which`` attempt ("first", "last", "highest") or "all"."""
    with store.session() as session:
        attempts = list(
            session.exec(
                select(QuizAttempt)
                .where(QuizAttempt.quiz_id == quiz_id, QuizAttempt.submitted_at.is_not(None))  # type: ignore[union-attr]
                .order_by(QuizAttempt.user_id, QuizAttempt.number)
            )
        )
        if which != "all":
            chosen: dict[int, QuizAttempt] = {}
            for attempt in attempts:
                best = chosen.get(attempt.user_id)
                if (
                    best is None
                    or which == "last"
                    or (which == "highest" and (attempt.percent or 0) > (best.percent or 0))
                ):
                    chosen[attempt.user_id] = attempt
            attempts = list(chosen.values())
        ids = [a.id for a in attempts]
        answers = list(session.exec(select(AttemptAnswer).where(AttemptAnswer.attempt_id.in_(ids)))) if ids else []  # type: ignore[union-attr]

    by_attempt: dict[int, dict[str, AttemptAnswer]] = defaultdict(dict)
    for answer in answers:
        by_attempt[answer.attempt_id][answer.question_id] = answer
    totals = {a.id: sum(row.score for row in by_attempt[a.id].values()) for a in attempts}
    question_ids = sorted({answer.question_id for answer in answers}, key=lambda q: (len(q), q))
    items = []
    for question_id in question_ids:
        rows = [(by_attempt[a.id][question_id], totals[a.id]) for a in attempts if question_id in by_attempt[a.id]]
        marks = [row.score for row, _ in rows]
        rests = [total - row.score for row, total in rows]
        max_mark = rows[0][0].max_score
        facility, sd, di, de = item_stats(question_id, marks, rests, max_mark)
        counts: dict[int, int] = defaultdict(int)
        for row, _ in rows:
            for index in json.loads(row.selected):
                counts[index] += 1
        dubious = de is not None and de < DUBIOUS_DE
        items.append(ItemStats(question_id, len(rows), facility, sd, di, de, dubious, dict(counts)))

    same_questions = len({frozenset(by_attempt[a.id]) for a in attempts}) == 1
    alpha = None
    note = ""
    if attempts and same_questions:
        alpha = cronbach_alpha([[by_attempt[a.id][q].score for q in question_ids] for a in attempts])
    elif attempts:
        note = "attempts saw different questions (random draws): Cronbach's alpha is not defined"
    if 0 < len(attempts) < 10:
        note = (note + "; " if note else "") + f"only {len(attempts)} attempts: statistics are very noisy"
    percents = [a.percent or 0.0 for a in attempts]
    return QuizStats(
        quiz_id=quiz_id,
        attempts=len(attempts),
        mean_percent=statistics.fmean(percents) if percents else None,
        median_percent=statistics.median(percents) if percents else None,
        cronbach_alpha=alpha,
        items=items,
        note=note,
    )
