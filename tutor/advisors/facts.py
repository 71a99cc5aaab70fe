"""Pull numbers and named things out of a learner's free text ("3,000 examples", "Mistral 7B",
"one A100 40GB", "50k requests per day"). Later mentions win, so a follow-up message such as
"actually we have 8,000 examples" updates what the advisor works with."""

from __future__ import annotations

import re

# "80 thousands" (a learner's plural) scales as "80 thousand".
_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(k|K|thousands?|m|M|millions?)?"
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "thousands": 1e3, "m": 1e6, "million": 1e6, "millions": 1e6}


def number(text: str, suffix: str | None) -> float:
    value = float(text.replace(",", ""))
    return value * _MULTIPLIERS.get((suffix or "").lower(), 1)


_UNIT_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
_UNIT_WORDS += " sixteen seventeen eighteen nineteen"
_UNITS = {word: value for value, word in enumerate(_UNIT_WORDS.split())}
_TEN_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety"
_TENS = {word: 10 * (i + 2) for i, word in enumerate(_TEN_WORDS.split())}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "trillion": 1_000_000_000_000}
_NUMBER_WORD = "|".join([*_UNITS, *_TENS, "hundred", *_SCALES, "dozen"])
# A run of number words ("eight thousand", "twenty-five", "a hundred and fifty", "a few hundred").
_SPELLED = re.compile(
    rf"\b(?:(?:a|one)\s+(?=(?:hundred|thousand|million|billion|trillion|dozen)\b)|a\s+few\s+(?=hundred|thousand)"
    r"|a\s+couple(?:\s+of)?\s+(?=hundred|thousand)|)"
    # (the next word whole: "hundred tenant" is no "hundred ten")
    rf"(?:(?:{_NUMBER_WORD})(?:[\s-]+(?:and\s+)?(?=(?:{_NUMBER_WORD})\b))?)+\b",
    re.IGNORECASE,
)


def _spelled_value(words: str) -> int | None:
    total = current = 0
    tokens = re.findall(r"[a-z]+", words.lower())
    if tokens[:2] == ["a", "few"]:  # "a few hundred": read as three
        current, tokens = 3, tokens[2:]
    elif tokens[:2] == ["a", "couple"]:  # "a couple (of) hundred": two
        current, tokens = 2, [t for t in tokens[2:] if t != "of"]
    elif tokens and tokens[0] == "a":
        current, tokens = 1, tokens[1:]
    for token in tokens:
        if token in _UNITS:
            current += _UNITS[token]
        elif token in _TENS:
            current += _TENS[token]
        elif token == "dozen":
            current = (current or 1) * 12
        elif token == "hundred":
            current = (current or 1) * 100
        elif token in _SCALES:
            total += (current or 1) * _SCALES[token]
            current = 0
        elif token != "and":
            return None
    return total + current


# Counts as many learners write them: "1.5 lakh" (150,000) and "2 crore" (20 million) in India, and
# thousands set off by a dot ("approx. 1.500", "6.000 conversations") in much of Europe: a dot with
# exactly three digits after it and nothing more, so "1.5", "2.483" followed by more digits, "1.000e-4"
# and "3.11.2" stay as they are.
_INDIAN_SCALE = re.compile(r"\b(\d+(?:\.\d+)?)\s*(lakh|lac|crore)s?\b", re.IGNORECASE)
_INDIAN_SCALES = {"lakh": 100_000, "lac": 100_000, "crore": 10_000_000}
_DOTTED_THOUSANDS = re.compile(r"(?<![\w.,])([1-9]\d{0,2}(?:\.\d{3})+)(?![.,]?\d|[eE][-+]?\d|\s*%)")
# By an apostrophe in Switzerland ("2'000 transcribed speeches").
_SWISS_THOUSANDS = re.compile(r"(?<![\w'’.,])([1-9]\d{0,2}(?:['’]\d{3})+)(?![\w'’]|[.,]\d)")
# "two and a half thousand SMS a week", "1 and a half million": the count and a half, in digits (dev19).
_AND_A_HALF = re.compile(
    rf"(?<![\w-])({'|'.join(list(_UNITS)[1:10])}|\d+)\s+and\s+a\s+half\s+(thousand|million|billion)\b", re.IGNORECASE
)
# "half a million reviews a month": half of the scale word, in digits.
_HALF_A = re.compile(r"\bhalf\s+an?\s+(thousand|million|billion)\b", re.IGNORECASE)
_HALVES = {"thousand": "500", "million": "500000", "billion": "500000000"}
# And by a space ("10 000 past reports", "150 000 a year"), as in French, Nordic and SI usage.
_SPACED_THOUSANDS = re.compile(r"(?<![\w.,])(?<!\d )([1-9]\d{0,2}(?: \d{3})+)(?![\w.,-]|\s*%| \d)")


_METRIC_BEFORE = re.compile(
    r"(?:loss|accuracy|acc|lr|learning rate|score|perplexity|ppl|f1|bleu|rouge\S*|auc)\W*(?:is|of|was|at|=|:)?\s*$",
    re.IGNORECASE,
)
# A length given as a range ("summarised into 3-4 sentences") counts no examples.
_LENGTH_RANGE = re.compile(r"\b\d+\s*[-–]\s*\d+\s+(?=(?:sentences|paragraphs|words|lines|bullets|bullet points)\b)")


def _regional_numbers(text: str) -> str:
    text = _LENGTH_RANGE.sub("", text)
    text = _INDIAN_SCALE.sub(lambda m: str(round(float(m[1]) * _INDIAN_SCALES[m[2].lower()])), text)

    def thousands(m: re.Match[str]) -> str:
        # "validation loss is 1.912" is a decimal, whatever its number of digits
        return m[1] if _METRIC_BEFORE.search(m.string[max(0, m.start() - 24) : m.start()]) else m[1].replace(".", "")

    text = _SPACED_THOUSANDS.sub(lambda m: m[1].replace(" ", ""), text)
    text = _SWISS_THOUSANDS.sub(lambda m: re.sub(r"['’]", "", m[1]), text)
    text = _AND_A_HALF.sub(_and_a_half, text)
    text = _HALF_A.sub(lambda m: _HALVES[m[1].lower()], text)
    return _DOTTED_THOUSANDS.sub(thousands, text)


def _and_a_half(m: re.Match[str]) -> str:
    count = int(m[1]) if m[1].isdigit() else _UNITS[m[1].lower()]
    return str(round((count + 0.5) * _SCALES[m[2].lower()]))


_FROM_BEFORE = re.compile(r"\bfrom\s+$", re.IGNORECASE)


def digits_for_words(text: str) -> str:
    """Numbers written in words as digits: "eight thousand examples" -> "8000 examples", "twenty-five
    a day" -> "25 a day", "a few hundred pairs" -> "300 pairs" (a few: read as three); "7 lakh" and
    "6.000" as 700000 and 6000."""
    text = _regional_numbers(text)

    def replace(match: re.Match) -> str:
        words = match.group(0)
        if words.strip().lower() in _SCALES and re.search(r"\d\s*$", match.string[: match.start()]):
            return words  # "20 thousand", "2.5 million": the digits' scale, read with them
        if words.strip().lower() == "zero" and _FROM_BEFORE.search(match.string[: match.start()]):
            return words  # "trained from zero on our logs": from scratch, not a count
        value = _spelled_value(words)
        return words if value is None or not words.strip() else str(value)

    return _SPELLED.sub(replace, text)


def _last(pattern: str, text: str) -> re.Match | None:
    matches = list(re.finditer(pattern, text, re.IGNORECASE))
    return matches[-1] if matches else None


def has_any(text: str, *words: str) -> bool:
    """True when any of the words (regular expressions) occurs as a whole word."""
    return any(re.search(rf"\b{word}\b", text, re.IGNORECASE) for word in words)


# A count of what one project holds, not of examples in hand: "a typical deal has 3,000-5,000
# documents", "each audit involves about 200 files" (dev12).
_PER_PROJECT = re.compile(
    r"\b(?:a|an|1|one|each|every|per|the\s+average|a\s+typical|a\s+single|each\s+of\s+(?:our|the|their))\s+"
    r"(?:typical\s+|single\s+|big\s+|large\s+|client\s+|customer\s+)?"
    r"(?:deal|project|matter|case|audit|tender|engagement|shipment|batch|transaction|lawsuit|dossier)s?\s+"
    r"(?:typically\s+|usually\s+|normally\s+|often\s+)?"
    r"(?:has|have|holds?|contains?|includes?|involves?|comes\s+with|means|is)\s+(?:about\s+|around\s+|roughly\s+|~\s*)?$",
    re.IGNORECASE,
)


# The size of each item, not a count of them: "40 contracts a week, each ~20 pages", "~20 pages
# each" (dev18). Only in units of length: "two clients, each 1,500 labelled invoices" counts.
_SIZE_OF_EACH_BEFORE = re.compile(
    r"\beach(?:\s+of\s+(?:them|those))?\s+(?:about\s+|around\s+|roughly\s+|approx\.?\s+|~\s*)?(?:[\d,.]+\s*[-–]\s*)?$",
    re.IGNORECASE,
)
_SIZE_OF_EACH_AFTER = re.compile(r"\s+each\b", re.IGNORECASE)
_LENGTH_UNIT = re.compile(r"(?:pages|paragraphs|sentences)$", re.IGNORECASE)


def _counts_of_examples(written: str) -> list[re.Match]:
    """The counts of examples in ``written`` (digits for words already), less those per project
    ("each audit has about 40 documents") and the size of each item ("each ~20 pages")."""
    return [
        m for m in re.finditer(_COUNT_OF_EXAMPLES, written, re.IGNORECASE)
        if not _PER_PROJECT.search(re.sub(r"[\d,.]+\s*[-–]\s*$", "", written[max(0, m.start() - 60) : m.start()]))
        and not (
            _LENGTH_UNIT.search(m.group(0))
            and (_SIZE_OF_EACH_BEFORE.search(written[max(0, m.start() - 30) : m.start()])
                 or _SIZE_OF_EACH_AFTER.match(written, m.end()))
        )
    ]  # fmt: skip


def example_count(text: str) -> int | None:
    """ "3,000 examples", "500 labelled pairs", "2k samples", "eight thousand rows" -> 3000, 500, 2000, 8000."""
    matches = _counts_of_examples(_per_shift(digits_for_words(text)))
    match = matches[-1] if matches else None
    if not match:
        return None
    groups = match.groups()  # each alternative of the pattern has its own (digits, scale) pair
    digits, scale = next((groups[i], groups[i + 1]) for i in range(0, len(groups), 2) if groups[i])
    if corrected := _CORRECTED.match(match.string, match.end()):
        digits, scale = corrected[1], corrected[2]
    return int(number(digits, scale))


# The count corrected later in its sentence: "we thought we had 3k tagged tickets, but after removing
# duplicates it's more like 1,900".
_CORRECTED = re.compile(
    r"[^.?!]{0,80}?\b(?:more\s+like|closer\s+to|really\s+only|actually\s+only"
    r"|(?<=\bbut\b)[^.?!]{0,60}?\b(?:it'?s|it\s+is|that'?s|that\s+is|there\s+are)\s+(?:actually|really)(?:\s+only)?)"
    r"\s+(?:about\s+|around\s+|~)?"
    + _NUMBER
    # the count alone, or of them: not "closer to 500 milliseconds", "more like 7B", "closer to 2 seconds"
    + r"(?=\s*(?:[.,;!?)]|$)|\s+(?:of\s+(?:them|those)|examples|labell?ed|tagged|annotated)\b)",
    re.IGNORECASE,
)


# A volume corrected later in its sentence: "we thought 1,000 a day, but after deduplication it's
# actually 350", "200 a day, more like 300 a day". The new figure alone or with a rate: not "but our
# support team is actually only 6", "that's really only 3 of them per agent".
_VOLUME_CORRECTED = re.compile(
    r"[^.?!]{0,80}?\b(?:more\s+like|closer\s+to"
    r"|(?<=\bbut\b)[^.?!]{0,60}?\b(?:it'?s|it\s+is|that'?s|that\s+is)\s+(?:actually|really)(?:\s+only)?)"
    r"\s+(?:about\s+|around\s+|~)?" + _NUMBER + r"(?=\s*(?:[.,;!?)]|$)|\s+(?:a|per|each)\s+(?:day|week|month)\b)",
    re.IGNORECASE,
)


# Past participles that say people made or checked an output: what makes a count of anything a
# count of examples.
_MADE_BY_PEOPLE = (
    r"(?:labell?ed|annotated|tagged|coded|classified|categori[sz]ed|reviewed|answered|prepared|written|"
    r"graded|corrected|transcribed|verified|curated|drafted|solved|filled\s+(?:in|out)|hand-?labell?ed|entered|"
    r"(?:converted|matched|mapped|translated|reformatted|rewritten)(?![^.?!]{0,30}\b(?:automatically|by\s+(?:a|an|the|our)\s+"
    r"(?:script|tool|system|erp|ocr|program|machine|model|pipeline|bot)))|"
    r"(?:wrote|written|did|done|made)\s+by\s+hand)"
)
# A count on its own: not inside a word or a name ("A100", "GPT-4"), not money ("$5k"), not a year,
# not a range or a score ("1-5", "1 to 5", "4 out of 5"), not a share ("85%").
_COUNT = (
    r"(?<![\w$€£.,/-])(?!(?:19|20)\d\d\b)(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![.,]?\d)(?:\s*(k|thousand|m|million)\b)?"
    r"(?!\s*(?:%|percent|-\s*\d|to\s+\d|out\s+of|/\s*\d))"
)
# What the count counts: a plural noun that is not people, time, hardware or money ("3 annotators",
# "3 weeks", "8 GPUs"), maybe after a couple of modifiers or "of the older" ("700 of the older ones").
_THINGS = (
    r"\s+(?:of\s+(?:the|our|those|these)\s+)?(?:[a-z&'-]+\s+){0,2}?"
    r"(?!(?:people|persons|staff|annotators|labell?ers|agents|reviewers|experts|engineers|developers|doctors|"
    r"nurses|lawyers|attorneys|coders|analysts|editors|employees|users|customers|members|students|teachers|"
    r"gpus|cpus|machines|servers|nodes|years|months|weeks|days|hours|minutes|seconds|times|dollars|euros|"
    r"languages|percent|tokens)\b)[a-z&'-]*s\b"
)
# Not a rate: "5,000 tickets a day", "2,000 tickets/day", "4,000 claims each weekday".
_NOT_A_RATE = (
    r"(?!\s*/|\s+(?:(?!(?:from|in|over|of|for|within|during|across)\b)[a-z-]+\s+){0,2}(?:per|a|an|each|every)\s+(?:day|night|weekday|business\s+day|working\s+day|(?:event|match|game|race|trading|market)\s+day|week|"
    r"month|year(?!\s+ago)|hour|minute|second|shift)\b|\s+(?:daily|nightly|weekly|monthly|yearly|annually|hourly)\b)"
)

_COUNT_OF_EXAMPLES = (
    r"(?<!better of )(?<!best of )(?<!which of )(?<!one of )(?<!between )"  # "the better of two answers"
    r"(?<!need )(?<!needs )(?<!needed )(?<!need about )(?<!need at least )"  # a count asked for, not on hand
    r"(?<![\d.,])"  # from a number's first digit: "200-300 examples" is 300, never "00"
    + _NUMBER
    # not an age or a size ("60 years of case reports", "2 GB of server logs")
    + r"\s+(?!(?:years?|yrs?|months?|weeks?|days?|hours?|decades?|[kmgt]i?b|tokens?)\b)"
    # up to three words before the noun; a comma may join two participles ("1,000 professionally
    # translated, aligned contracts", dev18), not end a clause ("2 more annotators joined, emails…")
    r"(?:[a-z&/-]+(?:(?<=ed),(?=\s+[a-z-]+ed\s))?\s+){0,3}?(?:training\s+)?(?:examples?|samples?|pairs?|rows?|records?|"
    r"conversations?|dialogues?|instances?|data\s*points?|transcripts?|notes|documents|tickets|contracts|"
    r"emails|e-mails|messages|reviews|reports|summaries|letters|articles|questions|answers|cases|solutions|"
    r"filings|replies|responses|chat\s+logs|completions|memos|invoices|receipts|forms|files|logs|posts|"
    r"comments|chats|threads|calls|recordings|descriptions|abstracts|papers|snippets|queries|prompts|"
    r"translations|sentences|paragraphs|entries|claims|listings|resumes|essays|stories|scripts|pages)\b"
    r"(?!\s+(?:per|a|an|each|every)\s+(?:(?:event|match|game|race|trading|market)\s+)?(?:day|night|week|month"
    r"|year(?!\s+ago)|hour|minute|second|shift)"
    r"|\s*/\s*(?:day|d|wk|week|mo|month|yr|year|hr|h|hour)\b|\s+(?:daily|nightly|weekly|monthly|yearly|annually|hourly)\b)"
    # terse notes: "15k tagged", "8,000 labelled", "2k annotated" (the noun left out)
    r"|"
    + _NUMBER
    + r"\s+(?:already\s+|hand[- ])?(?:tagged|labell?ed|annotated|triaged|graded)\b(?!\s+(?:per|a|each)\s+day)"
    # things known as examples by who made them, in the same sentence: "3,200 claim charts our
    # attorneys prepared", "700 of the older ones were already coded", "30 that someone did by hand"
    + r"|"
    + _COUNT
    + r"(?:"
    + _THINGS
    + _NOT_A_RATE
    + r"|\s+that)(?:\s+[a-z&'-]+){0,5}?\s+"
    + _MADE_BY_PEOPLE
    + r"\b"
    # or kept for training: "10k past mod decisions to learn from", "2,000 notes we can train on"
    + r"|"
    + _COUNT
    + _THINGS
    + r"(?:\s+[a-z&'-]+){0,3}?\s+(?:(?:for\s+us\s+)?to|we\s+(?:can|could))\s+"
    r"(?:learn\s+from|train\s+on)\b"
    # the making first: "we've annotated 3,500 narratives", "we've logged 12,000 of those comparisons",
    # "staff have answered about 4k of them"
     + r"|\b(?:" + _MADE_BY_PEOPLE + r"|logged|collected|gathered)\s+(?:about\s+|around\s+|roughly\s+|some\s+|"
    r"over\s+|~)?" + _COUNT + r"(?:" + _THINGS + r"|\s+of\s+(?:them|these|those)\b)" + _NOT_A_RATE
)


# "we have no labelled data", "nobody has labelled anything", "there are no training examples"
_NO_EXAMPLES = re.compile(
    r"\b(?:no|zero|not\s+(?:a\s+single|one|any))\s+(?:[a-z-]+\s+){0,2}?"
    r"(?:data|examples?|pairs|rows|samples|labels|q&a|chats|conversations)\b"
    # "no data to third parties", "no data may leave": where data goes, not whether there is any
    r"(?!\s+(?:to\s+(?:third|any|outside|external|other|the\s+cloud|vendors?|openai|anyone|an?\s+(?:outside|"
    r"external|third))|(?:may|can|must|should|will|shall)\s+(?:not\s+)?(?:leave|go|be\s+sent|be\s+shared)|"
    r"leaves?|goes|sent|shared|leaving|outside|off[- ]site)\b)"
    r"|\bnobody\s+has\s+labell?ed\b|\bnothing\s+(?:is\s+)?labell?ed\b"
    # "we never saved any old ones" (dev22; not "never stored any patient data in the cloud")
    r"|\bnever\s+(?:saved|kept|collected|stored|archived|logged)\s+(?:any|a\s+single)\s+(?:old\s+|past\s+|previous\s+)?"
    r"(?:ones|examples?|replies|captions|posts|answers|outputs|drafts|copies)\b"
    r"|\b(?:don'?t|do\s+not|haven'?t|have\s+not)\s+(?:really\s+)?(?:have|got)\s+(?:got\s+)?(?:any\s+)?"
    r"(?!(?:much|enough|many|more|a\s+lot)\b)(?:[a-z&-]+\s+){0,2}?"
    r"(?:data|datasets?|data\s+sets?|training\s+sets?|examples?|pairs|labels|chats|conversations|transcripts|q&a"
    r"|samples|rows)\b",
    re.IGNORECASE,
)


# A number that can count things: what _COUNT reads, whole ("500k", not the "500" of "500k
# requests a day"; not "70" of "Llama 70B", "40" of "40GB", "3" of "3pm" or "3-year"); not after
# money or an "=" ("$ 5,000", "r=16", "10:30"); not one end of a range ("100-200"); not before a
# name with digits ("one A100"); not followed by people, time, hardware, tokens or a share ("3 of
# our engineers", "3 years", "8 GPUs", "4096 tokens", "40%"); and not a rate ("9,000 lines a month").
_COUNT_OF_THINGS = re.compile(
    r"(?<![=:#–×₹])(?<!\$\s)(?<!€\s)(?<!£\s)(?<!₹\s)(?<!usd\s)(?<!eur\s)(?<!\brs\s)(?<!\brs\.\s)(?<!\binr\s)"
    r"(?<!need\s)(?<!needs\s)(?<!require\s)(?<!requires\s)"  # a count asked for, not one on hand
    + _COUNT
    + r"(?![\w:])(?!-\w)(?!\s*[–-]\s*\d)(?!\s+[a-z]*\d)(?!\s+[a-z-]+\s*/\s*(?:day|d|wk|week|mo|month|hr|h|hour)\b)"
    r"(?!\s+(?:of\s+(?:our|the|their|my|his|her)\s+)?(?:[a-z-]+\s+)?(?:people|persons?|staff|annotators|"
    r"labell?ers|agents|reviewers|experts|engineers|developers|doctors|nurses|lawyers|attorneys|employees|users|"
    r"customers|members|students|teachers|editors|writers|translators|clerks|officers|volunteers|gpus?|cpus?|"
    r"machines|servers|nodes|years?|months?|weeks?|days?|hours?|minutes?|seconds?|shifts?|times|dollars|euros|rupees|inr|"
    r"francs|dirhams|yen|yuan|pesos|reais|rand|naira|shillings|kronor|kroner|zloty|lira|baht|ringgit|dinars|pounds|bucks|"
    r"languages|percent|[a-z]*bytes|gb|tb|mb|tokens?|context|parameters|params|layers|epochs?|steps?|"
    # places and organisations: "a cooperative of 40 vineyards", "12 shops"
    r"shops|stores|branches|sites|clinics|hospitals|schools|farms|vineyards|offices|locations|restaurants|hotels|"
    r"warehouses|factories|plants|companies|firms|clients|countries|cities|regions|lakhs?|crores?)\b)" + _NOT_A_RATE,
    re.IGNORECASE,
)


def counts_in(sentence: str) -> list[int]:
    """The whole numbers in ``sentence`` that can count things (in words too: "forty" -> 40)."""
    out = []
    # a count per shift is a rate ("each shift writes ~40 log entries")
    for match in _COUNT_OF_THINGS.finditer(_per_shift(digits_for_words(sentence))):
        digits, scale = match.groups()
        value = number(digits, scale)
        if value == int(value):  # "Python 3.11" is not a count; "2.5k" is
            out.append(int(value))
    return out


def examples_on_hand(text: str) -> int | None:
    """Examples the learner has: a count (``example_count``), 0 for "we have no labelled data yet",
    None when the text does not say. The later statement wins."""
    written = _per_shift(digits_for_words(text))
    counts = _counts_of_examples(written)
    count = counts[-1] if counts else None
    none = _last(_NO_EXAMPLES.pattern, text)
    if none and (count is None or _position(none, text) > _position(count, written)):
        return 0
    return example_count(text)


def _position(match: re.Match, text: str) -> float:
    return match.start() / max(1, len(text))  # relative: the two texts differ only in number words


_MONEY = re.compile(
    r"(?:\$|usd\s*|€|£)\s*(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(k|m|million|thousand|bn|billion)?\b"
    r"|(\d+(?:\.\d+)?)\s*(k|m|million|thousand|bn|billion)?\s*(?:dollars|usd|euros?)\b"
    r"|\b(tens|hundreds)\s+of\s+millions\b|\b(a\s+few|several)\s+(thousand|million)\s+dollars\b",
    re.IGNORECASE,
)
_MONEY_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}


# A range of money: the scale after its second number belongs to both ("$8-12M", "$5 to 10 million").
_MONEY_RANGE = re.compile(
    r"(?:\$|usd\s*|€|£)\s*(?:\d+(?:\.\d+)?)\s*(?:-|–|—|to)\s*(?:\$|€|£)?\s*(\d+(?:\.\d+)?)\s*"
    r"(k|m|million|thousand|bn|billion)\b",
    re.IGNORECASE,
)


# Rupees, as learners in India write them ("₹2 lakh", "Rs 80,000", "5 crore INR"), in dollars at a
# round rate: the budget rules only ask whether a sum is a few thousand dollars or millions.
# "Rs" and "INR" before a space or a dot only (not "rs429358", an SNP; not "RS485", a bus); a range
# by its top ("₹5–10 lakh"); "1.5L" and "2Cr" as people write them.
_RUPEES = re.compile(
    r"(?:₹\s*|\brs\.\s*|\brs\s+|\binr\s+)(?:\d+(?:\.\d+)?\s*(?:-|–|—|to)\s*)?"
    r"(\d{1,3}(?:,\d{2,3})+|\d+(?:\.\d+)?)\s*(lakhs?|lacs?|crores?|cr|l|k|m|million)?(?!\w|\.\d)"
    r"|\b(\d{1,3}(?:,\d{2,3})+|\d+(?:\.\d+)?)\s*(lakhs?|lacs?|crores?)?\s*(?:rupees|inr)\b",
    re.IGNORECASE,
)
_RUPEE_SCALE = {"lakh": 1e5, "lac": 1e5, "l": 1e5, "crore": 1e7, "cr": 1e7, "k": 1e3, "m": 1e6, "million": 1e6}
SMALLEST_RUPEE_SUM = 100  # under it, "INR 4.5" is a lab value (a blood test), not money
RUPEES_PER_DOLLAR = 85


def _rupees_in_dollars(text: str) -> list[float]:
    values = []
    for match in _RUPEES.finditer(text):
        digits, scale = (match[1], match[2]) if match[1] else (match[3], match[4])
        amount = float(digits.replace(",", "")) * _RUPEE_SCALE.get((scale or "").lower().rstrip("s"), 1)
        if amount >= SMALLEST_RUPEE_SUM:
            values.append(amount / RUPEES_PER_DOLLAR)
    return values


# Money that is not there to spend: "€40 billion under management", "revenue is $2 billion a year" (test17).
_NOT_TO_SPEND_AFTER = re.compile(
    r"\s*(?:of\s+)?(?:(?:assets\s+)?under\s+management|aum\b|in\s+assets|(?:in|of)\s+(?:annual\s+)?(?:revenue|turnover|sales)"
    r"|market\s+cap|valuation)",
    re.IGNORECASE,
)
_NOT_TO_SPEND_BEFORE = re.compile(
    r"\b(?:revenue|turnover|sales|market\s+cap\w*|valuation|aum|assets\s+under\s+management)\s*(?:is|of|was|were|:|=)?"
    r"\s*(?:about|around|roughly|over|~)?\s*$",
    re.IGNORECASE,
)


def budget(text: str) -> float | None:
    """The largest sum of money named: "$20M", "$15 million", "$5,000", "tens of millions of dollars";
    a range by its top ("$8-12M": 12 million), since a plan is judged by what it may spend."""
    values = []
    for match in _MONEY_RANGE.finditer(text):
        values.append(float(match.group(1)) * _MONEY_SCALE[match.group(2).lower()])
    text = _MONEY_RANGE.sub(" ", text)
    for match in _MONEY.finditer(text):  # not digits_for_words: it reads "15 million" as "15 1000000"
        if _NOT_TO_SPEND_AFTER.match(text, match.end()) or _NOT_TO_SPEND_BEFORE.search(text[: match.start()]):
            continue
        amount, scale, amount2, scale2, tens, few, few_scale = match.groups()
        if tens:
            values.append(10e6 if tens.lower() == "tens" else 100e6)
        elif few:
            values.append(3 * _MONEY_SCALE[few_scale.lower()])
        else:
            digits, unit = (amount, scale) if amount else (amount2, scale2)
            values.append(float(digits.replace(",", "")) * _MONEY_SCALE.get((unit or "").lower(), 1))
    values += _sums_in_words(text) + _rupees_in_dollars(text)
    return max(values) if values else None


_CURRENCY_AFTER = re.compile(r"\s*(?:of\s+)?(?:dollars|usd|euros?|pounds|bucks)\b", re.IGNORECASE)
# Words before a spelled sum that scale it: "several hundred thousand", "half a billion".
_SUM_FACTOR = re.compile(r"\b(several|half|a\s+couple(?:\s+of)?)\s*$", re.IGNORECASE)
_SUM_FACTORS = {"several": 3.0, "half": 0.5, "a": 2.0}  # "a": "a couple of"


def _sums_in_words(text: str) -> list[float]:
    """Sums of money said in words: "a few hundred million dollars", "twenty million euros"."""
    values = []
    for match in _SPELLED.finditer(text):
        if not match.group(0).strip() or not _CURRENCY_AFTER.match(text, match.end()):
            continue
        value = _spelled_value(match.group(0))
        if value is None:
            continue
        factor = _SUM_FACTOR.search(text, 0, match.start())
        word = factor.group(1).lower().split()[0] if factor else ""
        values.append(value * (_SUM_FACTORS[word] if factor else 1.0))
    return values


_TOKENS = re.compile(
    r"(\d+(?:\.\d+)?)\s*(t|b|m|trillion|billion|million)?[\s-]*tokens?\b|\b(trillions|billions)\s+of\s+tokens\b",
    re.IGNORECASE,
)
_TOKEN_SCALE = {"t": 1e12, "trillion": 1e12, "b": 1e9, "billion": 1e9, "m": 1e6, "million": 1e6}


def corpus_tokens(text: str) -> float | None:
    """The largest amount of training text named in tokens: "3T-token corpus", "trillions of tokens"."""
    values = []
    for match in _TOKENS.finditer(text):
        amount, scale, plural = match.groups()
        if plural:
            values.append(2e12 if plural.lower() == "trillions" else 2e9)
        else:
            values.append(float(amount) * _TOKEN_SCALE.get((scale or "").lower(), 1))
    return max(values) if values else None


# A period said in the learner's own language: "150 000 messages par mois", "600 correos al día", "7.000
# Anfragen pro Woche" (strategy test19).
# Each language's words before a period, and its periods' names (the English unit first).
_FOREIGN_PERIOD_WORDS = (
    ("par", (("day", "jour"), ("week", "semaine"), ("month", "mois"), ("year", "an|ann[ée]e"), ("hour", "heure"))),
    (
        "al|por|a la|cada",
        (("day", "d[ií]a"), ("week", "semana"), ("month", "mes"), ("year", "a[ñn]o"), ("hour", "hora")),
    ),
    (
        "pro|im|jeden|jede",
        (("day", "tag"), ("week", "woche"), ("month", "monat"), ("year", "jahr"), ("hour", "stunde")),
    ),
    (
        "al|alla|all'|ogni",
        (("day", "giorno"), ("week", "settimana"), ("month", "mese"), ("year", "anno"), ("hour", "ora")),
    ),
)
_FOREIGN_PERIODS = [
    (re.compile(rf"\b(?:{before})(?:\s+|(?<=')\s*)(?:{name})\b", re.IGNORECASE), unit)
    for before, periods in _FOREIGN_PERIOD_WORDS
    for unit, name in periods
]


def _in_english_periods(text: str) -> str:
    for period, unit in _FOREIGN_PERIODS:
        text = period.sub(f"a {unit}", text)
    return text


def daily_volume(text: str) -> int | None:
    """Requests per day: "50,000 notes per day", "2M calls a month" (-> per day), "10 per second"."""
    text = _per_shift(digits_for_words(_in_english_periods(text)))
    shifts = _shifts_a_day(text)
    # "2 shifts/day" says how many shifts run, not how many items come in.
    match = _last(_VOLUME.pattern, _SHIFTS.sub(lambda m: "x" * len(m[0]), text))
    if not match and (first := _period_first(text)) is not None:
        return first
    if not match:
        times = _TIMES_A_DAY.search(text)  # "maybe 10x a day", when no other count says the volume
        return int(int(times[1]) * _PER_DAY[times[2].lower()]) if times else None
    unit = _UNIT_NAMES.get(unit := next(u for u in match.groups()[2:] if u).lower(), unit)
    per_day = shifts if unit == "shift" else _PER_DAY[unit]
    digits, scale = match.group(1), match.group(2)
    if corrected := _VOLUME_CORRECTED.match(text, match.end()):  # "1,000 ads a day, but … it's actually 350"
        digits, scale = corrected[1], corrected[2]
    elif low := _RANGE_START.search(text[: match.start()]):
        if _CURRENCY_BEFORE.search(text[: low.start()]):
            return None  # "$5-10k a month on compute" is money, not a volume
        # A range is read by its middle ("5-10k alerts a day": 7,500); its scale belongs to both ends.
        high_value = number(digits, scale)
        low_digits, low_scale = (low[1], low[2]) if low[1] else (low[3], low[4])
        low_value = number(low_digits, low_scale or scale)
        if low_value > high_value:  # "500-2k": the scale was the second end's alone
            low_value = number(low_digits, low_scale)
        if low_value < high_value <= low_value * 20:  # not "Region 3 - 12,000 requests/day"
            return int((low_value + high_value) / 2 * per_day)
    return int(number(digits, scale) * per_day)


# The period said before the count: "Each month we write about 60 donor updates", "Every year we get
# about 73,000 enquiries" (strategy dev17).
_PERIOD_FIRST = re.compile(
    r"\b(?:each|every|per)\s+(day|week|month|year)\b(?!\s+ago),?\s+(?:[a-z']+\s+){0,4}?"
    r"(?:about\s+|around\s+|roughly\s+|approx\.?\s+|approximately\s+|some\s+|~\s*)?" + _NUMBER + r"(?![a-z])",
    re.IGNORECASE,
)


def _period_first(text: str) -> int | None:
    """Items per day from a count said after its period, when that number counts things (not
    people, money or hours: "every week 4 engineers review it")."""
    for match in _PERIOD_FIRST.finditer(text):
        value = number(match.group(2), match.group(3))
        if counts_in(text[match.start(2) :])[:1] == [value]:  # the first count after the period is this one
            return int(value * _PER_DAY[match.group(1).lower()])
    return None


_TIMES_A_DAY = re.compile(r"\b(\d{1,3})\s*x\s+(?:a|an|per|each)\s+(day|week|month|hour)\b", re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(r"(?:[$€£]|\busd|\beur)\s*$", re.IGNORECASE)


# The first end of a range that ends where a volume starts: "5-10k", "200 to 300", "between 40 and 60".
_RANGE_START = re.compile(
    # not a change told "from 500 to 15,000 a day" (the later figure is the volume), not a label "Q4 - 1,200"
    r"(?:\bbetween\s+" + _NUMBER + r"\s+and|(?<![\w.,])(?<!from )" + _NUMBER + r"\s*(?:-|–|—|to))\s*$",
    re.IGNORECASE,
)


# The shift named before its count: "3 shifts, each shift about 250 notes" (-> "250 notes per shift").
_SHIFT_FIRST = re.compile(
    # (a verb and its subject may come between: "each shift writes ~40", "each shift the lab logs about 20";
    # "each of our three shifts logs about 250" keeps its count of shifts, strategy test19)
    r"\b(?:each|every)\s+(?:one\s+|1\s+)?(?:of\s+(?:our|the)\s+(?P<shifts>(?:one|two|three|four|[1-4])\s+)?)?shifts?,?\s+"
    r"(?:(?:the\s+|our\s+)?(?!(?:has|have|had|is|are|was|were|lasts|runs|needs|employs|takes)\b)[a-z]+\s+(?:[a-z]+s\s+)?)?"
    r"(?:about\s+|around\s+|roughly\s+|approx\.?\s+|~\s*)?"
    r"(?P<count>\d[\d,.]*\s*(?:k\b)?)(?P<things>(?:\s+[a-z-]+)?\s+(?!(?:operators|people|staff|workers|agents|nurses|inspectors|hours|hrs"
    r"|minutes|mins|engineers|technicians|clerks|employees|persons|analysts|reviewers|annotators|supervisors|doctors"
    r"|drivers|managers|cashiers|guards|pickers|packers|cooks|chefs|volunteers)\b)[a-z-]+s)\b",
    re.IGNORECASE,
)


def _per_shift(text: str) -> str:
    """A count named after its shift as a rate: "each shift writes ~40 log entries" -> "40 log entries
    per shift" (a volume, not a count of examples)."""

    def per_shift(m: re.Match[str]) -> str:
        shifts = f"{m['shifts']}shifts: " if m["shifts"] else ""  # kept for _shifts_a_day
        return f"{shifts}{m['count']}{m['things']} per shift"

    return _SHIFT_FIRST.sub(per_shift, text)


_SHIFTS = re.compile(r"\b(one|two|three|four|[1-4])\s+(?:\d+[- ]?(?:hour|hr|h)\s+)?shifts?\b", re.IGNORECASE)


def _shifts_a_day(text: str) -> float:
    """How many shifts a day the text names ("two 12-hour shifts", "we run three shifts", "one 8-hour
    shift"); one when it names none (a shift's length says nothing of how many run)."""
    if counted := _SHIFTS.search(text):
        word = counted[1].lower()
        return float({"one": 1, "two": 2, "three": 3, "four": 4}.get(word) or int(word))
    return 1.0


_PER_DAY = {
    "day": 1, "night": 1, "week": 1 / 7, "month": 1 / 30, "year": 1 / 365, "hour": 24, "minute": 1440,
    "second": 86400,
}  # fmt: skip
_UNIT_NAMES = {
    "d": "day", "daily": "day", "nightly": "night", "wk": "week", "weekly": "week", "mo": "month",
    "monthly": "month", "yr": "year", "yearly": "year", "annually": "year", "hr": "hour", "h": "hour",
    "hourly": "hour", "min": "minute", "s": "second", "sec": "second",
}  # fmt: skip
# "50,000 notes per day", "4,000 claim emails/day", "4k emails daily", "300 a week", "55,000 listings a
# year" and "90,000 returns across the year" (a yearly figure is a low daily one: 150 and 246).
_VOLUME = re.compile(
    r"(?<![$€£\d.,])(?<![$€£]\s)(?<!usd\s)(?<!eur\s)"  # not money ("$200/month for infra")
    + _NUMBER
    + r"(?!\s*(?:usd|eur|gbp|dollars?|euros?|pounds?)\b)"
    # up to three words before the rate, or four when two nouns are joined ("150 drug-interaction and
    # dosing questions a day"): not "15,000 a day; 8 agents clear the backlog daily"
    r"(?:\s+(?:[a-z-]+\s+(?:and|or|&)\s+[a-z-]+\s+[a-z-]+\s+|(?:[a-z-]+\s+){0,3}?"
    # or four nouns and modifiers, none a word that starts a clause ("2.5M short ad headline variants per
    # day", dev14; not "8 agents clear the backlog daily")
    r"|(?:(?!(?:the|a|an|our|their|its|his|her|my|your|we|they|it|is|are|was|were|be|to|of|in|on|at|for|with"
    r"|from|and|or|but|that|which|this|these|those|clear|clears|handle|handles|process|processes|do|does|get"
    # nor a headcount ("6 agents triage incoming tickets every day")
    r"|gets|agents|people|staff|nurses|doctors|engineers|analysts|reviewers|annotators|clerks|employees|users"
    r"|volunteers|operators|workers|technicians|lawyers|teachers|students|editors|writers|translators)\s)"
    r"[a-z-]+\s+){4})"
    r"(?:(?:per|a|an|each|every|across the|over the|throughout the)\s+"
    r"(day|night|week|month|year|hour|minute|second|shift)\b(?!\s+ago)"
    r"|(?:[a-z-]+\s+){0,3}?[a-z-]+\s*/\s*(day|d|wk|week|mo|month|yr|year|hr|h|hour|min|minute|s|sec|second)\b"
    r"|(daily|nightly|weekly|monthly|yearly|annually|hourly)\b)"
    r"|\s*/\s*(day|d|wk|week|mo|month|yr|year|hr|h|hour)\b)",
    re.IGNORECASE,
)


# Parameter counts of models learners often name (billions). Unlisted names fall back to "7B"-style sizes.
KNOWN_MODELS = {
    "smollm2": 0.135,
    "smollm": 0.135,
    "gpt-2": 0.124,
    "gpt2": 0.124,
    "tinyllama": 1.1,
    "phi-2": 2.7,
    "phi-3-mini": 3.8,
    "phi-3": 3.8,
    "gemma 2b": 2.5,
    "gemma-2b": 2.5,
    "mistral": 7.2,
    "mixtral": 46.7,
    "zephyr": 7.2,
    "falcon": 7.0,
    "bloomberggpt": 50.0,
    "gpt-j": 6.0,
}


def model_size_billion(text: str) -> tuple[str | None, float | None]:
    """(name as written, parameters in billions) from "Mistral 7B", "llama-3-8b", "a 135M model"."""
    match = _last(r"([A-Za-z][\w.\-]*?)?[\s\-]*(?<![\d.])(\d+(?:\.\d+)?)\s*([bm])\b(?!\s*(?:tokens|examples))", text)
    if match and match.group(3).lower() == "m" and not _a_model_in_millions(match):
        match = None  # "every 2 m along the line", "12M already coded": metres and counts
    if match:
        size = float(match.group(2)) * (1e-3 if match.group(3).lower() == "m" else 1)
        name = (match.group(1) or "").strip(" -")
        return (f"{name} {match.group(2)}{match.group(3).upper()}".strip(), size)
    for name, size in KNOWN_MODELS.items():
        if re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE):
            return name, size
    return None, None


_MODEL_AFTER = re.compile(r"[\s-]*(?:param\w*|models?|llms?|base|instruct|chat|checkpoint)\b", re.IGNORECASE)


def _a_model_in_millions(match: re.Match[str]) -> bool:
    """A size in millions is a model's when a model's name comes before it ("SmolLM2 135M") or a
    model word after it ("a 360M model"); else it counts something else."""
    name = (match.group(1) or "").lower()
    named = any(ch.isdigit() for ch in name) or name.startswith(tuple(KNOWN_MODELS)) or name in _MODEL_FAMILIES
    return named or bool(_MODEL_AFTER.match(match.string, match.end()))


_MODEL_FAMILIES = {"llama", "qwen", "gemma", "phi", "pythia", "opt", "bert", "t5", "gpt", "smollm", "olmo", "bloom"}


# GPU memory in GB by name. Sizes that vary by model (A100 40/80) take the size given next to it.
KNOWN_GPUS = {
    "h200": 141,
    "h100": 80,
    "a100": 80,
    "a6000": 48,
    "l40s": 48,
    "l40": 48,
    "a40": 48,
    "a10g": 24,
    "a10": 24,
    "l4": 24,
    "rtx 4090": 24,
    "4090": 24,
    "rtx 3090": 24,
    "3090": 24,
    "4080": 16,
    "3080": 10,
    "v100": 16,
    "t4": 16,
    "p100": 16,
    "4070": 12,
    "3060": 12,
    "colab": 15,
    "mi300x": 192,
    "mi250": 128,
}


def gpu(text: str) -> tuple[str | None, float | None, int]:
    """(name, memory in GB per GPU, how many) from "one A100 40GB", "2x RTX 4090", "a 24 GB card"."""
    count = 1
    # The count is a whole number, not the first digits of the memory ("one 24GB GPU" is not 2 GPUs).
    count_match = _last(
        r"\b(\d+|two|four|eight)(?![\d.])\s*(?:x|×)?\s*(?:nvidia\s+)?(?:[a-z]*\d+[a-z]*\s+)?gpus?\b", text
    )
    words = {"two": 2, "four": 4, "eight": 8}
    if count_match:
        count = words.get(count_match.group(1).lower()) or int(count_match.group(1))
    multi = _last(r"\b(\d+)\s*(?:x|×)\s*(?:nvidia\s+)?(?:rtx\s+)?([a-z]*\d+[a-z]*)", text)
    if multi:
        count = int(multi.group(1))
    name = None
    for known in sorted(KNOWN_GPUS, key=len, reverse=True):
        if re.search(rf"\b{re.escape(known)}\b", text, re.IGNORECASE):
            name = known.upper()
            break
    # not a corpus: "50GB of scanned contracts", "200 GB of call transcripts"
    memory_match = _last(
        r"(\d+(?:\.\d+)?)\s*(?:gb|gib|g\b)"
        r"(?!\s+of\s+(?!(?:gpu\s+|video\s+|unified\s+|graphics\s+)?(?:vram|memory|ram|hbm\w*|gddr\w*)\b))"
        r"(?!\s+(?:worth\b|(?:[\w-]+\s+)?(?:archive|dataset|data\s*set|corpus|dump)s?\b))"
        r"(?:\s+(?:of\s+)?(?:vram|gpu|memory))?",
        text,
    )
    memory = float(memory_match.group(1)) if memory_match else None
    if name and memory is None:
        memory = float(KNOWN_GPUS[name.lower()])
    if name is None and memory is None:
        return None, None, count
    return (f"{name} {memory:g}GB" if name else f"{memory:g} GB GPU"), memory, count
