"""Sign-in (issue 15, item 6): Gradio awaits the check, the event loop stays free while Argon2
runs, and guesses are throttled per user name."""

from __future__ import annotations

import asyncio
import inspect
import time

import pytest
from fastapi import HTTPException

from tutor.signin import (
    CLIENT_ADDRESS,
    MAX_ADDRESS_FAILURES,
    MAX_FAILURES,
    MAX_NAME_FAILURES,
    WINDOW_S,
    SessionSweeper,
    SignIn,
)


def slow_check(username: str, password: str) -> bool:
    time.sleep(0.2)  # an Argon2 verify on a busy machine
    return (username, password) == ("ada", "correct horse")


def test_gradio_sees_a_coroutine_and_the_loop_keeps_serving_while_passwords_are_checked() -> None:
    signin = SignIn(slow_check)
    assert inspect.iscoroutinefunction(signin.check)  # else Gradio calls it inside its event loop

    async def scenario() -> tuple[list[bool], int]:
        ticks = 0

        async def other_pages() -> None:  # what every other learner's request needs: the loop
            nonlocal ticks
            for _ in range(40):
                await asyncio.sleep(0.01)
                ticks += 1

        logins = [signin.check("ada", "correct horse") for _ in range(4)]
        *results, _ = await asyncio.gather(*logins, other_pages())
        return results, ticks

    started = time.perf_counter()
    results, ticks = asyncio.run(scenario())
    assert results == [True] * 4 and ticks == 40
    # Four 0.2 s checks, two at a time: about 0.4 s. A blocking check would have held the loop 0.8 s.
    assert time.perf_counter() - started < 0.75


def test_guesses_are_throttled_per_name_and_the_window_passes() -> None:
    now = [1000.0]
    signin = SignIn(lambda u, p: (u, p) == ("ada", "correct horse"), clock=lambda: now[0])

    def login(username: str, password: str) -> bool:
        return asyncio.run(signin.check(username, password))

    for n in range(MAX_FAILURES):
        assert not login("ada", f"guess {n}")
    assert signin.locked("ada") and signin.locked("ADA")
    with pytest.raises(HTTPException) as refused:  # refused, unchecked: guessing on gains nothing
        login("ada", "correct horse")
    assert refused.value.status_code == 429 and "15 min" in refused.value.detail
    assert login("bob", "x") is False and not signin.locked("bob")  # other names are not affected
    now[0] += WINDOW_S + 1
    assert login("ada", "correct horse") and not signin.locked("ada")


def test_a_changed_password_ends_that_users_sessions() -> None:
    stored = {"ada": "hash-1", "bob": "hash-2", "grace": "hash-3"}
    sweeper = SessionSweeper(lambda: dict(stored))
    tokens = {"t1": "ada", "t2": "ada", "t3": "bob", "t4": "grace"}
    assert sweeper.sweep(tokens) == [] and len(tokens) == 4
    stored["ada"] = "hash-9"  # tutor users passwd ada
    del stored["grace"]  # a removed account
    assert sweeper.sweep(tokens) == ["ada", "grace"]
    assert tokens == {"t3": "bob"}
    tokens["t5"] = "ada"  # ada signs in again with the new password
    assert sweeper.sweep(tokens) == [] and tokens == {"t3": "bob", "t5": "ada"}


def test_guesses_are_throttled_per_address_across_names() -> None:
    now = [1000.0]
    checked: list[str] = []

    def check(username: str, password: str) -> bool:
        checked.append(username)
        return (username, password) == ("ada", "correct horse")

    signin = SignIn(check, clock=lambda: now[0])

    def login(username: str, password: str, address: str) -> bool:
        async def from_address() -> bool:
            CLIENT_ADDRESS.set(address)  # what LoginAddress does for each /login request
            return await signin.check(username, password)

        return asyncio.run(from_address())

    for n in range(MAX_ADDRESS_FAILURES):  # one guess per name: no name reaches its own limit
        assert not login(f"user{n}", "Summer2026!", "203.0.113.9")
    assert signin.locked("ada", "203.0.113.9") and not signin.locked("ada")
    with pytest.raises(HTTPException):
        login("ada", "correct horse", "203.0.113.9")
    assert checked[-1] == f"user{MAX_ADDRESS_FAILURES - 1}"  # the locked attempt never reached Argon2
    assert login("ada", "correct horse", "198.51.100.4")  # the rest of the class signs in
    now[0] += WINDOW_S + 1
    assert login("ada", "correct horse", "203.0.113.9")


def test_a_classmate_guessing_locks_only_their_own_address_out_of_the_account() -> None:
    signin = SignIn(lambda u, p: (u, p) == ("ada", "correct horse"))

    def login(password: str, address: str) -> bool:
        async def from_address() -> bool:
            CLIENT_ADDRESS.set(address)
            return await signin.check("ada", password)

        return asyncio.run(from_address())

    for n in range(MAX_FAILURES):
        assert not login(f"guess {n}", "192.0.2.66")
    assert signin.locked("ada", "192.0.2.66")
    with pytest.raises(HTTPException):
        login("correct horse", "192.0.2.66")
    assert not signin.locked("ada", "192.0.2.10") and login("correct horse", "192.0.2.10")  # ada, at her desk


def test_guesses_sent_all_at_once_cannot_pass_the_limit_while_they_wait() -> None:
    """Found in review: the limit was read before the wait for a check slot and the failure written
    after the check, so sixty parallel guesses were all checked."""
    checked: list[str] = []

    def slow_wrong(username: str, password: str) -> bool:
        checked.append(password)
        time.sleep(0.05)
        return False

    signin = SignIn(slow_wrong)

    async def burst() -> list:
        CLIENT_ADDRESS.set("203.0.113.9")
        return await asyncio.gather(*(signin.check("ada", f"guess {n}") for n in range(60)), return_exceptions=True)

    results = asyncio.run(burst())
    assert len(checked) == MAX_FAILURES
    assert sum(isinstance(r, HTTPException) and r.status_code == 429 for r in results) == 60 - MAX_FAILURES


def test_a_right_password_takes_back_its_count_and_guesses_from_many_addresses_still_stop() -> None:
    signin = SignIn(lambda u, p: p == "right")

    def login(username: str, password: str, address: str) -> bool:
        async def from_address() -> bool:
            CLIENT_ADDRESS.set(address)
            return await signin.check(username, password)

        return asyncio.run(from_address())

    for _ in range(30):  # thirty good sign-ins from one classroom address lock nothing
        assert login("ada", "right", "198.51.100.1")
    for n in range(MAX_NAME_FAILURES):  # one guess per address, never five from one
        assert not login("ada", "wrong", f"10.0.{n // 250}.{n % 250}")
    with pytest.raises(HTTPException):
        login("ada", "right", "198.51.100.1")  # the name itself is locked now, from anywhere
