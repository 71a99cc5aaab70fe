"""Issue 15, item 5: the QLoRA lab's limits on the server. Each learner's uploads, runs and exports
share one disk quota; old runs and uploads are cleaned up; instructors list, stop and delete any
run; exports run in a worker process, one at a time, and come back as a copy Gradio may serve
wherever the data folder lives."""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tutor import accounts
from tutor.core import AccessError, Core
from tutor.training_lab import LabError, TrainingLab


@pytest.fixture
def core(tmp_path: Path):
    core = Core.start(make_settings(tmp_path, disk_quota_mb=1.0))
    yield core
    core.store.close()


def finished(lab: TrainingLab, owner: str, size: int = 0, days_old: float = 0.0):
    """A run of ``owner`` marked done, with an adapter folder of ``size`` bytes (no training)."""
    run = lab.runs.submit(owner, lab.default_config())
    folder = lab.runs.folder(run.id)
    (folder / "adapter").mkdir()
    (folder / "adapter" / "adapter_config.json").write_text("{}", encoding="utf-8")
    (folder / "adapter" / "adapter_model.safetensors").write_bytes(b"\0" * size)
    (folder / "report.md").write_text("# report", encoding="utf-8")
    run.status, run.finished = "done", time.time() - days_old * 24 * 3600
    lab.runs._save(run)
    return run


def test_runs_count_against_the_learners_quota_and_deleting_one_makes_room(core: Core, tmp_path: Path) -> None:
    lab = core.qlora
    big = finished(lab, "ada", size=1_200_000)  # 1.2 MB of a 1 MB quota
    with pytest.raises(LabError, match=r"a new run: your lab files would pass your 1 MB .* take 1\.2 MB"):
        lab.start_run("ada", lab.default_config().to_yaml())
    upload = tmp_path / "rows.jsonl"
    upload.write_text('{"text": "Sales rose.", "label": "positive"}\n' * 12, encoding="utf-8")
    with pytest.raises(LabError, match=r"rows\.jsonl: your lab files would pass"):
        lab.preview("sentiment", str(upload), owner="ada")
    with pytest.raises(LabError, match=r"the adapter export: your lab files would pass"):
        lab.export("ada", big.id, "adapter")
    lab.preview("sentiment", str(upload), owner="bob")  # bob's space is his own
    lab.delete("ada", big.id)
    assert lab.disk_used("ada") == 0
    lab.preview("sentiment", str(upload), owner="ada")


def test_old_runs_and_uploads_are_cleaned_up_but_not_what_a_queued_run_reads(tmp_path: Path) -> None:
    core = Core.start(make_settings(tmp_path, keep_runs_days=30))
    lab = core.qlora
    old, recent = finished(lab, "ada", days_old=40), finished(lab, "ada", days_old=2)
    folder = lab.uploads / "bob"
    folder.mkdir(parents=True)
    stale, needed = folder / "stale.jsonl", folder / "needed.jsonl"
    for path in (stale, needed):
        path.write_text("{}\n", encoding="utf-8")
        os.utime(path, (time.time() - 40 * 86400,) * 2)
    config = lab.default_config()
    config.data.source = str(needed)
    lab.runs.submit("bob", config)  # queued: its data must survive
    runs, uploads = lab.clean_up()
    assert runs == [old.id] and uploads == [stale]
    assert needed.is_file() and lab.runs.folder(recent.id).is_dir()
    core.store.close()


def test_instructors_list_stop_and_delete_any_run_and_learners_only_their_own(tmp_path: Path) -> None:
    core = Core.start(make_settings(tmp_path, mode="class"))
    accounts.add_user(core.store, "ada", "ada-password", "learner")
    accounts.add_user(core.store, "grace", "grace-password", "instructor")
    ada, grace = core.viewer("ada"), core.viewer("grace")
    lab = core.qlora
    done = finished(lab, "ada", size=1000)
    queued = lab.runs.submit("bob", lab.default_config())
    with pytest.raises(AccessError, match="only instructors"):
        core.lab_runs(ada)
    listed = core.lab_runs(grace)
    assert [(r.id, r.owner, r.status) for r, _ in listed] == [(queued.id, "bob", "queued"), (done.id, "ada", "done")]
    assert listed[1][1] >= 1000
    with pytest.raises(LabError, match="belongs to someone else"):
        core.stop_run(ada, queued.id)
    assert core.stop_run(grace, queued.id).status == "cancelled"  # it held a place in the queue
    with pytest.raises(LabError, match="belongs to someone else"):
        core.delete_run(ada, queued.id)
    core.delete_run(grace, queued.id)
    core.delete_run(ada, done.id)
    assert core.lab_runs(grace) == []
    core.store.close()


# A stand-in for the export worker: records when it ran and in which process, then prints a path.
STAND_IN = """
import os, sys, time
from pathlib import Path
log = Path(sys.argv[2]) / "exports.log"
start = time.time()
time.sleep(0.5)
with log.open("a") as out:
    out.write(f"{os.getpid()} {start} {time.time()}\\n")
if sys.argv[1] == "gguf":
    print("error: the packaged GGUF is missing", file=sys.stderr)
    sys.exit(1)
target = Path(sys.argv[2]) / "merged-float32.zip"
target.write_bytes(b"PK merged")
print(target)
"""


def test_exports_run_in_a_worker_one_at_a_time(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = core.qlora
    run = finished(lab, "ada")
    folder = lab.runs.folder(run.id)
    monkeypatch.setattr(TrainingLab, "export_command", (sys.executable, "-c", STAND_IN))  # then KIND RUN_DIR ...
    results: list = []

    def export() -> None:
        try:
            results.append(lab.export("ada", run.id, "merged"))
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=export) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(r, Path) and r.read_bytes() == b"PK merged" for r in results), results
    spans = sorted(tuple(map(float, line.split()[1:])) for line in (folder / "exports.log").read_text().splitlines())
    assert len(spans) == 3 and all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # never two at once
    pids = {line.split()[0] for line in (folder / "exports.log").read_text().splitlines()}
    assert str(os.getpid()) not in pids
    with pytest.raises(LabError, match="the gguf export failed: the packaged GGUF is missing"):
        lab.export("ada", run.id, "gguf")


def test_downloads_are_served_from_the_temp_folder_wherever_the_data_lives(
    core: Core, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15, item 7: with the data folder outside the working directory and the temp folder,
    Gradio refused to serve an export. The lab now hands Gradio a copy in the temp folder."""
    elsewhere = tmp_path / "system-temp"
    elsewhere.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))  # the data folder is no longer inside it
    run = finished(core.qlora, "ada")
    for kind in ("report", "adapter"):
        path = core.qlora.export("ada", run.id, kind)
        assert path.is_relative_to(elsewhere) and not path.is_relative_to(core.settings.data_dir)
    assert path.name == "adapter.zip"
