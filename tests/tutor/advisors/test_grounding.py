"""The checks on a model's answer before a learner sees it: complete sentences, numbers, names and
words from the context, no contradiction of the recommendation."""

from __future__ import annotations

import re

import pytest

from tutor.advisors.grounding import (
    Claims,
    DraftWatch,
    NumericClaim,
    check_answer,
    complete_sentences,
    contradictions,
    ends_complete,
    sentences,
)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("LoRA adds small matrices. QLoRA also quantizes the", "LoRA adds small matrices."),
        ("Is it worth it? Yes!  ", "Is it worth it? Yes!"),
        ('He said "use rank 16." Then the', 'He said "use rank 16."'),
        ("Use **QLoRA.** The base stays", "Use **QLoRA.**"),
        ("A learning rate of 2e-4 works", ""),
        ("Version 2.5 is out", ""),  # a decimal point is not a sentence end
        ("", ""),
        ("Here is why:\n\n1. It helps.\n2.", "Here is why:\n\n1. It helps."),  # a list number is no sentence end
        ("So here is how it works:\n\n1.", ""),
    ],
)
def test_complete_sentences(text: str, kept: str) -> None:
    assert complete_sentences(text) == kept


def test_ends_complete() -> None:
    assert ends_complete("It fits in 24 GB.")
    assert not ends_complete("It fits in 24")
    assert not ends_complete("   ")


# --- the grounding check ---------------------------------------------------------------------

CONTEXT = [
    "Alpaca fine-tuned a 7B model on roughly 52,000 instruction examples for less than $600. "
    "QLoRA loads the base model in 4-bit NormalFloat (NF4) and trains LoRA adapters; a 7B model then "
    "needs about 10 GB instead of 60–80 GB. Use a learning rate of 1e-4 to 2e-4 for LoRA."
]


@pytest.mark.parametrize(
    "answer",
    [
        "Alpaca used about 52K instruction examples for under $600.",  # 52K = 52,000
        "QLoRA stores the base model in NF4, so a 7B model needs about 10 GB.",
        "For LoRA the learning rate is 1e-4 to 2e-4.",
    ],
)
def test_answers_drawn_from_the_context_are_grounded(answer: str) -> None:
    assert check_answer(answer, CONTEXT).problems == []


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("Alpaca needed about $900.", "numbers not in the course passages: 900"),
        ("Use a learning rate of 1e-7 for LoRA.", "numbers not in the course passages: 1e-7"),
        ("QLLOAR stands for quantized LoRA.", "names or terms not in the course passages: QLLOAR"),
        ("The Harvard Business Review discussed Alpaca.", "names or terms not in the course passages: Harvard"),
        (
            "A recent article discusses the potential impact on business operations.",
            "words the course passages do not use",
        ),
        ("QLoRA trains LoRA adapters on a 4-bit", "the last sentence is not complete"),
        # Every word and number is in the passages, but stitched from different sentences into a
        # claim the course never makes.
        ("LoRA trains 4-bit NormalFloat adapters on 52,000 instruction examples.", "no single passage says"),
        ("Alpaca loads the base model in NF4 for $600.", "no single passage says"),
        ("A 7B model needs a learning rate of 10 GB.", "no single passage says"),
    ],
)
def test_answers_with_claims_outside_the_context_fail(answer: str, problem: str) -> None:
    problems = check_answer(answer, CONTEXT).problems
    assert any(p.startswith(problem) for p in problems), problems


@pytest.mark.parametrize(
    "answer",
    [
        "True.",
        "The answer is: no.",
        "Yes, it does.",
        "No, that is not right.",
        # a figure the passages give, said of nothing: it was shown for "how much memory does QLoRA
        # need for a 7B model?", where 350 GB is full fine-tuning's
        "The answer is 10 GB.",
        "About 52K.",
    ],
)
def test_a_bare_verdict_says_too_little_to_check(answer: str) -> None:
    """A bare "True." passed once as checked: it has no number, name or word the passages lack, and
    nothing in it either that the passages could support. A verdict is shown with the course's words
    that back it, or not at all."""
    problems = check_answer(answer, [*CONTEXT, "is it true that the adapter does not carry over? yes or no"]).problems
    assert any(p.startswith("says too little to check") for p in problems), problems


@pytest.mark.parametrize(
    "answer", ["Use NF4.", "Yes, QLoRA does.", "Alpaca fine-tuned it for less than $600.", "QLoRA needs about 10 GB."]
)
def test_a_short_answer_that_names_what_it_is_about_is_checked_as_usual(answer: str) -> None:
    assert check_answer(answer, CONTEXT).problems == []


def test_a_draft_that_repeats_the_prompts_layout_is_not_an_answer() -> None:
    # Once shown as written: every word was in the prompt, the section tag and "Question:" too.
    layout = (
        "[PEFT › QLoRA]\nQLoRA loads the base model in 4-bit NormalFloat (NF4).\n\n"
        "Question: what does QLoRA load in NF4?"
    )
    context = [*CONTEXT, layout]
    problems = check_answer(layout, context).problems
    assert any(p.startswith("repeats the prompt's layout") for p in problems), problems
    assert check_answer("QLoRA loads the base model in 4-bit NormalFloat (NF4).", context).grounded


def test_a_sentence_said_in_other_words_or_order_by_one_passage_stands() -> None:
    assert check_answer("A 7B model needs about 10 GB with QLoRA, which loads it in NF4.", CONTEXT).grounded
    assert not check_answer("Adapters train NF4 and QLoRA loads LoRA into 7B.", CONTEXT).grounded


def test_contradicting_the_recommendation_fails_and_agreeing_passes() -> None:
    context = [*CONTEXT, "We fine-tune with LoRA or full fine-tuning. Prompting and retrieval come first."]
    claims = Claims(methods=frozenset({"lora"}), fine_tune=True)
    assert check_answer("You should use LoRA.", context, claims=claims).grounded
    assert check_answer("Avoid full fine-tuning; use LoRA instead.", context, claims=claims).grounded
    bad = check_answer("You should use full fine-tuning.", context, claims=claims)
    assert any("contradicts the recommendation: recommends full" in p for p in bad.problems), bad.problems
    rank = Claims(numbers=(NumericClaim(re.compile(r"\brank\b"), frozenset({16.0}), "rank"),))
    assert contradictions("Use a rank of 16.", rank) == []
    assert contradictions("Use a rank of 8 here.", rank) == ["gives another rank than the recommendation"]
    # The recommendation's own words, repeated to the learner, do not read against it.
    prompting = Claims(fine_tune=False)
    said = "The advisor's recommendation reads: nothing in the description needs fine-tuning yet."
    assert contradictions(said, prompting) == []
    assert contradictions("The advisor recommends fine-tuning here.", prompting) != []


# A learner with 60 examples, told to prompt: the strategy lab's claims (500-5,000 is the course's range).
SIXTY = Claims(
    methods=frozenset({"prompting"}),
    fine_tune=False,
    numbers=(
        NumericClaim(
            re.compile(r"\b(?:examples?|pairs|rows|samples)\b"), frozenset({60.0, 500.0, 5000.0}), "amount of data"
        ),
    ),
)


@pytest.mark.parametrize(
    "sentence",
    [
        # the recommendation itself, repeated: "recommendation" is a noun, not advice to fine-tune
        "For your case, the advisor's recommendation reads: Approach: prompting; Method: none; Reason: With 60 "
        "examples, few-shot prompting beats fine-tuning (below about 100 it is rarely worth it).",
        # a bound that the learner's 60 examples meet is not another amount
        "Below about 100 examples, fine-tuning is rarely worth it — few-shot prompting is the better tool.",
        "30+ examples in the prompt: the context window fills up and every call gets expensive.",
        # a few-shot prompt's examples are no training data (advisor_heldout8: two answers flagged for it)
        "Few-shot, 3 examples in the prompt: getting closer.",
        "A 5-shot prompt beat the zero-shot one.",
        "Put 8 examples into the prompt first.",
        "Try 8 in-context examples first.",
        # a lesson's number is a reference, not an amount
        "I have (or can make) at least a few hundred high-quality examples — see Lesson 2.",
        # a number of another unit beside the word "samples": once a contradiction
        "Periodic revalidation: Every 30–90 days, rerun your evaluation suite on recent production samples.",
        "Read about 10% of the generated samples yourself.",
    ],
)
def test_course_sentences_that_agree_with_the_recommendation_are_not_contradictions(sentence: str) -> None:
    assert contradictions(sentence, SIXTY) == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Collect 2,000 examples first.",  # a plain amount the recommendation does not give
        "You should fine-tune with at least 8,000 examples.",  # a floor none of its amounts reaches
        "Fewer than 50 examples will do.",  # a ceiling below all of them
        "Gather 2,000 samples over the next 3 weeks.",  # the amount is still an amount beside a time
        # (the review) training data in a prompt's format is still training data
        "Fine-tune on 2,000 examples in the prompt-completion format.",
        "Put 2,000 examples in the prompt template and run LoRA for 3 epochs.",
        "Collect 2,000 examples in the prompt/response format before training.",
    ],
)
def test_amounts_and_bounds_the_recommendation_does_not_give_are_contradictions(sentence: str) -> None:
    assert "gives another amount of data than the recommendation" in contradictions(sentence, SIXTY)


def test_a_draft_is_stopped_at_its_first_unsupported_sentence() -> None:
    watch = DraftWatch(lambda done: check_answer(done, CONTEXT, finished=False))
    assert not watch.failed("Alpaca used about 52K instruction examples")  # no sentence finished yet
    assert not watch.failed("Alpaca used about 52K instruction examples. ")
    assert watch.failed("Alpaca used about 52K instruction examples. It needed $900. More")
    assert watch.problems == ["numbers not in the course passages: 900"]


def test_abbreviations_do_not_end_sentences() -> None:
    text = "Add your own safety data (e.g. refusal examples). LoRA came from Hu et al. at Microsoft."
    first, second = "Add your own safety data (e.g. refusal examples).", "LoRA came from Hu et al. at Microsoft."
    assert sentences(text) == [first, second]


TABLE = [
    "| Setting | Typical value | What to know |\n|---|---|---|\n"
    "| **LoRA rank (r)** | **8, 16 or 32** | **r=8** for style or format tasks, **r=16** for domain adaptation. |\n"
    "| **LoRA alpha** | usually **rank × 2** (alpha = 2r) | Alpha scales the LoRA update: **alpha=16 with r=8**. |"
]


def test_a_table_rows_value_is_said_of_that_row_not_of_another() -> None:
    # The fine-tuned advisor once wrote the rank row's label with the alpha row's value: every word
    # is in the alpha row, but the claim (a rank of "rank × 2") is one the course never makes.
    assert not check_answer("LoRA rank (r) — Typical value: usually rank × 2 (alpha = 2r).", TABLE).grounded
    assert check_answer("LoRA alpha — Typical value: usually rank × 2 (alpha = 2r).", TABLE).grounded
    assert check_answer("LoRA rank (r) — Typical value: 8, 16 or 32.", TABLE).grounded
    assert check_answer("LoRA alpha is usually rank × 2 (alpha = 2r).", TABLE).grounded
