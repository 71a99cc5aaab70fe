"""The run backends' bookkeeping, without a cluster: what happens to a run whose node is lost,
runs left by a server that used the other backend, and what travels between app and node.
The same paths on a real two-node Ray cluster: test_runs_ray.py."""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

import pytest

from tests.conftest import make_settings
from tests.trainer.conftest import tiny_run
from trainer.config import parse_config
from trainer.run_ray import RayBackend, RayResources, RayUnavailable, connect, pack, unpack
from trainer.runs import RunQueue
from tutor.training_lab import LabError, TrainingLab


def ray_queue(tmp_path: Path, **options) -> RunQueue:
    """A queue with the Ray backend bound but not started: no cluster is reached."""
    return RunQueue(tmp_path / "runs", tmp_path / "models", backend=RayBackend("127.0.0.1:1", **options))


def running(queue: RunQueue, owner: str = "ada"):
    run = queue.submit(owner, parse_config(tiny_run()))
    run.status, run.node, run.started, run.attempts = "running", "10.0.0.7 1a2b3c4d", 1.0, 1
    queue.save(run)
    return run


def checkpoint(queue: RunQueue, run_id: str, step: int) -> None:
    folder = queue.folder(run_id) / f"checkpoint-{step}"
    folder.mkdir()
    (folder / "trainer_state.json").write_text("{}", encoding="utf-8")


def test_a_run_lost_with_its_node_resumes_from_its_checkpoint_at_most_twice(tmp_path):
    queue = ray_queue(tmp_path)
    run = running(queue)
    checkpoint(queue, run.id, 4)
    for node in ("10.0.0.7 1a2b3c4d", "10.0.0.8 5e6f7a8b"):
        queue.backend._lost(queue.get(run.id), None)
        again = queue.get(run.id)
        assert again.status == "queued" and again.resume and again.node == ""
        assert f"the node training it ({node}) was lost; it resumes from checkpoint-4" in again.message
        again.status, again.node = "running", "10.0.0.8 5e6f7a8b"
        queue.save(again)
    queue.backend._lost(queue.get(run.id), None)  # a third node: the run stops trying
    ended = queue.get(run.id)
    assert ended.status == "interrupted" and ended.extra["node_losses"] == 3
    assert "lost 3 times, more than this server's 2" in ended.message
    assert "resume continues from the last checkpoint" in ended.message  # the learner can still resume


def test_a_run_lost_before_its_first_checkpoint_ends_with_the_reason(tmp_path):
    queue = ray_queue(tmp_path)
    run = running(queue)
    queue.backend._lost(queue.get(run.id), None)
    ended = queue.get(run.id)
    assert ended.status == "interrupted"
    assert ended.message == "the node training it (10.0.0.7 1a2b3c4d) was lost; no checkpoint was saved yet"


def test_runs_left_under_another_backend_are_adopted_or_interrupted(tmp_path):
    ray = ray_queue(tmp_path)
    waiting = ray.submit("bob", parse_config(tiny_run()))
    training = running(ray)
    local = RunQueue(tmp_path / "runs", tmp_path / "models")  # the server restarts with runs_backend local
    assert local.get(training.id).status == "running"  # reading the runs (tutor runs list) changes nothing
    local.adopt_runs()  # what start() does first
    assert local.get(waiting.id).backend == "local" and local.get(waiting.id).status == "queued"
    gone = local.get(training.id)
    assert gone.status == "interrupted" and "under the ray backend, which this server no longer uses" in gone.message


def test_a_queued_ray_run_says_what_it_waits_for(tmp_path):
    queue = ray_queue(tmp_path, resources=RayResources(cpus=4, gpus=1, memory_mb=16000))
    first, second = (queue.submit(owner, parse_config(tiny_run())) for owner in ("ada", "bob"))
    queue.backend._free = (float("inf"), {"CPU": 2.0}, {"CPU": 8.0, "GPU": 2.0})  # as read from the cluster
    assert [queue.position(r.id) for r in (first, second)] == [0, 1]
    assert queue.waiting_for(queue.get(second.id)) == (
        "4 CPUs, 1 GPU, 16,000 MB of memory on the Ray cluster, which has 2 of 8 CPUs and 0 of 2 GPUs free now"
    )
    assert RayResources(cpus=1).options() == {"num_cpus": 1, "num_gpus": 0.0}


def test_a_qlora_config_asks_for_a_gpu_where_the_cluster_has_one(tmp_path):
    queue = ray_queue(tmp_path, resources=RayResources(cpus=2))
    qlora = parse_config(tiny_run())
    qlora.model.quantization = "4bit"
    lora = parse_config(tiny_run())
    queue.backend._free = (float("inf"), {}, {"CPU": 8.0})  # a CPU-only cluster: it would wait for ever
    assert queue.backend.resources_for(qlora).gpus == 0
    queue.backend._free = (float("inf"), {}, {"CPU": 8.0, "GPU": 2.0})
    assert queue.backend.resources_for(qlora).gpus == 1 and queue.backend.resources_for(lora).gpus == 0


def test_what_travels_between_app_and_node_stays_inside_its_folder(tmp_path):
    source = tmp_path / "run"
    (source / "adapter").mkdir(parents=True)
    (source / "adapter" / "adapter_config.json").write_text("{}", encoding="utf-8")
    (source / "report.md").write_text("# report", encoding="utf-8")
    target = tmp_path / "copy"
    target.mkdir()
    unpack(pack(source), target)
    assert (target / "adapter" / "adapter_config.json").is_file() and (target / "report.md").is_file()

    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as tar:
        data = b"overwritten"
        member = tarfile.TarInfo("../outside.txt")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    with pytest.raises(tarfile.OutsideDestinationError):
        unpack(evil.getvalue(), target)
    assert not (tmp_path / "outside.txt").exists()


def test_a_cluster_that_is_not_there_is_reported_at_once_and_no_run_is_made(tmp_path):
    """ray.init alone retries an address where nothing listens for minutes (measured: over 5)."""
    pytest.importorskip("ray")
    started = time.monotonic()
    with pytest.raises(RayUnavailable, match=r"could not reach the Ray cluster at 127\.0\.0\.1:1"):
        connect("127.0.0.1:1")
    lab = TrainingLab(make_settings(tmp_path, runs_backend="ray", runs_ray_address="127.0.0.1:1"))
    with pytest.raises(LabError, match="Start one with 'tutor cluster up'"):
        lab.start_run("ada", tiny_run(steps=2))
    assert time.monotonic() - started < 15
    assert lab.runs.runs() == []


def test_a_run_lost_as_it_stops_stays_stopped_and_a_resume_gets_a_fresh_allowance(tmp_path):
    queue = ray_queue(tmp_path)
    run = running(queue)
    checkpoint(queue, run.id, 2)
    queue.backend._lost(queue.get(run.id), None)  # one node lost and the run resumed elsewhere...
    again = queue.get(run.id)
    again.status = "running"
    queue.save(again)
    queue.backend._lost(again, None, stopping=True)  # ...then the learner pressed Stop and that node died too
    stopped = queue.get(run.id)
    assert stopped.status == "stopped" and "was lost as it stopped; resume continues from checkpoint-2" in (
        stopped.message
    )
    resumed = queue.resume(run.id, "ada")
    assert resumed.status == "queued" and "node_losses" not in resumed.extra


def test_a_run_whose_upload_is_gone_fails_with_the_reason_instead_of_waiting(tmp_path):
    queue = ray_queue(tmp_path)
    config = parse_config(tiny_run())
    config.data.source = str(tmp_path / "uploads" / "ada" / "gone.jsonl")  # deleted after it was queued
    run = queue.submit("ada", config)
    queue.backend._launch(queue.get(run.id))
    failed = queue.get(run.id)
    assert failed.status == "failed" and failed.message.startswith("could not start it on the cluster: ")
    assert "gone.jsonl" in failed.message
