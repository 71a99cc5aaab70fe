"""The QLoRA lab's config editing (core, no browser): Basic choices edit the learner's YAML
without undoing their Advanced edits, and a broken YAML is reported, not replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_settings
from tutor.core import Core
from tutor.training_lab import LabError

BASIC = {"learning_rate": 5e-4, "rank": 16, "max_steps": 30, "quantize": False}


@pytest.fixture
def lab(tmp_path: Path):
    core = Core.start(make_settings(tmp_path))
    yield core.qlora
    core.store.close()


def test_basic_choices_keep_the_learners_other_edits(lab) -> None:
    config = lab.basic_config("sentiment", "builtin", **BASIC)
    config.training.seed = 7  # edited by hand in the Advanced box
    config.lora.dropout = 0.2
    edited = lab.edit_config(config.to_yaml(), **{**BASIC, "rank": 4, "max_steps": 50})
    assert (edited.lora.r, edited.lora.alpha, edited.training.max_steps) == (4, 8, 50)
    assert edited.training.seed == 7 and edited.lora.dropout == 0.2
    assert edited.training.learning_rate == 5e-4


def test_a_broken_yaml_is_named_not_replaced(lab) -> None:
    with pytest.raises(LabError, match=r"config:2: training\.learning_rate"):
        lab.edit_config("training:\n  learning_rate: fast\n", **BASIC)
    with pytest.raises(LabError, match=r"training\.max_steps"):  # a bad Basic value is named too
        lab.edit_config(lab.default_config().to_yaml(), **{**BASIC, "max_steps": -5})


def test_new_data_changes_only_the_source(lab, tmp_path: Path) -> None:
    config = lab.basic_config("sentiment", "builtin", **BASIC)
    config.training.seed = 123
    moved = lab.with_source(config.to_yaml(), str(tmp_path / "mine.jsonl"))
    assert moved.data.source == str(tmp_path / "mine.jsonl") and moved.training.seed == 123


def test_another_task_starts_from_its_own_defaults(lab) -> None:
    summarization = lab.basic_config("summarization", "builtin", **BASIC)
    assert summarization.data.task == "summarization"
    assert summarization.data.max_length == lab.default_config("summarization").data.max_length


def test_preview_returns_the_critics_findings_as_data(lab, tmp_path: Path) -> None:
    from labs.qlora_tab import preview_markdown

    rows = [f'{{"text": "Sales rose {i}%.", "label": "positive"}}' for i in range(11)]
    upload = tmp_path / "mine.jsonl"
    upload.write_text("\n".join([*rows, rows[0]]) + "\n", encoding="utf-8")  # line 12 repeats line 1
    preview = lab.preview("sentiment", str(upload), owner="ada")
    assert preview.examples == 12 and preview.labels == {"positive": 12}
    assert preview.issues and sum(preview.issue_counts.values()) == len(preview.issues)
    assert any(issue.line == 12 for issue in preview.issues)
    note = preview_markdown(preview)
    assert note.startswith("**12 examples** from `") and "The dataset critic found" in note
