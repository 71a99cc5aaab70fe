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

# A hedge before a measure asked or a verb that asks still asks: "roughly how many tokens was that"
# (advisor_heldout8); "roughly what happens is…" and "basically what it does is…" describe (the review).
# case_reader reads message openings with it too.
HEDGED = (
    r"(?:roughly|approximately|approx|about|around|honestly|basically|just)\s+"
    r"(?=(?:how\s+(?:many|much|long|big|often|far|fast|large|small)|is|are|can|could|should|would|does|do|did|will)\b)"
)
_FILLERS = rf"^\W*(?:(?:so|and|but|ok|okay|then|also|now|like|btw)\s+|{HEDGED})*"
_AUX = r"(?:is|are|am|was|were|can|could|should|do|does|did|will|would|has|have|must|shall)(?!n't|n’t|'t)"
# A clause that asks without a question mark: a question word with the verb before its subject ("how
# much of that am i supposed to read", "where should we host the model", "what's the catch"), or
# the verb first ("should we host it ourselves"). "which updates every hour", "what they want",
# "what callers tell us is sensitive" and "can't go outside" tell; so does a list after a colon
# ("customers ask: what's in stock, prices").
_SUBJECT = r"(?:i|we|you|it|this|that|these|those|they|there|he|she|my|our|your|the|a|an)\b"
# After a question word, "someone" and "people" are subjects too ("how much should someone read");
# first in a yes-or-no question they ask for a hand ("can someone sanity check this?").
_WH_SUBJECT = rf"(?:{_SUBJECT}|(?:someone|somebody|anyone|anybody|everyone|people)\b)"
# "what did their model cost": "their" is the subject only right after the question word's verb
# ("What their customers need is…" tells).
_THEIR = r"(?:their|his|her)\b"
# The verb first: "should we host it ourselves", not "have a dataset of…" or "was a teacher for…"
# (a statement with its subject left out).
_AUX_FIRST = r"(?:is|are|can|could|should|do|does|did|will|would|must)(?!n't|n’t|'t)"
# "do all of them fire on every token": a quantifier as the subject ("did some digging" is none).
_QUANTIFIER = r"(?:all|both|each|any|some|most|none)\s+of\b"
_WH = r"(?:how|what|which|where|when|why|who)"
_PRONOUN = r"(?:i|we|you|they|he|she|it|my|our|your|their)\b"
# A lead-in phrase before the question word, with no comma ("in the qlora paper what was…", "if we
# host it ourselves how long would…"). Only "how", "what" and "why", with the verb before its
# subject: "for customers who are in a hurry" and "if it's late what they want is a refund" tell.
_LEAD_IN = r"(?:in|for|from|on|with|at|if|once|after|before|since|during)\s+(?:[\w'-]+\s+){1,10}?"
_LED_QUESTION = (
    rf"(?:how|what|why)\b(?!\s+{_PRONOUN})"
    # "in our case what was missing was the data" tells: a free relative before a second "is"/"was"
    r"(?!\s+(?:is|was|are|were)\s+[\w-]+\s+(?:is|was|are|were)\b)"
    rf"(?:\s+[\w-]+){{0,2}}?\s+{_AUX}\s+{_SUBJECT}"
)
# A sentence that opens on "which" asks ("which hosting option from lesson 4 suits that kind of spiky
# load", no "?"), unless it points back at the sentence before ("Which is why we want…").
_POINTS_BACK = r"which\s+(?:(?:is|was)\s+(?:why|how)|means|meant|explains|makes|made)\b"
_ASKS = re.compile(
    rf"{_FILLERS}(?!{_POINTS_BACK})(?:{_WH}\s+{_AUX}\b"
    # (a thing named after "which", no verb or pronoun: "Which took us three months." and "Which we
    # anonymised last month" go on from the sentence before; and no full stop ends it)
    r"|which\s+(?!(?:is|are|was|were|we|i|they|you|he|she|it|our|has|had|have|did|does|do|took|takes|sounds?"
    r"|sounded|worked|works|made|makes|means|meant|happened|happens|led|leads|caused|causes|gets|got|went|goes"
    r"|came|comes|seems|seemed|helps|helped|needs|needed)\b)[\w-]+(?<!ed)\b(?=[^.]*$)"
    # "which model is best for that"; not "what I need is…" or "when results are released"
    rf"|(?:which|what)(?:\s+(?!{_PRONOUN})[\w-]+){{1,2}}?\s+{_AUX}\b"
    # "what time of day do posts get the most likes": a longer thing asked about, then a verb that
    # asks ("is" there closes a free relative: "what callers tell us is sensitive")
    rf"|(?:which|what)(?:\s+(?!{_PRONOUN})[\w-]+){{3,4}}?\s+(?:do|does|did|can|could|should|would|will)\b"
    r"(?!\s+(?:is|was|are|were)\b)"
    rf"|{_WH}(?:\s+[\w-]+){{1,6}}?\s+{_AUX}\s+{_WH_SUBJECT}"
    rf"|{_WH}(?:\s+[\w-]+){{0,2}}?\s+to\s+\w+"  # "what model to use for this"
    # "how far off were most teams' rates": a measure asked, its noun any noun
    rf"|how\s+(?:far|much|many|long|big|often|high|low|large|small|fast|slow|expensive|cheap|good|bad|well)\b"
    rf"(?:\s+(?!(?:the|a|an|our|my|your|their|its|this|that|these|those)\b)[\w'-]+){{0,2}}?\s+{_AUX}\b"
    r"|(?:what|where|who|how|when)'s\b|whats\b"
    r"|any\s+(?:tips|ideas|advice|suggestions|thoughts|recommendations|pointers)\b"
    rf"|{_AUX_FIRST}\s+(?:{_SUBJECT}|its\b|{_QUANTIFIER})"
    rf"|{_WH}\s+{_AUX}\s+{_THEIR}"
    r"|(?:how|why)\s+(?:not\s+)?(?:to|come)\b"
    rf"|{_LEAD_IN}{_LED_QUESTION})",
    re.I,
)
# The question after a lead-in phrase that the first clause opens on ("in the qlora paper what was
# the largest model…", "if we host it ourselves how long would the run take").
_LED_IN = re.compile(rf"{_FILLERS}{_LEAD_IN}(?={_LED_QUESTION})", re.I)
# Past a sentence's first clause, a clause asks only with a subject after its verb ("…busy at lunch,
# where should we host it", "…with gpt4, how much of that am i supposed to read"): there "which",
# "who", "where" and "when" open relative clauses ("…our SOPs, which did not change"), and "what's
# wrong", "how to log hours" are items of a list.
_LATER_ASKS = re.compile(
    rf"{_FILLERS}(?:(?:how|what|why)(?:\s+[\w-]+){{0,6}}?\s+{_AUX}\s+{_WH_SUBJECT}"
    rf"|(?:(?:which|who|where|when)(?:\s+[\w-]+){{0,6}}?\s+)?{_AUX}\s+(?:i|we|you|they|it|he|she)\b"
    rf"|{_AUX}\s+{_QUANTIFIER}\s+(?:them|those|these|the|our|your)\b"
    rf"|(?:how|what|why)\s+{_AUX}\s+{_THEIR}"
    r"|which\s+(?:[\w-]+\s+)?(?:is|are)\s+(?:better|best|right|faster|cheaper)\b"
    # "…, which of the llama sizes suit phones": "which of" picks among things ("which of course" tells)
    r"|which\s+of\s+(?!course\b|us\b)(?:the|these|those|them|their|our|your|its|[\w'-]+s|[\w'-]+'s)\b"
    # "…, which hosting option fits that load": "which" before a thing to choose asks; before a verb
    # or a subject it opens a relative clause ("…, which did not change", "…, which the team edits")
    r"|which\s+(?:[\w-]+\s+)?(?:option|options|model|models|family|families|method|methods|approach"
    r"|approaches|tool|tools|server|servers|format|formats|metric|metrics|setting|settings|framework|frameworks"
    r"|library|libraries|provider|providers|service|services|platform|platforms|technique|techniques)\b"
    r"(?!\s+(?:i|we|you|they|he|she|it|of|the|our|my)\b)"
    # "…, what matters most" ending the sentence ("what matters most to us is latency" tells)
    r"|what\s+(?:[\w-]+\s+){0,2}?(?:matters?|counts?|works?|helps?)\s+(?:most|best|more)(?:\s+here)?\W*$"
    r"|any\s+(?:tips|ideas|advice|suggestions|thoughts|recommendations|pointers)\b)",
    re.I,
)
# Where one sentence turns to its question ("…with gpt4, how much of that…", "…at lunch - where…").
_CLAUSE_BREAK = re.compile(r"\s*(?:[,;](?=\s)|\s[-–—]\s|\.\.\.)\s*")
# Words of a request for the advisor's own verdict ("Is fine-tuning worth it?", "What's wrong with
# it?"), and question words: with nothing else, the recommendation or the critique answers it.
_VERDICT_WORDS = frozenset(
    re.findall(
        r"\S+",
        """recommend recommendation suggest suggestion advice advise approach option options best better worth
        fine-tune fine-tuning finetune finetuning fine tune tuning tuned fine-tuned prompting prompt rag go
        use using need needed something else instead right way do doing think make sense
        what's whats how's where's who's which what where when does would could should
        wrong issue issues problem problems mistake mistakes fix improve critique review feedback
        strategy plan train training pretrain pre-train pretraining pre-training scratch""",
    )
)
# A question needs this many words besides the verdict words to be searched for on its own.
MIN_OWN_WORDS = 2
# A clause that asks what the course says, wherever it sits in the sentence and with or without a
# question mark: "…, which well known models does the course say were trained with rlhf", "for the
# held out test how should we score it according to the course", "is that right or does the course
# say otherwise". The verdict on the case is the advisor's, not the course's: such a clause asks
# beyond it whenever it names anything besides the course and the verdict's words.
# "The course" is this one: a learner's own course, lessons or materials ("our course catalogue",
# "students stuck in the lesson exercises", "teachers do the lesson planning") are their case.
_COURSE = (
    r"(?:the|this)\s+(?:course|lessons?|module)\b"
    r"(?!\s+(?:catalog\w*|materials?|exercises?|quizz?\w*|plans?|planning|videos?|pages?|platform|content|notes))"
)
_SAYING = (
    r"(?:say|says|said|cover|covers|mention|mentions|have|has|list|lists|call|calls|recommend|recommends|suggest"
    r"|suggests|explain|explains|talk|talks|tell|tells|give|gives|put|puts|separate|distinguish|compare|show|shows"
    r"|define|describe|treat|name|think|offer|go into|get into)"
)
_ASKS_THE_COURSE = re.compile(
    rf"\b(?:does|do|did|would|will|can|could)\s+{_COURSE}\s+(?:\w+\s+)?{_SAYING}\b"
    rf"|\b(?:is|are)\s+there\s+(?:anything|something|a\s+\w+|an\s+\w+)\s+(?:(?:in|that)\s+)?{_COURSE}"
    rf"|\b(?:how|what|which|where|when|why|who)\b[^,;.?!]{{0,80}}?\b(?:according\s+to|in|from|per)\s+"
    rf"(?:the|this)\s+course\b(?!\s+(?:catalog\w*|materials?|exercises?|quizz?\w*|videos?|pages?|platform|content))",
    re.I,
)
# The words that name the course as the source of an answer ("according to the course", "does the
# course say", "in the lessons"): searched for or ranked by, they drew the course's sentences that
# name it ("The course's example sets `eval_strategy`…") above the ones that answer.
# Only "course" and "lessons" (a "module" is also PyTorch's), not the course's example, config or
# dataset, which are what is asked about ("what lr does the course example have").
_THE_COURSE = (
    r"(?:the|this)\s+(?:course|lessons)\b(?!['’]|\s+(?:catalog\w*|materials?|exercises?|quizz?\w*|plans?|planning"
    r"|videos?|pages?|platform|content|notes|examples?|config\w*|dataset\w*|notebooks?|recipes?|code|learned))"
)
_ADVERB = r"(?:actually|really|even|also|ever|explicitly|anywhere|specifically)"
_NAMES_THE_COURSE = re.compile(
    rf"\b(?:according\s+to|in|from|per|by)\s+{_THE_COURSE}"
    rf"|\b(?:does|do|did|would|will|can|could)\s+{_THE_COURSE}(?:\s+(?:{_ADVERB}\s+)?{_SAYING}\b)?"
    rf"|\b{_THE_COURSE}(?:\s+{_ADVERB})?\s+{_SAYING}\b",
    re.I,
)


def names_the_course(text: str) -> bool:
    """Whether the text puts its question to the course ("according to the course", "does lesson 4 say")."""
    return _NAMES_THE_COURSE.search(text) is not None


def without_the_course(text: str) -> str:
    """``text`` less the words that point at the course as the source: "does the course have a name
    for running it beside the old one" asks for "a name for running it beside the old one"."""
    left = re.sub(r"\s{2,}", " ", _NAMES_THE_COURSE.sub(" ", text)).strip()
    return left if content_words(left) else text


# Words that point at the course as the source ("what does the course say about…"): not what is asked.
_SOURCE_WORDS = frozenset(
    re.findall(
        r"\S+",
        """course lesson lessons module material materials say says said mention mentions mentioned
        tell tells told talk talks according cover covers""",
    )
)


def question_within(text: str) -> str | None:
    """The course question ``text`` asks besides telling its case, or None: the last sentence that
    asks, whole ("we need something good at both Chinese and English, which open model family?"
    is about the languages as much as the family), with the sentence before it when it has too few
    words of its own ("Legal is worried about sending customer data to OpenAI. What's the
    alternative?")."""
    said = sentences(text.strip())
    for place in range(len(said) - 1, -1, -1):
        sentence = said[place]
        about_told = _about_told(sentence)
        if not _asks(sentence) and about_told is None:
            continue
        if place and about_told == 0:  # "…in the train file. does that matter?": about the sentence before
            return f"{said[place - 1]} {sentence}"
        if len(_own_words(sentence)) >= MIN_OWN_WORDS:
            return sentence
        # Not past a request for the verdict ("Should we fine-tune?"): the recommendation answers it.
        # A bare pointer at the course ("what does the course say") asks about the sentence before.
        pointer = _own_words(sentence) or not _verdict_words(sentence) or _ASKS_THE_COURSE.search(sentence)
        joined = f"{said[place - 1]} {sentence}" if place else sentence
        return joined if place and pointer and len(_own_words(joined)) > MIN_OWN_WORDS else None
    return None


def in_context(text: str, question: str) -> str:
    """``question`` (found in ``text`` by ``question_within``) with the sentence before it, which
    says what its "that" is ("Our traffic is super spiky … which option fits that kind of load?");
    the rest of the case, read too, drew the quotes towards the case instead of the question."""
    said = sentences(text.strip())
    asked = sentences(question.strip())
    if not said or not asked or (len(asked) > 1 and len(_own_words(asked[-1])) >= MIN_OWN_WORDS):
        return question
    place = next((i for i in range(len(said) - 1, -1, -1) if said[i].strip() == asked[-1].strip()), None)
    if not place:
        return question
    # A bare pointer at the course ("What does the course say to change?") asks about what the two
    # sentences before it tell ("Our loss jumps up and down… Batch size per device is 2…").
    bare_pointer = _ASKS_THE_COURSE.search(asked[-1]) and len(_own_words(asked[-1])) < MIN_OWN_WORDS
    told = 2 if bare_pointer else 1
    return " ".join(s.strip() for s in said[max(place - told, 0) : place + 1])


# "Quick question: how do I…": a colon after this many words or fewer leads in to the question
# ("Online pharmacy chatbot: which meds are in stock, prices" lists what its users ask).
MAX_LEAD_IN = 2
# A quoted span: what the learner's users say ("questions like 'can I deduct my home office?'"),
# and the examples in brackets ("replies to whatever they write (pain, when can i shower...)").
_QUOTES = re.compile(r"""(?:^|(?<=[\s(\[]))['"‘“](?:[^'"‘’“”\n]|\b['’]\b){2,120}?['"’”](?=[\s,.;:!?)\]]|$)""")
_QUOTED = re.compile(_QUOTES.pattern + r"|\([^()\n]{2,200}\)")


# The question words that ask for something besides the verdict on the case: "what chunk size should I
# use?", "how do I merge them with ties or dare?"; "could I fine-tune a model on my hive notes?" and
# "what if we only had 50?" ask for the verdict, which the recommendation gives.
_ASKS_WHAT = re.compile(_FILLERS + r"(?:how|what|what's|whats|which|where|when|why|who)\b(?!\s+if\b)", re.I)
_RELATIVE = re.compile(_FILLERS + r"(?:which|who|where|when)\b", re.I)


def asking_clause(question: str) -> str:
    """Of the question's last sentence, the part from the clause that asks: "how do we evaluate it?"
    of "We built a Salesforce case summarizer with 4k examples, how do we evaluate it?" (the case
    before it names tools the course need not know)."""
    said = sentences(question.strip())
    if not said:
        return question
    clauses = _CLAUSE_BREAK.split(said[-1])
    if (about := _about_told(said[-1])) is not None:  # "…by the same guy, any problem if we ship with those"
        told = _clause_told_before(said, about)
        return ", ".join([told, *clauses[about:]])
    for place, clause in enumerate(clauses):
        if _ASKS_WHAT.match(clause) and not (place and _RELATIVE.match(clause) and not _LATER_ASKS.match(clause)):
            return ", ".join(clauses[place:])
        if place == len(clauses) - 1 and _who_asks_last(clauses, said[-1]):
            return clause
        if (led_in := _LED_IN.match(clause)) is not None:
            return ", ".join([clause[led_in.end() :], *clauses[place + 1 :]])
    return said[-1]


def names_what_it_asks(clause: str) -> bool:
    """Whether an asking clause has words of its own: "what does the course say" points back at the
    sentence before it and cannot be measured alone."""
    return bool(_own_words(clause))


def asks_beyond_the_verdict(question: str) -> bool:
    """Whether the question ``question_within`` found asks something besides the verdict: its asking
    clause opens on a question word, and it has words of its own besides the verdict's."""
    said = sentences(question.strip())
    if not said:
        return False
    asking = _QUOTED.sub("X", said[-1])
    if (about_told := _asks_about_what_was_told(said)) is not None:
        return about_told
    if _ASKS_THE_COURSE.search(asking):
        # "is that right or does the course say otherwise" points back at the sentence before it
        # (question_within joined them): the joined question needs the words to search for. A bare
        # "what does the course say?" asks what the sentence before it asks, verdict or not.
        if not _own_words(asking):
            return len(said) > 1 and asks_beyond_the_verdict(said[-2])
        return len(_own_words(_QUOTED.sub("X", question))) >= MIN_OWN_WORDS
    if len(_own_words(asking)) < MIN_OWN_WORDS:
        return False
    if any(_ASKS_WHAT.match(clause) or _LED_IN.match(clause) for clause in _asking_clauses(asking)):
        return True
    if _asks_yes_or_no_beyond(asking):
        return True
    if not _QUOTES.sub("X", said[-1]).rstrip("\"')” ").endswith("?"):
        return False
    told, colon, after = asking.partition(": ")
    if colon and len(told.split()) > MAX_LEAD_IN:  # "…a bot to answer readers: who's leading?" quotes them
        return False
    first, *rest = _CLAUSE_BREAK.split(after if colon else asking)
    return (
        bool(_ASKS_WHAT.match(first))
        or any(_ASKS_WHAT.match(clause) and not _RELATIVE.match(clause) for clause in rest)
        or _who_asks_last([first, *rest], asking)
    )


_ASKS_WHO = re.compile(_FILLERS + r"who\b(?!\s+(?:is|are|was|were)\b)", re.I)


def _who_asks_last(clauses: list[str], sentence: str) -> bool:
    """ "who" opens the last clause of a sentence that ends on "?" and no clause before it asks:
    "…, i'm not so sure - who published it first?". After a clause that asks it is a relative
    clause: "Should we fine-tune a model for our nurses, who answer 300 calls a day?"."""
    return (
        len(clauses) > 1 and sentence.rstrip().endswith("?") and bool(_ASKS_WHO.match(clauses[-1]))
        and not any(_ASKS.match(c) or _YES_OR_NO.match(c) for c in clauses[:-1])
    )  # fmt: skip


# A yes-or-no question: the verb before its subject ("can we reuse the adapter on v0.3?", "is its
# licence fine for an app we sell?").
_YES_OR_NO = re.compile(rf"{_FILLERS}{_AUX_FIRST}\s+(?:{_SUBJECT}|its\b|{_QUANTIFIER})", re.I)
# Words of its own a yes-or-no question needs to ask about something besides the verdict.
MIN_YES_OR_NO_WORDS = 3


def _asks_yes_or_no_beyond(asking: str) -> bool:
    """A yes-or-no clause that says none of the verdict's words ("could I fine-tune…", "does that
    make sense…", "can we do this with 500 examples") asks about something else: "can we reuse the
    same adapter on the new base?", "is the llama licence fine for an app we sell?"."""
    parts = _CLAUSE_BREAK.split(asking)
    clauses = [(place, c) for place, c in enumerate(parts) if _YES_OR_NO.match(c)]

    def own_words(place: int, clause: str) -> int:
        # "…several sub-networks, do all of them run on each token": what "them" is counts too.
        told = " ".join(parts[: place + 1]) if _ALL_OF_THEM.search(clause) else clause
        return len(_own_words(told))

    return any(
        own_words(place, clause) >= MIN_YES_OR_NO_WORDS
        and not set(_verdict_words(_not_the_plan(_YES_OR_NO.sub(" ", clause, count=1)))) & _APPROACH_WORDS
        and not _JUDGES_THE_PLAN.search(clause)
        for place, clause in clauses
    )


# A quantifier subject that points back at a clause before it in the sentence.
_ALL_OF_THEM = re.compile(rf"\b{_QUANTIFIER}\s+(?:them|those|these)\b", re.I)

# A yes-or-no question about what was just told: "does that actually matter?", "is this a problem",
# "any problem if we ship with just those". It asks about the clause before it ("some of our eval
# rows were also in the train file"), which the course may answer beyond the verdict.
_ABOUT_WHAT_WAS_TOLD = re.compile(
    rf"{_FILLERS}(?:(?:does|do|did|would|will|could|can|is|are|was|were)\s+(?:that|this|it|these|those)\s+"
    r"(?:(?:really|actually|even|still|also)\s+)?(?:matter|count|hurt|affect|break|ruin|skew|invalidate"
    r"|(?:a\s+|an\s+)?(?:problem|issue|big deal|concern|risk)|bad|normal)\b"
    # "any problem if we ship…", "any issue with that?"; not "Any issues with refunds go to Sam."
    r"|any\s+(?:problems?|issues?|risks?|harm)\s+(?:if\b|(?:with|in)\s+(?:that|this|those|it|them|doing)\b)"
    r"|any\s+(?:problems?|issues?|risks?|harm)\s*\?"
    r"|should\s+(?:we|i)\s+(?:worry|be\s+worried)\b)",
    re.I,
)


def asks_about_what_was_told(question: str) -> bool:
    """Whether the question's last sentence asks about the clause told before it ("…, does that matter?")."""
    said = sentences(question.strip())
    return bool(said) and _about_told(said[-1]) is not None


def _about_told(sentence: str) -> int | None:
    """The place of the clause of ``sentence`` that asks about what was told before it, or None."""
    # The clauses as ``asking_clause`` splits them, each read without its quotes.
    clauses = _CLAUSE_BREAK.split(sentence)
    return next((i for i, c in enumerate(clauses) if _ABOUT_WHAT_WAS_TOLD.match(_QUOTED.sub("X", c))), None)


def _clause_told_before(said: list[str], place: int) -> str:
    """The clause told before the last sentence's clause at ``place``: in that sentence, or the last
    of the sentence before."""
    clauses = _CLAUSE_BREAK.split(said[-1])
    if place > 0:
        # back to where a bracket the clause closes was opened ("…by one intern (short, polite, english)")
        start = place - 1
        while start > 0 and " ".join(clauses[start:place]).count(")") > " ".join(clauses[start:place]).count("("):
            start -= 1
        return ", ".join(clauses[start:place])
    # the last clause with words ("…in the train split too... does that matter?" ends on "...")
    before = [c for c in _CLAUSE_BREAK.split(said[-2]) if content_words(c)] if len(said) > 1 else []
    return before[-1] if before else ""


def _asks_about_what_was_told(said: list[str]) -> bool | None:
    """For a question about what was just told, whether that asks beyond the verdict: the told clause
    has words of its own and names no approach ("we only have 40 examples, is that a problem?" asks
    the verdict). None when the last sentence asks no such question."""
    place = _about_told(said[-1])
    if place is None:
        return None
    told = _clause_told_before(said, place)
    return (
        len(_own_words(told)) >= MIN_YES_OR_NO_WORDS
        and not set(_verdict_words(_not_the_plan(told))) & _APPROACH_WORDS
        and not _JUDGES_THE_PLAN.search(told)
    )


# "is the licence fine for…": "fine" is the verdict's only in "fine-tune".
_FINE_NOT_TUNE = re.compile(r"\bfine\b(?![\s-]*tun)", re.I)
# An approach's word that names a thing of another run, not the plan: "the learning rate from the
# original pretraining paper", "is our training loss…".
_THING_OF_A_RUN = re.compile(
    r"\b(?:original|base\s+model's|its|their)\s+(?:pre-?training|training)\b"
    r"|\b(?:train|training|eval|test)\s+(?:jsonl|files?|sets?|splits?|rows?|data)\b"
    r"|\b(?:pre-?training|training|fine-?tuning)\s+(?:papers?|lr|learning\s+rate|rates?|recipe|corpus|script|loss"
    r"|curves?|jobs?|logs?)\b",
    re.I,
)


def _not_the_plan(clause: str) -> str:
    """``clause`` less the words that are not the verdict's: "fine" but in "fine-tune", and an
    approach's word that names a thing of another run."""
    return _THING_OF_A_RUN.sub(" ", _FINE_NOT_TUNE.sub(" ", clause))


# The verdict's words that a yes-or-no question about something else does not say: "should i
# upsample the small intents or use weights in the loss" uses "use", not an approach. The question's
# own verb comes off first ("could we do it with 800 contracts": "do" is the verdict's).
_APPROACH_WORDS = _VERDICT_WORDS - frozenset(
    re.findall(
        r"\S+",
        """is are am was were can could should does did will would must use using need needed something
        else right way think what's whats how's where's who's which what where when better best wrong""",
    )
)
# A yes-or-no question that judges the plan asks for the verdict in other words: "is it overkill
# for our 2k tickets", "is that realistic with our budget", "can a small model handle this volume".
_JUDGES_THE_PLAN = re.compile(
    r"\b(?:feasible|realistic|reasonable|viable|possible|doable|overkill|enough|sufficient|suitable|sensible"
    r"|handle|manage|cope|sound|sounds|work|works|worthwhile|justified|good idea|bad idea|go for|help|helps)\b",
    re.I,
)


def _asks(sentence: str) -> bool:
    """It ends on "?", or one of its clauses asks by its word order ("…with gpt4, how much of that
    am i supposed to read"); a question quoted from someone else does not count."""
    if _QUOTES.sub("X", sentence).rstrip("\"')” ").endswith("?"):
        return True  # "which base model is best (Llama or Mistral?)" asks; "…like 'can I deduct it?'" quotes
    unquoted = _QUOTED.sub("X", sentence)
    return bool(_asking_clauses(unquoted) or _ASKS_THE_COURSE.search(unquoted))


def _asking_clauses(sentence: str) -> list[str]:
    """The clauses that ask by their word order; after a colon only when a short lead-in opens it
    ("Quick question: how…"): after a longer one ("customers ask: what's in stock, prices") it is a
    list or a quote, not the learner's question."""
    told, colon, after = sentence.partition(": ")
    if colon and len(told.split()) <= MAX_LEAD_IN:
        told = after
    first, *rest = _CLAUSE_BREAK.split(told)
    return [first] * bool(_ASKS.match(first)) + [c for c in rest if _LATER_ASKS.match(c)]


def _own_words(text: str) -> list[str]:
    return [w for w in content_words(text) if w.lower() not in _VERDICT_WORDS and w.lower() not in _SOURCE_WORDS]


def _verdict_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w'-]+", text.lower()) if w in _VERDICT_WORDS]
