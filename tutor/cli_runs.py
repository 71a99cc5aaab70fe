"""``tutor data clean`` (act on the dataset critic's findings) and ``tutor runs list|compare`` (the
QLoRA lab's runs, side by side). Registered by ``tutor.cli.build_parser``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from trainer import atomic
from trainer.progress import format_duration

ACTION_FLAGS = {
    "drop_empty": ("--drop-empty", "drop rows with an empty input or answer, unreadable rows and over-long rows"),
    "lower_labels": ("--lower-labels", "strip and lower-case labels ('Positive ' -> 'positive')"),
    "dedupe": ("--dedupe", "remove exact and near-duplicates, keeping the first of each cluster"),
    "remove_leaks": ("--remove-leaks", "remove train/validation rows that nearly repeat a held-out test row"),
}


def cmd_data_clean(args: argparse.Namespace) -> int:
    from tutor.cli import CommandError
    from tutor.data_cleaning import ACTIONS, CleanError, clean

    source, out = Path(args.file), Path(args.out)
    actions = list(ACTIONS) if args.all else [a for a in ACTIONS if getattr(args, a)]
    if not actions:
        raise CommandError("choose at least one action: " + ", ".join(flag for flag, _ in ACTION_FLAGS.values()))
    if out.resolve() == source.resolve():
        raise CommandError(f"{out}: write the cleaned data to a new file; the original stays as it is")
    if out.suffix.lower() not in (".jsonl", ".json", ".ndjson"):
        raise CommandError(f"{out}: the cleaned data is JSON Lines; name it .jsonl")
    try:
        text = source.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"{source}: no such file") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    try:
        cleaned = clean(
            text, source.name, actions, max_words=args.max_words, seed=args.seed, test_fraction=args.test_fraction
        )
    except CleanError as exc:
        raise CommandError(str(exc)) from None
    atomic.write_text(out, cleaned.jsonl())
    if args.json:
        steps = [
            {
                "action": s.action,
                "before": s.before,
                "after": s.after,
                "changed": s.changed,
                "note": s.note,
                "removed": [{"line": r.line, "reason": r.reason} for r in s.removed],
            }
            for s in cleaned.steps
        ]
        print(
            json.dumps({"source": str(source), "out": str(out), "rows": len(cleaned.rows), "steps": steps}, indent=2)
        )
        return 0
    for step in cleaned.steps:
        print(step.summary())
        for gone in step.removed:
            print(f"  {source}:{gone.line}: removed: {gone.reason}")
    print(f"{len(cleaned.rows)} rows written to {out}")
    return 0


def _lab(args: argparse.Namespace):
    from tutor.cli import _settings
    from tutor.training_lab import TrainingLab

    return TrainingLab(_settings(args))


def cmd_runs_list(args: argparse.Namespace) -> int:
    rows = [row.as_dict() for row in _lab(args).run_table(args.owner)]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print("no runs yet")
    for row in rows:
        score = (
            f"{row['metric']} {row['before']:.3f} -> {row['after']:.3f}" if row["after"] is not None else row["status"]
        )
        took = format_duration(row["seconds"]) if row["seconds"] else "-"
        changes = ", ".join(f"{k}={v}" for k, v in row["changes"].items()) or "defaults"
        print(f"{row['id']}  {row['owner']}  {row['data']}  {changes}  {score}  {took}")
    return 0


def cmd_runs_compare(args: argparse.Namespace) -> int:
    from tutor.cli import CommandError
    from tutor.run_compare import markdown
    from tutor.training_lab import LabError

    lab = _lab(args)
    try:
        comparison, verdict = lab.experiment_verdict(None, args.runs)
    except LabError as exc:
        raise CommandError(str(exc)) from None
    report = markdown(comparison, summary=verdict)
    if args.out:
        atomic.write_text(Path(args.out), report)
        print(args.out, file=sys.stderr)
    if args.json:
        runs = [{"letter": c.letter, "id": c.run.id, "data": c.data, **c.metrics} for c in comparison.runs]
        shown = {"runs": runs, "config_diff": comparison.config_diff, "data_diff": comparison.data_diff}
        shown |= {"answers": comparison.answers, "verdict": verdict}
        print(json.dumps(shown, indent=2, default=str))
    elif not args.out:
        print(report)
    return 0


def cmd_runs_stop(args: argparse.Namespace) -> int:
    """Stop any learner's run (an instructor's tool): a queued one is cancelled, a running one
    saves a checkpoint and stops, on this host or on the Ray cluster."""
    from tutor.cli import CommandError
    from tutor.training_lab import LabError

    lab = _lab(args)
    try:
        run = lab.stop(None, args.run)
    except LabError as exc:
        raise CommandError(str(exc)) from None
    said = "cancelled" if run.status == "cancelled" else "asked to stop (it saves a checkpoint first)"
    print(f"{run.id} ({run.owner}): {said}")
    return 0


def add_parsers(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="clean a dataset by the dataset critic's findings")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="COMMAND")
    cleaning = data_commands.add_parser("clean", help="remove what the critic finds; write a new JSONL file")
    cleaning.add_argument("file", help="a .jsonl or .csv dataset")
    for action, (flag, text) in ACTION_FLAGS.items():
        cleaning.add_argument(flag, dest=action, action="store_true", help=text)
    cleaning.add_argument("--all", action="store_true", help="every action above")
    cleaning.add_argument("--max-words", type=int, default=0, metavar="N", help="also drop rows over N words")
    cleaning.add_argument("--seed", type=int, default=42, help="the training config's data.seed (for --remove-leaks)")
    cleaning.add_argument("--test-fraction", type=float, default=0.1, help="the config's data.test_fraction")
    cleaning.add_argument("--out", required=True, metavar="FILE", help="where to write the cleaned data (.jsonl)")
    cleaning.add_argument("--json", action="store_true", help="print the steps and removed lines as JSON")
    cleaning.set_defaults(func=cmd_data_clean)

    runs = commands.add_parser("runs", help="the QLoRA lab's runs: list, compare, stop them")
    runs_commands = runs.add_subparsers(dest="runs_command", required=True, metavar="COMMAND")
    listing = runs_commands.add_parser("list", help="every run with its data, changed fields and metric")
    listing.add_argument("--owner", help="only this learner's runs")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_runs_list)
    comparing = runs_commands.add_parser("compare", help="2-4 finished runs side by side (Markdown)")
    comparing.add_argument("runs", nargs="+", metavar="RUN", help="run ids (see tutor runs list)")
    comparing.add_argument("--out", metavar="FILE", help="write the Markdown report here")
    comparing.add_argument("--json", action="store_true")
    comparing.set_defaults(func=cmd_runs_compare)
    stopping = runs_commands.add_parser("stop", help="stop or cancel any learner's run (instructors)")
    stopping.add_argument("run", metavar="RUN", help="a run id (see tutor runs list)")
    stopping.set_defaults(func=cmd_runs_stop)
