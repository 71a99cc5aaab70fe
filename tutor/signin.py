"""Sign-in for class mode: the password check Gradio's ``/login`` awaits.

Argon2 is slow on purpose (tens of milliseconds of CPU per check). Gradio calls a plain auth
function inside its async ``/login`` handler, so every page of every learner waited while a check
ran, and a burst of logins stalled the class. Here the check runs in a worker thread, at most
``CONCURRENT_CHECKS`` at a time, and guesses are throttled:

- per user name and address: after ``MAX_FAILURES`` wrong passwords for a name from one address
  within ``WINDOW_S``, that name is refused from that address without a check until the oldest
  failure leaves the window (a right password included, so guessing gains nothing). Counting
  per name *and* address means a classmate who guesses at ada's account locks only their own
  address out of it, not ada at hers;
- per address: after ``MAX_ADDRESS_FAILURES`` wrong passwords from one address within the window,
  that address is refused for every name (one guesser spreading guesses over many names). The
  limit is higher because a classroom behind one NAT shares an address. Gradio does not hand the
  request to the auth function, so :class:`LoginAddress` (ASGI middleware) puts the client's
  address in a context variable for the duration of each ``/login`` request. Behind a reverse
  proxy, start uvicorn with the proxy's address trusted (``FORWARDED_ALLOW_IPS``) so that the
  learner's address, not the proxy's, is counted.

A refused attempt answers HTTP 429 with when to try again, not "incorrect credentials", so a
learner who mistyped knows to wait rather than to reset their password.

A changed password ends that user's sessions: ``tutor users passwd`` runs in another process, so
the server looks at the stored hashes every ``SWEEP_S`` seconds and drops the sessions (Gradio's
tokens) of every user whose hash changed or who was removed.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar

import anyio
from fastapi import HTTPException

CONCURRENT_CHECKS = 2
MAX_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
WINDOW_S = 15 * 60.0
SWEEP_S = 5.0

# The address of the client whose /login request is being handled ("" outside one).
CLIENT_ADDRESS: ContextVar[str] = ContextVar("client_address", default="")


class LoginAddress:
    """ASGI middleware: makes the client's address visible to :meth:`SignIn.check`."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/login"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = CLIENT_ADDRESS.set(client[0] if client else "")
        try:
            await self.app(scope, receive, send)
        finally:
            CLIENT_ADDRESS.reset(token)


class SignIn:
    def __init__(self, check: Callable[[str, str], bool], *, clock: Callable[[], float] = time.monotonic) -> None:
        """``check(username, password)``: the password check itself (``Core.authenticate``)."""
        self._check = check
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}  # ("name", "ada@addr") or ("address", addr)
        self._lock = threading.Lock()
        self._slots: asyncio.Semaphore | None = None  # made in the server's event loop

    def locked(self, username: str, address: str = "") -> bool:
        """Too many recent wrong passwords for this name from this address, or from this address."""
        return self._wait_s(username.strip().lower(), address) > 0

    async def check(self, username: str, password: str) -> bool:
        """What Gradio awaits (a bound coroutine function, so ``inspect`` sees it as one). Raises
        HTTP 429 for a name or address that is locked, without checking the password."""
        key = (username or "").strip().lower()  # "Ada" and "ada" share one count of guesses
        address = CLIENT_ADDRESS.get()
        wait = self._wait_s(key, address)
        if wait > 0:
            minutes = max(1, math.ceil(wait / 60))
            raise HTTPException(
                status_code=429,
                detail=f"Too many wrong passwords; sign-in is paused for about {minutes} min. "
                "Ask your instructor if you have forgotten your password.",
            )
        if self._slots is None:
            self._slots = asyncio.Semaphore(CONCURRENT_CHECKS)
        async with self._slots:
            ok = await anyio.to_thread.run_sync(self._check, username, password)
        with self._lock:
            if ok:
                self._failures.pop(_name_key(key, address), None)  # the address's own count stays
            else:
                now = self._clock()
                for failed in (_name_key(key, address), ("address", address)):
                    if failed[1]:  # outside a /login request there is no address to count
                        self._failures.setdefault(failed, deque()).append(now)
                if len(self._failures) > 10_000:  # many addresses guessing: forget what left the window
                    for old in list(self._failures):
                        self._recent(old)
        return ok

    def _wait_s(self, username: str, address: str) -> float:
        """Seconds until this name and address may try again (0: now)."""
        with self._lock:
            waits = [0.0]
            limits = ((_name_key(username, address), MAX_FAILURES), (("address", address), MAX_ADDRESS_FAILURES))
            for key, most in limits:
                failures = self._recent(key)
                if key[1] and len(failures) >= most:
                    waits.append(failures[-most] + WINDOW_S - self._clock())
            return max(waits)

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        """The failures within the window; a key whose failures all left it is forgotten, so
        guesses over millions of made-up names do not pile up in memory."""
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= self._clock() - WINDOW_S:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures


def _name_key(username: str, address: str) -> tuple[str, str]:
    return ("name", f"{username}@{address}" if address else username)


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
