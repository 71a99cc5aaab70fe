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
- per name from anywhere: ``MAX_NAME_FAILURES`` wrong passwords for one name from any addresses
  lock it everywhere (guesses spread over many addresses);
- per address: after ``MAX_ADDRESS_FAILURES`` wrong passwords from one address within the window,
  that address is refused for every name (one guesser spreading guesses over many names). The
  limit is higher because a classroom behind one NAT shares an address. Gradio does not hand the
  request to the auth function, so :class:`LoginAddress` (ASGI middleware) puts the client's
  address in a context variable for the duration of each ``/login`` request. Behind a reverse
  proxy, start uvicorn with the proxy's address trusted (``FORWARDED_ALLOW_IPS``) so that the
  learner's address, not the proxy's, is counted.

An attempt counts as a failure from the moment it is let through, and is taken back when the
password is right, so guesses sent all at once cannot pass the limit while they wait for a check.
A refused attempt answers HTTP 429 with when to try again, not "incorrect credentials", so a
learner who mistyped knows to wait rather than to reset their password.

A changed password ends that user's sessions: ``tutor users passwd`` runs in another process, so
the server looks at the stored hashes every ``SWEEP_S`` seconds and drops the sessions (Gradio's
tokens) of every user whose hash changed or who was removed.
"""

from __future__ import annotations

import asyncio
import contextlib
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
MAX_NAME_FAILURES = 50  # one name from any addresses: guesses spread over many addresses stop here too
WINDOW_S = 15 * 60.0
SWEEP_S = 5.0

# The address of the client whose /login request is being handled ("" outside one).
CLIENT_ADDRESS: ContextVar[str] = ContextVar("client_address", default="")


class LoginAddress:
    """ASGI middleware: makes the client's address visible to :meth:`SignIn.check`."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].rstrip("/").endswith("/login"):  # "/login/" too
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
        # ("name", "ada@addr"), ("anywhere", "ada") or ("address", addr) -> times of failed attempts
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        self._slots: asyncio.Semaphore | None = None  # made in the server's event loop

    def locked(self, username: str, address: str = "") -> bool:
        """Too many recent wrong passwords for this name (from this address, or from anywhere), or
        from this address."""
        with self._lock:
            return self._wait_s(username.strip().lower(), address) > 0

    async def check(self, username: str, password: str) -> bool:
        """What Gradio awaits (a bound coroutine function, so ``inspect`` sees it as one). Raises
        HTTP 429 for a name or address that is locked, without checking the password."""
        key = (username or "").strip().lower()  # "Ada" and "ada" share one count of guesses
        address = CLIENT_ADDRESS.get()
        with self._lock:
            wait = self._wait_s(key, address)
            if wait <= 0:
                # Counted as a failure *before* the check and taken back if the password is right:
                # sixty guesses sent at once would otherwise all pass the limit while they wait.
                attempt = self._clock()
                for counted, _ in self._limits(key, address):
                    self._failures.setdefault(counted, deque()).append(attempt)
        if wait > 0:
            minutes = max(1, math.ceil(wait / 60))
            raise HTTPException(
                status_code=429,
                detail=f"Too many wrong passwords; sign-in is paused for about {minutes} min. "
                "Ask your instructor if you have forgotten your password.",
            )
        if self._slots is None:
            self._slots = asyncio.Semaphore(CONCURRENT_CHECKS)
        ok: bool | None = None  # None: the check itself failed (the database away), not a wrong guess
        try:
            async with self._slots:
                ok = await anyio.to_thread.run_sync(self._check, username, password)
        finally:
            with self._lock:
                if ok is not False:
                    for counted, _ in self._limits(key, address):
                        with contextlib.suppress(ValueError):
                            self._failures.get(counted, deque()).remove(attempt)
                if ok:
                    self._failures.pop(_name_key(key, address), None)  # this name here starts afresh
                if len(self._failures) > 10_000:  # many addresses guessing: forget what left the window
                    for old in list(self._failures):
                        self._recent(old)
        return ok

    @staticmethod
    def _limits(username: str, address: str) -> list[tuple[tuple[str, str], int]]:
        """The counts an attempt adds to, with their limits (an empty address is not counted)."""
        limits = [(_name_key(username, address), MAX_FAILURES), (("anywhere", username), MAX_NAME_FAILURES)]
        return limits + ([(("address", address), MAX_ADDRESS_FAILURES)] if address else [])

    def _wait_s(self, username: str, address: str) -> float:
        """Seconds until this name and address may try again (0: now); call with the lock held."""
        waits = [0.0]
        for key, most in self._limits(username, address):
            failures = self._recent(key)
            if len(failures) >= most:
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
