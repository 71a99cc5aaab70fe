"""The check every model answer passes before a learner sees it under the course's name.

The model streams a draft; ``check_answer`` decides whether it stands. An answer is grounded when

- every number in it appears in the context (the retrieved passages, the recommendation and the
  learner's own words), in any equivalent spelling: "52K" = "52,000" = "52000", "$600" = "600";
- every name and technical term in it (acronyms, mixed-case names such as "QLoRA", capitalised
  words inside a sentence, tokens mixing letters and digits such as "bf16") appears in the context;
- nearly every content word of each sentence appears in the context (a 135M model that drifts
  into a story about a teacher uses words the passages never do);
- each sentence is said in one place of the context: one sentence of a passage, one line of the
  recommendation or of the learner's words holds most of its content words and all of its numbers
  and terms, mostly in the same order. Words that are all in the passages can still be
  stitched into a claim the course never makes ("LoRA is a medical adapter"); a small model that
  paraphrases one sentence is fine, one that recombines several is not shown;
- it does not contradict the recommendation (another method recommended, the recommended
  approach denied, another value for a number the recommendation fixed);
- every sentence is complete;
- it gives away no quiz option (``QuizGuard``, checked against the banks on the server).

A failed check is not an error: the caller shows quoted course sentences instead.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

# --- complete sentences ----------------------------------------------------------------------

# A sentence ends with . ! or ? (possibly closed by quotes, brackets or Markdown emphasis) before
# white space or the end of the text.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]*_]*(?=\s|$)")
_LIST_MARKER = re.compile(r"\s*(\d{1,3}|[a-zA-Z])")
# A dot that ends one of these is not the end of a sentence.
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|etc|vs|al|approx|cf|fig|incl|resp)\.$", re.I)


def _sentence_ends(text: str) -> list[int]:
    return [
        m.end()
        for m in _SENTENCE_END.finditer(text)
        if not _is_list_marker(text, m.start())
        and not _ABBREVIATION.search(text[max(0, m.start() - 8) : m.start() + 1])
    ]


def complete_sentences(text: str) -> str:
    """``text`` up to the end of its last complete sentence ("" when it has none)."""
    stripped = text.rstrip()
    ends = _sentence_ends(stripped)
    return stripped[: ends[-1]] if ends else ""


def _is_list_marker(text: str, dot: int) -> bool:
    """The "1." or "b." that starts a list item is not the end of a sentence."""
    line_start = text.rfind("\n", 0, dot) + 1
    return bool(_LIST_MARKER.fullmatch(text[line_start:dot]))


def ends_complete(text: str) -> bool:
    stripped = text.rstrip()
    return bool(stripped) and complete_sentences(stripped) == stripped


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences (list items and lines count as sentences of their own)."""
    out: list[str] = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+", "", line).strip()
        start = 0
        for end in _sentence_ends(line):
            piece = line[start:end].strip()
            if piece:
                out.append(piece)
            start = end
        if line[start:].strip():
            out.append(line[start:].strip())
    return out


# --- numbers ---------------------------------------------------------------------------------

_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
NUMBER = re.compile(
    r"(?<![\w.])(\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:e-?\d+)?)"
    r"(?:\s?(thousand|million|billion|bn|[kKmMbB])(?![a-zA-Z]))?(?![\w])"
)
_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "hundred": 100, "thousand": 1000,
    "half": 0.5, "twice": 2, "double": 2, "once": 1,
}  # fmt: skip


def number_values(text: str) -> list[tuple[str, set[float]]]:
    """Each number in ``text`` with the values it may stand for ("7B" is 7 and 7e9)."""
    return [(match.group(0), values) for match, values in _numbers(text)]


def _numbers(text: str) -> Iterator[tuple[re.Match[str], set[float]]]:
    """Each number's match (where it stands) and the values it may stand for."""
    for match in NUMBER.finditer(text):
        digits, unit = match.group(1), (match.group(2) or "").lower()
        value = float(digits.replace(",", ""))
        values = {value}
        if unit:
            values.add(value * _MULTIPLIERS[unit])
        yield match, {round(v, 9) for v in values}


def context_numbers(text: str) -> set[float]:
    values: set[float] = set()
    for _, found in number_values(text):
        values |= found
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _WORD_NUMBERS:
            values.add(float(_WORD_NUMBERS[word]))
    return values


def unsupported_numbers(answer: str, context: str) -> list[str]:
    known = context_numbers(context)
    return [surface for surface, values in number_values(answer) if not values & known]


# --- names, terms and words ------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'’][A-Za-z0-9]+)*|\d+[A-Za-z][A-Za-z0-9]*")
# Words too common to show whether a sentence is about the passages.
STOPWORDS = frozenset(
    """
    a about above after again against all also an and any are as at be because been before being
    below between both but by can could did do does doing down during each either else even ever
    every few for from further get gets getting give given gives go goes going had has have having
    here how however if in into is it its itself just keep keeps kind less let like likely lot made
    make makes many may me might more most much must my need needs no nor not now of off often on
    once one only or other others our out over own per quite rather really same see seen should
    since so some such than that the their them then there these they thing things this those
    through thus to too under until up upon us use used uses using very via want was way ways we
    well were what when where whether which while who whom whose why will with within without would
    yes yet you your yours also able across already always among another anything around away back
    become becomes best better big bit called cannot come comes done easy enough especially etc
    example examples far first good great help helps important instead know large last least long
    look lots main means mean mostly new next number part point put right say says set show shows
    simple simply small still take takes tell tells think though three two types usually whole work
    works yourself whats hows thats
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


_SUFFIXES = ("ations", "ation", "ings", "ing", "edly", "ed", "es", "ly", "s")


def stem(word: str) -> str:
    """A crude stem, enough to match "quantized" with "quantization", "needed" with "needs"."""
    return root(word)[:6]


def root(word: str) -> str:
    """The word less its ending, whole: "summarising" and "summarisation" are "summaris"."""
    word = word.lower().replace("’", "'").split("'")[0]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _vocabulary(text: str) -> set[str]:
    return {stem(t) for t in _TOKEN.findall(text)}


def is_term(token: str, sentence_start: bool) -> bool:
    """A name or technical term: an acronym, a mixed-case name, letters with digits, or a
    capitalised word inside a sentence."""
    if len(token) < 2 or token in {"I", "I'm", "I've", "I'd", "I'll"} or NUMBER.fullmatch(token):
        return False  # numbers with a unit ("52K", "7B") are the numbers check's job
    core = re.sub(r"[-'’].*", "", token)
    if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
        return True
    if sum(c.isupper() for c in core) >= 2:
        return True
    return core[:1].isupper() and not sentence_start


def unsupported_terms(answer: str, context: str) -> list[str]:
    known = _vocabulary(context)
    lowered = context.lower()
    missing = []
    for sentence in sentences(answer):
        for i, token in enumerate(_TOKEN.findall(_strip_markdown(sentence))):
            if is_term(token, sentence_start=i == 0) and stem(token) not in known and token.lower() not in lowered:
                missing.append(token)
    return list(dict.fromkeys(missing))


def content_words(text: str) -> list[str]:
    """The words that carry a sentence's meaning: longer than three letters and not stop words, or
    short names and terms ("NF4", "RAG", "7B")."""
    return [
        t
        for t in _TOKEN.findall(_strip_markdown(text))
        if (len(t) > 3 and t.lower() not in STOPWORDS) or (len(t) > 1 and (t.isupper() or any(c.isdigit() for c in t)))
    ]


def _strip_markdown(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    return re.sub(r"[*_`>#]", "", text)


# --- one place that says it -----------------------------------------------------------------

# Words that frame a sentence rather than carry its claim ("The course says that …").
FRAMING = frozenset(
    ["course", "passage", "passages", "according", "says", "explains", "states", "note", "answer", "question"]
)
# An answer sentence needs one place in the context holding this share of its content words (all of
# its numbers and terms), with this share of its consecutive content-word pairs in the same order.
# Tuned on the advisor's training answers (all placed) and on wrong drafts of the tuned model.
MIN_PLACE_SHARE = 0.75
MIN_ORDER_SHARE = 0.5


@dataclass(frozen=True)
class _Said:
    """What one sentence claims: its content words (stems, in order), the terms among them, and
    its numbers by value."""

    words: list[str]
    terms: frozenset[str]
    numbers: frozenset[float]
    row: frozenset[str] | None = None  # a table cell's row label ("LoRA rank (r) — Typical value: …")


# A table cell as the quotes read it: "<row label> — <column header>: <value>".
_TABLE_CELL = re.compile(r"^\s*([^—:]{1,80}?)\s+—\s+([^—:]{1,60}):")


def table_cell(text: str) -> tuple[str, str] | None:
    """The row label and column header of a table cell as the quotes read it, else None."""
    cell = _TABLE_CELL.match(_strip_markdown(text))
    return (cell.group(1), cell.group(2)) if cell else None


def _said(text: str) -> _Said:
    numbers = frozenset(max(values) for _, values in number_values(text))
    cell = table_cell(text)
    row = frozenset(stem(w) for w in content_words(cell[0])) if cell else None
    words, terms = [], set()
    for i, token in enumerate(_TOKEN.findall(_strip_markdown(NUMBER.sub(" ", text)))):
        if token.lower() in FRAMING or token not in content_words(token):
            continue
        words.append(stem(token))
        if is_term(token, sentence_start=i == 0):
            terms.add(stem(token))
    return _Said(words, frozenset(terms), numbers, row)


def _in_order(words: list[str], place: list[str]) -> float:
    """The share of the sentence's consecutive word pairs (both in ``place``) that ``place`` has
    in the same order: "X trains Y" is not "Y trains X"."""
    pairs = [(a, b) for a, b in itertools.pairwise(words) if a in place and b in place and a != b]
    if not pairs:
        return 1.0
    first = {w: place.index(w) for w in set(place)}
    last = {w: len(place) - 1 - place[::-1].index(w) for w in set(place)}
    return sum(first[a] < last[b] for a, b in pairs) / len(pairs)


def unplaced_sentences(answer: str, context: Iterable[str]) -> list[str]:
    """The answer's sentences that no single place in the context says (see the module notes)."""
    from tutor.advisors.extractive import plain_units  # late: extractive builds on this module

    # A passage's sentences as the quotes read them (lines of a paragraph joined, a table row with
    # its column headers), and as written.
    places = [
        _said(s) for line in context for s in {*plain_units(line, min_words=1, max_words=10**6), *sentences(line)}
    ]
    missing = []
    for sentence in sentences(answer):
        said = _said(sentence)
        wanted = set(said.words)
        if len(wanted) + len(said.numbers) < 3:
            continue  # too short to stitch anything
        # A table cell's value is said of its own row: the rank row's label with the alpha row's
        # value holds every word of the alpha cell, and a claim the course never makes.
        placed = any(
            (said.row is None or said.row == p.row)
            and said.terms <= set(p.words) and said.numbers <= p.numbers
            and len(wanted & set(p.words)) / max(1, len(wanted)) >= MIN_PLACE_SHARE
            and _in_order(said.words, p.words) >= MIN_ORDER_SHARE
            for p in places
        )  # fmt: skip
        if not placed:
            missing.append(sentence)
    return missing


# --- the recommendation's claims ------------------------------------------------------------

METHODS = {
    "qlora": r"\bq-?lora\b",
    "lora": r"(?<![q-])\blora\b",
    "full": r"\bfull(?:-| )?(?:parameter )?fine-?tun",
    "dpo": r"\bdpo\b",
    "prompting": r"\bprompt(?:ing| engineering)\b",
    "rag": r"\b(?:rag|retrieval)\b",
    "fine-tuning": r"\bfine-?tun(?:e|ing)\b",
}
_RECOMMENDING = re.compile(
    # "recommend(s/ed/ing)", not the noun: "the advisor's recommendation reads: …" repeats a decision.
    r"\b(recommend(?:s|ed|ing)?|should|suggest\w*|best (?:option|choice|fit|approach)|go with|choose|pick|opt for)\b",
    re.I,
)
_NEGATING = re.compile(
    r"\b(not|n't|never|nothing|rarely|instead of|rather than|avoid|no need|skip|unless|over)\b", re.I
)


# The label of a recommendation's count of examples: a figure about the learner's data, which the
# course's figures about other projects ("Alpaca trained on 52,000 examples") do not contradict.
EXAMPLES_LABEL = "amount of data"


@dataclass(frozen=True)
class NumericClaim:
    """A number the recommendation fixed: sentences about ``topic`` must use one of ``values``."""

    topic: re.Pattern[str]
    values: frozenset[float]
    label: str


@dataclass(frozen=True)
class Claims:
    """What an answer must not contradict: the methods the recommendation names (empty: the lab
    recommends no method), whether fine-tuning is recommended at all, and fixed numbers."""

    methods: frozenset[str] = frozenset()
    fine_tune: bool | None = None
    numbers: tuple[NumericClaim, ...] = ()


class HasClaims(Protocol):
    def claims(self) -> Claims: ...


def contradictions(answer: str, claims: Claims) -> list[str]:
    found = []
    for sentence in sentences(answer):
        lowered = sentence.lower()
        named = {m for m, pattern in METHODS.items() if re.search(pattern, lowered)}
        recommends, negates = bool(_RECOMMENDING.search(lowered)), bool(_NEGATING.search(lowered))
        if claims.methods and recommends and not negates:
            other = named - claims.methods - {"fine-tuning"}
            if other and not named & claims.methods:
                found.append(
                    f"recommends {', '.join(sorted(other))} (the recommendation: {', '.join(sorted(claims.methods))})"
                )
        if claims.fine_tune is True and "fine-tuning" in named and negates and recommends:
            found.append("advises against fine-tuning, which the recommendation recommends")
        if claims.fine_tune is False and "fine-tuning" in named and recommends and not negates:
            found.append("recommends fine-tuning, which the recommendation does not")
        amounts = _amounts(sentence)
        for claim in claims.numbers:
            if amounts and claim.topic.search(lowered) and not any(a.fits(claim.values) for a in amounts):
                found.append(f"gives another {claim.label} than the recommendation")
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class _Amount:
    """A number a sentence states, and whether it is a ceiling ("below 100") or a floor ("at least
    500", "30+") rather than an amount: a bound agrees with a recommendation whose amount meets it."""

    values: frozenset[float]
    bound: Literal["", "max", "min"] = ""

    def fits(self, allowed: frozenset[float]) -> bool:
        if self.bound == "max":
            return any(a <= max(self.values) for a in allowed)
        if self.bound == "min":
            return any(a >= min(self.values) for a in allowed)
        return bool(self.values & allowed)


_CEILING = re.compile(
    r"\b(?:below|under|fewer than|less than|up to|at most|no more than)(?:\s+(?:about|around|roughly|~))?\s*$", re.I
)
_FLOOR = re.compile(
    r"\b(?:at least|more than|over|above|beyond|no fewer than)(?:\s+(?:about|around|roughly|~))?\s*$", re.I
)
# "Lesson 2", "step 3": a number that names a thing is not an amount.
_LABEL = re.compile(r"\b(?:lesson|module|step|chapter|section|lab|question|figure|table|part|page)\s*$", re.I)


# A number of something else than data: a time, a share, a size ("every 30–90 days", "10% of").
_OTHER_UNIT = re.compile(
    r"\s*(?:[–-]\s*[\d.,]+\s*)?(?:%|percent|per ?cent|(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?"
    r"|[kmgt]b|gib|mib|bits?|bytes?|steps?|epochs?|tokens?|times|x|×)\b)",
    re.I,
)


# Examples in a prompt are a few-shot prompt's, not training data: "Few-shot, 3 examples in the prompt:
# getting closer" beside a recommendation of 500-5,000 (advisor_heldout8).
# (Not "2,000 examples in the prompt-completion format" or "…in the prompt template": training data, the review.)
_IN_A_PROMPT = re.compile(
    r"\s*(?:[\w-]+\s+){0,2}?(?:in-context\s+examples?\b|examples?\s+(?:in|into|to)\s+(?:the|a|your|each|every)\s+"
    r"(?:system\s+)?prompts?(?![\w/-])(?!\s+(?:format|template|style|layout|completion|response)s?\b))",
    re.I,
)


def _amounts(sentence: str) -> list[_Amount]:
    out = []
    for match, values in _numbers(sentence):
        before = sentence[: match.start()]
        if (
            _LABEL.search(before)
            or _OTHER_UNIT.match(sentence, match.end())
            or _IN_A_PROMPT.match(sentence, match.end())
        ):
            continue
        floor = _FLOOR.search(before) or sentence[match.end() : match.end() + 1] == "+"
        out.append(_Amount(frozenset(values), "max" if _CEILING.search(before) else "min" if floor else ""))
    return out


# --- the verdict -----------------------------------------------------------------------------


class LeakCheck(Protocol):
    def leaks(self, text: str) -> list[str]: ...


@dataclass(frozen=True)
class Verdict:
    problems: list[str] = field(default_factory=list)

    @property
    def grounded(self) -> bool:
        return not self.problems


# Per sentence: at most this many content words that the context never uses (paraphrase room),
# and at most this share of its content words.
MAX_UNSUPPORTED_WORDS = 2
MAX_UNSUPPORTED_SHARE = 0.25
# An answer needs this many of the passages' words to say something the check can hold to them:
# "True." and "The answer is: no." have nothing unsupported and nothing supported either.
MIN_SAID_WORDS = 2
_UNITS = frozenset({"gb", "mb", "kb", "tb", "gib", "mib", "ms", "tokens", "usd", "eur"})
_VERDICT_WORDS = frozenset({"true", "false", "right", "wrong", "correct", "incorrect", "answer", "yes", "no"})


def _said_weight(answer: str, vocabulary: set[str]) -> int:
    """How much of ``answer`` the passages can back: its words that they use, less the words of a
    verdict ("true", "the answer is") and of a figure ("350 GB"); a name ("LoRA", "NF4",
    "Microsoft" inside a sentence) counts twice. A figure alone says nothing checkable: "The answer
    is 350 GB." holds a figure the passages give, about something else."""
    weight = 0
    for sentence in sentences(answer) or [answer]:
        for i, word in enumerate(dict.fromkeys(_TOKEN.findall(_strip_markdown(sentence)))):
            if word.lower() in _VERDICT_WORDS or stem(word) not in vocabulary:
                continue
            if any(c.isdigit() for c in word) and not is_term(word, sentence_start=False):
                continue  # "52K", "7B": a figure
            if word.lower() in _UNITS:
                continue
            if is_term(word, sentence_start=i == 0):
                weight += 2
            elif word in content_words(word):
                weight += 1
    return weight


# The advisor prompt's own layout (ask.answer_messages): a draft that repeats it echoes the prompt.
_PROMPT_LAYOUT = re.compile(
    r"\[[^\]\n]{1,120} › [^\]\n]{1,120}\]|^\s*(?:Question|Earlier question|Course passages|From the course)\s*:"
    r"|The advisor's recommendation for the student's case",
    re.M,
)


def check_answer(
    answer: str,
    context: Iterable[str],
    *,
    claims: Claims | None = None,
    guard: LeakCheck | None = None,
    finished: bool = True,
) -> Verdict:
    """Every problem that keeps ``answer`` from being shown as written (empty: grounded).
    ``finished=False`` checks the complete sentences of a draft still streaming."""
    context = list(context)
    context_text = "\n".join(context)
    problems: list[str] = []
    if not answer.strip():
        return Verdict(["the answer is empty"])
    if finished and not ends_complete(answer):
        problems.append("the last sentence is not complete")
    numbers = unsupported_numbers(answer, context_text)
    if numbers:
        problems.append("numbers not in the course passages: " + ", ".join(numbers))
    terms = unsupported_terms(answer, context_text)
    if terms:
        problems.append("names or terms not in the course passages: " + ", ".join(terms))
    vocabulary = _vocabulary(context_text)
    if finished and _said_weight(answer, vocabulary) < MIN_SAID_WORDS:
        problems.append("says too little to check against the course (a bare verdict such as 'True.')")
    for sentence in sentences(answer):
        words = [w for w in content_words(sentence) if not NUMBER.fullmatch(w)]  # numbers: checked above
        missing = [w for w in words if stem(w) not in vocabulary]
        if len(missing) > MAX_UNSUPPORTED_WORDS or (words and len(missing) / len(words) > MAX_UNSUPPORTED_SHARE):
            problems.append(f"words the course passages do not use: {', '.join(missing)}")
    for sentence in unplaced_sentences(answer, context):
        problems.append(f"no single passage says: {sentence}")
    if _PROMPT_LAYOUT.search(answer):
        problems.append('repeats the prompt\'s layout (a section tag or a "Question:" line), not an answer')
    if claims is not None:
        problems += [f"contradicts the recommendation: {c}" for c in contradictions(answer, claims)]
    if guard is not None:
        problems += [f"gives away a quiz answer: {leak}" for leak in guard.leaks(answer)]
    return Verdict(problems)


class DraftWatch:
    """Checks a streamed draft one finished sentence at a time. A sentence that fails the check
    fails the whole answer, so the caller can stop the model there and show the course's quotes
    at once instead of waiting for text that can no longer be shown."""

    def __init__(self, verdict_of: Callable[[str], Verdict]) -> None:
        self.verdict_of = verdict_of
        self.problems: list[str] = []
        self._checked = 0

    def failed(self, draft: str) -> bool:
        done = complete_sentences(draft)
        if len(done) <= self._checked:
            return False
        self._checked = len(done)
        verdict = self.verdict_of(done)
        self.problems = verdict.problems
        return not verdict.grounded
