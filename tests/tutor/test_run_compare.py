"""The run table, the comparison of runs and the guided experiments' verdicts, read from run
folders written here the way the trainer writes them (the app tests compare real runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer import atomic
from trainer.data import DataSection, load_examples, split_examples
from trainer.runs import Run
from tutor.cli import main
from tutor.experiments import EXPERIMENTS, near_twins, verdict
from tutor.run_compare import markdown
from tutor.settings import Settings
from tutor.training_lab import LabError, TrainingLab


@pytest.fixture
def lab(tmp_path) -> TrainingLab:
    return TrainingLab(Settings(data_dir=tmp_path / "var"))


def _samples(source: str, answer) -> list[dict]:
    data = DataSection(task="sentiment", source=source, max_test_examples=60)
    test = split_examples(load_examples(data), data).test
    return [{"input": e.input, "reference": e.output, "before": "neutral", "after": answer(e)} for e in test]


def finished(lab: TrainingLab, owner: str, changes: dict, *, after: float, losses: list[float], answer, extra=None):
    """A finished run's folder: config, run.json, event log and metrics, as the trainer leaves them."""
    config = lab.default_config("sentiment")
    for key, value in changes.items():
        section, name = key.split(".")
        setattr(getattr(config, section), name, value)
    run = lab.runs.submit(owner, config, extra)
    folder = lab.runs.folder(run.id)
    events = [{"event": "step", "step": i + 1, "max_steps": len(losses), "loss": v} for i, v in enumerate(losses)]
    events += [{"event": "eval", "step": len(losses), "eval_loss": losses[-1] + 0.1}]
    (folder / "progress.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    samples = _samples(config.data.source, answer)
    metrics = {
        "before": {"metric": "accuracy", "value": 0.4, "examples": len(samples), "details": {"accuracy": 0.4}},
        "after": {"metric": "accuracy", "value": after, "examples": len(samples), "details": {"accuracy": after}},
        "seconds": 150.0,
        "trainable_params": 460_800,
        "samples": samples,
    }
    atomic.write_text(folder / "metrics.json", json.dumps(metrics))
    run = Run(**{**json.loads((folder / "run.json").read_text()), "status": "done", "started": 1.0, "finished": 151.0})
    atomic.write_text(folder / "run.json", json.dumps(run.__dict__))
    return run


def right(example) -> str:
    return example.output


def test_the_run_table_shows_each_runs_data_changes_and_metric(lab):
    a = finished(lab, "ada", {}, after=0.87, losses=[1.0, 0.5], answer=right)
    b = finished(lab, "ada", {"training.learning_rate": 1e-4}, after=0.6, losses=[1.0, 0.9], answer=right)
    finished(lab, "bob", {}, after=0.9, losses=[1.0, 0.4], answer=right)
    rows = lab.run_table("ada")
    assert [r.id for r in rows] == [b.id, a.id]  # newest first, only ada's
    assert rows[0].changes == {"training.learning_rate": 1e-4} and rows[1].changes == {}
    assert rows[0].data == "built-in (clean)" and (rows[0].before, rows[0].after) == (0.4, 0.6)
    assert rows[0].seconds == 150.0 and rows[0].status == "done"


def test_comparing_two_runs_overlays_curves_and_diffs_only_what_differs(lab):
    a = finished(lab, "ada", {}, after=0.87, losses=[1.0, 0.6, 0.3], answer=right)
    b = finished(lab, "ada", {"lora.r": 16, "lora.alpha": 32}, after=0.8, losses=[1.0, 0.7, 0.4], answer=right)
    comparison = lab.compare_runs("ada", [a.id, b.id])
    assert [row["field"] for row in comparison.config_diff] == ["lora.r", "lora.alpha"]
    assert comparison.config_diff[0] == {"field": "lora.r", "A": 8, "B": 16}
    series = {row["series"] for row in comparison.curves}
    assert series == {f"A ({a.id}) train", f"A ({a.id}) eval", f"B ({b.id}) train", f"B ({b.id}) eval"}
    assert comparison.data_diff["same"] is True
    assert len(comparison.answers) >= 40 and all(row["A"] == row["reference"] for row in comparison.answers)
    report = markdown(comparison)
    assert "| `lora.r` | `8` | `16` |" in report and "0.870" in report and "+0.470" in report


def test_raw_and_clean_runs_share_held_out_rows_and_show_the_data_diff(lab):
    raw = finished(lab, "ada", {"data.source": "builtin:raw"}, after=0.97, losses=[1.0, 0.2], answer=right)
    clean = finished(lab, "ada", {}, after=0.87, losses=[1.0, 0.3], answer=right)
    comparison = lab.compare_runs("ada", [raw.id, clean.id])
    diff = comparison.data_diff
    assert diff["counts"] == {"A": 600, "B": 508} and diff["shared"] == 508
    assert len(diff["only"]["A"]) == 92 and diff["only"]["B"] == []
    assert {"field": "data.source", "A": "built-in (raw)", "B": "built-in (clean)"} in comparison.config_diff
    # The clean run's held-out rows are the raw run's minus the removed ones (hash split).
    assert len(comparison.answers) >= 40


def test_comparisons_the_lab_refuses_with_a_reason(lab):
    a = finished(lab, "ada", {}, after=0.87, losses=[1.0, 0.5], answer=right)
    b = finished(lab, "ada", {}, after=0.86, losses=[1.0, 0.5], answer=right)
    theirs = finished(lab, "bob", {}, after=0.9, losses=[1.0, 0.4], answer=right)
    running = lab.runs.submit("ada", lab.default_config("sentiment"))
    summary = lab.runs.submit("ada", lab.default_config("summarization"))
    with pytest.raises(LabError, match="belongs to someone else"):
        lab.compare_runs("ada", [a.id, theirs.id])
    with pytest.raises(LabError, match=f"run {running.id} is queued; only finished runs"):
        lab.compare_runs("ada", [a.id, running.id])
    run = lab.runs.get(summary.id)
    atomic.write_text(lab.runs.folder(run.id) / "run.json", json.dumps({**run.__dict__, "status": "done"}))
    with pytest.raises(LabError, match=r"different tasks \(sentiment, summarization\)"):
        lab.compare_runs("ada", [a.id, summary.id])
    with pytest.raises(LabError, match="pick 2 to 4 runs"):
        lab.compare_runs("ada", [a.id])
    with pytest.raises(LabError, match="pick 2 to 4 runs"):
        lab.compare_runs("ada", [a.id, a.id])
    assert lab.compare_runs("ada", [a.id, b.id]).runs[1].run.id == b.id


def _arms(lab, experiment_id: str, metrics: list[tuple[float, list[float]]], answers=(right, right), owner="ada"):
    experiment = EXPERIMENTS[experiment_id]
    runs = []
    for arm, (after, losses), answer in zip(experiment.arms, metrics, answers, strict=True):
        extra = {"experiment": experiment.id, "experiment_title": experiment.title, "arm": arm.label, "pair": "p1"}
        runs.append(finished(lab, owner, arm.changes, after=after, losses=losses, answer=answer, extra=extra))
    return experiment, lab.compare_runs(owner, [r.id for r in runs])


def test_raw_vs_clean_is_judged_on_held_out_rows_no_run_trained_on_a_near_twin_of(lab):
    """A raw run that only beats the clean one on rows whose near-twins it trained on has not shown
    that near-duplicates help: the lesson's point is that such rows flatter the score."""
    _, first = _arms(lab, "raw-vs-clean", [(0.9, [1.0, 0.2]), (0.9, [1.0, 0.3])], owner="probe")
    twins = near_twins(first)
    assert twins and len(twins) < len(first.answers)  # the raw set's near-duplicates reach its test rows

    def wrong_on_twins(example) -> str:
        return "nonsense" if example.input in twins else example.output

    experiment, comparison = _arms(
        lab, "raw-vs-clean", [(1.0, [1.0, 0.2]), (0.9, [1.0, 0.3])], answers=(right, wrong_on_twins)
    )
    text = verdict(experiment, comparison)
    fair = len(comparison.answers) - len(twins)
    assert f"{len(twins)} of them have a near-twin" in text and "there the runs score A 1.000, B 0.000" in text
    assert f"On the other {fair}, which no run saw anything like: A 1.000, B 1.000." in text
    assert "agree with the lesson" in text
    # The same gap on rows nobody saw a twin of is a real difference, and the verdict says so.
    experiment, comparison = _arms(
        lab, "raw-vs-clean", [(1.0, [1.0, 0.2]), (0.5, [1.0, 0.3])], answers=(right, lambda e: "nonsense"), owner="cy"
    )
    assert "do **not** show what the lesson expects" in verdict(experiment, comparison)


def test_a_verdict_quotes_the_measured_figures_and_says_when_the_lesson_held(lab):
    experiment, comparison = _arms(lab, "learning-rate", [(0.87, [1.2, 0.3]), (0.5, [1.2, 0.9])])
    text = verdict(experiment, comparison)
    assert "0.400 → 0.870" in text and "0.400 → 0.500" in text and "final training loss 0.300" in text
    assert "150 s on this machine" in text and "agree with the lesson" in text


def test_a_verdict_says_so_when_the_runs_disagree_with_the_lesson(lab):
    experiment, comparison = _arms(lab, "rank", [(0.9, [1.0, 0.3]), (0.6, [1.0, 0.5])])
    text = verdict(experiment, comparison)
    assert "do **not** show what the lesson expects" in text and "0.400 → 0.600" in text


def test_tutor_runs_list_and_compare(lab, tmp_path, capsys):
    a = finished(lab, "ada", {}, after=0.87, losses=[1.0, 0.5], answer=right)
    b = finished(lab, "ada", {"training.learning_rate": 1e-4}, after=0.6, losses=[1.0, 0.9], answer=right)
    where = ["--data-dir", str(lab.settings.data_dir)]
    assert main([*where, "runs", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [b.id, a.id] and rows[0]["changes"] == {"training.learning_rate": 0.0001}
    out = tmp_path / "report.md"
    assert main([*where, "runs", "compare", a.id, b.id, "--out", str(out)]) == 0
    assert "`training.learning_rate` | `0.001` | `0.0001`" in out.read_text(encoding="utf-8")
    assert main([*where, "runs", "compare", a.id]) == 1
    assert "pick 2 to 4 runs" in capsys.readouterr().err


def test_an_experiment_queues_both_arms_and_refuses_while_a_run_is_active(lab, monkeypatch):
    monkeypatch.setattr(lab, "start", lambda: None)  # queue only: no worker trains here
    runs = lab.start_experiment("ada", "raw-vs-clean")
    configs = [lab.runs.config(r.id) for r in runs]
    assert [c.data.source for c in configs] == ["builtin:raw", "builtin"]
    assert [r.extra["arm"] for r in runs] == ["raw data", "clean data"]
    assert runs[0].extra["pair"] == runs[1].extra["pair"]
    with pytest.raises(LabError, match="already have a run queued"):
        lab.start_experiment("ada", "rank")
    with pytest.raises(LabError, match="no experiment 'bigger-model'"):
        lab.start_experiment("bob", "bigger-model")
    again = [lab.runs.config(r.id) for r in lab.start_experiment("bob", "rank", seed=7)]
    assert [(c.lora.r, c.training.seed, c.data.seed) for c in again] == [(4, 7, 42), (16, 7, 42)]
    assert Path(lab.runs.folder(runs[0].id) / "config.yaml").is_file()
