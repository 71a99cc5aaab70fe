"""The one interface every language-model backend implements: stream a chat reply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


class LLMError(RuntimeError):
    """A model that cannot load or answer; the message is one line for the user."""


class ChatModel(Protocol):
    name: str  # shown in the UI next to each answer: which model wrote it

    def stream(self, messages: list[Message], *, max_new_tokens: int, temperature: float) -> Iterator[str]:
        """Yield the reply piece by piece (each piece is new text, not the text so far)."""
        ...


def generate(model: ChatModel, messages: list[Message], *, max_new_tokens: int = 160, temperature: float = 0.0) -> str:
    """The whole reply as one string."""
    return "".join(model.stream(messages, max_new_tokens=max_new_tokens, temperature=temperature))


def adapter_title(adapter: str) -> str:
    """The card's title up to its colon ("Advisor adapter v1"), or the folder's name."""
    card = Path(adapter) / "README.md"
    if card.is_file():
        for line in card.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line.removeprefix("# ").split(":")[0].strip()
    return Path(adapter).name
