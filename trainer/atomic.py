"""Files a learner downloads or a reader re-reads are written whole or not at all.

Each is written under a temporary name in the same folder and renamed over the target with
``os.replace`` (atomic on one file system), so a killed process or a full disk leaves the old
file, or none, never half of one that a download or a reload would then serve.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def write_text(path: Path, text: str) -> Path:
    """``path.write_text(text)``, atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> Path:
    """``path.write_bytes(data)``, atomically."""
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    return path


def make_zip(target: Path, root_dir: Path) -> Path:
    """``target`` (a .zip) holding the files under ``root_dir``, atomically."""
    handle, base = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    os.unlink(base)  # make_archive adds ".zip" to this name
    partial = Path(base + ".zip")
    try:
        shutil.make_archive(base, "zip", root_dir=root_dir)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return target
