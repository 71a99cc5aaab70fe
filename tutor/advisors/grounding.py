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
_LIST_MARKER = re.compile(r"\s*(\d{1,3}|[a-zA-Z])")


def complete_sentences(text: str) -> str:
    """``text`` up to the end of its last complete sentence ("" when it has none)."""
    stripped = text.rstrip()
    ends = [match.end() for match in _SENTENCE_END.finditer(stripped) if not _is_list_marker(stripped, match.start())]
    return stripped[: ends[-1]] if ends else ""


def _is_list_marker(text: str, dot: int) -> bool:
    """The "1." or "b." that starts a list item is not the end of a sentence."""
    line_start = text.rfind("\n", 0, dot) + 1
    return bool(_LIST_MARKER.fullmatch(text[line_start:dot]))


def ends_complete(text: str) -> bool:
    stripped = text.rstrip()
    return bool(stripped) and complete_sentences(stripped) == stripped
