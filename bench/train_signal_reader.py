"""Fine-tune the strategy advisor's signal reader (tutor/advisors/signal_reader.py) on every
labelled DEV use case in bench/, and save it where the app loads it from.

    .venv/bin/python bench/train_signal_reader.py [--out tutor/advisors/signal_reader] [--epochs N]
    .venv/bin/python bench/train_signal_reader.py --hold-out bench/strategy_cases_dev2.yaml

Training data: bench/strategy_cases_dev*.yaml and the generated dev split of
bench/strategy_scenarios.py. The held-out sets (strategy_cases_test*.yaml, the generated test
split and its hand-written cases) never enter it. Deterministic: the same cases and recipe give
the same weights.

``--hold-out FILE`` is for choosing the recipe on DEV data only: it trains on the other dev cases
(into a scratch folder, nothing shipped), then scores FILE's cases signal by signal and decision by
decision, the reader against the word rules, in the same run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import strategy_scenarios as scenarios  # noqa: E402  (bench/ is on the path when run as a script)
from strategy_scenarios import Case, cases_from_file, generate, right  # noqa: E402

from tutor.advisors import signal_reader, strategy  # noqa: E402
from tutor.advisors.signal_reader import READER_DIR, SIGNALS, SignalCase, train  # noqa: E402
from tutor.advisors.text_reader import Recipe  # noqa: E402
from tutor.rag.index import packaged_embedding_dir  # noqa: E402


def dev_files() -> list[Path]:
    return sorted((ROOT / "bench").glob("strategy_cases_dev*.yaml"))


def signal_case(case: Case) -> SignalCase:
    return SignalCase(case.text, {name: bool(case.facts.get(name)) for name in SIGNALS}, case.facts.get("have"))


def dev_sentences() -> list[SignalCase]:
    """The generator's DEV phrasings (even positions) one sentence at a time: a use case is often
    typed one short sentence at a time, and a denial ("nothing in it is confidential") must read
    as no signal. The test phrasings (odd positions) stay out."""
    dev = slice(0, None, 2)
    cases = [SignalCase(task, {}) for task in scenarios.TASKS]
    for key, phrasings in scenarios.PHRASES.items():
        signal = "from_scratch" if key.startswith("from_scratch") else key
        labels = {signal: True} if signal in SIGNALS else {}
        cases += [SignalCase(text, labels) for text in phrasings[dev]]
    cases += [SignalCase(text, {}, 0) for text in scenarios.NO_EXAMPLE_FORMS[dev]]
    for form in scenarios.EXAMPLE_FORMS[dev]:
        cases += [SignalCase(form.format(**scenarios._number_forms(n)), {}, n) for n in scenarios.HAVES if n]
    for form in scenarios.VOLUME_FORMS[dev]:
        cases += [SignalCase(form.format(**scenarios._number_forms(n)), {}) for n in scenarios.VOLUMES[::2]]
    return cases


def dev_cases(leave_out: Path | None = None) -> list[Case]:
    files = [f for f in dev_files() if leave_out is None or f.resolve() != leave_out.resolve()]
    return [case for f in files for case in cases_from_file(str(f))] + generate("dev")


def training_cases(leave_out: Path | None = None) -> list[SignalCase]:
    return [signal_case(c) for c in dev_cases(leave_out)] + dev_sentences()


def decisions(cases: list[Case]) -> list[dict]:
    from strategy_scenarios import run_rules

    return run_rules([{"text": c.text} for c in cases])


def hold_out(path: Path, recipe: Recipe) -> None:
    """Train without ``path``'s cases, then score them: the reader against the word rules."""
    held = cases_from_file(str(path))
    train_on = training_cases(leave_out=path)
    print(f"training on {len(train_on)} dev cases, holding out {len(held)} ({path.name})")
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        train(train_on, str(packaged_embedding_dir()), Path(scratch), recipe, log=lambda m: print(m, flush=True))
        print(f"trained in {time.perf_counter() - started:.0f} s")
        reader = signal_reader.load_reader(Path(scratch))
        assert reader is not None, "the reader just trained does not load"
        learned = [set(reader.read(c.text).signals) for c in held]
        strategy.signal_reader = lambda: reader  # the advisor reads with this reader
        with_reader = decisions(held)
        for threshold in (0.5, 0.7, 0.9):
            reader.threshold = threshold
            ok = [right(c.label, g) for c, g in zip(held, decisions(held), strict=True)]
            print(f"threshold {threshold}: decisions right {sum(ok)}/{len(held)} = {sum(ok) / len(held):.1%}")
        reader.threshold = signal_reader.THRESHOLD
    strategy.signal_reader = lambda: None  # the word rules alone
    rules = [{n for n in SIGNALS if getattr(strategy.read_signals(c.text), n)} for c in held]
    with_rules = decisions(held)
    truth = [{n for n in SIGNALS if signal_case(c).signals[n]} for c in held]
    print(f"{'signal':<14} {'stated':>6} {'reader':>7} {'rules':>7}   (cases read right)")
    for name in SIGNALS:
        stated = sum(name in t for t in truth)
        ok_reader = sum((name in got) == (name in t) for got, t in zip(learned, truth, strict=True))
        ok_rules = sum((name in got) == (name in t) for got, t in zip(rules, truth, strict=True))
        print(f"{name:<14} {stated:>6} {ok_reader:>7} {ok_rules:>7}")
    for label, got in (("reader", with_reader), ("rules", with_rules)):
        ok = [right(c.label, g) for c, g in zip(held, got, strict=True)]
        print(f"decisions right with the {label}: {sum(ok)}/{len(held)} = {sum(ok) / len(held):.1%}")
    wrong = Counter(
        n for got, t in zip(learned, truth, strict=True) for n in SIGNALS if (n in got) != (n in t)
    ).most_common()
    print("the reader's misses by signal:", wrong)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=READER_DIR)
    parser.add_argument("--epochs", type=int, default=Recipe.epochs)
    parser.add_argument("--hold-out", type=Path, help="a dev file to leave out and score (nothing is saved)")
    args = parser.parse_args()
    recipe = Recipe(epochs=args.epochs)
    if args.hold_out:
        hold_out(args.hold_out, recipe)
        return 0
    cases = training_cases()
    print(f"training the reader on {len(cases)} dev cases")
    start = time.perf_counter()
    train(cases, str(packaged_embedding_dir()), args.out, recipe, log=lambda m: print(m, flush=True))
    print(f"saved to {args.out} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
