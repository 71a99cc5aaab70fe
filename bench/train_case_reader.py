"""Train the chat's use-case reader (tutor/advisors/case_reader.py) on DEV files, and report it
against the word rules on a validation split and on the held-out files, in one run.

    .venv/bin/python bench/train_case_reader.py [--write]

Use cases: the strategy and evaluation-design dev sets (people's own descriptions of their
projects). Questions: course questions in learners' words, follow-ups and off-course questions.
Trained on one part of the dev files, thresholds read on the other (validation); the test files
(strategy_cases_test*, eval_cases_test*, advisor_heldout) are only scored. ``--write`` saves the
weights to tutor/advisors/case_reader.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CASES = {
    "train": ["strategy_cases_dev2", "strategy_cases_dev3", "strategy_cases_dev4", "strategy_cases_dev5",
              "strategy_cases_dev6", "eval_cases_dev", "eval_cases_dev2", "eval_cases_dev3"],
    "validation": ["strategy_cases_dev7", "strategy_cases_dev8", "eval_cases_dev4", "eval_cases_dev5"],
    "test": ["strategy_cases_test2", "strategy_cases_test3", "eval_cases_test", "eval_cases_test2",
             "eval_cases_test3"],
}  # fmt: skip
QUESTIONS = {
    "train": [
        "advisor_questions_train_a",
        "advisor_dev",
        "advisor_followups_dev",
        "advisor_offcourse_dev:even",
        "advisor_answerable_train",
    ],
    "validation": ["advisor_questions_train_b", "advisor_offcourse_dev:odd", "advisor_dev3"],
    "test": ["advisor_heldout"],
}


def use_cases(name: str) -> list[str]:
    data = yaml.safe_load((ROOT / "bench" / f"{name}.yaml").read_text(encoding="utf-8"))
    return [r["text"] for r in data if isinstance(r, dict) and isinstance(r.get("text"), str)]


def questions(name: str) -> list[str]:
    from tutor.advisors.answer_eval import load_cases

    name, _, half = name.partition(":")
    texts = [c.text for c in load_cases(ROOT / "bench" / f"{name}.yaml") if c.kind != "quiz"]
    return texts[0::2] if half == "even" else texts[1::2] if half == "odd" else texts


def split(part: str) -> tuple[list[str], list[int]]:
    cases = [t for name in CASES[part] for t in use_cases(name)]
    asked = [t for name in QUESTIONS[part] for t in questions(name)]
    return cases + asked, [1] * len(cases) + [0] * len(asked)


def fit(
    rows: list[list[float]], labels: list[int], *, l2: float = 1e-3 / 64, unpenalised: int = 4
) -> tuple[list[float], float]:
    """Class-balanced logistic regression with a little L2 (not on the last ``unpenalised``
    inputs: here the shape features; the embedding part was scaled by 8), by L-BFGS."""
    import torch

    x, y = torch.tensor(rows), torch.tensor(labels, dtype=torch.float32)
    weight = torch.where(y > 0, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.LBFGS([w, b], max_iter=500)

    def closure():
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y, weight=weight)
        loss = loss + l2 * (w[: w.shape[0] - unpenalised] ** 2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return w.detach().tolist(), float(b.detach())


class Signals:
    """The reader being trained, in place of the shipped one, with the course's nearness."""

    def __init__(self, reader, vector, core) -> None:
        self.reader, self.vector, self.core = reader, vector, core

    def case_probability(self, text: str) -> float:
        return self.reader.probability(self.vector, text)

    def near_course(self, text: str) -> bool:
        return self.core.near_course(text)


def share(said: list[bool], labels: list[int], label: int) -> float:
    """The share of the texts labelled ``label`` that were read as use cases."""
    picked = [s for s, y in zip(said, labels, strict=True) if y == label]
    return sum(picked) / len(picked)


def main() -> int:
    from tutor.advisors.ask import classify
    from tutor.advisors.base import AdvisorRequest
    from tutor.advisors.case_reader import WEIGHTS, CaseReader, inputs
    from tutor.core import Core
    from tutor.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"save the weights to {WEIGHTS.relative_to(ROOT)}")
    args = parser.parse_args()
    core = Core.start(Settings(data_dir=Path(tempfile.mkdtemp()), llm_worker=False))
    index, guard = core.course_index(), core.quiz_guard()
    data = {}
    for part in CASES:
        texts, labels = split(part)
        data[part] = (texts, labels, [inputs(v, t) for v, t in zip(index.embed(texts), texts, strict=True)])
    weights, bias = fit(data["train"][2], data["train"][1])
    reader = CaseReader(tuple(weights), bias)
    print("| split | use cases | questions | rules: cases read as cases | rules: questions read as cases "
          "| with the reader: cases | with the reader: questions |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    figures = {}
    for part, (texts, labels, _) in data.items():
        rules = [classify(AdvisorRequest(t), guard) == "use_case" for t in texts]
        vectors = index.embed(texts)
        read = [
            classify(AdvisorRequest(t), guard, Signals(reader, v, core)) == "use_case"
            for t, v in zip(texts, vectors, strict=True)
        ]

        figures[part] = [
            share(rules, labels, 1),
            share(rules, labels, 0),
            share(read, labels, 1),
            share(read, labels, 0),
        ]
        shares = " | ".join(f"{f:.1%}" for f in figures[part])
        print(f"| {part} | {labels.count(1)} | {labels.count(0)} | {shares} |")
    if args.write:
        WEIGHTS.write_text(
            json.dumps({"bias": bias, "weights": [round(w, 6) for w in weights], "trained_on": CASES["train"]
                        + QUESTIONS["train"], "figures": figures}) + "\n", encoding="utf-8",
        )  # fmt: skip
        print(f"\nwrote {WEIGHTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
