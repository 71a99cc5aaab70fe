"""The line of learners waiting for the one advisor model, first come first served, each with
their place in it.

A local model writes one answer at a time (each local backend holds a lock; an OpenAI-compatible
server batches requests, so it gets no line: ``Core.model_line`` is None there). When several learners ask at
once, the second waits for the first answer to finish; without a line they see nothing happen
for several seconds and cannot tell a wait from a hang. With it, each advisor turn takes a place
before it calls the model and reports "N answers ahead of yours" until its turn comes
(``turn.Queued``). The place is given up when the turn ends, however it ends: an answer, an
error, or a learner who closed the page (Gradio closes the turn's generator).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tutor.llm.base import LLMError

# A waiting turn reports its place at least this often, even unchanged: a turn whose page was
# closed can then be ended between two reports instead of sleeping until its turn comes.
HEARTBEAT_S = 5.0
# Past this, a waiting turn gives up with an LLMError (the learner reads that the model is busy,
# and the rules' recommendation stands): a turn that holds the model and never ends must not
# hold the whole class.
WAIT_LIMIT_S = 600.0


class Place:
    """One turn's place in the line."""

    def __init__(self, line: ModelLine) -> None:
        self._line = line

    def ahead(self) -> int:
        """How many turns are ahead of this one (0: this turn is the model's)."""
        return self._line._ahead(self)

    def waits(self, limit_s: float = WAIT_LIMIT_S) -> Iterator[int]:
        """The number ahead while this turn waits, each time it changes and at least every
        HEARTBEAT_S; ends when it is this turn's, or raises LLMError after ``limit_s``."""
        shown, deadline = None, time.monotonic() + limit_s
        while True:
            ahead = self._line._ahead_after_change(self, shown, min(HEARTBEAT_S, limit_s))
            if not ahead:
                return
            if time.monotonic() > deadline:
                raise LLMError(f"the advisor model is busy: {ahead} answer(s) still ahead after {limit_s:.0f} s")
            shown = ahead
            yield ahead


class ModelLine:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._places: list[Place] = []  # in arrival order; the first is the model's

    @contextmanager
    def place(self) -> Iterator[Place]:
        """A place at the end of the line, held until the ``with`` block ends."""
        place = Place(self)
        with self._changed:
            self._places.append(place)
        try:
            yield place
        finally:
            with self._changed:
                self._places.remove(place)
                self._changed.notify_all()

    def waiting(self) -> int:
        """Turns in the line, the one the model is writing included."""
        with self._changed:
            return len(self._places)

    def _ahead(self, place: Place) -> int:
        with self._changed:
            return self._places.index(place)

    def _ahead_after_change(self, place: Place, shown: int | None, timeout_s: float) -> int:
        """The number ahead of ``place`` once it differs from ``shown`` (or is 0), or after
        ``timeout_s`` whatever it is."""
        with self._changed:
            self._changed.wait_for(lambda: self._places.index(place) != shown or not shown, timeout_s)
            return self._places.index(place)
