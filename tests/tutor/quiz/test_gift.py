"""GIFT import/export: Moodle's documented examples, escapes, feedback, unsupported types,
malformed input, and a lossless YAML -> GIFT -> YAML round trip."""

from __future__ import annotations

from tutor.quiz.bank import Bank, Option, Question, dump_bank_yaml, parse_bank_yaml
from tutor.quiz.gift import parse_gift, write_gift

# Examples in the shape Moodle's GIFT documentation gives them.
MOODLE_EXAMPLES = r"""
// true-false
::Q1:: 1+1=2 {T}

// multiple choice with specified feedback for right and wrong answers
::Q2:: What's between orange and green in the spectrum?
{ =yellow # right; good! ~red # wrong, it's yellow ~blue # wrong, it's yellow }

// fill-in-the-blank
::Q3:: Two plus {=two =2} equals four.

// matching
::Q4:: Which animal eats which food? { =cat -> cat food =dog -> dog food }

// math range question
::Q5:: What is a number from 1 to 5? {#3:2}

// essay
::Q8:: How are you? {}

Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}

Grant is {~buried =entombed ~living} in Grant's tomb.

What two people are entombed in Grant's tomb? {
   ~%-100%No one
   ~%50%Grant
   ~%50%Grant's wife
   ~%-100%Grant's father
}

::TrueFalse with feedback::The sun rises in the West.{FALSE#No, it rises in the East.#Right, the East.}

::GIFT Control Characters::Which of the following is NOT a control character for the GIFT import format? {
   ~ \~     # \~ is a control character.
   ~ \=     # \= is a control character.
   ~ \#     # \# is a control character.
   ~ \{     # \{ is a control character.
   ~ \}     # \} is a control character.
   = \\     # Correct! \\ (backslash) is not a control character. BUT, it is used to escape the control characters.
}

$CATEGORY: tom/dick/harry

::Colon\: escaped::[markdown]Which *word* means 1\:1? {=one-to-one#Yes ~many#No ####Ratios are written with a colon.}
"""


NO_RIGHT = "no option is marked right (=); for several right answers give them weights, as in ~%50%"


def parsed():
    return parse_gift(MOODLE_EXAMPLES, "moodle.gift")


def by_title(title: str) -> Question:
    return next(q for q in parsed().questions if q.title == title)


def test_supported_types_import_and_unsupported_are_skipped_with_lines() -> None:
    result = parsed()
    assert result.errors == []
    assert len(result.questions) == 8
    assert [line.split(": ", 1)[1] for line in result.skipped] == [
        "shortanswer questions are not supported: skipped",
        "matching questions are not supported: skipped",
        "numerical questions are not supported: skipped",
        "essay questions are not supported: skipped",
    ]
    assert result.skipped[0].startswith("moodle.gift:10:")  # the line where Q3 starts


def test_true_false_and_feedback_sides() -> None:
    q1 = by_title("Q1")
    assert q1.type == "truefalse" and q1.stem == "1+1=2" and q1.key() == [0]
    tf = by_title("TrueFalse with feedback")
    assert tf.key() == [1]  # FALSE is right
    # Moodle: the first #feedback is for the wrong answer, the second for the right one.
    assert tf.options[0].feedback == "No, it rises in the East."  # choosing True (wrong)
    assert tf.options[1].feedback == "Right, the East."


def test_multiple_choice_with_per_answer_feedback() -> None:
    q2 = by_title("Q2")
    assert q2.type == "single"
    assert [(o.text, o.weight, o.feedback) for o in q2.options] == [
        ("yellow", 100, "right; good!"),
        ("red", 0, "wrong, it's yellow"),
        ("blue", 0, "wrong, it's yellow"),
    ]


def test_missing_word_and_multiple_answers_with_partial_credit() -> None:
    questions = parsed().questions
    missing = next(q for q in questions if q.stem.startswith("Grant is"))
    assert missing.stem == "Grant is _____ in Grant's tomb." and missing.options[missing.key()[0]].text == "entombed"
    multi = next(q for q in questions if q.stem.startswith("What two people"))
    assert multi.type == "multiple"
    assert [o.weight for o in multi.options] == [-100, 50, 50, -100]


def test_escapes_general_feedback_category_and_format() -> None:
    control = by_title("GIFT Control Characters")
    assert [o.text for o in control.options] == ["~", "=", "#", "{", "}", "\\"]
    assert control.options[5].feedback.startswith("Correct! \\ (backslash)")
    assert control.category == ""
    colon = by_title("Colon: escaped")
    assert colon.category == "tom/dick/harry"
    assert colon.stem == "Which *word* means 1:1?" and colon.stem_format == "markdown"
    assert colon.general_feedback == "Ratios are written with a colon."


def test_malformed_gift_gives_line_numbered_errors() -> None:
    text = "::ok::Fine? {=yes ~no}\n\n\n::broken::Never closed {=a ~b\n\n::one::Only one option {=a}\n"
    result = parse_gift(text, "bad.gift")
    assert result.errors[0] == "bad.gift:4: '{' is never closed by '}' (escape literal braces as \\{ \\})"
    assert len(result.errors) == 1 and len(result.skipped) == 1  # {=a} alone is a short answer
    both_wrong = parse_gift("Pick? {~a ~b}\n", "w.gift")
    assert both_wrong.errors == [f"w.gift:1: {NO_RIGHT}"]


def sample_bank() -> Bank:
    return Bank(
        bank="round-trip",
        title="Round trip: {braces} #hash =equals ~tilde: colon",
        questions=[
            Question(
                id="q-single",
                lesson="hyperparameters-lora",
                tags=["lora", "rank"],
                title="Rank::title",
                category="Module3/Lesson3",
                stem="What does `r` control?\nTwo lines, {braces} and a = sign.",
                options=[
                    Option(text="The inner dimension of A and B", weight=100, feedback="Yes: A is d×r, B is r×d."),
                    Option(text="The learning rate ~ schedule", weight=0, feedback="No #1"),
                    Option(text="Half right", weight=50, feedback=""),
                ],
                general_feedback="Higher r = more capacity.",
                points=2,
            ),
            Question(
                id="q-multi",
                type="multiple",
                category="Module3/Lesson3",
                stem="Which TWO reduce GPU memory?",
                stem_format="html",
                options=[
                    Option(text="4-bit quantization", weight=50, feedback="Yes."),
                    Option(text="Gradient checkpointing", weight=50, feedback="Yes."),
                    Option(text="A larger batch", weight=-50, feedback="No."),
                ],
            ),
            Question(
                id="q-tf",
                type="truefalse",
                stem="LoRA modifies the pretrained weights.",
                options=[
                    Option(text="True", weight=0, feedback="Wrong: they stay frozen."),
                    Option(text="False", weight=100, feedback="Right."),
                ],
            ),
        ],
    )


def test_yaml_to_gift_to_yaml_is_lossless() -> None:
    original = sample_bank()
    gift = write_gift(original)
    result = parse_gift(gift, "export.gift")
    assert result.errors == [] and result.skipped == []
    again = Bank(bank=original.bank, title=original.title, questions=result.questions)
    assert again.model_dump() == original.model_dump()
    # And through YAML text on both sides.
    assert parse_bank_yaml(dump_bank_yaml(again)).model_dump() == original.model_dump()


def test_title_may_end_with_an_escaped_colon() -> None:
    result = parse_gift("::Ratio 1\\:::What is 1:1 called? {=one-to-one ~many}\n", "t.gift")
    assert result.errors == [] and result.questions[0].title == "Ratio 1:"
    assert result.questions[0].stem == "What is 1:1 called?"


def test_questions_on_consecutive_lines_are_split_at_each_title() -> None:
    """A newcomer's three questions without blank lines between them became one question whose
    stem held the others' text. Each ::title:: at the start of a line now begins a question."""
    text = "::G1:: Which is right? {=A#yes ~B#no}\n::G1:: Duplicate title {=yes ~no}\n::G3:: no right {~A ~B}\n"
    assert parse_gift(text, "c.gift").errors == [
        "c.gift:2: question id 'G1' is used twice (first at line 1): question ids come from titles, "
        "so give each question its own title or an // [id:...] comment",
        f"c.gift:3: {NO_RIGHT}",
    ]
    fixed = parse_gift(text.replace("::G1:: Dup", "::G2:: Dup").replace("{~A ~B}", "{~A =B}"), "c.gift")
    assert fixed.errors == []
    assert [(q.id, q.stem, [o.text for o in q.options]) for q in fixed.questions] == [
        ("G1", "Which is right?", ["A", "B"]),
        ("G2", "Duplicate title", ["yes", "no"]),
        ("G3", "no right", ["A", "B"]),
    ]


def test_a_meta_comment_between_consecutive_questions_belongs_to_the_next_one() -> None:
    text = (
        "$CATEGORY: a/b\n// [id:one]\n::A:: x {=a ~b}\n// [id:two] [tag:t]\n::B:: y {=c ~d}\n"
        "// [lesson:l]\n\nZ {=e ~f}\n"
    )
    result = parse_gift(text, "m.gift")
    assert result.errors == []
    assert [(q.id, q.category, q.tags, q.lesson) for q in result.questions] == [
        ("one", "a/b", [], ""),
        ("two", "a/b", ["t"], "l"),  # a comment right below a question is still its own
        ("q4", "a/b", [], ""),
    ]


def test_a_second_answer_block_without_a_title_says_a_blank_line_is_missing() -> None:
    result = parse_gift("First? {=a ~b}\n// a comment\nSecond? {=c ~d}\n", "s.gift")
    assert result.errors == ["s.gift:3: a second {...} answer block: put a blank line between two questions"]


def test_no_right_answer_is_named_as_such_at_its_line() -> None:
    """{~A ~B ~C} is a single-choice question whose author forgot the '='; Moodle would read it as a
    multiple-answer question, but 'needs at least one correct option' did not say what to fix."""
    result = parse_gift("::ok:: Fine {=a ~b}\n\n::Q1:: Which is right? {~A ~B ~C}\n", "q.gift")
    assert result.errors == [f"q.gift:3: {NO_RIGHT}"]
    weighted = parse_gift("::M:: Which two? {~%50%A ~%50%B ~C}\n", "q.gift")
    assert weighted.errors == [] and weighted.questions[0].type == "multiple"


def test_two_identical_options_are_refused() -> None:
    text = "::D:: Pick one {=A ~B ~A}\n\n::E:: Twice {=Two words ~ Two  words #fb}\n\n::F:: Case {=x.T ~x.t}\n"
    result = parse_gift(text, "d.gift")
    assert result.errors == [
        "d.gift:1: question 'D': options 1 and 3 are both 'A': learners would see two identical choices",
        "d.gift:3: question 'E': options 1 and 2 are both 'Two words': learners would see two identical choices",
    ]  # x.T and x.t differ on screen
