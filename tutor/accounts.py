"""Users: creating them, checking passwords, and knowing who is asking.

Passwords are hashed with Argon2id (argon2-cffi): salted, slow on purpose, parameters stored
in the hash so they can be raised later without breaking old accounts.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from tutor.store import Store
from tutor.tables import ROLES, User

_hasher = PasswordHasher()
# A letter or digit first: a name is a folder name (uploads, runs), so never "." or "..", and a
# gradebook cell, so never "=", "+", "-" or "@" first (spreadsheets run those as formulas).
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8
# Verified against when a user does not exist, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccountError(ValueError):
    """A request about an account that cannot be done; the message is for the user."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_username(username: str) -> str:
    if not USERNAME_RE.match(username):
        raise AccountError(
            f"invalid user name {username!r}: use 1-64 letters, digits, '_', '.', '@' or '-', "
            "starting with a letter or digit"
        )
    return username


def add_user(store: Store, username: str, password: str | None, role: str = "learner") -> User:
    """Create a user. ``password=None`` is only for the local learner of single mode."""
    check_username(username)
    if role not in ROLES:
        raise AccountError(f"invalid role {role!r}: use one of {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    exists = AccountError(f"user {username!r} already exists")
    try:
        with store.session() as session:
            if session.exec(select(User).where(User.username == username)).first():
                raise exists
            user = User(username=username, role=role, password_hash=hash_password(password) if password else None)
            session.add(user)
    except IntegrityError:  # a concurrent request inserted the same name between our check and commit
        raise exists from None
    return user


def set_password(store: Store, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password too short: use at least {MIN_PASSWORD_LENGTH} characters")
    with store.session() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise AccountError(f"no user {username!r}")
        user.password_hash = hash_password(password)
        session.add(user)


def authenticate(store: Store, username: str, password: str) -> bool:
    """True when the user exists, has a password, and ``password`` matches it."""
    user = get_user(store, username) if USERNAME_RE.match(username or "") else None
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        return False
    if ok and user is not None and user.password_hash and _hasher.check_needs_rehash(user.password_hash):
        set_password(store, username, password)
    return ok and user is not None and user.password_hash is not None


def password_hashes(store: Store) -> dict[str, str]:
    """Every user's stored password hash: a change means the password changed (sessions end)."""
    with store.session() as session:
        return {u.username: u.password_hash or "" for u in session.exec(select(User))}


def get_user(store: Store, username: str) -> User | None:
    with store.session() as session:
        return session.exec(select(User).where(User.username == username)).first()


def list_users(store: Store) -> list[User]:
    with store.session() as session:
        return list(session.exec(select(User).order_by(User.username)))


def ensure_local_learner(store: Store, username: str) -> User:
    """The password-less learner of single mode, created on first use."""
    user = get_user(store, username)
    if user is None:
        try:
            user = add_user(store, username, None, "learner")
        except AccountError:  # created by a concurrent request in between
            user = get_user(store, username)
    assert user is not None
    return user
