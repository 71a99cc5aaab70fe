"""Issue 15, item 7: what a learner downloads is written whole or not at all. A failure half-way
(a full disk, a killed export) leaves the previous file as it was and no stray partial file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from trainer import atomic
from trainer.export import adapter_zip


def finished_run(folder: Path) -> Path:
    adapter = folder / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text('{"r": 8}', encoding="utf-8")
    (adapter / "adapter_model.safetensors").write_bytes(b"\0" * 4096)
    (adapter / "README.md").write_text("model card", encoding="utf-8")
    return folder


def test_a_failed_zip_keeps_the_previous_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = finished_run(tmp_path / "run")
    first = adapter_zip(folder)
    assert first == folder / "adapter.zip"
    names = sorted(zipfile.ZipFile(first).namelist())
    assert "adapter_config.json" in names and "adapter_model.safetensors" in names

    real_write, calls = zipfile.ZipFile.write, []

    def disk_full(self, *args, **kwargs):
        calls.append(args)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "write", disk_full)
    with pytest.raises(OSError, match="No space"):
        adapter_zip(folder)
    assert sorted(zipfile.ZipFile(first).namelist()) == names  # still the whole first archive
    assert sorted(p.name for p in folder.iterdir()) == ["adapter", "adapter.zip"]  # no partial left


def test_a_failed_text_write_keeps_the_old_text(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    atomic.write_text(report, "# report, first version")
    with pytest.raises(UnicodeEncodeError):
        atomic.write_text(report, "# report\n" + "x" * 100_000 + "\ud800")  # fails after the first bytes
    assert report.read_text(encoding="utf-8") == "# report, first version"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
