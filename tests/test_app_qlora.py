"""The QLoRA lab through the running app (gradio_client), in class mode: one learner starts a run,
stops it, resumes it, compares and exports; another learner is refused that run on every endpoint.

One training run serves every test here (module-scoped fixtures), and the compare view is checked
against the truth: the base model's and the adapter's own greedy answers, computed in the test.
"""

from __future__ import annotations

import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from gradio_client.exceptions import AppError

from tests.conftest import advisor_settings, app_client, free_port, serve
from tests.trainer.conftest import tiny_run
from trainer.data import builtin_path
from tutor import accounts
from tutor.core import Core
from tutor.data_cleaning import clean

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


def test_a_finished_run_is_a_local_model_and_its_gguf_compares_with_the_base(finished_run, lab_app):
    """Issue 17: the run's adapter and GGUF appear in its owner's Local models list (not in another
    learner's), quantize there, and compare against the packaged base on held-out sentences."""
    run_id = finished_run.id
    lab_app.core.qlora.export("ada", run_id, "gguf")  # model-f16.gguf in the run's folder
    ada, bob = app_client(lab_app.url, auth=ADA), app_client(lab_app.url, auth=BOB)
    mine = {m["id"]: m for m in ada.predict(api_name="/models_catalog")}
    assert {f"run:{run_id}:adapter", f"run:{run_id}:gguf"} <= set(mine)
    assert mine[f"run:{run_id}:gguf"]["quantization"] == "F16" and mine[f"run:{run_id}:gguf"]["size_mb"] > 200
    assert not any(m["id"].startswith("run:") for m in bob.predict(api_name="/models_catalog"))
    with pytest.raises(AppError, match=f"no model 'run:{run_id}:gguf'"):
        bob.predict(f"run:{run_id}:gguf", "Q8_0", api_name="/models_quantize")

    note, *_ = ada.predict(f"run:{run_id}:gguf", "Q8_0", api_name="/models_quantize")
    assert "model-q8_0.gguf" in note
    assert f"run:{run_id}:gguf:Q8_0" in {m["id"] for m in ada.predict(api_name="/models_catalog")}

    # In a class, a server makes requests from the web host to the address given: instructors add them.
    with pytest.raises(AppError, match="your instructor adds model servers"):
        ada.predict("mine", "http://169.254.169.254/v1", "", "", None, False, api_name="/models_add_server")
    grace = app_client(lab_app.url, auth=GRACE)
    grace.predict("class", "http://127.0.0.1:9/v1", "m", "", 0.2, True, api_name="/models_add_server")
    assert "server:class" in {m["id"] for m in bob.predict(api_name="/models_catalog")}

    compared = ada.predict(["packaged", f"run:{run_id}:gguf"], "sentiment", "", api_name="/models_compare")
    base, tuned = compared["models"]
    assert base["error"] == "" and tuned["error"] == "", compared
    assert base["format"] == tuned["format"] == "GGUF" and len(base["answers"]) == len(tuned["answers"]) == 10
    assert base["quality"] is not None and tuned["quality"] is not None
    assert base["answers"] != tuned["answers"]  # the fine-tuned weights answer differently


# --- issue 18: data versions, the run table, comparisons and guided experiments ---------------------

RAW_NEAR_DUPLICATES = 91  # what the critic finds in the built-in sentiment set as generated (600 rows)
SEVEN = tiny_run(steps=STEPS).replace("data:\n", "data:\n  seed: 7\n", 1)  # a config with data.seed 7


@dataclass
class MoreRuns:
    """Ada's runs besides finished_run (A): B differs from A in one field, C is of another task."""

    b: str
    c: str
    refused_unfinished: str  # the message comparing A with B while B was queued or running
    bob_experiment: list[str]  # bob's guided-experiment runs, cancelled before they started
    bob_table: list[dict]  # bob's /qlora_runs while they were queued


def fields(config) -> dict:
    """A config as ``{"section.field": value}``."""
    return {f"{part}.{name}": v for part, values in config.model_dump().items() for name, v in values.items()}


@pytest.fixture(scope="module")
def more_runs(lab_app, finished_run) -> MoreRuns:
    """Two more one-step runs of ada's (under a minute each on an idle machine) and bob's guided
    experiment, queued behind them and cancelled: the cheapest set of runs every comparison case needs."""
    ada, bob = app_client(lab_app.url, auth=ADA), app_client(lab_app.url, auth=BOB)
    b = ada.predict(tiny_run(steps=1), api_name="/qlora_start")  # only training.max_steps differs from A
    with pytest.raises(AppError, match="only finished runs can be compared") as refused:
        ada.predict([finished_run.id, b], api_name="/qlora_compare_runs")

    experiment = bob.predict("rank", api_name="/qlora_experiment")  # queued behind b
    bob_table = bob.predict(api_name="/qlora_runs")
    for run_id in experiment:
        bob.predict(run_id, api_name="/qlora_stop")
    for run_id in experiment:
        wait_for_status(bob, run_id, lambda s: s["status"] not in ("queued", "running"), [])

    done = wait_for_status(ada, b, lambda s: s["status"] not in ("queued", "running"), [])
    assert done["status"] == "done", done
    summarization = tiny_run(steps=1, eval_steps=10).replace("task: sentiment", "task: summarization")
    c = ada.predict(summarization.replace("max_test_examples: 8", "max_test_examples: 1"), api_name="/qlora_start")
    done = wait_for_status(ada, c, lambda s: s["status"] not in ("queued", "running"), [])
    assert done["status"] == "done", done
    return MoreRuns(b, c, str(refused.value), experiment, bob_table)


def test_cleaning_the_raw_data_saves_a_version_the_config_trains_on(lab_app):
    """Dedupe on the built-in set as generated: the critic's 91 near-duplicates go, the new version
    has 509 rows and no near-duplicate left by the critic's measure, and only its owner can read it."""
    ada, bob = app_client(lab_app.url, auth=ADA), app_client(lab_app.url, auth=BOB)
    raw = ada.predict("sentiment", "builtin:raw", api_name="/qlora_preview")
    assert raw["examples"] == 600 and raw["issue_counts"].get("near_duplicate") == RAW_NEAR_DUPLICATES, raw
    near_twins = {issue["line"] for issue in raw["issues"] if issue["kind"] == "near_duplicate"}

    config = tiny_run(steps=STEPS) + "  seed: 7\n"  # training.seed: a hand edit the cleaning must keep
    cleaned = ada.predict("sentiment", "builtin:raw", ["dedupe"], config, api_name="/qlora_clean")
    assert cleaned["rows"] == 600 - RAW_NEAR_DUPLICATES == 509 and cleaned["parent"] == "builtin:raw"
    (step,) = cleaned["steps"]
    assert (step["action"], step["before"], step["after"]) == ("dedupe", 600, 509)
    assert len(step["removed"]) == len(cleaned["removed_lines"]) == RAW_NEAR_DUPLICATES
    assert set(cleaned["removed_lines"]) == near_twins  # exactly the rows the critic pointed at
    assert all("near-duplicate" in gone["reason"] and gone["input"] for gone in step["removed"])

    version = ada.predict("sentiment", cleaned["source"], api_name="/qlora_preview")
    assert version["examples"] == 509 and "near_duplicate" not in version["issue_counts"], version
    assert version["label"] == cleaned["label"] and "dedupe of built-in (raw)" in version["label"]
    trains_on = lab_app.core.qlora.parse(cleaned["config_yaml"])
    assert trains_on.data.source == cleaned["source"] and trains_on.training.seed == 7
    assert trains_on.training.max_steps == STEPS

    # Leaks are judged against the test set of the learner's own config: its data.seed picks the rows.
    leaks = ada.predict("sentiment", "builtin:raw", ["remove_leaks"], SEVEN, api_name="/qlora_clean")
    raw_text = builtin_path("sentiment", "builtin:raw").read_text(encoding="utf-8")
    for seed in (7, 42):
        by_hand = clean(raw_text, "raw.jsonl", ["remove_leaks"], seed=seed, test_fraction=0.1)
        assert (sorted(gone.line for gone in by_hand.removed) == leaks["removed_lines"]) == (seed == 7)

    with pytest.raises(AppError, match="choose at least one cleaning action"):
        ada.predict("sentiment", "builtin:raw", [], config, api_name="/qlora_clean")
    with pytest.raises(AppError, match="unknown cleaning action 'shuffle'"):
        ada.predict("sentiment", "builtin:raw", ["shuffle"], config, api_name="/qlora_clean")
    # Another learner's version is not theirs to read or clean.
    with pytest.raises(AppError, match="use a built-in set or a file you uploaded or cleaned"):
        bob.predict("sentiment", cleaned["source"], api_name="/qlora_preview")
    with pytest.raises(AppError, match="use a built-in set or a file you uploaded or cleaned"):
        bob.predict("sentiment", cleaned["source"], ["drop_empty"], "", api_name="/qlora_clean")


def test_the_run_table_lists_each_learners_own_runs_with_what_differs(lab_app, finished_run, more_runs):
    ada = app_client(lab_app.url, auth=ADA)
    rows = {row["id"]: row for row in ada.predict(api_name="/qlora_runs")}
    assert set(rows) == {finished_run.id, more_runs.b, more_runs.c}  # none of bob's
    a, b, c = rows[finished_run.id], rows[more_runs.b], rows[more_runs.c]
    assert [r["status"] for r in (a, b, c)] == ["done"] * 3
    assert (a["task"], b["task"], c["task"]) == ("sentiment", "sentiment", "summarization")
    assert (a["metric"], c["metric"]) == ("accuracy", "rougeL") and None not in (a["after"], c["after"])
    assert a["after"] == finished_run.done["metrics"]["after"]["value"]

    # The fields that differ from this machine's default config, and nothing that does not (the run's
    # folder and data source always differ; the data has its own column).
    default = fields(lab_app.core.qlora.default_config("sentiment"))
    mine = fields(lab_app.core.qlora.runs.config(a["id"]))
    skipped = ("training.output_dir", "data.source")
    assert a["changes"] == {key: v for key, v in mine.items() if v != default[key] and key not in skipped}
    assert a["changes"]["training.max_steps"] == STEPS and b["changes"]["training.max_steps"] == 1
    assert {key for key in a["changes"] if a["changes"][key] != b["changes"].get(key)} == {"training.max_steps"}
    assert a["data"] == "built-in (clean)" and a["experiment"] == ""

    # Bob's guided experiment: both arms queued at once, labelled, each with its one change.
    arms = {row["id"]: row for row in more_runs.bob_table}
    assert set(arms) == set(more_runs.bob_experiment) and len(arms) == 2
    first, second = (arms[run_id] for run_id in more_runs.bob_experiment)
    assert (first["experiment"], second["experiment"]) == ("Rank 4 vs rank 16 · rank 4", "Rank 4 vs rank 16 · rank 16")
    assert (first["changes"]["lora.r"], second["changes"]["lora.r"]) == (4, 16)
    assert {first["status"], second["status"]} == {"queued"}
    with pytest.raises(AppError, match="no experiment 'dropout'"):
        app_client(lab_app.url, auth=BOB).predict("dropout", api_name="/qlora_experiment")


def test_two_finished_runs_side_by_side_through_the_api(lab_app, finished_run, more_runs):
    """Each column is that run's own: its loss events, its held-out answers, its config."""
    ada, lab = app_client(lab_app.url, auth=ADA), lab_app.core.qlora
    shown = ada.predict([finished_run.id, more_runs.b], api_name="/qlora_compare_runs")
    assert [(r["letter"], r["id"]) for r in shown["runs"]] == [("A", finished_run.id), ("B", more_runs.b)]
    assert shown["config_diff"] == [{"field": "training.max_steps", "A": STEPS, "B": 1}]
    assert shown["data_diff"]["same"] is True and "built-in (clean)" in shown["data_diff_text"]
    assert shown["verdict"] == ""  # not the two arms of a guided experiment

    for letter, run_id in (("A", finished_run.id), ("B", more_runs.b)):
        status = lab.status("ada", run_id)
        metrics = next(row for row in shown["metrics"] if row["run"].startswith(letter))
        assert metrics["after"] == round(status.metrics["after"]["value"], 3)
        assert metrics["before"] == round(status.metrics["before"]["value"], 3)
        train = [(p["step"], p["loss"]) for p in shown["curves"] if p["series"] == f"{letter} ({run_id}) train"]
        assert train == [(p["step"], p["loss"]) for p in status.curve if p["series"] == "training loss"]
        assert len(train) == (STEPS if letter == "A" else 1)
        answered = {s["input"]: s["after"] for s in status.metrics["samples"]}
        assert shown["answers"] and all(row[letter] == answered[row["input"]] for row in shown["answers"])
    # Same data and seed: the same held-out rows, each with the base model's answer and the reference.
    assert all(row["reference"] in ("positive", "negative", "neutral") and row["base"] for row in shown["answers"])

    # The report to download names both runs, and each download leaves no folder of its own behind.
    leftovers = set(Path(tempfile.gettempdir()).glob("tutor-compare-*"))
    report = lab.comparison_report("ada", [finished_run.id, more_runs.b])
    assert report.name == f"comparison-{finished_run.id}-vs-{more_runs.b}.md" and more_runs.b in report.read_text()
    assert set(Path(tempfile.gettempdir()).glob("tutor-compare-*")) == leftovers


def test_comparisons_that_cannot_be_made_say_why(lab_app, finished_run, more_runs):
    ada, bob = app_client(lab_app.url, auth=ADA), app_client(lab_app.url, auth=BOB)
    assert f"run {more_runs.b} is " in more_runs.refused_unfinished  # queued or running at the time
    with pytest.raises(AppError, match=r"different tasks \(sentiment, summarization\)"):
        ada.predict([finished_run.id, more_runs.c], api_name="/qlora_compare_runs")
    with pytest.raises(AppError, match="belongs to someone else"):
        bob.predict([finished_run.id, more_runs.b], api_name="/qlora_compare_runs")
    with pytest.raises(AppError, match=r"pick 2 to 4 runs to compare \(got 1\)"):
        ada.predict([finished_run.id, finished_run.id], api_name="/qlora_compare_runs")
    with pytest.raises(AppError, match=f"run {more_runs.bob_experiment[0]} is cancelled"):
        bob.predict(more_runs.bob_experiment, api_name="/qlora_compare_runs")


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
