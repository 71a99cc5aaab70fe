"""The shipped module 3 bank, as the tests read it, and the answers a perfect learner gives."""

from __future__ import annotations

from dataclasses import asdict

from tutor.quiz.attempts import AttemptView
from tutor.quiz.bank import load_bank
from tutor.settings import PROJECT_ROOT

BANK = load_bank(PROJECT_ROOT / "quizzes" / "module3.yaml")


def right_positions(view: AttemptView | dict) -> dict[str, list[int]]:
    """The right answers as display positions (what a perfect learner would click), for an
    attempt from the core or its JSON from the app's ``/quiz_start``."""
    questions = view["questions"] if isinstance(view, dict) else [asdict(q) for q in view.questions]
    answers = {}
    for shown in questions:
        question = BANK.question(shown["question_id"])
        key_texts = {question.options[i].text for i in question.key()}
        answers[shown["question_id"]] = [n for n, text in enumerate(shown["options"], start=1) if text in key_texts]
    return answers
