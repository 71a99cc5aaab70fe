"""The language-model backends, run for real on the packaged SmolLM2 (offline), plus the fake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port, llama_cpp_server
from tutor.llm import LLMError, generate, get_chat_model, load_chat_model
from tutor.llm.fake import FakeChatModel
from tutor.settings import Settings

PROMPT = [{"role": "user", "content": "Name one benefit of LoRA in one sentence."}]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hub lookups: the packaged model must work with no network at all."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def _stream(model) -> list[str]:
    return list(model.stream(PROMPT, max_new_tokens=24, temperature=0.0))


def test_default_backend_is_llamacpp_and_streams_generated_text(shared_data_dir: Path) -> None:
    settings = Settings(data_dir=shared_data_dir)
    assert settings.backend == "llamacpp"  # 'auto', and llama-cpp-python is a dependency
    model = get_chat_model(settings)
    pieces = _stream(model)
    assert len(pieces) >= 3 and len("".join(pieces).split()) >= 5
    assert "SmolLM2" in model.name
    assert get_chat_model(Settings(data_dir=shared_data_dir)) is model  # loaded once per process


def test_transformers_backend_streams_generated_text(shared_data_dir: Path, models_dir: Path) -> None:
    model = load_chat_model(Settings(data_dir=shared_data_dir, llm_backend="transformers"))
    pieces = _stream(model)
    assert len(pieces) >= 3 and len("".join(pieces).split()) >= 5
    assert "SmolLM2" in model.name and "llama.cpp" not in model.name
    assert (models_dir / "smollm2-135m-instruct" / "model.safetensors").is_file()


def test_auto_falls_back_to_transformers_without_llamacpp(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    assert Settings().backend == "transformers"
    assert Settings(llm_backend="llamacpp").backend == "llamacpp"  # asked for by name: no fallback


def test_auto_loads_folders_and_hub_ids_with_transformers() -> None:
    assert Settings(llm_model="HuggingFaceTB/SmolLM2-360M-Instruct").backend == "transformers"
    assert Settings(llm_model="models/my-merged-run").backend == "transformers"
    assert Settings(llm_model="exports/model-f16.gguf").backend == "llamacpp"


def test_llamacpp_backend_streams_the_same_file() -> None:
    model = load_chat_model(Settings(llm_backend="llamacpp"))
    pieces = _stream(model)
    assert len(pieces) >= 3 and "".join(pieces).strip()


ANSWER_FROM_THE_QUANTIZED_FILE = """
from trainer.packaged import packaged_gguf
from tutor.llm.llamacpp_backend import LlamaCppChatModel
model = LlamaCppChatModel(str(packaged_gguf()), context=512)
print("".join(model.stream([{"role": "user", "content": "Name one fruit."}], max_new_tokens=16, temperature=0.0)))
"""


def test_the_quantized_gguf_answers_on_this_cpu() -> None:
    """The packaged Q4_1 file, where llama.cpp's AMX kernels (Sapphire Rapids and later) segfault on the
    first decode. In a child process, so that a crash fails this test and not the whole suite."""
    done = subprocess.run(
        [sys.executable, "-c", ANSWER_FROM_THE_QUANTIZED_FILE], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.strip()


def test_amx_builds_load_models_without_extra_buffer_types(monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp.llama as high

    from tutor.llm import llamacpp_backend

    low = high.llama_cpp
    original = _llamacpps_own_defaults(monkeypatch, low)
    monkeypatch.setattr(low, "llama_print_system_info", lambda: b"CPU : AVX2 = 1 | AMX_INT8 = 1 | OPENMP = 1 |")
    llamacpp_backend.skip_crashing_cpu_kernels()
    llamacpp_backend.skip_crashing_cpu_kernels()  # a second call wraps nothing twice
    assert low.llama_model_default_params.__wrapped__ is original
    assert original().use_extra_bufts is True and low.llama_model_default_params().use_extra_bufts is False
    assert low.llama_model_default_params().n_gpu_layers == original().n_gpu_layers  # the rest unchanged


def test_other_builds_keep_llamacpps_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp.llama as high

    from tutor.llm import llamacpp_backend

    low = high.llama_cpp
    original = _llamacpps_own_defaults(monkeypatch, low)
    monkeypatch.setattr(low, "llama_print_system_info", lambda: b"CPU : AVX2 = 1 | AMX_INT8 = 0 | OPENMP = 1 |")
    llamacpp_backend.skip_crashing_cpu_kernels()
    assert low.llama_model_default_params is original and original().use_extra_bufts is True


def _llamacpps_own_defaults(monkeypatch: pytest.MonkeyPatch, low):
    """llama-cpp-python's own default-parameters function, put back in place for one test (an earlier
    model load on an AMX machine has wrapped it for the whole process). Only our own wrapper is
    undone: llama-cpp-python 0.3.36's ctypes functions carry a ``__wrapped__`` of their own, an
    empty Python stub."""
    current = low.llama_model_default_params
    original = current.__wrapped__ if getattr(current, "without_extra_buffers", False) else current
    monkeypatch.setattr(low, "llama_model_default_params", original)
    return original


def test_openai_backend_against_a_real_openai_compatible_server() -> None:
    with llama_cpp_server("smollm2") as base_url:
        model = load_chat_model(Settings(llm_backend="openai", llm_base_url=base_url, llm_model="smollm2"))
        assert "".join(_stream(model)).strip()


def test_unreachable_server_and_missing_models_give_clear_messages(tmp_path: Path) -> None:
    dead = load_chat_model(Settings(llm_backend="openai", llm_base_url=f"http://127.0.0.1:{free_port()}/v1"))
    with pytest.raises(LLMError, match=r"cannot reach the model server at http://127\.0\.0\.1"):
        generate(dead, PROMPT)
    with pytest.raises(LLMError, match="needs llm_base_url"):
        load_chat_model(Settings(llm_backend="openai"))
    with pytest.raises(LLMError, match=r"model file .* not found"):
        load_chat_model(Settings(llm_backend="transformers", llm_model=str(tmp_path / "nope.gguf")))
    with pytest.raises(LLMError, match=r"GGUF file .* not found"):
        load_chat_model(Settings(llm_backend="llamacpp", llm_model=str(tmp_path / "nope.gguf")))
    with pytest.raises(LLMError, match=r"cannot load model 'no-such-org/no-such-model' from the Hugging Face Hub"):
        load_chat_model(Settings(llm_model="no-such-org/no-such-model"))


def test_fake_model_records_prompts() -> None:
    model = load_chat_model(Settings(llm_backend="fake"))
    assert isinstance(model, FakeChatModel)
    assert generate(model, PROMPT, max_new_tokens=3) == "This is a"
    assert model.calls == [PROMPT]


def test_bitsandbytes_asks_no_learner_to_install_kernels_from_the_hub() -> None:
    """bitsandbytes warns on CPUs with AVX512-BF16 that it could not fetch a kernel from the Hub and
    asks for `pip install kernels`: noise above every CLI answer, and a download an offline
    learner cannot make. The app works without it."""
    done = subprocess.run(
        [sys.executable, "-c", "import tutor, bitsandbytes"], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "kernels-community" not in done.stderr
