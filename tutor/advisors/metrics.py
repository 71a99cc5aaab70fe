"""Automated metrics from Lesson 4 on predictions against references: exact match, token F1,
ROUGE-L (Google's rouge-score package) and schema validity for JSON outputs."""

from __future__ import annotations

import json
import re
import string
from collections import Counter

from pydantic import BaseModel, Field

from trainer.records import is_csv, read_csv, read_jsonl

PAIR_FIELDS = [
    ("prediction", "reference"),
    ("output", "expected"),
    ("pred", "ref"),
    ("predicted", "gold"),
    ("prediction", "label"),
    ("output", "reference"),
    ("generated", "reference"),
]


class MetricsError(ValueError):
    """Files that cannot be scored; the message names the file and line."""


class MetricsReport(BaseModel):
    pairs: int
    exact_match: float = Field(description="Share of predictions equal to the reference after normalisation.")
    f1: float = Field(description="Mean token-overlap F1 (SQuAD style).")
    rouge_l: float = Field(description="Mean ROUGE-L F-measure (with stemming).")
    schema_validity: float | None = Field(
        None,
        description="Share of predictions that are valid JSON with the "
        "reference's keys; None when references are not JSON.",
    )
    worst: list[dict] = Field(default_factory=list, description="A few of the lowest-scoring pairs.")


def normalise(text: str) -> str:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = normalise(prediction).split(), normalise(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _json_object(text: str):
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None
    return value


def schema_valid(prediction: str, reference: str) -> bool | None:
    """None when the reference is not JSON (nothing to check against)."""
    ref = _json_object(reference)
    if not isinstance(ref, dict | list):
        return None
    pred = _json_object(prediction)
    if isinstance(ref, dict):
        return isinstance(pred, dict) and set(pred) == set(ref)
    return isinstance(pred, list)


def score(pairs: list[tuple[str, str]]) -> MetricsReport:
    if not pairs:
        raise MetricsError("no prediction/reference pairs to score")
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    rows = []
    for prediction, reference in pairs:
        rows.append(
            {
                "prediction": prediction,
                "reference": reference,
                "exact": float(normalise(prediction) == normalise(reference)),
                "f1": token_f1(prediction, reference),
                "rouge_l": scorer.score(reference, prediction)["rougeL"].fmeasure,
                "schema": schema_valid(prediction, reference),
            }
        )
    checked = [r["schema"] for r in rows if r["schema"] is not None]
    n = len(rows)
    worst = sorted(rows, key=lambda r: (r["f1"], r["rouge_l"]))[:3]
    return MetricsReport(
        pairs=n,
        exact_match=round(sum(r["exact"] for r in rows) / n, 4),
        f1=round(sum(r["f1"] for r in rows) / n, 4),
        rouge_l=round(sum(r["rouge_l"] for r in rows) / n, 4),
        schema_validity=round(sum(checked) / len(checked), 4) if checked else None,
        worst=[{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in worst],
    )


def _records(text: str, name: str) -> list[dict] | None:
    """JSON lines or CSV rows as dicts; None for plain text (one answer per line)."""
    if not text.strip():
        raise MetricsError(f"{name}: the file is empty")
    if text.lstrip().startswith("{"):
        read = read_jsonl(text)
        bad = [(r.line, "expected a JSON object") for r in read.records if not isinstance(r.value, dict)]
        rows = [record.value for record in read.records]
    elif is_csv(name):
        read = read_csv(text)
        bad = []
        rows = [{key: value for key, value in record.value.items() if key} for record in read.records]
    else:
        return None
    bad += [(problem.line, problem.detail) for problem in read.problems]
    if bad:
        line, detail = min(bad)
        raise MetricsError(f"{name}:{line}: {detail}")
    if not rows:
        raise MetricsError(f"{name}: no rows after the header; put one prediction and reference per line")
    return rows


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def pairs_from_files(first: tuple[str, str], second: tuple[str, str] | None = None) -> list[tuple[str, str]]:
    """Pairs from one file with prediction and reference fields, or from two line-aligned files
    (predictions first). Each file is (name, text)."""
    name, text = first
    records = _records(text, name)
    if second is None:
        if records is None:
            raise MetricsError(
                f"{name}: one file needs a prediction and a reference per line (JSONL or CSV), "
                "or upload predictions and references as two files"
            )
        keys = set(records[0])
        pair = next(((p, r) for p, r in PAIR_FIELDS if p in keys and r in keys), None)
        if pair is None:
            raise MetricsError(f"{name}:1: no prediction/reference fields (found: {', '.join(sorted(keys))})")
        out = []
        for number, record in enumerate(records, start=1):
            if pair[0] not in record or pair[1] not in record:
                raise MetricsError(f"{name}: record {number} lacks '{pair[0]}' or '{pair[1]}'")
            out.append((_as_text(record[pair[0]]), _as_text(record[pair[1]])))
        return out
    other_name, other_text = second
    predictions = _column(records, text, name, ("prediction", "output", "pred", "predicted", "generated"))
    references = _column(
        _records(other_text, other_name),
        other_text,
        other_name,
        ("reference", "expected", "ref", "gold", "label", "output", "completion"),
    )
    if len(predictions) != len(references):
        raise MetricsError(
            f"{name} has {len(predictions)} predictions but {other_name} has {len(references)} "
            "references; they must line up one to one"
        )
    return list(zip(predictions, references, strict=True))


def _column(records: list[dict] | None, text: str, name: str, fields: tuple[str, ...]) -> list[str]:
    if records is None:
        return [line for line in text.splitlines() if line.strip()]
    key = next((f for f in fields if f in records[0]), None)
    if key is None and len(records[0]) == 1:
        key = next(iter(records[0]))
    if key is None:
        raise MetricsError(f"{name}:1: which field holds the text? expected one of {', '.join(fields)}")
    return [_as_text(record.get(key, "")) for record in records]
