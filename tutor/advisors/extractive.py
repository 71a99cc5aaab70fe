"""Answers quoted from the course: the passage sentences closest to a question, with citations.

This is what a learner reads when the model's answer fails the grounding check (and for
refusals and off-course questions, where no model runs): the course's own sentences, quoted,
each with the section it comes from. Sentences are ranked by the embedding model that serves
retrieval, plus the words they share with the question.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tutor.advisors.course_words import spelled_out
from tutor.advisors.grounding import content_words, ends_complete, sentences, stem, table_cell
from tutor.rag import Passage
from tutor.rag.chunks import TABLE_SEPARATOR, Chunk
from tutor.rag.lexical import terms


class Scorer(Protocol):
    """What ranks sentences: the retrieval's embedding model, its words' weights, and a learned
    judge of question-sentence pairs where there is one (``QuoteScorer``)."""

    def embed(self, texts: list[str]) -> list[list[float]]: ...

    def word_weight(self, term: str) -> float: ...

    def relevance(self, queries: list[str], sentences: list[str]) -> list[float] | None:
        """Each sentence's probability of answering the question (the best over ``queries``), or
        None to rank by embedding similarity."""
        ...


class Index(Protocol):
    def embed(self, texts: list[str]) -> list[list[float]]: ...

    def word_weight(self, term: str) -> float: ...


class Ranker(Protocol):
    def relevance(self, queries: Sequence[str], sentences: Sequence[str]) -> list[float]: ...


class QuoteScorer:
    """The course index's embeddings and word weights, with the learned sentence ranker
    (sentence_ranker.py) in place of embedding similarity when one is given."""

    def __init__(self, index: Index, ranker: Ranker | None = None) -> None:
        self.index = index
        self.ranker = ranker

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.index.embed(texts)

    def word_weight(self, term: str) -> float:
        return self.index.word_weight(term)

    def relevance(self, queries: list[str], sentences: list[str]) -> list[float] | None:
        if self.ranker is None:
            return None
        try:
            return self.ranker.relevance(queries, sentences)
        except Exception:  # the quoted answer is the fallback: it must not fail with the ranker
            log.exception("the sentence ranker failed; ranking by embedding similarity")
            return None


log = logging.getLogger(__name__)

# A quote needs this many words to say something on its own.
MIN_WORDS = 6
MIN_ITEM_WORDS = 4  # a list item, read under its section's title
MIN_HELD_WORDS = 3  # a shorter sentence than MIN_WORDS opens the next one instead of being dropped
MAX_WORDS = 70
# Weight of shared words against embedding similarity, and of the passage's own rank.
WORD_WEIGHT = 0.6
PASSAGE_WEIGHT = 0.2
# Weight of the learned ranker's probability (chosen on bench/advisor_dev.yaml and on questions
# held out of the ranker's training: 0.5 ranked the fact first most often of 0.5, 1 and 2).
RANKER_WEIGHT = 0.5
# A further quote is added while it scores at least this share of the best (a refusal's quotes).
SECOND_QUOTE = 0.75
# Quotes in an answer, and the share of the best score each needs: more than a refusal shows,
# where every sentence beside a quiz item is one more to check. The fact's sentence is often
# ranked 2nd to 4th: on seven question sets (bench/advisor_dev3, dev6 to dev10, heldout2), up to
# three quotes at 0.75 held the fact for 66% of the questions, up to four at 0.6 for 70%, five for
# 72% (`bench/quote_ranking.py`); four keep an answer to about a paragraph.
ANSWER_QUOTES = 4
ANSWER_CLOSE = 0.6
# Weight of the words a follow-up points back at ("does it cost me anything in quality?" after "what
# is QLoRA?": QLoRA's): a sentence that does not name the subject rarely answers about it.
SUBJECT_WEIGHT = 0.2
# A question about who made something ("who came up with LoRA?", "the DPO paper, whose is it?") is
# answered by a sentence that names authors ("Hu et al. at Microsoft"), whose words the question
# cannot share: such sentences gain this much, and the search looks for them too (see ask.prepare).
AUTHORS_WEIGHT = 0.5
ASKS_WHO = re.compile(
    # "who" opening a sentence or a clause, not a relative "who" ("my teammate who wrote our eval…")
    r"(?:^|[.?!,;:\-—]\s*|\b(?:so|and|but|ok|okay)\s+)\W*who(?:'?s|\s+(?:is|was|were))?(?:\s+[\w-]+){0,3}?\s+"
    r"(?:came up|invent\w*|wr[oi]te|written|publish\w*"
    r"|introduc\w*|propos\w*|creat\w*|develop\w*|behind|by)\b|\bby whom\b|\bwhos it by\b"
    r"|(?:^|[.?!,;:\-—]\s*)\W*who\s*(?:\?|and\b|&|/|,)"
    r"|\bwhich (?:group|lab|team|company|researchers?|authors?)\b|\boriginal (?:paper|authors?|citations?)\b",
    re.I,
)
NAMES_AUTHORS = re.compile(
    r"\bet al\b|\b(?:published|introduced|proposed|developed|written|invented) by\b"
    r"|\b[A-Z][\w'.-]*(?: [A-Z][\w'.-]*)* \((?:[^()]*\W)?(?:19|20)\d\d\)"  # "Microsoft's Orca (2023)"
)

# "why is it so easy to undo safety training?", "why does lora even work": answered by a sentence
# that gives a reason ("Why so easy? Alignment suppresses…", the hypothesis under "Why does it
# work?"), which ranked below sentences that only share the question's topic ("RLHF takes thousands
# of hours"). Such sentences gain this much for a question that asks why.
REASON_WEIGHT = 0.3
ASKS_WHY = re.compile(
    r"(?:^|[.?!,;:\-—]\s*|\b(?:so|and|but|ok|okay|like|genuinely|honestly)\s+)\W*(?:why|how come)\b"
    r"|\bwhat(?:'s| is) the reason\b",
    re.I,
)
GIVES_REASON = re.compile(
    r"^\W*why\b[^?]{0,60}\?|\bbecause\b|\bthe (?:hypothesis|reason)\b|\b(?:that|this|which) is why\b", re.I
)

# "in the llm judge setup, what score sends an output to a human?", "how much faster is vLLM than
# flask?": answered by a sentence that gives the figure ("any dimension below 3", "10–24× the
# throughput"), which ranked below sentences that only share the question's topic ("The judge sees
# the input… and scores structured dimensions"). Such sentences gain up to this much for a question
# that asks how much, how many, how long or what figure (``amount_fit``).
AMOUNT_WEIGHT = 0.3
ASKS_AMOUNT = re.compile(
    r"\bhow (?:much|many|long|big|large|small|fast|slow|often|far|high|low|cheap|expensive|quickly|soon)\b"
    r"|\bwhat(?:'s| is| was| are| were)? (?:the |a |my |our )?(?:typical |usual |minimum |maximum |default )?"
    r"(?:score|rank|rate|number|size|amount|cost|price|percentage|share|threshold|cut-?off|value|budget"
    r"|learning rate|batch size|ratio|range)s?\b",
    re.I,
)
# A figure: a digit that does not belong to a name ("NF4", "A100") and is not a year ("2021").
GIVES_AMOUNT = re.compile(r"(?<![A-Za-z\d])(?!(?:19|20)\d\d\b)\d")
_DURATION = r"(?:hours?|days?|weeks?|months?|years?|minutes?|seconds?|s|ms)\b"


@dataclass(frozen=True)
class AmountKind:
    """A kind of figure a question can name, and how a sentence that gives it reads."""

    asks: re.Pattern[str]
    gives: re.Pattern[str]


# The figure a question names decides which figures answer it: "how much memory" is answered in
# GB, "how fast" in tokens/s or a factor, "how quickly did the doctors find…" in hours; a sentence
# with some other number ("8 model sizes") gives another figure.
AMOUNT_KINDS = (
    AmountKind(  # memory and size
        re.compile(r"\b(?:memory|vram|ram|gigabytes?|disk|storage|how (?:big|large|small))\b", re.I),
        re.compile(r"\d\s*(?:[KMGT]i?B)\b"),
    ),
    AmountKind(  # speed
        re.compile(r"\bhow (?:much )?(?:fast|quick|slow)(?:er)?\b|\bspeed|\bthroughput|\blatency", re.I),
        re.compile(rf"\btokens?\s*/\s*s|\d(?:\s*×|x\b)|\btimes (?:faster|slower|the)\b|\d\s*{_DURATION}", re.I),
    ),
    AmountKind(  # money
        re.compile(r"\bcost|\bprice|\bbudget|\bexpensive|\bcheap|\bspend|\$|\bdollars?\b", re.I),
        re.compile(r"[$€£]\s?\d|\d\s?(?:USD|EUR|dollars?)\b", re.I),
    ),
    AmountKind(  # time ("how long is the context window" asks a length, not a time)
        re.compile(
            r"\bhow (?:long(?!\s+(?:is|are|can|should|does|do)\s+(?:the |a |my |our |its |their )?"
            r"(?:context|prompt|sequence|input|output|answer|text|window|document|example)s?\b)"
            r"|quickly|soon|often)\b|\bhow many (?:hours|days|weeks|months|years)\b",
            re.I,
        ),
        re.compile(
            rf"\d\s*-?\s*{_DURATION}|\bwithin (?:an? )?(?:hours?|days?|minutes?|weeks?)\b"
            r"|\b(?:hourly|daily|weekly|monthly|yearly)\b",
            re.I,
        ),
    ),
    AmountKind(  # a share
        re.compile(r"\bhow much of\b|\bwhat (?:share|percent\w*|fraction|portion|proportion)\b", re.I),
        re.compile(r"\d\s*%|\bpercent\b|\b(?:one|\d+) in \d", re.I),
    ),
)
# "how many training examples": the noun counted (the phrase's last word), which a sentence that
# answers names beside a number ("Start with 500 high-quality examples").
_COUNTED = re.compile(r"\bhow (?:many|much)((?:\s+[a-z][\w-]*){1,3})", re.I)
_ENDS_COUNTED = re.compile(
    r"^(?:do|does|did|is|are|was|were|can|could|should|would|will|of|more|less|better|worse|faster|slower"
    r"|bigger|smaller|cheaper|longer|time|it|i|we|you|they|he|she|the|a|an|my|our|your|their|its|this|that"
    r"|these|those|to|for|in|on|per|at|with|from|by|would|need|needed|have|has|had|get|take|make)$",
    re.I,
)
_AMOUNT_NEAR = 4  # words between the counted noun and its number


def _counted_nouns(questions: Sequence[str]) -> set[str]:
    nouns = set()
    for question in questions:
        for match in _COUNTED.finditer(question):
            phrase = []
            for word in match.group(1).split():
                if _ENDS_COUNTED.match(word):
                    break
                phrase.append(word)
            if phrase:
                nouns.add(stem(phrase[-1].lower()))
    return nouns


def amount_fit(questions: Sequence[str]) -> Callable[[str], float] | None:
    """None when no question asks for a figure. Otherwise a sentence's fit: 1 when it gives the kind
    of figure asked (or any figure, when none is named), 0.5 for another figure, 0 for none."""
    if not any(ASKS_AMOUNT.search(q) for q in questions):
        return None
    kinds = [k for k in AMOUNT_KINDS if any(k.asks.search(q) for q in questions)]
    counted = _counted_nouns(questions)

    def names_count(sentence: str) -> bool:
        words = re.findall(r"[\w$€£.,×%+–-]+", sentence)
        numbers = [i for i, w in enumerate(words) if GIVES_AMOUNT.search(w)]
        return any(
            stem(w.lower().strip(".,")) in counted and any(abs(i - n) <= _AMOUNT_NEAR for n in numbers)
            for i, w in enumerate(words)
        )

    def fit(sentence: str) -> float:
        if any(k.gives.search(sentence) for k in kinds) or (counted and names_count(sentence)):
            return 1.0
        if not GIVES_AMOUNT.search(sentence):
            return 0.0
        return 0.5 if kinds or counted else 1.0

    return fit


def gives_reason(unit: str, passage: Passage | Chunk, asked: set[str]) -> bool:
    """The sentence gives a reason: it says why or because, or sits under a heading that asks why
    about something the question names (``asked``: its words): "Why does it work?" for
    "why does lora even work", not "Why warmup?" for "why does my loss go to zero"."""
    if GIVES_REASON.search(unit):
        return True
    if not passage.section.split(" › ")[-1].lower().startswith("why"):
        return False
    # The section's path names its subject ("…LoRA: Low-Rank Adaptation › Why does it work?"); a word
    # counts by its first four letters ("warm up" and "Why warmup?").
    named = {w.lower()[:4] for w in content_words(passage.section) if len(w) >= 4}
    return bool(named & {w[:4] for w in asked if len(w) >= 4})


@dataclass(frozen=True)
class Quote:
    text: str
    passage: Passage
    score: float
    position: int = 0  # the sentence's place among its passage's sentences

    def markdown(self) -> str:
        p = self.passage
        return f"> {self.text}\n>\n> — [{p.page_title} › {p.section}]({p.link})"


def plain_units(passage_text: str, *, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> list[str]:
    """The sentences of a chunk as plain text: its heading line and code blocks dropped; a table
    row read with its column headers ("GPU memory — Full fine-tuning: 350 GB; LoRA: 20 GB."); a
    sentence that opens on a pronoun ("Its corpus…") kept with the one before it; links keep
    their words."""
    body = passage_text.split("\n\n", 1)[-1] if " › " in passage_text.split("\n", 1)[0] else passage_text
    blocks = re.findall(r"```[^\n]*\n(.*?)(?:```|$)", body, flags=re.S)
    code_units = [unit for block in blocks for unit in _code_units(block)]
    body = re.sub(r"```.*?(```|$)", "", body, flags=re.S)
    units: list[str] = []
    lines = body.splitlines()
    header: list[str] = []
    for i, line in enumerate(lines):
        line = line.strip()
        if line.startswith("|"):
            cells = [_inline(c.strip()) for c in line.strip("|").split("|")]
            if i + 1 < len(lines) and TABLE_SEPARATOR.fullmatch(lines[i + 1].strip() or "x"):
                header = cells
                continue
            if TABLE_SEPARATOR.fullmatch(line):
                continue
            # Each cell on a line of its own, marked, so that it is not cut into sentences ("OpenAI-
            # compatible API. The standard for serving a 7B model at volume." is the vLLM row's).
            units += [f"\n{_CELL}{unit}\n" for unit in _table_row(cells, header)]
            continue
        header = []
        line = _RUN_IN_LABEL.sub(_label_colon, line)
        line = re.sub(r"^>\s*|^#+\s*", "", _inline(line))
        line = re.sub(r"^([-*+]\s+)?\[[ xX]\]\s*", r"\1", line)  # checklist boxes
        units.append(line)
    # Lines of one paragraph join before the split into sentences; list items stay apart.
    text = re.sub(r"(?<=[^\n])\n(?![-*+]\s|\d+[.)]\s|\n)", " ", "\n".join(units))
    text = _lead_ins_joined(text, max_words)
    out: list[str] = []
    for line in text.splitlines():
        # A list item says its piece under the section's title, so it may be shorter than a sentence
        # of prose ("You have good training data." under "When to fine-tune").
        shortest = min(min_words, MIN_ITEM_WORDS) if _LIST_ITEM.match(line) else min_words
        held = ""  # a short sentence, which opens the next one of its paragraph ("Fine-tuning is not magic.")
        if line.startswith(_CELL):  # a table cell, whole: its later sentences need its row and column
            cell = re.sub(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+", "", line.removeprefix(_CELL)).strip()
            if min_words <= len(cell.split()) <= max_words:
                out.append(cell)
                continue
            line = cell
        for sentence in sentences(line):
            # A list item or lead-in that ends on ":", ";", "," or "or" still states something: end it
            # there ("One JSON object per line (JSONL):" -> "… (JSONL).").
            sentence = re.sub(r"(?:[:;,]|\s+(?:or|and))+\s*$", "", sentence).rstrip()
            if not sentence:
                continue
            sentence = sentence if ends_complete(sentence) else sentence + "."
            if held and table_cell(sentence) is None and len(held.split()) + len(sentence.split()) <= max_words:
                sentence = f"{held} {sentence}"
            held = ""
            words = len(sentence.split())
            # A sentence in brackets after a question ("did it forget other abilities? (Regression
            # benchmarks such as MMLU.)") belongs to it, as one that leans on a pronoun does.
            leans = _ANAPHOR.match(sentence) or (sentence.startswith("(") and out and out[-1].endswith("?"))
            if out and leans and len(out[-1].split()) + words <= max_words:
                out[-1] = f"{out[-1]} {sentence}"
            elif shortest <= words <= max_words:
                out.append(sentence)
            elif words >= MIN_HELD_WORDS and sentence[:1].isupper() and " — " not in sentence:  # not a table cell
                held = sentence
    return out + code_units


# A bold label that opens a paragraph or list item ("**Catastrophic forgetting.** Fine-tune on…"):
# too short to quote alone, it names what the sentence after it is about, so it joins that sentence.
_RUN_IN_LABEL = re.compile(r"^((?:[-*+]|\d+[.)])\s+)?\*\*([^*]+?)\.\*\*\s+(?=\S)")


def _label_colon(match: re.Match[str]) -> str:
    bullet, label = match.group(1) or "", match.group(2)
    return f"{bullet}{label}: " if len(label.split()) < MIN_WORDS else match.group(0)


_CELL = "\x00"  # marks a table cell's line until it is a unit
_LIST_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s+")


def _lead_ins_joined(text: str, max_words: int) -> str:
    """A lead-in ending on ":" and the list items that finish it, as one line: "For a model the size
    of GPT-3.5 that means: storing a full copy…; huge GPU memory…; a real risk of catastrophic
    forgetting." Alone, "a real risk of catastrophic forgetting." does not say of what. Only items
    that are fragments (they open in lower case) join, and only when the whole still fits a quote."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        items: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip():  # the blank line before a list
            j += 1
        while line.rstrip().endswith(":") and j < len(lines) and _LIST_ITEM.match(lines[j]):
            item = _LIST_ITEM.sub("", lines[j]).strip()
            # A fragment opens in lower case, or ends on ";" or "," as the items of one sentence do
            # ("NF4 (4-bit NormalFloat), a 4-bit data type…;" opens on a name).
            if not (item[:1].islower() or item.rstrip().endswith((";", ","))):
                break
            items.append(re.sub(r"(?:[;,.]|\s+(?:or|and))+\s*$", "", item))
            j += 1
        lead = sentences(line)[-1] if line.strip() else ""
        if items and len(lead.split()) + sum(len(item.split()) for item in items) <= max_words:
            out.append(f"{line.rstrip()} {'; '.join(items)}.")
            i = j
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


# A sentence that leans on the one before it for its subject.
_ANAPHOR = re.compile(r"(?:It|Its|It's|This|These|That|Those|They|Their|Them|Such|Both|Each of them)\b")
# Cells this short read well in one line: "GPU memory — Full fine-tuning: 350 GB; LoRA: 20 GB."
SHORT_CELL_WORDS = 6


def _inline(text: str) -> str:
    """Markdown inline marks removed: links keep their words, no bold or code marks."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"\*\*|__|`|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)", "", text)


def _table_row(cells: list[str], header: list[str]) -> list[str]:
    """A table row as sentences. With a header, each cell is named by its column: one line when
    the cells are short, else one sentence per cell (a cell may hold several sentences)."""
    name, values = cells[0], cells[1:]
    if len(header) != len(cells):
        return [_ended(f"{name}: {', '.join(c for c in values if c)}")]
    named = [(h, c) for h, c in zip(header[1:], values, strict=True) if c]
    if all(len(c.split()) <= SHORT_CELL_WORDS for _, c in named):
        return [_ended(f"{name} — " + "; ".join(f"{h}: {c}" if h else c for h, c in named))]
    if not header[0]:  # columns are the things compared ("| | Automated metrics | LLM-as-judge |")
        return [_ended(f"{h} — {name}: {c}") for h, c in named]
    return [_ended(f"{name} — {h}: {c}") for h, c in named]


def _ended(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


_SETTING = re.compile(r"""^(?:[A-Za-z_][\w.\-]*|"[^"\s]+"|'[^'\s]+')\s*[=:]\s*[\w"'.-]""")


def _code_units(block: str) -> list[str]:
    """Lines of a code block worth quoting: settings with their comment ("`lr_scheduler_type="cosine"`
    — why"), and comments on lines of their own, which explain the code."""
    out = []
    previous_comment = False
    for line in block.splitlines():
        code, _, comment = line.partition("#")
        code, comment = code.strip().rstrip(","), comment.strip()
        # A comment on a line of its own explains in words ("# Then: read about 10% of what was
        # generated yourself."); one that opens in lower case goes on from the line before.
        if not code and comment:
            if previous_comment and comment[:1].islower():
                out[-1] = f"{out[-1].removesuffix('.')} {_ended(comment)}"
            elif comment[:1].isalnum() and len(comment.split()) >= MIN_WORDS:  # not "# ... train as usual ..."
                out.append(_ended(comment[:1].upper() + comment[1:]))
            else:
                previous_comment = False
                continue
            previous_comment = True
            continue
        previous_comment = False
        # A setting with a value ("lr_scheduler_type="cosine""), not an opening bracket or a call.
        # The name before "=" or ":" is an identifier or a quoted key, not words ("2. format: does the JSON…").
        if _SETTING.match(code) and not code.endswith(("(", "[", "{")) and len(code) <= 80:
            out.append(f"The course's example sets `{code}`" + (f" ({comment.rstrip('.')})." if comment else "."))
    return out


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def under_title(unit: str, passage: Passage | Chunk) -> str:
    """A sentence as it is ranked: under its section's title."""
    return f"{passage.section.split(' › ')[-1]}: {unit}"


def ranked_texts(chunks: list[Chunk]) -> list[str]:
    """Every course sentence as ``rank_sentences`` embeds it: the server's warm-up embeds them
    once, so that ranking an answer's sentences embeds only the question."""
    return [under_title(unit, chunk) for chunk in chunks for unit in plain_units(chunk.text)]


def rank_sentences(
    question: str,
    passages: list[Passage],
    scorer: Scorer,
    *,
    read_with: str = "",
    subject: str = "",
    subject_weight: float = SUBJECT_WEIGHT,
    figures: bool = True,
    units: list[tuple[str, Passage, int]] | None = None,
) -> list[Quote]:
    """Every usable sentence of ``passages``, best first. ``read_with``: the question read with the
    conversation (a follow-up); a sentence then scores by whichever of the two it is closer to, so
    "how much did Alpaca cost?" after a use case still finds the sentence about Alpaca's cost.
    ``subject``: what a follow-up points back at (the earlier message), or the clause a use case
    asks in; its words count again, ``subject_weight`` as much. ``figures=False`` leaves out the
    figure cue (``amount_fit``), for the answer reader, whose measure was learned without it.
    ``units``: sentences already cut out, (text, its passage, its place there), ranked in place of
    the passages' own."""
    question, read_with, subject = spelled_out(question), spelled_out(read_with), spelled_out(subject)
    if units is None:
        units = [(unit, p, i) for p in passages for i, unit in enumerate(plain_units(p.text))]
    candidates = units
    if not candidates:
        return []
    questions = [question, read_with] if read_with else [question]
    # Each sentence is read under its section's title: "Its corpus Dolma…" reads as a sentence
    # about fully open models, and a table row as a row of its table.
    sentences = [under_title(unit, p) for unit, p, _ in candidates]
    vectors = scorer.embed(questions + sentences)
    queries = vectors[: len(questions)]
    similarities = [max(_cosine(q, v) for q in queries) for v in vectors[len(questions) :]]
    # The learned ranker reads each pair together; its probability is added to the similarity
    # rather than put in its place (on dev questions, either alone ranked the fact first less often).
    judged = scorer.relevance(questions, sentences) or [0.0] * len(sentences)
    shared_words = _shared_words(" ".join(questions), scorer)
    names_subject = _shared_words(subject, scorer) if subject else lambda _: 0.0
    asks_who = any(ASKS_WHO.search(q) for q in questions)
    asks_why = any(ASKS_WHY.search(q) for q in questions)
    gives_amount = amount_fit(questions) if figures else None
    asked = {w.lower() for q in questions for w in content_words(q)} if asks_why else set()
    quotes = []
    for (unit, passage, position), text, similarity, relevance in zip(
        candidates, sentences, similarities, judged, strict=True
    ):
        score = (
            similarity + RANKER_WEIGHT * relevance + WORD_WEIGHT * shared_words(unit) + PASSAGE_WEIGHT * passage.score
            + subject_weight * names_subject(text) + AUTHORS_WEIGHT * (asks_who and bool(NAMES_AUTHORS.search(unit)))
            + REASON_WEIGHT * (asks_why and gives_reason(unit, passage, asked))
            + AMOUNT_WEIGHT * (gives_amount(unit) if gives_amount else 0.0)
        )  # fmt: skip
        quotes.append(Quote(unit, passage, score, position))
    return sorted(quotes, key=lambda q: -q.score)


def _shared_words(question: str, scorer: Scorer) -> Callable[[str], float]:
    """The share of the question's words a text uses, the rare ones ("NF4", "175B") counting more
    than the common ones ("model")."""
    asked = set(terms(question))
    total = sum(scorer.word_weight(t) for t in asked)

    def shared(text: str) -> float:
        return sum(scorer.word_weight(t) for t in asked & set(terms(text))) / total if total else 0.0

    return shared


def closest(question: str, texts: list[str], scorer: Scorer, most: int) -> list[str]:
    """The ``most`` texts nearest to ``question`` by meaning and shared rare words, in their own order
    (the lines of a recommendation that a follow-up question is about)."""
    if len(texts) <= most:
        return texts
    vectors = scorer.embed([question, *texts])
    shared_words = _shared_words(question, scorer)

    def score(i: int) -> float:
        return _cosine(vectors[0], vectors[i + 1]) + WORD_WEIGHT * shared_words(texts[i])

    chosen = sorted(sorted(range(len(texts)), key=score, reverse=True)[:most])
    return [texts[i] for i in chosen]


def _reads_on(sentence: str, after: str) -> bool:
    """Whether ``after`` continues ``sentence`` in a quote: not a code example, and not another
    table row's cell ("Some people set alpha = rank…" is the alpha row's; "Batch size — Typical
    value: 4–32" opens the next row). Cells of one row, or of one column, read on."""
    if after.startswith("The course's example"):
        return False
    next_cell = table_cell(after)
    if next_cell is None:
        return True
    cell = table_cell(sentence)
    return cell is not None and (cell[0] == next_cell[0] or cell[1] == next_cell[1])


def best_quotes(
    question: str,
    passages: list[Passage],
    scorer: Scorer,
    *,
    allowed: Callable[[str], bool] = lambda _: True,
    cut: Callable[[str], str | None] = lambda _: None,
    most: int = 3,
    close: float = SECOND_QUOTE,
    read_with: str = "",
    subject: str = "",
    subject_weight: float = SUBJECT_WEIGHT,
) -> list[Quote]:
    """The best sentence, and the next ones while they score at least ``close`` of it; ``allowed`` drops
    sentences that must not be shown (a quiz option's text), unless ``cut`` gives a part of one that
    may be (the sentence less the option's clauses: ``QuizGuard.without_options``)."""
    ranked, parts = [], []
    for quote in rank_sentences(
        question, passages, scorer, read_with=read_with, subject=subject, subject_weight=subject_weight
    ):
        if allowed(quote.text):
            ranked.append(quote)
        elif (part := cut(quote.text)) and allowed(part):
            parts.append((part, quote.passage, quote.position))
    # A part is ranked as the learner reads it: without its cut clauses, it may answer less.
    ranked += rank_sentences(
        question, [], scorer, read_with=read_with, subject=subject, subject_weight=subject_weight, units=parts
    )
    ranked.sort(key=lambda q: -q.score)
    if not ranked:
        return []
    # The best sentence comes with the one after it in its passage (a sentence often names the
    # subject and the next gives the fact), then the next best while it scores close.
    by_place = {(q.passage.chunk_id, q.position): q for q in ranked}
    chosen: list[Quote] = []
    used: set[tuple[str, int]] = set()
    for quote in ranked:
        if len(chosen) >= most or (chosen and quote.score < close * ranked[0].score):
            break
        place = (quote.passage.chunk_id, quote.position)
        if place in used or any(quote.text in c.text for c in chosen):
            continue
        text, used = quote.text, used | {place}
        after = by_place.get((quote.passage.chunk_id, quote.position + 1))
        if not chosen and after is not None and _reads_on(quote.text, after.text):
            text, used = f"{text} {after.text}", used | {(after.passage.chunk_id, after.position)}
        chosen.append(Quote(text, quote.passage, quote.score, quote.position))
    return chosen
