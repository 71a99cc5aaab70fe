"""Moodle GIFT import and export for the question types we support.

Supported, as Moodle defines them: multiple choice (``=right ~wrong``), multiple answers (no ``=``,
weights ``~%50%``, negative weights allowed), true/false (``{T}``, ``{FALSE#wrong fb#right fb}``),
per-answer feedback ``#``, general feedback ``####``, ``::title::``, ``$CATEGORY:``, ``//``
comments, escapes ``\\~ \\= \\# \\{ \\} \\:`` (and ``\\n``), and the ``[markdown]``, ``[html]``,
``[plain]``, ``[moodle]`` text formats. Missing-word questions (text after the answers) become a
stem with a blank.

Not supported, reported with their line and skipped: matching (``->``), numerical (``{#...}``),
essay (``{}``), short answer (only ``=`` answers), description (no braces).

Questions are separated by blank lines, as Moodle requires; a ``::title::`` at the start of a
line also begins a new question, so questions written on consecutive lines are not run together.

Fields GIFT has no syntax for (question id, lesson, tags, points) travel in a comment line
Moodle itself ignores: ``// [id:l1-q1] [lesson:training-data] [tag:lora] [points:2]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import ValidationError

from tutor.quiz.bank import Bank, Option, Question, duplicate_options

ESCAPABLE = "~=#{}:"
FORMATS = ("markdown", "html", "plain", "moodle")
META_RE = re.compile(r"\[(id|lesson|tag|points):([^\]]*)\]")


@dataclass
class GiftResult:
    questions: list[Question] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "file:line: message": nothing may be imported
    skipped: list[str] = field(default_factory=list)  # "file:line: message": unsupported, left out


@dataclass
class _Block:
    numbers: list[int]  # 1-based line number of each line of ``text`` (comment lines are left out)
    text: str
    meta: dict[str, list[str]]

    @property
    def line(self) -> int:
        """The line the question starts on."""
        return self.numbers[0]

    def line_at(self, offset: int) -> int:
        """The line of ``text[offset]``."""
        return self.numbers[self.text.count("\n", 0, offset)]


def _find_unescaped(text: str, chars: str, start: int = 0) -> int:
    """Index of the first of ``chars`` not preceded by a backslash escape, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in chars:
            return i
        i += 1
    return -1


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, start, i = [], 0, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(separator, i):
            parts.append(text[start:i])
            i += len(separator)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return parts


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt if nxt in ESCAPABLE or nxt == "\\" else "\\" + nxt)
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for char in ESCAPABLE:
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


# A ::title:: at the start of a line. Moodle needs a blank line before each question, but
# authors often leave it out; without this the questions ran together into one.
TITLE_LINE_RE = re.compile(r"::(?:\\.|[^\\])*?::")


@dataclass
class _Splitter:
    """Splits GIFT into question blocks: at blank lines, before each ``::title::`` that starts a
    line, and around ``$CATEGORY:`` lines. Drops ``//`` comments but keeps their [meta]."""

    blocks: list[_Block] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)
    # [meta] of comments after the block's last line: the next question's when one starts right
    # below them, else (a comment inside or just below a question) the block's own.
    pending: dict[str, list[str]] = field(default_factory=dict)

    def comment(self, stripped: str) -> None:
        for key, value in META_RE.findall(stripped):
            self.pending.setdefault(key, []).append(value.strip())

    def blank(self) -> None:
        if self.lines:  # meta above a blank line with no question yet waits for the next one
            self._take_pending()
            self.close()

    def line(self, number: int, raw: str) -> None:
        stripped = raw.strip()
        if stripped.startswith("$CATEGORY:"):
            self.close()
            self.blocks.append(_Block([number], stripped, {}))
            return
        if TITLE_LINE_RE.match(stripped):
            self.close()
        self._take_pending()
        self.lines.append(raw)
        self.numbers.append(number)

    def close(self) -> None:
        if self.lines:
            self.blocks.append(_Block(self.numbers, "\n".join(self.lines), self.meta))
        self.lines, self.numbers, self.meta = [], [], {}

    def _take_pending(self) -> None:
        for key, values in self.pending.items():
            self.meta.setdefault(key, []).extend(values)
        self.pending = {}


def _blocks(text: str) -> list[_Block]:
    """The questions (and ``$CATEGORY:`` lines) of a GIFT text, one block each."""
    splitter = _Splitter()
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("//"):
            splitter.comment(stripped)
        elif not stripped:
            splitter.blank()
        else:
            splitter.line(number, raw)
    splitter.blank()  # the end of the text ends the last question, as a blank line would
    return splitter.blocks


def _answer_kind(body: str) -> str:
    stripped = body.strip()
    if not stripped:
        return "essay"
    if stripped.startswith("#"):
        return "numerical"
    answers_part = _split_unescaped(stripped, "####")[0]
    if _find_unescaped(answers_part, "=") >= 0 and "->" in answers_part:
        return "matching"
    if _find_unescaped(answers_part, "~") >= 0:
        return "multichoice"
    head = _split_unescaped(answers_part, "#")[0].strip().upper()
    if head in ("T", "TRUE", "F", "FALSE"):
        return "truefalse"
    return "shortanswer"


def _parse_choices(answers_part: str) -> list[tuple[str, float | None, str, str]]:
    """(marker '=' or '~', weight percent or None, text, feedback) per answer."""
    choices = []
    starts = []
    i = 0
    while i < len(answers_part):
        if answers_part[i] == "\\":
            i += 2
            continue
        if answers_part[i] in "=~":
            starts.append(i)
        i += 1
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(answers_part)
        marker, chunk = answers_part[start], answers_part[start + 1 : end]
        weight = None
        match = re.match(r"\s*%(-?\d+(?:\.\d+)?)%", chunk)
        if match:
            weight = float(match.group(1))
            chunk = chunk[match.end() :]
        cut = _find_unescaped(chunk, "#")
        text, feedback = (chunk, "") if cut < 0 else (chunk[:cut], chunk[cut + 1 :])
        choices.append((marker, weight, unescape(text.strip()), unescape(feedback.strip())))
    return choices


class _QuestionError(ValueError):
    """What is wrong with one question, as (line, message) pairs: all of it, not just the first."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


NO_RIGHT = "no option is marked right (=); for several right answers give them weights, as in ~%50%"
NOT_CLOSED = "'{' is never closed by '}' (escape literal braces as \\{ \\})"
SECOND_BLOCK = "a second {...} answer block: put a blank line between two questions"


def _parse_block(block: _Block, category: str, number: int) -> Question:
    text = block.text
    title = ""
    # ::title:: where the title may hold escaped characters such as \: (so "\::" does not end it)
    match = re.match(r"\s*::((?:\\.|[^\\])*?)::", text, re.DOTALL)
    if match:
        title = unescape(match.group(1).strip())
        text = text[match.end() :]
    open_at = _find_unescaped(text, "{")
    close_at = _find_unescaped(text, "}", open_at + 1)
    if close_at < 0:
        raise _QuestionError([(block.line, NOT_CLOSED)])
    stem, body, after = text[:open_at], text[open_at + 1 : close_at], text[close_at + 1 :]
    second = _find_unescaped(after, "{")
    if second >= 0:  # two questions without a blank line between them (and no ::title:: to split at)
        offset = len(block.text) - len(after) + second
        raise _QuestionError([(block.line_at(offset), SECOND_BLOCK)])
    stem_format = "markdown"
    fmt = re.match(r"\s*\[(markdown|html|plain|moodle)\]", stem)
    if fmt:
        stem_format = fmt.group(1)
        stem = stem[fmt.end() :]
    stem = unescape(stem.strip())
    if after.strip():  # missing-word format: the answers fill a blank inside the sentence
        stem = f"{stem} _____ {unescape(after.strip())}"

    parts = _split_unescaped(body, "####")
    answers_part, general = parts[0], unescape("####".join(parts[1:]).strip()) if len(parts) > 1 else ""
    kind = _answer_kind(body)
    meta = block.meta
    question_id = (meta.get("id") or [""])[0] or re.sub(r"[^A-Za-z0-9_.-]+", "-", title).strip("-") or f"q{number}"
    common = {
        "id": question_id[:64],
        "title": title,
        "category": category,
        "stem": stem,
        "stem_format": stem_format,
        "general_feedback": general,
        "lesson": (meta.get("lesson") or [""])[0],
        "tags": meta.get("tag", []),
    }
    if meta.get("points"):
        common["points"] = float(meta["points"][0])
    if kind == "truefalse":
        return _true_false(answers_part, common)
    return _multiple_choice(block, answers_part, common)


def _true_false(answers_part: str, common: dict) -> Question:
    head, *feedbacks = _split_unescaped(answers_part.strip(), "#")
    answer_true = head.strip().upper() in ("T", "TRUE")
    wrong_fb = unescape(feedbacks[0].strip()) if feedbacks else ""
    right_fb = unescape(feedbacks[1].strip()) if len(feedbacks) > 1 else ""
    options = [
        Option(text="True", weight=100 if answer_true else 0, feedback=right_fb if answer_true else wrong_fb),
        Option(text="False", weight=0 if answer_true else 100, feedback=wrong_fb if answer_true else right_fb),
    ]
    return Question(type="truefalse", options=options, **common)


def _multiple_choice(block: _Block, answers_part: str, common: dict) -> Question:
    choices = _parse_choices(answers_part)
    has_equals = any(marker == "=" for marker, *_ in choices)
    options = []
    for marker, weight, option_text, feedback in choices:
        if weight is None:
            weight = 100.0 if marker == "=" else 0.0
        options.append(Option(text=option_text, weight=weight, feedback=feedback))
    problems = [message for _, message in duplicate_options(common["id"], [o.text for o in options])]
    if not has_equals and not any(option.weight > 0 for option in options):
        # Moodle reads "no =" as a multiple-answer question, but an author who wrote {~A ~B ~C} most
        # likely forgot the = of a single-choice one: say that, not "needs a correct option".
        problems.insert(0, NO_RIGHT)
    if problems:
        raise _QuestionError([(block.line, message) for message in problems])
    return Question(type="single" if has_equals else "multiple", options=options, **common)


def _validation_messages(exc: ValidationError) -> list[str]:
    messages = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        messages.append(f"{where}: {message}" if where else message)
    return messages


def _duplicate_id(question: Question, block: _Block, first_line: int) -> str:
    message = f"question id {question.id!r} is used twice (first at line {first_line})"
    if question.title and not block.meta.get("id"):
        message += ": question ids come from titles, so give each question its own title or an // [id:...] comment"
    return message


def _unsupported(block: _Block) -> str | None:
    """Why a block is skipped (a type we do not support), or None for a question we import."""
    open_at = _find_unescaped(block.text, "{")
    if open_at < 0:
        return "no answers in braces (a description?): skipped"
    close_at = _find_unescaped(block.text, "}", open_at + 1)
    if close_at < 0:
        return None  # an error, which parsing the question reports
    kind = _answer_kind(block.text[open_at + 1 : close_at])
    return None if kind in ("multichoice", "truefalse") else f"{kind} questions are not supported: skipped"


def _question_or_errors(block: _Block, category: str, number: int, source: str) -> Question | list[str]:
    """The block's question, or every ``file:line: message`` that keeps it out."""
    where = f"{source}:{block.line}"
    try:
        return _parse_block(block, category, number)
    except _QuestionError as exc:
        return [f"{source}:{line}: {message}" for line, message in exc.problems]
    except ValidationError as exc:
        return [f"{where}: {message}" for message in _validation_messages(exc)]
    except ValueError as exc:
        return [f"{where}: {exc}"]


def parse_gift(text: str, source: str = "<gift>") -> GiftResult:
    """Parse GIFT text. Errors mean the file must not be imported; skipped types are reported."""
    result = GiftResult()
    category = ""
    first_lines: dict[str, int] = {}  # question id -> the line of the question that has it
    for number, block in enumerate(_blocks(text), start=1):
        where = f"{source}:{block.line}"
        stripped = block.text.strip()
        if stripped.startswith("$CATEGORY:"):
            category = stripped[len("$CATEGORY:") :].strip()
            continue
        skipped = _unsupported(block)
        if skipped:
            result.skipped.append(f"{where}: {skipped}")
            continue
        question = _question_or_errors(block, category, number, source)
        if isinstance(question, list):
            result.errors += question
        elif question.id in first_lines:
            result.errors.append(f"{where}: {_duplicate_id(question, block, first_lines[question.id])}")
        else:
            first_lines[question.id] = block.line
            result.questions.append(question)
    return result


def _format_weight(weight: float) -> str:
    return f"{weight:g}"


def write_gift(bank: Bank) -> str:
    """The bank's questions as GIFT (quiz definitions have no GIFT form and stay in YAML)."""
    out = [f"// Bank {bank.bank}: {escape(bank.title)} — exported by Fine-Tuning Tutor", ""]
    category = ""  # Moodle's default category until a question names another
    for question in bank.questions:
        if question.category != category:
            category = question.category
            out += [f"$CATEGORY: {category}", ""]
        meta = [f"[id:{question.id}]"]
        if question.lesson:
            meta.append(f"[lesson:{question.lesson}]")
        meta += [f"[tag:{tag}]" for tag in question.tags]
        if question.points != 1:
            meta.append(f"[points:{_format_weight(question.points)}]")
        out.append("// " + " ".join(meta))
        head = f"::{escape(question.title)}::" if question.title else ""
        head += f"[{question.stem_format}]"  # always written, so the format survives a round trip
        general = f"\n\t####{escape(question.general_feedback)}" if question.general_feedback else ""
        if question.type == "truefalse":
            true_option, false_option = question.options
            answer_true = true_option.correct
            right = true_option if answer_true else false_option
            wrong = false_option if answer_true else true_option
            out.append(
                f"{head}{escape(question.stem)} {{{'TRUE' if answer_true else 'FALSE'}"
                f"#{escape(wrong.feedback)}#{escape(right.feedback)}{general}}}"
            )
        else:
            lines = []
            for option in question.options:
                if question.type == "single":
                    marker = "=" if option.weight == 100 else "~"
                    weight = f"%{_format_weight(option.weight)}%" if option.weight not in (0, 100) else ""
                else:
                    marker, weight = "~", f"%{_format_weight(option.weight)}%" if option.weight else ""
                feedback = f" #{escape(option.feedback)}" if option.feedback else ""
                lines.append(f"\t{marker}{weight}{escape(option.text)}{feedback}")
            out.append(f"{head}{escape(question.stem)} {{\n" + "\n".join(lines) + f"{general}\n}}")
        out.append("")
    return "\n".join(out)
