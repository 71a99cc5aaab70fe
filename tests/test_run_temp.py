"""The test run's own temp folder (tests/run_temp.py): what a run writes stays in it, and the next
run removes a dead run's folder but never a live one's."""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from pathlib import Path

import pytest

from tests import run_temp
from tutor import lab_files


def test_the_runs_temp_files_and_downloads_go_in_its_own_folder() -> None:
    assert Path(tempfile.gettempdir()) == run_temp.RUN_TEMP and os.environ["TMPDIR"] == str(run_temp.RUN_TEMP)
    download = lab_files.text_download("report", "report.md")
    assert download.is_relative_to(run_temp.DOWNLOADS) and download.read_text() == "report"
    assert not run_temp._dead(run_temp.RUN_TEMP)  # this run holds its lock


def test_a_dead_runs_folder_goes_and_a_live_or_starting_ones_stays(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(run_temp, "SYSTEM_TEMP", tmp_path)
    folders = {name: tmp_path / f"{run_temp.PREFIX}{name}" for name in ("dead", "live", "starting", "lockless")}
    for folder in folders.values():
        folder.mkdir()
    (folders["dead"] / run_temp.LOCK).touch()  # its run ended, or was killed, and let go of the lock
    (folders["starting"] / run_temp.LOCK).touch()  # a run that has not taken its lock yet
    with (folders["live"] / run_temp.LOCK).open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another run, alive: its lock cannot be taken
        long_ago = time.time() - 10 * run_temp.YOUNG_S
        for name in ("dead", "live", "lockless"):  # "lockless": a run killed as it began
            os.utime(folders[name], (long_ago, long_ago))
        run_temp._remove_dead_runs()
    assert sorted(p.name.removeprefix(run_temp.PREFIX) for p in tmp_path.iterdir()) == ["live", "starting"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a folder another user owns")
def test_another_users_folder_is_theirs_to_remove(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(run_temp, "SYSTEM_TEMP", tmp_path)
    theirs = tmp_path / f"{run_temp.PREFIX}theirs"
    theirs.mkdir()
    (theirs / run_temp.LOCK).touch()
    long_ago = time.time() - 10 * run_temp.YOUNG_S
    os.utime(theirs, (long_ago, long_ago))
    os.chown(theirs, 65534, 65534)  # nobody
    run_temp._remove_dead_runs()
    assert theirs.exists()
