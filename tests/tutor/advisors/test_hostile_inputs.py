"""Issue 15, item 3: what a careless or hostile learner pastes costs linear time. Before the fix a
64k-character "a.a.a…" field took the dataset critic's e-mail pattern 16 s, and a log line of
"{" the loss reader's "\\{.*\\}" as long, while the whole process waited. The bound here is loose
(machines are noisy); the quadratic cases took more than ten times as long."""

from __future__ import annotations

import json
import time

import pytest

from tutor.advisors.dataset_checks import critique
from tutor.advisors.loss_log import LogError, parse_log

LONG = 64_000
FIELDS = {
    "dots": "a." * (LONG // 2),
    "at signs": "a@" * (LONG // 2),
    "digits and spaces": "1 " * (LONG // 2),
    "dashes": "1-" * (LONG // 2),
    "braces": "{" * LONG,
}


@pytest.mark.parametrize("shape", FIELDS)
def test_the_dataset_critic_reads_a_huge_field_quickly(shape: str) -> None:
    rows = [json.dumps({"prompt": f"question {i}", "completion": f"answer {i}"}) for i in range(20)]
    rows.append(json.dumps({"prompt": FIELDS[shape], "completion": "ok"}))
    started = time.perf_counter()
    _issues, stats = critique("\n".join(rows), "data.jsonl")
    assert time.perf_counter() - started < 2.0
    assert stats.examples == 21


@pytest.mark.parametrize("shape", FIELDS)
def test_the_loss_reader_reads_a_huge_line_quickly(shape: str) -> None:
    lines = [f"{{'loss': {2.0 - i / 10:.2f}, 'step': {i}}}" for i in range(1, 12)]
    started = time.perf_counter()
    try:
        curve = parse_log("\n".join([*lines, FIELDS[shape]]), "train.log")
    except LogError:
        curve = None
    assert time.perf_counter() - started < 2.0
    assert curve is None or len(curve.train) == 11
