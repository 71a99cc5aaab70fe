"""The strategy advisor's learned signal reader (issue 14): real fine-tuning of the packaged MiniLM
with a LoRA adapter and one head per signal, the shipped reader on signals said in other words,
and the word rules as its fallback."""

from __future__ import annotations

import shutil

import pytest

from tutor.advisors import signal_reader, strategy
from tutor.advisors.base import AdvisorRequest
from tutor.advisors.signal_reader import READER_DIR, SIGNALS, SignalCase, train
from tutor.advisors.text_reader import Recipe
from tutor.rag.index import packaged_embedding_dir

pytestmark = pytest.mark.timeout(300)

SLICE = [
    SignalCase("Patient letters may not leave the hospital network.", {"private": True}),
    SignalCase("The importer rejects anything that is not exactly our CSV layout.", {"strict_format": True}, 40),
    SignalCase("Our price list is revised every Monday.", {"changing": True}, 0),
    SignalCase("Reviewers picked the better of two drafts for months.", {"preference": True}, 3000),
    SignalCase("We write short poems for fun.", {}),
]


def test_training_moves_the_adapter_and_the_saved_reader_reads_it_back(tmp_path) -> None:
    """LoRA starts with B = 0, so a nonzero B proves the adapter learned; the saved files load into
    a reader that learned the slice it saw, one signal per sentence."""
    from safetensors.torch import load_file

    out = train(SLICE * 4, str(packaged_embedding_dir()), tmp_path / "reader", Recipe(epochs=4), log=lambda _: None)
    weights = load_file(str(out / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and all(float(t.abs().max()) > 0 for t in lora_b)
    reader = signal_reader.load_reader(out)
    assert reader is not None
    readings = [reader.read(case.text) for case in SLICE]
    assert [set(r.signals) for r in readings] == [set(case.signals) for case in SLICE]
    assert [r.examples for r in readings] == ["unstated", "few", "none", "many", "unstated"]
    assert "Cases stating each signal: private 4, strict_format 4" in (out / "README.md").read_text(encoding="utf-8")


# Sentences written for this test (none in the reader's training data): each signal said the way
# people say it, without the word lists' keywords, and three denied in ordinary words. The advisor
# raises a signal when the reader or the word rules read it; the rules alone read 3 of the 9.
# Known misses (docs/benchmarks.md) are strict xfails: they fail the suite once they are read right.
def known_miss(*values: str):
    return pytest.param(*values, marks=pytest.mark.xfail(strict=True, reason="a known miss of the reader"))


SAID_IN_OTHER_WORDS = [
    known_miss("Legal would have my head if a single contract left the building.", "private"),
    ("Whatever it writes goes straight into the ledger import, which refuses any line out of place.",
     "strict_format"),
    # Read since dev12 by the words "a model garbles" (a known miss of the reader before).
    ("Our engineers write in ATA chapter references and MEL item numbers that ChatGPT garbles.", "vocabulary"),
    ("Fares and timetables are republished every fortnight.", "changing"),
    ("The bot must sound like our cheerful mascot in every single reply.", "behaviour"),
    ("For a year our editors have chosen the better of two generated headlines.", "preference"),
    ("All we have is one second-hand gaming GPU and no money for cloud time.", "low_budget"),
    ("Honestly, a two-line prompt to GPT-4o already gets this right.", "already_works"),
    ("We want to build our own base model on 3 trillion tokens with a $30M grant.", "from_scratch"),
]  # fmt: skip
DENIED = [
    ("It is all public data from our website, nothing sensitive.", "private"),
    ("Any prose is fine; the layout does not matter.", "strict_format"),
    ("The product range has not changed in ten years.", "changing"),
]


def raised(text: str) -> set[str]:
    signals = strategy.read_signals(text)
    return {name for name in SIGNALS if getattr(signals, name)}


@pytest.mark.parametrize(("text", "signal"), SAID_IN_OTHER_WORDS)
def test_the_advisor_reads_signals_said_in_other_words(text: str, signal: str) -> None:
    assert signal_reader.signal_reader() is not None  # offline: the packaged embedder and the shipped adapter
    assert signal in raised(text)


@pytest.mark.parametrize(("text", "signal"), DENIED)
def test_a_denied_signal_is_not_raised(text: str, signal: str) -> None:
    assert signal not in raised(text)


def test_the_shipped_reader_is_small_and_decides_for_the_advisor() -> None:
    """The adapter is small enough for git, and the advisor's decision comes from its reading:
    private data said without a keyword, at volume, with examples in hand, means fine-tuning."""
    assert (READER_DIR / "adapter_model.safetensors").stat().st_size < 5_000_000
    rec = strategy.analyse(
        AdvisorRequest("Legal would have my head if a claim file left the building. 30k claims a day, 9,000 triaged.")
    )
    assert "fine-tuning" in rec.approach and rec.method == "lora"


def test_asking_whether_fine_tuning_is_worth_it_is_not_saying_prompting_works() -> None:
    """The lab's own question, asked with the facts in it: a question states no "prompting already
    works" (the reader read it so, and the decision became prompting)."""
    rec = strategy.analyse(AdvisorRequest("Is fine-tuning worth it for strict JSON at 50,000 notes per day?"))
    assert (rec.approach, rec.method) == (["prompting", "fine-tuning"], "lora")
    said = strategy.analyse(AdvisorRequest("Is fine-tuning worth it? A plain prompt already nails it every time."))
    assert said.approach == ["prompting"]


def test_a_damaged_adapter_falls_back_to_the_word_rules(tmp_path) -> None:
    broken = tmp_path / "reader"
    shutil.copytree(READER_DIR, broken)
    (broken / "heads.safetensors").write_bytes(b"version https://git-lfs.github.com/spec/v1\n")  # an LFS pointer
    assert signal_reader.load_reader(broken) is None
    (broken / "heads.safetensors").unlink()
    assert signal_reader.load_reader(broken) is None


@pytest.mark.parametrize(
    ("text", "have", "few"),
    [
        ("We only have the handful of replies our founder wrote, maybe forty or so.", 40, True),
        ("We have about 1,100 old deeds where a clerk typed the XML by hand.", 1100, False),
        ("We have 3 years of his release notes, about 150.", 150, False),
        ("Our editors picked the better of two headlines for 6,000 prompts.", 6000, False),
        ("Nobody has labelled a single transcript yet.", 0, True),
        ("We send about 200 of these a day.", None, False),
    ],
)
def test_examples_on_hand_are_read_with_the_reader(text: str, have: int | None, few: bool) -> None:
    """A count no pattern reads ("forty or so", "1,100 old deeds where a clerk typed the XML") is
    taken from the sentence the reader reads as the count, and not a number of years; "the better
    of two" does not hide the count; nothing said about examples leaves it unknown."""
    signals = strategy.read_signals(text)
    assert (signals.have, signals.few_examples) == (have, few)


def test_without_the_reader_the_word_rules_decide(monkeypatch) -> None:
    monkeypatch.setattr(strategy, "signal_reader", lambda: None)
    signals = strategy.read_signals("The data is confidential and every answer must be strict JSON.")
    assert signals.private and signals.strict_format
    assert {name for name in SIGNALS if getattr(signals, name)} == {"private", "strict_format"}
