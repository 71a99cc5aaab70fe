"""Opening the database: SQLite by default (WAL mode), any SQLAlchemy URL for a class.

``open_store`` connects once at start so that a wrong or unreachable URL is reported as one
line (:class:`StoreError`) before the web server starts, then creates missing tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine

from tutor import tables  # noqa: F401  (registers the tables on SQLModel.metadata)


class StoreError(RuntimeError):
    """The database cannot be used; the message is one line meant for the user."""


def _safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers and one writer work at the same time; with several learners submitting
    # at once this is the difference between waiting and "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """Owns the engine; hands out sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str) -> Store:
    """Connect to ``url``, create the tables, and return the Store (or raise StoreError)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"database URL {url!r} is not a SQLAlchemy URL") from None

    is_sqlite = parsed.get_backend_name() == "sqlite"
    kwargs: dict = {}
    if is_sqlite:
        # Gradio runs handlers in worker threads; SQLite connections may cross them.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for {parsed.database}: {exc.strerror}") from None
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}

    try:
        engine = create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise StoreError(f"no database driver for {parsed.drivername!r} in {_safe_url(url)}") from None
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"the database driver {exc.name!r} is not installed "
            "(for PostgreSQL: pip install 'fine-tuning-tutor[postgres]')"
        ) from None
    if is_sqlite:
        event.listen(engine, "connect", _enable_sqlite_pragmas)

    try:
        SQLModel.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
        raise StoreError(f"cannot open database {_safe_url(url)}: {reason}") from None
    return Store(engine)
