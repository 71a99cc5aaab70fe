"""Does the course answer this question, or only talk about its topic?

Retrieval always finds the nearest passages, and for "how do I hook wandb up to my SFTTrainer run?"
they are about logging training loss: the topic is the course's, the answer is not in it. Quoting
them as the answer tells the learner the course said something it did not. On a dev set of
off-course questions written near the topic (tools, libraries, other modalities, figures the
course never gives), the topic checks in ``ask.off_course`` said so for 1 of 30.

A small logistic reader weighs five measures of one question against its retrieved passages:

- how well the best course sentence answers it (the quote scorer's score, extractive.py);
- how close the nearest passage is;
- what share of the question's asked words (weighted by how telling they are in the course) the
  passages say at all;
- how many names the question asks about that the course never uses and that are not common
  English ("dreambooth", "fsdp"), and how many such names the message holds anywhere.

It is trained by ``bench/train_answerable.py`` on DEV files only; its weights ship beside this
module as JSON. A question it doubts gets "the course does not answer that", with the nearest
course sentence and its section, so a course question it doubts wrongly still shows the course's
words.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tutor.advisors.grounding import STOPWORDS, content_words, stem
from tutor.rag.lexical import terms

WEIGHTS = Path(__file__).with_name("answerable.json")
FEATURES = ("best quote", "nearest passage", "asked words in passages", "unknown names asked", "unknown names")

# Contractions typed without the apostrophe are words, not names the course lacks.
CONTRACTION = re.compile(
    r"(?:dont|doesnt|didnt|cant|wont|isnt|arent|wasnt|werent|shouldnt|wouldnt|couldnt|whos|whats|youre"
    r"|theyre|itll|ive|im|thats|hasnt|havent|lets)",
    re.I,
)
# A number with a unit ("12gb", "2x", "9am") or a short code ("q3", "m3") is no name either.
_NUMBER_LIKE = re.compile(r"[$€£]?\d[\d.,]*[a-z]{0,3}%?|[a-z]\d{1,2}|\d+x\d+[a-z]?", re.I)


# Fewer content words than this in the asking sentences, and they point back at the rest ("…many
# are the same question reworded. How do I find those?"): the whole message is what is asked.
MIN_ASKED_WORDS = 3


def asked_part(text: str) -> str:
    """The sentences that ask (those with a question mark), or the whole message when none does or
    they say too little alone: "We run Zendesk. How many examples do I need?" asks about examples,
    not Zendesk."""
    asking = " ".join(s for s in re.split(r"(?<=[.?!])\s+|\n+", text) if "?" in s)
    return asking if len(content_words(asking)) >= MIN_ASKED_WORDS else text


def unknown_names(text: str, known: Callable[[str], bool]) -> list[str]:
    """The words of ``text`` that are neither the course's, nor common English, nor numbers."""
    return [
        w for w in content_words(text)
        if not CONTRACTION.fullmatch(w) and not _NUMBER_LIKE.fullmatch(w) and not known(w)
    ]  # fmt: skip


def features(
    text: str,
    best_quote: float,
    nearest_passage: float,
    passages_text: str,
    known: Callable[[str], bool],
    weight: Callable[[str], float],
) -> list[float]:
    """The reader's five inputs for ``text`` (see the module's docstring). ``known``: whether a word
    is the course's or common English; ``weight``: how telling a word is in the course."""
    asked = asked_part(text)
    said = set(terms(passages_text))
    asked_words = [w for w in dict.fromkeys(terms(asked)) if w not in STOPWORDS and not CONTRACTION.fullmatch(w)]
    wanted = {w: weight(w) for w in asked_words}
    total = sum(wanted.values())
    covered = sum(v for w, v in wanted.items() if w in said) / total if total else 1.0
    missing = [w for w in unknown_names(asked, known) if stem(w) not in said and w.lower() not in said]
    return [best_quote, nearest_passage, covered, min(len(missing), 2), min(len(unknown_names(text, known)), 3)]


@dataclass(frozen=True)
class AnswerReader:
    weights: tuple[float, ...]
    bias: float
    threshold: float  # below this probability, the course is taken not to answer the question

    def probability(self, x: Sequence[float]) -> float:
        """How sure the reader is that the course answers the question measured by ``x``."""
        if len(x) != len(self.weights):
            raise ValueError(f"the answer reader expects {len(self.weights)} measures, got {len(x)}")
        z = self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))
        return 1 / (1 + math.exp(-max(-60.0, min(60.0, z))))

    def answers(self, x: Sequence[float]) -> bool:
        return self.probability(x) >= self.threshold


@cache
def load_answer_reader(path: Path = WEIGHTS) -> AnswerReader | None:
    """The shipped reader, or None (the topic checks alone) when its file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return AnswerReader(tuple(float(w) for w in data["weights"]), float(data["bias"]), float(data["threshold"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
