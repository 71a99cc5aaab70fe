"""The line of learners waiting for the one advisor model, first come first served, each with
their place in it.

The model writes one answer at a time (each backend holds a lock). When several learners ask at
once, the second waits for the first answer to finish; without a line they see nothing happen
for several seconds and cannot tell a wait from a hang. With it, each advisor turn takes a place
before it calls the model and reports "N answers ahead of yours" until its turn comes
(``turn.Queued``). The place is given up when the turn ends, however it ends: an answer, an
error, or a learner who closed the page (Gradio closes the turn's generator).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Place:
    """One turn's place in the line."""

    def __init__(self, line: ModelLine) -> None:
        self._line = line

    def ahead(self) -> int:
        """How many turns are ahead of this one (0: this turn is the model's)."""
        return self._line._ahead(self)

    def waits(self) -> Iterator[int]:
        """The number ahead each time it changes while this turn waits; ends when it is its turn."""
        shown = None
        while True:
            ahead = self._line._ahead_after_change(self, shown)
            if not ahead:
                return
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

    def _ahead_after_change(self, place: Place, shown: int | None) -> int:
        """The number ahead of ``place``, once it differs from ``shown`` (or is 0)."""
        with self._changed:
            ahead = self._places.index(place)
            while ahead and ahead == shown:
                self._changed.wait()
                ahead = self._places.index(place)
            return ahead
