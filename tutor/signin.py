"""Sign-in for class mode: the password check Gradio's ``/login`` awaits.

Argon2 is slow on purpose (tens of milliseconds of CPU per check). Gradio calls a plain auth
function inside its async ``/login`` handler, so every page of every learner waited while a check
ran, and a burst of logins stalled the class. Here the check runs in a worker thread, at most
``CONCURRENT_CHECKS`` at a time, and guesses are throttled per user name: after
``MAX_FAILURES`` wrong passwords within ``WINDOW_S`` the name is refused without a check until
the oldest failure leaves the window (a right password included, so guessing gains nothing).

A changed password ends that user's sessions: ``tutor users passwd`` runs in another process, so
the server looks at the stored hashes every ``SWEEP_S`` seconds and drops the sessions (Gradio's
tokens) of every user whose hash changed or who was removed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable

import anyio

CONCURRENT_CHECKS = 2
MAX_FAILURES = 5
WINDOW_S = 15 * 60.0
SWEEP_S = 5.0


class SignIn:
    def __init__(self, check: Callable[[str, str], bool], *, clock: Callable[[], float] = time.monotonic) -> None:
        """``check(username, password)``: the password check itself (``Core.authenticate``)."""
        self._check = check
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._slots: asyncio.Semaphore | None = None  # made in the server's event loop

    def locked(self, username: str) -> bool:
        """Too many recent wrong passwords for this name."""
        with self._lock:
            return len(self._recent(username.strip().lower())) >= MAX_FAILURES

    async def check(self, username: str, password: str) -> bool:
        """What Gradio awaits (a bound coroutine function, so ``inspect`` sees it as one)."""
        key = (username or "").strip().lower()  # "Ada" and "ada" share one count of guesses
        if self.locked(key):
            return False
        if self._slots is None:
            self._slots = asyncio.Semaphore(CONCURRENT_CHECKS)
        async with self._slots:
            ok = await anyio.to_thread.run_sync(self._check, username, password)
        with self._lock:
            if ok:
                self._failures.pop(key, None)
            else:
                self._recent(key).append(self._clock())
        return ok

    def _recent(self, username: str) -> deque[float]:
        failures = self._failures.setdefault(username, deque())
        while failures and failures[0] <= self._clock() - WINDOW_S:
            failures.popleft()
        return failures


class SessionSweeper:
    def __init__(self, hashes: Callable[[], dict[str, str]]) -> None:
        """``hashes()``: every user's stored password hash (``accounts.password_hashes``)."""
        self._hashes = hashes
        self._seen = hashes()

    def sweep(self, tokens: dict[str, str]) -> list[str]:
        """Drop from ``tokens`` (session token -> user name) the sessions of users whose password
        changed since the last sweep; returns those users."""
        now = self._hashes()
        changed = {user for user, digest in self._seen.items() if now.get(user) != digest}
        for token, user in list(tokens.items()):
            if user in changed:
                tokens.pop(token, None)
        self._seen = now
        return sorted(changed)

    def run(self, tokens: Callable[[], dict[str, str] | None], stop: threading.Event) -> None:
        """Sweep every SWEEP_S seconds until ``stop`` is set (a daemon thread of the server)."""
        while not stop.wait(SWEEP_S):
            current = tokens()
            if current is None:
                continue
            try:
                self.sweep(current)
            except Exception:  # the database away for a moment (or closed at shutdown): try again later
                continue
