"""GGUF models through llama.cpp (llama-cpp-python): several times faster than transformers on a CPU."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from trainer.packaged import PACKAGED_NAME, PackagedModelError, packaged_gguf
from tutor.llm.base import LLMError, Message


class LlamaCppChatModel:
    def __init__(self, model_ref: str = "", threads: int = 0, context: int = 4096) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise LLMError("the llamacpp backend needs llama-cpp-python: pip install llama-cpp-python") from None
        try:
            path = Path(model_ref) if model_ref else packaged_gguf()
        except PackagedModelError as exc:
            raise LLMError(str(exc)) from None
        if not path.is_file():
            raise LLMError(f"GGUF file {str(path)!r} not found")
        try:
            self.llm = Llama(model_path=str(path), n_ctx=context, n_threads=threads or None, verbose=False)
        except Exception as exc:  # llama.cpp reports a bad file as ValueError or RuntimeError
            raise LLMError(f"llama.cpp cannot load {str(path)!r}: {exc}".splitlines()[0]) from None
        self.name = PACKAGED_NAME + " via llama.cpp" if not model_ref else f"{path.name} via llama.cpp"
        self._lock = threading.Lock()  # a Llama object serves one request at a time

    def stream(self, messages: list[Message], *, max_new_tokens: int, temperature: float) -> Iterator[str]:
        with self._lock:
            chunks = self.llm.create_chat_completion(
                messages=messages,
                max_tokens=max_new_tokens,
                temperature=temperature,
                repeat_penalty=1.1,
                stream=True,
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
