"""Course content: lesson and reference pages as Markdown files with YAML front matter.

A page file looks like::

    ---
    id: training-data
    kind: lesson            # or: reference
    order: 2
    title: Building Your Training Dataset
    question: What makes a training dataset good enough?
    minutes: 30
    ---
    # Building Your Training Dataset
    ...

Links between pages are ordinary relative Markdown links (``[LoRA](reference/peft-methods.md#lora)``)
so the files read well on their own; :func:`render_for_app` turns them into in-app links.
Every problem is reported as ``file:line: message``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE_RE = re.compile(r"^\s*(```|~~~)")
# [text](target) but not images ![alt](src); targets without spaces.
LINK_RE = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")


class ContentError(ValueError):
    """A page that cannot be loaded; the message starts with ``file:line:``."""


class FrontMatter(BaseModel):
    """The fields at the top of each page."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Stable id, stored with progress.")
    kind: Literal["lesson", "reference"]
    order: int = Field(ge=1, description="Position in the lesson or reference list.")
    title: str = Field(min_length=1)
    question: str = Field("", description="The guiding question the page answers (required for lessons).")
    summary: str = Field("", description="One-sentence subtitle.")
    minutes: int = Field(ge=1, le=240, description="Estimated reading time.")
    quiz: str = Field("", description="Id of the quiz that follows the lesson.")
    lab: str = Field("", description="Id of the advisor lab that goes with the lesson.")
    sources: list[str] = Field(default_factory=list, description="Seed documents the page draws on.")


@dataclass(frozen=True)
class Section:
    title: str
    slug: str
    level: int
    line: int


@dataclass(frozen=True)
class Page:
    meta: FrontMatter
    body: str
    path: Path
    body_line: int  # line number of the body's first line in the file
    sections: tuple[Section, ...] = field(default=())

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def title(self) -> str:
        return self.meta.title

    def anchors(self) -> set[str]:
        return {section.slug for section in self.sections}


@dataclass(frozen=True)
class Course:
    lessons: tuple[Page, ...]
    reference: tuple[Page, ...]

    def pages(self) -> tuple[Page, ...]:
        return self.lessons + self.reference

    def get(self, page_id: str) -> Page | None:
        return next((page for page in self.pages() if page.id == page_id), None)

    def by_path(self, path: Path) -> Page | None:
        path = path.resolve()
        return next((page for page in self.pages() if page.path.resolve() == path), None)


def slugify(title: str) -> str:
    """GitHub-style anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", title).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _split_front_matter(text: str, path: Path) -> tuple[dict, str, int]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ContentError(f"{path}:1: missing front matter (the file must start with a '---' line)")
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            try:
                data = yaml.safe_load("".join(lines[1:index])) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 2 if mark else 2
                raise ContentError(f"{path}:{line}: front matter is not valid YAML: {exc}") from None
            if not isinstance(data, dict):
                raise ContentError(f"{path}:2: front matter must be a mapping of fields")
            return data, "".join(lines[index + 1 :]), index + 2
    raise ContentError(f"{path}:1: front matter is not closed by a '---' line")


def _sections(body: str, first_line: int) -> tuple[Section, ...]:
    sections, in_fence, seen = [], False, {}
    for offset, line in enumerate(body.splitlines()):
        if FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        match = None if in_fence else HEADING_RE.match(line)
        if match:
            title = match.group(2)
            slug = slugify(title)
            # Repeated headings get -1, -2 suffixes, as on GitHub.
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            sections.append(
                Section(title, f"{slug}-{count}" if count else slug, len(match.group(1)), first_line + offset)
            )
    return tuple(sections)


def load_page(path: Path) -> Page:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(f"{path}:1: not UTF-8 text ({exc.reason})") from None
    data, body, body_line = _split_front_matter(text, path)
    try:
        meta = FrontMatter(**data)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"])
        raise ContentError(f"{path}:2: front matter field {name!r}: {error['msg']}") from None
    if meta.kind == "lesson" and not meta.question:
        raise ContentError(f"{path}:2: a lesson needs a guiding 'question' in its front matter")
    if not body.strip():
        raise ContentError(f"{path}:{body_line}: the page has no text")
    return Page(meta=meta, body=body, path=path, body_line=body_line, sections=_sections(body, body_line))


def load_course(lessons_dir: Path) -> Course:
    """Load every page under ``lessons_dir`` (lessons at the top, reference pages in reference/)."""
    pages = [load_page(path) for path in sorted(lessons_dir.rglob("*.md")) if path.name != "README.md"]
    seen: dict[str, Path] = {}
    for page in pages:
        if page.id in seen:
            raise ContentError(f"{page.path}:2: id {page.id!r} is already used by {seen[page.id]}")
        seen[page.id] = page.path
    lessons = tuple(sorted((p for p in pages if p.meta.kind == "lesson"), key=lambda p: p.meta.order))
    reference = tuple(sorted((p for p in pages if p.meta.kind == "reference"), key=lambda p: p.meta.order))
    course = Course(lessons=lessons, reference=reference)
    problems = check_links(course)
    if problems:
        raise ContentError(problems[0])
    return course


def _resolve_link(course: Course, page: Page, target: str) -> tuple[Page | None, str]:
    """The page and anchor an internal link points at (page None when it points nowhere)."""
    file_part, _, anchor = target.partition("#")
    if not file_part:
        return page, anchor
    return course.by_path(page.path.parent / file_part), anchor


def _is_external(target: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE))


def iter_links(page: Page):
    """Yield (line number, text, target) for every Markdown link outside code blocks."""
    in_fence = False
    for offset, line in enumerate(page.body.splitlines()):
        if FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            for match in LINK_RE.finditer(line):
                yield page.body_line + offset, match.group(1), match.group(2)


def check_links(course: Course) -> list[str]:
    """Every internal link must name an existing page and, if it has one, an existing heading."""
    problems = []
    for page in course.pages():
        for line, _text, target in iter_links(page):
            if _is_external(target):
                continue
            linked, anchor = _resolve_link(course, page, target)
            if linked is None:
                problems.append(f"{page.path}:{line}: link to {target!r} points to no page")
            elif anchor and anchor not in linked.anchors():
                problems.append(f"{page.path}:{line}: link to {target!r}: no heading #{anchor} in {linked.path.name}")
    return problems


def render_for_app(course: Course, page: Page) -> str:
    """The page body with links to other pages rewritten to ``?open=<id>`` so they open in the app."""

    def rewrite(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        if _is_external(target):
            return match.group(0)
        linked, anchor = _resolve_link(course, page, target)
        if linked is None:
            return text
        return f"[{text}](?open={linked.id}{'#' + anchor if anchor else ''})"

    out, in_fence = [], False
    for line in page.body.splitlines():
        if FENCE_RE.match(line):
            in_fence = not in_fence
        out.append(line if in_fence else LINK_RE.sub(rewrite, line))
    return "\n".join(out)
