"""The dataset critic on files with planted problems: every kind found, on the right line, and
nothing flagged on clean data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest

from tutor.advisors import dataset
from tutor.advisors.base import AdvisorRequest, UploadedFile
from tutor.advisors.dataset_checks import Issue, IssueCause, IssueKind, critique, parse

DATA = Path(__file__).resolve().parents[2] / "data"


def _chat(text: str, label: str) -> str:
    return json.dumps({"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": label}]})


def test_every_planted_issue_is_found_on_its_line_and_nothing_else() -> None:
    planted = json.loads((DATA / "critic_planted.json").read_text())
    issues, stats = critique(
        (DATA / "critic_planted.jsonl").read_text(),
        "train.jsonl",
        (DATA / "critic_planted_test.jsonl").read_text(),
        "test.jsonl",
    )
    found = {(issue.kind, issue.line) for issue in issues}
    assert found == {(kind, line) for kind, line in planted.items()}
    by_kind = {issue.kind: issue for issue in issues}
    assert by_kind["duplicate"].other_line == 1
    assert by_kind["near_duplicate"].other_line == 1
    assert by_kind["leakage"].other_line == 1
    assert "Positive" in by_kind["inconsistent_format"].detail
    assert "positive 15" in by_kind["label_imbalance"].detail
    assert stats.examples == 24 and stats.lines == 26


def test_clean_balanced_data_has_no_issues() -> None:
    # Make each input distinct enough not to be a near-duplicate of another.
    texts = [
        "Orders climbed on new contracts",
        "Margins shrank after price cuts",
        "Guidance was kept unchanged",
        "Subscribers grew faster than planned",
        "Impairments hit the quarter",
        "The dividend stays at last year's level",
        "Exports reached a record",
        "Losses widened in the retail arm",
        "Headcount was stable",
        "The backlog expanded to a new high",
        "A recall weighed on earnings",
        "Capex plans are unchanged",
    ]
    labels = ["positive", "negative", "neutral"] * 4
    rows = [_chat(text, label) for text, label in zip(texts, labels, strict=True)]
    issues, stats = critique("\n".join(rows), "clean.jsonl")
    assert issues == []
    assert stats.labels == {"positive": 4, "negative": 4, "neutral": 4}


def test_prompt_completion_csv_and_pasted_multiline_json() -> None:
    csv_text = (
        'prompt,completion\n"Pt on metformin 500 mg BID","{""drug"": ""metformin""}"\n"Lisinopril, 10 mg","oops"\n'
    )
    examples, issues, _ = parse(csv_text, "data.csv")
    assert [e.line for e in examples] == [2, 3] and issues == []
    csv_issues, _ = critique(csv_text, "data.csv")
    assert [(i.kind, i.line) for i in csv_issues] == [("inconsistent_format", 3)]

    paste = (
        'My example:\n{"prompt": "Started warfarin 5 mg",\n "completion": "{\\"drug\\": \\"warfarin\\"}"}\n'
        'and\n{"prompt": broken}\n'
    )
    examples, issues, _ = parse(paste)
    assert [e.line for e in examples] == [2]
    assert [(i.kind, i.line) for i in issues] == [("invalid_json", 5)]


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        ('{"messages": [{"role": "user", "content": "hi"}]}', "last message must be the assistant"),
        ('{"messages": [{"role": "bot", "content": "hi"}]}', "role 'bot'"),
        ('["a", "b"]', "expected a JSON object"),
    ],
)
def test_schema_problems_are_explained(line: str, detail: str) -> None:
    issues, _ = critique(line, "x.jsonl")
    assert issues[0].kind == "schema" and detail in issues[0].detail and issues[0].line == 1


def test_the_try_prompt_example_is_flagged_as_not_json() -> None:
    text = dataset.LAB.try_prompt.replace(
        "[paste your example]",
        '\n{"prompt": "Pt started on metformin 500mg twice daily.", "completion": "metformin 500mg"}\n',
    )
    recommendation = dataset.analyse(AdvisorRequest(text=text))
    assert [(i.kind, i.line) for i in recommendation.issues] == [("inconsistent_format", 2)]
    assert "asks for JSON" in recommendation.issues[0].detail
    assert "500–5,000" in recommendation.volume_advice
    assert ("training-data", "data-quality-checklist") in {(c.page_id, c.anchor) for c in recommendation.citations}


def test_uploaded_files_and_leakage_through_the_advisor() -> None:
    train = UploadedFile("train.jsonl", (DATA / "critic_planted.jsonl").read_text())
    test = UploadedFile("test.jsonl", (DATA / "critic_planted_test.jsonl").read_text())
    recommendation = dataset.analyse(AdvisorRequest(text="check my sentiment data", files=[train, test]))
    assert recommendation.source == "train.jsonl"
    assert recommendation.counts["leakage"] == 1
    assert recommendation.verdict.startswith("fix before training")
    assert any("leaked" in fix for fix in recommendation.fixes)


def test_drafts_from_model_text_are_marked() -> None:
    text = 'Here you go:\n{"input": "Sales fell", "output": "negative"}\nnot json\n{"input": "x",'
    drafts = dataset.parse_drafts(text)
    assert [json.loads(d) for d in drafts] == [{"input": "Sales fell", "output": "negative", "draft": True}]


def test_drafts_without_the_example_fields_are_dropped() -> None:
    # What the packaged SmolLM2 wrote for three sentiment examples (seed 1): keys, not examples.
    text = "\n".join(
        [
            '{"key1": "name"}',
            '{"key2": "description"}',
            '{"input": "", "output": "positive"}',
            '{"input": "ok", "output": 3}',
        ]
    )
    assert dataset.parse_drafts(text) == []
    # A copy of a shown example is not a new one.
    shown = [{"input": "Sales fell", "output": "negative"}]
    again = '{"input": "Sales fell", "output": "negative"}\n{"input": "Sales rose", "output": "positive"}'
    assert [json.loads(d)["input"] for d in dataset.parse_drafts(again, shown)] == ["Sales rose"]


@pytest.mark.parametrize(
    ("contact", "flagged"),
    [
        ("call me on +44 7700 900123", True),  # international numbers with spaces
        ("reach me at +31 6 1234 5678", True),
        ("the score went +2 3 times", False),  # too few digits for a phone number
        ("revenue grew +15 percent", False),
    ],
)
def test_international_phone_numbers_are_personal_data(contact: str, flagged: bool) -> None:
    rows = [{"prompt": f"Ticket {i}: my order {i} is late", "completion": "We are checking it."} for i in range(12)]
    rows[5]["prompt"] += f" ({contact})"
    issues, _ = critique("".join(json.dumps(r) + "\n" for r in rows), "train.jsonl")
    assert ((6, "pii") in {(i.line, i.kind) for i in issues}) is flagged


def test_a_json_answer_among_prose_answers_is_an_inconsistent_format() -> None:
    words = ["password", "address", "invoice", "card", "refund", "login", "order", "plan", "seat", "team", "export"]
    rows = [
        {"prompt": f"How do I change my {w}?", "completion": f"Open Settings and edit your {w} there."} for w in words
    ]
    rows[7]["completion"] = json.dumps({"reply": rows[7]["completion"]})
    issues, _ = critique("".join(json.dumps(r) + "\n" for r in rows), "train.jsonl")
    assert [(i.line, i.kind) for i in issues] == [(8, "inconsistent_format")]


def test_the_planted_issue_files_of_the_test_split_are_caught() -> None:
    """bench/dataset_scenarios.py's test split: every planted issue at its line in >= 95% of the files."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
    import dataset_scenarios

    files = dataset_scenarios.generate("test")
    found = dataset_scenarios.run_critic(dataset_scenarios._plain(files))
    caught = [f.name for f, r in zip(files, found, strict=True) if not dataset_scenarios.missed(f, r)]
    assert len(caught) >= 0.95 * len(files), sorted({f.name for f in files} - set(caught))


# --- uploads saved in another Unicode encoding ----------------------------------------------

_WINDOWS_JSONL = (
    '{"prompt": "Sales rose 5% on new orders", "completion": "positive"}\r\n'
    '{"prompt": "Café margins fell", "completion": "negative",}\r\n'  # a trailing comma: invalid JSON
    '{"prompt": "Guidance unchanged", "completion": ""}\r\n'
)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_jsonl_upload_with_a_byte_order_mark_is_read_and_critiqued_on_its_lines(
    encoding: str, tmp_path: Path
) -> None:
    """A newcomer's JSONL saved by Windows Notepad or PowerShell's Out-File (UTF-16 with a
    byte-order mark) was refused as "binary": UTF-16 holds a NUL byte beside every ASCII letter."""
    from tutor.advisors.base import read_upload

    data = _WINDOWS_JSONL.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # these codecs write no mark; the editor does
        data = "\ufeff".encode(encoding) + data
    path = tmp_path / "train.jsonl"
    path.write_bytes(data)
    upload = read_upload(path, max_bytes=1_000_000)
    assert upload.text.startswith('{"prompt": "Sales') and "Café" in upload.text  # no mark left in the text
    recommendation = dataset.analyse(AdvisorRequest(text="check", files=[upload]))
    assert [(i.kind, i.line) for i in recommendation.issues] == [("invalid_json", 2), ("empty_output", 3)]


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",  # an image
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",  # a zip archive
        b"\xff\xfe\x89PNG\r\n\x1a\n\x00\x00\x00\x00",  # a UTF-16 mark followed by binary data
    ],
)
def test_a_binary_upload_is_still_refused_as_binary(data: bytes, tmp_path: Path) -> None:
    from tutor.advisors.base import AdvisorInputError, read_upload

    path = tmp_path / "train.jsonl"
    path.write_bytes(data)
    with pytest.raises(AdvisorInputError, match=r"train\.jsonl looks like a binary file"):
        read_upload(path, max_bytes=1_000_000)


# --- fixes in the words of the file's format ------------------------------------------------

# What only a JSON Lines record looks like: a CSV learner shown these is told to change format.
_JSONL_SHAPES = ('{"', "{'", '"messages"', '"prompt"', '"instruction"', "JSON object", "one per line")


def _csv_advice(text: str) -> dataset.DatasetRecommendation:
    return dataset.analyse(AdvisorRequest(text="check my data", files=[UploadedFile("train.csv", text)]))


def test_a_broken_csv_quote_gets_csv_fixes_not_jsonl_record_shapes() -> None:
    """A newcomer's CSV with a quote that never closes was told to use
    {"messages": ...} or {"prompt": ...}, the shapes of a JSONL file."""
    text = 'text,label\nSales rose,positive\n"Shares rose after earnings,positive\nProfit fell 10%,negative\n'
    recommendation = _csv_advice(text)
    assert [(i.kind, i.line) for i in recommendation.issues] == [("schema", 3)]
    quote_fix = next(fix for fix in recommendation.fixes if "quote" in fix)
    assert "line 3" in quote_fix and '""' in quote_fix
    shown = recommendation.markdown()
    assert not [shape for shape in _JSONL_SHAPES if shape in shown], shown


def test_a_csv_without_examples_is_shown_the_header_it_needs() -> None:
    recommendation = _csv_advice('text,label\n"Shares rose after earnings,positive\nProfit fell,negative\n')
    assert recommendation.stats.examples == 0
    note = next(note for note in recommendation.notes if "No examples" in note)
    assert "prompt,completion" in note and "text,label" in note
    assert not [shape for shape in _JSONL_SHAPES if shape in recommendation.markdown()]


def test_csv_header_and_column_problems_get_their_own_fix_naming_their_lines() -> None:
    no_pair = _csv_advice("note,answer_text\nhello,world\n")
    assert [(i.kind, i.line) for i in no_pair.issues] == [("schema", 1)]
    assert any("header" in fix and "`prompt,completion`" in fix for fix in no_pair.fixes), no_pair.fixes
    extra = _csv_advice("prompt,completion\nLisinopril, 10 mg,lisinopril\nMetformin,metformin\n")
    assert [(i.kind, i.line) for i in extra.issues] == [("schema", 2)]
    assert any("line 2" in fix and "comma" in fix for fix in extra.fixes), extra.fixes


def _every_issue() -> list[Issue]:
    """One issue of every kind, and of every cause a CSV schema problem can have."""
    issues = [Issue(kind=kind, line=4, detail="x") for kind in get_args(IssueKind)]
    return issues + [Issue(kind="schema", line=5, detail="x", cause=cause) for cause in get_args(IssueCause)]


def test_no_fix_for_a_csv_shows_a_jsonl_record_shape() -> None:
    fixes = dataset.fixes_for(_every_issue(), "train.csv")
    assert fixes and not [(shape, fix) for fix in fixes for shape in _JSONL_SHAPES if shape in fix]
    # Every problem a CSV can have gets a fix (invalid JSON cannot happen in one).
    csv_kinds = [kind for kind in get_args(IssueKind) if kind != "invalid_json"]
    for kind in csv_kinds:
        assert dataset.fixes_for([Issue(kind=kind, line=4, detail="x")], "train.csv"), kind


@pytest.mark.parametrize("filename", ["train.jsonl", ""])
def test_json_inputs_keep_their_json_fixes(filename: str) -> None:
    fixes = dataset.fixes_for([Issue(kind="schema", line=2, detail="x")], filename)
    assert fixes == [dataset.FIXES["schema"]] and '{"messages"' in fixes[0]
