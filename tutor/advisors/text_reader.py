"""A learned reader of learners' own words: the packaged sentence embedder (all-MiniLM-L6-v2, 22M
parameters) with a LoRA adapter and small linear heads, one per question it answers ("which task
type?", "is the data private?").

Word lists and similarity to a few example phrasings do not carry to the next batch of people's
descriptions: people say what they mean in ways no list foresees. So the advisors apply the
course's own recipe to themselves: fine-tune with LoRA on a few hundred labelled examples in the
exact form of the job. The evaluation designer (eval_reader.py) and the strategy advisor
(signal_reader.py) each ship such a reader, trained by a script in bench/ on DEV cases only.

One ``ReaderModel`` class serves training and reading, so the two cannot drift apart.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

UPSTREAM_NAME = "sentence-transformers/all-MiniLM-L6-v2"  # the packaged embedder's upstream name
MAX_TOKENS = 128  # a longer conversation keeps its end (the latest words)
SCALE = 8.0  # the unit-length embedding is scaled before the heads, so softmax can be confident
HEADS_FILE = "heads.safetensors"


@dataclass(frozen=True)
class Recipe:
    """How a reader is fine-tuned; saved beside the adapter (recipe.json)."""

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


@dataclass(frozen=True)
class Example:
    """One labelled text: for each head, the index of the right class."""

    text: str
    labels: Mapping[str, int]


class ReaderModel:
    """MiniLM with the adapter, mean pooling and one linear head per question."""

    def __init__(
        self, embedder_dir: str, recipe: Recipe, heads: Mapping[str, int], adapter_dir: Path | None = None
    ) -> None:
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
        self.heads = torch.nn.ModuleDict({name: torch.nn.Linear(width, size) for name, size in heads.items()})
        if adapter_dir is not None:
            from safetensors.torch import load_file

            self.heads.load_state_dict(load_file(str(adapter_dir / HEADS_FILE)))

    def embed(self, texts: Sequence[str]):
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        return self.torch.nn.functional.normalize(pooled, dim=-1) * SCALE

    def logits(self, texts: Sequence[str]) -> dict:
        vectors = self.embed(texts)
        return {name: head(vectors) for name, head in self.heads.items()}

    def probabilities(self, text: str) -> dict[str, list[float]]:
        """Each head's class probabilities for one text, in eval mode."""
        self.encoder.eval()
        self.heads.eval()
        with self.torch.no_grad():
            return {name: self.torch.softmax(out[0], dim=-1).tolist() for name, out in self.logits([text]).items()}


def read_recipe(reader_dir: Path) -> Recipe:
    saved = json.loads((reader_dir / "recipe.json").read_text(encoding="utf-8"))
    return Recipe(**{k: v for k, v in saved.items() if k in Recipe.__dataclass_fields__})


def load(embedder_dir: str, reader_dir: Path, heads: Mapping[str, int]) -> ReaderModel:
    """A saved reader in eval mode (raises when the files are missing, truncated or mismatched)."""
    model = ReaderModel(embedder_dir, read_recipe(reader_dir), heads, adapter_dir=reader_dir)
    model.encoder.eval()
    model.heads.eval()
    return model


def load_or_none(reader_dir: Path, heads: Mapping[str, int]) -> ReaderModel | None:
    """The reader saved in ``reader_dir``, or None when it cannot load (no embedder, a missing,
    truncated or mismatched adapter): the advisor then falls back to its word rules."""
    from safetensors import SafetensorError

    from tutor.llm import quiet_loading
    from tutor.rag.index import RetrievalError, packaged_embedding_dir

    if not (reader_dir / HEADS_FILE).exists():
        return None
    quiet_loading()
    try:
        return load(str(packaged_embedding_dir()), reader_dir, heads)
    except (RetrievalError, OSError, ImportError, ValueError, RuntimeError, SafetensorError):
        return None


def process_wide(load: Callable[..., T | None]) -> Callable[..., T | None]:
    """``load`` run once per process for each argument list, on first use (about 1 s), under a lock
    so that two learners' first requests at once load it once; its answer, None included, is kept."""
    lock = threading.Lock()
    loaded = cache(load)

    def get(*args):
        with lock:
            return loaded(*args)

    return get


def train(
    examples: Sequence[Example],
    heads: Mapping[str, int],
    embedder_dir: str,
    out_dir: Path,
    recipe: Recipe,
    card: str,
    log: Callable[[str], None] = print,
) -> Path:
    """Fine-tune the adapter and heads on labelled examples (summed cross-entropy of the heads) and
    save them to ``out_dir``: adapter (peft), heads.safetensors, recipe.json and the model card.
    Deterministic for a given recipe and example list."""
    import torch

    if not examples:
        raise ValueError("no labelled cases to train the reader on")
    torch.manual_seed(recipe.seed)
    order = random.Random(recipe.seed)
    model = ReaderModel(embedder_dir, recipe, heads)
    optimiser = new_optimiser(model, recipe)
    examples = list(examples)
    model.encoder.train()
    for epoch in range(recipe.epochs):
        order.shuffle(examples)
        total = 0.0
        for start in range(0, len(examples), recipe.batch_size):
            batch = examples[start : start + recipe.batch_size]
            logits = model.logits([e.text for e in batch])
            loss = sum(
                torch.nn.functional.cross_entropy(logits[name], torch.tensor([e.labels[name] for e in batch]))
                for name in heads
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(batch)
        log(f"epoch {epoch + 1}/{recipe.epochs}: loss {total / len(examples):.4f}")
    return save(model, out_dir, recipe, len(examples), card)


def new_optimiser(model: ReaderModel, recipe: Recipe):
    """AdamW over the adapter and the heads, each at its own learning rate."""
    import torch

    adapter = [p for p in model.encoder.parameters() if p.requires_grad]
    return torch.optim.AdamW(
        [{"params": adapter, "lr": recipe.adapter_lr}, {"params": model.heads.parameters(), "lr": recipe.head_lr}],
        weight_decay=0.01,
    )


def save(model: ReaderModel, out_dir: Path, recipe: Recipe, cases: int, card: str) -> Path:
    """The adapter (peft), heads.safetensors, recipe.json and the model card, in ``out_dir``."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    model.encoder.save_pretrained(str(out_dir))
    config_file = out_dir / "adapter_config.json"  # name the base, not this machine's install path
    config = json.loads(config_file.read_text(encoding="utf-8")) | {"base_model_name_or_path": UPSTREAM_NAME}
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    save_file({k: v.detach().contiguous() for k, v in model.heads.state_dict().items()}, str(out_dir / HEADS_FILE))
    (out_dir / "README.md").write_text(card, encoding="utf-8")  # not peft's blank template
    (out_dir / "recipe.json").write_text(
        json.dumps(asdict(recipe) | {"cases": cases}, indent=2) + "\n", encoding="utf-8"
    )
    return out_dir
