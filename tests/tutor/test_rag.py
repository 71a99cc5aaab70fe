"""Retrieval on the real index: Chroma + the packaged MiniLM, rebuilt only when content changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tutor.content import load_course
from tutor.rag import CourseIndex, chunk_course
from tutor.rag.chunks import whole_pieces
from tutor.rag.lexical import named_terms
from tutor.settings import PROJECT_ROOT

LESSONS = PROJECT_ROOT / "lessons"


def test_chunks_know_their_page_and_section() -> None:
    course = load_course(LESSONS)
    chunks = chunk_course(course)
    assert len(chunks) > 60 and len({c.id for c in chunks}) == len(chunks)
    for chunk in chunks:
        page = course.get(chunk.page_id)
        assert page is not None and chunk.anchor in page.anchors()
        assert chunk.text.startswith(page.title) and len(chunk.text) < 1200
    # Quiz banks hold answer keys: only course pages are indexed.
    assert {c.page_id for c in chunks} == {p.id for p in course.pages()}


def test_a_piece_cut_inside_code_or_a_table_reads_on_its_own() -> None:
    text = (
        "Intro.\n\n```python\nargs = dict(\n    lr=2e-4,\n)\n```\n\n"
        "| Setting | Value |\n|---|---|\n| rank | 8 |\n| alpha | 16 |"
    )
    pieces = ["Intro.\n\n```python\nargs = dict(", "    lr=2e-4,\n)\n```", "| alpha | 16 |"]
    assert whole_pieces(text, pieces) == [
        "Intro.\n\n```python\nargs = dict(\n```",  # the fence it opened is closed
        "```\n    lr=2e-4,\n)\n```",  # the code it continues is fenced again
        "| Setting | Value |\n|---|---|\n| alpha | 16 |",  # the row comes with its header
    ]
    # In the course itself every chunk has whole code blocks.
    assert all(chunk.text.count("```") % 2 == 0 for chunk in chunk_course(load_course(LESSONS)))


def test_search_finds_the_right_section_and_the_index_is_reused(shared_data_dir: Path) -> None:
    course = load_course(LESSONS)
    index = CourseIndex(course, shared_data_dir)
    index.ensure()
    again = CourseIndex(course, shared_data_dir).ensure()
    assert not again.built and again.chunks == len(chunk_course(course))
    hits = index.search("What learning rate should I use for LoRA?", k=3)
    assert (hits[0].page_id, hits[0].anchor) == ("hyperparameters-lora", "the-hyperparameters-that-matter")
    assert hits[0].score > hits[-1].score > 0 and hits[0].link.startswith("?open=hyperparameters-lora#")
    only = index.search("learning rate", k=2, page_ids=["training-data"])
    assert {p.page_id for p in only} == {"training-data"}
    assert index.search("   ") == []


def test_changed_content_rebuilds_the_index(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    shutil.copytree(LESSONS, lessons)
    first = CourseIndex(load_course(lessons), tmp_path / "var").ensure()
    page = lessons / "02-training-data.md"
    page.write_text(page.read_text() + "\n\nPlanted sentence: zebra-striped validation sets.\n")
    index = CourseIndex(load_course(lessons), tmp_path / "var")
    second = index.ensure()
    assert first.built and second.built and first.content_hash != second.content_hash
    assert "zebra-striped" in index.search("zebra-striped validation sets", k=1)[0].text


def test_a_text_embedded_once_is_not_embedded_again(shared_data_dir: Path) -> None:
    """Every answer ranks its passages' sentences: the warm-up embeds the course's once, and after
    that an answer embeds only its question (issue 16)."""
    from tutor.advisors.extractive import ranked_texts

    index = CourseIndex(load_course(LESSONS), shared_data_dir)
    sentences = ranked_texts(index.chunks())
    assert len(sentences) > 400
    first = index.embed(sentences[:50])
    seen: list[list[str]] = []
    model = index.embeddings()
    embed_documents = model.embed_documents
    object.__setattr__(model, "embed_documents", lambda texts: seen.append(texts) or embed_documents(texts))
    try:
        again = index.embed(["What is LoRA?", *sentences[:50], "What is LoRA?"])
    finally:
        object.__delattr__(model, "embed_documents")
    assert seen == [["What is LoRA?"]]  # only the new text, once
    assert again[1:51] == first and again[0] == again[51]
    assert abs(sum(x * x for x in again[0]) - 1) < 1e-5  # a unit vector like the rest


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("what's MMLU for? someone mentioned it", ["MMLU"]),
        ("NF4 or Q4_K_M, and is GGUF the same as gguf?", ["NF4", "Q4_K_M", "GGUF"]),
        ("a 10 year old asked about 3 things in 2024", []),  # numbers are not names
        ("LoRA and QLoRA", []),  # words in mixed case: the course's vocabulary finds them
    ],
)
def test_names_a_learner_writes_are_acronyms_and_terms_with_digits(text: str, names: list[str]) -> None:
    assert named_terms(text) == names
