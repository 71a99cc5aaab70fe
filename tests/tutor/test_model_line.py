"""The line of learners waiting for the advisor model: first come first served, each told how many
answers are ahead, and a place given up however its turn ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tutor.llm.base import LLMError
from tutor.llm.line import ModelLine


def _until(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_each_place_counts_the_answers_ahead_until_its_turn() -> None:
    line = ModelLine()
    first_entered, first_done = threading.Event(), threading.Event()

    def first() -> None:  # being answered until first_done
        with line.place():
            first_entered.set()
            first_done.wait(5)

    def second() -> Iterator[int | str]:  # a turn as a generator, like the advisor's
        with line.place() as place:
            yield from place.waits()
            yield "its turn"

    seen: list[int] = []

    def third() -> None:
        with line.place() as place:
            seen.extend(place.waits())

    answering = threading.Thread(target=first)
    answering.start()
    assert first_entered.wait(5)
    waiting = second()
    assert next(waiting) == 1  # one answer ahead
    last = threading.Thread(target=third)
    last.start()
    assert _until(lambda: seen == [2]) and line.waiting() == 3
    first_done.set()
    answering.join(5)
    assert next(waiting) == "its turn"
    assert _until(lambda: seen == [2, 1])  # moved up one place, and told so
    waiting.close()  # the learner closed the page mid-answer: the place is given up
    last.join(5)
    assert not last.is_alive() and seen == [2, 1] and line.waiting() == 0


def test_a_place_is_given_up_when_its_turn_raises() -> None:
    line = ModelLine()
    with pytest.raises(RuntimeError), line.place():
        raise RuntimeError("the model failed")
    with line.place() as place:
        assert place.ahead() == 0 and list(place.waits()) == []


def test_a_turn_closed_while_waiting_gives_up_its_place() -> None:
    """A learner who closes the page while waiting: those behind move up at once."""
    line = ModelLine()

    def turn() -> Iterator[int]:
        with line.place() as place:
            yield from place.waits()

    with line.place():  # the answer being written
        waiting = turn()
        assert next(waiting) == 1
        seen: list[int] = []
        behind = threading.Thread(target=lambda: seen.extend(_first_two_places(line)))
        behind.start()
        assert _until(lambda: seen == [2])
        waiting.close()
        assert _until(lambda: seen == [2, 1])
    behind.join(5)
    assert line.waiting() == 0


def _first_two_places(line: ModelLine) -> Iterator[int]:
    with line.place() as place:
        places = place.waits()
        yield next(places)
        yield next(places)


def test_a_turn_that_waits_too_long_is_told_the_model_is_busy() -> None:
    """A turn that never ends must not hold the class: the others give up with an LLMError, which
    the advisor turns into "the model could not answer" beside the rules' recommendation."""
    line = ModelLine()
    with line.place(), line.place() as second, pytest.raises(LLMError, match="the advisor model is busy: 1 answer"):
        list(second.waits(limit_s=0.2))
