"""Where the expected fact sits among the course sentences the advisor ranks for a question, with
no model in the loop: the extractive answer's quality alone, in seconds rather than minutes.

    .venv/bin/python bench/quote_ranking.py [--cases bench/advisor_dev.yaml] [--show-misses]

For each course question and follow-up: is the fact in the quoted answer (what the learner reads
when the draft fails the check; for a question the rules took as a use case, the quotes under the
recommendation), and the rank of the first sentence that holds it (top 1 / top 3
of every ranked sentence; "not retrieved" when no retrieved passage holds it). Tune on
bench/advisor_dev.yaml; the held-out set is for the final figure only.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tutor.advisors.answer_eval import has_fact, load_cases
from tutor.advisors.ask import _quoted, course_quotes, ranked_for
from tutor.advisors.sentence_ranker import load_ranker
from tutor.core import Core
from tutor.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=Path("bench/advisor_dev.yaml"))
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--ranker", default="none", help="'none' (embedding similarity) or a trained ranker's folder")
    args = parser.parse_args()
    cases = [c for c in load_cases(args.cases) if c.kind in ("course", "follow_up")]
    core = Core.start(Settings(data_dir=Path(tempfile.mkdtemp()), llm_worker=False))
    guard, scorer = core.quiz_guard(), core.quote_scorer()
    scorer.ranker = None if args.ranker == "none" else load_ranker(Path(args.ranker))
    if args.ranker != "none" and scorer.ranker is None:
        sys.exit(f"{args.ranker}: no sentence ranker loads from it")
    check = core._checker()
    quoted = top1 = top3 = retrieved = routed = in_case = 0
    for case in cases:
        advice, asked = core._prepare(case.lab, core.advisor_request(case.text, None, list(case.history)))
        if advice is not None:
            # Taken for a use case: the learner reads the recommendation and, when the model's words
            # fail the check, the quotes under it; those count where they hold the fact.
            hit = has_fact(check.quotes(advice), case.fact)
            quoted += hit
            in_case += hit
            if args.show_misses and not hit:
                print(f"ROUTED {case.id}: use case: {case.text[:70]}")
            continue
        if asked.outcome != "answer":
            if args.show_misses:
                print(f"ROUTED {case.id}: {asked.outcome}: {case.text[:70]}")
            continue
        routed += 1
        ranked = ranked_for(asked, scorer)
        place = next((i for i, q in enumerate(ranked) if has_fact(q.text, case.fact)), None)
        answer = _quoted(course_quotes(asked, scorer, lambda s: not guard.leaks(s), guard))
        hit = has_fact(answer, case.fact)
        quoted += hit
        retrieved += place is not None
        top1 += place is not None and place < 1
        top3 += place is not None and place < 3
        if args.show_misses and not hit:
            where = "not retrieved" if place is None else f"rank {place + 1}: {ranked[place].text[:90]}"
            print(f"MISS {case.id} ({where}): {case.text[:80]}\n   quoted: {answer[:160]!r}")
    n = len(cases)
    print(f"{n} questions ({routed} answered from the course, {in_case} quoted under a use case): "
          f"fact quoted {quoted / n:.0%}, top-1 {top1 / n:.0%}, top-3 {top3 / n:.0%}, "
          f"retrieved {retrieved / n:.0%}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
