"""One temporary folder per test run, for everything the run puts in the system's temp folder.

The app writes downloads (GGUF and merged-model exports, as copies or hard links) and Gradio
caches files under ``tempfile.gettempdir()``; trainer and server processes write there too. Left
in /tmp, a run's exports outlived it and filled a CI machine's disk after a few runs. Here they all
go in ``/tmp/tutor-tests-<pid>``, pytest's own ``tmp_path`` folders too: child processes get it as
TMPDIR, and the downloads folder is emptied after each test module (conftest.py). The folder goes
when a run passes. A failed run leaves it for a look (the failed tests' folders, pytest's
``tmp_path_retention_policy = "failed"``), and the next run's start removes it, as it removes a
killed run's.

Imported by conftest.py before anything that could read the temp folder's name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from tutor.lab_files import DOWNLOADS_FOLDER

SYSTEM_TEMP = Path(tempfile.gettempdir())
PREFIX = "tutor-tests-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _remove_killed_runs() -> None:
    for folder in SYSTEM_TEMP.glob(f"{PREFIX}*"):
        pid = folder.name.removeprefix(PREFIX)
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _make_run_temp() -> Path:
    _remove_killed_runs()
    folder = SYSTEM_TEMP / f"{PREFIX}{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)  # a dead run's, with this pid recycled
    folder.mkdir()
    # The throwaway PostgreSQL server runs as user postgres when the suite runs as root; it must
    # be able to pass through this folder to its own.
    folder.chmod(0o711)
    return folder


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
        print(f"\nthis run's temporary files, the failed tests' folders among them: {RUN_TEMP}")
