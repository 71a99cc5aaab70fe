"""The QLoRA lab through the running app (gradio_client), in class mode: one learner starts a run,
stops it, resumes it, compares and exports; another learner is refused that run on every endpoint.

One training run serves every test here (module-scoped fixtures), and the compare view is checked
against the truth: the base model's and the adapter's own greedy answers, computed in the test.
"""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass

import pytest
from gradio_client.exceptions import AppError

from tests.conftest import advisor_settings, app_client, free_port, serve
from tests.trainer.conftest import tiny_run
from tutor import accounts
from tutor.core import Core

# Real training processes: a minute or two each on an idle 2-core machine, several times that on
# a busy shared one (CI). The 300 s default is for hangs in ordinary tests.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

STEPS = 6
ADA, BOB, GRACE = ("ada", "ada-password"), ("bob", "bob-password"), ("grace", "grace-password")
# A trained sentiment adapter answers a bare label; the base model writes a sentence or more.
COMPARE_INPUTS = [
    "Operating profit fell 40% and jobs were cut.",
    "Net sales rose 25% and the company raised its outlook.",
]


@dataclass
class LabApp:
    url: str
    core: Core


@dataclass
class FinishedRun:
    id: str
    statuses: list[str]  # what /qlora_status said, in order, without repeats
    stopped: dict  # /qlora_status once the stop took effect
    done: dict  # /qlora_status at the end


@pytest.fixture(scope="module")
def lab_app(tmp_path_factory, shared_data_dir):
    """The app in class mode with learners ada and bob and instructor grace, on the shared models folder."""
    folder = tmp_path_factory.mktemp("qlora-class")
    core = Core.start(advisor_settings(folder, shared_data_dir, port=free_port(), mode="class"))
    accounts.add_user(core.store, *ADA, "learner")
    accounts.add_user(core.store, *BOB, "learner")
    accounts.add_user(core.store, *GRACE, "instructor")
    for url in serve(core):
        yield LabApp(url, core)


def wait_for_status(client, run_id: str, done, seen: list[str], timeout: float = 500) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = client.predict(run_id, api_name="/qlora_status")
        if not seen or seen[-1] != status["status"]:
            seen.append(status["status"])
        if done(status):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.5)


def refused_everywhere(client, run_id: str) -> None:
    """Every qlora_* endpoint that takes a run id refuses a run of someone else."""
    theirs = "belongs to someone else"
    with pytest.raises(AppError, match=theirs):
        client.predict(run_id, api_name="/qlora_status")
    with pytest.raises(AppError, match=theirs):
        client.predict(run_id, api_name="/qlora_stop")
    with pytest.raises(AppError, match=theirs):
        client.predict(run_id, api_name="/qlora_resume")
    with pytest.raises(AppError, match=theirs):
        client.predict(run_id, COMPARE_INPUTS[0], api_name="/qlora_compare")
    for kind in ("adapter", "merged", "gguf", "report"):
        with pytest.raises(AppError, match=theirs):
            client.predict(run_id, kind, api_name="/qlora_export")


@pytest.fixture(scope="module")
def finished_run(lab_app) -> FinishedRun:
    """Ada's run, started, stopped after a step, resumed and finished; bob is refused it meanwhile."""
    ada, bob = app_client(lab_app.url, auth=ADA), app_client(lab_app.url, auth=BOB)
    with pytest.raises(AppError, match=r"training\.learning_rate"):
        ada.predict("training:\n  learning_rate: -1\n", api_name="/qlora_start")
    # A server file, another learner's folder, any model folder: refused before anything is read.
    for attack in ("/etc/passwd", "../bob/anything.csv", f"{lab_app.core.settings.data_dir}/tutor.db"):
        with pytest.raises(AppError, match=r"data\.source: use 'builtin' or a file you uploaded"):
            ada.predict(tiny_run(steps=STEPS).replace("source: builtin", f"source: {attack}"), api_name="/qlora_start")
    with pytest.raises(AppError, match=r"model\.name: this lab trains the packaged model"):
        ada.predict(tiny_run(steps=STEPS) + "model:\n  name: /etc\n", api_name="/qlora_start")
    run_id = ada.predict(tiny_run(steps=STEPS), api_name="/qlora_start")
    with pytest.raises(AppError, match="already have a run"):
        ada.predict(tiny_run(steps=STEPS), api_name="/qlora_start")
    refused_everywhere(bob, run_id)  # while it is queued or running: bob's stop must not stop it

    statuses: list[str] = []
    wait_for_status(ada, run_id, lambda s: s["step"] >= 1 or s["status"] not in ("queued", "running"), statuses)
    assert ada.predict(run_id, api_name="/qlora_stop") == run_id
    stopped = wait_for_status(ada, run_id, lambda s: s["status"] not in ("queued", "running"), statuses)
    with pytest.raises(AppError, match="has not finished"):
        ada.predict(run_id, COMPARE_INPUTS[0], api_name="/qlora_compare")
    refused_everywhere(bob, run_id)  # and while it is stopped: bob cannot resume it

    assert ada.predict(run_id, api_name="/qlora_resume") == run_id
    done = wait_for_status(ada, run_id, lambda s: s["status"] not in ("queued", "running"), statuses)
    refused_everywhere(bob, run_id)  # and once it is done
    return FinishedRun(run_id, statuses, stopped, done)


def test_a_run_stops_on_request_and_resumes_to_the_end(finished_run):
    stopped, done = finished_run.stopped, finished_run.done
    assert stopped["status"] == "stopped", stopped
    assert 1 <= stopped["step"] < STEPS and stopped["metrics"] is None, stopped
    assert done["status"] == "done", done
    assert done["step"] == STEPS and done["metrics"]["after"]["metric"] == "accuracy", done
    statuses = finished_run.statuses  # e.g. queued, running, stopped, queued, running, done
    assert statuses[-1] == "done" and "stopped" in statuses, statuses
    assert "running" in statuses[: statuses.index("stopped")], statuses


def test_compare_shows_the_base_and_the_adapter_each_answering_greedily(finished_run, lab_app, models_dir):
    """Base (adapter off) and tuned (adapter on) equal the answers of the base model alone and of the
    adapter on a fresh base, computed here, so an adapter left on, or swapped outputs, fail."""
    from peft import PeftModel

    from trainer.evaluate import generate_answers
    from trainer.model import detect_hardware, load_base_model, load_tokenizer, resolve_base

    ada = app_client(lab_app.url, auth=ADA)
    shown = [tuple(ada.predict(finished_run.id, text, api_name="/qlora_compare")) for text in COMPARE_INPUTS]

    base_ref, _ = resolve_base("", models_dir)
    tokenizer = load_tokenizer(base_ref)
    hardware, model_cfg = detect_hardware(), lab_app.core.qlora.runs.config(finished_run.id).model
    # One input at a time, as the lab answers them (no padding).
    base = load_base_model(base_ref, model_cfg, hardware)
    base_answers = [generate_answers(base, tokenizer, "sentiment", [text])[0] for text in COMPARE_INPUTS]
    adapter = lab_app.core.qlora.runs.folder(finished_run.id) / "adapter"
    tuned = PeftModel.from_pretrained(load_base_model(base_ref, model_cfg, hardware), adapter)
    tuned_answers = [generate_answers(tuned, tokenizer, "sentiment", [text])[0] for text in COMPARE_INPUTS]

    assert shown == list(zip(base_answers, tuned_answers, strict=True))
    assert base_answers != tuned_answers  # the two columns are two different models


def test_exports_are_the_owners(finished_run, lab_app):
    ada = app_client(lab_app.url, auth=ADA)
    archive = ada.predict(finished_run.id, "adapter", api_name="/qlora_export")
    with zipfile.ZipFile(archive) as zipped:
        assert {"adapter_config.json", "adapter_model.safetensors"} <= set(zipped.namelist())
    with pytest.raises(AppError, match="unknown export 'gguf-q2'"):
        ada.predict(finished_run.id, "gguf-q2", api_name="/qlora_export")


def test_a_gguf_export_is_written_by_a_worker_process(finished_run, lab_app):
    """Issue 15, item 5: exports ran inside the web process; now a worker converts, one at a time."""
    path = lab_app.core.qlora.export("ada", finished_run.id, "gguf")
    assert path.name == "model-f16.gguf" and path.read_bytes()[:4] == b"GGUF"
    assert not path.is_relative_to(lab_app.core.settings.data_dir)  # a copy for Gradio, not the run's file


def test_an_instructor_lists_and_deletes_any_run_through_the_api(finished_run, lab_app):
    """Last in this module: it deletes the shared run."""
    bob, grace = app_client(lab_app.url, auth=BOB), app_client(lab_app.url, auth=GRACE)
    with pytest.raises(AppError, match="only instructors"):
        bob.predict(api_name="/lab_runs")
    table = grace.predict(api_name="/lab_runs")
    rows = {row[0]: row for row in table["data"]}
    assert rows[finished_run.id][1:4] == ["ada", "sentiment", "done"] and rows[finished_run.id][5] > 0
    with pytest.raises(AppError, match="belongs to someone else"):
        bob.predict(finished_run.id, api_name="/qlora_delete")
    assert "deleted" in grace.predict(finished_run.id, api_name="/delete_any_run")
    with pytest.raises(AppError, match="no run"):
        app_client(lab_app.url, auth=ADA).predict(finished_run.id, api_name="/qlora_status")
