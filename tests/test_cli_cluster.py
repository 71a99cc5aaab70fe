"""``tutor cluster up|status|down`` for real: a one-host Ray cluster on 127.0.0.1 that the app's
settings then reach, token authentication included; and ``tutor runs stop`` for any learner's run."""

from __future__ import annotations

import json

import pytest

from tests.conftest import free_port
from tests.test_cli import run_tutor
from tests.trainer.conftest import tiny_run
from trainer.config import parse_config
from trainer.runs import RunQueue

pytest.importorskip("ray")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_cluster_up_gives_a_cluster_the_app_reaches_and_down_stops_it(tmp_path, monkeypatch):
    # As a user's shell has it: no Ray authentication mode chosen (test_runs_ray.py sets one for
    # its own in-process cluster when it is collected).
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    port = free_port()
    up = run_tutor("cluster", "up", "--port", str(port), "--cpus", "1")
    try:
        assert up.returncode == 0, up.stderr
        assert f'runs_ray_address = "127.0.0.1:{port}"' in up.stdout
        assert "~/.ray/auth_token" in up.stdout  # the head asks for Ray's token
        env = {"TUTOR_RUNS_BACKEND": "ray", "TUTOR_RUNS_RAY_ADDRESS": f"127.0.0.1:{port}"}
        status = run_tutor("--data-dir", str(tmp_path / "var"), "cluster", "status", "--json", env=env)
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        assert [(n["address"], n["alive"], n["cpus"]) for n in report["nodes"]] == [("127.0.0.1", True, 1.0)]
        assert report["free"]["CPU"] == 1.0 and report["runs"] == []
    finally:
        down = run_tutor("cluster", "down")
    assert down.returncode == 0, down.stderr
    env = {"TUTOR_RUNS_BACKEND": "ray", "TUTOR_RUNS_RAY_ADDRESS": f"127.0.0.1:{port}"}
    gone = run_tutor("--data-dir", str(tmp_path / "var"), "cluster", "status", env=env)
    assert gone.returncode == 1 and f"could not reach the Ray cluster at 127.0.0.1:{port}" in gone.stderr


def test_cluster_status_says_when_runs_train_on_this_host(tmp_path):
    status = run_tutor("--data-dir", str(tmp_path / "var"), "cluster", "status")
    assert status.returncode == 1
    assert "runs_backend is 'local': runs train on this host" in status.stderr


def test_an_instructor_stops_any_learners_run_from_the_command_line(tmp_path):
    queue = RunQueue(tmp_path / "var" / "runs", tmp_path / "var" / "models")
    run = queue.submit("ada", parse_config(tiny_run()))
    stopped = run_tutor("--data-dir", str(tmp_path / "var"), "runs", "stop", run.id)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == f"{run.id} (ada): cancelled"
    assert queue.get(run.id).status == "cancelled"
    missing = run_tutor("--data-dir", str(tmp_path / "var"), "runs", "stop", "no-such-run")
    assert missing.returncode == 1 and "no run 'no-such-run'" in missing.stderr
