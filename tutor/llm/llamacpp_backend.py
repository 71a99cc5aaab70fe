"""GGUF models through llama.cpp (llama-cpp-python): several times faster than transformers on a CPU."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from trainer.packaged import PACKAGED_NAME, PackagedModelError, packaged_gguf, packaged_gguf_f16
from tutor.llm.base import LLMError, Message, adapter_title


class LlamaCppChatModel:
    def __init__(
        self,
        model_ref: str = "",
        threads: int = 0,
        context: int = 4096,
        adapter: str = "",
        cache_dir: Path | None = None,
    ) -> None:
        """``adapter``: a PEFT LoRA folder trained on the packaged model, applied by llama.cpp at run
        time from its GGUF form (converted once into ``cache_dir``, Settings.models_dir)."""
        try:
            from llama_cpp import Llama
        except ImportError:
            raise LLMError("the llamacpp backend needs llama-cpp-python: pip install llama-cpp-python") from None
        skip_crashing_cpu_kernels()
        try:
            path = Path(model_ref) if model_ref else packaged_gguf_f16(cache_dir) if cache_dir else packaged_gguf()
        except PackagedModelError as exc:
            raise LLMError(str(exc)) from None
        if not path.is_file():
            raise LLMError(f"GGUF file {str(path)!r} not found")
        lora = _lora_file(adapter, model_ref, cache_dir) if adapter else None
        try:
            self.llm = Llama(
                model_path=str(path),
                n_ctx=context,
                n_threads=threads or os.cpu_count(),  # llama-cpp-python's default is half the cores
                lora_path=str(lora) if lora else None,
                # The repetition penalty sees the whole context, prompt included, as transformers' does,
                # so both backends pick the same next tokens (llama.cpp's default is the last 64).
                last_n_tokens_size=context,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp reports a bad file as ValueError or RuntimeError
            raise LLMError(f"llama.cpp cannot load {str(path)!r}: {exc}".splitlines()[0]) from None
        self.name = PACKAGED_NAME + " via llama.cpp" if not model_ref else f"{path.name} via llama.cpp"
        if adapter:
            self.name += f" + {adapter_title(adapter)}"
        self._lock = threading.Lock()  # a Llama object serves one request at a time

    def stream(self, messages: list[Message], *, max_new_tokens: int, temperature: float) -> Iterator[str]:
        with self._lock:
            try:
                yield from self._stream(messages, max_new_tokens, temperature)
            except ValueError as exc:  # llama.cpp: "Requested tokens (…) exceed context window of …"
                raise LLMError(f"the conversation does not fit the model's context: {exc}".splitlines()[0]) from None

    def _stream(self, messages: list[Message], max_new_tokens: int, temperature: float) -> Iterator[str]:
        """The reply's pieces (the caller holds the lock)."""
        chunks = self.llm.create_chat_completion(
            messages=messages,
            max_tokens=max_new_tokens,
            temperature=temperature,
            top_p=0.9,  # as the transformers backend samples
            repeat_penalty=1.1,  # small models loop without it
            stream=True,
        )
        for chunk in chunks:
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                yield piece


def skip_crashing_cpu_kernels() -> None:
    """Load every model without llama.cpp's extra buffer types when the build uses AMX.

    On CPUs with AMX (Intel Sapphire Rapids and later) llama.cpp moves quantized weights (Q4_1, Q8_0,
    Q4_K, ...) into AMX buffers, and its AMX matrix product segfaults on the first decode: seen here on
    the packaged Q4_1 file, reported upstream as llama.cpp#20824 and unfixed there. The crash takes the
    whole process, the app included. Without extra buffer types the same weights run on llama.cpp's
    plain CPU kernels (AVX2/AVX-512), as on any other machine. llama-cpp-python has no argument for
    it, so its default model parameters are wrapped, once per process.
    """
    import llama_cpp.llama as high

    low = high.llama_cpp  # the module whose default parameters Llama() reads at load time
    default = low.llama_model_default_params
    if getattr(default, "without_extra_buffers", False) or b"AMX_INT8 = 1" not in low.llama_print_system_info():
        return

    def without_extra_buffers():
        params = default()
        params.use_extra_bufts = False
        return params

    without_extra_buffers.without_extra_buffers = True  # type: ignore[attr-defined]
    without_extra_buffers.__wrapped__ = default  # type: ignore[attr-defined]
    low.llama_model_default_params = without_extra_buffers


def _lora_file(adapter: str, model_ref: str, cache_dir: Path | None) -> Path:
    """The adapter's GGUF LoRA file, converted on first use."""
    from trainer.gguf_lora import export_lora_gguf
    from trainer.model import ModelError

    if model_ref:
        raise LLMError(
            "an adapter goes on the packaged model in the llamacpp backend; for another GGUF, merge the "
            "adapter first (tutor export RUN_DIR --format gguf) or use the transformers backend"
        )
    if not (Path(adapter) / "adapter_config.json").is_file():
        raise LLMError(f"no PEFT adapter in {adapter!r} (adapter_config.json missing)")
    try:
        return export_lora_gguf(Path(adapter), cache_dir or Path(adapter))
    except ModelError as exc:
        raise LLMError(f"cannot put adapter {adapter!r} on {PACKAGED_NAME} in llama.cpp: {exc}") from None
