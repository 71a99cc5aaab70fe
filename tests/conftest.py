"""Shared fixtures: settings on a temporary database, a started Core, free ports, live servers."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from tests import run_temp  # first: it points the run's temp files at a folder of their own
from tests.postgres_server import PostgresServer, PostgresUnavailable
from tutor import accounts
from tutor.core import Core
from tutor.settings import Settings, load_settings
from tutor.store import open_store

# Every database test runs on SQLite (the laptop default) and on PostgreSQL (what a class deployment
# uses). PostgreSQL is a throwaway server started for the run from the machine's PostgreSQL programs
# (tests/postgres_server.py; `make test` installs them on a bare CI machine), or the server at
# TUTOR_TEST_DATABASE_URL. When it cannot start, its cases fail with the reason; nothing drops them
# silently. TUTOR_TEST_POSTGRES=skip reports them as skipped, for a machine without PostgreSQL.
DATABASES = ["sqlite", "postgresql"]
SHARED_DATA = "shared-var"  # the session's data folder (shared_data_dir), kept for the whole run


@pytest.fixture(autouse=True, scope="module")
def _module_files_removed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """What a module wrote goes when it ends, so a run never holds every module's models at once:
    its exports (tests/run_temp.py), its module fixtures' folders, and the QLoRA runs and quantized
    copies it left in the shared data folder. A module with a failed test keeps its folders."""
    base = tmp_path_factory.getbasetemp()
    before = set(base.iterdir())
    failed_before = request.session.testsfailed
    yield  # autouse and first: torn down after the module's own fixtures (its servers closed)
    run_temp.empty_downloads()
    if request.session.testsfailed > failed_before:
        return
    for path in set(base.iterdir()) - before:
        if path.is_symlink():  # pytest's "<name>current" links
            path.unlink(missing_ok=True)
        elif not path.name.startswith(SHARED_DATA):
            shutil.rmtree(path, ignore_errors=True)
    for shared in base.glob(f"{SHARED_DATA}*[0-9]"):
        for made in ("runs", "models/quantized"):
            shutil.rmtree(shared / made, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_RUN_PASSED] = exitstatus == 0


def pytest_unconfigure(config: pytest.Config) -> None:
    # After every fixture's teardown (the PostgreSQL server's folder is in the run's folder).
    run_temp.finish(passed=config.stash.get(_RUN_PASSED, False))


_RUN_PASSED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    given = os.environ.get("TUTOR_TEST_DATABASE_URL", "")
    if given:
        yield given
        return
    if os.environ.get("TUTOR_TEST_POSTGRES", "") == "skip":
        pytest.skip("PostgreSQL cases skipped: TUTOR_TEST_POSTGRES=skip")
    try:
        server = PostgresServer()
        url = server.start()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"the PostgreSQL server for the database tests did not start: {exc}", pytrace=False)
    yield url
    server.stop()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or the run's PostgreSQL server with no tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tutor.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    _drop_tables(url)
    yield url
    _drop_tables(url)


def _drop_tables(url: str) -> None:
    store = open_store(url)
    SQLModel.metadata.drop_all(store.engine)
    store.close()


def make_settings(tmp_path: Path, **values: object) -> Settings:
    return load_settings(env={}, overrides={"data_dir": tmp_path / "var", **values})


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


@pytest.fixture
def core(settings: Settings) -> Iterator[Core]:
    core = Core.start(settings)
    yield core
    core.store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(core: Core) -> Iterator[str]:
    """Launch the real app for ``core`` on its port; yield the URL; close everything after."""
    import app

    demo = app.launch(core, prevent_thread_lock=True)
    try:
        yield f"http://127.0.0.1:{core.settings.port}/"
    finally:
        demo.close()
        core.store.close()


# The CI machines are shared and sometimes several times slower than usual; httpx's 5 s default
# made a login fail there while the server was busy. A real hang still fails the test.
HTTP_TIMEOUT_S = 60


def app_client(url: str, auth: tuple[str, str] | None = None):
    """A gradio_client for the app under test, with timeouts for a slow shared machine."""
    from gradio_client import Client

    return Client(url, auth=auth, verbose=False, httpx_kwargs={"timeout": HTTP_TIMEOUT_S})


@pytest.fixture
def class_app(tmp_path: Path, postgres_url: str) -> Iterator[str]:
    """The app in class mode, on PostgreSQL as a class deployment runs it, with learners ada and bob
    and instructor grace."""
    _drop_tables(postgres_url)
    core = Core.start(make_settings(tmp_path, port=free_port(), mode="class", database_url=postgres_url))
    accounts.add_user(core.store, "ada", "ada-password", "learner")
    accounts.add_user(core.store, "bob", "bob-password", "learner")
    accounts.add_user(core.store, "grace", "grace-password", "instructor")
    yield from serve(core)


@pytest.fixture(scope="session")
def shared_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder per test run for the course index and the converted packaged model, which
    take seconds to build; each test still gets its own database."""
    return tmp_path_factory.mktemp(SHARED_DATA)


@pytest.fixture(scope="session")
def models_dir(shared_data_dir: Path) -> Path:
    """The models folder of settings on ``shared_data_dir`` (Settings.models_dir): the packaged
    model is converted into it once per test run."""
    return Settings(data_dir=shared_data_dir).models_dir


def advisor_settings(tmp_path: Path, shared: Path, **values: object) -> Settings:
    return make_settings(tmp_path, data_dir=shared, database_url=f"sqlite:///{tmp_path / 'tutor.db'}", **values)


def run_concurrently(call, times: int = 8) -> list:
    """Call ``call`` from ``times`` threads released together; its results or raised exceptions."""
    import threading

    barrier = threading.Barrier(times)
    results: list = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(call())
        except Exception as exc:  # returned, so the test's assertion shows it
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@contextlib.contextmanager
def llama_cpp_server(alias: str) -> Iterator[str]:
    """llama.cpp's own OpenAI-compatible server on the packaged model, for as long as the block runs;
    yields its base URL (".../v1")."""
    from trainer.packaged import packaged_gguf

    port = free_port()
    command = [sys.executable, "-m", "tutor.llm.llamacpp_server", "--model", str(packaged_gguf()), "--port", str(port)]
    server = subprocess.Popen([*command, "--model_alias", alias], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        server.wait(timeout=30)
