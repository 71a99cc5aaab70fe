"""Dataset critic speed on a generated 10,000-line chat JSONL (with duplicates, near-duplicates,
PII and format slips mixed in), next to a baseline of only parsing every line with json.loads,
measured in the same run. Median of --runs runs.

    .venv/bin/python bench/critic_speed.py [--lines 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tutor.advisors.dataset_checks import critique

SUBJECTS = ["Revenue", "Operating profit", "Net sales", "Order intake", "Cash flow", "Margin", "Headcount", "Debt"]
VERBS = ["rose", "fell", "was flat", "jumped", "slipped", "recovered", "doubled", "halved"]
PLACES = ["in Europe", "in Asia", "in the US", "at the retail unit", "in the cloud segment", "for the group"]


def make_dataset(lines: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    rows = []
    for n in range(lines):
        text = (
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.randint(1, 60)}% {rng.choice(PLACES)} in Q{n % 4 + 1} "
            f"{2000 + n % 25}, report {n}."
        )
        label = rng.choice(["positive", "negative", "neutral"])
        if n % 997 == 0:
            text += " Contact ir@example.com."
        if n % 1013 == 0:
            label = label.title()
        rows.append(
            json.dumps({"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": label}]})
        )
        if n % 500 == 0 and rows:
            rows.append(rows[-1])  # exact duplicate
    return "\n".join(rows[:lines]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = make_dataset(args.lines)
    ours, base = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        for line in text.splitlines():
            json.loads(line)
        base.append(time.perf_counter() - started)
        started = time.perf_counter()
        issues, stats = critique(text, "train.jsonl")
        ours.append(time.perf_counter() - started)
    kinds: dict[str, int] = {}
    for issue in issues:
        kinds[issue.kind] = kinds.get(issue.kind, 0) + 1
    print(f"{stats.examples} examples; issues {kinds}")
    print(f"critique: median {statistics.median(ours):.2f} s (runs {', '.join(f'{t:.2f}' for t in ours)})")
    ratio = statistics.median(ours) / statistics.median(base)
    print(f"json.loads only: median {statistics.median(base):.3f} s; critique/json.loads = {ratio:.0f}x")
    return 0 if statistics.median(ours) < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
