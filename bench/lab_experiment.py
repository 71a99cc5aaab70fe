"""Benchmark: one of the QLoRA lab's guided experiments, both arms trained for real, compared.

Queues both arms the way the lab's experiment button does (``TrainingLab.start_experiment``; the
runs are ``python -m trainer`` worker processes, one at a time), waits for both, and prints the
comparison report: both arms' metric before and after, time, final losses, the config and data
diff, the answers side by side and the verdict against the lesson.

    python bench/lab_experiment.py [--experiment raw-vs-clean|learning-rate|rank] [--seed N] [--out report.md]

Runs in a fresh temporary data folder, with the usual settings' models folder linked into it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tutor.experiments import EXPERIMENTS
from tutor.run_compare import markdown
from tutor.settings import load_settings
from tutor.training_lab import TrainingLab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", choices=sorted(EXPERIMENTS), default="raw-vs-clean")
    parser.add_argument("--seed", type=int, help="training.seed for both arms (default: the config's)")
    parser.add_argument("--out", help="also write the report here")
    args = parser.parse_args()
    usual = load_settings()
    folder = Path(tempfile.mkdtemp(prefix="tutor-experiment-"))
    if usual.models_dir.is_dir():  # the base model converted once, not again for every benchmark
        (folder / "models").symlink_to(usual.models_dir.resolve())
    settings = usual.model_copy(update={"data_dir": folder})
    lab = TrainingLab(settings)
    started = time.monotonic()
    runs = lab.start_experiment("bench", args.experiment, args.seed)
    while any(lab.runs.get(r.id).active for r in runs):
        time.sleep(2)
    wall = time.monotonic() - started
    ended = [lab.runs.get(r.id) for r in runs]
    failed = [r for r in ended if r.status != "done"]
    if failed:
        raise SystemExit(f"run {failed[0].id} ended {failed[0].status}: {failed[0].message}")
    comparison, verdict = lab.experiment_verdict("bench", [r.id for r in ended])
    title = f"{EXPERIMENTS[args.experiment].title}: both arms on this machine ({wall:.0f} s in all)"
    report = markdown(comparison, title=title, summary=verdict)
    if args.out:
        Path(args.out).write_text(report, encoding="utf-8")
    sys.stdout.write(report)


if __name__ == "__main__":
    main()
