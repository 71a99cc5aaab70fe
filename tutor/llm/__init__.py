"""Language models behind the advisors. Pick one with Settings.llm_backend; it is loaded once
per process, on first use, and shared by every request."""

from __future__ import annotations

import threading

from tutor.llm.base import ChatModel, LLMError, Message, generate
from tutor.settings import Settings

__all__ = ["ChatModel", "LLMError", "Message", "generate", "get_chat_model", "load_chat_model"]

_loaded: dict[tuple, ChatModel] = {}
LOCAL_BACKENDS = ("transformers", "llamacpp")  # the ones that use this machine's CPU to generate
_lock = threading.Lock()


def quiet_loading() -> None:
    """No progress bars from transformers / huggingface_hub: they clutter CLI output and logs."""
    import os

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass


def load_chat_model(settings: Settings) -> ChatModel:
    """A new model for these settings (slow: reads weights). Prefer :func:`get_chat_model`."""
    quiet_loading()
    backend = settings.backend
    if backend == "transformers":
        from tutor.llm.transformers_backend import TransformersChatModel

        model = TransformersChatModel(
            settings.llm_model, settings.resolved_adapter, settings.llm_threads, settings.models_dir
        )
        if settings.llm_backend == "auto":  # chosen for want of llama.cpp: say what would be faster
            model.name += " (transformers: pip install llama-cpp-python for answers about 3x faster)"
        return model
    if backend == "llamacpp":
        from tutor.llm.llamacpp_backend import LlamaCppChatModel

        return LlamaCppChatModel(
            settings.llm_model, settings.llm_threads, adapter=settings.resolved_adapter, cache_dir=settings.models_dir
        )
    if backend == "openai":
        from tutor.llm.openai_backend import OpenAIChatModel

        return OpenAIChatModel(settings.llm_base_url, settings.llm_model, settings.llm_api_key)
    from tutor.llm.fake import FakeChatModel

    return FakeChatModel()


def get_chat_model(settings: Settings) -> ChatModel:
    """The process-wide model for these settings, loaded on first call. A failed load is not
    remembered, so fixing the cause and asking again works without a restart."""
    key = (
        settings.backend,
        settings.llm_model,
        settings.resolved_adapter,
        settings.llm_base_url,
        settings.llm_threads,
        settings.llm_worker,
    )
    with _lock:
        if key not in _loaded:
            if settings.llm_worker and settings.backend in LOCAL_BACKENDS:
                from tutor.llm.worker import AdvisorModel, WorkerChatModel

                _loaded[key] = WorkerChatModel(AdvisorModel(settings))
            else:
                _loaded[key] = load_chat_model(settings)
        return _loaded[key]
