"""A model for unit tests: replies with fixed text, word by word, and remembers what it was asked."""

from __future__ import annotations

from collections.abc import Iterator

from tutor.llm.base import Message


class FakeChatModel:
    name = "fake model (tests only)"

    def __init__(self, reply: str = "This is a canned explanation from the fake test model.") -> None:
        self.reply = reply
        self.calls: list[list[Message]] = []

    def stream(self, messages: list[Message], *, max_new_tokens: int, temperature: float) -> Iterator[str]:
        self.calls.append(messages)
        words = self.reply.split(" ")[:max_new_tokens]
        for index, word in enumerate(words):
            yield word if index == 0 else " " + word
