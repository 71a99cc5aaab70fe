"""One advisor answer at a time per learner.

The model answers one request at a time for the whole server (each backend holds a lock), so a
learner who sends ten messages from ten tabs, or a script, would make every other learner wait
behind all ten. A learner's second request while the first is being answered is refused at once
instead; the chat says so, and the first answer goes on.

A hold that was never released (a generator dropped before it ran, a thread that died) expires
after ``stale_s``, so no learner is locked out for longer than that.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tutor.advisors.base import AdvisorInputError


class LearnerBusy(AdvisorInputError):
    """The learner already has a request being answered."""


class OneAtATime:
    def __init__(self, what: str, *, stale_s: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what  # "an advisor answer", for the message
        self.stale_s = stale_s
        self._clock = clock
        self._held: dict[str, tuple[float, object]] = {}  # learner -> (when their request started, its token)
        self._lock = threading.Lock()

    def take(self, learner: str) -> Callable[[], None]:
        """Hold the learner's one slot; returns the function that releases it. LearnerBusy when held."""
        with self._lock:
            held = self._held.get(learner)
            if held is not None and self._clock() - held[0] < self.stale_s:
                raise LearnerBusy(
                    f"you already have {self.what} under way; wait for it to finish, then send this again"
                )
            mine = (self._clock(), object())
            self._held[learner] = mine

        def release() -> None:
            with self._lock:
                if self._held.get(learner) is mine:  # not a later hold that replaced a stale one
                    del self._held[learner]

        return release
