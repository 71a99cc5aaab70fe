"""Cleaning actions on planted data (exactly the planted rows go), the shipped clean sets, data
versions and their lineage, and ``tutor data clean``."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from trainer.data import builtin_path, split_position
from tutor import data_versions
from tutor.advisors import dataset_checks
from tutor.cli import main
from tutor.data_cleaning import ACTIONS, CleanError, clean
from tutor.settings import Settings
from tutor.training_lab import LabError, TrainingLab

VOCABULARY = (
    "amber basin cobalt delta ember fjord granite harbor iris juniper kelp lagoon marble nectar onyx pine quartz "
    "raven saffron tundra umber violet willow xenon yarrow zephyr anchor beacon canyon dune estuary falcon glacier "
    "heron island jetty kestrel lantern meadow nebula orchard prairie quarry reef summit thicket upland valley"
)
WORDS = VOCABULARY.split(" ")
LONG = 20  # words in a filler sentence: one changed word keeps ~80% of the word pairs


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, LONG)) + "."


def _test_row_and_twin(rng: random.Random) -> tuple[str, str]:
    """A sentence the seed-42 hash puts in the test set, and a near-copy of it that lands in train."""
    while True:
        text = _sentence(rng)
        twin = text.replace(text.split()[-1], "lighthouse.")
        if split_position(text, 42) < 0.1 <= split_position(twin, 42):
            return text, twin


def planted() -> tuple[str, dict[str, set[int]]]:
    """A JSONL file with one planted problem per kind; the lines each action must remove."""
    rng = random.Random(7)
    rows: list[object] = [{"text": _sentence(rng), "label": rng.choice(["positive", "negative", "neutral"])}]
    for _ in range(13):
        rows.append({"text": _sentence(rng), "label": rng.choice(["positive", "negative", "neutral"])})
    first = rows[0]["text"]
    rows.append(dict(rows[0]))  # line 15: an exact duplicate of line 1
    rows.append({"text": first.replace(first.split()[3], "walrus"), "label": rows[0]["label"]})  # 16: near line 1
    rows.append({"text": "", "label": "neutral"})  # 17: empty input
    rows.append({"text": _sentence(rng), "label": ""})  # 18: empty answer
    rows.append({"headline": _sentence(rng), "sentiment": "positive"})  # 19: no fields the trainer reads
    rows.append({"text": " ".join(rng.choices(WORDS, k=400)), "label": "neutral"})  # 20: over-long
    rows.append({"text": _sentence(rng), "label": "Positive "})  # 21: label case
    test_text, twin = _test_row_and_twin(rng)
    rows.append({"text": test_text, "label": "negative"})  # 22: a held-out test row
    rows.append({"text": twin, "label": "negative"})  # 23: its near-copy in train: a leak
    text = "".join(json.dumps(row) + "\n" for row in rows)
    return text, {"drop_empty": {17, 18, 19, 20}, "dedupe": {15, 16, 23}, "remove_leaks": {23}}


def _removed(result, action: str) -> set[int]:
    return {gone.line for step in result.steps if step.action == action for gone in step.removed}


@pytest.mark.parametrize("action", ["drop_empty", "dedupe", "remove_leaks"])
def test_each_action_removes_exactly_the_planted_rows(action):
    text, expected = planted()
    result = clean(text, "planted.jsonl", [action])
    assert _removed(result, action) == expected[action]
    step = result.steps[0]
    assert (step.before, step.after) == (23, 23 - len(expected[action]))
    assert all(gone.reason for gone in step.removed)
    assert sorted(result.lines) == sorted(set(range(1, 24)) - expected[action])


def test_normalising_labels_rewrites_only_the_odd_label():
    text, _ = planted()
    result = clean(text, "planted.jsonl", ["lower_labels"])
    assert result.steps[0].changed == 1 and not result.steps[0].removed
    assert result.rows[20]["label"] == "positive"  # line 21
    assert [row for i, row in enumerate(result.rows) if i != 20] == [
        json.loads(line) for i, line in enumerate(text.splitlines()) if i != 20
    ]


def test_all_actions_leave_data_the_critic_finds_nothing_wrong_with():
    text, expected = planted()
    result = clean(text, "planted.jsonl", ACTIONS)
    gone = {gone.line for gone in result.removed}
    assert gone == expected["drop_empty"] | expected["dedupe"]  # the leak was a near-duplicate too
    issues, _ = dataset_checks.critique(result.jsonl(), "clean.jsonl")
    assert not [i for i in issues if i.kind in ("duplicate", "near_duplicate", "empty_output", "schema")]


def test_the_test_row_stays_and_its_training_twin_goes():
    text, _ = planted()
    kept = clean(text, "planted.jsonl", ["remove_leaks"]).lines
    assert 22 in kept and 23 not in kept


def test_a_broken_line_stops_the_cleaning_with_its_line_number():
    text, _ = planted()
    lines = text.splitlines()
    lines[4] = '{"text": "cut short'
    with pytest.raises(CleanError, match=r"planted\.jsonl:5: not valid JSON"):
        clean("\n".join(lines), "planted.jsonl", ["dedupe"])
    with pytest.raises(CleanError, match="unknown cleaning action 'shuffle'"):
        clean(text, "planted.jsonl", ["shuffle"])


@pytest.mark.parametrize("task", ["sentiment", "summarization"])
def test_the_shipped_clean_sets_are_the_raw_sets_cleaned_and_pass_the_critic(task):
    raw, shipped = builtin_path(task, "builtin:raw"), builtin_path(task)
    result = clean(raw.read_text(encoding="utf-8"), raw.name, ACTIONS)
    assert result.jsonl() == shipped.read_text(encoding="utf-8")  # the data card's command rebuilds it
    issues, _ = dataset_checks.critique(shipped.read_text(encoding="utf-8"), shipped.name, task_text=task)
    assert issues == []
    raw_issues, _ = dataset_checks.critique(raw.read_text(encoding="utf-8"), raw.name, task_text=task)
    assert sum(i.kind == "near_duplicate" for i in raw_issues) > 20  # the worked example keeps its problems


# --- versions and lineage --------------------------------------------------------------------------


@pytest.fixture
def lab(tmp_path) -> TrainingLab:
    return TrainingLab(Settings(data_dir=tmp_path / "var"))


def test_cleaning_in_the_lab_saves_a_version_with_its_parent_and_what_went(lab, tmp_path):
    text, expected = planted()
    upload = tmp_path / "mine.jsonl"
    upload.write_text(text, encoding="utf-8")
    source = lab.preview("sentiment", str(upload), owner="ada").source
    first = lab.clean_data("ada", "sentiment", source, ["drop_empty"])
    second = lab.clean_data("ada", "sentiment", first.version.path, ["dedupe"])
    chain = data_versions.lineage(second.version.path)
    assert [v.origin for v in chain] == ["clean", "clean", "upload"]
    assert chain[0].parent == chain[1].id and chain[1].parent == chain[2].id and chain[2].name == "mine.jsonl"
    assert {r["line"] for r in chain[1].steps[0]["removed"]} == expected["drop_empty"]
    stored = Path(second.version.path)
    assert stored.name == data_versions.content_id(stored.read_bytes()) + ".jsonl"  # named by its content
    assert "dedupe of" in data_versions.describe_source(second.version.path)
    # The same cleaning again is the same version: the sidecar (its history) is not rewritten.
    again = lab.clean_data("ada", "sentiment", first.version.path, ["dedupe"])
    assert again.version == second.version
    # The learner's versions list: newest first, this task's and the upload (task unknown), nobody else's.
    listed = lab.versions("ada", "sentiment")
    assert [v.id for v in listed] == [second.version.id, first.version.id, chain[2].id]
    assert [v.id for v in lab.versions("ada", "summarization")] == [chain[2].id]
    assert lab.versions("bob", "sentiment") == []


def test_cleaning_the_raw_builtin_set_gives_the_shipped_clean_rows(lab):
    outcome = lab.clean_data("ada", "sentiment", "builtin:raw", ["dedupe"])
    assert outcome.version.parent == "builtin:raw" and outcome.version.rows == 509
    assert len(outcome.cleaned.removed) == 91
    assert Path(outcome.version.path).is_relative_to(lab.uploads / "ada")


def test_cleaning_refuses_other_learners_files_and_leaves_nothing_half_written(lab, tmp_path):
    theirs = lab.clean_data("bob", "sentiment", "builtin:raw", ["dedupe"]).version.path
    with pytest.raises(LabError, match="a file you uploaded or cleaned in this lab"):
        lab.clean_data("ada", "sentiment", theirs, ["dedupe"])
    with pytest.raises(LabError, match="a file you uploaded or cleaned in this lab"):
        lab.clean_data("ada", "sentiment", "/etc/passwd", ["dedupe"])
    tiny = tmp_path / "tiny.jsonl"
    tiny.write_text("".join(json.dumps({"text": "same words here", "label": "neutral"}) + "\n" for _ in range(12)))
    source = lab.preview("sentiment", str(tiny), owner="ada").source
    before = sorted(p.name for p in (lab.uploads / "ada").iterdir())
    with pytest.raises(LabError, match="would leave 1 rows"):
        lab.clean_data("ada", "sentiment", source, ["dedupe"])
    assert sorted(p.name for p in (lab.uploads / "ada").iterdir()) == before


# --- the command line ------------------------------------------------------------------------------


def test_tutor_data_clean_writes_the_file_and_names_each_removed_line(tmp_path, capsys):
    text, expected = planted()
    source, out = tmp_path / "planted.jsonl", tmp_path / "clean.jsonl"
    source.write_text(text, encoding="utf-8")
    assert main(["data", "clean", str(source), "--dedupe", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for line in expected["dedupe"]:
        assert f"{source}:{line}: removed:" in printed
    assert len(out.read_text(encoding="utf-8").splitlines()) == 23 - len(expected["dedupe"])
    assert main(["data", "clean", str(source), "--all", "--json", "--out", str(out)]) == 0
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert [s["action"] for s in steps] == list(ACTIONS)


def test_tutor_data_clean_refuses_what_it_cannot_do(tmp_path, capsys):
    source = tmp_path / "planted.jsonl"
    source.write_text(planted()[0], encoding="utf-8")
    assert main(["data", "clean", str(source), "--out", str(tmp_path / "x.jsonl")]) == 1
    assert "choose at least one action" in capsys.readouterr().err
    assert main(["data", "clean", str(source), "--dedupe", "--out", str(source)]) == 1
    assert "the original stays as it is" in capsys.readouterr().err
    assert main(["data", "clean", str(tmp_path / "none.jsonl"), "--dedupe", "--out", str(tmp_path / "y.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists() and not (tmp_path / "y.jsonl").exists()
