"""Fine-tune the advisor's sentence ranker (tutor/advisors/sentence_ranker.py) on the learner
questions written from the lessons, and save it where the app loads it from.

    .venv/bin/python bench/train_sentence_ranker.py [--out var/sentence_ranker] [--epochs N]
    .venv/bin/python bench/train_sentence_ranker.py --hold-out 0.2

Training data: bench/advisor_questions_train_*.yaml (questions with the course phrase that answers
them). For each question the course index retrieves passages as the advisor does; the sentences
that hold the phrase are right, the other sentences of the top passages wrong. The advisor's dev
and held-out questions never enter it. Deterministic: the same questions and recipe give the same
weights.

``--hold-out SHARE`` is for choosing the recipe: it trains on the other questions (into a scratch
folder, nothing shipped), then ranks the held-out share's sentences with the ranker and with
embedding similarity, in the same run. Score the advisor's dev questions with
``bench/quote_ranking.py --ranker FOLDER``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tutor.advisors.answer_eval import Case, has_fact, load_cases  # noqa: E402
from tutor.advisors.ask import QUOTE_TOP_K  # noqa: E402
from tutor.advisors.extractive import QuoteScorer, plain_units, rank_sentences, under_title  # noqa: E402
from tutor.advisors.sentence_ranker import RECIPE, RankingCase, load_ranker, train  # noqa: E402
from tutor.core import Core  # noqa: E402
from tutor.rag.index import CourseIndex, packaged_embedding_dir  # noqa: E402
from tutor.settings import Settings  # noqa: E402

POSITIVES_FROM = 20  # passages searched for the sentences that hold the fact


def question_files() -> list[Path]:
    return sorted((ROOT / "bench").glob("advisor_questions_train_*.yaml"))


def ranking_case(index: CourseIndex, case: Case) -> RankingCase:
    shown = index.search_hybrid(case.text, k=QUOTE_TOP_K)
    wider = index.search_hybrid(case.text, k=POSITIVES_FROM)
    right = {under_title(u, p) for p in wider for u in plain_units(p.text) if has_fact(u, case.fact)}
    wrong = [under_title(u, p) for p in shown for u in plain_units(p.text) if not has_fact(u, case.fact)]
    return RankingCase(case.text, tuple(sorted(right)), tuple(dict.fromkeys(wrong)))


def place_of_fact(index: CourseIndex, scorer: QuoteScorer, case: Case) -> int | None:
    ranked = rank_sentences(case.text, index.search_hybrid(case.text, k=QUOTE_TOP_K), scorer)
    return next((i for i, q in enumerate(ranked) if has_fact(q.text, case.fact)), None)


def report(name: str, places: list[int | None]) -> None:
    n = len(places)
    top = {k: sum(p is not None and p < k for p in places) / n for k in (1, 3)}
    print(f"{name:>22}: top-1 {top[1]:.1%}, top-3 {top[3]:.1%} ({n} questions)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "sentence_ranker")
    parser.add_argument("--epochs", type=int, default=RECIPE.epochs)
    parser.add_argument("--hold-out", type=float, default=0.0, help="share of questions held out (scratch run)")
    args = parser.parse_args()
    questions = [c for path in question_files() for c in load_cases(path)]
    core = Core.start(Settings(data_dir=Path(tempfile.mkdtemp()), llm_worker=False))
    index = core.course_index()
    held: list[Case] = []
    if args.hold_out:
        random.Random(0).shuffle(questions)
        cut = int(len(questions) * args.hold_out)
        held, questions = questions[:cut], questions[cut:]
    started = time.perf_counter()
    cases = [ranking_case(index, c) for c in questions]
    usable = [c for c in cases if c.positives and c.negatives]
    print(f"{len(usable)} of {len(cases)} questions have the fact in their top {POSITIVES_FROM} passages "
          f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
    out = Path(tempfile.mkdtemp()) / "ranker" if args.hold_out else args.out
    started = time.perf_counter()
    train(usable, str(packaged_embedding_dir()), out, replace(RECIPE, epochs=args.epochs))
    print(f"trained in {time.perf_counter() - started:.0f} s -> {out}")
    if held:
        ranker = load_ranker(out)
        if ranker is None:
            sys.exit(f"the ranker trained into {out} does not load")
        for name, scorer in (
            ("embedding similarity", QuoteScorer(index)),
            ("learned ranker", QuoteScorer(index, ranker)),
        ):
            report(name, [place_of_fact(index, scorer, c) for c in held])
    return 0


if __name__ == "__main__":
    sys.exit(main())
