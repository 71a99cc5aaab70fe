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
    stale, needed, resumable = folder / "stale.jsonl", folder / "needed.jsonl", folder / "resumable.jsonl"
    for path in (stale, needed, resumable):
        path.write_text("{}\n", encoding="utf-8")
        os.utime(path, (time.time() - 40 * 86400,) * 2)
    config = lab.default_config()
    config.data.source = str(needed)
    lab.runs.submit("bob", config)  # queued: its data must survive
    config.data.source = str(resumable)
    stopped = lab.runs.submit("bob", config)
    stopped.status, stopped.finished = "stopped", time.time()  # a recent stopped run resumes on its data
    lab.runs._save(stopped)
    runs, uploads = lab.clean_up()
    assert runs == [old.id] and uploads == [stale]
    assert needed.is_file() and resumable.is_file() and lab.runs.folder(recent.id).is_dir()
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


# A stand-in for the export worker: records when it ran, then prints a path. The run folders share a
# parent, so every export's times land in one log.
STAND_IN = """
import sys, time
from pathlib import Path
log = Path(sys.argv[2]).parent / "exports.log"
start = time.time()
time.sleep(0.5)
with log.open("a") as out:
    out.write(f"{start} {time.time()}\\n")
if sys.argv[1] == "gguf":
    print("error: the packaged GGUF is missing", file=sys.stderr)
    sys.exit(1)
target = Path(sys.argv[2]) / "merged-float32.zip"
target.write_bytes(b"PK merged")
print(target)
"""


def exporting(lab: TrainingLab, owner: str, run_id: str, results: list) -> threading.Thread:
    def export() -> None:
        try:
            results.append(lab.export(owner, run_id, "merged"))
        except Exception as exc:  # returned, so the test's assertion shows it
            results.append(exc)

    thread = threading.Thread(target=export)
    thread.start()
    return thread


def test_exports_run_in_a_worker_one_at_a_time(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = core.qlora
    runs = [finished(lab, owner) for owner in ("ada", "bob", "cy")]
    monkeypatch.setattr(TrainingLab, "export_command", (sys.executable, "-c", STAND_IN))  # then KIND RUN_DIR ...
    results: list = []
    for thread in [exporting(lab, run.owner, run.id, results) for run in runs]:
        thread.join()
    assert all(isinstance(r, Path) and r.read_bytes() == b"PK merged" for r in results), results
    log = lab.runs.runs_dir / "exports.log"
    spans = sorted(tuple(map(float, line.split())) for line in log.read_text().splitlines())
    assert len(spans) == 3 and all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # never two at once
    with pytest.raises(LabError, match="the gguf export failed: the packaged GGUF is missing"):
        lab.export("ada", runs[0].id, "gguf")


def test_a_run_under_export_is_not_deleted_and_a_learner_queues_one_export(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: deleting a run while its merge ran let the worker write 540 MB back into a
    folder no run owned (outside every quota); and one learner could queue exports without end."""
    lab = core.qlora
    run, other = finished(lab, "ada"), finished(lab, "ada")
    monkeypatch.setattr(TrainingLab, "export_command", (sys.executable, "-c", STAND_IN))
    results: list = []
    thread = exporting(lab, "ada", run.id, results)
    deadline = time.monotonic() + 10
    while run.id not in lab._exporting and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(LabError, match="is being exported; delete it when the export has finished"):
        lab.delete("ada", run.id)
    with pytest.raises(LabError, match="you already have an export under way"):
        lab.export("ada", other.id, "merged")
    assert lab.runs.clean_up(now=time.time() + 400 * 86400, skip=lab._exporting) == [other.id]
    thread.join()
    assert isinstance(results[0], Path)
    lab.delete("ada", run.id)  # once it has finished


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
