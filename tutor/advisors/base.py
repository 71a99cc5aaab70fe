"""What every advisor shares: lab descriptions, citations, inputs and the prompt that asks the
model to explain a recommendation.

The division of labour: rules written from the course compute the recommendation (numbers and
decisions a 135M-parameter model could not be trusted with); the model explains it in
conversation, with the retrieved course passages in front of it; every recommendation names the
lesson sections its rules come from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from trainer.records import NotTextError, decode_text
from tutor.advisors.grounding import Claims


class AdvisorInputError(ValueError):
    """Input the advisor cannot use; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class LabInfo:
    id: str  # strategy | dataset | hyperparams | eval
    number: int
    title: str
    lesson_id: str  # the lesson the lab belongs to
    intro: str
    tasks: tuple[str, ...]
    try_prompt: str
    opening: str
    accepts_files: bool = False
    file_help: str = ""


class Citation(BaseModel):
    """A course section a recommendation rests on; opens in the app at ``?open=<page_id>#<anchor>``."""

    page_id: str
    anchor: str
    why: str = Field(description="Which part of the recommendation this section supports.")
    page_title: str = ""
    section: str = ""

    @property
    def link(self) -> str:
        return f"?open={self.page_id}#{self.anchor}"


class Recommendation(BaseModel):
    """Base of each advisor's typed result. ``citations`` is filled by the rules that fired."""

    lab: str
    citations: list[Citation] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="What the advisor assumed or could not find.")

    def cite(self, page_id: str, anchor: str, why: str) -> None:
        if not any(c.page_id == page_id and c.anchor == anchor for c in self.citations):
            self.citations.append(Citation(page_id=page_id, anchor=anchor, why=why))

    def facts_for_prompt(self) -> list[str]:
        """Short lines the model is asked to explain (each advisor says what matters)."""
        raise NotImplementedError

    def markdown(self) -> str:
        """The recommendation as the chat shows it, before the model's explanation."""
        raise NotImplementedError

    def retrieval_query(self, text: str) -> str:
        """What to search the course for: the learner's words plus the topic of the advice."""
        return text

    def claims(self) -> Claims:
        """What an explanation must not contradict (see ``grounding.contradictions``); labs that
        fix a method or numbers say which."""
        return Claims()


@dataclass
class UploadedFile:
    name: str
    text: str


@dataclass
class AdvisorRequest:
    """One turn: the learner's message, earlier messages of the conversation, uploaded files."""

    text: str
    history: list[str] = field(default_factory=list)  # earlier learner messages, oldest first
    files: list[UploadedFile] = field(default_factory=list)

    @property
    def all_text(self) -> str:
        """Every learner message so far, so facts given earlier still count (later ones win), from
        the last one that opens a new project ("Different project now: …") on: the earlier
        project's facts are not this one's."""
        messages = [*self.history, self.text]
        starts = [i for i, message in enumerate(messages) if _NEW_PROJECT.match(message)]
        return "\n".join(messages[starts[-1] if starts else 0 :])


# A message that opens by saying it is about something else. Only its opening is read: "another
# task" inside a description ("it also does another task: …") is not a new project.
_NEW_PROJECT = re.compile(
    r"\s*(?:ok(?:ay)?[,.!]?\s+|so[,]?\s+|now[,]?\s+)?"
    r"(?:(?:a|an|my|our|one)\s+)?(?:different|new|another|separate|unrelated|second|other)\s+"
    r"(?:project|use[\s-]case|case|product|client)\b"
    r"|\s*(?:forget|scratch|ignore)\s+(?:that|this|the\s+(?:last|previous|earlier|first)\s+\w+)\b"
    r"|\s*something\s+(?:else|different)\b",
    re.I,
)


def read_upload(path: str | Path, max_bytes: int) -> UploadedFile:
    """A text file the learner uploaded, or AdvisorInputError saying why it cannot be used."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise AdvisorInputError(
            f"{path.name} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. Upload a sample of it."
        )
    try:
        # The shared decoder: UTF-8, or UTF-16/UTF-32/UTF-8 by a byte-order mark (Windows editors
        # save JSONL and CSV as UTF-16), so the critic reads what the trainer reads.
        text = decode_text(path.read_bytes())
    except NotTextError as exc:
        if exc.binary:
            raise AdvisorInputError(f"{path.name} {exc}; upload text: JSONL, CSV or a log.") from None
        raise AdvisorInputError(f"{path.name}:{exc.line}: {exc}; save the file as UTF-8.") from None
    return UploadedFile(path.name, text)


def check_message(text: str, max_chars: int, has_files: bool) -> str:
    """The learner's message, stripped, or AdvisorInputError for an empty or oversized one."""
    text = (text or "").strip()
    if not text and not has_files:
        raise AdvisorInputError("Your message is empty: describe your use case, or paste or upload your data.")
    if len(text) > max_chars:
        raise AdvisorInputError(
            f"Your message is {len(text):,} characters; the limit is {max_chars:,}. "
            "Upload long data as a file (JSONL, CSV or a log) or paste a shorter sample."
        )
    return text


SYSTEM_PROMPT = (
    "You are {persona} in an online course on fine-tuning language models. A student described "
    "their use case. The course's rules already produced the recommendation below; explain it to the "
    "student in plain words, in at most {sentences} sentences. Use only the recommendation and the course "
    "passages. Do not invent numbers. Do not repeat the recommendation word for word."
)


def build_messages(persona: str, recommendation: Recommendation, passages: list[Any], question: str) -> list[dict]:
    """The chat the model sees: short on purpose (a 135M model loses the thread in long prompts,
    and on a CPU every prompt token costs time before the first word appears)."""
    facts = "\n".join(f"- {line}" for line in recommendation.facts_for_prompt())
    context = "\n\n".join(f"[{p.page_title} › {p.section}]\n{_clip(p.text, 600)}" for p in passages)
    user = (
        f"Course passages:\n{context}\n\nRecommendation:\n{facts}\n\n"
        f"Student's message:\n{_clip(question, 800)}\n\nExplain the recommendation to the student."
    )
    return [
        {"role": "system", "content": SYSTEM_PROMPT.format(persona=persona, sentences=4)},
        {"role": "user", "content": user},
    ]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def to_json(recommendation: Recommendation) -> str:
    return json.dumps(recommendation.model_dump(mode="json"), indent=2, ensure_ascii=False)


def table(rows: list[tuple[str, str]], headers: tuple[str, str] = ("", "")) -> str:
    """A two-column Markdown table (pipes in values escaped)."""
    lines = [f"| {headers[0]} | {headers[1]} |", "|---|---|"]
    lines += [f"| {a.replace('|', '/')} | {b.replace('|', '/')} |" for a, b in rows]
    return "\n".join(lines)
