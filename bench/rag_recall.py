"""Retrieval quality on bench/rag_questions.yaml: recall@1/3/5 and MRR@10 of the course index
(Chroma + all-MiniLM-L6-v2), next to a keyword baseline (word overlap) measured in the same run,
plus query latency (median of every query).

    .venv/bin/python bench/rag_recall.py [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tutor.content import load_course
from tutor.rag import CourseIndex, chunk_course
from tutor.settings import PROJECT_ROOT

QUESTIONS = Path(__file__).with_name("rag_questions.yaml")


def keyword_ranker(chunks):
    """Baseline: rank chunks by how many of the question's words (3+ letters) they contain."""
    bags = [Counter(re.findall(r"[a-z0-9]{3,}", chunk.text.lower())) for chunk in chunks]

    def rank(question: str) -> list[str]:
        words = set(re.findall(r"[a-z0-9]{3,}", question.lower()))
        scores = [sum(1 for w in words if w in bag) for bag in bags]
        order = sorted(range(len(chunks)), key=lambda i: -scores[i])
        return [f"{chunks[i].page_id}#{chunks[i].anchor}" for i in order[:10]]

    return rank


def metrics(ranked: list[list[str]], answers: list[set[str]]) -> dict[str, float]:
    def recall(k: int) -> float:
        return sum(bool(set(r[:k]) & a) for r, a in zip(ranked, answers, strict=True)) / len(answers)

    reciprocal = [
        next((1 / (i + 1) for i, hit in enumerate(r[:10]) if hit in a), 0.0)
        for r, a in zip(ranked, answers, strict=True)
    ]
    return {"recall@1": recall(1), "recall@3": recall(3), "recall@5": recall(5), "mrr@10": statistics.mean(reciprocal)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    items = yaml.safe_load(QUESTIONS.read_text())
    answers = [set(item["a"]) for item in items]
    course = load_course(PROJECT_ROOT / "lessons")
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="rag-bench-"))
    index = CourseIndex(course, data_dir)
    report = index.ensure()
    latencies, ranked = [], []
    for item in items:
        started = time.perf_counter()
        hits = index.search(item["q"], k=10)
        latencies.append(time.perf_counter() - started)
        ranked.append([f"{h.page_id}#{h.anchor}" for h in hits])
    baseline = keyword_ranker(chunk_course(course))
    base_ranked = [baseline(item["q"]) for item in items]
    ours, base = metrics(ranked, answers), metrics(base_ranked, answers)
    print(
        f"{len(items)} questions, {report.chunks} chunks (index {'built' if report.built else 'reused'} in "
        f"{report.seconds:.1f} s); median query {statistics.median(latencies) * 1000:.0f} ms"
    )
    print(f"{'metric':<10} {'MiniLM+Chroma':>14} {'keyword baseline':>17}")
    for name in ours:
        print(f"{name:<10} {ours[name]:>14.3f} {base[name]:>17.3f}")
    for item, r, a in zip(items, ranked, answers, strict=True):
        if not set(r[:3]) & a:
            print(f"  missed@3: {item['q']}  -> {r[:3]}")
    return 0 if ours["recall@3"] >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
