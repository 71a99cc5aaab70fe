"""The Instructor tab's helpers: what the tab shows is built here, the Gradio wiring stays thin."""

from __future__ import annotations

from labs.instructor_tab import chart_frame, instructor_lists, keep_pick, question_choices, stats_view
from tutor.core import Core, Viewer
from tutor.quiz.analysis import ItemStats, QuizStats


def test_the_lists_are_filled_and_a_bank_and_quiz_picked(core: Core) -> None:
    # Opening the tab fills the lists at once (module3 ships published) and picks the first bank
    # and quiz, so the question preview has a bank to list questions from.
    lists = instructor_lists(core, core.operator(), None, None)
    assert lists.banks == ["module3"] and lists.bank == "module3"
    assert [row[:3] for row in lists.rows] == [["module3", 1, "yes"]]
    assert "module-test" in lists.quizzes and lists.quiz == lists.quizzes[0]


def test_a_refresh_keeps_the_instructors_picks(core: Core) -> None:
    lists = instructor_lists(core, core.operator(), "module3", "module-test")
    assert (lists.bank, lists.quiz) == ("module3", "module-test")


def test_learners_get_no_lists(core: Core) -> None:
    # The load event runs for every visitor; a learner's page must get nothing (and no error).
    assert instructor_lists(core, Viewer(user_id=5, username="ada", role="learner"), None, None) is None


def test_a_picked_bank_previews_its_first_question(core: Core) -> None:
    ids, first = question_choices(core.newest_bank(core.operator(), "module3"))
    assert "l1-q1" in ids and "mt-q15" in ids and first == ids[0]
    assert question_choices(None) == ([], None)


def test_keep_pick() -> None:
    assert keep_pick("b", ["a", "b"]) == "b"
    assert keep_pick("gone", ["a", "b"]) == "a"
    assert keep_pick(None, []) is None


def _item(question_id: str, facility: float, efficiency: float | None) -> ItemStats:
    return ItemStats(question_id, 3, facility, 0.5, 40.0, efficiency, (efficiency or 0) < 15, {})


def _stats(attempts: int, learners: int, submitted: int, which: str = "first", note: str = "") -> QuizStats:
    items = [_item(f"mt-q{n}", 66.667, 12.5) for n in range(1, 12)]
    return QuizStats("module-test", attempts, which, learners, submitted, 80.0, 80.0, -1.0714, items, note)


def test_the_heading_says_what_was_analysed() -> None:
    # 5 attempts by carol (1), dan (3) and erin (1): one (the first) per learner is analysed.
    text, _rows, _plot = stats_view("module-test", _stats(3, 3, 5, note="only 3 attempts analysed: too few"))
    assert "3 learners, first attempt of each (5 attempts submitted)" in text
    assert "3 attempts ·" not in text
    every, _rows, _plot = stats_view("module-test", _stats(5, 3, 5, which="all"))
    assert "5 attempts by 3 learners" in every
    empty, rows, _plot = stats_view(
        "module-test", QuizStats("module-test", 0, "first", 0, 0, None, None, None, [], "")
    )
    assert "no submitted attempts yet" in empty and rows == []


def test_few_attempts_are_flagged_and_not_shown_precisely() -> None:
    text, rows, _plot = stats_view("module-test", _stats(3, 3, 5, note="only 3 attempts analysed: too few"))
    assert "⚠" in text and "too few" in text
    assert "alpha -1.07\n" in text  # two digits, not -1.071
    assert rows[0][2:5] == ["67", "40", "12"]  # whole percents
    _text, rows, _plot = stats_view("module-test", _stats(30, 30, 30))
    assert rows[0][2:5] == ["66.7", "40.0", "12.5"]


def test_the_chart_follows_the_quiz_order() -> None:
    stats = _stats(30, 30, 30)
    _text, _rows, plot = stats_view("module-test", stats)
    order = [f"mt-q{n}" for n in range(1, 12)]
    assert plot.sort == order  # an explicit category order: mt-q2 before mt-q10
    frame = chart_frame(stats)
    assert list(frame.question[:11]) == order and set(frame.measure) == {"facility", "efficiency"}


def test_undefined_efficiency_is_left_off_the_chart_not_drawn_as_zero() -> None:
    stats = QuizStats(
        "q", 30, "first", 30, 30, 50.0, 50.0, None, [_item("a", 100.0, None), _item("b", 50.0, 20.0)], ""
    )
    frame = chart_frame(stats)
    assert frame.to_dict("records") == [
        {"question": "a", "measure": "facility", "percent": 100.0},
        {"question": "b", "measure": "facility", "percent": 50.0},
        {"question": "b", "measure": "efficiency", "percent": 20.0},
    ]
