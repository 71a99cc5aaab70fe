"""Cut course pages into chunks that know their page and section.

We split on the headings the content loader already found (so every chunk carries the same
anchor the app links to), then cut long sections with LangChain's recursive splitter. The
page title and section path are put in front of each chunk's text: a question such as "what
learning rate for LoRA?" then matches a chunk of the "Hyperparameters" lesson even when the
chunk itself only says "1e-4 to 2e-4".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from tutor.content import Course, Page

# Bump when the chunking changes, so existing indexes are rebuilt.
CHUNKER_VERSION = "2"
CHUNK_SIZE = 900  # characters; MiniLM reads at most 256 word pieces (~1,000 characters)
CHUNK_OVERLAP = 120
# The row under a Markdown table's header: "|---|:---:|".
TABLE_SEPARATOR = re.compile(r"\|?[\s:|-]+\|?")


@dataclass(frozen=True)
class Chunk:
    id: str  # page-id:section-anchor:n, stable while the content is unchanged
    page_id: str
    page_title: str
    kind: str  # lesson | reference
    section: str  # section title path, e.g. "The hyperparameters that matter › Why warmup?"
    anchor: str  # heading slug the app can open: ?open=<page_id>#<anchor>
    line: int  # line of the section heading in the page file
    text: str  # what is embedded and shown: "Page › Section" header, then the passage

    def metadata(self) -> dict[str, str | int]:
        return {
            "page_id": self.page_id,
            "page_title": self.page_title,
            "kind": self.kind,
            "section": self.section,
            "anchor": self.anchor,
            "line": self.line,
        }


def _section_spans(page: Page) -> list[tuple[str, str, int, str]]:
    """(section path, anchor, heading line, text) for every heading of the page."""
    lines = page.body.splitlines()
    spans = []
    sections = list(page.sections)
    path: list[tuple[int, str]] = []  # (level, title) of the enclosing headings
    for index, section in enumerate(sections):
        start = section.line - page.body_line
        end = sections[index + 1].line - page.body_line if index + 1 < len(sections) else len(lines)
        path = [(level, title) for level, title in path if level < section.level] + [(section.level, section.title)]
        # The page's own H1 is the page title: leave it out of the path.
        titles = [title for level, title in path if level > 1] or ["Introduction"]
        text = "\n".join(lines[start + 1 : end]).strip()
        if text:
            spans.append((" › ".join(titles), section.slug, section.line, text))
    return spans


def whole_pieces(text: str, pieces: list[str]) -> list[str]:
    """Pieces of ``text`` that read on their own: a piece cut inside a code block opens and closes
    its fence, and a piece that starts inside a table repeats the table's header rows (without
    them a row "| GPU memory | 350 GB | 20 GB |" does not say which column is which)."""
    out, searched = [], 0
    for piece in pieces:
        start = text.find(piece, searched)
        if start < 0:  # the splitter changed whitespace: leave the piece as it is
            out.append(piece)
            continue
        searched = start + 1
        before = text[:start]
        if before.count("```") % 2:
            piece = "```\n" + piece
        elif piece.lstrip().startswith("|") and (header := _table_header(before)):
            piece = header + "\n" + piece
        if piece.count("```") % 2:
            piece += "\n```"
        out.append(piece)
    return out


def _table_header(before: str) -> str:
    """The header and separator rows of the table that ``before`` ends inside, if any."""
    lines = before.rstrip("\n").split("\n")
    rows = []
    for row in reversed(lines):
        if not row.lstrip().startswith("|"):
            break
        rows.append(row)
    rows.reverse()
    for i in range(len(rows) - 1):
        if TABLE_SEPARATOR.fullmatch(rows[i + 1].strip()):
            return f"{rows[i]}\n{rows[i + 1]}"
    return ""


def chunk_page(page: Page, splitter: RecursiveCharacterTextSplitter | None = None) -> list[Chunk]:
    splitter = splitter or RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    chunks = []
    for section, anchor, line, text in _section_spans(page):
        for n, piece in enumerate(whole_pieces(text, splitter.split_text(text))):
            chunks.append(
                Chunk(
                    id=f"{page.id}:{anchor}:{n}",
                    page_id=page.id,
                    page_title=page.title,
                    kind=page.meta.kind,
                    section=section,
                    anchor=anchor,
                    line=line,
                    text=f"{page.title} › {section}\n\n{piece}",
                )
            )
    return chunks


def chunk_course(course: Course) -> list[Chunk]:
    """Every lesson and reference page (quiz banks are never indexed: they hold answer keys)."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return [chunk for page in course.pages() for chunk in chunk_page(page, splitter)]


def content_hash(chunks: list[Chunk], embedding_name: str) -> str:
    """Changes whenever a chunk, its metadata, the chunker or the embedding model changes."""
    digest = hashlib.sha256(f"{CHUNKER_VERSION}\n{embedding_name}\n".encode())
    for chunk in chunks:
        digest.update(f"{chunk.id}\n{chunk.metadata()}\n{chunk.text}\n".encode())
    return digest.hexdigest()
