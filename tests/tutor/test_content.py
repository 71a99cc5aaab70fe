"""Course content: every page parses, front matter is complete, links resolve, and the seed's
key facts and figures are in the text."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tutor.content import ContentError, check_links, load_course, render_for_app, slugify
from tutor.settings import PROJECT_ROOT

LESSONS_DIR = PROJECT_ROOT / "lessons"
COURSE = load_course(LESSONS_DIR)


def text_of(page_id: str) -> str:
    page = COURSE.get(page_id)
    assert page is not None, page_id
    # Compare on plain text: no emphasis markers, one kind of dash, single spaces.
    text = re.sub(r"[*`]", "", page.body).replace("–", "-").replace("—", "-")
    return re.sub(r"\s+", " ", text)


def test_four_lessons_in_seed_order() -> None:
    assert [(p.meta.order, p.title) for p in COURSE.lessons] == [
        (1, "What Fine-Tuning Actually Is"),
        (2, "Building Your Training Dataset"),
        (3, "Running the Fine-Tune — Hyperparameters & LoRA in Practice"),
        (4, "Evaluating & Deploying Your Fine-Tuned Model"),
    ]


def test_lesson_front_matter_is_complete() -> None:
    for page in COURSE.lessons:
        meta = page.meta
        assert meta.question.endswith("?"), page.path
        assert meta.summary and meta.minutes >= 10 and meta.quiz and meta.lab, page.path
        assert page.body.lstrip().startswith(f"# {meta.title}"), page.path


def test_reference_pages_cover_the_lecture_topics() -> None:
    assert {p.id for p in COURSE.reference} >= {
        "adaptation-spectrum",
        "peft-methods",
        "model-landscape",
        "local-models",
        "safety-evaluation",
    }


@pytest.mark.parametrize("page", COURSE.lessons, ids=lambda p: p.id)
def test_lessons_follow_the_seed_structure(page) -> None:
    titles = [section.title.lower() for section in page.sections]
    assert any(title.startswith("case study") for title in titles), "opening case study"
    assert any(title.startswith("checklist") or "checklist" in title for title in titles), "a checklist"
    assert titles[-1] == "key takeaway"
    assert "```" in page.body, "a code example"
    assert re.search(r"^\|.+\|\s*$", page.body, re.MULTILINE), "a comparison table"


def test_every_internal_link_resolves() -> None:
    assert check_links(COURSE) == []
    links = sum(1 for p in COURSE.pages() for _ in re.finditer(r"\]\((?!https?:)[^)]+\.md", p.body))
    assert links >= 15  # the pages really are cross-linked


# (page, fact that must appear in its text). Figures from seeds 004 and 000-003.
KEY_FIGURES = [
    ("hyperparameters-lora", "1e-4 to 2e-4"),
    ("hyperparameters-lora", "1e-5 to 5e-5"),
    ("hyperparameters-lora", "8, 16 or 32"),
    ("hyperparameters-lora", "alpha = 2r"),
    ("hyperparameters-lora", "alpha=16 with r=8"),
    ("hyperparameters-lora", "1-3 for most tasks"),
    ("hyperparameters-lora", "per_device_batch × accumulation_steps × num_gpus"),
    ("hyperparameters-lora", "q_proj and v_proj"),
    ("hyperparameters-lora", "10-100× too high"),
    ("training-data", "50-500 examples"),
    ("training-data", "500-5,000 examples"),
    ("training-data", "10,000-100,000+ examples"),
    ("training-data", "1,000-20,000 preference pairs"),
    ("training-data", "1% of the highest-quality"),
    ("training-data", "500 excellent, varied examples beat 10,000 mediocre ones"),
    ("training-data", "175 human-written seed tasks"),
    ("what-is-fine-tuning", "52,000 instruction examples"),
    ("what-is-fine-tuning", "less than $600"),
    ("what-is-fine-tuning", "50 billion parameters"),
    ("what-is-fine-tuning", "15 trillion tokens"),
    ("what-is-fine-tuning", "1% of what BloombergGPT cost"),
    ("what-is-fine-tuning", "Rafailov et al. in 2023"),
    ("evaluation-deployment", "0.8+ correlation"),
    ("evaluation-deployment", "30-90 days"),
    ("evaluation-deployment", "10-24× the throughput"),
    ("evaluation-deployment", "validation loss of 0.85"),
    ("peft-methods", "16,777,216 numbers"),
    ("peft-methods", "Total: 65,536 numbers"),
    ("peft-methods", "14 GB to about 5 GB"),
    ("peft-methods", "60-80 GB"),
    ("peft-methods", "10-16 GB"),
    ("peft-methods", "100,000+ LoRA adapters"),
    ("adaptation-spectrum", "fewer than 100 examples"),
    ("adaptation-spectrum", "$1-$3 per hour"),
    ("safety-evaluation", "about 100 harmful examples"),
    ("model-landscape", "8 model sizes from 70M to 12B"),
    ("local-models", "70-110 tokens/s"),
]


@pytest.mark.parametrize(("page_id", "fact"), KEY_FIGURES)
def test_key_seed_figures_are_in_the_text(page_id: str, fact: str) -> None:
    assert fact in text_of(page_id)


def test_rank_8_arithmetic_is_right() -> None:
    # The worked example must agree with itself: 2 * 4096 * 8 numbers against 4096^2.
    assert 4096 * 4096 == 16_777_216 and 2 * 4096 * 8 == 65_536
    assert "256× fewer" in text_of("peft-methods")


def test_slugs_match_github_anchors() -> None:
    assert slugify("Why warmup?") == "why-warmup"
    assert slugify("LoRA: Low-Rank Adaptation") == "lora-low-rank-adaptation"
    assert slugify("Serving locally: Ollama and vLLM") == "serving-locally-ollama-and-vllm"


def test_app_rendering_turns_file_links_into_page_links() -> None:
    page = COURSE.get("what-is-fine-tuning")
    rendered = render_for_app(COURSE, page)
    assert "(?open=peft-methods#lora-low-rank-adaptation)" in rendered
    assert ".md" not in re.sub(r"```.*?```", "", rendered, flags=re.DOTALL)


# --- malformed content gives file:line messages ---------------------------------------------


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    shutil.copytree(LESSONS_DIR, tmp_path / "lessons")
    return tmp_path / "lessons"


def test_missing_front_matter_is_reported_with_file_and_line(scratch: Path) -> None:
    page = scratch / "01-what-fine-tuning-is.md"
    page.write_text("# No front matter\n")
    with pytest.raises(ContentError, match=rf"^{re.escape(str(page))}:1: missing front matter"):
        load_course(scratch)


def test_invalid_front_matter_field_is_named(scratch: Path) -> None:
    page = scratch / "02-training-data.md"
    page.write_text(page.read_text().replace("minutes: 30", "minutes: lots"))
    with pytest.raises(ContentError, match=r"02-training-data.md:2: front matter field 'minutes'"):
        load_course(scratch)


def test_lesson_without_question_is_rejected(scratch: Path) -> None:
    page = scratch / "03-hyperparameters-lora.md"
    text = re.sub(r"^question:.*\n", "", page.read_text(), flags=re.MULTILINE)
    page.write_text(text)
    with pytest.raises(ContentError, match="needs a guiding 'question'"):
        load_course(scratch)


def test_broken_link_names_file_and_line(scratch: Path) -> None:
    page = scratch / "04-evaluation-deployment.md"
    lines = page.read_text().splitlines()
    lines.append("See [nowhere](reference/nowhere.md).")
    page.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ContentError, match=rf"04-evaluation-deployment.md:{len(lines)}: link to 'reference/nowhere.md'"
    ):
        load_course(scratch)


def test_link_to_missing_heading_is_reported(scratch: Path) -> None:
    page = scratch / "reference" / "safety-evaluation.md"
    page.write_text(page.read_text() + "\n[x](peft-methods.md#no-such-heading)\n")
    with pytest.raises(ContentError, match=r"no heading #no-such-heading in peft-methods\.md"):
        load_course(scratch)


def test_duplicate_ids_are_rejected(scratch: Path) -> None:
    shutil.copy(scratch / "02-training-data.md", scratch / "05-copy.md")
    with pytest.raises(ContentError, match="id 'training-data' is already used"):
        load_course(scratch)
