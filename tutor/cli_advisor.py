"""``tutor ask`` (a course question, answered from the course) and ``tutor advisor eval`` (how
good the advisor's words are). Registered by ``tutor.cli.build_parser``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

LABS = ["strategy", "dataset", "hyperparams", "eval"]
DEFAULT_CASES = Path(__file__).resolve().parent.parent / "bench" / "advisor_heldout.yaml"


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
    from tutor.cli import CommandError, _core, _settings
    from tutor.core import Core, StartupError

    try:
        cases = answer_eval.load_cases(Path(args.cases))
    except answer_eval.CasesError as exc:
        raise CommandError(str(exc)) from None
    if args.kinds:
        cases = [c for c in cases if c.kind in args.kinds.split(",")]
    cases = cases[: args.limit] if args.limit else cases
    core = _core(args)
    configs: dict[str, tuple[object, object]] = {}
    wanted = args.configs.split(",")
    if "raw" in wanted:
        configs["raw"] = (core, answer_eval.reply_raw)
    if "checked" in wanted:
        configs["checked"] = (core, answer_eval.reply_checked)
    settings = core.settings
    if settings.llm_backend != "openai" and settings.llm_base_url and "openai" in wanted:
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
        "--configs", default="raw,checked,openai", help="which of raw, checked, openai (default all available)"
    )
    evaluate.add_argument("--kinds", help="only these kinds: course, follow_up, quiz, off_course (comma-separated)")
    evaluate.add_argument("--limit", type=int, help="only the first N cases")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    evaluate.set_defaults(func=cmd_advisor_eval)
