"""A model card read against the module's checklist (Reference › Reading a model card, and the
safety checklists): for each item, is it documented, partly documented or missing?

Where a card file exists, each item is pre-filled from what the card contains: a heading that
names the item and text under it → documented; the item's words only in passing → partly;
nothing → missing. The learner overrides any of it; the pre-fill is a starting point, not a
verdict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

STATES = ("documented", "partly", "missing")


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    title: str
    question: str  # what the learner looks for
    heading: re.Pattern  # a section heading that is about the item
    words: re.Pattern  # the item's words anywhere in the text


def _words(*patterns: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")", re.IGNORECASE)


CHECKLIST = (
    ChecklistItem("intended_use", "Intended use", "What is it for, and what is out of scope?",
                  _words("intended use", "uses\\b", "out-of-scope", "use cases?"),
                  _words("intended", "use case", "out-of-scope", "designed for", "meant for")),
    ChecklistItem("training_data", "Training data", "Sources, size, languages, dates; described or released?",
                  _words("training data", "data\\b", "dataset", "pre-?training"),
                  _words("trained on", "dataset", "tokens", "corpus", "training data")),
    ChecklistItem("evaluation", "Evaluation", "Which benchmarks, on which splits; anything on your task?",
                  _words("evaluation", "results", "metrics", "benchmarks?", "held-out", "test set"),
                  _words("accuracy", "benchmark", "evaluat", "rouge", "f1", "mmlu", "held-out", "test split")),
    ChecklistItem("limitations", "Limitations", "What does it get wrong; where does it fail?",
                  _words("limitations?", "known issues", "caveats"),
                  _words("limitation", "may (?:produce|generate)", "not (?:reliable|suitable)", "hallucinat",
                         "fails?\\b")),
    ChecklistItem("bias_safety", "Bias and safety", "Bias, red-teaming, refusals kept after fine-tuning?",
                  _words("bias", "safety", "risks", "ethic", "responsible"),
                  _words("bias", "safety", "harm", "red-team", "toxic", "refus")),
    ChecklistItem("license", "Licence", "May you use it commercially, fine-tune and redistribute it?",
                  _words("licen[cs]e"),
                  _words("licen[cs]e", "apache", "\\bmit\\b", "terms of use", "cc-by", "gemma terms")),
    ChecklistItem("compute", "Carbon and compute", "Hardware, training time, energy or emissions?",
                  _words("compute", "hardware", "carbon", "environmental", "training (?:procedure|details)"),
                  _words("gpus?\\b", "h100", "a100", "cpu", "hours", "co2", "carbon", "kwh", "minutes", "cores")),
    ChecklistItem("versioning", "Versioning", "Which version, base model and lineage; what changed?",
                  _words("versions?", "changelog", "model details", "lineage", "base model"),
                  _words("version", "v\\d", "base[ _]model", "fine-tuned from", "commit", "revision")),
)  # fmt: skip
ITEM_KEYS = tuple(item.key for item in CHECKLIST)


class CritiqueError(ValueError):
    """A critique that cannot be saved as it is; one line for the user."""


def sections(card: str) -> list[tuple[str, str]]:
    """(heading, body) pairs of a Markdown card; text before the first heading has heading ""."""
    parts: list[tuple[str, str]] = []
    heading, body = "", []
    for line in card.splitlines():
        if match := re.match(r"^#{1,6}\s+(.*)", line):
            parts.append((heading, "\n".join(body)))
            heading, body = match.group(1).strip(), []
        else:
            body.append(line)
    parts.append((heading, "\n".join(body)))
    return parts


def prefill(card: str) -> dict[str, str]:
    """Each checklist item's state as the card's text suggests it."""
    parts = sections(card)
    states = {}
    for item in CHECKLIST:
        under_heading = any(
            item.heading.search(heading) and len(body.split()) >= 5 for heading, body in parts if heading
        )
        if under_heading:
            states[item.key] = "documented"
        elif item.words.search(card):
            states[item.key] = "partly"
        else:
            states[item.key] = "missing"
    return states


def read_card(path: str) -> str:
    """A card file's text. YAML front matter (where the QLoRA lab's cards record ``base_model``) is
    shown as a block at the top, so the learner sees it and the pre-fill reads it too."""
    if not path:
        return ""
    file = Path(path)
    if not file.is_file():
        return ""
    text = file.read_text(encoding="utf-8", errors="replace")
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            metadata, body = text[4:end].strip(), text[end + 4 :].lstrip("\n")
            return f"{body}\n\n**Card metadata:**\n\n```yaml\n{metadata}\n```\n"
    return text


def check_states(states: dict[str, str]) -> dict[str, str]:
    unknown = set(states) - set(ITEM_KEYS)
    if unknown:
        raise CritiqueError(
            f"unknown checklist item(s): {', '.join(sorted(unknown))}; expected {', '.join(ITEM_KEYS)}"
        )
    for key, state in states.items():
        if state not in STATES:
            raise CritiqueError(f"{key}: {state!r} is not one of {', '.join(STATES)}")
    missing = [key for key in ITEM_KEYS if key not in states]
    if missing:
        raise CritiqueError(f"mark every item; not marked: {', '.join(missing)}")
    return {key: states[key] for key in ITEM_KEYS}


def summary(states: dict[str, str]) -> str:
    counts = {state: sum(value == state for value in states.values()) for state in STATES}
    return ", ".join(f"{counts[state]} {state}" for state in STATES)
