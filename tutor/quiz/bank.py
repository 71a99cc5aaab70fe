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

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

QuestionType = Literal["single", "multiple", "truefalse"]
GradingMethod = Literal["highest", "last", "first", "average"]
ReviewWhen = Literal["immediately", "after_pass", "after_last_attempt", "never"]


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
        positive = [o.weight for o in self.options if o.weight > 0]
        if self.type in ("single", "truefalse"):
            # Exactly one full-credit option; others may give partial (or negative) credit, as in Moodle.
            if sum(1 for o in self.options if o.weight == 100) != 1:
                raise ValueError("a single-answer question needs exactly one correct option (weight 100)")
        else:
            if not positive:
                raise ValueError("a multiple-answer question needs at least one correct option")
            if abs(sum(positive) - 100) > 0.01:
                raise ValueError(
                    f"the positive weights of a multiple-answer question must add up to 100, not {sum(positive):g}"
                )
        if self.type == "truefalse" and [o.text for o in self.options] != ["True", "False"]:
            raise ValueError("a truefalse question has exactly the options 'True' and 'False', in that order")
        return self


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

    def cross_check(self) -> list[tuple[tuple, str]]:
        """Problems no single field shows: duplicate ids, quizzes naming missing questions,
        draws that cannot be filled, a quiz that would show a key another quiz keeps for later.
        Returned as (location path, message)."""
        problems: list[tuple[tuple, str]] = []
        seen: dict[str, int] = {}
        for index, question in enumerate(self.questions):
            if question.id in seen:
                problems.append((("questions", index, "id"), f"question id {question.id!r} is used twice"))
            seen[question.id] = index
        quiz_ids: set[str] = set()
        for q_index, quiz in enumerate(self.quizzes):
            if quiz.id in quiz_ids:
                problems.append((("quizzes", q_index, "id"), f"quiz id {quiz.id!r} is used twice"))
            quiz_ids.add(quiz.id)
            for i, question_id in enumerate(quiz.questions):
                if question_id not in seen:
                    problems.append(
                        (("quizzes", q_index, "questions", i), f"no question {question_id!r} in this bank")
                    )
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

    def _keys_shown_early(self) -> list[tuple[tuple, str]]:
        """A question of a quiz that shows its right answers late (the module test: after a pass)
        must not appear in a quiz that shows them sooner (practice: at once), fixed or drawn: a few
        rounds of the sooner quiz would hand out the later one's key."""
        problems: list[tuple[tuple, str]] = []
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


# --- YAML with line numbers -----------------------------------------------------------------


def _line_of(node: yaml.Node | None, loc: tuple) -> int:
    """1-based line of the YAML node at ``loc`` (a pydantic error path), or its nearest parent."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def parse_bank_yaml(text: str, source: str = "<bank>") -> Bank:
    """Validate a bank; every problem found is in ``BankError.problems`` as ``source:line: message``."""
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
    try:
        bank = Bank.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
            where = ".".join(str(part) for part in loc) or "bank"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{source}:{_line_of(node, loc)}: {where}: {message}")
        raise BankError(problems) from None
    cross = bank.cross_check()
    if cross:
        raise BankError([f"{source}:{_line_of(node, loc)}: {message}" for loc, message in cross])
    return bank


def load_bank(path: Path) -> Bank:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BankError([f"{path}:1: not UTF-8 text"]) from None
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
