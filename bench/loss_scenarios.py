"""Labelled training-loss logs for the loss-log diagnosis (issue 14, item 3), and its score.

Each scenario is a CSV log (``step,loss[,eval_loss]``) drawn from a shape of Lesson 3's "Reading
your training curves" at one of several noise levels, lengths and logging intervals:

- healthy: falls and levels off (eval too, a little above train);
- underfitting: still falling clearly when the log ends;
- plateau: barely moves from the start;
- divergence: falls, then climbs for good (or turns NaN);
- spike: a healthy curve with a short burst that recovers;
- oscillation: swings up and down around a level (or a slow trend) with no settling;
- overfitting: train keeps falling while eval turns and climbs.

The cases come from seeded random draws: seeds 0-39 per kind are the **dev** split (tune on
these), seeds 1000-1039 the **test** split (report only). Hand-written cases from the issue are
added to test. The baseline is the rules as they were before the shape reading (kept below,
unchanged, as ``baseline_diagnose``), scored in the same run.

    .venv/bin/python bench/loss_scenarios.py [--split dev|test|both]
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

KINDS = ("healthy", "underfitting", "plateau", "divergence", "spike", "oscillation", "overfitting")
PER_KIND = 40
SPLIT_SEEDS = {"dev": 0, "test": 1000}


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str
    log: str  # CSV text, or a real log (progress.jsonl, trainer_state.json)


def _decay(steps: list[int], start: float, floor: float, tau: float) -> list[float]:
    return [floor + (start - floor) * math.exp(-s / tau) for s in steps]


def _noisy(values: list[float], rng: random.Random, noise: float) -> list[float]:
    return [max(1e-4, v * (1 + rng.gauss(0, noise))) for v in values]


def _csv(steps: list[int], train: list[float], evals: dict[int, float] | None = None) -> str:
    header = "step,loss,eval_loss" if evals else "step,loss"
    rows = [header]
    for step, value in zip(steps, train, strict=True):
        cell = f"{step},{value:.4f}"
        if evals:
            cell += f",{evals[step]:.4f}" if step in evals else ","
        rows.append(cell)
    return "\n".join(rows) + "\n"


def generate(kind: str, seed: int) -> Scenario:
    """One log of ``kind``; the same seed always gives the same log."""
    rng = random.Random(f"{kind}-{seed}")
    every = rng.choice([1, 5, 10, 25])
    points = rng.randint(24, 80)
    steps = [every * (i + 1) for i in range(points)]
    total = steps[-1]
    noise = rng.choice([0.01, 0.03, 0.06])
    start = rng.uniform(1.5, 3.5)
    floor = start * rng.uniform(0.15, 0.45)
    with_eval = kind == "overfitting" or rng.random() < 0.5
    eval_every = every * rng.choice([4, 5, 8])
    evals: dict[int, float] | None = None

    if kind == "healthy":
        train = _decay(steps, start, floor, total * rng.uniform(0.08, 0.2))
    elif kind == "underfitting":
        train = _decay(steps, start, floor * 0.5, total * rng.uniform(0.8, 2.0))
    elif kind == "plateau":
        train = [start * (1 - rng.uniform(0.0, 0.06) * s / total) for s in steps]
    elif kind == "divergence":
        turn = rng.uniform(0.25, 0.6) * total
        low = start * rng.uniform(0.3, 0.6)
        growth = rng.uniform(2.5, 8.0)
        train = [
            low + (start - low) * math.exp(-s / (turn / 4))
            if s <= turn
            else low * (1 + growth * (s - turn) / (total - turn))
            for s in steps
        ]
    elif kind == "spike":
        train = _decay(steps, start, floor, total * rng.uniform(0.08, 0.2))
        at = rng.randint(points // 4, points * 3 // 4 - 3)
        width = rng.randint(1, 2)
        height = rng.uniform(2.0, 5.0)
        for i in range(at, at + width):
            train[i] *= height
    elif kind == "oscillation":
        level = start * rng.uniform(0.4, 0.8)
        trend = [level * (1 - rng.uniform(0.0, 0.2) * s / total) for s in steps]
        amplitude = rng.uniform(0.3, 0.7)
        period = rng.choice([2, 2, 3, 4])
        if rng.random() < 0.5:  # a square wave ("between 0.85 and 2.5 every 10 steps")
            train = [t * (1 + amplitude * (1 if (i // (period // 2 or 1)) % 2 else -1)) for i, t in enumerate(trend)]
        else:  # large noise around the trend
            train = [t * (1 + rng.uniform(-amplitude, amplitude) * 1.5) for t in trend]
    elif kind == "overfitting":
        train = _decay(steps, start, floor * 0.4, total * rng.uniform(0.15, 0.3))
        best = rng.uniform(0.3, 0.6) * total
        eval_floor = floor * rng.uniform(1.1, 1.4)
        climb = rng.uniform(0.3, 1.0)
        evals = {
            s: eval_floor + (start - eval_floor) * math.exp(-s / (best / 4))
            if s <= best
            else eval_floor * (1 + climb * (s - best) / (total - best))
            for s in steps
            if s % eval_every == 0
        }
    else:
        raise ValueError(kind)

    train = _noisy(train, rng, noise)
    if with_eval and evals is None:
        gap = rng.uniform(1.02, 1.15)
        evals = {s: v * gap for s, v in zip(steps, train, strict=True) if s % eval_every == 0}
        if kind in ("healthy", "underfitting", "plateau", "spike"):  # eval follows the smooth curve, not the noise
            smooth = {
                "healthy": _decay(steps, start, floor, total * 0.12),
                "underfitting": _decay(steps, start, floor * 0.5, total * 1.2),
                "plateau": [start] * len(steps),
                "spike": _decay(steps, start, floor, total * 0.12),
            }[kind]
            evals = {s: v * gap for s, v in zip(steps, smooth, strict=True) if s % eval_every == 0}
    if evals is not None:
        evals = {s: max(1e-4, v * (1 + rng.gauss(0, noise / 2))) for s, v in evals.items()}
    if kind == "divergence" and rng.random() < 0.2:  # some blow up to NaN
        cut = rng.randint(points * 3 // 4, points - 1)
        train = train[:cut] + [math.nan] * (points - cut)
    name = f"{kind}-{seed} (every {every} steps, {points} points, noise {noise:.0%}{', eval' if evals else ''})"
    return Scenario(name, kind, _csv(steps, train, evals))


# Cases written by hand, from the issue and from real Trainer output; they belong to the test split.
HAND_WRITTEN = [
    Scenario(
        "issue 14: jumps between ~0.85 and ~2.5 every 10 steps for 600 steps, no trend",
        "oscillation",
        "step,loss\n" + "".join(f"{s},{0.85 if (s // 10) % 2 else 2.5}\n" for s in range(10, 610, 10)),
    ),
]


# Real logs of `tutor train` runs (bench/real_logs/README.md says how each was made), labelled by
# reading the curve; they belong to the test split.
REAL_LOGS = {
    "sentiment-cpu-default.progress.jsonl": "healthy",
    "e2e-12-steps.trainer_state.json": "healthy",
    "lr-0.3-diverges.progress.jsonl": "divergence",
    "lr-1e-6-plateau.progress.jsonl": "plateau",
    "tiny-set-many-epochs-overfits.progress.jsonl": "overfitting",
}
REAL_LOG_DIR = Path(__file__).resolve().parent / "real_logs"


def real_logs() -> list[Scenario]:
    return [
        Scenario(f"real: {name}", kind, (REAL_LOG_DIR / name).read_text(encoding="utf-8"))
        for name, kind in REAL_LOGS.items()
    ]


def scenarios(split: str) -> list[Scenario]:
    base = SPLIT_SEEDS[split]
    cases = [generate(kind, base + i) for kind in KINDS for i in range(PER_KIND)]
    return cases + (HAND_WRITTEN + real_logs() if split == "test" else [])


def score(diagnose, cases: list[Scenario]) -> tuple[Counter, Counter, list[tuple[str, str]]]:
    """(right per kind, cases per kind, [(case, what was said)] for the wrong ones)."""
    right, total, wrong = Counter(), Counter(), []
    for case in cases:
        said = diagnose(case.log)
        total[case.kind] += 1
        if said == case.kind:
            right[case.kind] += 1
        else:
            wrong.append((case.name, said))
    return right, total, wrong


# --- the baseline: the rules before the shape reading (tutor/advisors/loss_log.py at c732d78) ---


def baseline_diagnose(log: str) -> str:
    from tutor.advisors.loss_log import parse_log

    curve = parse_log(log)
    values = [v for _, v in curve.train]
    if any(not math.isfinite(v) for v in values):
        return "divergence"
    if len(values) >= 3:
        low_index = min(range(len(values)), key=values.__getitem__)
        if values[-1] > 2 * values[low_index] and values[-1] > values[0] * 1.1:
            return "divergence"
    evals = curve.eval
    if len(evals) >= 3:
        eval_values = [v for _, v in evals]
        best = min(range(len(eval_values)), key=eval_values.__getitem__)
        train_after = [v for s, v in curve.train if s > evals[best][0]]
        falling = len(train_after) >= 2 and train_after[-1] < train_after[0]
        if best < len(evals) - 1 and eval_values[-1] > eval_values[best] * 1.05 and (falling or not train_after):
            return "overfitting"
    if len(values) >= 6:
        diffs = [b - a for a, b in itertools.pairwise(values)]
        level = statistics.median(values)
        swing = statistics.median(abs(d) for d in diffs) / level if level else 0
        flips = sum(1 for a, b in itertools.pairwise(diffs) if a * b < 0) / max(1, len(diffs) - 1)
        if swing > 0.1 and flips > 0.5:
            return "oscillation"
        if values[-1] > 0.9 * values[0]:
            return "plateau"
        quarter = max(2, len(values) // 4)
        head, tail = values[:quarter], values[-quarter:]
        drop = (statistics.mean(tail[: len(tail) // 2 or 1]) - statistics.mean(tail[len(tail) // 2 :])) / values[0]
        if drop > 0.03 and statistics.mean(head) > statistics.mean(tail):
            return "underfitting"
    return "healthy"


def current_diagnose(log: str) -> str:
    from tutor.advisors.loss_log import diagnose_curve, parse_log

    return diagnose_curve(parse_log(log)).kind


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both")
    parser.add_argument("--show-wrong", type=int, default=0, help="list this many misread cases per method")
    args = parser.parse_args()
    splits = ["dev", "test"] if args.split == "both" else [args.split]
    for split in splits:
        cases = scenarios(split)
        print(f"\n{split}: {len(cases)} logs")
        print("| kind | cases | baseline | shape reading |\n|---|---|---|---|")
        results = {name: score(fn, cases) for name, fn in (("baseline", baseline_diagnose), ("now", current_diagnose))}
        for kind in KINDS:
            total = results["now"][1][kind]
            cells = [f"{results[n][0][kind]}/{total} ({results[n][0][kind] / total:.0%})" for n in results]
            print(f"| {kind} | {total} | {' | '.join(cells)} |")
        for name in results:
            right, total, wrong = results[name]
            hits, count = sum(right.values()), sum(total.values())
            print(f"{name}: {hits}/{count} ({hits / count:.1%})")
            for case, said in wrong[: args.show_wrong]:
                print(f"   {case} -> {said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
