"""The advisor's own model card, shown in the app as a worked example of the module's checklist.

The card is the README.md of the adapter in use (the shipped one by default, written by
``tutor advisor build``). The Reference tab shows it as a page, ``?open=advisor-model-card``, and
each lab's "Model" panel names the model and links to it.
"""

from __future__ import annotations

import re
from pathlib import Path

from tutor.llm.base import adapter_title
from tutor.settings import Settings

CARD_PAGE = "advisor-model-card"
CARD_TITLE = "This app's advisor: its model card"
CHECKLIST = (
    "_A model card of our own, to read with the module's checklist in "
    "[Reading a model card](?open=model-landscape#reading-a-model-card) and the "
    "[safety checklists](?open=safety-evaluation): what was it trained on, how was it evaluated, "
    "against what baseline, and what is it not for?_"
)


def card_markdown(settings: Settings) -> str | None:
    """The card of the adapter in use, front matter removed, under the checklist's link; None
    when the advisor runs without an adapter that has a card."""
    adapter = settings.resolved_adapter
    card = Path(adapter) / "README.md" if adapter else None
    if card is None or not card.is_file():
        return None
    text = re.sub(r"\A---\n.*?\n---\n", "", card.read_text(encoding="utf-8"), flags=re.S).strip()
    return f"{CHECKLIST}\n\n{text}"


def model_label(settings: Settings) -> str:
    """Which model drafts the advisors' answers, in words, without loading it."""
    if settings.backend == "fake":
        return "a fake model (tests)"
    if settings.backend == "openai":
        server = settings.llm_base_url or "an OpenAI-compatible server"
        return f"{settings.llm_model or 'the default model'} on {server}"
    base = settings.llm_model or "SmolLM2-135M-Instruct (packaged)"
    adapter = settings.resolved_adapter
    return f"{base} + {adapter_title(adapter)}" if adapter else base


def model_panel(settings: Settings) -> str:
    card = card_markdown(settings) is not None
    link = f" — [its model card](?open={CARD_PAGE})" if card else ""
    return (
        f"Drafts come from **{model_label(settings)}**{link}. Every draft is checked against the course "
        "before it stands; when it fails, you read the course's own sentences instead."
    )
