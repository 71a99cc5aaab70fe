"""Quotes from the course: a chunk's Markdown read as sentences, and the sentence that answers
ranked first (with a stand-in scorer: embeddings are word counts, so the test knows the ranking)."""

from __future__ import annotations

import pytest

from tutor.advisors.extractive import RANKER_WEIGHT, QuoteScorer, best_quotes, plain_units, rank_sentences
from tutor.rag import Passage
from tutor.rag.lexical import Bm25, terms

CHUNK = """Lesson › Data

Most tools expect one JSON object per line (JSONL):

| Goal | Examples | Why |
|---|---|---|
| Style or tone | 50–500 | The model already can. |

| | Full fine-tuning | LoRA |
|---|---|---|
| GPU memory | 350 GB | 20 GB |
| Human rating | Experts rate *each* output blind, with a rubric and a second rater | The same |

OLMo is the strongest fully reproducible model. Its corpus Dolma holds about 3 trillion tokens.

- **NF4 (4-bit NormalFloat)**, a 4-bit data type suited to normally distributed weights;
- [ ] Split off a held-out test set before you train anything.

```python
training_args = TrainingArguments(
    lr_scheduler_type="cosine",  # decays smoothly
)
```
See [the QLoRA section](peft.md#qlora) for the memory arithmetic in detail."""


def test_markdown_is_read_as_quotable_sentences() -> None:
    assert plain_units(CHUNK) == [
        "Most tools expect one JSON object per line (JSONL).",
        "Style or tone — Examples: 50–500; Why: The model already can.",
        "GPU memory — Full fine-tuning: 350 GB; LoRA: 20 GB.",
        "Full fine-tuning — Human rating: Experts rate each output blind, with a rubric and a second rater.",
        "LoRA — Human rating: The same.",
        "OLMo is the strongest fully reproducible model. Its corpus Dolma holds about 3 trillion tokens.",
        "NF4 (4-bit NormalFloat), a 4-bit data type suited to normally distributed weights.",
        "Split off a held-out test set before you train anything.",
        "See the QLoRA section for the memory arithmetic in detail.",
        'The course\'s example sets `lr_scheduler_type="cosine"` (decays smoothly).',
    ]


def test_items_that_end_on_a_semicolon_finish_their_lead_in_whatever_their_first_letter() -> None:
    """A newcomer read "Three ideas make it work (from the QLoRA paper)." quoted with none of the
    three: the first item opens on a name ("NF4"), so the items were not read as the lead-in's."""
    chunk = """Reference › QLoRA

Three ideas make it work (from the QLoRA paper):

- **NF4 (4-bit NormalFloat)**, a 4-bit data type suited to normally distributed weights;
- **double quantization**, which also quantizes the quantization constants;
- **paged optimizers**, which move optimizer state to CPU memory during memory spikes."""
    assert plain_units(chunk) == [
        "Three ideas make it work (from the QLoRA paper): NF4 (4-bit NormalFloat), a 4-bit data type suited to"
        " normally distributed weights; double quantization, which also quantizes the quantization constants;"
        " paged optimizers, which move optimizer state to CPU memory during memory spikes."
    ]


def test_list_items_that_finish_their_lead_in_are_read_with_it() -> None:
    # Once quoted alone: "a real risk of catastrophic forgetting." (of what?)
    chunk = """Reference › Why not update everything?

**Full fine-tuning** updates every parameter. For a model the size of GPT-3.5
(**175B parameters**) that means:

- storing a **full copy of the model for every task**;
- **huge GPU memory** during training;
- a real risk of **catastrophic forgetting**.

Three things decide it:

- **Data:** the quality of your training examples.
- **Method:** SFT, DPO or LoRA, chosen for the job."""
    assert plain_units(chunk) == [
        "Full fine-tuning updates every parameter. For a model the size of GPT-3.5 (175B parameters) that means:"
        " storing a full copy of the model for every"
        " task; huge GPU memory during training; a real risk of catastrophic forgetting.",
        "Data: the quality of your training examples.",
        "Method: SFT, DPO or LoRA, chosen for the job.",
    ]


def test_a_short_bold_label_names_the_sentence_it_opens() -> None:
    # Once dropped as too short ("Catastrophic forgetting."), so the quote never named the term.
    chunk = """Reference › Two risks to know

**Catastrophic forgetting.** Fine-tune on medical Q&A and the model may get worse at everything else.

- **Failure-rate alerts.** Count schema-validation failures, refusals and timeouts.
- **Requantizing cannot restore what was lost.** Quantization throws information away for good."""
    assert plain_units(chunk) == [
        "Catastrophic forgetting: Fine-tune on medical Q&A and the model may get worse at everything else.",
        "Failure-rate alerts: Count schema-validation failures, refusals and timeouts.",
        "Requantizing cannot restore what was lost.",
        "Quantization throws information away for good.",
    ]


def test_a_bracketed_sentence_after_a_question_stays_with_it() -> None:
    # Once a unit of its own, so a quote read "(Regression benchmarks such as MMLU and HellaSwag.)
    # Safety — does it still refuse harmful requests?", the brackets answering another question.
    chunk = """Reference › Evaluation checklist

- [ ] **General knowledge** — did it forget other abilities? (Regression benchmarks such as MMLU and HellaSwag.)
- [ ] **Safety** — does it still refuse harmful requests?"""
    assert plain_units(chunk) == [
        "General knowledge — did it forget other abilities? (Regression benchmarks such as MMLU and HellaSwag.)",
        "Safety — does it still refuse harmful requests?",
    ]


def test_only_settings_in_code_are_quoted_as_settings() -> None:
    # Once "The course's example sets `2. format: does the JSON follow the required schema?`."
    chunk = """Lesson › Judge

```text
Score the answer:
2. format: does the JSON follow the required schema?
```

```python
args = TrainingArguments(
    warmup_ratio=0.03,
    "lr": 2e-4,
)
```"""
    assert plain_units(chunk) == [
        "The course's example sets `warmup_ratio=0.03`.",
        'The course\'s example sets `"lr": 2e-4`.',
    ]


class WordCountScorer:
    """Embeddings as word counts over a fixed vocabulary; every word weighs the same."""

    VOCABULARY = ("nf4", "4-bit", "normalfloat", "jsonl", "json", "scheduler", "cosine", "test")

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [[float(terms(t).count(w)) + 1e-3 for w in self.VOCABULARY] for t in texts]

    def word_weight(self, term: str) -> float:
        return 1.0

    def relevance(self, queries: list[str], sentences: list[str]) -> None:
        return None  # no learned ranker: embedding similarity


def test_the_answering_sentence_comes_first_with_the_one_after_it() -> None:
    passage = Passage("c1", "training-data", "Data", "Format", "format", 0.6, CHUNK)
    quotes = best_quotes("what is NF4 short for", [passage], WordCountScorer(), most=1)
    assert quotes[0].text.startswith("NF4 (4-bit NormalFloat)")
    assert quotes[0].text.endswith("Split off a held-out test set before you train anything.")  # its neighbour
    assert quotes[0].markdown().endswith("— [Data › Format](?open=training-data#format)")
    blocked = best_quotes("what is NF4 short for", [passage], WordCountScorer(), allowed=lambda s: "NF4" not in s)
    assert all("NF4" not in q.text for q in blocked)


def test_a_sentence_that_may_not_be_shown_whole_is_quoted_in_the_part_that_may() -> None:
    """``cut`` gives the part of a sentence that may be shown (the quiz guard's ``without_options``):
    it takes the sentence's place, at its rank, and is checked like any quote."""
    passage = Passage("c1", "training-data", "Data", "Format", "format", 0.6, CHUNK)

    def cut(sentence: str) -> str | None:
        return "NF4 (4-bit NormalFloat) …" if sentence.startswith("NF4") else None

    quotes = best_quotes(
        "what is NF4 short for", [passage], WordCountScorer(), allowed=lambda s: "data type" not in s, cut=cut, most=1
    )
    assert quotes[0].text.startswith("NF4 (4-bit NormalFloat) …")
    assert "data type" not in quotes[0].text
    dropped = best_quotes(
        "what is NF4 short for", [passage], WordCountScorer(), allowed=lambda s: "NF4" not in s, cut=cut, most=1
    )
    assert "NF4" not in dropped[0].text  # the part must pass the check too


AMOUNTS = """Serving › Servers

The human reviewer reads each output with the score the judge gave it.
Outputs with any dimension below 3 go to a human reviewer.
How much faster a batched server runs than a plain generate loop depends on the load.
A batched server gives 10–24× the throughput of a plain generate loop.
The small model took 2 s per answer.
The small model took 8 GB."""


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("what score gets an output sent to the human reviewer", "below 3"),
        ("how much faster is a batched server than a plain generate loop", "10–24×"),
        ("how much memory did the small model take", "8 GB"),
    ],
)
def test_a_question_that_asks_for_a_figure_is_answered_by_the_sentence_that_gives_that_figure(
    question: str, figure: str
) -> None:
    """A sentence that shares more of the question's words but gives no figure ("depends on the
    load"), or another kind of figure ("2 s" for a question about memory), comes after the one that
    gives the figure asked."""
    passage = Passage("c1", "serving", "Serving", "Servers", "servers", 0.6, AMOUNTS)
    ranked = rank_sentences(question, [passage], SameWordsScorer())
    assert figure in ranked[0].text, [q.text for q in ranked]


class SameWordsScorer(WordCountScorer):
    """Every sentence equally close by meaning: only shared words and the cues decide."""

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [[1.0] for _ in texts]


def test_keyword_search_ranks_the_rare_word_first() -> None:
    index = Bm25([("a", "LoRA trains small matrices. The model is frozen."), ("b", "NF4 is a 4-bit data type.")])
    assert [doc for doc, _ in index.scores("what does nf4 mean")] == ["b"]
    assert index.weight("nf4") > index.weight("the") or "the" not in index.idf
    assert terms("The adapters, and NF4!") == ["adapter", "nf4"]


def test_british_and_american_spellings_are_one_word() -> None:
    british = "regularisation behaviours labelled modelling catalogue analyse optimising"
    american = "regularization behaviors labeled modeling catalog analyze optimizing"
    assert terms(british) == terms(american)
    assert terms("raise noise our hour") == ["raise", "noise", "our", "hour"]  # short words stay


class JudgeOfPairs:
    """A stand-in learned ranker that knows which sentence answers: the one about the corpus."""

    def relevance(self, queries, sentences) -> list[float]:
        return [1.0 if "Dolma" in s else 0.0 for s in sentences]


def test_a_learned_rankers_judgement_is_added_to_the_similarity() -> None:
    passage = Passage("c1", "model-landscape", "Models", "Open", "open", 0.6, CHUNK)
    question = "which one is the most open of them all"  # no word of the vocabulary: similarities tie
    plain = {q.text: q.score for q in rank_sentences(question, [passage], QuoteScorer(WordCountScorer()))}
    judged = rank_sentences(question, [passage], QuoteScorer(WordCountScorer(), JudgeOfPairs()))
    assert "Dolma" in judged[0].text and "Dolma" not in max(plain, key=plain.get)
    for quote in judged:
        assert quote.score == pytest.approx(plain[quote.text] + (RANKER_WEIGHT if "Dolma" in quote.text else 0.0))


class BrokenJudge:
    def relevance(self, queries, sentences) -> list[float]:
        raise RuntimeError("Already borrowed")  # what a shared fast tokenizer raises under two threads


def test_a_failing_ranker_leaves_the_quotes_to_embedding_similarity() -> None:
    passage = Passage("c1", "training-data", "Data", "Format", "format", 0.6, CHUNK)
    plain = rank_sentences("what is NF4 short for", [passage], QuoteScorer(WordCountScorer()))
    broken = rank_sentences("what is NF4 short for", [passage], QuoteScorer(WordCountScorer(), BrokenJudge()))
    assert [q.text for q in broken] == [q.text for q in plain]


TABLE_CHUNK = """Lesson › Settings

| Setting | Typical value | What to know |
|---|---|---|
| **LoRA alpha** | usually **rank × 2** | Alpha scales the update. Some people set alpha = rank for gentler updates. |
| **Batch size** | **4–32** (effective) | Reach it with gradient accumulation over several small batches. |
| **LoRA rank** | **8, 16 or 32** | r=8 for style or format tasks and r=16 for domain adaptation work. |"""


class SettingsScorer(WordCountScorer):
    VOCABULARY = ("gentler", "alpha", "rank", "batch")


def test_a_quote_does_not_run_on_into_another_table_row() -> None:
    # The best unit is the alpha row's cell, whole (its second sentence, alone, once lost its row);
    # the unit after it opens the batch-size row, which quoted as one with it reads as if the course
    # tied the two together.
    passage = Passage("c2", "hyperparameters-lora", "Settings", "Settings", "settings", 0.6, TABLE_CHUNK)
    quotes = best_quotes("why set a gentler alpha", [passage], SettingsScorer(), most=1)
    assert quotes[0].text == (
        "LoRA alpha — What to know: Alpha scales the update. Some people set alpha = rank for gentler updates."
    )
    # Cells of one row still read on: the rank row's value, then what to know about it.
    rank = best_quotes("typical rank", [passage], SettingsScorer(), most=1)[0].text
    assert rank.startswith("LoRA rank — Typical value: 8, 16 or 32.") and "LoRA rank — What to know" in rank
