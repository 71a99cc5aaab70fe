"""Train the answer reader (tutor/advisors/answerable.py) on DEV files, choose its threshold on a
validation split, and score the held-out files, in one run.

    .venv/bin/python bench/train_answerable.py [--write]

Questions the course answers: course questions in learners' words. Questions it does not: the
off-course dev questions, most of them near the course's topic. Trained on one part of the dev
files; the threshold is the highest that keeps the course questions of the validation files said
"not answered" at MOST_DOUBTED or fewer; the held-out files (advisor_heldout, advisor_heldout2) are
only scored. ``--write`` saves the weights to tutor/advisors/answerable.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

FILES = {
    "train": ["advisor_questions_train_a", "advisor_dev", "advisor_offcourse_dev", "advisor_answerable_train"],
    "validation": ["advisor_questions_train_b", "advisor_dev3"],
    "test": ["advisor_heldout", "advisor_heldout2"],
}
MOST_DOUBTED = 0.04  # the share of validation course questions the reader may wrongly doubt


def questions(name: str) -> list[tuple[str, int]]:
    """(text, 1 if the course answers it) for the file's course and off-course questions."""
    from tutor.advisors.answer_eval import load_cases

    path = ROOT / "bench" / f"{name}.yaml"
    if not path.is_file():
        return []
    return [(c.text, int(c.kind == "course")) for c in load_cases(path) if c.kind in ("course", "off_course")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="save the weights to tutor/advisors/answerable.json")
    args = parser.parse_args()

    from bench.train_case_reader import fit
    from tutor.advisors import ask
    from tutor.advisors.answerable import FEATURES, WEIGHTS, AnswerReader
    from tutor.core import Core
    from tutor.settings import Settings

    core = Core.start(Settings(data_dir=Path(tempfile.mkdtemp()), llm_worker=False))
    index, scorer = core.course_index(), core.quote_scorer()

    def measured(part: str) -> dict[str, tuple[list[list[float]], list[int], list[bool]]]:
        out = {}
        for name in FILES[part]:
            rows, labels, topic_off = [], [], []
            for text, label in questions(name):
                passages, _ = ask._search(index, text, ask.QUOTE_TOP_K)
                rows.append(ask.answer_measures(text, passages, index, scorer))
                labels.append(label)
                topic_off.append(ask.off_course(text, passages, index))
            if rows:
                out[name] = (rows, labels, topic_off)
        return out

    parts = {part: measured(part) for part in FILES}
    train = [(r, y) for rows, labels, _ in parts["train"].values() for r, y in zip(rows, labels, strict=True)]
    weights, bias = fit([r for r, _ in train], [y for _, y in train], l2=1e-2, unpenalised=0)

    def said_off(rows, topic_off, threshold) -> list[bool]:
        reader = AnswerReader(tuple(weights), bias, threshold)
        return [off or not reader.answers(r) for r, off in zip(rows, topic_off, strict=True)]

    def shares(part: str, threshold: float) -> tuple[float, float, int, int]:
        doubted = said = courses = offs = 0
        for rows, labels, topic_off in parts[part].values():
            for off, y in zip(said_off(rows, topic_off, threshold), labels, strict=True):
                courses += y
                offs += 1 - y
                doubted += off and y
                said += off and not y
        return doubted / max(courses, 1), said / max(offs, 1), courses, offs

    candidates = [t / 100 for t in range(1, 96)]
    threshold = max((t for t in candidates if shares("validation", t)[0] <= MOST_DOUBTED), default=0.01)
    print(f"weights ({', '.join(FEATURES)}): {[round(w, 3) for w in weights]}, bias {bias:.3f}")
    print(f"threshold {threshold:.2f} (validation course questions doubted <= {MOST_DOUBTED:.0%})")
    print(f"{'file':32} {'course doubted':>16} {'off-course said':>16}   (topic checks alone)")
    for part in FILES:
        for name, (rows, labels, topic_off) in parts[part].items():
            now = said_off(rows, topic_off, threshold)
            alone = topic_off

            def pair(said: list[bool], label: int, labels=labels) -> str:
                picked = [s for s, y in zip(said, labels, strict=True) if y == label]
                return f"{sum(picked)}/{len(picked)}" if picked else "-"

            print(f"{part[:5]} {name:26} {pair(now, 1):>16} {pair(now, 0):>16}   ({pair(alone, 1)}, {pair(alone, 0)})")
    if args.write:
        saved = {"features": list(FEATURES), "weights": weights, "bias": bias, "threshold": threshold}
        WEIGHTS.write_text(json.dumps(saved, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
