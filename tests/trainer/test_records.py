"""The one JSONL/CSV reader: records carry the line they start on; problems are listed, not raised."""

from __future__ import annotations

import pytest

from trainer.records import BadLine, NotTextError, decode_text, is_csv, is_jsonl, read_csv, read_jsonl


def test_jsonl_records_keep_their_line_numbers_and_bad_lines_are_listed() -> None:
    text = '{"a": 1}\n\n{"a": 2,}\n[1, 2]\n{"a": 3}\n'
    result = read_jsonl(text)
    assert [(r.line, r.value) for r in result.records] == [(1, {"a": 1}), (4, [1, 2]), (5, {"a": 3})]
    assert len(result.problems) == 1
    assert result.problems[0].line == 3
    assert result.problems[0].detail.startswith("not valid JSON: ")
    assert result.lines == 5


def test_csv_rows_start_line_counts_multiline_fields_and_header_is_normalised() -> None:
    text = 'Prompt ,Completion\n"two\nlines",yes\nthree,no,extra\nfour\n'
    result = read_csv(text)
    assert result.columns == ["prompt", "completion"]
    assert [(r.line, r.value) for r in result.records] == [
        (2, {"prompt": "two\nlines", "completion": "yes"}),
        (5, {"prompt": "four", "completion": ""}),
    ]
    assert result.problems == [BadLine(4, "more values than header columns", "columns")]


def test_a_quote_that_never_closes_is_named_at_its_line() -> None:
    """A newcomer's CSV with one unterminated quote: every row after it was read into one value,
    and the critic reported "line 2: 'label' is empty" instead of the quote."""
    text = 'text,label\n"Shares rose after earnings,positive\nProfit fell 10%,negative\nGuidance unchanged,neutral\n'
    result = read_csv(text)
    assert result.records == []
    assert [p.line for p in result.problems] == [2]
    assert "quote" in result.problems[0].detail and "never closed" in result.problems[0].detail
    assert result.problems[0].cause == "quote"
    # A quote closed in a later row breaks the CSV there: named with both lines, and the rows
    # after it are read again.
    text = 'text,label\n"unterminated quote,positive\nfoo,bar\n"ok",NEGATIVE\nfine,negative\n'
    result = read_csv(text)
    assert [(r.line, r.value) for r in result.records] == [(5, {"text": "fine", "label": "negative"})]
    assert [p.line for p in result.problems] == [2] and "line 4" in result.problems[0].detail


def test_csv_header_can_be_kept_as_written() -> None:
    result = read_csv("Text,Label\nhi,positive\n", normalise_header=False)
    assert result.columns == ["Text", "Label"]
    assert result.records[0].value == {"Text": "hi", "Label": "positive"}


def test_file_kinds_by_suffix() -> None:
    assert is_csv("data.CSV") and not is_csv("data.jsonl")
    assert all(is_jsonl(name) for name in ("a.jsonl", "b.JSON", "c.ndjson"))
    assert not is_jsonl("notes.txt")


_TEXT = 'text,label\r\n"Café, ""fine""",positive\r\nbad,negative\r\n'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_text_is_decoded_by_its_byte_order_mark(encoding: str) -> None:
    """Windows editors save UTF-16 (Notepad, PowerShell) or UTF-8 with a byte-order mark; the
    mark says which, and is not part of the text."""
    data = _TEXT.encode(encoding)
    if encoding in ("utf-16-be", "utf-32-be"):  # these codecs write no mark; the editor does
        data = "\ufeff".encode(encoding) + data
    text = decode_text(data)
    assert text == _TEXT
    assert [(r.line, r.value["text"]) for r in read_csv(text).records] == [(2, 'Café, "fine"'), (3, "bad")]


@pytest.mark.parametrize(
    "data",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"PK\x03\x04\x14\x00", b"\xff\xfe\x89P\x00\x00\x00\x00", b"a\x00b"],
)
def test_binary_data_is_named_binary(data: bytes) -> None:
    with pytest.raises(NotTextError, match="binary") as caught:
        decode_text(data)
    assert caught.value.binary and caught.value.line is None


def test_bytes_that_do_not_decode_are_named_with_their_line() -> None:
    with pytest.raises(NotTextError, match=r"not UTF-8 text \(byte 0xe9\)") as caught:
        decode_text(b"prompt,completion\nok,fine\ncaf\xe9,bad\n")
    assert caught.value.line == 3 and not caught.value.binary
    # UTF-16 with a lone surrogate on its second line.
    data = "\ufeffa\nb".encode("utf-16-le") + b"\x00\xd8" + "\n".encode("utf-16-le")
    with pytest.raises(NotTextError, match="not valid UTF-16 LE text") as caught:
        decode_text(data)
    assert caught.value.line == 2
