"""Where the advisor sends a message, against what the message is: a course question answered from
the course, an off-course question told so, a quiz-answer request refused, a use case given to the
rules. No model runs; a message sent the wrong way gets the wrong kind of answer whatever the model.

    .venv/bin/python bench/routing.py [--show-misses] [FILE ...]

Default files: the course questions in learners' words (advisor_questions_train_*.yaml, 500), the
off-course dev set (advisor_offcourse_dev.yaml, 70), the advisor dev sets, and every strategy,
evaluation-design use-case set (each case must stay a use case). Tune on these; the held-out file
(advisor_heldout.yaml) is for the final figure only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

EXPECTED = {"course": "answer", "follow_up": "answer", "off_course": "off_course", "quiz": "refusal"}
DEFAULT_FILES = [
    "bench/advisor_questions_train_a.yaml",
    "bench/advisor_questions_train_b.yaml",
    "bench/advisor_offcourse_dev.yaml",
    "bench/advisor_dev.yaml",
    "bench/advisor_followups_dev.yaml",
    *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("bench/strategy_cases_dev*.yaml")),
    *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("bench/eval_cases_dev*.yaml")),
]


def advisor_route(core, lab: str, text: str, history: list[str]) -> str:
    """What the chat does with the message: "use_case", or the course answer's outcome."""
    advice, asked = core._prepare(lab, core.advisor_request(text, None, history))
    return "use_case" if advice is not None else asked.outcome


def main() -> int:
    from tutor.advisors.answer_eval import load_cases
    from tutor.core import Core
    from tutor.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=DEFAULT_FILES)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    core = Core.start(Settings(data_dir=Path(tempfile.mkdtemp()), llm_worker=False))
    print("| file | messages | routed as labelled |")
    print("|---|---|---|")
    for name in args.files:
        path = ROOT / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data and isinstance(data[0], dict) and "kind" in data[0]:  # an advisor case file
            rows = [(c.lab, c.text, list(c.history), EXPECTED[c.kind]) for c in load_cases(path)]
        else:  # a use-case set: every text is a use case of its lab
            lab = "eval" if "eval_cases" in name else "strategy"
            rows = [(lab, r["text"], [], "use_case") for r in data if isinstance(r, dict) and "text" in r]
        right = 0
        for lab, text, history, expected in rows:
            got = advisor_route(core, lab, text, history)
            right += got == expected
            if args.show_misses and got != expected:
                print(f"  MISS {Path(name).name}: {expected} -> {got}: {text[:90]}")
        print(f"| {Path(name).name} | {len(rows)} | {right / len(rows):.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
