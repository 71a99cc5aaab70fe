"""The run queue with real ``python -m trainer`` workers: one at a time, places shown, stop, and a
server killed mid-training leaving a resumable run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.trainer.conftest import tiny_run
from trainer.config import parse_config
from trainer.progress import read_events
from trainer.runs import RunError, RunQueue
from trainer.train import latest_checkpoint

# Real training processes: a minute or two each on an idle 2-core machine, several times that on
# a busy shared one (CI). The 300 s default is for hangs in ordinary tests.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def tiny(steps: int = 2):
    return parse_config(tiny_run(steps=steps, eval_steps=100))  # the queue is under test, not validation


def wait_for(predicate, timeout: float = 400, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_one_run_at_a_time_with_places_and_cancel(tmp_path, models_dir):
    queue = RunQueue(tmp_path / "runs", models_dir)
    first = queue.submit("ada", tiny())
    second = queue.submit("bob", tiny())
    third = queue.submit("cy", tiny())
    assert [queue.position(r.id) for r in (first, second, third)] == [0, 1, 2]
    assert queue.stop(third.id, "cy").status == "cancelled"
    with pytest.raises(RunError, match="someone else"):
        queue.stop(second.id, "ada")
    queue.start()
    wait_for(lambda: queue.get(first.id).status == "running", what="first run to start")
    assert queue.get(second.id).status == "queued" and queue.position(second.id) == 1
    assert queue.wait_idle(600)
    done = [queue.get(r.id) for r in (first, second)]
    assert [r.status for r in done] == ["done", "done"], [r.message for r in done]
    assert done[0].finished <= done[1].started  # never two at once
    assert queue.get(third.id).status == "cancelled"
    assert (queue.folder(first.id) / "adapter" / "adapter_config.json").is_file()


def test_a_run_past_the_servers_time_limit_is_stopped_and_frees_the_slot(tmp_path, models_dir):
    """Issue 15, item 5: one learner's run could hold the host's only training slot for ever."""
    queue = RunQueue(tmp_path / "runs", models_dir, max_seconds=1.0)
    first, second = queue.submit("ada", tiny(steps=400)), queue.submit("bob", tiny(steps=400))
    queue.start()
    assert queue.wait_idle(300)
    ended = [queue.get(r.id) for r in (first, second)]
    for run in ended:
        assert run.status == "stopped" and "time limit of 0.0166667 min per run" in run.message, run
        assert run.finished - run.started < 60  # asked to stop at 1 s, not trained to step 400
    assert ended[1].started >= ended[0].finished  # the next run got the slot


def test_old_finished_runs_are_deleted_and_active_ones_never(tmp_path):
    day = 24 * 3600.0
    queue = RunQueue(tmp_path / "runs", tmp_path / "models", keep_seconds=30 * day)
    old, recent, queued = (queue.submit(owner, tiny()) for owner in ("ada", "bob", "cy"))
    now = time.time()
    for run, status, finished in ((old, "done", now - 31 * day), (recent, "failed", now - 29 * day)):
        run.status, run.finished = status, finished
        queue._save(run)
    queued.created = now - 90 * day  # waiting that long is odd, but it is not finished: kept
    queue._save(queued)
    assert queue.clean_up() == [old.id]
    assert not queue.folder(old.id).exists()
    assert [r.id for r in queue.runs()] == [queued.id, recent.id]
    with pytest.raises(RunError, match="is queued; stop it before deleting it"):
        queue.delete(queued.id, None)
    with pytest.raises(RunError, match="someone else"):
        queue.delete(recent.id, "ada")
    queue.delete(recent.id, "bob")
    assert [r.id for r in queue.runs()] == [queued.id]


SERVER = """
import sys, time
from pathlib import Path
from trainer.config import parse_config
from trainer.runs import RunQueue
queue = RunQueue(Path(sys.argv[1]), Path(sys.argv[2]))
run = queue.submit("ada", parse_config(sys.argv[3]))
print(run.id, flush=True)
queue.start()
time.sleep(600)
"""


def test_server_killed_mid_training_leaves_a_resumable_run(tmp_path, models_dir):
    runs_dir = tmp_path / "runs"
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(SERVER),
            str(runs_dir),
            str(models_dir),
            # Checkpoints every 2 steps, no validation passes: the first checkpoint comes fast and
            # the resumed half costs only its training steps. 12 steps leave room for the SIGTERM
            # to land before the run ends.
            tiny_run(steps=12, eval_steps=100),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    run_id = server.stdout.readline().strip()
    log = runs_dir / run_id / "progress.jsonl"
    wait_for(lambda: any(e["event"] == "checkpoint" for e in read_events(log)), what="a checkpoint")
    worker_pid = json.loads((runs_dir / run_id / "run.json").read_text())["pid"]
    os.kill(server.pid, signal.SIGKILL)  # the web server dies without any cleanup
    server.wait()
    server.stdout.close()
    # The worker notices (parent-death signal = SIGTERM), saves a checkpoint and stops.
    wait_for(lambda: not Path(f"/proc/{worker_pid}").exists(), timeout=120, what="the worker to exit")
    assert read_events(log)[-1]["event"] == "stopped"
    assert latest_checkpoint(runs_dir / run_id) is not None

    queue = RunQueue(runs_dir, models_dir)  # the restarted server
    run = queue.get(run_id)
    assert run.status == "interrupted" and "resume" in run.message
    queue.resume(run_id, "ada")
    queue.start()
    assert queue.wait_idle(600)
    assert queue.get(run_id).status == "done", queue.get(run_id).message
    events = read_events(log)
    assert [e for e in events if e["event"] == "start"][-1]["resume_from"]
    assert events[-1]["event"] == "done"


def test_failed_worker_reports_why(tmp_path, models_dir):
    queue = RunQueue(tmp_path / "runs", models_dir)
    config = tiny()
    config.data.source = str(tmp_path / "gone.jsonl")  # disappears before the worker starts
    run = queue.submit("ada", config)
    queue.start()
    assert queue.wait_idle(300)
    failed = queue.get(run.id)
    assert failed.status == "failed" and "gone.jsonl: no such data file" in failed.message


def test_worker_that_cannot_start_fails_the_run_once(tmp_path, monkeypatch):
    import trainer.runs

    def no_processes(*args, **kwargs):
        raise OSError("fork failed: out of process slots")

    monkeypatch.setattr(trainer.runs.subprocess, "Popen", no_processes)
    queue = RunQueue(tmp_path / "runs", tmp_path)
    run = queue.submit("ada", tiny())
    assert queue.backend._run_next() is True
    failed = queue.get(run.id)
    assert failed.status == "failed" and "fork failed" in failed.message
    assert queue.backend._run_next() is False  # not retried forever


@pytest.mark.parametrize("run_id", ["..", ".", "../runs", "a/b", "", "-x"])
def test_a_run_id_that_is_a_path_names_no_run(tmp_path, run_id: str) -> None:
    """Issue 15, item 7: "." and ".." were valid run ids, so a run folder could be the runs folder itself."""
    (tmp_path / "runs").mkdir()
    planted = {"id": "x", "owner": "ada", "task": "sentiment", "status": "done", "created": 0.0}
    (tmp_path / "run.json").write_text(json.dumps(planted), encoding="utf-8")  # what "runs/.." would read
    with pytest.raises(RunError, match="no run"):
        RunQueue(tmp_path / "runs", tmp_path / "models").get(run_id)
