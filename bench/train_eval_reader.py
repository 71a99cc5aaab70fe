"""Fine-tune the evaluation designer's learned reader (tutor/advisors/eval_reader.py) on every
labelled DEV case in bench/, and save it where the app loads it from.

    .venv/bin/python bench/train_eval_reader.py [--out tutor/advisors/eval_reader] [--epochs N]

Training data: every bench/eval_cases_dev*.yaml and the generated dev split of
bench/eval_scenarios.py. The held-out sets (eval_cases_test*.yaml and the generated test split)
never enter it. Deterministic: the same cases and recipe give the same weights.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval_scenarios import generate, load_cases  # noqa: E402  (bench/ is on the path when run as a script)

from tutor.advisors.eval_reader import READER_DIR, Recipe, TrainingCase, train  # noqa: E402
from tutor.rag.index import packaged_embedding_dir  # noqa: E402


def dev_cases() -> list[TrainingCase]:
    files = sorted((ROOT / "bench").glob("eval_cases_dev*.yaml"))
    cases = [case for path in files for case in load_cases(str(path))] + generate("dev")
    return [TrainingCase(c.text, c.task, c.domain, c.high_stakes) for c in cases]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=READER_DIR)
    parser.add_argument("--epochs", type=int, default=Recipe.epochs)
    args = parser.parse_args()
    cases = dev_cases()
    print(f"training the reader on {len(cases)} dev cases")
    start = time.perf_counter()
    train(
        cases, str(packaged_embedding_dir()), args.out, Recipe(epochs=args.epochs), log=lambda m: print(m, flush=True)
    )
    print(f"saved to {args.out} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
