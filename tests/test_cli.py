"""The `tutor` command: help, user management, and one-line errors with the right exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tutor.cli import main

REPO = Path(__file__).resolve().parent.parent


def run_tutor(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the real console entry point in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_every_command() -> None:
    result = run_tutor("--help")
    assert result.returncode == 0
    for command in ["tutor serve", "tutor users add", "tutor users list", "tutor users passwd", "tutor lessons check"]:
        assert command in result.stdout


def test_users_add_reads_password_from_stdin_then_lists(tmp_path: Path) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'class.db'}"]
    added = run_tutor(*db, "users", "add", "grace", "--role", "instructor", stdin="correct horse\n")
    assert added.returncode == 0, added.stderr
    assert "created instructor 'grace'" in added.stdout
    listed = run_tutor(*db, "users", "list", "--json")
    assert [(u["username"], u["role"]) for u in json.loads(listed.stdout)] == [("grace", "instructor")]

    from tutor import accounts
    from tutor.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'class.db'}")
    assert accounts.authenticate(store, "grace", "correct horse")  # the newline is not part of it
    store.close()


def test_users_add_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'class.db'}"]
    assert main([*db, "users", "add", "bad name", "--role", "learner"]) == 1
    assert (
        capsys.readouterr().err
        == "tutor: error: invalid user name 'bad name': use 1-64 letters, digits, '_', '.', '@' or '-'\n"
    )


def test_bad_port_is_exit_2_with_one_line() -> None:
    result = run_tutor("serve", "--port", "99999")
    assert result.returncode == 2
    assert result.stderr == (
        "tutor: error: bad setting 'port' (from --port): Input should be less than or equal to 65535, got 99999\n"
    )


def test_bad_setting_from_environment_is_named() -> None:
    result = run_tutor("serve", env={"TUTOR_MODE": "school"})
    assert result.returncode == 2
    assert result.stderr.startswith("tutor: error: bad setting 'mode' (from TUTOR_MODE)")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_unreachable_database_is_exit_1_without_traceback() -> None:
    result = run_tutor("--database-url", "postgresql+psycopg://tutor:pw@127.0.0.1:1/tutor", "serve")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "tutor: error: cannot open database postgresql+psycopg://tutor:***@127.0.0.1:1/tutor"
    )
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_lessons_check_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lessons", "check"]) == 0
    assert "4 lessons, 5 reference pages" in capsys.readouterr().out
    assert main(["lessons", "list", "--json"]) == 0
    pages = json.loads(capsys.readouterr().out)
    assert [p["id"] for p in pages if p["kind"] == "lesson"] == [
        "what-is-fine-tuning",
        "training-data",
        "hyperparameters-lora",
        "evaluation-deployment",
    ]
