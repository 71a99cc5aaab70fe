"""The checks on a finished answer: only complete sentences stand."""

from __future__ import annotations

import pytest

from tutor.advisors.grounding import complete_sentences, ends_complete


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("LoRA adds small matrices. QLoRA also quantizes the", "LoRA adds small matrices."),
        ("Is it worth it? Yes!  ", "Is it worth it? Yes!"),
        ('He said "use rank 16." Then the', 'He said "use rank 16."'),
        ("Use **QLoRA.** The base stays", "Use **QLoRA.**"),
        ("A learning rate of 2e-4 works", ""),
        ("Version 2.5 is out", ""),  # a decimal point is not a sentence end
        ("", ""),
        ("Here is why:\n\n1. It helps.\n2.", "Here is why:\n\n1. It helps."),  # a list number is no sentence end
        ("So here is how it works:\n\n1.", ""),
    ],
)
def test_complete_sentences(text: str, kept: str) -> None:
    assert complete_sentences(text) == kept


def test_ends_complete() -> None:
    assert ends_complete("It fits in 24 GB.")
    assert not ends_complete("It fits in 24")
    assert not ends_complete("   ")
