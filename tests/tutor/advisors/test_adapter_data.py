"""The advisor adapter's training data, built from the course by the app's own code: prompts
exactly as the labs send them, answers that pass the grounding check against their own prompt,
no quiz bank, near-duplicates dropped, and whole sections kept in one split."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import advisor_settings
from trainer.config import DataSection
from trainer.data import load_examples, split_examples
from tutor.advisors import adapter_data
from tutor.advisors.adapter_data import AdvisorExample, asked_text, deduplicate, explanation
from tutor.advisors.base import AdvisorRequest
from tutor.advisors.grounding import check_answer, content_words
from tutor.advisors.quiz_guard import QuizGuard
from tutor.core import Core
from tutor.quiz.bank import load_bank
from tutor.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def core(tmp_path_factory: pytest.TempPathFactory, shared_data_dir: Path) -> Iterator[Core]:
    core = Core.start(advisor_settings(tmp_path_factory.mktemp("adapter-data"), shared_data_dir))
    yield core
    core.store.close()


@pytest.fixture(scope="module")
def examples(core: Core) -> list[AdvisorExample]:
    built, counts = adapter_data.build(core, seed=3, limit_units=40, per_lab=3)
    assert counts.generated > 0
    return built


def test_every_kind_is_built(examples: list[AdvisorExample]) -> None:
    kinds = {e.kind for e in examples}
    assert {"question", "explain", "refusal"} <= kinds, kinds


def test_answers_pass_the_grounding_check_against_their_own_prompt(examples, core: Core) -> None:
    guard = core.quiz_guard()
    for e in examples:
        if e.kind in ("not_covered", "refusal"):
            continue
        prompt = [m["content"] for m in e.messages]
        assert not check_answer(e.answer, prompt, guard=guard).problems, (e.kind, e.answer)


def test_a_questions_answer_is_a_sentence_of_a_passage_in_its_prompt(examples) -> None:
    for e in (e for e in examples if e.kind in ("question", "follow_up")):
        prompt_words = set(content_words(e.messages[-1]["content"]))
        answer_words = content_words(e.answer)
        assert sum(w in prompt_words for w in answer_words) >= 0.9 * len(answer_words), e.answer


def test_prompts_are_what_the_lab_sends(examples, core: Core) -> None:
    for e in [e for e in examples if e.kind == "question"][:5]:
        _, asked = core._prepare(e.lab, AdvisorRequest(asked_text(e)))
        assert asked is not None and asked.messages == e.messages
    for e in [e for e in examples if e.kind == "explain"][:3]:
        advice, _ = core._prepare(e.lab, AdvisorRequest(asked_text(e).split("\n\nExplain")[0]))
        assert advice is not None and advice.messages == e.messages


def test_no_quiz_answer_is_in_the_data(examples) -> None:
    bank = load_bank(PROJECT_ROOT / "quizzes" / "module3.yaml")
    guard = QuizGuard([bank])
    correct = [q.options[i].text for q in bank.questions for i in q.key()]
    options = [o for o in correct if len(content_words(o)) >= 4]
    assert options  # the banks are loaded, so the test can fail
    for e in examples:
        assert not guard.leaks(e.answer), e.answer
        assert not any(option in e.answer for option in options), e.answer


def test_near_duplicates_are_dropped() -> None:
    def example(question: str, answer: str) -> AdvisorExample:
        prompt = [{"role": "user", "content": f"Question: {question}"}]
        return AdvisorExample("question", "strategy", "g", prompt, answer)

    answer = "QLoRA keeps the frozen base model in 4-bit NF4 and trains LoRA adapters in 16-bit on top of it."
    kept = deduplicate(
        [
            example("What does the course say about QLoRA?", answer),
            example("what does the course say about QLoRA", answer),
            example("How big is a 7B model in 16-bit?", "A 7B model needs about 14 GB for its weights in 16-bit."),
        ]
    )
    assert [e.messages[-1]["content"] for e in kept] == [
        "Question: What does the course say about QLoRA?",
        "Question: How big is a 7B model in 16-bit?",
    ]


def test_an_explanation_is_the_recommendations_own_lines() -> None:
    facts = [
        "Approach: prompting + fine-tuning",
        "Method: none",
        "Data needed: 500 to 5,000 examples",
        "Reason: The output format must never vary.",
        "Reason: Volume is high.",
        "Risk: Forgetting.",
    ]
    text = explanation(facts)
    assert text == (
        "The approach is prompting + fine-tuning. The data needed is 500 to 5,000 examples. "
        "The output format must never vary. Volume is high."
    )


def test_a_section_never_spans_two_splits(examples, tmp_path: Path) -> None:
    path = tmp_path / "advisor.jsonl"
    adapter_data.write(examples, path)
    data = DataSection(task="advisor", source=str(path), group_field="group", max_test_examples=10**6)
    splits = split_examples(load_examples(data), data)
    groups = [{e.group for e in part} for part in (splits.train, splits.val, splits.test)]
    assert not (groups[0] & groups[1]) and not (groups[0] & groups[2]) and not (groups[1] & groups[2])
    assert splits.test and splits.train
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert set(record) == {"kind", "lab", "group", "messages", "answer"}
