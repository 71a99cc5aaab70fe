"""Is a chat message the learner's own use case (for the rules to decide on) or a question about the
course (to answer from the course)? A logistic reader over the course index's own sentence
embedding (all-MiniLM-L6-v2, already loaded for search) and four shape features.

Word rules ("opens on 'we'", "a number of examples") sent two thirds of the use cases in the
strategy and evaluation dev sets, written in people's own words ("Apparel e-commerce. The fit
assistant gives size advice…"), to the course answer, many of them to "the course does not cover
that". The reader is trained by ``bench/train_case_reader.py`` on DEV files only, and its weights
(a few KB of JSON) ship beside this module.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from tutor.advisors import facts
from tutor.advisors.question_within import HEDGED

WEIGHTS = Path(__file__).with_name("case_reader.json")
SCALE = 8.0  # the unit-length embedding is scaled before the weights, so the fit can be confident
# A message the word rules do not take for a use case is one when the reader is this sure. The reader
# adds cases, it does not take any away: it learned from descriptions of projects, and reads a short
# setup ("I have a 7B model and one 24GB GPU", a hyperparameter lab's case) as a question.
CASE_ALONE = 0.9
# Below this, the reader overrules the rules' cue words ("my …", "10k") in a message that uses none
# of the course's terms and comes near no course sentence (see ask.classify).
CASE_VETO = 0.05

_QUESTION_OPENING = re.compile(
    r"^\s*(?:what|whats|what's|how|why|when|where|which|who|whos|is|are|does|do|can|could|should|would|will|did"
    r"|explain)\b",
    re.I,
)
FIRST_PERSON = re.compile(r"\b(?:we|our|us|i|my|me|i'm|we're|i've|we've|i'd|we'd)\b", re.I)


def shape_features(text: str) -> list[float]:
    """A question mark, a question's first word, the length, first-person words: what a question and
    a description of one's own project differ in besides their topic."""
    return [
        float("?" in text),
        float(bool(_QUESTION_OPENING.search(text))),
        math.log1p(len(text.split())) / 4,
        min(len(FIRST_PERSON.findall(text)), 5) / 5,
    ]


def inputs(vector: Sequence[float], text: str) -> list[float]:
    return [SCALE * v for v in vector] + shape_features(text)


@dataclass(frozen=True)
class CaseReader:
    weights: tuple[float, ...]
    bias: float

    def probability(self, vector: Sequence[float], text: str) -> float:
        """How sure the reader is that ``text`` (embedded as ``vector``) is a use case."""
        x = inputs(vector, text)
        if len(x) != len(self.weights):
            raise ValueError(
                f"the case reader expects {len(self.weights) - 4} embedding dimensions, got {len(vector)}"
            )
        z = self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))
        return 1 / (1 + math.exp(-max(-60.0, min(60.0, z))))


class CaseSignals(Protocol):
    """What the chat's classification reads beside the words (Core gives both, from the index)."""

    def case_probability(self, text: str) -> float | None:
        """The reader's belief that ``text`` is a use case; None when it cannot read it."""
        ...

    def near_course(self, text: str) -> bool:
        """Whether ``text`` comes close to some course sentence."""
        ...


# A hedge before a question asks too (question_within.HEDGED: "roughly how many…", not "basically what it
# does is…"); "btw" and "quick question" before any question word.
HEDGE = rf"(?:{HEDGED}|(?:btw|quick question|real quick)[,:]?\s+)"
# The opening of a question and nothing else ("when a ticket gets escalated…", "explain blood test
# results…" open descriptions of a job).
_ASKS_AT_ONCE = re.compile(
    rf"^\s*{HEDGE}?(?:is|are|can|could|should|would|does|do|did|will|what|whats|what's|how|why|which|who"
    # "any good stretches for back pain…", "any tips for…"; not "Any good reviews get forwarded to marketing"
    r"|any (?:good )?(?:tips|ideas|advice|suggestions|recommendations|thoughts|pointers)"
    r"|any good [\w-]+ (?:for|on|about|to))\b",
    re.I,
)


# A message that goes on from the conversation: "and for…", "ok so…", "what about…".
_GOES_ON = re.compile(r"^\W*(?:and|ok|okay|so|also|then|but|what about|how about|as for)\b", re.I)
# Or a lead-in that says where in the course the question sits: "in the grading-with-a-bigger-model setup,
# which answers get sent on to a real person" (advisor_heldout8). A place that is no part of the course
# ("In the clinic, which notes…", "At the bank, which queue…": the review) opens a description.
_POINTS_WHERE = re.compile(
    r"^\W*(?:in|on|for|with|from|about|regarding|during|after|before|at)\s+(?:(?:the|that|this)\b[^,;:]{0,60}?\b)?"
    r"(?:lessons?|labs?|modules?|papers?|set-?ups?|steps?|tables?|sections?|chapters?|course|quiz(?:zes)?|notebooks?"
    r"|pages?|examples?|story|analogy|scenarios?|checklists?|config|figures?|recipe|framework|spectrum)\b",
    re.I,
)


# At most this many words lead in to the asking clause: "and for the human side of it" (7) says what
# the question is about; "ok so the model reads scanned supplier invoices and fills the ERP fields"
# describes a case.
MAX_LEAD_IN_WORDS = 8


def _asks_after_a_short_lead_in(text: str) -> bool:
    clauses = re.split(r"[,;:]\s", text.strip())
    return (
        len(clauses) == 2 and len(clauses[0].split()) <= MAX_LEAD_IN_WORDS and bool(_ASKS_AT_ONCE.search(clauses[1]))
    )


def weigh(rules_say_case: bool, probability: float | None, text: str = "") -> bool:
    """The rules' verdict, read with the reader's when there is one. The reader alone does not make
    a use case of a plain question, one that opens on a question word and says nothing of the
    learner ("is it legal to scrape twitter posts for training data in brazil": 0.97 once)."""
    if rules_say_case:
        return True
    plain_question = (
        # "who does the rating…", or a follow-up that asks in its last clause ("and for the human
        # side of it, who does the rating and how"; not "It pulls out what data is collected, who it's
        # shared with…", a description)
        bool(
            _ASKS_AT_ONCE.search(text)
            or ((_GOES_ON.search(text) or _POINTS_WHERE.search(text)) and _asks_after_a_short_lead_in(text))
        )
        and not FIRST_PERSON.search(text)
        and facts.daily_volume(text) is None  # "How should a clinic triage 300 messages a day?" is a case
        and facts.examples_on_hand(text) is None
    )
    return probability is not None and probability >= CASE_ALONE and not plain_question


@cache
def load_case_reader(path: Path = WEIGHTS) -> CaseReader | None:
    """The shipped reader, or None (the word rules alone) when its file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return CaseReader(tuple(float(w) for w in data["weights"]), float(data["bias"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
