"""A learner's shorthand is spelled out the way the course writes it before the course is searched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tutor.advisors.course_words import spelled_out


@pytest.mark.parametrize(
    ("typed", "course_words"),
    [
        ("can i reuse the lr from the paper", "can i reuse the learning rate from the paper"),
        ("our val loss climbs after epoch 2", "our validation loss climbs after epoch 2"),
        ("how many trainable params does it add", "how many trainable parameters does it add"),
        ("we finetuned a 7b with 4bit weights", "we fine-tuned a 7b with 4-bit weights"),
        ("does 8 bit lose quality", "does 8-bit lose quality"),
        ("bs=2 and no grad accum", "batch size=2 and no gradient accumulation"),
        ("how much vram does qlora need", "how much GPU memory does qlora need"),
        ("we keep getting oom w/ a 13b", "we keep getting out of memory with a 13b"),
        ("LR of 2e-4 and ctx of 4k", "learning rate of 2e-4 and context of 4k"),
    ],
)
def test_shorthand_is_spelled_out_as_the_course_writes_it(typed: str, course_words: str) -> None:
    assert spelled_out(typed) == course_words


@pytest.mark.parametrize(
    "text",
    [
        # Words that only look like shorthand, and the course's own words.
        "the learning rate and the validation loss",
        "val d'isère is where our ski school is",  # a place, not a loss
        "that's bs, the model never said that",  # not a batch size
        "we pay $1–$3 per hour",
        "we evaluate our bot every week",
    ],
)
def test_words_that_are_not_shorthand_are_left_alone(text: str) -> None:
    assert spelled_out(text) == text


@pytest.mark.parametrize(
    ("typed", "annotated"),
    [
        (
            "how far off were the step sizes people copied from big-model research",
            "how far off were the step sizes (learning rate) people copied from big-model research",
        ),
        (
            "can i bolt my small add-on onto the newer release",
            "can i bolt my small add-on (LoRA adapter) onto the newer release",
        ),
        # Once per term, and not where the course's term is already said.
        (
            "how many passes over the data, and how many passes over the data again",
            "how many passes over the data (epochs), and how many passes over the data again",
        ),
        ("how many epochs, i.e. passes over the data", "how many epochs, i.e. passes over the data"),
    ],
)
def test_a_phrase_for_a_course_term_gets_the_term_beside_it(typed: str, annotated: str) -> None:
    assert spelled_out(typed) == annotated


def test_the_glossary_names_only_course_terms_and_no_tool_the_course_never_mentions() -> None:
    from tutor.advisors.course_words import GLOSSARY

    entries = yaml.safe_load(GLOSSARY.read_text(encoding="utf-8"))
    course = " ".join(p.read_text(encoding="utf-8") for p in Path("lessons").rglob("*.md")).lower()
    course = re.sub(r"\s+", " ", course)
    said = [s for e in entries for s in e["said"]]
    assert len(said) == len(set(said)), "a phrase listed under two terms"
    for entry in entries:
        assert entry["term"].lower() in course, entry["term"]
    # Off-course topics must stay off the course: their words are no course term's.
    for off_course in ("weight decay", "vector database", "knowledge distillation", "dropout"):
        assert spelled_out(f"what {off_course} should i use") == f"what {off_course} should i use"


def test_the_term_in_another_spelling_gets_nothing_beside_it() -> None:
    """Search and ranking fold British and American spellings already; the term beside its own
    spelling would count its words twice and push it above the sentence that answers."""
    typed = "any regularization trick for our model"
    assert spelled_out(typed) == typed
    assert spelled_out("what about quantisation") == "what about quantisation"


def test_odd_unicode_and_words_with_other_meanings_are_left_alone() -> None:
    assert spelled_out("what is the ſtep size") == "what is the ſtep size (learning rate)"  # a long s: no crash
    for typed in ("ppl say lora is enough", "we only have one shot at this", "did the data leak to the vendor"):
        assert spelled_out(typed) == typed


def test_a_term_typed_as_one_word_or_without_its_hyphen_gets_the_term() -> None:
    assert spelled_out("is q4km good enough") == "is q4km (Q4_K_M) good enough"
    assert spelled_out("how long should the warm up be") == "how long should the warm up (warmup) be"
