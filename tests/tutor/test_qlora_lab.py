"""The QLoRA lab's config editing (core, no browser): Basic choices edit the learner's YAML
without undoing their Advanced edits, and a broken YAML is reported, not replaced."""

from __future__ import annotations

import json
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


def test_a_basic_change_that_keeps_the_rank_keeps_an_advised_alpha(lab) -> None:
    """The advisor's alpha need not be 2 x r; changing only the learning rate or the steps must not
    undo it (a learner who loaded advice and then picked a rate lost the advised alpha)."""
    config = lab.basic_config("sentiment", "builtin", **BASIC)
    config.lora.alpha = 64  # as "Open in the QLoRA lab" loads it: r 16, alpha 64
    edited = lab.edit_config(config.to_yaml(), **{**BASIC, "learning_rate": 1e-4, "max_steps": 80})
    assert (edited.lora.r, edited.lora.alpha, edited.training.learning_rate) == (16, 64, 1e-4)


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


def test_a_utf16_upload_is_stored_as_utf8_and_a_binary_one_is_refused(lab, tmp_path: Path) -> None:
    """Windows Notepad and PowerShell save UTF-16 with a byte-order mark; the lab read it as UTF-8
    and failed with a raw UnicodeDecodeError (as it did for an image)."""
    rows = [f'{{"text": "Sales rose {i}%.", "label": "positive"}}' for i in range(11)]
    upload = tmp_path / "mine.jsonl"
    upload.write_bytes(("\r\n".join([*rows, rows[0]]) + "\r\n").encode("utf-16"))
    preview = lab.preview("sentiment", str(upload), owner="ada")
    assert preview.examples == 12 and not preview.blocking
    assert [(issue.kind, issue.line) for issue in preview.issues] == [("duplicate", 12)]
    image = tmp_path / "image.jsonl"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(LabError, match="binary"):
        lab.preview("sentiment", str(image), owner="ada")


def _run_on(lab, source: str, model: str = "", steps: int = 10) -> str:
    config = lab.default_config()
    config.data.source, config.model.name, config.training.max_steps = source, model, steps
    return config.to_yaml()


def test_the_server_caps_steps_and_each_learners_upload_space(tmp_path: Path) -> None:
    """Issue 15, item 5: the 400-step cap lived only on the slider, and uploads had no quota."""
    core = Core.start(make_settings(tmp_path, lab_max_steps=50, disk_quota_mb=0.0025))
    lab = core.qlora
    for steps in (0, 51, 100_000):  # 0 would mean "every epoch", with no bound
        with pytest.raises(LabError, match=rf"training\.max_steps: between 1 and 50 on this server \(got {steps}\)"):
            lab.check_inputs("ada", lab.parse(_run_on(lab, "builtin", steps=steps)))
    lab.check_inputs("ada", lab.parse(_run_on(lab, "builtin", steps=50)))
    rows = [f'{{"text": "Sales rose {i}%.", "label": "positive"}}' for i in range(12)]
    upload = tmp_path / "mine.jsonl"
    upload.write_text("\n".join(rows) + "\n", encoding="utf-8")  # about 0.6 kB
    for n in range(3):  # 2.5 kB of quota: three files of 0.6 kB (and their 0.2 kB version notes) fit
        upload.write_text("\n".join(rows[n:] + rows[:n]) + "\n", encoding="utf-8")
        lab.preview("sentiment", str(upload), owner="ada")
    upload.write_text("\n".join(rows[5:] + rows[:5]) + "\n", encoding="utf-8")
    with pytest.raises(LabError, match=r"mine\.jsonl: your lab files would pass your 0\.0025 MB"):
        lab.preview("sentiment", str(upload), owner="ada")
    lab.preview("sentiment", str(upload), owner="bob")  # bob has his own space
    core.store.close()


def test_a_run_reads_only_the_learners_own_uploads(lab, tmp_path: Path) -> None:
    """Issue 15, item 2: a config naming a file of the server (or another learner's upload) is
    refused before it is read, and no error quotes a file's words."""
    secret = tmp_path / "secret.csv"
    secret.write_text("text,label\n" + "\n".join(f"row {i},sk-secret-alice" for i in range(12)), encoding="utf-8")
    for source in (str(secret), "../../secret.csv", "/etc/passwd"):
        with pytest.raises(LabError, match=r"data\.source: use 'builtin' or a file you uploaded") as caught:
            lab.start_run("ada", _run_on(lab, source))
        assert "sk-secret" not in str(caught.value)
    rows = [f'{{"text": "Sales rose {i}%.", "label": "positive"}}' for i in range(12)]
    upload = tmp_path / "mine.jsonl"
    upload.write_text("\n".join(rows) + "\n", encoding="utf-8")
    stored = lab.preview("sentiment", str(upload), owner="bob").source
    with pytest.raises(LabError, match=r"data\.source"):
        lab.check_inputs("ada", lab.parse(_run_on(lab, stored)))  # bob's file, ada's run
    lab.check_inputs("bob", lab.parse(_run_on(lab, stored)))  # bob's own file is fine
    # Uploads are named by content: the same name with new rows is a new file, the queued one stays.
    upload.write_text("\n".join(rows[:11]) + "\n", encoding="utf-8")
    again = lab.preview("sentiment", str(upload), owner="bob").source
    assert again != stored and Path(stored).is_file() and Path(stored).parent == Path(again).parent
    # A bad label names its line, not the label.
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([*rows[:11], '{"text": "x y", "label": "sk-secret-alice"}']) + "\n", encoding="utf-8")
    # The preview still shows it (with the critic's findings, so cleaning can fix it); a run refuses it.
    blocking = lab.preview("sentiment", str(bad), owner="bob").blocking
    assert ":12: the label must be one of" in blocking and "sk-secret" not in blocking
    with pytest.raises(LabError) as caught:
        lab.start_run("bob", _run_on(lab, lab.preview("sentiment", str(bad), owner="bob").source))
    assert ":12: the label must be one of" in str(caught.value) and "sk-secret" not in str(caught.value)


def test_only_the_packaged_model_or_one_the_instructor_allows(tmp_path: Path) -> None:
    core = Core.start(make_settings(tmp_path, lab_models=["HuggingFaceTB/SmolLM2-360M-Instruct"]))
    lab = core.qlora
    with pytest.raises(LabError, match=r"model\.name: this lab trains the packaged model .* one of: HuggingFaceTB"):
        lab.check_inputs("ada", lab.parse(_run_on(lab, "builtin", model=str(tmp_path))))
    with pytest.raises(LabError, match=r"data\.source: Hub datasets are switched off"):
        lab.check_inputs("ada", lab.parse(_run_on(lab, "hf:takala/financial_phrasebank")))
    lab.check_inputs("ada", lab.parse(_run_on(lab, "builtin", model="HuggingFaceTB/SmolLM2-360M-Instruct")))
    lab.check_inputs("ada", lab.parse(_run_on(lab, "builtin")))
    core.store.close()


def test_the_hyperparameter_advice_loads_into_the_learners_config(lab) -> None:
    from tutor.advisors import AdvisorRequest, hyperparams
    from tutor.advisors.base import to_json

    rec = hyperparams.analyse(AdvisorRequest(text="Mistral 7B, 5,000 examples, one A100 80GB, domain adaptation"))
    data = json.loads(to_json(rec))
    mine = lab.default_config("summarization")  # the learner switched task and edited the steps
    mine.training.max_steps = 30
    loaded = lab.with_advice(data, mine.to_yaml())
    assert (loaded.lora.r, loaded.lora.alpha, loaded.training.learning_rate) == (16, 32, 2e-4)
    assert loaded.data.task == "summarization" and loaded.training.max_steps == 30  # the learner's own stay
    lab.check_inputs("ada", loaded)  # a config the server accepts
    assert lab.with_advice(data, "not: [yaml").lora.alpha == 32  # a broken box: this machine's default
    for missing in (None, {}, {"lab": "strategy", "config": {}}):
        with pytest.raises(LabError, match="ask the hyperparameter advisor"):
            lab.with_advice(missing, mine.to_yaml())
    with pytest.raises(LabError, match="not one the lab can read"):
        lab.with_advice({"lab": "hyperparams", "config": {"r": "many"}}, mine.to_yaml())
