"""A use case that also asks a course question: the question is found, searched and answered from
the course under the recommendation, whether or not the model's explanation passes the check."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from labs.advisor_tab import api_result
from tests.conftest import advisor_settings
from tutor.advisors import ADVISORS
from tutor.advisors.extractive import plain_units
from tutor.advisors.grounding import contradictions
from tutor.advisors.question_within import question_within
from tutor.advisors.turn import ON_YOUR_QUESTION, final_answer
from tutor.core import Core
from tutor.llm.fake import FakeChatModel


@pytest.mark.parametrize(
    ("text", "question"),
    [
        # The clause that asks, after the case told in the same sentence.
        (
            "our traffic is spiky (quiet at night, busy at lunch). where should we host the model",
            "where should we host the model",
        ),
        # The whole sentence that asks: the family is asked for the languages named before it.
        (
            "We want strong German and French support, which open model family has that?",
            "We want strong German and French support, which open model family has that?",
        ),
        # A question that points back ("them", "that") keeps what it points at; "2,000" is one number.
        (
            "I had GPT-4 write 2,000 examples for our bot, how many of them should I check by hand?",
            "I had GPT-4 write 2,000 examples for our bot, how many of them should I check by hand?",
        ),
        # Too few words of its own: the sentence before says what it is about.
        (
            "Legal is worried about sending customer data to OpenAI. What's the alternative?",
            "Legal is worried about sending customer data to OpenAI. What's the alternative?",
        ),
    ],
)
def test_the_course_question_inside_a_use_case_is_found(text: str, question: str) -> None:
    assert question_within(text) == question


@pytest.mark.parametrize(
    "text",
    [
        # Requests for the advisor's verdict: the recommendation is their answer.
        "We have 8,000 contracts and the data cannot leave our servers. Should we fine-tune?",
        "CTO here. We extract attributes from 1.5M listings a day. What do you recommend?",
        "i only have 60 examples total. fine tune or do something else?",
        'Here\'s my first example: {"prompt": "2+2", "completion": "4"}. What\'s wrong with it?',
        # No question at all.
        "We answer 3,000 Dutch support tickets a day and have 12k answered tickets.",
    ],
)
def test_a_request_for_the_verdict_or_a_plain_case_asks_no_course_question(text: str) -> None:
    assert question_within(text) is None


def test_the_labs_try_prompts_ask_no_course_question_beside_their_case() -> None:
    """The Try prompts ask for the lab's verdict ("Is fine-tuning worth it?", "What's wrong?"): their
    quotes stay those of the case."""
    assert [question_within(m.LAB.try_prompt) for m in ADVISORS.values()] == [None] * len(ADVISORS)


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory, shared_data_dir: Path) -> Iterator[Core]:
    tmp = tmp_path_factory.mktemp("within")
    core = Core.start(advisor_settings(tmp, shared_data_dir, llm_backend="fake"))
    yield core
    core.store.close()


SERVING = (
    "We need to serve our fine-tuned 7B model to a few thousand users at the same time, which server is the "
    "standard for that?"
)


def test_the_quotes_under_a_use_case_answer_the_question_it_asks(core: Core) -> None:
    advice = core.advise_once("eval", SERVING)
    assert advice.question and advice.recommendation.citations  # the rules still design the evaluation
    core.chat_model = lambda: FakeChatModel("Use 17 GPUs and a learning rate of 9.")  # fails the check
    final = final_answer(core.answer(advice, drafts=False))
    assert final.source == "extract"
    assert "vLLM" in final.explanation  # before: quotes on evaluating, near the case, none on serving
    assert contradictions(final.explanation, advice.recommendation.claims()) == []
    # The API's passages hold every passage a quote comes from.
    passages = {(p["page_id"], p["anchor"]) for p in api_result(advice, final)["passages"]}
    quoted = set(re.findall(r"\?open=([\w-]+)#([\w-]+)", final.explanation))
    assert quoted and quoted <= passages


def test_a_checked_explanation_still_comes_with_the_answer_to_the_question(core: Core) -> None:
    advice = core.advise_once("eval", SERVING)
    sentence = plain_units(advice.passages[0].text)[0]  # a course sentence: it passes the check
    core.chat_model = lambda: FakeChatModel(sentence)
    final = final_answer(core.answer(advice, drafts=False))
    assert final.source == "model" and final.explanation.startswith(sentence + ON_YOUR_QUESTION)
    assert "vLLM" in final.explanation.split(ON_YOUR_QUESTION)[1]


def test_a_use_case_without_a_question_is_quoted_as_before(core: Core) -> None:
    advice = core.advise_once("strategy", "We answer 3,000 Dutch support tickets a day and have 12k answered tickets.")
    assert advice.question is None and advice.question_passages == []
