"""Signals read by meaning: a learner's sentence raises a signal when it is close, in the packaged
all-MiniLM-L6-v2 embedding space, to one of the signal's example phrasings, and closer to those
than to the phrasings that deny it ("the data cannot leave our servers" is private data;
"nothing in it is confidential" is not).

The example phrasings restate the lessons' own situations (Lesson 1's decision framework and
"when not to fine-tune", Lesson 2's data sources, Lesson 3's hardware). The threshold and margin
were chosen on the dev split of bench/strategy_scenarios.py, whose phrasings are kept apart from
the test split's.
"""

from __future__ import annotations

import re
import threading
from functools import cache

# Signal -> (phrasings that raise it, phrasings that deny it).
EXAMPLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "private": (
        (
            "The data is private and confidential.",
            "The data cannot leave our servers.",
            "It has to stay on our own machines, on-premises.",
            "We may not send these documents to an external API.",
            "Sensitive records that are too private to paste into a prompt.",
            "The texts contain personal information about patients.",
            "Customer records with personal data, covered by GDPR or HIPAA.",
            "Our legal team forbids sharing the data with a third-party cloud provider.",
            "Everything must be kept in-house for compliance reasons.",
            "Proprietary data we cannot show to any vendor.",
            "The information is under a strict non-disclosure agreement.",
            "We must host the model ourselves because of data protection rules.",
            "The records must remain on our own hardware.",
            "Nothing may be processed outside our premises.",
        ),
        (
            "Nothing in the data is confidential.",
            "The data is public.",
            "There is no personal information in it.",
            "Privacy is not a concern for this project.",
            "The texts are already published openly on the web.",
            "Anyone may see this data.",
        ),
    ),
    "strict_format": (
        (
            "Every answer must be valid JSON that matches our schema.",
            "The output must follow a fixed template exactly, every time.",
            "The result has to be in the same structured layout with the same fields.",
            "Downstream software parses the output, so the format can never vary.",
            "Each note must be written in our house format with fixed sections.",
            "The reply must be machine-readable, with no deviation in structure.",
            "It must always produce valid SQL.",
            "Output a strict XML document in the required layout.",
            "A legal citation style that must be followed exactly.",
        ),
        (
            "The format of the answer does not matter.",
            "Free-form text is fine, no particular structure.",
        ),
    ),
    "vocabulary": (
        (
            "The documents use specialist jargon that general models handle clumsily.",
            "Dense domain terminology from radiology.",
            "Derivatives-trading terms that only insiders understand.",
            "Semiconductor fabrication shorthand and acronyms.",
            "Highly specialized legal language.",
            "Clinical abbreviations and medical terminology.",
            "Technical vocabulary of our industry that outsiders do not know.",
            "Financial jargon from earnings reports and filings.",
        ),
        (
            "Plain everyday language.",
            "Simple words that anyone understands.",
        ),
    ),
    "changing": (
        (
            "The information changes often.",
            "Our prices change every week.",
            "The policies are updated every month.",
            "The product catalogue changes daily.",
            "Answers must reflect the latest version of our documentation.",
            "New regulations come out regularly and the answers must follow them.",
            "Stock levels and availability shift constantly.",
            "The knowledge base is edited all the time.",
            "It needs up-to-date facts such as today's schedules and news.",
        ),
        (
            "The information never changes.",
            "The rules have stayed the same for years.",
        ),
    ),
    "behaviour": (
        (
            "It must always speak in our brand voice.",
            "It has to refuse requests outside our policy, every single time.",
            "It should keep the same persona in every reply.",
            "The tone must be consistently formal.",
            "Apply our company policy reliably in every answer.",
            "It must behave the same way in every conversation.",
        ),
        ("Tone and style do not matter.",),
    ),
    "preference": (
        (
            "Reviewers can easily tell which of two answers is better.",
            "We have pairs of chosen and rejected responses.",
            "Annotators rank candidate answers instead of writing them.",
            "It is easier to pick the better of two drafts than to write a perfect one.",
            "Human preference data comparing two replies to the same prompt.",
            "Raters score which response they prefer.",
        ),
        # Drafts judged poor, not compared: "Prompted drafts slip up now and then", "Prompted replies sound
        # robotic" sat just over the threshold (strategy dev15).
        (
            "The drafts we get from prompting are not good enough.",
            "The replies from prompting sound robotic and make mistakes.",
        ),
    ),
    "low_budget": (
        (
            "We only have one consumer GPU.",
            "Our budget is small: a single gaming graphics card.",
            "We will train on a free Colab notebook.",
            "All we have is one card with 24 GB of memory.",
            "We cannot afford cloud GPUs.",
            "Training has to fit on a laptop GPU.",
        ),
        (
            "We have a cluster of A100 GPUs.",
            "Compute is not a constraint for us.",
        ),
    ),
    "already_works": (
        (
            "A plain prompt to the base model already gets it right.",
            "Prompting works fine today.",
            "The base model already handles the task well with a good prompt.",
            "Our current prompt does the job nearly every time.",
            "Few-shot prompting already gives good results.",
        ),
        (
            "Prompting does not work for this.",
            "The base model fails at the task even with a careful prompt.",
            "We tried prompting and it keeps getting the format wrong.",
        ),
    ),
    "high_stakes": (
        (
            "Mistakes could harm people.",
            "It is safety-critical.",
            "A wrong answer has serious real-world consequences.",
            "We work in a regulated industry and must pass audits.",
            "Errors could cost people their health or their savings.",
            "Lives depend on the answers being right.",
            "A single error could lead to a lawsuit.",
        ),
        (
            "It is a low-risk internal tool.",
            "Nobody is harmed if an answer is wrong.",
            "Mistakes are harmless and easy to fix.",
            "It is just for fun.",
        ),
    ),
    "from_scratch": (
        (
            "We want to pre-train our own foundation model from scratch.",
            "Train a brand-new base model from nothing on our own corpus.",
            "Build our own large language model from scratch, like BloombergGPT.",
            "Pre-training a new model on trillions of tokens of our data.",
            "We'd like to train our own model from scratch rather than adapt an existing one.",
        ),
        (
            "We will start from an existing open model.",
            "Adapt a pre-trained model to our task.",
        ),
    ),
}

# A sentence raises a signal when its best similarity to the signal's phrasings reaches THRESHOLD
# and beats its best similarity to the denials by MARGIN. On the dev split every threshold from
# 0.50 to 0.55 with every margin from 0 to 0.15 decided all 200 cases right (0.45: 98%, 0.60:
# 98.5%), so dev does not pin them down; these were set before the sweep, at the strict end.
# (The test split prefers the strict end: 99.1% here, 93.9% at 0.52/0.10, where "won't let it
# go to a third-party cloud" starts to read as a small budget. See docs/benchmarks.md.)
THRESHOLD = 0.55
MARGIN = 0.05

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")


_CLAUSE_BREAK = re.compile(r",\s+(?:and\s+|but\s+)?")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 3]


def parts(text: str) -> list[str]:
    """The sentences, and the clauses of the longer ones: "We have 8,000 contracts, the data cannot
    leave our servers, and ..." holds a statement that its whole sentence dilutes."""
    out = []
    for sentence in sentences(text):
        out.append(sentence)
        clauses = [c.strip() for c in _CLAUSE_BREAK.split(sentence)]
        if len(clauses) > 1:
            out += [c for c in clauses if len(c.split()) >= 4]
    return out


class MeaningReader:
    """The packaged sentence embedder and the example phrasings, embedded once per process."""

    def __init__(self, model_path: str) -> None:
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model_path, device="cpu")
        self._groups: dict[tuple, dict] = {}  # phrasings given to closest(), embedded once
        self._examples = {
            name: (self._embed(list(yes)), self._embed(list(no)) if no else None)
            for name, (yes, no) in EXAMPLES.items()
        }

    def _embed(self, texts: list[str]):
        return self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)

    def scores(self, text: str) -> dict[str, float]:
        """Per signal, the best (similarity to its phrasings − margin-adjusted denial) over the
        text's sentences: positive means the signal is raised."""
        pieces = parts(text)
        if not pieces:
            return {name: -1.0 for name in EXAMPLES}
        vectors = self._embed(pieces)
        out = {}
        for name, (yes, no) in self._examples.items():
            best_yes = (vectors @ yes.T).max(axis=1)
            best_no = (vectors @ no.T).max(axis=1) if no is not None else best_yes * 0
            raised = [
                min(y - THRESHOLD, y - n - MARGIN) for y, n in zip(best_yes.tolist(), best_no.tolist(), strict=True)
            ]
            out[name] = max(raised)
        return out

    def raised(self, text: str) -> set[str]:
        return {name for name, score in self.scores(text).items() if score >= 0}

    def closest(self, text: str, groups: dict[str, tuple[str, ...]]) -> tuple[str | None, float]:
        """Which group of phrasings the text's closest sentence or clause is nearest to, and how
        near (cosine similarity); (None, 0.0) for an empty text."""
        pieces = parts(text)
        if not pieces:
            return None, 0.0
        key = tuple((name, phrasings) for name, phrasings in groups.items())
        if key not in self._groups:
            self._groups[key] = {name: self._embed(list(phrasings)) for name, phrasings in groups.items()}
        vectors = self._embed(pieces)
        best = max(((float((vectors @ e.T).max()), name) for name, e in self._groups[key].items()))
        return best[1], best[0]


_lock = threading.Lock()


@cache
def _reader() -> MeaningReader | None:
    from tutor.llm import quiet_loading
    from tutor.rag.index import RetrievalError, packaged_embedding_dir

    quiet_loading()
    try:
        return MeaningReader(str(packaged_embedding_dir()))
    except (RetrievalError, OSError, ImportError):
        return None  # no embedder installed: the advisors fall back to their word lists


def meaning_reader() -> MeaningReader | None:
    """The process-wide reader (loaded on first use, ~1 s), or None when the packaged embedding
    model is missing."""
    with _lock:
        return _reader()
