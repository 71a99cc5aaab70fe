"""Attempts on a real database: layout fixed per attempt, drafts resume, submit is graded once
(also under concurrent double submits), review options are honoured, and learners are isolated."""

from __future__ import annotations

import json
import random
from dataclasses import asdict

import pytest

from tests.conftest import run_concurrently
from tests.data.quiz_bank import BANK, right_positions
from tutor import accounts
from tutor.quiz import attempts, versions
from tutor.quiz.bank import Option, Question
from tutor.quiz.grading import grade
from tutor.store import open_store


@pytest.fixture
def store(database_url: str):
    store = open_store(database_url)
    version = versions.save(store, BANK, "module3.yaml")
    versions.publish(store, version.id)
    yield store
    store.close()


@pytest.fixture
def ada(store) -> int:
    return accounts.add_user(store, "ada", "ada-password").id


# --- grading ---------------------------------------------------------------------------------


def test_single_choice_grading() -> None:
    question = BANK.question("l3-q1")
    (key,) = question.key()
    assert grade(question, [key]).correct and grade(question, [key]).score == 1
    wrong = next(i for i in range(4) if i != key)
    assert grade(question, [wrong]).score == 0 and not grade(question, []).correct
    with pytest.raises(ValueError, match="takes one answer"):
        grade(question, [key, wrong])


def test_multiple_answer_partial_credit_and_floor() -> None:
    question = BANK.question("x-memory-savers")  # three right (1/3 each), one wrong (-50%)
    assert grade(question, [0, 1, 2]).correct
    assert grade(question, [0]).fraction == pytest.approx(0.3334)
    assert grade(question, [0, 3]).score == 0  # 33% - 50% floors at 0
    assert grade(question, [0, 1, 3]).fraction == pytest.approx(0.1667, abs=1e-3)


def test_single_choice_with_partial_credit_option() -> None:
    question = Question(
        id="p",
        stem="s",
        options=[Option(text="a", weight=100), Option(text="b", weight=50), Option(text="c")],
        points=2,
    )
    assert grade(question, [1]).score == 1.0


# --- attempts --------------------------------------------------------------------------------


def test_view_holds_no_key_or_feedback(store, ada: int) -> None:
    view = attempts.start_or_resume(store, ada, "module-test", random.Random(1))
    sent = json.dumps(asdict(view))
    for question in BANK.questions:
        for option in question.options:
            if option.feedback:
                assert option.feedback not in sent
        if question.general_feedback:
            assert question.general_feedback not in sent
    assert '"weight"' not in sent and '"correct"' not in sent and '"feedback"' not in sent
    assert len(view.questions) == 15


def test_layout_is_fixed_and_resumes_with_the_draft(store, ada: int) -> None:
    first = attempts.start_or_resume(store, ada, "lesson-3", random.Random(7))
    attempts.save_draft(store, ada, first.attempt_id, {"l3-q1": [2]})
    again = attempts.start_or_resume(store, ada, "lesson-3", random.Random(99))  # e.g. after a page reload
    assert again.attempt_id == first.attempt_id
    assert [q.options for q in again.questions] == [q.options for q in first.questions]
    assert again.questions[0].selected == (2,)


def test_options_are_shuffled_per_attempt(store, ada: int) -> None:
    orders = set()
    for seed in range(6):
        view = attempts.start_or_resume(store, ada, "module-test", random.Random(seed))
        orders.add(view.questions[0].options)
        attempts.submit(store, ada, view.attempt_id, {}) if view.number < 3 else None
        if view.number == 3:
            break
    assert len(orders) > 1


def test_perfect_submission_passes_and_shows_everything(store, ada: int) -> None:
    view = attempts.start_or_resume(store, ada, "module-test", random.Random(3))
    result = attempts.submit(store, ada, view.attempt_id, right_positions(view))
    assert (result.score, result.max_score, result.percent, result.passed) == (15, 15, 100, True)
    chosen = [option for question in result.questions for option in question.options if option.chosen]
    assert len(chosen) == 15 and all(option.correct and option.feedback for option in chosen)
    # Once passed, the key is out, so every option explains itself (the README's "feedback on every option")
    assert all(option.feedback for question in result.questions for option in question.options)


def test_lesson_quiz_review_explains_every_option(store, ada: int) -> None:
    view = attempts.start_or_resume(store, ada, "lesson-3", random.Random(8))
    result = attempts.submit(store, ada, view.attempt_id, {})
    assert all(option.feedback and option.correct is not None for q in result.questions for option in q.options)


def test_failing_module_test_hides_the_key_until_a_pass(store, ada: int) -> None:
    view = attempts.start_or_resume(store, ada, "module-test", random.Random(4))
    answers = right_positions(view)
    for question_id in list(answers)[:4]:  # 11/15 = 73% < 80%
        answers[question_id] = [1 if answers[question_id] != [1] else 2]
    result = attempts.submit(store, ada, view.attempt_id, answers)
    assert result.percent == pytest.approx(73.3333, abs=1e-3) and result.passed is False
    assert all(option.correct is None for q in result.questions for option in q.options)  # key: after_pass
    assert all(bool(option.feedback) == option.chosen for q in result.questions for option in q.options)
    assert all(q.general_feedback for q in result.questions if BANK.question(q.question_id).general_feedback)


def test_submit_is_idempotent(store, ada: int) -> None:
    view = attempts.start_or_resume(store, ada, "lesson-1", random.Random(5))
    first = attempts.submit(store, ada, view.attempt_id, right_positions(view))
    second = attempts.submit(store, ada, view.attempt_id, {})  # a double click with other data
    assert second.score == first.score == 4 and second.submitted_at == first.submitted_at


def test_concurrent_double_submit_stores_one_graded_attempt(store, ada: int) -> None:
    view = attempts.start_or_resume(store, ada, "lesson-2", random.Random(6))
    answers = right_positions(view)
    outcomes = run_concurrently(lambda: attempts.submit(store, ada, view.attempt_id, answers))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    results = [o for o in outcomes if not isinstance(o, Exception)]
    assert errors == []
    assert {r.score for r in results} == {4.0}
    from sqlmodel import select

    from tutor.tables import AttemptAnswer

    with store.session() as session:
        rows = session.exec(select(AttemptAnswer).where(AttemptAnswer.attempt_id == view.attempt_id)).all()
    assert len(rows) == 4


def test_attempt_limit_and_grading_method(store, ada: int) -> None:
    percents = []
    for n in range(3):
        view = attempts.start_or_resume(store, ada, "module-test", random.Random(n))
        answers = right_positions(view) if n == 1 else {}
        percents.append(attempts.submit(store, ada, view.attempt_id, answers).percent)
    with pytest.raises(attempts.QuizError, match="no attempts left"):
        attempts.start_or_resume(store, ada, "module-test")
    summary = next(s for s in attempts.summaries(store, ada) if s.quiz_id == "module-test")
    assert percents == [0, 100, 0] and summary.grade == 100 and summary.passed and summary.attempts == 3
    assert attempts.overall_grade("last", percents) == 0
    assert attempts.overall_grade("first", percents) == 0
    assert attempts.overall_grade("average", percents) == pytest.approx(33.333, abs=1e-3)


def test_learners_cannot_touch_each_others_attempts(store, ada: int) -> None:
    bob = accounts.add_user(store, "bob", "bob-password").id
    view = attempts.start_or_resume(store, ada, "lesson-4")
    for call in (
        lambda: attempts.save_draft(store, bob, view.attempt_id, {}),
        lambda: attempts.submit(store, bob, view.attempt_id, {}),
    ):
        with pytest.raises(attempts.QuizError, match="no attempt"):
            call()
    attempts.submit(store, ada, view.attempt_id, {})
    with pytest.raises(attempts.QuizError, match="no attempt"):
        attempts.review(store, bob, view.attempt_id)
    assert all(s.attempts == 0 for s in attempts.summaries(store, bob))


def test_bad_answers_are_refused_and_nothing_is_stored(store, ada: int) -> None:
    view = attempts.start_or_resume(store, ada, "lesson-1")
    for answers, message in [
        ({"l1-q1": [9]}, "options 1 to 4"),
        ({"l2-q1": [1]}, "not part of this attempt"),
        ({"l1-q1": [1, 2]}, "takes one answer"),
        # What a script can send through the API: wrong types get the same clear refusal.
        ({"l1-q1": "2"}, "l1-q1': give a list of option numbers"),
        ({"l1-q1": ["b"]}, "l1-q1': give a list of option numbers"),
        ({"l1-q1": [True]}, "l1-q1': give a list of option numbers"),
        (["l1-q1"], "answers must map question ids to lists of option numbers"),
    ]:
        with pytest.raises(attempts.QuizError, match=message):
            attempts.submit(store, ada, view.attempt_id, answers)
    for attempt_id in ("not-a-number", {"x": "y"}, None, True, 1.5, 10**30, 2**31, -1):
        with pytest.raises(attempts.QuizError, match="no attempt"):
            attempts.submit(store, ada, attempt_id, {})
        with pytest.raises(attempts.QuizError, match="no attempt"):
            attempts.review(store, ada, attempt_id)
    assert attempts.start_or_resume(store, ada, "lesson-1").attempt_id == view.attempt_id  # still open


def test_random_draws_prefer_unseen_questions(store, ada: int) -> None:
    seen: list[set[str]] = []
    for n in range(2):
        view = attempts.start_or_resume(store, ada, "practice", random.Random(n))
        seen.append({q.question_id for q in view.questions})
        attempts.submit(store, ada, view.attempt_id, {})
    assert len(seen[0]) == len(seen[1]) == 9
    assert not seen[0] & seen[1]  # the pool is large enough for two disjoint attempts


def test_practice_never_shows_a_module_test_question(store, ada: int) -> None:
    """Practice reviews show right answers at once; before the fix 8 rounds held all 15 test items."""
    module_test = {f"mt-q{n}" for n in range(1, 16)}
    shown: set[str] = set()
    for n in range(12):
        view = attempts.start_or_resume(store, ada, "practice", random.Random(n))
        shown |= {q.question_id for q in view.questions}
        attempts.submit(store, ada, view.attempt_id, {})
    assert len(shown) >= 20 and not shown & module_test


def test_old_attempts_keep_the_bank_version_they_were_taken_on(store, ada: int) -> None:
    view = attempts.start_or_resume(store, ada, "lesson-1", random.Random(1))
    attempts.submit(store, ada, view.attempt_id, right_positions(view))
    changed = BANK.model_copy(deep=True)
    changed.questions[0].stem = "Reworded stem"
    versions.publish(store, versions.save(store, changed).id)
    old = attempts.review(store, ada, view.attempt_id)
    assert old.questions[0].stem == "What does LoRA do differently from full fine-tuning?"
    new = attempts.start_or_resume(store, ada, "lesson-1")
    assert new.questions[0].stem == "Reworded stem"


def test_saving_the_same_bank_twice_makes_no_new_version(store) -> None:
    again = versions.save(store, BANK)
    assert again.version == 1


def test_gradebook_cells_never_start_a_formula() -> None:
    assert attempts._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and attempts._cell("-2") == "'-2"
    assert attempts._cell("ada") == "ada" and attempts._cell(80.0) == 80.0


def test_a_question_left_unanswered_says_so_in_the_review(store, ada: int) -> None:
    """An unanswered question showed only "— 0/1", as if an answer had been marked wrong."""
    from labs.quiz_tab import render_result

    view = attempts.start_or_resume(store, ada, "lesson-2", random.Random(5))
    first = view.questions[0].question_id
    result = attempts.submit(store, ada, view.attempt_id, {first: right_positions(view)[first]})
    shown = render_result(result)
    assert shown.count("*not answered*") == len(result.questions) - 1
