"""Names in a learner's question that the course never mentions ("How do I fine-tune Stable
Diffusion?", "LoRA settings for Qwen2.5?"). The course's sentences nearest to such a question are
about something else, so the answer says first that the course does not speak of that name: its
quotes are what the course says in general, not about the learner's model or tool."""

from __future__ import annotations

import re
from typing import Protocol

from tutor.rag.lexical import folded


class CourseText(Protocol):
    def mentions(self, phrase: str) -> bool: ...

    def is_common_word(self, word: str) -> bool: ...


_WORD = re.compile(r"[A-Za-z0-9][\w.+-]*[A-Za-z0-9+]|[A-Za-z]")
# A question written In Title Case Throughout names nothing by its capitals.
TITLE_CASE_SHARE = 0.5


def _name_shaped(word: str) -> bool:
    """Shaped like a product or model name wherever it stands: a capital inside ("DeBERTa", "AMD"),
    or letters and digits together ("Qwen2.5", "GPT-4o", "T5")."""
    return any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)


def unmentioned_names(text: str, course: CourseText) -> list[str]:
    """The names in ``text`` that the course never says, in their order: runs of capitalised words
    after a sentence's first word ("Stable Diffusion", "Whisper"), and name-shaped words anywhere
    ("Qwen2.5 7B", "AMD"). Not names: a single letter ("A @ B"), a common word in capitals for
    emphasis ("the LAST checkpoint"), parts of a notation ("MM/DD/YYYY")."""
    names: list[str] = []
    for sentence in re.split(r"(?<=[.?!])\s+|\n+", text):
        for phrase in _name_runs(sentence, course):
            said = course.mentions(phrase) or (phrase.endswith("s") and course.mentions(phrase[:-1]))
            if not said and phrase not in names:
                names.append(phrase)
    return names


def _name_runs(sentence: str, course: CourseText) -> list[str]:
    words = list(_WORD.finditer(sentence))
    rest = [w[0] for w in words[1:] if w[0] != "I"]  # a sentence's first word and "I" are capitalised anyway
    title_case = len(rest) > 2 and sum(w[0].isupper() for w in rest) > TITLE_CASE_SHARE * len(rest)

    def is_name(i: int) -> bool:
        word = words[i][0]
        if len(word) == 1 or not word[0].isalpha() or not word[0].isupper():
            return False
        if word.isupper() and course.is_common_word(word):
            return False  # emphasis
        return _name_shaped(word) or (i > 0 and not title_case)

    runs: list[list[int]] = []
    for i in range(len(words)):
        joined = bool(runs) and runs[-1][-1] == i - 1 and not sentence[words[i - 1].end() : words[i].start()].strip()
        if is_name(i) or (joined and _name_shaped(words[i][0])):  # "Qwen2.5 7B": the size goes with it
            if joined:
                runs[-1].append(i)
            else:
                runs.append([i])
    return [" ".join(words[i][0] for i in run) for run in runs]


def not_mentioned_note(names: list[str]) -> str:
    said = " or ".join(f"**{n}**" for n in names[:2])
    return (
        f"The course does not mention {said}: it teaches fine-tuning language models in general, so what "
        "follows is what it says on your question's topic, not about that name."
    )


# A choice offered between two names: "gptq or awq", "simpo vs ipo", "between megatron and colossalai".
_NAME = r"[A-Za-z][\w.+-]*[\w+]"
_CHOICE = re.compile(
    rf"\bbetween\s+(?P<a>{_NAME})\s+and\s+(?P<b>{_NAME})\b"
    rf"|(?<![\w.+-])(?P<c>{_NAME})\s+(?:or|vs\.?|versus)\s+(?P<d>{_NAME})(?![\w+-]|\.\w)",
    re.I,
)
# The sentence asks to choose: "which…", "…is better", "should we pick…", or the choice itself ends
# on "?". "i train with axolotl or unsloth, what learning rate…" mentions a choice; it asks another thing.
_ASKS_TO_CHOOSE = re.compile(r"\b(?:which|better|best|prefer|pick|choose|vs|versus|between)\b", re.I)


def unknown_choice(text: str, course: CourseText) -> list[str]:
    """The two sides of a choice the question asks for ("gptq or awq for serving a 4 bit model,
    which keeps more accuracy?"), when the course mentions neither and neither is common English;
    else []. The course cannot say which of two things it never names is better, however close its
    sentences on the topic ("4-bit … some quality loss") come. A side the course writes another way
    ("quantisation", "early-stopping", "checkpointing") or with a version number ("gpt4") is not
    unknown; a name merely close to a course word ("deepspeed", "colossalai") is."""
    for sentence in re.split(r"(?<=[.?!])\s+", text):
        for match in _CHOICE.finditer(sentence):
            asks = _ASKS_TO_CHOOSE.search(sentence) or sentence[match.end() :].lstrip().startswith("?")
            sides = [s for s in match.group("a", "b", "c", "d") if s]
            if asks and all(_unknown(side, course) for side in sides):
                return sides
    return []


def _unknown(word: str, course: CourseText) -> bool:
    if any(c.isdigit() for c in word) or course.is_common_word(word):
        return False  # a name with a version ("gpt4", "llama3.1") is too often the course's, typed another way
    spaced = word.replace("-", " ")
    forms = {word, spaced, word.removesuffix("s"), folded(word), _HYPHENLESS.sub(r"\1-", word)}
    forms |= {re.sub(r"(?:ing|ed)$", "", form) for form in set(forms)}  # "checkpointing" is "checkpoint"
    return not any(course.mentions(form) for form in forms if form)


# A prefix the course writes with a hyphen that learners often leave out ("pretraining", "finetuning").
_HYPHENLESS = re.compile(r"^(pre|fine|post|re|multi|non|self|low|open|few|zero)(?=[a-z]{4})", re.I)
