"""The Ray backend on a real Ray cluster of two worker nodes, started in the test on this host only
(every node at 127.0.0.1): runs of several learners side by side across the nodes, the lab's live
view of a Ray run, a queued run's place and what it waits for, and a run whose node dies."""

from __future__ import annotations

import os
import time

import pytest

# Before ray is imported: keep loopback addresses as they are (Ray would otherwise rewrite
# 127.0.0.1 to the machine's network address, where these nodes do not listen).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
# The cluster started here runs without Ray's token authentication; say so, so that a token left
# in ~/.ray by 'tutor cluster up' on this machine is not sent to it (trainer.run_ray.connect).
os.environ["RAY_AUTH_MODE"] = "disabled"
ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

from tests.conftest import make_settings  # noqa: E402
from tests.trainer.conftest import tiny_run  # noqa: E402
from trainer.config import parse_config  # noqa: E402
from trainer.progress import read_events  # noqa: E402
from trainer.run_ray import RayBackend, RayResources  # noqa: E402
from trainer.runs import RunQueue  # noqa: E402
from trainer.train import LOG_NAME, latest_checkpoint  # noqa: E402
from tutor.training_lab import TrainingLab  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# What a local run leaves in its folder (tests/trainer/test_runs.py runs them): the same must reach
# the app from a node.
LOCAL_ARTEFACTS = {
    "adapter",
    "config.yaml",
    "loss.svg",
    "metrics.json",
    "metrics_before.json",
    "progress.jsonl",
    "report.md",
    "worker.log",
}


@pytest.fixture(scope="module")
def cluster():
    """A head without CPUs (nothing trains on it) and two nodes of 2 CPUs each."""
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "node_ip_address": "127.0.0.1", "include_dashboard": False},
    )
    for _ in range(2):
        cluster.add_node(num_cpus=2, node_ip_address="127.0.0.1")
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def wait_for(predicate, timeout: float = 400, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
    return result


def node_id(run) -> str:
    return run.node.split()[-1]  # "127.0.0.1 1a2b3c4d": the address and the node id's start


def test_four_learners_train_side_by_side_across_two_nodes(cluster, tmp_path, models_dir):
    settings = make_settings(
        tmp_path,
        runs_backend="ray",
        runs_ray_address=cluster.address,
        runs_cpus=1,
        runs_node_models_dir=str(models_dir),
    )
    lab = TrainingLab(settings)
    yaml_text = tiny_run(steps=4, eval_steps=100)
    first = lab.start_run("ada", yaml_text)  # through the lab, as the tab does
    others = [lab.runs.submit(owner, parse_config(yaml_text)) for owner in ("bob", "cy", "dee")]
    runs = [first, *others]
    # The four fill the cluster's 4 CPUs; a fifth learner waits in the cluster's queue.
    wait_for(lambda: all(lab.runs.get(r.id).status == "running" for r in runs), 120, "four runs to start")
    late = lab.runs.submit("eve", parse_config(yaml_text))
    queued = wait_for(
        lambda: (s := lab.status("eve", late.id)).run.attempts and "0 of 4 CPUs free" in s.waiting_for and s,
        30,
        "the fifth run to wait for a free CPU",
    )
    assert queued.run.status == "queued" and queued.position == 0, queued
    assert "1 CPU on the Ray cluster" in queued.waiting_for
    assert lab.stop("eve", late.id).status == "cancelled"

    live = wait_for(
        lambda: (s := lab.status("ada", first.id)).run.status == "running" and s.progress.step >= 1 and s,
        300,
        "live steps of a Ray run in the lab",
    )
    assert any(line.startswith("step ") for line in live.log_tail), live.log_tail
    assert live.curve and live.curve[0]["series"] == "training loss"

    assert lab.runs.wait_idle(400)
    ended = [lab.runs.get(r.id) for r in runs]
    assert [r.status for r in ended] == ["done"] * 4, [r.message for r in ended]
    assert max(r.started for r in ended) < min(r.finished for r in ended)  # all four trained at once
    assert len({node_id(r) for r in ended}) == 2  # across both nodes
    for run in ended:
        folder = lab.runs.folder(run.id)
        assert {p.name for p in folder.iterdir()} >= LOCAL_ARTEFACTS, sorted(p.name for p in folder.iterdir())
        assert (folder / "adapter" / "adapter_model.safetensors").stat().st_size > 100_000
        assert latest_checkpoint(folder) is not None  # resumable here, whatever happens to the node
        events = read_events(folder / LOG_NAME)
        assert [e["step"] for e in events if e["event"] == "step"] == [1, 2, 3, 4]
        assert events[-1]["event"] == "done"
    done = lab.status("ada", first.id)
    assert done.metrics is not None and done.metrics["after"]["metric"] == "accuracy"
    cancelled = lab.runs.get(late.id)
    assert cancelled.status == "cancelled" and not (lab.runs.folder(late.id) / LOG_NAME).exists()


def test_a_run_whose_node_dies_resumes_from_its_checkpoint_on_another_node(cluster, tmp_path, models_dir):
    backend = RayBackend(cluster.address, RayResources(cpus=2), node_models_dir=str(models_dir))
    queue = RunQueue(tmp_path / "runs", models_dir, backend=backend)
    config = parse_config(tiny_run(steps=6, eval_steps=100))  # a checkpoint every 2 steps
    doomed, other = queue.submit("ada", config), queue.submit("bob", config)
    queue.start()
    folder = queue.folder(doomed.id)
    wait_for(lambda: latest_checkpoint(folder) is not None, 300, "a checkpoint of the first run on the app host")
    running = queue.get(doomed.id)
    assert running.status == "running" and node_id(running) != node_id(queue.get(other.id))  # 2 CPUs each
    victim = next(n for n in cluster.worker_nodes if n.node_id.startswith(node_id(running)))
    saved = int(latest_checkpoint(folder).name.split("-")[-1])
    cluster.remove_node(victim)
    cluster.add_node(num_cpus=2, node_ip_address="127.0.0.1")  # a replacement joins, as an autoscaler would

    assert queue.wait_idle(400)
    survivor, resumed = queue.get(other.id), queue.get(doomed.id)
    assert survivor.status == "done" and survivor.attempts == 1, survivor  # untouched
    assert resumed.status == "done", resumed.message
    assert resumed.attempts == 2 and node_id(resumed) != node_id(running)
    assert "resumed from its last checkpoint" in resumed.message
    events = read_events(folder / LOG_NAME)
    starts = [e for e in events if e["event"] == "start"]
    assert len(starts) == 2, starts
    resumed_at = int(starts[1]["resume_from"].rsplit("-", 1)[-1])  # .../checkpoint-N on the new node
    assert resumed_at >= saved
    after = [e["step"] for e in events[events.index(starts[1]) :] if e["event"] == "step"]
    assert after[0] == resumed_at + 1 and after[-1] == 6  # went on from the checkpoint, not from step 1
    assert (folder / "adapter" / "adapter_config.json").is_file()


def test_a_restarted_app_takes_over_a_run_that_an_instructor_then_stops_and_its_learner_resumes(
    cluster, tmp_path, models_dir
):
    """The actors are detached and named after their run, so the web app can restart mid-run; Stop
    and Resume work on the cluster as on this host."""
    config = parse_config(tiny_run(steps=6, eval_steps=100))  # a checkpoint every 2 steps
    node_side = {"node_models_dir": str(models_dir)}
    before = RunQueue(tmp_path / "runs", models_dir, backend=RayBackend(cluster.address, **node_side))
    run = before.submit("ada", config)
    before.start()
    wait_for(lambda: before.get(run.id).status == "running", 120, "the run to start")
    before.backend.close()  # the app goes away; the run trains on
    after = RunQueue(tmp_path / "runs", models_dir, backend=RayBackend(cluster.address, **node_side))
    after.start()
    folder = after.folder(run.id)
    wait_for(lambda: latest_checkpoint(folder) is not None, 300, "a checkpoint copied by the new app")
    after.stop(run.id, None)  # an instructor's stop: any learner's run
    wait_for(lambda: not after.get(run.id).active, 120, "the run to stop")
    stopped = after.get(run.id)
    assert stopped.status == "stopped" and stopped.attempts == 1, stopped.message  # the same actor throughout
    steps = [e["step"] for e in read_events(folder / LOG_NAME) if e["event"] == "step"]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) < 6  # every line once, stopped early
    after.resume(run.id, "ada")
    assert after.wait_idle(300)
    ended = after.get(run.id)
    assert ended.status == "done" and ended.attempts == 2, ended.message
    steps = [e["step"] for e in read_events(folder / LOG_NAME) if e["event"] == "step"]
    assert steps[-1] == 6 and (folder / "adapter" / "adapter_model.safetensors").is_file()
