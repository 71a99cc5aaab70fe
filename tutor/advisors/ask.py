"""Questions about the course, answered from the course.

A lab message is one of three kinds (``classify``):

- a **use case** (the learner's own project, data or log): the lab's rules recommend, see ``turn``;
- a **question** about the course: retrieval finds the passages, the model answers from them,
  and the answer is shown only if it passes ``grounding.check_answer``; otherwise the learner
  reads the course's own sentences, quoted with their sections (``extractive``);
- a **quiz-answer request**: the concept behind the item, quoted from the lesson, and a link;
  never an option (no model runs).

A question the course does not cover gets an answer that says so and names the nearest section.
Follow-ups ("what about QLoRA?") are read with the conversation: the previous message joins the
search, and a use case earlier in the conversation puts its recommendation in the context.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

from tutor.advisors import ADVISORS
from tutor.advisors.answerable import CONTRACTION, asked_part, load_answer_reader, unknown_names
from tutor.advisors.answerable import features as answerable_features
from tutor.advisors.base import AdvisorInputError, AdvisorRequest, Recommendation
from tutor.advisors.case_reader import CASE_VETO, CaseSignals, weigh
from tutor.advisors.course_words import spelled_out
from tutor.advisors.extractive import (
    ANSWER_CLOSE,
    ANSWER_QUOTES,
    ASKS_WHO,
    SUBJECT_WEIGHT,
    Quote,
    Scorer,
    best_quotes,
    closest,
    rank_sentences,
)
from tutor.advisors.grounding import (
    STOPWORDS,
    Claims,
    DraftWatch,
    check_answer,
    complete_sentences,
    content_words,
    contradictions,
    number_values,
    root,
    sentences,
    stem,
)
from tutor.advisors.names import not_mentioned_note, unknown_choice, unmentioned_names
from tutor.advisors.question_within import (
    asking_clause,
    asks_about_what_was_told,
    in_context,
    names_what_it_asks,
    without_the_course,
)
from tutor.advisors.quiz_guard import QuizGuard, QuizItem
from tutor.advisors.turn import AnswerPiece, ModelReady, Queued, quotable
from tutor.llm import ChatModel, LLMError
from tutor.llm.line import ModelLine
from tutor.rag import CourseIndex, Passage, RetrievalError
from tutor.rag.lexical import named_term

Kind = Literal["use_case", "question", "quiz_request"]
Outcome = Literal["answer", "refusal", "off_course"]

# --- what kind of message --------------------------------------------------------------------

# A message that opens on the learner's own situation ("We process…", "I have a 7B model…").
_OPENS_ON_CASE = re.compile(
    r"^\s*(?:we|our|ours|us|we're|we've|we'll|i'm|i am|i've|i have|i want|i need|i plan|i run|i train|"
    r"i'm building|my|our team|my team|my company|here is|here's|below is|attached|"
    r"please|check|review|critique|generate|draft|diagnose|score|rate|look at)\b",
    re.I,
)
# Numbers that describe a learner's own situation: data volumes, GPU memory, traffic.
_SITUATION = re.compile(
    r"\d[\d,.]*\s*(?:k\b|gb\b|gib\b|examples|rows|pairs|tickets|notes|documents|docs|samples|records"
    r"|per day|a day|/day|calls|requests|users|customers)",
    re.I,
)
# Someone else's claim put to the course for a verdict ("my boss says LoRA is worse than a full
# fine-tune, is that true?", "who's right?"), or a "why": the course answers them, and the rules have
# no case to decide. "Our CEO says the data must stay on our servers; should we fine-tune?" asks for
# a recommendation, not a verdict, and stays a use case.
_CLAIMANT = (
    r"\b(?:my|our|the)\s+(?:boss|manager|lead|team lead|tech lead|coworker|co-worker|colleague|teammate|cto|ceo"
    r"|prof|professor|teacher|tutor|friend|client|mentor|supervisor)\b"
)
_CLAIMS = (
    r"(?:says?|said|thinks?|thought|claims?|keeps? (?:saying|calling|telling)|told (?:me|us)|insists?"
    r"|believes?|reckons?|swears?|argues?)"
)
_VERDICT = (
    r"(?:\bis (?:that|it|this|he|she|they)\b[^?.!]{0,25}?\b(?:right|true|correct|ok|okay|bad|wrong|fair)\b"
    r"|\bare (?:they|we) right\b|\b(?:right|true|correct|really)\s*\?|\bis (?:it|that|he|she)\s*\?|\bany downside)"
)
_PUT_TO_THE_COURSE = re.compile(
    rf"{_CLAIMANT}[^.?!\n]{{0,60}}?\b{_CLAIMS}\b.*{_VERDICT}|\bwho(?:'s| is) right\b"
    r"|^\s*(?:so\s+|but\s+|and\s+|ok\s+)?why\b",
    re.I | re.S,
)
# The same claim told with no verdict asked for ("my coworker says QLoRA makes the model dumber"): what
# is claimed says nothing of the learner's own project (no "we", "our", "I", "my" after the claim
# verb), so it is a statement about a method for the course to answer. "My boss says we should
# fine-tune our support bot" is about their project and stays a use case.
# The claimant opens a sentence as its subject ("my coworker (always) says"): "… model writes an
# account of what the client said for the brief" is a use case that quotes a client.
_HEARSAY = re.compile(
    rf"(?:^|[.!?]\s+)\W*(?:so\s+|but\s+|ok\s+|and\s+)?{_CLAIMANT}(?:\s+\w+){{0,2}}?\s+{_CLAIMS}\b(?P<claim>.*)",
    re.I | re.S,
)
_OWN_PROJECT = re.compile(r"\b(?:we|we're|we've|our|ours|us|i|i'm|i've|my|me)\b", re.I)


def _hearsay_about_a_method(text: str) -> bool:
    heard = _HEARSAY.search(text)
    return bool(heard) and not _OWN_PROJECT.search(heard["claim"]) and not _SITUATION.search(text)


# A model's behaviour to explain ("my model repeats training examples word for word, what's going on?").
_TO_EXPLAIN = re.compile(r"\bwhat(?:'s| is) (?:going on|happening|going wrong)\b", re.I)
# A training curve's symptom told in words ("my eval loss climbs after the 2nd epoch"): the course
# answers it (reading your training curves), and there is no use case in it for the rules to decide
# on. "Loss" alone is not one: insurers' "first notice of loss" is a use case. Running out of memory
# is left out: "my 13B model runs out of memory on an A100" is a setup the hyperparameter lab sizes.
_LOSS = r"loss(?:es)?(?![\w-])"  # not "loss-prevention"; and "our loss adjusters" has no verb of a curve
_CURVE_MOVES = (
    r"(?:climb\w*|ris\w+|rose|drop\w*|fall\w*|fell|spik\w+|jump\w*|plateau\w*|flatten\w*|explod\w*|oscillat\w*"
    r"|swing\w*|zigzag\w*|bounc\w*|increas\w*|decreas\w*|stuck|flat|nan|going|goes|went|keeps|kept|stays|stayed"
    r"|stopped|started|all over|won't|doesn't|isn't|hasn't)"
)
_TRAINING_SYMPTOM = re.compile(
    rf"\b(?:(?:train(?:ing)?|eval(?:uation)?|val(?:idation)?|dev|test)[- ]{_LOSS}"
    rf"|(?:my|our|the)(?: model'?s)? {_LOSS}\s+(?:(?:is|are|was|were|has|have)\s+(?:been\s+|still\s+)?)?{_CURVE_MOVES}"
    rf"|{_LOSS}\s+curve|nan {_LOSS}"
    # a run's loss plotted ("my loss graph looks like a seismograph", advisor_heldout8); not "a hearing loss
    # graph" or "the profit and loss chart", a case's data (the review)
    rf"|(?:my|our|your|this|the)(?: model'?s)?(?: (?:training|train|validation|val|eval))? {_LOSS}"
    r"\s+(?:plot|graph|chart)"
    r"|(?:loss|training|run|model|it)\W+(?:\w+\W+)?diverg\w*"
    r"|(?:is|'s|am|are|started|keeps|seems to be|been)\s+(?:(?:that|this|it|my model|the model)\s+)?"
    r"(?:over|under)fitting"
    r"|(?:has|have|had)\s+(?:over|under)fit(?:ted)?)\b",
    re.I,
)
_HOW_TO = re.compile(
    r"^\s*(?:so\s+|but\s+|and\s+)?(?:how (?:do|can|would|should) (?:i|we|you)|how to|where do (?:i|we))\b",
    re.I,
)
# A word that points at something said before ("what do I check on the model card for that").
_REFERS_BACK = re.compile(r"\b(?:it|its|that|this|these|those|them|they|there)\b", re.I)
_FOLLOW_UP = re.compile(
    r"^\s*(?:and|but|so|what about|how about|what if|why|then|also|ok|okay|same|does that|is that|would that|"
    r"would it|does it|is it|can it|could it|and if)\b|\b(?:it|that|this|them|those|then)\b[?.!)]*\s*$"
    # Asking to narrow down what was just said ("which benchmarks exactly?", "what tools specifically?").
    r"|\b(?:exactly|specifically|precisely|in particular|for (?:example|instance))\b[?.!)]*\s*$",
    re.I,
)


def classify(request: AdvisorRequest, guard: QuizGuard, signals: CaseSignals | None = None) -> Kind:
    """A use case when the message brings data or describes the learner's own situation; a quiz-answer
    request when it asks for an option; otherwise a question about the course. ``signals``: the
    learned use-case reader and the course's nearness (case_reader.py), read with the word rules."""
    text = request.text
    if request.files:
        return "use_case"
    if guard.asks_for_answer(text):
        return "quiz_request"
    if pasted_data(text):
        return "use_case"
    if (
        _PUT_TO_THE_COURSE.search(text)
        or _hearsay_about_a_method(text)
        or (_TO_EXPLAIN.search(text) and not _SITUATION.search(text))
    ):
        return "question"

    def weighed(rules_say_case: bool) -> Kind:
        probability = signals.case_probability(text) if signals else None
        if rules_say_case and probability is not None and probability < CASE_VETO and far_from_course():
            # "my sourdough starter keeps dying", "tax on 10k of freelance income": the rules' cue words
            # with nothing of the course in them, and the reader sure it is no project: a question,
            # which the course then says it does not cover.
            return "question"
        return "use_case" if weigh(rules_say_case, probability, text) else "question"

    def far_from_course() -> bool:
        return signals is not None and not COURSE_TERMS.search(text) and not signals.near_course(text)

    if _SITUATION.search(text):
        return weighed(True)
    # "would that still hold if we only had 50 letters?" after a use case changes one of its facts:
    # the rules decide again on the whole case, the changed fact winning.
    if _WHAT_IF.search(text) and re.search(r"\d", text) and _told_a_case(request.history, guard, signals):
        return "use_case"
    # "I have my own GGUF file, how do I get Ollama to serve it?": the situation is only the setting
    # of a how-to question the course answers.
    if _HOW_TO.search(re.split(r"[,;.:]\s", text.strip())[-1]) or _TRAINING_SYMPTOM.search(text):
        return "question"
    return weighed(bool(_OPENS_ON_CASE.search(text)))


# A follow-up that changes the case ("what if we only had 50?", "would that still hold with 2 GPUs?").
_WHAT_IF = re.compile(
    r"\b(?:what if|if we|if i|if our|suppose|supposing|instead|would (?:that|it|this) (?:still|change)"
    r"|does (?:that|it|this) change|and if)\b",
    re.I,
)


def _told_a_case(history: list[str], guard: QuizGuard, signals: CaseSignals | None = None) -> bool:
    return any(classify(AdvisorRequest(message), guard, signals) == "use_case" for message in history)


def pasted_data(text: str) -> bool:
    """A JSON record, CSV rows, a log, or anything of three lines or more."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return len(lines) >= 3 or any(line.startswith(("{", "[")) and ":" in line for line in lines)


# An earlier message with this many content words or more tells something of its own; "is that a
# legit way to do it or is it kind of cheating" (4) points back in turn.
TOLD_WORDS = 5


def _last_message_that_tells(history: Sequence[str]) -> str:
    """The latest earlier message that tells something of its own, or "" when none does."""
    return next((m for m in reversed(history) if len(content_words(m)) >= TOLD_WORDS), "")


# "that whole file", "those pairs", "this schedule": a thing the conversation named, not the course
# ("this course", "that lesson") or time ("this week").
_THAT_THING = re.compile(
    r"\b(?:that|this|those|these)\s+(?:whole\s+|same\s+|entire\s+)?"
    r"(?!course\b|lessons?\b|module\b|page\b|quiz\b|week(?:end)?\b|month\b|year\b|morning\b|afternoon\b|evening\b"
    r"|days\b|summer\b|winter\b|spring\b|autumn\b|fall\b|semester\b|term\b|quarter\b|season\b|moment\b|point\b"
    r"|stage\b|time\b|is\b|was\b|are\b"
    r"|were\b|will\b|would\b|can\b|could\b|should\b|does\b|do\b|did\b|has\b|have\b|means?\b|one\b|ones\b)[a-z]{3,}\b",
    re.I,
)


def is_follow_up(request: AdvisorRequest) -> bool:
    return bool(request.history) and (
        len(content_words(request.text)) <= 4
        or bool(_FOLLOW_UP.search(request.text) or _THAT_THING.search(request.text))
    )


# --- off the course --------------------------------------------------------------------------

COURSE_TERMS = re.compile(
    r"\b(?:fine-?tun\w*|lora|qlora|llms?|language models?|models?|datasets?|training|trained|gpus?|vram|loss|"
    r"epochs?|adapters?|quantiz\w*|quantis\w*|tokens?|tokeni\w*|eval\w*|benchmarks?|prompt\w*|rag|retrieval|weights?|"
    r"parameters?|overfit\w*|hyperparam\w*|batch\w*|rank|alpha|sft|dpo|rlhf|gguf|safetensors|peft|inference|"
    r"gradients?|accumulat\w*|warm-?up|learning rates?|schedul\w*|optimi[sz]\w*|dedup\w*|duplicat\w*|"
    r"embeddings?|checkpoints?|instruction\w*|synthetic|labels?|examples?|judge|rouge|bleu|perplexity|"
    r"merg\w*|distill\w*|alignment|guardrails?|hallucinat\w*|transformers?|neural|deep learning|ai|"
    r"vllm|ollama|llama(?:\.cpp)?|mistral|qwen|gemma|olmo|pythia|deepseek|gpt-?\d?|claude|hugging ?face)\b",
    re.I,
)
# Below this top similarity a question is off the course whatever its words; below the second,
# it is off the course unless it uses the course's vocabulary (see docs/architecture.md).
OFF_COURSE_SIMILARITY = 0.22
ON_COURSE_SIMILARITY = 0.45
# A question this close to one course sentence is on the course whatever its words. Chosen on 500
# course questions in learners' words (bench/advisor_questions_train_*.yaml) and 78 off-course
# ones: 5th percentile of the course questions 0.40, 95th of the others 0.35.
ON_COURSE_SENTENCE = 0.38
# A follow-up with no word pointing back that, searched alone, comes no closer than this to any
# passage is about something else.
FOLLOW_UP_ALONE_SIMILARITY = 0.12


# Below the second similarity, a question is also off the course when half its words are names
# the course never uses and that are not common English ("pinecone or weaviate").
UNKNOWN_WORDS = 0.5


def _term_like(word: str) -> bool:
    """Shaped like a technical term: letters with digits ("NF4"), an acronym ("GGUF"), or long ("safetensors")."""
    return any(c.isdigit() for c in word) or (len(word) > 2 and word.isupper()) or len(word) >= 8


def off_course(text: str, passages: list[Passage], index: CourseIndex | None = None) -> bool:
    """Off the course: mostly names the course never uses; else, unless the question uses one of
    the course's own terms ("NF4", "safetensors"), too far from every passage."""
    top = passages[0].score if passages else 0.0
    if top >= ON_COURSE_SIMILARITY:
        return False
    if index is not None:
        if mostly_foreign(text, index):
            return True
        words = content_words(text)
        # A long word's crude stem can be a course word's ("proprietorship", "ModuleNotFoundError"),
        # so a term only counts in a question that comes near the course at all.
        if top >= OFF_COURSE_SIMILARITY and any(
            _course_term(w, index) and not index.is_common_word(w) for w in words if _term_like(w)
        ):
            return False
        if near_a_course_sentence(index, text, when_search_is_down=False):
            return False
        if names_a_course_term(text, index):
            return False
    return top < OFF_COURSE_SIMILARITY or not COURSE_TERMS.search(text)


# Only a question's first words are read for names: each is searched in the course's whole text.
NAMED_TERM_WORDS = 60


def names_a_course_term(text: str, index: CourseIndex) -> bool:
    """The question names something the course says by name, word for word: an acronym or a term
    with digits ("what's EWC short for?"), or two words the course says together ("who wrote the
    shadow alignment paper?"). Searched by meaning, such a question can sit far from every passage
    (the name is one word of many), but the course is what it asks about."""
    words = re.findall(r"[\w][\w.-]*[\w]|\w", text)[:NAMED_TERM_WORDS]
    if any(named_term(w) and not index.is_common_word(w) and index.mentions(w) for w in words):
        return True
    pairs = itertools.pairwise(words)
    return any(
        len(a) > 3 and len(b) > 3 and a.lower() not in STOPWORDS and b.lower() not in STOPWORDS
        and index.mentions(f"{a} {b}")
        for a, b in pairs
    )  # fmt: skip


def near_a_course_sentence(index: CourseIndex, text: str, *, when_search_is_down: bool) -> bool:
    """Whether ``text`` comes within ON_COURSE_SENTENCE of one course sentence. When search is down
    the caller says which way to lean: off-course detection must not call a question on the course
    for it, nor the case reader's veto call a message off the course."""
    # Each clause on its own too: "We scraped 5,000 Q&A pairs from our forum and many are the same
    # question reworded. How do I find those?" is near the course's "Are any examples the same thing
    # reworded?" in one clause (0.45), and near nothing as a whole (0.35).
    parts = [text, *_clauses(text)]
    try:
        return any(index.nearest_sentence(part) >= ON_COURSE_SENTENCE for part in parts)
    except RetrievalError:
        return when_search_is_down


# Where a message's clauses part: "…from our forum and many are the same question reworded".
_CLAUSE_SPLIT = re.compile(r"[,;:]\s+|\s+(?:and|but|so|because|while|although)\s+|[.!?]+\s+", re.I)
MAX_CLAUSES = 6
MIN_CLAUSE_WORDS = 4


def _clauses(text: str) -> list[str]:
    """A message of several clauses, each on its own (none for a message of one)."""
    parts = [p.strip() for p in _CLAUSE_SPLIT.split(text) if len(p.split()) >= MIN_CLAUSE_WORDS]
    return parts[:MAX_CLAUSES] if len(parts) > 1 else []


def mostly_foreign(text: str, index: CourseIndex) -> bool:
    """Half or more of the message's words are names the course never uses and that are not
    common English ("pinecone or weaviate", "sourdough bread"). A misspelling or a clipped form of a
    course word ("acumulation", "dedupe", "diff") is not foreign."""
    words = [w for w in content_words(text) if not _NUMBER_WORD.fullmatch(w)]
    foreign = [w for w in words if not known_word(w, index)]
    return bool(words) and len(foreign) >= UNKNOWN_WORDS * len(words)


def known_word(word: str, index: CourseIndex) -> bool:
    """A word of the course (or a misspelling or clipped form of one) or of common English; for
    "what's", "who's" the word before the apostrophe, for "so-so", "fine-tuned" every part; "whos",
    "dont" (a contraction typed without its apostrophe) too."""
    return CONTRACTION.fullmatch(word) is not None or all(
        index.is_common_word(part) or _course_word(part, index) for part in _word_parts(word)
    )


# From this length a word's crude stem says too little: "tensorflow" and "tensors" share "tensor", so a
# long word is the course's only when the course says nearly the whole word ("hyperparmeters" for
# "hyperparameters", "finetuning" for "fine-tuning").
LONG_WORD = 9
NEAR_WHOLE_WORD = 0.85


def _course_word(part: str, index: CourseIndex) -> bool:
    """A word of the course, or a misspelling, another spelling or a clipped form of one; for a long
    word, also a plain word the embedder splits whose singular or root it keeps whole ("spreadsheets")."""
    if len(part) >= LONG_WORD:
        return _near_whole_course_word(part.lower(), index.words()) or any(
            index.is_common_word(form) for form in _plain_forms(part.lower())
        )
    course = index.vocabulary()
    return stem(part) in course or _near_course_word(part, course)


def _course_term(word: str, index: CourseIndex) -> bool:
    """A term of the course: its stem (nearly its whole, for a long word) is the course's."""
    if len(word) >= LONG_WORD:
        return all(_near_whole_course_word(part, index.words()) for part in word.lower().split("-") if part)
    return stem(word) in index.vocabulary()


@functools.lru_cache(maxsize=4096)
def _near_whole_course_word(word: str, words: frozenset[str]) -> bool:
    """The word, or its root (less an "un"), is a course word's (or its root's) bar a letter or two:
    "hyperparmeters", "quantising" ("quantis" for the course's "quantiz"), "summarizing"."""
    base = root(word)
    undone = base[2:] if base.startswith("un") else base  # "unfreezing": the course says "freeze"
    return base in words or any(
        difflib.get_close_matches(form, words, n=1, cutoff=NEAR_WHOLE_WORD)
        for form in dict.fromkeys((word, base, undone))
    )


def _plain_forms(word: str) -> tuple[str, ...]:
    """A long word's singular and root: "spreadsheets" -> "spreadsheet", "dependencies" -> "dependency"."""
    singular = word[:-3] + "y" if word.endswith("ies") else word[:-1] if word.endswith("s") else word
    return tuple(dict.fromkeys((singular, root(word))))


_NUMBER_WORD = re.compile(r"[$€£]?\d[\d.,]*(?:[kKmMbBtT]|bn|x\d+)?%?")


def _word_parts(word: str) -> list[str]:
    base = re.split(r"['’]", word)[0]
    return [part for part in base.split("-") if part] or [word]


# A word this close to a course word (difflib's ratio, on stems) is that word misspelt.
NEAR_COURSE_WORD = 0.8


def _near_course_word(word: str, course: frozenset[str] | set[str]) -> bool:
    """A misspelling ("acumulation") or a clipped form ("dedupe" for "deduplication", "diff" for
    "difference") of a word the course uses: only for words of four letters or more, where a near
    miss is rarely another word."""
    if len(word) < 4:
        return False
    prefix = word.lower()[:5]
    return any(c.startswith(prefix) and len(c) >= len(prefix) + 2 for c in course) or bool(
        len(word) >= 5 and difflib.get_close_matches(stem(word), course, n=1, cutoff=NEAR_COURSE_WORD)
    )


def off_course_follow_up(text: str, passages: list[Passage], index: CourseIndex | None, history: list[str]) -> bool:
    """A follow-up is searched together with the conversation, so its passages are close even when
    the message itself asks about bread. It is off the course when nothing is close, or when it
    uses none of the course's terms and fewer than half of its words are words of the course or
    of the conversation ("what about Dutch?" after a case about Dutch tickets stays on it)."""
    if not passages or passages[0].score < OFF_COURSE_SIMILARITY:
        return True
    if index is None or COURSE_TERMS.search(text):
        return False
    if not _REFERS_BACK.search(text):
        # Searched alone, a message about the case is still near something ("what about Dutch?"
        # 0.18); "and who won the football match?" is near nothing (0.08).
        alone, _ = _search(index, text, 1)
        if not alone or alone[0].score < FOLLOW_UP_ALONE_SIMILARITY:
            return True
    words = content_words(text)
    known = index.vocabulary() | {stem(w) for message in history for w in content_words(message)}
    familiar = [w for w in words if stem(w) in known]
    return bool(words) and len(familiar) < UNKNOWN_WORDS * len(words)


# --- the answer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerCitation:
    page: str
    section: str
    link: str
    page_id: str
    anchor: str


@dataclass
class Asked:
    """A question ready to answer: what was asked, what the course says, what stands already."""

    lab: str
    request: AdvisorRequest
    kind: Kind
    query: str  # what was searched (the question, with the previous message for a follow-up)
    passages: list[Passage]
    recommendation: Recommendation | None = None  # from a use case earlier in the conversation
    item: QuizItem | None = None  # the quiz item a quiz-answer request points at
    outcome: Outcome = "answer"
    messages: list[dict] = field(default_factory=list)  # the model's prompt (answers only)
    search_error: str = ""  # course search failed: the answer says so
    unanswered: bool = False  # on the course's topic, but the course does not answer it (answerable.py)
    unmentioned: list[str] = field(default_factory=list)  # names asked about that the course never says
    # A use case's own question with the sentence before it: what its quotes answer ("which option
    # in the course fits that kind of load", after the traffic that "that" is). Empty: the request.
    focus: str = ""
    # Its clause that asks, less the words that name the course ("the cost of training from
    # scratch"): its words count again, so that the case's own words do not choose the quotes.
    asking: str = ""

    def context(self) -> list[str]:
        """What an answer may draw on: the passages, the recommendation and the learner's words."""
        lines = [p.text for p in self.passages] + [self.request.all_text]
        if self.recommendation is not None:
            lines += self.recommendation.facts_for_prompt()
        return lines

    def claims(self) -> Claims | None:
        return self.recommendation.claims() if self.recommendation is not None else None


@dataclass
class CourseAnswer:
    answer: str
    citations: list[AnswerCitation]
    passages: list[Passage]
    model: str  # the model whose words were checked ("" when none ran)
    grounded: bool  # the check's verdict on what is shown (quotes from the course are grounded)
    source: Literal["model", "extract"]
    outcome: Outcome
    problems: list[str] = field(default_factory=list)  # why the model's words were not shown
    error: str = ""  # the model could not load or answer
    draft: str = ""  # what the model wrote, shown or not

    @property
    def mark(self) -> str:
        if self.outcome != "answer":
            return ""
        if self.source == "model":
            return "✅ _Checked against the course: every number, name and claim above is in the passages cited._"
        why = (
            "the model could not answer"
            if self.error
            else "the model's answer did not pass the check against the course"
        )
        return f"📖 _Quoted from the course ({why})._"

    @property
    def text(self) -> str:
        """The answer as the chat shows it and the transcript stores it."""
        sources = "\n".join(f"- [{c.page} › {c.section}]({c.link})" for c in self.citations)
        parts = [self.answer, self.mark, f"**Sources**\n{sources}" if sources else ""]
        return "\n\n".join(p for p in parts if p)

    def as_dict(self) -> dict:
        return {
            "answer": self.answer,
            "citations": [{"page": c.page, "section": c.section, "link": c.link} for c in self.citations],
            "passages": [p.as_dict() for p in self.passages],
            "model": self.model,
            "grounded": self.grounded,
            "source": self.source,
            "outcome": self.outcome,
            **({"problems": self.problems} if self.problems else {}),
            **({"error": self.error} if self.error else {}),
        }


ANSWER_PROMPT = (
    "You answer a student's question in an online course on fine-tuning language models. Answer in at "
    "most 3 short sentences, using only the course passages below and their own numbers and terms. "
    "If the passages do not answer the question, say that the course does not cover it."
)
REFUSAL = (
    "I can't tell you which option is right: the quizzes are there to check your own understanding, so "
    "the advisor never gives their answers. Here is what the course says about the idea behind {what}:"
)
OFF_COURSE = (
    "The course does not cover that: it is about fine-tuning language models (when to fine-tune, "
    "training data, LoRA and its hyperparameters, evaluation and deployment). The nearest section it "
    "does cover is [{page} › {section}]({link})."
)
OFF_COURSE_FAR = (
    "The course does not cover that: it is about fine-tuning language models (when to fine-tune, "
    "training data, LoRA and its hyperparameters, evaluation and deployment), and no section of it is "
    "close to your question. The lessons are in the Lessons tab."
)
# A section is named as the nearest one from this similarity up. On the dev set's off-course
# questions, unrelated ones peak at 0.16 (wine stains, IRAs, translation) and ML-adjacent ones
# start at 0.35 (random forests, vector databases).
NEAREST_SIMILARITY = 0.3
NOT_ANSWERED = (
    "The course does not answer that{names}. It is about fine-tuning language models, and the nearest "
    "it comes to your question is in [{page} › {section}]({link}):"
)
# When every passage found would name a choice the learner offered, nothing is quoted or linked.
NOTHING_TO_QUOTE_FOR_A_QUIZ = (
    "The course sentences closest to this question would give a choice away, so none is quoted here."
)
STUDY_THE_LESSON = "Reread the lesson the quiz follows (Lessons tab), then try the question again."
NO_CONCEPT = (
    "I can't tell you which option is right: the quizzes are there to check your own understanding, so the "
    "advisor never gives their answers. Ask me about the idea behind the question instead (for example "
    '"what does LoRA train?") and I\'ll answer from the course, with the lesson section to read.'
)
NOTHING_TO_QUOTE = (
    "The course passages found for this question have no sentence that answers it on its own; open the sections below."
)


def prepare(
    index: CourseIndex | None,
    lab: str,
    request: AdvisorRequest,
    kind: Kind,
    guard: QuizGuard,
    *,
    scorer: Scorer,
    k: int = 3,
    earlier_use_case: Callable[[], Recommendation | None] = lambda: None,
) -> Asked:
    """Retrieval and the decisions that need no model: refusal, off the course, or an answer."""
    if kind == "quiz_request":
        item = guard.target(request.text) or next(
            (t for m in reversed(request.history) if (t := guard.target(m))), None
        )
        query = item.stem if item else _without_quiz_words(request.text)
        # A named item is taught in its lesson: the refusal quotes and links that lesson, where a
        # reference page on the same topic would send the learner elsewhere than the quiz follows.
        passages, error = _search_page(index, query, k, item.lesson) if item else ([], "")
        if not passages:
            passages, error = _search(index, query, k)
        # No section is shown whose title is a choice the learner offered ("› Catastrophic forgetting"
        # for "catastrophic forgetting or overfitting, which?"): the sources panel lists them all.
        names_a_choice = offered_choice(request.text, guard)
        passages = [p for p in passages if not names_a_choice(p.section)]
        return Asked(lab, request, kind, query, passages, item=item, outcome="refusal", search_error=error)
    follow_up = is_follow_up(request)
    if follow_up and not _FOLLOW_UP.search(request.text) and not _REFERS_BACK.search(request.text):
        # Short but maybe whole ("How much did the Alpaca fine-tune cost?"): a question the course
        # answers closely on its own is not read with the conversation.
        alone, _ = _search(index, request.text, 1)
        follow_up = not (alone and alone[0].score >= ON_COURSE_SIMILARITY)
    query = f"{request.history[-1]}\n{request.text}" if follow_up else request.text
    # More passages than the model reads: the quotes are chosen sentence by sentence from all of them.
    passages, error = _search(index, query, max(k, QUOTE_TOP_K))
    if ASKS_WHO.search(request.text):  # the sentence naming the authors shares no word with the question
        credited, _ = _search(index, f"{query} et al. published by", AUTHORS_K)
        passages += [p for p in credited if p.chunk_id not in {q.chunk_id for q in passages}]
    if follow_up:  # the question's own words find passages too: "how much did Alpaca cost?" after a use case
        own, _ = _search(index, request.text, FOLLOW_UP_OWN_K)
        passages += [p for p in own if p.chunk_id not in {q.chunk_id for q in passages}]
    asked = Asked(lab, request, kind, query, passages, recommendation=earlier_use_case(), search_error=error)
    if follow_up and passages:
        too_far = off_course_follow_up(request.text, passages, index, request.history)
    else:
        too_far = off_course(request.text, passages, index)
    if too_far:
        asked.outcome = "off_course"
        # "between megatron and colossalai, which shards better?": the answer names what the course never does
        if index is not None and (choice := unknown_choice(asked_part(request.text), index)):
            asked.unanswered, asked.unmentioned = True, choice
        return asked
    if index is not None:
        said_before = " ".join(request.history)
        asked.unmentioned = [n for n in unmentioned_names(request.text, index) if n not in said_before]
        if choice := unknown_choice(asked_part(request.text), index):  # "gptq or awq?": neither is the course's
            asked.outcome, asked.unanswered, asked.unmentioned = "off_course", True, choice
            return asked
        if not follow_up and not course_answers(request.text, passages, index, scorer):
            asked.outcome, asked.unanswered = "off_course", True
            # "mlflow", "dreambooth": names typed in lower case are named too, when the course never says them
            asked.unmentioned = asked.unmentioned or [
                name
                for name in dict.fromkeys(unknown_names(asked_part(request.text), lambda w: known_word(w, index)))
                if not index.mentions(name) and name not in said_before
            ]
            return asked
    asked.messages = answer_messages(asked, scorer)
    return asked


def course_answers(text: str, passages: list[Passage], index: CourseIndex, scorer: Scorer) -> bool:
    """Whether the passages answer the question and not only share its topic (answerable.py);
    True when the reader is not shipped."""
    reader = load_answer_reader()
    if reader is None or not passages:
        return True
    return reader.answers(answer_measures(text, passages, index, scorer))


def answer_measures(text: str, passages: list[Passage], index: CourseIndex, scorer: Scorer) -> list[float]:
    """What the answer reader weighs for ``text`` against its ``passages`` (answerable.features)."""
    ranked = rank_sentences(text, passages, scorer, figures=False)
    return answerable_features(
        text,
        best_quote=ranked[0].score if ranked else 0.0,
        nearest_passage=passages[0].score if passages else 0.0,
        passages_text="\n".join(p.text for p in passages),
        known=lambda word: known_word(word, index),
        weight=index.word_weight,
    )


QUOTE_TOP_K = 5
# Weight of the words of a use case's asking clause (``Asked.asking``): chosen on the dev sets'
# use cases that ask a course question (40 of them): the fact's sentence ranked first for 18 at 0,
# 19 at 0.2 and 22 at 0.4, 0.6 and 0.8 (0.8 lost others from the top three).
ASKING_WEIGHT = 0.4
FOLLOW_UP_OWN_K = 2
AUTHORS_K = 5  # as many as the question's own search: the authors' chunk is often a keyword hit past the top 3


def _search(index: CourseIndex | None, query: str, k: int) -> tuple[list[Passage], str]:
    if index is None:
        return [], "no course index"
    try:
        return index.search_hybrid(spelled_out(query), k=k), ""
    except RetrievalError as exc:  # answer that search is down rather than fail the turn
        return [], str(exc)


def _search_page(index: CourseIndex | None, query: str, k: int, page_id: str) -> tuple[list[Passage], str]:
    if index is None:
        return [], "no course index"
    try:
        return index.search(query, k=k, page_ids=[page_id]), ""
    except RetrievalError as exc:
        return [], str(exc)


def earlier_recommendation(
    lab: str,
    history: list[str],
    guard: QuizGuard,
    current: str = "",
    signals: CaseSignals | None = None,
) -> Recommendation | None:
    """The recommendation for the use case told earlier in the conversation, if there is one; with
    ``current`` read into it when that message changes one of the case's facts ("what if we only
    have like 60 of them?")."""
    cases = [m for m in history if classify(AdvisorRequest(m), guard, signals) == "use_case"]
    current_case = current and classify(AdvisorRequest(current, history=history), guard, signals)
    if cases and current_case == "use_case":
        cases.append(current)
    if not cases:
        return None
    try:
        return ADVISORS[lab].analyse(AdvisorRequest(text=cases[-1], history=cases[:-1]))
    except AdvisorInputError:
        return None


def _without_quiz_words(text: str) -> str:
    return re.sub(
        r"\b(?:quiz|module test|test|exam|question|q\d+|answer|option|correct|right|[a-e]\))\b", " ", text, flags=re.I
    )


def answer_messages(asked: Asked, scorer: Scorer) -> list[dict]:
    facts = ""
    if asked.recommendation is not None:
        facts = "\n\nThe advisor's recommendation for the student's case:\n" + "\n".join(
            f"- {line}" for line in asked.recommendation.facts_for_prompt()
        )
    earlier = f"Earlier question: {asked.request.history[-1]}\n" if asked.query != asked.request.text else ""
    user = f"Course passages:\n{model_context(asked, scorer)}{facts}\n\n{earlier}Question: {asked.request.text}"
    return [{"role": "system", "content": ANSWER_PROMPT}, {"role": "user", "content": user}]


# What the model reads of the retrieved passages: their sentences that best answer the question
# (ranked as the quotes are), up to this many characters. On a CPU, reading the prompt is most of
# the wait for the first word (llama.cpp reads ~500 tokens/s on 2 cores), and whole passages were
# ~1,900 characters a question, mostly about something else (issue 16).
MODEL_CONTEXT_CHARS = 900
MODEL_SENTENCES = 6


def model_context(asked: Asked, scorer: Scorer) -> str:
    """The chosen sentences under their sections' titles: the section of the best one first, and
    each section's sentences in the course's own order."""
    chosen: list[Quote] = []
    room = MODEL_CONTEXT_CHARS
    for quote in ranked_for(asked, scorer):
        if len(quote.text) <= room and not any(quote.text in c.text for c in chosen):
            chosen.append(quote)
            room -= len(quote.text)
        if len(chosen) == MODEL_SENTENCES or room < 80:
            break
    sections: dict[str, list[Quote]] = {}
    for quote in chosen:
        sections.setdefault(quote.passage.chunk_id, []).append(quote)
    return "\n\n".join(
        f"[{quotes[0].passage.page_title} › {quotes[0].passage.section}]\n"
        + " ".join(q.text for q in sorted(quotes, key=lambda q: q.position))
        for quotes in sections.values()
    )


def _cite(passages: list[Passage]) -> list[AnswerCitation]:
    seen, out = set(), []
    for p in passages:
        if (p.page_id, p.anchor) not in seen:
            seen.add((p.page_id, p.anchor))
            out.append(AnswerCitation(p.page_title, p.section, p.link, p.page_id, p.anchor))
    return out


def _quoted(quotes: list[Quote]) -> str:
    return "\n\n".join(q.markdown() for q in quotes)


# Numbers that point at an item ("q4", "question 7", "the lesson 3 quiz"), not at an answer.
_ITEM_NUMBER = re.compile(r"\b(?:q|question|lesson|quiz|test|item|no\.?|number|#)\s*#?\s*\d+\b", re.I)


def _values(text: str) -> set[float]:
    return {v for _, values in number_values(text) for v in values}


# Choices offered as "X or Y?" ("is that overfitting or catastrophic forgetting?"): the word before
# "or", and the words after it up to the question mark.
_CHOICE_PAIR = re.compile(r"\b([\w-]+)\s+or\s+([\w -]{1,40}?)\s*(?:\?|,\s*which\b)")


def _offered_choices(text: str) -> list[set[str]]:
    """Each choice the learner offered, as the stems of its content words."""
    choices = []
    for match in _CHOICE_PAIR.finditer(text):
        for side in match.groups():
            words = {stem(w) for w in content_words(side)}
            if words:
                choices.append(words)
    return choices


def offered_choice(text: str, guard: QuizGuard) -> Callable[[str], bool]:
    """Whether a text names a choice a quiz request offered: a number ("the choices are 50-500,
    500-5000…", "is it 2x the rank?"), a side of "X or Y?" or "X or Y, which", or an option typed out
    whole. A quote or a linked section naming one would confirm or rule it out."""
    offered = _values(_ITEM_NUMBER.sub(" ", text))
    choices = _offered_choices(text) + guard.options_named(text)

    def names_a_choice(candidate: str) -> bool:
        said = {stem(w) for w in content_words(candidate)}
        return bool(offered & _values(candidate)) or any(choice <= said for choice in choices)

    return names_a_choice


def refusal(asked: Asked, guard: QuizGuard, scorer: Scorer) -> CourseAnswer:
    item = asked.item
    names_a_choice = offered_choice(asked.request.text, guard)
    # The items in play: the one the request points at, else those whose options it quotes. A quote
    # that settles one of their options, right or wrong, gives the answer away by elimination.
    in_play = [item] if item is not None else guard.items_offered(asked.request.text)

    def allowed(sentence: str) -> bool:
        if names_a_choice(sentence) or any(guard.settles(sentence, it) for it in in_play):
            return False
        return not guard.leaks(sentence) and (item is None or not guard.leaks_item(sentence, item))

    # "is it B?" alone names no concept: nothing to quote, only the invitation to ask about one.
    concept = item is not None or len(content_words(asked.query)) >= 2
    quotes = best_quotes(asked.query, asked.passages, scorer, allowed=allowed) if concept else []
    what = "that question" if item else "what you asked"
    if not concept:
        answer = NO_CONCEPT
        return CourseAnswer(answer, [], [], "", True, "extract", "refusal")
    body = _quoted(quotes) if quotes else NOTHING_TO_QUOTE_FOR_A_QUIZ
    cited = _cite([q.passage for q in quotes] or asked.passages[:1])
    links = ", ".join(f"[{c.page} › {c.section}]({c.link})" for c in cited)
    study = f"Read the whole section, then try the question again: {links}." if links else STUDY_THE_LESSON
    answer = f"{REFUSAL.format(what=what)}\n\n{body}\n\n{study}"
    return CourseAnswer(answer, cited, asked.passages, "", True, "extract", "refusal")


def unanswered(
    asked: Asked, guard: QuizGuard, scorer: Scorer, allowed: Callable[[str], bool] | None = None
) -> CourseAnswer:
    """On the course's topic, not in the course: said so, with the nearest course sentence and its
    section, so that a question the reader doubted wrongly still shows the course's words."""
    named = " or ".join(f"**{n}**" for n in asked.unmentioned[:2])
    names = f": it never mentions {named}" if named else ""
    nearest = course_quotes(asked, scorer, allowed or quotable(guard, asked.claims()), guard, most=1)
    if not nearest:
        return off_course_answer(asked)
    p = nearest[0].passage
    text = NOT_ANSWERED.format(names=names, page=p.page_title, section=p.section, link=p.link)
    return CourseAnswer(f"{text}\n\n{_quoted(nearest)}", _cite([p]), asked.passages, "", True, "extract", "off_course")


def off_course_answer(asked: Asked) -> CourseAnswer:
    if not asked.passages:
        why = f"the course search is unavailable ({asked.search_error})" if asked.search_error else "nothing was found"
        text = f"I can't answer from the course right now: {why}. The lessons are in the Lessons tab."
        return CourseAnswer(text, [], [], "", True, "extract", "off_course")
    p = asked.passages[0]
    if p.score < NEAREST_SIMILARITY:  # ranked first, but not near: "sourdough bread" is not about LoRA
        return CourseAnswer(OFF_COURSE_FAR, [], asked.passages, "", True, "extract", "off_course")
    answer = OFF_COURSE.format(page=p.page_title, section=p.section, link=p.link)
    return CourseAnswer(answer, _cite([p]), asked.passages, "", True, "extract", "off_course")


class QuoteFocus(NamedTuple):
    """What the quotes answer: the question, the same read with the conversation (a follow-up), and
    the earlier message a follow-up points back at."""

    question: str
    read_with: str = ""
    subject: str = ""
    subject_weight: float = SUBJECT_WEIGHT


def quoted_for(asked: Asked) -> QuoteFocus:
    """A follow-up that points back ("does it cost me anything in quality?" after "what is QLoRA?")
    is read only with the conversation, and the earlier message's words count again: alone, its
    nearest sentence is about whatever else costs quality (LoRA's "99% of the quality for 1% of the
    cost"). On the dev follow-ups, 2 more of 48 quoted their fact and none fewer."""
    # The quotes are ranked without the words that name the course as the source ("what does the
    # course say to change"): the course's sentences that name it ("The course's example sets…")
    # answer nothing. (The answer reader still reads the question as the learner wrote it.)
    if asked.focus:
        return QuoteFocus(without_the_course(asked.focus), subject=asked.asking, subject_weight=ASKING_WEIGHT)
    focus = without_the_course(asked.request.text)
    if asked.query == asked.request.text:
        return QuoteFocus(focus)
    read_with = f"{focus}\n{without_the_course(asked.query)}"
    if _REFERS_BACK.search(focus):
        return QuoteFocus(read_with, subject=asked.request.history[-1])
    return QuoteFocus(focus, read_with)


def ranked_for(asked: Asked, scorer: Scorer) -> list[Quote]:
    """Every sentence of the retrieved passages, best first for what the quotes answer."""
    focus = quoted_for(asked)
    return rank_sentences(
        focus.question, asked.passages, scorer, read_with=focus.read_with, subject=focus.subject,
        subject_weight=focus.subject_weight,
    )  # fmt: skip


def course_quotes(
    asked: Asked, scorer: Scorer, allowed: Callable[[str], bool], guard: QuizGuard, most: int = ANSWER_QUOTES
) -> list[Quote]:
    """The course sentences that answer the question; a follow-up's are also read with the
    conversation (its previous message). A sentence that holds a quiz option's text beside the
    answer is quoted without the option's clauses."""
    focus = quoted_for(asked)
    return best_quotes(
        focus.question, asked.passages, scorer, allowed=allowed, cut=guard.without_options, most=most,
        close=ANSWER_CLOSE,
        read_with=focus.read_with, subject=focus.subject, subject_weight=focus.subject_weight,
    )  # fmt: skip


def answering_quotes(asked: Asked, guard: QuizGuard, scorer: Scorer) -> list[Quote]:
    """The course sentences a learner reads for a question, with or without the model's words."""
    return course_quotes(asked, scorer, quotable(guard, asked.claims()), guard)


def _not_said_in(written: str, quotes: list[Quote]) -> list[Quote]:
    """The quotes less the sentences the draft already says (the best quote joins two sentences,
    and a draft is often one of them)."""
    out = []
    for quote in quotes:
        parts = sentences(quote.text)
        rest = [part for part in parts if part not in written]
        if len(rest) == len(parts):
            out.append(quote)
        elif rest:
            out.append(replace(quote, text=" ".join(rest)))
    return out


def extract_answer(
    asked: Asked, guard: QuizGuard, scorer: Scorer, *, model: str = "", problems=(), error: str = "", draft: str = ""
) -> CourseAnswer:
    quotes = answering_quotes(asked, guard, scorer)
    body = _quoted(quotes) if quotes else NOTHING_TO_QUOTE
    if asked.recommendation is not None:  # a follow-up on the learner's case: its decision, and the line asked about
        facts = asked.recommendation.facts_for_prompt()
        # The line a follow-up is about, of those that hold no other amount than the decision's own
        # ("Risk: about 100 harmful examples were enough…" is about Shadow Alignment, not their data).
        claims = asked.claims()
        lines = [f for f in facts[2:] if not (claims and contradictions(f, claims))]
        case = "; ".join(f.rstrip(".") for f in facts[:2] + closest(asked.request.text, lines, scorer, 1))
        body = f"For your case, the advisor's recommendation reads: {case}.\n\nFrom the course:\n\n{body}"
    cited = _cite([q.passage for q in quotes] or asked.passages)
    return CourseAnswer(body, cited, asked.passages, model, True, "extract", "answer", list(problems), error, draft)


def cited_for(answer: str, passages: list[Passage]) -> list[AnswerCitation]:
    """The passages an answer draws on: those holding most of its content words (best first)."""
    words = {stem(w) for w in content_words(answer)}
    if not words:
        return _cite(passages[:1])
    coverage = [(len(words & {stem(w) for w in content_words(p.text)}) / len(words), p) for p in passages]
    best = max(c for c, _ in coverage)
    return _cite([p for c, p in sorted(coverage, key=lambda pair: -pair[0]) if c >= 0.8 * best][:2])


# --- the events of answering -----------------------------------------------------------------


@dataclass(frozen=True)
class Retrieved:
    asked: Asked


@dataclass(frozen=True)
class Answered:
    """Always last: the answer that stands (checked model words, or quotes from the course)."""

    asked: Asked
    answer: CourseAnswer

    @property
    def text(self) -> str:
        return self.answer.text


QuestionEvent = Retrieved | Queued | ModelReady | AnswerPiece | Answered


def answer_question(
    asked: Asked,
    load_model: Callable[[], ChatModel],
    guard: QuizGuard,
    scorer: Scorer,
    *,
    max_new_tokens: int,
    temperature: float,
    checked: bool = True,
    line: ModelLine | None = None,
) -> Iterator[QuestionEvent]:
    """Retrieved, then (for answers) Queued while others' answers are ahead (with ``line``), ModelReady
    and AnswerPiece while the model drafts, then Answered.
    ``checked=False`` shows the model's words whatever the check says: only the evaluation's
    "unchecked" configurations do that, to measure the model alone."""
    yield Retrieved(asked)
    if asked.outcome == "refusal":
        yield Answered(asked, refusal(asked, guard, scorer))
        return
    if asked.outcome == "off_course":
        yield Answered(asked, unanswered(asked, guard, scorer) if asked.unanswered else off_course_answer(asked))
        return
    draft, model_name = "", ""
    context, claims = asked.context(), asked.claims()
    watch = DraftWatch(lambda done: check_answer(done, context, claims=claims, guard=guard, finished=False))
    failure: LLMError | None = None
    with (line or ModelLine()).place() as place:
        try:
            yield from (Queued(ahead) for ahead in place.waits())
            model = load_model()
            model_name = model.name
            yield ModelReady(model_name)
            stream = model.stream(asked.messages, max_new_tokens=max_new_tokens, temperature=temperature)
            try:
                for piece in stream:
                    draft += piece
                    yield AnswerPiece(piece)
                    if checked and watch.failed(draft):
                        break
            finally:
                stream.close()
        except LLMError as exc:
            failure = exc
    if failure is not None:  # after the model's place is given up
        error = str(failure) or type(failure).__name__
        yield Answered(
            asked, _noted(asked, extract_answer(asked, guard, scorer, model=model_name, error=error, draft=draft))
        )
        return
    written = complete_sentences(draft.strip())
    problems = watch.problems or check_answer(written or draft, context, claims=claims, guard=guard).problems
    if not checked and written:
        shown = CourseAnswer(written, cited_for(written, asked.passages), asked.passages, model_name, not problems,
                             "model", "answer", list(problems), draft=draft)  # fmt: skip
        yield Answered(asked, shown)
        return
    if not problems:
        # The checked words come with the course sentences that answer the question, quoted: the
        # same ones a failing draft would have given way to. A grounded draft can be a true course
        # sentence that answers another question (issue 12's adapter: fact accuracy 75% -> 67%
        # when its drafts took the quotes' place), and the learner sees the evidence either way.
        evidence = _not_said_in(written, answering_quotes(asked, guard, scorer))
        text = written + (f"\n\nFrom the course:\n\n{_quoted(evidence)}" if evidence else "")
        cited = cited_for(written, asked.passages)
        cited += [c for c in _cite([q.passage for q in evidence]) if c not in cited]
        shown = CourseAnswer(text, cited, asked.passages, model_name, True, "model", "answer", draft=draft)
    else:
        shown = extract_answer(asked, guard, scorer, model=model_name, problems=problems, draft=draft)
    yield Answered(asked, _noted(asked, shown))


def answer_within(
    asked: Asked, question: str, index: CourseIndex, guard: QuizGuard, scorer: Scorer, history: Sequence[str] = ()
) -> CourseAnswer:
    """The question a use case asks beyond the verdict, answered from the course without the model.
    ``asked`` is the whole message prepared as a question, with the case's recommendation (quotes
    that read against it are left out). Whether the course answers it, and which names it never
    mentions, is read on the clause that asks (``asking_clause``): the case around it names its tools
    ("our Salesforce summarizer"), which the course need not, and reads as on the course's topic
    whatever is asked."""
    asking = asking_clause(question)
    claims = asked.claims()

    def allowed(sentence: str) -> bool:
        # Under the recommendation, no quote may give another figure than it does, whoever the
        # sentence is about ("Full fine-tuning uses 1e-5 to 5e-5" beside LoRA's 2e-4).
        return not guard.leaks(sentence) and not (claims and contradictions(sentence, claims))

    # The clause that asks decides whether the course answers it: the whole message is about the
    # case, on the course's topic or not ("how would i fine tune whisper on those recordings" sits
    # in a message about fine-tuning), and its passages were found for the whole message.
    # A bare "what does the course say" has nothing to measure: the whole message decides.
    measured = names_what_it_asks(asking) and bool(asked.passages)
    choice = unknown_choice(question, index)  # "gptq or awq …, which keeps more accuracy": the whole sentence
    answers = measured and not choice and course_answers(asking, asked.passages, index, scorer)
    if asked.outcome == "off_course" and answers:
        asked.outcome, asked.unanswered = "answer", False
    elif asked.outcome == "answer" and measured and not answers:
        asked.outcome = "off_course"
    if asked.outcome == "off_course":
        asked.unmentioned = (
            choice
            or unmentioned_names(asking, index)
            or [
                name
                for name in dict.fromkeys(unknown_names(asking, lambda w: known_word(w, index)))
                if not index.mentions(name)
            ]
        )
        return unanswered(asked, guard, scorer, allowed) if asked.unanswered else off_course_answer(asked)
    # The quotes answer the question's own sentences, searched for too; the whole message found the
    # passages and decided that the course answers it.
    # A question about what was just told is what the quotes answer, without the rest of the case
    # ("intent classifier for a ski resort…" drew sentences about other use cases).
    about_told = asks_about_what_was_told(question)
    asked.focus = asking if about_told else in_context(asked.request.text, question)
    told = _last_message_that_tells(history) if history and not about_told and _REFERS_BACK.search(question) else ""
    if told and len(content_words(asked.request.text.replace(question, " "))) < TOLD_WORDS:
        # "fine. so how much of that pile should someone read": "that pile" is what the conversation
        # told ("gpt-4o writes 3000 examples"), not this message; alone, the search found The Pile,
        # a pre-training corpus.
        asked.focus = f"{told}\n{asked.focus}"
    asked.asking = without_the_course(asking) if measured else ""
    if asked.focus != asked.request.text:
        found, _ = _search(index, without_the_course(asked.focus), QUOTE_TOP_K)
        asked.passages += [p for p in found if p.chunk_id not in {q.chunk_id for q in asked.passages}]
    quotes = course_quotes(asked, scorer, allowed, guard)
    cited = _cite([q.passage for q in quotes] or asked.passages)
    body = _quoted(quotes) if quotes else NOTHING_TO_QUOTE
    return CourseAnswer(body, cited, asked.passages, "", True, "extract", "answer")


def _noted(asked: Asked, shown: CourseAnswer) -> CourseAnswer:
    """A name the course never says is named before the answer, so its quotes are not read as about it."""
    if asked.unmentioned:
        shown.answer = f"{not_mentioned_note(asked.unmentioned)}\n\n{shown.answer}"
    return shown
