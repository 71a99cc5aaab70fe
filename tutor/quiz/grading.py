"""Scoring one answer. Pure functions: the same inputs always give the same marks.

Weights are percentages of the question's points (Moodle's "grade" per answer):
- single / true-false: the chosen option's weight; no choice scores 0;
- multiple: the sum of the chosen options' weights, so picking every right option gives 100%
  and each wrong pick with a negative weight takes credit away; clamped to 0..100%.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutor.quiz.bank import Question


@dataclass(frozen=True)
class Mark:
    score: float  # points earned
    max_score: float  # the question's points
    correct: bool  # full marks

    @property
    def fraction(self) -> float:
        return self.score / self.max_score if self.max_score else 0.0


def grade(question: Question, selected: list[int]) -> Mark:
    """Mark ``selected`` (option indices in the bank's order) for ``question``."""
    chosen = sorted(set(selected))
    if any(not 0 <= index < len(question.options) for index in chosen):
        raise ValueError(f"option index out of range for question {question.id!r}")
    if question.type != "multiple" and len(chosen) > 1:
        raise ValueError(f"question {question.id!r} takes one answer, got {len(chosen)}")
    percent = sum(question.options[index].weight for index in chosen)
    percent = max(0.0, min(100.0, percent))
    score = round(question.points * percent / 100, 6)
    return Mark(score=score, max_score=question.points, correct=percent >= 100 - 1e-9)
