"""The course question inside a use case: "I generated 3,000 examples with GPT-4, how much of that
am I supposed to read myself?" tells the learner's situation (so the lab's rules take it) and asks
something the course answers ("read about 10% of what was generated"). The quotes under the
recommendation should answer that question, not only sit near the case.

No model: the last sentence that asks (it ends on "?", or a clause of it opens on a question
word), with enough words of its own to search for. A bare request for the advisor's
verdict ("Should we fine-tune?", "What do you recommend?") is no such question: the
recommendation is its answer.
"""

from __future__ import annotations

import re

from tutor.advisors.grounding import content_words, sentences

# A clause that asks: it opens on a question word (after a filler such as "so" or "and").
_ASKS = re.compile(
    r"^\W*(?:(?:so|and|but|ok|okay|then|also|now|like)\s+)*"
    r"(?:how|what|what's|whats|which|where|when|why|who|is|are|can|could|should|do|does|did|will|would|any)\b",
    re.I,
)
# Where one sentence turns to its question ("…with gpt4, how much of that…", "…at lunch - where…").
_CLAUSE_BREAK = re.compile(r"\s*(?:[,;:](?=\s)|\s[-–—]\s|\.\.\.)\s*")
# Words of a request for the advisor's own verdict ("Is fine-tuning worth it?", "What's wrong with
# it?"), and question words: with nothing else, the recommendation or the critique answers it.
_VERDICT_WORDS = frozenset(
    re.findall(
        r"\S+",
        """recommend recommendation suggest suggestion advice advise approach option options best better worth
        fine-tune fine-tuning finetune finetuning fine tune tuning tuned fine-tuned prompting prompt rag go
        use using need needed something else instead right way do doing think make sense
        what's whats how's where's who's which what where when does would could should
        wrong issue issues problem problems mistake mistakes fix improve critique review feedback""",
    )
)
# A question needs this many words besides the verdict words to be searched for on its own.
MIN_OWN_WORDS = 2


def question_within(text: str) -> str | None:
    """The course question ``text`` asks besides telling its case, or None: the last sentence that
    asks, whole ("we need something good at both Chinese and English, which open model family?"
    is about the languages as much as the family), with the sentence before it when it has too few
    words of its own ("Legal is worried about sending customer data to OpenAI. What's the
    alternative?")."""
    said = sentences(text.strip())
    for place in range(len(said) - 1, -1, -1):
        sentence = said[place]
        if not _asks(sentence):
            continue
        if len(_own_words(sentence)) >= MIN_OWN_WORDS:
            return sentence
        # Not past a request for the verdict ("Should we fine-tune?"): the recommendation answers it.
        pointer = _own_words(sentence) or not _verdict_words(sentence)
        joined = f"{said[place - 1]} {sentence}" if place else sentence
        return joined if place and pointer and len(_own_words(joined)) > MIN_OWN_WORDS else None
    return None


def _asks(sentence: str) -> bool:
    """It ends on "?", or one of its clauses opens on a question word ("…with gpt4, how much of that
    am i supposed to read")."""
    if sentence.rstrip("\"')” ").endswith("?"):
        return True
    return any(_ASKS.match(clause) for clause in _CLAUSE_BREAK.split(sentence))


def _own_words(text: str) -> list[str]:
    return [w for w in content_words(text) if w.lower() not in _VERDICT_WORDS]


def _verdict_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w'-]+", text.lower()) if w in _VERDICT_WORDS]
