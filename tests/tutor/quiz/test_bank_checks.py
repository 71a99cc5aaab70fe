"""Bank validation finds every problem it can in one pass, each at its line: field errors beside
duplicate ids, missing questions and wrong keys; identical options; YAML's booleans where text is
meant; and bank files in UTF-16 as Windows editors save them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.quiz_bank import BANK
from tutor.quiz.bank import BankError, dump_bank_yaml, load_bank, parse_bank_yaml
from tutor.quiz.bank_files import read_bank
from tutor.quiz.gift import write_gift


def problems_of(text: str) -> list[str]:
    with pytest.raises(BankError) as caught:
        parse_bank_yaml(text, "demo.yaml")
    return caught.value.problems


def test_field_errors_do_not_hide_the_other_problems() -> None:
    """A newcomer fixed the field errors, then met the duplicate id, then the missing 't99', then the
    question with no right answer, one stage at a time. All of them now come in one report."""
    text = """bank: demo
title: Demo
questions:
  - id: t1
    stem: First
    options:
      - {text: A, correct: true, feedback: no}
      - {text: B}
  - id: t1
    stem: Second
    options:
      - {text: A}
      - {text: B, feedback: 3}
quizzes:
  - id: quiz
    title: Quiz
    questions: [t1, t99]
"""
    assert problems_of(text) == [
        "demo.yaml:7: questions.0.options.0.feedback: Input should be a valid string; YAML reads no as false: "
        'put the text in quotes: feedback: "no"',
        "demo.yaml:9: questions.1: a single-answer question needs exactly one correct option (weight 100)",
        "demo.yaml:9: question id 't1' is used twice",
        "demo.yaml:13: questions.1.options.1.feedback: Input should be a valid string; YAML reads 3 as a number: "
        'put the text in quotes: feedback: "3"',
        "demo.yaml:17: no question 't99' in this bank",
    ]


def test_a_key_check_is_not_guessed_from_a_broken_weight() -> None:
    text = """bank: demo
title: Demo
questions:
  - id: m1
    type: multiple
    stem: Which?
    options:
      - {text: A, weight: lots}
      - {text: B}
"""
    assert problems_of(text) == [
        "demo.yaml:8: questions.0.options.0.weight: Input should be a valid number, unable to parse string as a number"
    ]


def test_a_key_problem_is_reported_once_when_the_fields_are_fine() -> None:
    text = "bank: demo\ntitle: Demo\nquestions:\n  - id: q1\n    stem: S\n    options: [{text: a}, {text: b}]\n"
    assert problems_of(text) == [
        "demo.yaml:4: questions.0: a single-answer question needs exactly one correct option (weight 100)"
    ]


def test_two_identical_options_are_refused_at_the_second_ones_line() -> None:
    text = """bank: demo
title: Demo
questions:
  - id: q1
    stem: Pick one
    options:
      - {text: A, correct: true}
      - {text: B}
      - {text: A}
"""
    assert problems_of(text) == [
        "demo.yaml:9: question 'q1': options 1 and 3 are both 'A': learners would see two identical choices"
    ]


def test_the_shipped_bank_has_no_identical_options() -> None:
    assert parse_bank_yaml(dump_bank_yaml(BANK)).model_dump() == BANK.model_dump()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_bank_saved_with_a_byte_order_mark_is_read(encoding: str) -> None:
    """Windows editors save UTF-16 with a byte-order mark; its NUL bytes made it 'a binary file'."""
    mark = {"utf-16-be": "\ufeff"}.get(encoding, "")  # the codecs named without a byte order add it
    yaml_result = read_bank((mark + dump_bank_yaml(BANK)).encode(encoding), "module3.yaml")
    assert yaml_result.problems == [] and yaml_result.bank is not None
    assert yaml_result.bank.model_dump() == BANK.model_dump()
    gift_result = read_bank((mark + write_gift(BANK)).encode(encoding), "module3.gift")
    assert gift_result.problems == [] and gift_result.bank is not None
    assert len(gift_result.bank.questions) == len(BANK.questions)


def test_binary_and_latin_1_files_keep_their_messages(tmp_path: Path) -> None:
    assert read_bank(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image.gift").problems == [
        "image.gift:1: this is a binary file, not a YAML or GIFT bank"
    ]
    latin_1 = "bank: demo\ntitle: Café\n".encode("latin-1")
    assert read_bank(latin_1, "cafe.yaml").problems == ["cafe.yaml:2: not UTF-8 text (byte 0xe9)"]
    utf_16 = tmp_path / "module3.yaml"
    utf_16.write_bytes(dump_bank_yaml(BANK).encode("utf-16"))
    assert load_bank(utf_16).model_dump() == BANK.model_dump()
    latin = tmp_path / "cafe.yaml"
    latin.write_bytes(latin_1)
    with pytest.raises(BankError, match=r"cafe.yaml:2: not UTF-8 text"):
        load_bank(latin)
