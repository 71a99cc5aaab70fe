"""Item analysis against hand-worked numbers, and on attempts stored through the real service."""

from __future__ import annotations

import random

import pytest

from tests.data.quiz_bank import BANK, right_positions
from tutor import accounts
from tutor.quiz import attempts, versions
from tutor.quiz.analysis import analysed_label, cronbach_alpha, item_stats, quiz_stats
from tutor.store import open_store

# Five attempts at three 1-point questions (rows: attempts).
MATRIX = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]]


def test_item_statistics_match_hand_calculation() -> None:
    marks = [row[0] for row in MATRIX]
    rests = [sum(row) - row[0] for row in MATRIX]  # the rest of the test, not the total
    facility, sd, di, de = item_stats("q1", marks, rests, 1.0)
    assert facility == pytest.approx(60.0)
    assert sd == pytest.approx(0.5477, abs=1e-4)  # sqrt(0.3)
    assert di == pytest.approx(32.733, abs=1e-3)  # 100 * 0.15 / sqrt(0.3 * 0.7)
    assert de == pytest.approx(37.5)  # 100 * 0.15 / 0.4


def test_cronbach_alpha_matches_hand_calculation() -> None:
    assert cronbach_alpha(MATRIX) == pytest.approx(0.576923, abs=1e-6)  # 3/2 * (1 - 0.8/1.3)
    assert cronbach_alpha([[1, 1], [1, 1]]) is None  # no variance in totals


def test_no_variance_gives_no_discrimination() -> None:
    facility, _sd, di, de = item_stats("q", [1, 1, 1], [0, 1, 2], 1.0)
    assert facility == 100 and di is None and de is None


@pytest.fixture
def class_store(database_url: str):
    store = open_store(database_url)
    versions.publish(store, versions.save(store, BANK).id)
    yield store
    store.close()


def test_quiz_stats_on_stored_attempts(class_store) -> None:
    # Learner n answers the first n questions of lesson 1 right: question 1 is the easiest.
    for n in range(5):
        user = accounts.add_user(class_store, f"learner{n}", "long-password").id
        view = attempts.start_or_resume(class_store, user, "lesson-1", random.Random(n))
        right = right_positions(view)
        answers = {}
        for shown in view.questions:
            if shown.position <= n:
                answers[shown.question_id] = right[shown.question_id]
            else:
                answers[shown.question_id] = [next(p for p in range(1, 5) if [p] != right[shown.question_id])]
        attempts.submit(class_store, user, view.attempt_id, answers)
    stats = quiz_stats(class_store, "lesson-1")
    assert stats.attempts == 5 and stats.mean_percent == pytest.approx(50.0)
    facilities = {item.question_id: item.facility for item in stats.items}
    assert facilities == {"l1-q1": 80.0, "l1-q2": 60.0, "l1-q3": 40.0, "l1-q4": 20.0}
    assert stats.cronbach_alpha == pytest.approx(0.8)  # 4/3 * (1 - (.2+.3+.3+.2) / 2.5)
    assert all(sum(item.option_counts.values()) == 5 for item in stats.items)
    assert "too few" in stats.note


def test_random_draws_leave_alpha_undefined(class_store) -> None:
    for n in range(3):
        user = accounts.add_user(class_store, f"p{n}", "long-password").id
        view = attempts.start_or_resume(class_store, user, "practice", random.Random(n))
        attempts.submit(class_store, user, view.attempt_id, {})
    stats = quiz_stats(class_store, "practice")
    assert stats.cronbach_alpha is None and "random draws" in stats.note


def test_discriminative_efficiency_stays_within_100_percent() -> None:
    # Three learners: the one who got the question right scored lowest on the rest. The covariance
    # is -5/6 while the best possible (marks and rests both sorted) is only +2/3: dividing by that
    # maximum, as Moodle does, gave -125%. This is the worst pairing these marks allow: -100%.
    marks, rests = [0.0, 0.0, 1.0], [2.0, 3.0, 0.0]
    _facility, _sd, di, de = item_stats("q", marks, rests, 1.0)
    assert di == pytest.approx(-94.491, abs=1e-3)
    assert de == pytest.approx(-100.0)
    # Half as bad as possible: covariance sum -1 against -2 with the rests in opposite order.
    assert item_stats("q", [0.0, 0.0, 1.0, 1.0], [3.0, 1.0, 2.0, 0.0], 1.0)[3] == pytest.approx(-50.0)
    # The positive side is Moodle's formula unchanged: cov / cov_max, at most 100.
    assert item_stats("q", [0.0, 0.0, 1.0], [0.0, 2.0, 3.0], 1.0)[3] == pytest.approx(100.0)


def test_discriminative_efficiency_is_bounded_on_every_small_pattern() -> None:
    import itertools

    for marks in itertools.product([0.0, 1.0], repeat=3):
        for rests in itertools.product([0.0, 1.0, 2.0, 3.0, 4.0], repeat=3):
            de = item_stats("q", list(marks), list(rests), 1.0)[3]
            assert de is None or -100.0 - 1e-9 <= de <= 100.0 + 1e-9, (marks, rests, de)


def test_quiz_stats_counts_learners_and_submitted_attempts(class_store) -> None:
    # carol 1 attempt, dan 3, erin 1: by default the statistics analyse each learner's first
    # attempt (Moodle's report offers first, last, highest or all), so 3 analysed of 5 submitted.
    for name, tries in [("carol", 1), ("dan", 3), ("erin", 1)]:
        user = accounts.add_user(class_store, name, "long-password").id
        for n in range(tries):
            view = attempts.start_or_resume(class_store, user, "lesson-1", random.Random(n))
            attempts.submit(class_store, user, view.attempt_id, right_positions(view) if n else {})
    stats = quiz_stats(class_store, "lesson-1")
    assert (stats.attempts, stats.learners, stats.submitted, stats.which) == (3, 3, 5, "first")
    assert analysed_label(stats) == "3 learners, first attempt of each (5 attempts submitted)"
    assert stats.mean_percent == 0  # everyone's first attempt was blank
    assert "too few" in stats.note
    every = quiz_stats(class_store, "lesson-1", which="all")
    assert (every.attempts, every.learners, every.submitted) == (5, 3, 5)
    assert analysed_label(every) == "5 attempts by 3 learners"


def test_items_follow_the_quizs_question_order(class_store) -> None:
    # A quiz listing its questions out of id order: the table and chart keep the quiz's order.
    bank = BANK.model_copy(deep=True)
    lesson_1 = bank.quiz("lesson-1")
    lesson_1.questions = ["l1-q4", "l1-q2", "l1-q1", "l1-q3"]
    versions.publish(class_store, versions.save(class_store, bank).id)
    user = accounts.add_user(class_store, "ada", "long-password").id
    view = attempts.start_or_resume(class_store, user, "lesson-1", random.Random(0))
    attempts.submit(class_store, user, view.attempt_id, {})
    ids = [item.question_id for item in quiz_stats(class_store, "lesson-1").items]
    assert ids == ["l1-q4", "l1-q2", "l1-q1", "l1-q3"]


def test_items_of_the_module_test_run_q1_to_q15(class_store) -> None:
    user = accounts.add_user(class_store, "ada", "long-password").id
    view = attempts.start_or_resume(class_store, user, "module-test", random.Random(0))
    attempts.submit(class_store, user, view.attempt_id, {})
    ids = [item.question_id for item in quiz_stats(class_store, "module-test").items]
    assert ids == [f"mt-q{n}" for n in range(1, 16)]  # not mt-q1, mt-q10, mt-q11, ...
