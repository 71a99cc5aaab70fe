"""The evaluation designer's learned reader (issue 14): real fine-tuning of the packaged MiniLM with a
LoRA adapter and heads, the shipped reader's decisions, and the word rules as its fallback."""

from __future__ import annotations

import pytest

from tutor.advisors import eval_reader, evaluation
from tutor.advisors.base import AdvisorRequest
from tutor.advisors.eval_reader import READER_DIR, EvalReader, Recipe, TrainingCase, train
from tutor.rag.index import packaged_embedding_dir

pytestmark = pytest.mark.timeout(300)

SLICE = [
    TrainingCase("It pulls the dose and route out of each prescription into JSON.", "structured extraction",
                 "medical", True),
    TrainingCase("It decides for each ticket which of our three teams gets it.", "classification",
                 "customer support", False),
    TrainingCase("It turns a forty-page lease into a paragraph the partner can read.", "summarisation", "legal", True),
    TrainingCase("It writes the SQL our analysts need for the ledger.", "code generation", "financial", True),
    TrainingCase("It chats with players as a grumpy innkeeper. Just for fun.", "open-ended generation", "general",
                 False),
]  # fmt: skip


def test_training_moves_the_adapter_and_the_saved_reader_reads_it_back(tmp_path) -> None:
    """LoRA starts with B = 0, so a nonzero B proves the adapter learned; the saved files load
    into a reader that answers in the labels' own terms and learned the slice it saw."""
    from safetensors.torch import load_file

    out = train(SLICE * 4, str(packaged_embedding_dir()), tmp_path / "reader", Recipe(epochs=4), log=lambda _: None)
    weights = load_file(str(out / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and all(float(t.abs().max()) > 0 for t in lora_b)
    reader = EvalReader(str(packaged_embedding_dir()), out)
    readings = [reader.read(case.text) for case in SLICE]
    assert [r.task for r in readings] == [c.task for c in SLICE]
    assert [r.domain for r in readings] == [c.domain for c in SLICE]
    assert all(0 < r.confidence <= 1 for r in readings)


def test_the_shipped_reader_is_packaged_and_reads_tasks_without_their_keywords() -> None:
    assert (READER_DIR / "adapter_model.safetensors").stat().st_size < 5_000_000  # small enough for git
    reader = eval_reader.eval_reader()
    assert reader is not None
    # Two dev cases (bench/eval_cases_dev4.yaml) the word rules got wrong: no task word is used.
    reading = reader.read("community pharmacy - boils the full drug monograph down to half a page for the counter")
    assert (reading.task, reading.domain, reading.high_stakes) == ("summarisation", "medical", True)
    reading = reader.read("Payroll analytics: it turns what the analyst asks into something the warehouse can run.")
    assert (reading.task, reading.domain) == ("code generation", "financial")
    # The domain is the work's (recipes), the stakes are the sentence about harm; the word rules
    # called this medical.
    reading = reader.read("It sorts our recipes into categories. A wrong answer could hurt someone with an allergy.")
    assert (reading.task, reading.domain, reading.high_stakes) == ("classification", "general", True)


def test_without_the_reader_the_word_rules_decide(monkeypatch) -> None:
    monkeypatch.setattr(evaluation, "eval_reader", lambda: None)
    rec = evaluation.analyse(AdvisorRequest(text="It reads patient intake forms and extracts each allergy."))
    assert (rec.task_type, rec.domain, rec.high_stakes) == ("structured extraction", "medical", True)
