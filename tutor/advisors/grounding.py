"""Checks run on a model's finished answer before a learner sees it as the final answer.

The model streams a draft; these checks decide what of it stands. Today: the answer ends on a
complete sentence (a reply cut off by the token limit stops mid-sentence, and half a sentence
under the course's name reads as a claim the course never made).
"""

from __future__ import annotations

import re

# A sentence ends with . ! or ? (possibly closed by quotes, brackets or Markdown emphasis) before
# white space or the end of the text.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]*_]*(?=\s|$)")


def complete_sentences(text: str) -> str:
    """``text`` up to the end of its last complete sentence ("" when it has none)."""
    stripped = text.rstrip()
    last = None
    for last in _SENTENCE_END.finditer(stripped):  # noqa: B007  (the loop keeps the last match)
        pass
    return stripped[: last.end()] if last else ""


def ends_complete(text: str) -> bool:
    stripped = text.rstrip()
    return bool(stripped) and complete_sentences(stripped) == stripped
