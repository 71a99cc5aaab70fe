"""Quiz banks: typed questions and quiz definitions, loaded from YAML with ``file:line`` errors.

A bank file::

    bank: module3
    title: Module 3 — Fine-Tuning
    questions:
      - id: l1-q1
        lesson: what-is-fine-tuning
        tags: [lora]
        type: single                 # single | multiple | truefalse
        stem: What does LoRA do differently from full fine-tuning?
        options:
          - {text: It trains small low-rank matrices beside frozen weights, correct: true, feedback: ...}
          - {text: It retrains every weight at a lower learning rate, feedback: ...}
        general_feedback: ...
    quizzes:
      - id: lesson-1
        title: Lesson 1 quiz
        questions: [l1-q1, ...]     # a fixed list, and/or random draws:
        draws: [{lesson: training-data, count: 2}]
        pass_mark: 80

Option weights are percentages of the question's points: ``correct: true`` means 100. A
``multiple`` question gives partial credit: positive weights add up to 100, wrong options may
carry negative weights (the question never scores below 0).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trainer.records import NotTextError, decode_text

QuestionType = Literal["single", "multiple", "truefalse"]
GradingMethod = Literal["highest", "last", "first", "average"]
ReviewWhen = Literal["immediately", "after_pass", "after_last_attempt", "never"]
Problem = tuple[tuple, str]  # (location path in the bank's data, message)


class BankError(ValueError):
    """A bank that cannot be used. ``problems`` holds one ``file:line: message`` per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="What the learner sees (Markdown).")
    weight: float = Field(0.0, ge=-100, le=100, description="Percent of the points this option is worth.")
    feedback: str = Field("", description="Shown after submission when this option was chosen.")

    @model_validator(mode="before")
    @classmethod
    def _correct_shorthand(cls, data: Any) -> Any:
        # `correct: true` is the readable way to say `weight: 100`.
        if isinstance(data, dict) and "correct" in data:
            data = dict(data)
            correct = data.pop("correct")
            if not isinstance(correct, bool):
                raise ValueError("'correct' must be true or false")
            if "weight" in data:
                raise ValueError("give either 'correct' or 'weight', not both")
            data["weight"] = 100.0 if correct else 0.0
        return data

    @property
    def correct(self) -> bool:
        """Earns credit when chosen."""
        return self.weight > 0


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)
    lesson: str = Field("", description="Lesson id the question belongs to (used for draws and stats).")
    tags: list[str] = Field(default_factory=list)
    type: QuestionType = "single"
    stem: str = Field(min_length=1, description="The question (Markdown).")
    options: list[Option] = Field(min_length=2)
    general_feedback: str = Field("", description="Shown to everyone after submission.")
    points: float = Field(1.0, gt=0)
    title: str = Field("", description="Optional short name (GIFT ::title::).")
    stem_format: Literal["markdown", "html", "plain", "moodle"] = Field(
        "markdown", description="How the stem is written (GIFT [markdown], [html], [plain], [moodle])."
    )
    category: str = Field("", description="Optional category path (GIFT $CATEGORY).")

    def key(self) -> list[int]:
        """Indices of the right answer: the full-credit option, or every crediting option."""
        if self.type == "multiple":
            return [i for i, option in enumerate(self.options) if option.weight > 0]
        return [i for i, option in enumerate(self.options) if option.weight == 100]

    @model_validator(mode="after")
    def _check_weights(self) -> Question:
        # Only the first problem: a model validator raises one error. Bank files get them all from
        # the same function (see parse_bank_yaml), so the two never disagree.
        problems = key_problems(self.type, [o.weight for o in self.options], [o.text for o in self.options])
        if problems:
            raise ValueError(problems[0])
        return self


def key_problems(kind: str, weights: Sequence[float], texts: Sequence[object]) -> list[str]:
    """What is wrong with a question's right answers, given its type and its options' weights and texts."""
    problems = []
    positive = [weight for weight in weights if weight > 0]
    if kind in ("single", "truefalse"):
        # Exactly one full-credit option; others may give partial (or negative) credit, as in Moodle.
        if sum(1 for weight in weights if weight == 100) != 1:
            problems.append("a single-answer question needs exactly one correct option (weight 100)")
    elif not positive:
        problems.append("a multiple-answer question needs at least one correct option")
    elif abs(sum(positive) - 100) > 0.01:
        problems.append(
            f"the positive weights of a multiple-answer question must add up to 100, not {sum(positive):g}"
        )
    if kind == "truefalse" and list(texts) != ["True", "False"]:
        problems.append("a truefalse question has exactly the options 'True' and 'False', in that order")
    return problems


def duplicate_options(question_id: str, texts: Sequence[object]) -> list[tuple[int, str]]:
    """(index of the later option, message) for each option a learner could not tell from an earlier
    one. Checked when a bank file is read, not in the model, so stored versions always load."""
    first: dict[str, int] = {}
    problems = []
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            continue  # a field error already
        # Spacing does not tell two choices apart once the Markdown is rendered (case does: x.T, x.t).
        seen = first.setdefault(" ".join(text.split()), index)
        if seen != index:
            problems.append(
                (
                    index,
                    f"question {question_id!r}: options {seen + 1} and {index + 1} are both {texts[seen]!r}: "
                    "learners would see two identical choices",
                )
            )
    return problems


class Draw(BaseModel):
    """Draw ``count`` random questions matching a lesson and/or tags."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1)
    lesson: str = ""
    tags: list[str] = Field(default_factory=list, description="The question must carry all of these tags.")
    exclude: list[str] = Field(
        default_factory=list,
        description="Quiz ids whose questions this draw never picks (a test whose right answers are shown later).",
    )

    def matches(self, question: Question) -> bool:
        return (not self.lesson or question.lesson == self.lesson) and set(self.tags) <= set(question.tags)


class Review(BaseModel):
    """What a learner sees about a submitted attempt, and when (Moodle's review options)."""

    model_config = ConfigDict(extra="forbid")

    score: ReviewWhen = "immediately"
    feedback: ReviewWhen = "immediately"
    correct_answer: ReviewWhen = "immediately"
    option_feedback: Literal["chosen", "all"] = Field(
        "all",
        description="'all': once the right answer is shown, show every option's feedback (why each is right or "
        "wrong); 'chosen': only the feedback of the options the learner chose.",
    )


class QuizDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    title: str = Field(min_length=1)
    lesson: str = Field("", description="The lesson this quiz follows; empty for the module test.")
    questions: list[str] = Field(default_factory=list, description="Question ids always included, in order.")
    draws: list[Draw] = Field(default_factory=list)
    shuffle_questions: bool = False
    shuffle_options: bool = True
    pass_mark: float = Field(0, ge=0, le=100, description="Percent needed to pass; 0 means not graded pass/fail.")
    attempts_allowed: int = Field(0, ge=0, description="0 means unlimited.")
    grading: GradingMethod = "highest"
    review: Review = Field(default_factory=Review)

    @model_validator(mode="after")
    def _has_questions(self) -> QuizDefinition:
        if not self.questions and not self.draws:
            raise ValueError("a quiz needs 'questions', 'draws' or both")
        return self


class Bank(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bank: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64, description="Bank id.")
    title: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)
    quizzes: list[QuizDefinition] = Field(default_factory=list)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def quiz(self, quiz_id: str) -> QuizDefinition:
        for quiz in self.quizzes:
            if quiz.id == quiz_id:
                return quiz
        raise KeyError(quiz_id)

    def draw_pool(self, draw: Draw, taken: set[str] | frozenset[str] = frozenset()) -> list[Question]:
        """The questions ``draw`` may pick: matching, not ``taken`` already, not in an excluded quiz."""
        excluded = {q for quiz in self.quizzes if quiz.id in draw.exclude for q in quiz.questions}
        return [q for q in self.questions if draw.matches(q) and q.id not in taken and q.id not in excluded]

    def cross_check(self) -> list[Problem]:
        """Problems no single field shows: duplicate ids, quizzes naming missing questions,
        draws that cannot be filled, a quiz that would show a key another quiz keeps for later.
        Returned as (location path, message)."""
        problems = id_problems([q.id for q in self.questions], [(quiz.id, quiz.questions) for quiz in self.quizzes])
        for q_index, quiz in enumerate(self.quizzes):
            fixed = set(quiz.questions)
            for d_index, draw in enumerate(quiz.draws):
                pool = self.draw_pool(draw, fixed)
                if len(pool) < draw.count:
                    problems.append(
                        (
                            ("quizzes", q_index, "draws", d_index),
                            f"draw wants {draw.count} questions, only {len(pool)} match",
                        )
                    )
        return problems + self._keys_shown_early()

    def _keys_shown_early(self) -> list[Problem]:
        """A question of a quiz that shows its right answers late (the module test: after a pass)
        must not appear in a quiz that shows them sooner (practice: at once), fixed or drawn: a few
        rounds of the sooner quiz would hand out the later one's key."""
        problems: list[Problem] = []
        for q_index, quiz in enumerate(self.quizzes):
            shown = REVEAL_ORDER[quiz.review.correct_answer]
            for later in self.quizzes:
                if REVEAL_ORDER[later.review.correct_answer] <= shown:
                    continue
                kept = set(later.questions)
                when = later.review.correct_answer
                why = f"a question of quiz {later.id!r} whose right answers are shown later ({when})"
                for i, question_id in enumerate(quiz.questions):
                    if question_id in kept:
                        problems.append((("quizzes", q_index, "questions", i), f"{question_id} is {why}"))
                for d_index, draw in enumerate(quiz.draws):
                    early = [q.id for q in self.draw_pool(draw) if q.id in kept]
                    if early:
                        problems.append(
                            (
                                ("quizzes", q_index, "draws", d_index),
                                f"the draw can pick {', '.join(early[:3])}{', …' if len(early) > 3 else ''}, {why}: "
                                f"add exclude: [{later.id}] to the draw",
                            )
                        )
        return problems


# How soon a quiz shows its right answers; a question may not sit in two quizzes that differ here.
REVEAL_ORDER = {"immediately": 0, "after_pass": 1, "after_last_attempt": 2, "never": 3}


def id_problems(question_ids: Sequence[object], quizzes: Sequence[tuple[object, Sequence[object]]]) -> list[Problem]:
    """Duplicate question and quiz ids, and quizzes naming questions the bank lacks. Plain ids in,
    so the check runs on a bank's raw data too, when some of its fields do not validate."""
    problems: list[Problem] = []
    seen: set[str] = set()  # raw ids that are not text (a field error) are left out
    for index, question_id in enumerate(question_ids):
        if isinstance(question_id, str) and question_id in seen:
            problems.append((("questions", index, "id"), f"question id {question_id!r} is used twice"))
        if isinstance(question_id, str):
            seen.add(question_id)
    quiz_ids: set[str] = set()
    for q_index, (quiz_id, refs) in enumerate(quizzes):
        if isinstance(quiz_id, str) and quiz_id in quiz_ids:
            problems.append((("quizzes", q_index, "id"), f"quiz id {quiz_id!r} is used twice"))
        if isinstance(quiz_id, str):
            quiz_ids.add(quiz_id)
        for i, question_id in enumerate(refs):
            if isinstance(question_id, str) and question_id not in seen:
                problems.append((("quizzes", q_index, "questions", i), f"no question {question_id!r} in this bank"))
    return problems


# --- YAML with line numbers -----------------------------------------------------------------


def _node_at(node: yaml.Node | None, loc: tuple) -> yaml.Node | None:
    """The YAML node at ``loc`` (a path into the bank's data), or its nearest parent."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node = child
    return node


def _line_of(node: yaml.Node | None, loc: tuple) -> int:
    """1-based line of the YAML node at ``loc`` (a pydantic error path), or its nearest parent."""
    found = _node_at(node, loc)
    return found.start_mark.line + 1 if found is not None else 1


def _where(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "bank"


def _quote_hint(node: yaml.Node | None, loc: tuple, value: object) -> str:
    """Why a field meant as text is not: YAML reads a plain ``no`` as false and ``3`` as a number.
    Empty unless ``value`` is such a boolean or number, written unquoted at ``loc``."""
    if not isinstance(value, bool | int | float) or not isinstance(node, yaml.ScalarNode) or node.style:
        return ""
    read_as = str(value).lower() if isinstance(value, bool) else "a number"
    quoted = json.dumps(node.value, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted one
    key = f"{loc[-1]}: " if loc and isinstance(loc[-1], str) else ""
    return f"; YAML reads {node.value} as {read_as}: put the text in quotes: {key}{quoted}"


def _field_problems(exc: ValidationError, node: yaml.Node | None) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "string_type":
            message += _quote_hint(_node_at(node, loc), loc, error["input"])
        problems.append((loc, f"{_where(loc)}: {message}"))
    return problems


# --- checks on the raw data, so that field errors hide nothing else ---------------------------


def _raw_list(data: object, key: str) -> list:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def _raw_weight(option: object) -> float | None:
    """The weight ``Option`` would give this raw option; None when its fields leave it unclear."""
    if not isinstance(option, dict):
        return None
    if "correct" in option:
        correct = option["correct"]
        return (100.0 if correct else 0.0) if isinstance(correct, bool) and "weight" not in option else None
    weight = option.get("weight", 0.0)
    return float(weight) if isinstance(weight, int | float) and not isinstance(weight, bool) else None


def _question_problems(index: int, question: object) -> list[Problem]:
    """Identical options and key problems of one raw question. The model checks the key only once
    every field is valid; this finds it beside the field errors, in the model's words."""
    options = _raw_list(question, "options")
    if not isinstance(question, dict) or not options:
        return []  # no options is a field error, and there is no key to check
    texts = [option.get("text") if isinstance(option, dict) else None for option in options]
    question_id = question.get("id") if isinstance(question.get("id"), str) else f"#{index + 1}"
    problems: list[Problem] = [
        (("questions", index, "options", later), message) for later, message in duplicate_options(question_id, texts)
    ]
    kind = question.get("type", "single")
    weights = [weight for weight in map(_raw_weight, options) if weight is not None]
    if kind in get_args(QuestionType) and len(weights) == len(options):  # else a weight is a field error
        loc = ("questions", index)
        problems += [(loc, f"{_where(loc)}: {message}") for message in key_problems(kind, weights, texts)]
    return problems


def _raw_id_problems(data: object) -> list[Problem]:
    """``id_problems`` on raw data: duplicate ids and quizzes naming missing questions."""
    question_ids = [q.get("id") if isinstance(q, dict) else None for q in _raw_list(data, "questions")]
    quizzes = [
        (quiz.get("id"), _raw_list(quiz, "questions")) if isinstance(quiz, dict) else (None, [])
        for quiz in _raw_list(data, "quizzes")
    ]
    return id_problems(question_ids, quizzes)


def _load_yaml(text: str, source: str) -> tuple[yaml.Node | None, dict]:
    """The document's node tree (for line numbers) and its data, which must be a mapping."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise BankError([f"{source}:{line}: not valid YAML: {problem}"]) from None
    if not isinstance(data, dict):
        raise BankError([f"{source}:1: a bank is a mapping with 'bank', 'title', 'questions' and 'quizzes'"])
    return node, data


def _report(problems: list[Problem], node: yaml.Node | None, source: str) -> list[str]:
    """``source:line: message`` per problem, in file order, each once: a key problem of a question
    whose fields are valid is found both by the model and by the raw check."""
    located = sorted(((_line_of(node, loc), message) for loc, message in problems), key=lambda item: item[0])
    return list(dict.fromkeys(f"{source}:{line}: {message}" for line, message in located))


def parse_bank_yaml(text: str, source: str = "<bank>") -> Bank:
    """Validate a bank; every problem found is in ``BankError.problems`` as ``source:line: message``."""
    node, data = _load_yaml(text, source)
    bank: Bank | None = None
    problems: list[Problem] = []
    try:
        bank = Bank.model_validate(data)
    except ValidationError as exc:
        problems += _field_problems(exc, node)
    for index, question in enumerate(_raw_list(data, "questions")):
        problems += _question_problems(index, question)
    # Draw and review checks need valid quizzes; the id checks run on the raw data when there are none.
    problems += bank.cross_check() if bank is not None else _raw_id_problems(data)
    if problems or bank is None:
        raise BankError(_report(problems, node, source))
    return bank


def load_bank(path: Path) -> Bank:
    try:
        text = decode_text(path.read_bytes())
    except NotTextError as exc:
        raise BankError([f"{path}:{exc.line or 1}: {exc}"]) from None
    return parse_bank_yaml(text, str(path))


def dump_bank_yaml(bank: Bank) -> str:
    """The bank as YAML in the same shape ``parse_bank_yaml`` reads (defaults left out)."""
    data = bank.model_dump(mode="json", exclude_defaults=True)
    order = ["id", "lesson", "tags", "type", "title", "category", "points", "stem", "stem_format", "options"]
    questions = []
    for question, source in zip(data["questions"], bank.questions, strict=True):
        question["type"] = source.type  # always written, so the file documents itself
        for option, option_source in zip(question["options"], source.options, strict=True):
            option.pop("weight", None)
            if source.type != "multiple" and option_source.weight == 100:
                option["correct"] = True
            elif option_source.weight:
                option["weight"] = option_source.weight
        questions.append({key: question[key] for key in [*order, *question] if key in question})
    data["questions"] = questions
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
