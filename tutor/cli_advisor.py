"""``tutor ask`` (a course question, answered from the course) and ``tutor advisor eval`` (how
good the advisor's words are). Registered by ``tutor.cli.build_parser``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

LABS = ["strategy", "dataset", "hyperparams", "eval"]
DEFAULT_CASES = Path(__file__).resolve().parent.parent / "bench" / "advisor_heldout.yaml"
REPRODUCE = "advisor build --ship"  # what rebuilds the shipped adapter end to end (its model card says so)
ADVISOR_CONFIG = Path(__file__).resolve().parent.parent / "trainer" / "configs" / "advisor-cpu.yaml"


def cmd_ask(args: argparse.Namespace) -> int:
    from tutor.advisors.ask import Answered
    from tutor.advisors.turn import AnswerPiece, ModelReady
    from tutor.cli import _core

    text = sys.stdin.read() if args.text == "-" else args.text
    core = _core(args)
    history = [args.after] if args.after else []
    final = None
    for event in core.ask(args.lab, text, history):
        match event:
            case ModelReady(model=model) if not args.json:
                print(f"({model} is drafting an answer; it is shown only if it passes the check…)", file=sys.stderr)
            case AnswerPiece():
                pass  # a terminal cannot take back a draft: print only what stands
            case Answered(answer=answer):
                final = answer
    if final is None:
        raise RuntimeError("the answer ended without a result")
    if args.json:
        print(json.dumps(final.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(final.text)
    return 0


def cmd_advisor_eval(args: argparse.Namespace) -> int:
    from tutor.advisors import answer_eval
    from tutor.advisors.adapter_build import harness_configs
    from tutor.cli import CommandError, _settings
    from tutor.core import Core, StartupError

    try:
        cases = answer_eval.load_cases(Path(args.cases))
    except answer_eval.CasesError as exc:
        raise CommandError(str(exc)) from None
    if args.kinds:
        cases = [c for c in cases if c.kind in args.kinds.split(",")]
    cases = cases[: args.limit] if args.limit else cases
    settings = _settings(args, llm_worker=False)
    wanted = args.configs.split(",")
    try:
        configs = harness_configs(settings, wanted, adapter=args.adapter or "")
    except StartupError as exc:
        raise CommandError(str(exc)) from None
    if settings.backend != "openai" and settings.llm_base_url and "openai" in wanted:
        try:
            server = Core.start(_settings(args, llm_backend="openai"))
        except StartupError as exc:
            raise CommandError(str(exc)) from None
        configs["checked, OpenAI-compatible server"] = (server, answer_eval.reply_checked)

    def progress(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    results = answer_eval.run(configs, cases, progress=progress)
    if args.json:
        print(json.dumps([vars(r) for r in results], indent=2))
    else:
        print(f"{len(cases)} cases from {args.cases}\n")
        print(answer_eval.markdown_table(results))
        for r in results:
            if r.failures:
                print(f"\n{r.config}: missed or leaked in {', '.join(r.failures)}")
    return 0


def cmd_advisor_build(args: argparse.Namespace) -> int:
    """Data from the course, LoRA training, the harness (base and fine-tuned, with and without the
    check) and the model card; ``--ship`` copies the adapter where the labs load it."""
    from trainer.config import ConfigError, load_config
    from trainer.train import TrainError
    from tutor.advisors import adapter_build
    from tutor.cli import CommandError, _core

    try:
        config = load_config(args.train_config)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    out = Path(args.out)
    core = _core(args)
    if args.skip_data:
        built = adapter_build.read_data(out / "data", config=config)
    else:
        print(f"1/4 data: building examples from the course into {out / 'data'} …", file=sys.stderr, flush=True)
        built = adapter_build.build_data(
            core, out / "data", config=config, seed=args.seed, per_lab=args.per_lab, limit_units=args.limit_units
        )
    print(f"    {built.examples} examples {built.by_kind}; splits {built.by_split}", file=sys.stderr)
    shipped = adapter_build.shipped_data_sha256()
    if shipped:
        same = "the same data as" if shipped == built.sha256 else "NOT the data of"
        print(f"    sha256 {built.sha256[:12]}…: {same} the shipped adapter ({shipped[:12]}…)", file=sys.stderr)
    if args.data_only:
        return 0
    if not args.skip_train:
        print("2/4 train: LoRA on the packaged model …", file=sys.stderr, flush=True)
        try:
            result = adapter_build.train_adapter(
                config, built.path, out / "run", models_dir=core.settings.models_dir, max_steps=args.max_steps
            )
        except (TrainError, OSError, ValueError) as exc:
            raise CommandError(f"training failed: {exc}") from None
        if result.status != "done":
            raise CommandError(f"training ended {result.status}; see {out / 'run' / 'progress.jsonl'}")
    if args.skip_eval:
        return 0
    print("3/4 eval: the advisor harness, base and fine-tuned …", file=sys.stderr, flush=True)
    report = adapter_build.evaluate(
        core.settings,
        str(out / "run" / "adapter"),
        Path(args.cases),
        limit=args.eval_limit,
        general=args.general,
        progress=lambda line: print(f"    {line}", file=sys.stderr, flush=True),  # ~40 minutes on 2 cores
    )
    card = adapter_build.write_model_card(out / "run", report, built, command=REPRODUCE)
    print(report.markdown)
    print(f"4/4 model card: {card}", file=sys.stderr)
    if args.ship:
        dest = adapter_build.ship(out / "run")
        print(f"    shipped to {dest} (the labs load it by default)", file=sys.stderr)
    return 0


def add_parsers(commands: argparse._SubParsersAction) -> None:
    ask = commands.add_parser("ask", help="ask a question about the course; the answer is checked against it")
    ask.add_argument("text", help="your question; - reads it from stdin")
    ask.add_argument("--lab", choices=LABS, default="strategy", help="the lab whose chat it is (default strategy)")
    ask.add_argument("--after", metavar="TEXT", help="the previous message, for a follow-up question")
    ask.add_argument(
        "--json", action="store_true", help="print JSON: answer, citations, passages, model, grounded, source"
    )
    ask.set_defaults(func=cmd_ask)

    advisor = commands.add_parser("advisor", help="measure the advisor's answers")
    advisor_commands = advisor.add_subparsers(dest="advisor_command", required=True, metavar="COMMAND")
    evaluate = advisor_commands.add_parser("eval", help="run the held-out advisor questions and score the answers")
    evaluate.add_argument("--cases", default=str(DEFAULT_CASES), help="cases file (YAML)")
    evaluate.add_argument(
        "--configs",
        default="raw,checked,openai",
        help="which of raw, unchecked, checked (with the advisor adapter), base-raw, base-unchecked, "
        "base-checked (without it), openai (default raw,checked,openai)",
    )
    evaluate.add_argument("--adapter", help="the adapter folder for raw and checked (default: the settings' own)")
    evaluate.add_argument("--kinds", help="only these kinds: course, follow_up, quiz, off_course (comma-separated)")
    evaluate.add_argument("--limit", type=int, help="only the first N cases")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    evaluate.set_defaults(func=cmd_advisor_eval)

    build = advisor_commands.add_parser(
        "build", help="build the advisor adapter: data from the course, LoRA training, evaluation, model card"
    )
    build.add_argument("--out", default="var/advisor", help="working folder (data/, run/); default var/advisor")
    build.add_argument("--train-config", default=str(ADVISOR_CONFIG), help="trainer config (YAML)")
    build.add_argument("--seed", type=int, default=0, help="seed of the data builder (default 0)")
    build.add_argument("--per-lab", type=int, default=80, help="use cases per lab for explanations (default 80)")
    build.add_argument("--limit-units", type=int, default=0, help="only N course sentences (a quick slice)")
    build.add_argument("--max-steps", type=int, default=0, help="override training.max_steps")
    build.add_argument("--cases", default=str(DEFAULT_CASES), help="held-out cases for the harness")
    build.add_argument("--eval-limit", type=int, default=0, help="only the first N held-out cases")
    build.add_argument("--general", type=int, default=0, help="only the first N general instructions (default all 40)")
    build.add_argument("--data-only", action="store_true", help="stop after writing the data and its card")
    build.add_argument("--skip-data", action="store_true", help="reuse the data already in --out")
    build.add_argument("--skip-train", action="store_true", help="reuse the run already in --out")
    build.add_argument("--skip-eval", action="store_true", help="stop after training")
    build.add_argument("--ship", action="store_true", help="copy the adapter to tutor/advisors/adapter")
    build.set_defaults(func=cmd_advisor_build)
