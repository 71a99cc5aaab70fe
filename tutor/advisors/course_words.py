"""A learner's words put in the course's words before the course is searched and its sentences
ranked. "reuse the lr from the pretraining paper" shares no word with the course's "a pre-training
learning rate … is 10–100× too high", and the embedding model reads "lr" as two letters; "the step
sizes folks lifted from big-model research" and "the small add-on we trained" name the learning
rate and the adapter without the course's words, and the small embedding model does not bridge them.

Two steps: shorthand is spelled out in place ("lr" -> "learning rate"), and a phrase that
course_terms.yaml lists for a course term gets that term beside it ("step sizes (learning rate)"),
so the learner's words still count. Only forms that mean one thing in a question about fine-tuning
are listed; the glossary names only what the course teaches, so a question about a tool it never
mentions ("weight decay", "a vector database") is not drawn onto the course.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path

import yaml

from tutor.advisors.grounding import stem
from tutor.rag.lexical import terms

GLOSSARY = Path(__file__).with_name("course_terms.yaml")

# (pattern, the course's words). Case is ignored; "val" only before a loss, a set or a score, "bs"
# only before a value ("bs=2", "bs of 8"), so "val d'Isère" and "that's bs" stay as typed.
_SHORTHAND: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), words)
    for pattern, words in (
        (r"\blrs?\b", "learning rate"),
        (r"\bval\b(?=\s+(?:loss|losses|set|split|data|curve|accuracy|score)\b)", "validation"),
        (r"\bparams\b", "parameters"),
        (r"\bhparams\b", "hyperparameters"),
        (r"\bfine\s?tun", "fine-tun"),
        (r"\b(4|8|16|32)\s?bit\b", r"\1-bit"),
        (r"\bbs\b(?=\s*(?:=|of\s+\d|\d))", "batch size"),
        (r"\bgrad(?:ient)?\s+accum\w*", "gradient accumulation"),
        (r"\bvram\b", "GPU memory"),
        (r"\boom\b", "out of memory"),
        (r"\bw/o\b", "without"),
        (r"\bw/(?=\s)", "with"),
        (r"\bctx\b", "context"),
        (r"\bckpts?\b", "checkpoint"),
        (r"\bseq(?:uence)?\s?len\b", "sequence length"),
    )
)


# A turn spells out the same message for each search and each ranking: once is enough.
@lru_cache(maxsize=256)
def spelled_out(text: str) -> str:
    """``text`` in the course's words: shorthand spelled out, and the course's term beside a phrase
    that means it (the text itself when it has neither)."""
    return with_course_terms(_shorthand_spelled(text))


def with_course_terms(text: str) -> str:
    """``text`` with the course's term in brackets after each phrase the glossary lists for it,
    once per term, and not where the text already says the term."""
    phrases, terms = _glossary()
    if phrases is None:
        return text
    added: set[str] = set()
    lowered = text.lower()

    def annotate(match: re.Match[str]) -> str:
        term = terms.get(match[0].casefold())
        if term is None or term in added or re.search(rf"(?<![\w-]){re.escape(term.lower())}(?![\w-])", lowered):
            return match[0]
        added.add(term)
        return f"{match[0]} ({term})"

    return phrases.sub(annotate, text)


@cache
def _glossary(path: Path = GLOSSARY) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One pattern for every listed phrase (longest first, whole words), and each phrase's term.
    A missing or unreadable glossary leaves questions as typed."""
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        terms = {
            _shorthand_spelled(said).casefold(): entry["term"]
            for entry in entries
            for said in entry["said"]
            if not _same_word(said, entry["term"])
        }
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None, {}
    if not terms:
        return None, {}
    alternatives = "|".join(re.escape(p) for p in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.I), terms


def _same_word(said: str, term: str) -> bool:
    """The term in a spelling or form that search and ranking read as the term already
    ("regularization" for "regularisation", "full finetune" for "full fine-tuning"): the term beside
    it would count its words twice. "pretraining", "q4km"
    and "warm up" are other words to them, and keep their term."""
    return [stem(t) for t in terms(_shorthand_spelled(said))] == [stem(t) for t in terms(term)]


def _shorthand_spelled(text: str) -> str:
    """``text`` with its shorthand spelled out (the glossary's phrases are matched after that step)."""
    for pattern, words in _SHORTHAND:
        text = pattern.sub(words, text)
    return text
