"""Accounts: salted slow hashes, sign-in checks, and input validation."""

from __future__ import annotations

import pytest

from tests.conftest import run_concurrently
from tutor import accounts
from tutor.store import open_store


@pytest.fixture
def store(database_url: str):
    store = open_store(database_url)
    yield store
    store.close()


def test_passwords_are_stored_as_salted_argon2_hashes(store) -> None:
    ada = accounts.add_user(store, "ada", "correct horse", "learner")
    bob = accounts.add_user(store, "bob", "correct horse", "learner")
    assert ada.password_hash.startswith("$argon2id$")
    assert "correct horse" not in ada.password_hash
    assert ada.password_hash != bob.password_hash  # same password, different salt


def test_authenticate_accepts_only_the_right_password(store) -> None:
    accounts.add_user(store, "ada", "correct horse", "instructor")
    assert accounts.authenticate(store, "ada", "correct horse")
    assert not accounts.authenticate(store, "ada", "Correct horse")
    assert not accounts.authenticate(store, "ada", "")
    assert not accounts.authenticate(store, "nobody", "correct horse")
    assert not accounts.authenticate(store, "'; drop table user; --", "x")


def test_passwordless_local_learner_cannot_sign_in(store) -> None:
    accounts.ensure_local_learner(store, "learner")
    assert not accounts.authenticate(store, "learner", "")
    assert not accounts.authenticate(store, "learner", "anything")


def test_password_can_be_changed(store) -> None:
    accounts.add_user(store, "ada", "correct horse", "learner")
    accounts.set_password(store, "ada", "new password!")
    assert accounts.authenticate(store, "ada", "new password!")
    assert not accounts.authenticate(store, "ada", "correct horse")


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("ada", "correct horse", "admin", "invalid role 'admin'"),
        ("ada smith", "correct horse", "learner", "invalid user name"),
        ("..", "correct horse", "learner", "invalid user name"),  # a folder name: uploads/.. is the data dir
        ("=HYPERLINK(1)", "correct horse", "learner", "invalid user name"),  # a formula in the gradebook
        ("@cmd", "correct horse", "learner", "invalid user name"),
        ("ada", "short", "learner", "password too short"),
    ],
)
def test_invalid_accounts_are_refused(store, name: str, password: str, role: str, message: str) -> None:
    with pytest.raises(accounts.AccountError, match=message):
        accounts.add_user(store, name, password, role)
    assert accounts.list_users(store) == []


def test_duplicate_user_is_refused(store) -> None:
    accounts.add_user(store, "ada", "correct horse", "learner")
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.add_user(store, "ada", "other password", "instructor")
    assert [u.role for u in accounts.list_users(store)] == ["learner"]


def test_concurrent_first_use_of_the_local_learner_does_not_fail(store) -> None:
    """A page load fires several handlers at once; each may be the first to need the local learner."""
    results = run_concurrently(lambda: accounts.ensure_local_learner(store, "learner").id)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
