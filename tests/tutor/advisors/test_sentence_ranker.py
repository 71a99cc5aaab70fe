"""The learned sentence ranker (an experiment the settings can switch on): real training moves its
adapter and the saved ranker reads its lesson back, the app uses the folder the settings name, and
a folder without a trained ranker is refused at start with a clear reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutor.advisors.sentence_ranker import RankingCase, load_ranker, train
from tutor.advisors.text_reader import Recipe
from tutor.core import Core, StartupError
from tutor.rag.index import packaged_embedding_dir
from tutor.settings import Settings

pytestmark = pytest.mark.timeout(300)

SLICE = [
    RankingCase(
        "how much memory does qlora save?",
        ("QLoRA: A 65B model fits on a single 48 GB GPU.",),
        ("Data: Most tools expect one JSON object per line.", "Evaluation: Keep a held-out test set."),
    ),
    RankingCase(
        "what file format is training data in?",
        ("Data: Most tools expect one JSON object per line.",),
        ("QLoRA: A 65B model fits on a single 48 GB GPU.", "Evaluation: Keep a held-out test set."),
    ),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ranker") / "ranker"
    return train(SLICE * 4, str(packaged_embedding_dir()), out, Recipe(epochs=3, batch_size=2), log=lambda _: None)


def test_training_moves_the_adapter_and_the_saved_ranker_reads_it_back(trained: Path) -> None:
    from safetensors.torch import load_file

    lora_b = [t for name, t in load_file(str(trained / "adapter_model.safetensors")).items() if "lora_B" in name]
    assert lora_b and all(float(t.abs().max()) > 0 for t in lora_b)  # LoRA's B starts at zero
    ranker = load_ranker(trained)
    assert ranker is not None
    for case in SLICE:
        right, *wrong = ranker.relevance([case.question], [*case.positives, *case.negatives])
        assert right > max(wrong)
    assert "8 learner questions" in (trained / "README.md").read_text(encoding="utf-8")


def test_the_app_ranks_with_the_ranker_the_settings_name(trained: Path, tmp_path: Path) -> None:
    default = Core.start(Settings(data_dir=tmp_path / "a", llm_worker=False))
    assert default.quote_scorer().ranker is None  # not on by default: it did not beat the embeddings held out
    core = Core.start(Settings(data_dir=tmp_path / "b", llm_worker=False, quote_ranker=str(trained)))
    assert core.quote_scorer().ranker is not None


def test_a_folder_without_a_trained_ranker_is_refused_at_start(trained: Path, tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=r"quote_ranker: .* holds no trained sentence ranker"):
        Core.start(Settings(data_dir=tmp_path / "a", quote_ranker=str(tmp_path)))
    broken = tmp_path / "broken"
    shutil.copytree(trained, broken)
    (broken / "heads.safetensors").write_bytes(b"version https://git-lfs.github.com/spec/v1\n")  # an LFS pointer
    assert load_ranker(broken) is None  # the answer then quotes by embedding similarity
