"""The packaged model's own words in an advisor turn (the real SmolLM2-135M, offline, greedy), and
the two paths of a turn where the model's words are not shown: a model that fails, and drafts that
are not examples.

The base model's prose is often wrong (the grounded-answers work is about that); these tests pin
what the turn guarantees whatever the model writes: the final answer ends on a complete sentence,
it is the model's text and not the prompt handed back, it is about the recommendation, and only
well-formed drafts reach the learner.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import advisor_settings
from tutor.advisors import strategy
from tutor.advisors.grounding import ends_complete
from tutor.advisors.turn import NO_USABLE_DRAFTS, Drafted, final_answer
from tutor.core import Core

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def real_core(tmp_path_factory: pytest.TempPathFactory, shared_data_dir: Path) -> Iterator[Core]:
    tmp = tmp_path_factory.mktemp("model-words")
    core = Core.start(advisor_settings(tmp, shared_data_dir, llm_temperature=0.0))
    yield core
    core.store.close()


def _shingles(text: str, n: int = 8) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_the_explanation_is_the_models_own_about_the_recommendation_and_complete(real_core: Core) -> None:
    advice = real_core.advise_once("strategy", strategy.LAB.try_prompt)
    assert advice.recommendation.method == "lora"  # "SFT with LoRA": what the explanation is about
    # The model's own words, before the grounding check decides whether they are shown.
    final = final_answer(real_core.answer(advice, drafts=False, checked=False))
    assert not final.error and "SmolLM2" in final.model
    words = final.explanation
    assert len(words.split()) >= 15, words
    # It speaks about the recommended approach (prompting -> fine-tuning) or method (LoRA).
    assert re.search(r"fine-?tun|lora", words, re.IGNORECASE), words
    assert ends_complete(words), words
    # Not the prompt handed back: most 8-word runs of the answer are not the instructions or the
    # student's message. (Lines of the recommendation are what it explains: the advisor adapter
    # restates them, which the grounding check then finds in the context.)
    student = advice.messages[-1]["content"].split("Student's message:")[-1]
    echo = " ".join([advice.messages[0]["content"], student])
    answer_runs = _shingles(words)
    copied = answer_runs & _shingles(echo)
    assert answer_runs and len(copied) < 0.5 * len(answer_runs), copied
    assert final.text.startswith(advice.recommendation.markdown())


def test_a_model_that_cannot_load_leaves_the_recommendation_and_a_note(tmp_path: Path, shared_data_dir: Path) -> None:
    broken = Core.start(advisor_settings(tmp_path, shared_data_dir, llm_model=str(tmp_path / "missing.gguf")))
    ada = broken.viewer(None)
    final = final_answer(broken.advisor_turn(ada, "strategy", strategy.LAB.try_prompt))
    assert "missing.gguf" in final.error and "not found" in final.error
    assert final.explanation == "" and not final.model
    assert "could not answer" in final.note and "stands on its own" in final.note
    assert "SFT with LoRA" in final.text and "**Sources**" in final.text
    stored = broken.conversation(ada, "strategy")
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[-1].content == final.text and "missing.gguf" in stored[-1].error
    broken.store.close()


def test_only_well_formed_drafts_reach_the_learner(real_core: Core) -> None:
    import torch

    text = (
        "Please write more examples like these:\n"
        '{"prompt": "Classify: The battery died after a day.", "completion": "negative"}\n'
        '{"prompt": "Classify: Setup took two minutes, love it.", "completion": "positive"}\n'
        '{"prompt": "Classify: It arrived on Tuesday.", "completion": "neutral"}'
    )
    torch.manual_seed(1)  # drafts are sampled (temperature 0.7); this seed makes the model write JSON
    advice = real_core.advise_once("dataset", text)
    events = list(real_core.answer(advice, drafts=True))
    final = events[-1]
    drafted = [event for event in events if isinstance(event, Drafted)]
    for event in drafted:
        for line in event.drafts:
            value = json.loads(line)
            assert set(value) == {"input", "output", "draft"} and value["draft"] is True, value
            assert value["input"].strip() and value["output"].strip()
    if drafted:
        assert final.explanation.endswith(drafted[0].text)
    else:  # the model wrote nothing usable: the learner is told, and no JSON is shown as a draft
        assert final.explanation.endswith(NO_USABLE_DRAFTS) and "{" not in final.explanation


def test_closing_a_stream_stops_the_generation_thread(real_core: Core) -> None:
    """A draft that fails the check is dropped mid-stream: generation must end with it, not run on
    in the background (it would slow the next learner's answer)."""
    model = real_core.chat_model()
    before = threading.active_count()
    stream = model.stream([{"role": "user", "content": "Tell me a long story."}], max_new_tokens=400, temperature=0)
    assert next(stream)
    stream.close()
    assert threading.active_count() == before
