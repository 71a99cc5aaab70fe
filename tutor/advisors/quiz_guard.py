"""Keeps the advisor from giving away quiz answers.

Built from the quiz banks stored on the server (never from the prompt or the course index, which
hold no bank text). Two jobs:

- ``asks_for_answer``: does a message ask which option of a quiz item is right ("is it B?",
  "answer to question 7 of the module test", a stem pasted with its options)? Such a message gets
  an explanation of the concept and a link to the lesson, never an option.
- ``leaks``: does a text name an option letter as an answer, or hold the text of any option of any
  item, right or wrong alike (most of its content words in one sentence; a short option's whole
  text)? What is held back is visible to the learner, so it must not single out the right option.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tutor.advisors.grounding import content_words, sentences, stem
from tutor.quiz.bank import Bank, Question

# An option counts as given away when one sentence holds this share of its content words.
OPTION_OVERLAP = 0.8
# Options shorter than this (in content words) are single terms ("LoRA", "4") that course text
# must be free to use; only their letters are guarded.
MIN_OPTION_WORDS = 3
# A message holds a pasted stem when it has this share of the stem's content words.
STEM_OVERLAP = 0.75

# Words that name a graded item. "question" and "test" alone are everyday words in a use case ("a
# bot that answers questions", "a test set"): they count with a number, or after "the"/"this" ("the
# DPO question"), and then only beside words that ask for the right answer, not just "answers".
# "exam" is the word and its plural: "examples" and "examiners" fill use cases ("we have no example
# answers" was refused as a quiz request).
# A learner's own product named for a quiz or an exam ("a quiz generator", "our exam bot") is not one.
_OWN_PRODUCT = r"(?![- ](?:generators?|apps?|bots?|makers?|platforms?|games?|night|prep|tutors?|builders?)\b)"
_QUIZ_ITEM = (
    rf"(?:(?<!pub )quiz\w*{_OWN_PRODUCT}|module[- ](?:\d[- ])?test|exam(?:s|inations?)?(?![\w-]){_OWN_PRODUCT}"
    r"|assessment|q\s?\d+|(?:question|test)\s*#?\s*\d+)"
)
# A graded item as a whole word ("the lesson 3 quiz", not "a quiz-generation app"), and choosing
# among its options.
# ("assessment" alone is a learner's own work: "we do credit risk assessment".)
_GRADED = (
    rf"(?:(?:quiz(?:zes)?|module[- ](?:\d[- ])?test|exam)(?![\w-]){_OWN_PRODUCT}|q\s?\d+"
    r"|(?:question|test)\s*#?\s*\d+)"
)
_CHOOSING = r"(?:tick|select|choose|pick|mark|circle|which of the (?:\w+ )?(?:options|choices|answers))"
# An option picked by its place ("is it the second option?") in a message that names one of the
# course's quizzes ("the lesson 3 quiz", "q4", "the module test"). Both must hold: "option two is
# fine-tuning" in a quiz-app use case is a learner's own plan. Two searches, not one pattern with
# ".*" between them, so a long paste costs linear time.
_ASKED_OPTION = re.compile(
    r"\b(?:is it|is the answer|answer is|it's|go with|pick|choose|select|tick)\s+(?:the\s+)?"
    r"(?:(?:first|second|third|fourth|fifth|last|[1-5](?:st|nd|rd|th))\s+(?:option|choice|answer)"
    r"|(?:option|choice)\s+(?:one|two|three|four|five|[1-5]))\b",
    re.I,
)
_COURSE_QUIZ = re.compile(
    r"\b(?:lesson[\s-]*(?:\d|one|two|three|four)\s*(?:quiz|question)|quiz\s*\d|(?:the|this|that)\s+quiz"
    r"|module(?:[- ]\d)?[- ]test"
    r"|final (?:test|exam)|q\s?\d{1,2})\b",
    re.I,
)
# A guess at one item's answer, to be confirmed ("for the lesson 3 quiz, the one about alpha — is it
# 2x the rank?"): a course quiz named, one of its items pointed at, and after the pointer a guess
# offered. All three: "before the module test, is it true that QLoRA keeps the base in 4 bits?"
# points at no item, and "the one about alpha, can you explain what alpha scales?" offers no guess;
# both are course questions. Guess words that open a question of the learner's own ("it's not clear
# to me…", "is it normal that…", "I think I still don't get…") are not a guess.
_POINTS_AT_ITEM = re.compile(
    r"\b(?:the (?:one|question|item) (?:about|on|with|for|asking|that asks)"
    r"|the [\w-]+(?:\(\))? (?:question|one|item)\b"
    r"|the lesson[\s-]*\d\s+(?:quiz\s+)?question\b"
    r"|(?:question|item)\s*#?\s*\d{1,2}\b|q\s?\d{1,2}\b"
    # "lesson 1 quiz last question, …": an item by its place right after the quiz, with no "the"
    # (not "before the module test, one last question: …", a question of the learner's own)
    r"|\b(?:quiz|test)[\s,:-]+(?:first|second|third|fourth|fifth|last|final)\s+(?:question|item)\b)",
    re.I,
)
_OFFERS_GUESS = re.compile(
    r"\b(?:is it|is the answer|the answer is|answer is|it's|it is|should i (?:put|say|answer|write|pick|choose"
    r"|go with|tick|select)|i'd (?:say|put|go with)|i think|am i right|i'm guessing|my guess is|would it be"
    r"|which (?:is it|one is it|one)|was it|was the answer|yes or no|got it wrong|marked (?:it |me )?wrong)\b"
    r"|\b(?:right|correct|yes or no|yes|isn't it|shouldn't it|wouldn't it)\s*\?",
    re.I,
)
_NOT_A_GUESS = re.compile(
    r"\b(?:it(?:'s| is) not|i think i|is it (?:normal|worth|possible|true|ok|okay|fine|bad|good|expected|because))\b",
    re.I,
)


# A graded item retold in the learner's words ("for the exam: … is that overfitting or catastrophic
# forgetting?", "quiz question: …", "in the test there's a question on …") with its choices offered
# ("X or Y?", "which one", "the choices are", "true or false"). Both must hold: "For the exam I want
# to understand overfitting" retells no item, and "We are building a quiz app: RAG or fine-tuning?"
# names no graded item.
_RETOLD_ITEM = re.compile(
    r"\b(?:for|in|on|from)\s+(?:the|my|this|our|a|an)\s+(?:exam|quiz|module[- ]test|test|assessment)\s*[:\-–—]"
    r"|\b(?:exam|quiz|test)\s+(?:question|item)\s*[:\-–—]"
    r"|\b(?:exam|quiz|module[- ]test|test)\s+(?:asks|says|has a question)\b"
    r"|\b(?:there'?s|theres|there is) a question\b"
    r"|\btrue or false\s+(?:for|in|on)\s+(?:the|my|this|our|a)\s+(?:exam|quiz|module[- ]test|test)\b",
    re.I,
)
_OFFERS_CHOICE = re.compile(
    r"\btrue or false\b|\bwhich one\b|\b(?:choices|options) are\b|\b[\w-]+\s+or\s+[\w -]{1,40}\?", re.I
)


def _retells_an_item(text: str) -> bool:
    return bool(_RETOLD_ITEM.search(text) and _OFFERS_CHOICE.search(text))


def _guesses_at_an_item(text: str) -> bool:
    pointer = _POINTS_AT_ITEM.search(text) if _COURSE_QUIZ.search(text) else None
    if pointer is None:
        return False
    after = text[pointer.end() :]
    return bool(_OFFERS_GUESS.search(after)) and not _NOT_A_GUESS.search(after)


_ITEM_REF = (
    rf"(?:{_QUIZ_ITEM}|(?:the|this|that|first|second|third|fourth|fifth|last)\s+(?:[\w-]+\s+)?question\b"
    r"|the\s+test\b(?![- ](?:set|data|split|cases?|suite|loss|examples?|rows?|prompts?)))"
)
_RIGHT_ANSWER = (
    r"(?:(?:correct|right)\s+(?:answer|option|one|choice)s?|the\s+answers?\s+(?:to|for|of|in|on)"
    r"|solutions?|answer key)"
)
_GIVE_ME = r"(?:give|tell|send)\s+me\s+(?:the|its|which)\s+(?:letter|answer|option|right one)\b"
ASKS = [
    re.compile(p, re.I)
    for p in (
        rf"\b{_RIGHT_ANSWER}\b.*\b{_ITEM_REF}",
        rf"\b{_ITEM_REF}.*\b{_RIGHT_ANSWER}\b",
        rf"\b(?:answer|answers)\b.*\b{_QUIZ_ITEM}",
        rf"\b{_QUIZ_ITEM}.*\b(?:answer|answers|correct|right one|key)\b",
        # "is it B?", "I think it's C, right?", "it's b, isn't it?": a letter, then perhaps a tag question
        r"\b(?:is it|is the answer|answer is|it's|its|go with|pick)\s*\(?[a-e]\)?"
        r"(?:\s*,?\s*(?:right|correct|yes|no|ok|okay|yeah|isn't it|is it|am i right))?\s*[?.!]*\s*$",
        # "is it B? the warmup question on the module test": a letter asked about, more words after
        r"\b(?:is it|is the answer|answer is|it's|its|go with|pick)\s*\(?[a-e]\)?\s*\?",
        r"\b(?:option|choice|answer)\s*\(?[a-e]\)?\b(?!-)",
        r"^\s*\(?[a-e]\)?\s*(?:or\s*\(?[a-e]\)?)?\s*\?\s*$",
        r"\banswer key\b",
        r"\bquestion\s*#?\s*\d{1,2}\b",
        # Choosing among a graded item's options: "for the module test item on DPO, which of the
        # options should I tick?", "what should I select in the lesson 3 quiz?"
        rf"\b{_GRADED}.*\b{_CHOOSING}\b",
        rf"\b{_CHOOSING}\b.*\b{_GRADED}",
        # "lesson 4 quiz, the last one. just give me the letter"
        rf"\b{_GRADED}.*\b{_GIVE_ME}",
        rf"\b{_GIVE_ME}.*\b{_GRADED}",
        # "for the test question asking …, the catalogue one, thats the right pick yeah?"
        rf"\b(?:{_GRADED}|the\s+(?:test|quiz|exam)\s+question)\b.*\b(?:right|correct)\s+pick\b",
    )
]
# A sentence that holds an option's text is quoted in part (``QuizGuard.without_options``): cut at
# its clauses, keeping its first, less than this share of the option's words, and at least this
# many words besides a table row's label.
HELD_BACK_SHARE = 0.5
MIN_PART_WORDS = 6


# A clause that leans on the one before it: it goes when that one is cut.
_LEANS_BACK = re.compile(
    r"(?:and|or|but|which|that|who|whose|where|so|then|it|its|they|this|these|those)\b|\w+ing\b", re.I
)
# A table row's label ("vLLM — Notes:") is not a clause's words.
_LABEL = re.compile(r"^[^:]{1,60}\s—\s[^:]{1,40}:\s*")


def _clauses(sentence: str) -> list[str]:
    """The sentence cut after each comma or semicolon outside brackets ("QLoRA (Dettmers et al.,
    2023) loads…" is one clause up to its next comma)."""
    pieces, depth, start = [], 0, 0
    for i, char in enumerate(sentence):
        depth += (char in "([") - (char in ")]")
        if char in ",;" and depth <= 0 and sentence[i + 1 : i + 2] == " ":
            pieces.append(sentence[start : i + 1])
            start = i + 2
    return [*pieces, sentence[start:]]


def _joined(pieces: list[str], kept: list[int]) -> str:
    """The kept clauses in their order, "…" where others were cut; ended as a sentence."""
    out: list[str] = []
    for i in kept:
        if i > 0 and i - 1 not in kept:
            out.append("…")
        out.append(pieces[i])
    if not out:
        return ""
    text = " ".join(out)
    if kept[-1] != len(pieces) - 1:
        text = text.rstrip(",; ") + " …"
    return text


# "option B is right", "the answer is (c)", "B) is correct": a letter given as the answer.
_LETTER_ANSWER = re.compile(
    r"\b(?i:option|choice|answer|letter)\s*(?:is\s*)?(?:[A-E]|\([a-eA-E]\))(?![\w-])"
    r"|\(?\b[A-E]\)\s*(?:is\s+)?(?:right|correct)"
    r"|\b(?:pick|choose|go with|select)\s+\(?[A-E]\)?(?![\w-])"
)
# "which one?", "which option fits?", "q7": a quiz-answer request beside a graded item or over
# listed letters ("A) … B) …"); alone, a choice among the course's own options ("sft, rlhf or dpo:
# which one will I use most?") or a quantization type ("Q4 or Q8").
_OPTION_MARK = re.compile(r"(?:^|\s)\(?[a-eA-E1-5][).:]\s")
_SLASHED = re.compile(r"\s[/|]\s")
_ANSWER_ONLY = re.compile(
    r"\b(?:answer|reply|respond)(?: with)?(?: (?:the|just|only))? (?:option|letter|choice)\b|\banswer only\b"
    r"|\bjust (?:the )?(?:answer|option|letter)\b|\bonly the (?:answer|option|letter)\b",
    re.I,
)
_WHICH_OPTION = re.compile(r"\b(?:which|what)\s+(?:option|choice|letter|one)\b", re.I)
# "… whats the answer", "true or false: <stem>": with no "?", asks for the answer of a pasted stem.
_ASKS_THE_ANSWER = re.compile(
    r"\bwhat(?:['’]?s| is)\s+(?:the\s+)?(?:right\s+|correct\s+)?answer\b|\btrue\s+or\s+false\b", re.I
)
# "between b (perfect agreement) and d", "either a or c": two letters weighed against each other.
# Alone it may be a learner's own plans ("torn between a and b testing"); it asks for an answer
# beside a pasted stem or a graded item named.
_LETTER = r"(?:\(?[a-eA-E]\)|[b-eB-E]|(?-i:A)|a(?=\s*\())(?![\w'-])"
_WEIGHS_LETTERS = re.compile(rf"\b(?:between|either)\s+{_LETTER}.{{0,160}}?\b(?:and|or)\s+{_LETTER}", re.I)
# Words that seek the graded answer ("which do i click", "the one marked right", "just the letter",
# "T or F", "what you picked"), and the graded setting they are said in ("practice round", "final
# test", "module 3"). Both must hold: "which do i pick for our 7b model" is a learner's own choice.
_SEEKS_ANSWER = re.compile(
    r"\bwhich (?:one |option )?(?:do|should|would) (?:i|we) (?:click|tick|pick|choose|select|put|mark|go with)\b"
    r"|\bmarked (?:as )?(?:right|correct)\b|\b(?:graded|marked) answer\b|\bmarks? (?:as )?(?:right|correct)\b"
    r"|\bjust (?:need )?(?:the |a )?letter\b|\bthe letter (?:pls|please)\b|\b(?:just need )?t or f\b"
    r"|\bwhat (?:you|u) (?:picked|chose|ticked|put)\b|\b(?:option|one) (?:you|u) (?:mark|picked|chose)\b"
    r"|\bconfirm\s+(?:\(?[a-eA-E]\)|[b-eB-E]|(?-i:A)|a(?=\s+(?:for|on|in|is|as)\b))(?![\w'-])"
    # "which do they want", "what was the right range", "is it 'mix the two…'?", "got … wrong"
    r"|\bwhich (?:one |option )?(?:do|did|would) (?:they|you) (?:want|mean|expect|mark|accept)\b"
    r"|\bwhich (?:term|word|phrase|answer|name) (?:do|did|would) they (?:want|expect|mark|accept)\b"
    # "which word are they looking for", "its one of the options" (advisor_dev10)
    r"|\bwhich (?:one |option |term |word |phrase |answer |name )?(?:are|were) they (?:looking for|after)\b"
    r"|\b(?:it'?s|its|it is) one of the (?:options|choices|answers)\b(?!\s+(?:we|i|they|you)\b)"
    r"|\b(?:what|which) (?:was|is|were|are) the (?:right|correct) (?:one|answer|option|range|value|number|choice)s?\b"
    r"|\b(?:is it|was it|its|it's|it is)\s+['\"‘“]"
    r"|\bgot (?:it|that|this|one|the one|q\s?\d+|question \d+)\b[^.?!]{0,120}\bwrong\b"
    # two answers put side by side: "I put 'always agrees…', my friend put '…'. who is right"
    r"|\bwho(?:['’]s| is| was) right\b|\bwhich (?:one )?of us (?:is|was) right\b"
    r"|\b(?:i|we) (?:put|picked|chose|ticked|answered)\s+['\"‘“]"
    # a stem's short options listed ("options 8 32 256 1", "options 5gb, 12gb or 1gb")
    r"|\boptions?\s*(?:are|were|:|-)?\s*\$?\d[\w.%]*(?:\s*[,/]?\s+(?:or\s+)?\$?\d[\w.%]*){2,}",
    re.I,
)
# A blank to fill ("… is exhibiting ____", "fill in the gap"): with a stem pasted or a graded setting
# named, it asks for the graded answer (advisor_heldout7).
# (A blank that ends the stem or a sentence, not a template's "____ placeholder"; "the blank" or "the gap"
# to fill, not "fill the gaps in my understanding" or "the blanks in my CSV".)
_BLANK = re.compile(
    r"_{3,}(?=\s*(?:[.?!,:;'\")]|$))|\bfill(?:\s+in)?\s+the\s+(?:blank|gap)\b(?!\s+in\b)|\b(?:blank|gap)\s+to\s+fill\b",
    re.I,
)
# The answer asked of the advisor as if it sat the quiz: strong enough alone.
_MARKED_BY_YOU = re.compile(
    r"\b(?:option|letter|choice|answer)\s+(?:you|u)\s+(?:would\s+)?(?:mark|pick|tick|choose|select)\s+(?:as\s+)?"
    r"(?:correct|right)\b",
    re.I,
)
_GRADED_SETTING = re.compile(
    r"\bpractice (?:quiz(?:zes)?|round|questions?|mode|one)\b"
    # not "our final test set" or "a final exam prep bot"
    r"|\bfinal (?:test|exam)\b(?![- ](?:set|split|data|prep|bot|results?|runs?|scores?))"
    r"|\bmodule(?:[- ]\d)?[- ]test\b(?![- ](?:set|split|data))"
    r"|\blesson[\s-]*(?:\d|one|two|three|four)\s*quiz\b|\bquiz\s*\d\b|\b(?:the|this|that)\s+quiz\b(?![- ]app)",
    re.I,
)
# "a quiz question" the learner was set, unless the text is about quizzes the learner's own product
# makes or answers ("our tool generates quiz questions", "turning notes into quiz questions", "pub quiz").
_QUIZ_QUESTION = re.compile(r"\bquiz questions?\b", re.I)
_OWN_QUIZ = re.compile(
    r"\b(?:writ|generat|creat|mak|produc|build|turn|answer|design|draft|author)\w*\s+(?:[\w-]+\s+){0,3}?"
    r"(?:pub\s+)?quiz(?:zes)?\b|\bquiz(?:zes)?\s+questions?\s+(?:generator|bank|writer|app|tool|maker)\b"
    r"|\bpub quiz|\btrivia\b",
    re.I,
)


def _graded_setting(text: str) -> bool:
    return bool(_GRADED_SETTING.search(text) or (_QUIZ_QUESTION.search(text) and not _OWN_QUIZ.search(text)))


_Q_NUMBER = re.compile(r"\bq\s?#?\s?\d{1,2}\b", re.I)
_NAMES_GRADED = re.compile(
    r"\b(?:quiz(?:zes)?|module[- ](?:\d[- ])?test|exam|assessment)(?![\w-])|\b(?:question|test)\s*#?\s*\d+\b"
    r"|\b(?:is it|answer is|it's)\s*\(?[a-e]\)?\s*\?|(?:^|\s)\(?[A-E]\)\s",
    re.I,
)
# Quantization types ("Q4_K_M", "q8_0", "Q4" beside GGUF words) read as names, not quiz items.
_QUANT_TYPE = re.compile(r"\bq\d+(?:_[0-9a-z]+)+\b", re.I)
_QUANT_WORDS = re.compile(r"\b(?:gguf|quant\w*|bits?|bpw|llama\.cpp|ollama|perplexity)\b|\bq\d+(?:_\w+)+", re.I)
_BARE_Q = re.compile(r"\bq\d+\b", re.I)
_GRADED_WORD = re.compile(r"\b(?:quiz\w*|module[- ](?:\d[- ])?test|exam\w*|assessment)\b", re.I)


def _without_quant_types(text: str) -> str:
    """The message with its quantization types renamed, unless it names a quiz ("module test q4:
    is it 4 bits?" points at an item)."""
    if _GRADED_WORD.search(text) or (not _QUANT_WORDS.search(text) and len(_BARE_Q.findall(text)) < 2):
        return text
    return _BARE_Q.sub("quant-type", _QUANT_TYPE.sub("quant-type", text))


_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}


@dataclass(frozen=True)
class QuizItem:
    quiz_id: str
    number: int  # 1-based position in its quiz
    question_id: str
    stem: str
    lesson: str
    options: tuple[str, ...]
    correct: tuple[str, ...] = ()  # the crediting options' texts (for measuring leaks, never shown)


def _item(quiz_id: str, number: int, question: Question, lesson: str) -> QuizItem:
    options = tuple(o.text for o in question.options)
    correct = tuple(question.options[i].text for i in question.key())
    return QuizItem(quiz_id, number, question.id, question.stem, lesson, options, correct)


def _phrase(text: str) -> str:
    """Lower case, with every run of other characters than letters and digits as one space."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


# A choice the learner put in quotes: the quote mark after a space or the start, not an apostrophe ("it's").
_QUOTED_SPAN = re.compile(r"(?:^|(?<=[\s(:,]))['\"‘“]([^'\"‘’“”]{3,80}?)['\"’”](?=[\s.,;:!?)]|$)")
_FIGURE = re.compile(r"\d+(?:\.\d+)?")
ELIMINATION_WORDS = 2  # an option's own words shared with a sentence that settle it (a refusal's quotes, dev8)


def _words(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


class QuizGuard:
    def __init__(self, banks: Iterable[Bank]) -> None:
        self.items: list[QuizItem] = []
        self.questions: dict[str, QuizItem] = {}
        for bank in banks:
            for question in bank.questions:
                self.questions.setdefault(question.id, _item("", 0, question, question.lesson))
            for quiz in bank.quizzes:
                for number, question_id in enumerate(quiz.questions, start=1):
                    question = bank.question(question_id)
                    self.items.append(_item(quiz.id, number, question, question.lesson or quiz.lesson))
        # Every option alike, right or wrong: whether a draft is shown or replaced is visible to the
        # learner, so holding back only the right option's text would give it away by elimination.
        self._option_words = [
            (item, words) for item in self.questions.values() for o in item.options
            if len(words := _words(o)) >= MIN_OPTION_WORDS
        ]  # fmt: skip
        # Beside a graded item's guarded options, its shorter ones ("per_device_batch × num_epochs",
        # "It runs without any GPU") are held back when their whole text is there: guarding only some
        # options of an item would single out the ones guarded. Graded: a question of a fixed quiz (the
        # lesson quizzes, the module test). The practice pool's other questions, whose answers
        # practice shows at once, are left at that, because their short options are facts the course
        # states in so many words ("about 100", "every 30–90 days": 3 of the 48 held-out course
        # questions lost their answer when those were held back too). Items whose options are all
        # short terms ("LoRA", "True") stay every text's to use.
        graded = {item.question_id for item, _ in self._option_words} & {item.question_id for item in self.items}
        self._option_phrases = [
            (item, phrase) for item in self.questions.values() if item.question_id in graded
            for o in item.options
            if len(_words(o)) < MIN_OPTION_WORDS and len((phrase := _phrase(o)).split()) >= 2
        ]  # fmt: skip

    # --- requests ------------------------------------------------------------------------------

    def asks_for_answer(self, text: str) -> bool:
        text = _without_quant_types(text)
        if (_WHICH_OPTION.search(text) or _Q_NUMBER.search(text)) and _NAMES_GRADED.search(text):
            return True
        if any(p.search(text) for p in ASKS) or (_ASKED_OPTION.search(text) and _COURSE_QUIZ.search(text)):
            return True
        if _guesses_at_an_item(text) or _retells_an_item(text):
            return True
        # Only beside one of the course's graded settings: "exam", "assessment" or "a) … b)" alone
        # are a learner's own ("our exam bot", "credit risk assessment", "two plans: a) … b)").
        seeks = _WEIGHS_LETTERS.search(text) or _SEEKS_ANSWER.search(text) or _BLANK.search(text)
        if seeks and _graded_setting(text):
            return True
        if _MARKED_BY_YOU.search(text):  # "print which option you mark as correct"
            return True
        asks = (
            "?" in text
            or _WEIGHS_LETTERS.search(text)
            or _WHICH_OPTION.search(text)
            or re.search(rf"\b{_CHOOSING}\b", text, re.I)
            or _ASKS_THE_ANSWER.search(text)
            or _BLANK.search(text)
        )
        if asks:
            return self.pasted_stem(text) is not None
        # An item pasted with its options is a request however it ends ("… d) the model refusing
        # almost everything. answer only"): the options are there to be chosen from.
        best = self._quoted_stem(_words(text))
        # "a) … b) …" or "… / … / …", or an order to answer with one: not a learner's own notes
        listed = len(_OPTION_MARK.findall(text)) >= 2 or len(_SLASHED.findall(text)) >= 2 or _ANSWER_ONLY.search(text)
        return bool(listed) and best is not None and self._options_quoted(best, _words(text), text) >= 2

    def _quoted_stem(self, words: set[str]) -> QuizItem | None:
        """The item whose stem shares the most of its words with ``words``, when enough of them."""
        best, best_share = None, 0.0
        for item in self.questions.values():
            stem_words = _words(item.stem)
            if len(stem_words) < 3:
                continue
            share = len(stem_words & words) / len(stem_words)
            if share > best_share:
                best, best_share = item, share
        return best if best is not None and best_share >= STEM_OVERLAP else None

    @staticmethod
    def _options_quoted(item: QuizItem, words: set[str], text: str = "") -> int:
        """How many of the item's options the message holds: half an option's content words, or an
        option with none ("32", "1") as a whole token outside the stem ("r = 16" holds no "1")."""
        rest = f" {_phrase(text).replace(_phrase(item.stem), ' ')} " if text else ""
        return sum(
            len(_words(o) & words) >= max(1, len(_words(o)) // 2) if _words(o) else f" {_phrase(o)} " in rest
            for o in item.options
        )

    def pasted_stem(self, text: str) -> QuizItem | None:
        """The item whose stem the message quotes, when it also lists options or asks which is right."""
        words = _words(text)
        best = self._quoted_stem(words)
        if best is None:
            return None
        options_quoted = self._options_quoted(best, words, text)
        # Asked for its answer, or pasted under a graded item's name ("Module test: DPO requires which
        # type of training data?"): a learner asking a stem's question in passing names no quiz.
        asks = (
            any(p.search(text) for p in ASKS)
            or _WHICH_OPTION.search(text)
            or _NAMES_GRADED.search(text)
            or _ASKS_THE_ANSWER.search(text)
            or _WEIGHS_LETTERS.search(text)
            or _BLANK.search(text)  # a stem that ends on a blank asks for what fills it
        )
        return best if options_quoted >= 2 or asks else None

    def target(self, text: str) -> QuizItem | None:
        """The quiz item a request points at: "question 7 of the module test", "q3 of the lesson 2
        quiz", "the third question of quiz 1", a pasted stem, or a quoted stem's words."""
        pasted = self.pasted_stem(text)
        if pasted is not None:
            return pasted
        lowered = text.lower()
        number = re.search(r"\b(?:question|q)\s*#?\s*(\d{1,2})\b", lowered)
        ordinal = re.search(r"\b(first|second|third|fourth|fifth|last)\s+(?:question|one|q)\b", lowered)
        position = int(number.group(1)) if number else _ORDINALS[ordinal.group(1)] if ordinal else None
        quiz = self._quiz_named(lowered)
        if position is not None and quiz is not None:
            items = [i for i in self.items if i.quiz_id == quiz]
            if items and (position == -1 or 1 <= position <= len(items)):
                return items[position - 1] if position > 0 else items[-1]
        return self._closest_stem(text)

    def _quiz_named(self, lowered: str) -> str | None:
        quizzes = {i.quiz_id for i in self.items}
        if re.search(r"module[- ]?test|final test|final exam|the test\b|exam\b", lowered) and "module-test" in quizzes:
            return "module-test"
        lesson = re.search(r"(?:lesson|quiz)\s*(\d)", lowered)
        if lesson and f"lesson-{lesson.group(1)}" in quizzes:
            return f"lesson-{lesson.group(1)}"
        return next((q for q in quizzes if q in lowered), None)

    def _closest_stem(self, text: str) -> QuizItem | None:
        words = _words(text)
        scored = [
            (len(_words(item.stem) & words) / max(1, len(_words(item.stem))), item) for item in self.questions.values()
        ]
        share, item = max(scored, key=lambda pair: pair[0], default=(0.0, None))
        return item if share >= 0.5 else None

    # --- leaks ---------------------------------------------------------------------------------

    def leaks(self, text: str) -> list[str]:
        found = []
        if _LETTER_ANSWER.search(text):
            found.append("names an option letter as the answer")
        for sentence in sentences(text):
            if held := self._options_held(sentence):
                found.append(f"holds the text of an option of quiz item {held[0][0].question_id}")
        return list(dict.fromkeys(found))

    def without_options(self, text: str) -> str | None:
        """``text`` less the clauses that hold a quiz option's text, or None when nothing of it may
        be shown. A course sentence can hold an option beside another fact ("PagedAttention stores
        the KV cache in pages…, typically 10–24× the throughput of a naive server"); the learner who
        asks for that fact gets it, cut where the sentence was ("…"). Sentence by sentence: the
        first must stand, in part or whole, and a later one that cannot is left out."""
        if not self.leaks(text):
            return text
        if _LETTER_ANSWER.search(text):
            return None
        kept = []
        for i, sentence in enumerate(sentences(text)):
            part = sentence if not self.leaks(sentence) else self._sentence_without_options(sentence)
            if part is None and i == 0:
                # A table row's label ("Preference alignment (DPO) — Why:") names what the row is
                # about in place of its first sentence; a row with nothing else to say is held back.
                label = _LABEL.match(sentence)
                if label is None:
                    return None
                part = f"{label.group(0).strip()} …"
                held = self._options_held(sentence)  # the rest of the row must not say their options again
                rest = " ".join(sentences(text)[1:])
                if any(self.leaks_item(rest, item) or self.settles(rest, item) for item, _ in held):
                    return None
            if part is not None:
                kept.append(part)
        if len(kept) == 1 and kept[0].endswith(" …"):
            return None
        joined = " ".join(kept)
        return joined if not self.leaks(joined) else None

    def _options_held(self, sentence: str) -> list[tuple[QuizItem, set[str]]]:
        """The options ``sentence`` holds, each with its item and its words (``leaks``' measure): most
        of a long option's content words, or a short option's phrase whole."""
        words, phrase = _words(sentence), f" {_phrase(sentence)} "
        held = [
            (item, option)
            for item, option in self._option_words
            if len(option & words) >= OPTION_OVERLAP * len(option)
        ]
        return held + [(item, set(option.split())) for item, option in self._option_phrases if f" {option} " in phrase]

    def _sentence_without_options(self, sentence: str) -> str | None:
        """The clauses richest in the held options' words go first, each with the clauses after it
        that lean on it ("…, avoiding fragmentation", "… and can load adapters"), until what is left
        holds less than half of any option it held (``leaks_item``'s measure, stricter than
        ``leaks``). The first clause stays: it names what the sentence is about."""
        held = [option for _, option in self._options_held(sentence)]
        if not held:
            return None
        pieces = _clauses(sentence.strip())

        def share(text: str) -> float:
            words = _words(text) | set(_phrase(text).split())
            return max(len(option & words) / len(option) for option in held)

        kept = list(range(len(pieces)))
        for cut in sorted(kept, key=lambda i: -share(pieces[i])):
            if cut not in kept:
                continue
            if cut == 0:
                return None
            kept.remove(cut)
            after = cut + 1
            while after in kept and _LEANS_BACK.match(pieces[after]):
                kept.remove(after)
                after += 1
            part = _joined(pieces, kept)
            if len(_LABEL.sub("", part).split()) < MIN_PART_WORDS:
                return None
            if share(part) < HELD_BACK_SHARE and not self.leaks(part):
                return part
        return None

    def options_named(self, text: str) -> list[set[str]]:
        """The content words (stems) of each bank option of two or more words that ``text`` names
        whole ("options are catastrophic forgetting, overfitting to the validation set…"): choices
        the learner offered, which a quote must neither confirm nor rule out."""
        said = _words(text)
        options = {frozenset(w) for item in self.questions.values() for o in item.options if len(w := _words(o)) >= 2}
        return [set(o) for o in options if o <= said]

    def items_offered(self, text: str) -> list[QuizItem]:
        """The items whose options the learner put in quotes ("is it the 'scales cheaply' option or
        the 'perfect agreement' one"): the one or two items with the most of a quoted choice's words
        in one option, at least two."""
        # (a one-word quote, "is it 'LoRA' or 'QLoRA'?", would put half the bank in play)
        spans = [words for span in _QUOTED_SPAN.findall(text) if len(words := _words(span)) >= 2]
        shared = {
            item.question_id: max((len(span & _words(o)) for span in spans for o in item.options), default=0)
            for item in self.questions.values()
        }
        best = max(shared.values(), default=0)
        if best < 2:
            return []
        return [item for item in self.questions.values() if shared[item.question_id] == best][:2]

    def settles(self, sentence: str, item: QuizItem) -> bool:
        """Whether a sentence would confirm or rule out one of ``item``'s options, right or wrong: it
        states a figure an option states ("0.8+ correlation" against "agrees perfectly") or shares
        ELIMINATION_WORDS of the words that set an option apart (not in the stem or another option:
        "judge", "model" and "output" are the question's topic). A refusal quotes no such sentence."""
        said, figures = _words(sentence), set(_FIGURE.findall(sentence))
        option_words = [_words(o) for o in item.options]
        option_figures = [set(_FIGURE.findall(o)) for o in item.options]
        # a figure the stem states, or every option does, tells no option apart
        shared_figures = set(_FIGURE.findall(item.stem)) | set.intersection(*option_figures)
        for i in range(len(item.options)):
            others = set().union(*(w for j, w in enumerate(option_words) if j != i)) | _words(item.stem)
            own_figures = option_figures[i] - shared_figures
            if figures & own_figures or len(said & (option_words[i] - others)) >= ELIMINATION_WORDS:
                return True
        return False

    def leaks_item(self, text: str, item: QuizItem, overlap: float = 0.5) -> bool:
        """Stricter, for an answer to a request about ``item``: any sentence with half of one of
        its options' content words (or a letter) gives too much away."""
        if _LETTER_ANSWER.search(text):
            return True
        for sentence in sentences(text):
            words = _words(sentence)
            for option in item.options:
                option_words = _words(option)
                if len(option_words) >= 2 and len(option_words & words) >= overlap * len(option_words):
                    return True
        return False
