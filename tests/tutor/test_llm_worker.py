"""Generation in a child process at a lower CPU priority (tutor/llm/worker.py), on the real packaged
SmolLM2: same words as in-process generation, a child that dies is replaced, a reader that stops
early leaves the pipe clean for the next question."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tutor.llm import LLMError, generate, get_chat_model, load_chat_model
from tutor.llm.worker import WORKER_NICENESS, AdvisorModel, WorkerChatModel
from tutor.settings import Settings

PROMPT = [{"role": "user", "content": "Name one benefit of LoRA in one sentence."}]
OTHER = [{"role": "user", "content": "What does QLoRA quantize?"}]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def settings(shared_data_dir: Path) -> Settings:
    # transformers: its greedy answers do not depend on what was asked before, so "the same words"
    # tests the protocol. (llama.cpp reuses the cached prompt prefix, and a different batching of
    # the same tokens can tip a near tie.) The worker runs either backend the same way.
    return Settings(data_dir=shared_data_dir, llm_backend="transformers")


@pytest.fixture(scope="module")
def worker(settings: Settings) -> WorkerChatModel:
    model = get_chat_model(settings)
    assert isinstance(model, WorkerChatModel)  # the default for a local backend
    return model


@pytest.fixture(scope="module")
def in_process(settings: Settings):
    return load_chat_model(settings.model_copy(update={"llm_worker": False}))


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_worker_writes_the_same_words_as_in_process_generation(worker, in_process) -> None:
    for prompt in (PROMPT, OTHER):
        assert generate(worker, prompt, max_new_tokens=30) == generate(in_process, prompt, max_new_tokens=30)
    assert worker.name == in_process.name
    assert worker.pid != os.getpid()


def test_worker_runs_below_the_web_process_priority(worker) -> None:
    assert _niceness(worker.pid) == _niceness(os.getpid()) + WORKER_NICENESS


def test_a_reader_that_stops_early_leaves_the_next_answer_intact(worker, in_process) -> None:
    stream = worker.stream(PROMPT, max_new_tokens=60, temperature=0.0)
    first = next(stream)
    stream.close()  # e.g. a draft that failed the grounding check
    assert first
    assert generate(worker, OTHER, max_new_tokens=30) == generate(in_process, OTHER, max_new_tokens=30)


def test_a_killed_worker_fails_its_answer_and_is_replaced(worker, in_process) -> None:
    stream = worker.stream(PROMPT, max_new_tokens=120, temperature=0.0)
    next(stream)
    dead = worker.pid
    os.kill(dead, signal.SIGKILL)
    with pytest.raises(LLMError, match=r"model worker stopped \(exit status -9\)"):
        list(stream)
    # The web process keeps running, and the next question gets a new child.
    assert generate(worker, OTHER, max_new_tokens=30) == generate(in_process, OTHER, max_new_tokens=30)
    assert worker.pid not in (None, dead)


def test_a_model_that_cannot_load_says_why(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match=r"(?:model|GGUF) file .*nope\.gguf.* not found"):
        WorkerChatModel(AdvisorModel(Settings(llm_model=str(tmp_path / "nope.gguf"))))


def test_remote_and_fake_backends_stay_in_process() -> None:
    assert not isinstance(get_chat_model(Settings(llm_backend="fake")), WorkerChatModel)
