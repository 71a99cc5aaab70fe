"""The QLoRA lab's files on disk: what one learner's uploads and runs take (the quota), the
clean-up of old uploads, and copies of exports for download.

Downloads are copies in a fresh temporary folder because Gradio serves only files under the
working directory, the system's temp folder or ``allowed_paths``. Adding the runs folder to
``allowed_paths`` would let anyone who guesses a path fetch another learner's adapter through
Gradio's file route; a per-download copy (a hard link where the file system allows) does not.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path


def folder_bytes(folder: Path) -> int:
    """Bytes of every file under ``folder`` (0 when it does not exist)."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # a file deleted while we count
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def old_uploads(uploads: Path, keep_seconds: float, in_use: set[Path], now: float | None = None) -> list[Path]:
    """Delete the uploads (``<uploads>/<learner>/<file>``) not touched for ``keep_seconds`` and not
    read by a queued or running run (``in_use``, resolved paths); the deleted paths."""
    now = time.time() if now is None else now
    deleted = []
    for path in uploads.glob("*/*"):
        with contextlib.suppress(OSError):
            if path.is_file() and path.resolve() not in in_use and path.stat().st_mtime < now - keep_seconds:
                path.unlink()
                deleted.append(path)
    return deleted


DOWNLOADS_KEPT_S = 3600.0  # Gradio copies a returned file into its own cache within seconds
DOWNLOADS_FOLDER = "tutor-downloads"  # under the system's temp folder


def _download_folder() -> Path:
    """A new temporary folder for one download. Folders older than an hour are deleted on the way,
    so downloads do not pile up in the temp folder."""
    parent = Path(tempfile.gettempdir()) / DOWNLOADS_FOLDER
    parent.mkdir(exist_ok=True)
    for old in parent.iterdir():
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < time.time() - DOWNLOADS_KEPT_S:
                shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=parent))


def download_copy(path: Path) -> Path:
    """``path`` under the same name in a new temporary folder, for Gradio to serve."""
    target = _download_folder() / path.name
    try:
        os.link(path, target)  # no copy of a 500 MB merged model where one file system allows it
    except OSError:
        shutil.copyfile(path, target)
    return target


def text_download(text: str, filename: str) -> Path:
    """``text`` as a file named ``filename`` in a new temporary folder, for Gradio to serve."""
    path = _download_folder() / filename
    path.write_text(text, encoding="utf-8")
    return path
