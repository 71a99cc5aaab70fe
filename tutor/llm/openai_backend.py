"""Any OpenAI-compatible chat server: Ollama, vLLM, llama.cpp's server, LM Studio, a hosted API."""

from __future__ import annotations

from collections.abc import Iterator

from tutor.llm.base import LLMError, Message


class OpenAIChatModel:
    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 120.0) -> None:
        if not base_url:
            raise LLMError("the openai backend needs llm_base_url, e.g. http://localhost:11434/v1 for Ollama")
        import openai

        self.client = openai.OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout)
        self.model = model or "default"
        self.base_url = base_url
        self.name = f"{self.model} at {base_url}"

    def stream(self, messages: list[Message], *, max_new_tokens: int, temperature: float) -> Iterator[str]:
        import openai

        try:
            chunks = self.client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_new_tokens,
                temperature=temperature,
                stream=True,
            )
            for chunk in chunks:
                piece = chunk.choices[0].delta.content if chunk.choices else None
                if piece:
                    yield piece
        except openai.APIConnectionError:
            raise LLMError(f"cannot reach the model server at {self.base_url} (is it running?)") from None
        except openai.APIStatusError as exc:
            # The status only: a response body can hold whatever the server at that address returns.
            reason = exc.response.reason_phrase if exc.response is not None else ""
            answered = f"{exc.status_code} {reason}".strip()
            raise LLMError(f"the model server at {self.base_url} answered {answered}") from None
        except openai.OpenAIError as exc:  # e.g. a reply that is not OpenAI-shaped
            kind = type(exc).__name__
            raise LLMError(f"the model server at {self.base_url} gave an unusable reply ({kind})") from None
