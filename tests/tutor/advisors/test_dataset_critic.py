"""The dataset critic on files with planted problems: every kind found, on the right line, and
nothing flagged on clean data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tutor.advisors import dataset
from tutor.advisors.base import AdvisorRequest, UploadedFile
from tutor.advisors.dataset_checks import critique, parse

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
