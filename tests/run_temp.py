"""One temporary folder per test run, for everything the run puts in the system's temp folder.

The app writes downloads (GGUF and merged-model exports, as copies or hard links) and Gradio
caches files under ``tempfile.gettempdir()``; trainer and server processes write there too. Left
in /tmp, a run's exports outlived it and filled a CI machine's disk after a few runs. Here they all
go in one ``/tmp/tutor-tests-*`` folder, pytest's own ``tmp_path`` folders too: child processes
get it as TMPDIR, and the downloads folder is emptied after each test module (conftest.py). The
folder goes when a run passes. A failed run leaves it for a look (the failed tests' folders,
pytest's ``tmp_path_retention_policy = "failed"``), and the next run's start removes it, as it
removes a killed run's.

Imported by conftest.py before anything that could read the temp folder's name.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

from tutor.lab_files import DOWNLOADS_FOLDER

SYSTEM_TEMP = Path(tempfile.gettempdir())
PREFIX = "tutor-tests-"
LOCK = ".run.lock"  # held by the run for its whole life: a folder whose lock can be taken is a dead run's
YOUNG_S = 120.0  # a folder this new may be a run that is starting, before it holds its lock


def _dead(folder: Path) -> bool:
    """Whether ``folder`` is a finished or killed run's: a lock on a file works across processes,
    containers and PID namespaces that share the file system, where a pid would not."""
    try:
        if folder.stat().st_uid != os.getuid():
            return False  # another user's run: theirs to remove
        lock = folder / LOCK
        if time.time() - folder.stat().st_mtime < YOUNG_S:
            return False  # a run that is starting may not hold its lock yet
        if not lock.exists():
            return True
        with lock.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # locked (a live run) or gone meanwhile
        return False
    return True


def _remove_dead_runs() -> None:
    for folder in SYSTEM_TEMP.glob(f"{PREFIX}*"):
        if folder.is_dir() and _dead(folder):
            shutil.rmtree(folder, ignore_errors=True)


def _make_run_temp() -> Path:
    _remove_dead_runs()
    folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=SYSTEM_TEMP))
    _LOCKS.append((folder / LOCK).open("a"))  # open, and locked, until this process ends
    fcntl.flock(_LOCKS[-1], fcntl.LOCK_EX)
    # The throwaway PostgreSQL server runs as user postgres when the suite runs as root; it must
    # be able to pass through this folder to its own.
    folder.chmod(0o711)
    return folder


_LOCKS: list = []
RUN_TEMP = _make_run_temp()
os.environ["TMPDIR"] = str(RUN_TEMP)
tempfile.tempdir = str(RUN_TEMP)
# Ray's socket paths are near the 107-character limit of a Unix socket already: Ray stays in /tmp.
os.environ.setdefault("RAY_TMPDIR", str(SYSTEM_TEMP))

DOWNLOADS = RUN_TEMP / DOWNLOADS_FOLDER


def empty_downloads() -> None:
    """Remove the downloads made so far: hard links to a deleted run's GGUF keep its bytes on disk."""
    shutil.rmtree(DOWNLOADS, ignore_errors=True)


def finish(passed: bool) -> None:
    if passed:
        shutil.rmtree(RUN_TEMP, ignore_errors=True)
    else:
        print(f"\nthis run's temporary files, kept until the next test run starts: {RUN_TEMP}")
