"""The answer reader: a question on the course's topic that the course does not answer is said to
be so, with the nearest course sentence; a course question that names a tool the course never
mentions in passing is still answered. The course index and the quote scorer are real."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import advisor_settings
from tutor.advisors.answerable import AnswerReader, asked_part, features, load_answer_reader, unknown_names
from tutor.core import Core
from tutor.llm.fake import FakeChatModel

COURSE_WORDS = {"lora", "rank", "learning", "rate", "adapter", "examples", "many", "need"}


def _known(word: str) -> bool:
    return word.lower() in COURSE_WORDS | {"we", "use", "how", "do", "i", "the", "my", "run"}


def test_only_the_sentences_that_ask_are_measured() -> None:
    asked = "How many training examples do I need for a new output format?"
    assert asked_part(f"We run Zendesk. {asked}") == asked
    assert asked_part("tell me about lora rank") == "tell me about lora rank"
    reworded = "Many of our pairs are the same question reworded. How do I find those?"
    assert asked_part(reworded) == reworded  # the asking sentence alone says too little


def test_contractions_numbers_and_codes_are_no_unknown_names() -> None:
    assert unknown_names("dont use 12gb or q3 on the 4090, try dreambooth", _known) == ["dreambooth"]


def test_a_question_whose_asked_words_the_passages_never_say_measures_low() -> None:
    said = "LoRA trains a small adapter; a learning rate of 2e-4 suits it. The rank sets its size."
    weight = {"dreambooth": 3.0, "sdxl": 3.0, "lora": 1.0, "rank": 1.5}.get
    on = features("what lora rank do i need?", 0.9, 0.6, said, _known, lambda w: weight(w, 1.0))
    off = features("how do i run dreambooth on sdxl?", 0.5, 0.4, said, _known, lambda w: weight(w, 1.0))
    assert on[2] == 1.0 and on[3] == 0  # every asked word said, no unknown name
    assert off[2] < 0.3 and off[3] == 2  # "dreambooth" and "sdxl": asked about, never said


def test_the_shipped_reader_loads_and_weighs_five_measures() -> None:
    reader = load_answer_reader()
    assert reader is not None and len(reader.weights) == 5 and 0 < reader.threshold < 1
    with pytest.raises(ValueError, match="expects 5 measures"):
        reader.probability([1.0])
    assert AnswerReader((1.0,), 0.0, 0.5).answers([1.0]) and not AnswerReader((1.0,), 0.0, 0.5).answers([-1.0])


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory, shared_data_dir: Path) -> Iterator[Core]:
    core = Core.start(advisor_settings(tmp_path_factory.mktemp("answerable"), shared_data_dir, llm_backend="fake"))
    yield core
    core.store.close()


def _answer(core: Core, text: str):
    model = FakeChatModel()
    core.chat_model = lambda: model
    return list(core.ask("hyperparams", text, []))[-1].answer, model


@pytest.mark.parametrize(
    "text",
    [
        "how do i set up slurm job arrays to run my lora sweeps on the university cluster?",
        "how do i log my lora run to mlflow instead of the console?",
    ],
)
def test_a_question_on_the_topic_that_the_course_does_not_answer_says_so(core: Core, text: str) -> None:
    answer, model = _answer(core, text)
    assert answer.outcome == "off_course" and not model.calls, answer.answer
    assert answer.answer.startswith("The course does not answer that: it never mentions **")
    assert "> " in answer.answer and answer.citations  # the nearest course sentence, cited


@pytest.mark.parametrize(
    "text",
    [
        "our tickets live in freshdesk. how many examples do i need to teach a model a new output format?",
        "what learning rate should i use for lora on a 7b model?",
        "how much gpu memory does qlora need for a 7b model?",
    ],
)
def test_a_course_question_is_answered_even_with_a_name_the_course_lacks(core: Core, text: str) -> None:
    answer, model = _answer(core, text)
    assert answer.outcome == "answer" and model.calls, answer.answer
