"""The shipped advisor adapter, for real (packaged SmolLM2-135M + tutor/advisors/adapter, offline,
greedy): it loads by default and names itself, and on course questions its answers pass the
grounding check far more often than the base model's. These fail when the fine-tune is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import advisor_settings
from tutor.advisors.ask import Answered
from tutor.advisors.grounding import check_answer
from tutor.core import Core
from tutor.settings import PROJECT_ROOT

SHIPPED = PROJECT_ROOT / "tutor" / "advisors" / "adapter"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        not (SHIPPED / "adapter_config.json").is_file(),
        reason="no advisor adapter shipped yet (tutor advisor build --ship makes one)",
    ),
]
# Course questions in a learner's words, none of them in the data builder's templates or in the
# held-out evaluation set.
QUESTIONS = [
    "How much memory does QLoRA save when fine-tuning a 7B model?",
    "What learning rate should I start with for LoRA?",
    "Why would I mix general data into my fine-tuning set?",
    "What is catastrophic forgetting?",
    "Which layers does LoRA usually adapt?",
    "How many examples do I need to teach a new output format?",
    "What does a model card tell me?",
    "When is RAG better than fine-tuning?",
]


@pytest.fixture(scope="module")
def cores(tmp_path_factory: pytest.TempPathFactory, shared_data_dir: Path) -> Iterator[dict[str, Core]]:
    made = {
        name: Core.start(
            advisor_settings(
                tmp_path_factory.mktemp(name), shared_data_dir, llm_temperature=0.0, llm_worker=False, **extra
            )
        )
        for name, extra in (("tuned", {}), ("base", {"llm_adapter": "none"}))
    }
    yield made
    for core in made.values():
        core.store.close()


def _answers(core: Core) -> list:
    out = []
    for question in QUESTIONS:
        answered = [e for e in core.ask("strategy", question) if isinstance(e, Answered)][-1]
        out.append(answered.answer)
    return out


def test_the_shipped_adapter_loads_by_default_with_its_card(cores: dict[str, Core]) -> None:
    assert (SHIPPED / "adapter_model.safetensors").stat().st_size < 10_000_000  # a few MB in git
    card = (SHIPPED / "README.md").read_text(encoding="utf-8")
    for part in ("## Intended use", "## Training data", "## Evaluation", "## Limitations", "## Safety notes"):
        assert part in card
    assert "tutor advisor build --ship" in card
    assert cores["tuned"].settings.resolved_adapter == str(SHIPPED)
    assert cores["tuned"].chat_model().name == "SmolLM2-135M-Instruct (packaged) + Advisor adapter v1"
    assert cores["base"].chat_model().name == "SmolLM2-135M-Instruct (packaged)"


def test_fine_tuned_answers_pass_the_check_far_more_often_than_the_base(cores: dict[str, Core]) -> None:
    tuned, base = _answers(cores["tuned"]), _answers(cores["base"])
    passed = {name: sum(a.source == "model" for a in answers) for name, answers in (("tuned", tuned), ("base", base))}
    assert passed["tuned"] >= max(3, 2 * passed["base"]), passed
    for answer in tuned:
        if answer.source == "model":  # what is shown as the model's words is grounded in its passages
            words = answer.answer.split("\n\nFrom the course:")[0]
            assert check_answer(words, [p.text for p in answer.passages]).grounded, words
