"""Versions of a learner's datasets: each file is named by its content hash, and a small sidecar
(``<hash>.version.json``) says where it came from: an upload, or a cleaning of a parent version
(which actions, the counts before and after, the lines removed and why).

A run's config names its data file, and the file's name is its content, so a run always records
exactly which version it trained on, and the lineage reads back from the sidecars. Built-in data
has no sidecar: its sources are the names ``builtin`` (the cleaned set) and ``builtin:raw``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trainer import atomic

SIDECAR = ".version.json"
DATA_SUFFIXES = (".jsonl", ".csv")
BUILTIN_LABELS = {"builtin": "built-in (clean)", "builtin:raw": "built-in (raw)"}
MAX_REMOVED_KEPT = 500  # removed rows listed in a sidecar; the counts are always complete


@dataclass
class DataVersion:
    id: str  # the first 16 hex digits of the file's SHA-256
    path: str  # the data file (not stored: read from where the sidecar is, so a moved folder still works)
    task: str
    rows: int
    origin: str  # "upload" or "clean"
    parent: str = ""  # a parent version's id, or builtin / builtin:raw
    name: str = ""  # the uploaded file's name (uploads)
    steps: list[dict] = field(default_factory=list)  # cleaning: {action, title, before, after, changed, removed}
    created: float = 0.0

    @property
    def label(self) -> str:
        if self.origin == "upload":
            return f"{self.id[:8]} (upload {self.name})"
        actions = ", ".join(step["action"] for step in self.steps)
        return f"{self.id[:8]} ({actions} of {describe_source(self.parent)})"


def content_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def save(folder: Path, data: bytes, suffix: str, **meta) -> DataVersion:
    """Store ``data`` as ``<id><suffix>`` with its sidecar (both written whole or not at all).
    Saving the same content again keeps the first sidecar: a version's history does not change."""
    folder.mkdir(parents=True, exist_ok=True)
    version_id = content_id(data)
    path = folder / f"{version_id}{suffix}"
    existing = read(path)
    if existing is not None:
        return existing
    if not path.is_file():
        atomic.write_bytes(path, data)
    version = DataVersion(id=version_id, path=str(path), created=time.time(), **meta)
    stored = {key: value for key, value in asdict(version).items() if key != "path"}
    atomic.write_text(sidecar_of(path), json.dumps(stored | {"file": path.name}, ensure_ascii=False))
    return version


def read(path: Path | str) -> DataVersion | None:
    """The version record of a data file; None for a file without one (or a built-in source)."""
    sidecar = sidecar_of(Path(path))
    try:
        stored = json.loads(sidecar.read_text(encoding="utf-8"))
        return DataVersion(path=str(sidecar.with_name(stored.pop("file"))), **stored)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def lineage(path: Path | str) -> list[DataVersion]:
    """The version of ``path`` and its ancestors, newest first, up to an upload or a built-in set."""
    chain: list[DataVersion] = []
    version = read(path)
    while version is not None and len(chain) < 50:
        chain.append(version)
        if not version.parent or version.parent in BUILTIN_LABELS:
            break
        folder = Path(version.path).parent
        files = [folder / f"{version.parent}{suffix}" for suffix in DATA_SUFFIXES]
        version = next((read(f) for f in files if f.is_file()), None)
    return chain


def describe_source(source: str) -> str:
    """A data source as the run table shows it."""
    if source in BUILTIN_LABELS:
        return BUILTIN_LABELS[source]
    version = read(source) if source and not source.startswith("hf:") else None
    if version is not None:
        return version.label
    return source if source.startswith("hf:") else Path(source).name


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name.split(".")[0] + SIDECAR)
