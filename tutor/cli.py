"""The ``tutor`` command line. One explicit list of commands; ``tutor --help`` shows them all.

    tutor serve [--host H] [--port N]         start the web app
    tutor users add NAME --role ROLE          create an account (password asked, or read from stdin)
    tutor users list [--json]                 list accounts
    tutor users passwd NAME                   set a new password
    tutor lessons list [--json]               list lessons and reference pages
    tutor lessons check                       validate every page and link (file:line messages)
    tutor quiz validate FILE                  check a YAML or GIFT bank (exit 1 with FILE:LINE: message lines)
    tutor quiz import FILE [--publish]        store a bank as a new version (and publish it)
    tutor quiz export BANK --format yaml|gift [-o FILE]
    tutor quiz list [--json]                  published quizzes
    tutor quiz stats QUIZ [--json]            item analysis: facility, discrimination, Cronbach's alpha
    tutor index [--force]                     build the course search index (only when the content changed)
    tutor rag search QUERY [-k N] [--json]    the course passages closest to a question
    tutor advise LAB TEXT [--file F] [--json]  ask an advisor: strategy, dataset, hyperparams or eval (see --help)
    tutor ask TEXT [--lab LAB] [--json]      a course question, answered from the course and checked against it
    tutor advisor eval [--json]              score the advisor's answers on the held-out questions
    tutor advisor build [--ship]             the advisor's adapter: data from the course, training, evaluation
    tutor train --config FILE [--max-steps N] [--output-dir DIR] [--resume]   fine-tune a LoRA adapter
    tutor export RUN_DIR --format merged|gguf [--dtype D]   a merged model or a GGUF file from a finished run
    tutor bench [advisor|retrieval|quiz|train|models|all] [--json]   the benchmarks in bench/, with the machine
    tutor data clean FILE --dedupe|--drop-empty|--lower-labels|--remove-leaks|--all --out FILE   act on the critic
    tutor runs list [--owner NAME] [--json]  the QLoRA lab's runs: data version, changed fields, metric, time
    tutor runs compare RUN RUN [...] [--out F]  2-4 finished runs side by side, as a Markdown report
    tutor runs stop RUN                      stop or cancel any learner's run (instructors)
    tutor cluster up [--ip A] [--port N] [--cpus N] [--gpus N]   a Ray head for QLoRA runs (runs_backend: ray)
    tutor cluster status [--json]            the Ray cluster's nodes, free CPUs/GPUs and active runs
    tutor cluster down                       stop Ray on this host
    tutor models list [--json]               the Local models lab: the models on this machine
    tutor models quantize SRC --type TYPE    a quantized copy of a GGUF model (Q8_0, Q4_K_M, ...)
    tutor models chat MODEL TEXT             one message, with time to first token and tokens/s
    tutor models bench --models A,B[,C] [--prompts SET|FILE] [--json]   models side by side, measured
    tutor models quickstart [--gemma]        the packaged model, its Q8_0 and F16 copies, compared
    tutor models card MODEL [--mark ITEM=STATE] [--note N]   a model card and its checklist critique
    tutor models history [--json]            the learner's saved comparisons
    tutor models server add NAME URL [--model M] [--price P]   an OpenAI-compatible server (Ollama, vLLM, an API)
    tutor models server remove NAME          forget that server

Errors are one line on stderr: exit status 2 for bad settings or usage, 1 for everything else.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from tutor import accounts
from tutor.quiz.analysis import analysed_label
from tutor.quiz.versions import QuizError
from tutor.settings import Settings, SettingsError, load_settings

# The command summary from the module docstring, shown by `tutor --help`.
_COMMAND_LIST = [line for line in (__doc__ or "").splitlines() if line.startswith("    tutor ")]


class CommandError(RuntimeError):
    """A command that cannot be done; printed as one line."""


def _settings(args: argparse.Namespace, **flags: object) -> Settings:
    return load_settings(
        config_file=args.config,
        overrides={"database_url": args.database_url, "mode": args.mode, "data_dir": args.data_dir, **flags},
    )


def _store(args: argparse.Namespace):
    from tutor.store import StoreError, open_store

    try:
        return open_store(_settings(args).resolved_database_url)
    except StoreError as exc:
        raise CommandError(str(exc)) from None


def _print_rows(rows: list[dict], as_json: bool, line: Callable[[dict], str]) -> None:
    """A list command's output: JSON for programs, one formatted line per row for people."""
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(line(row))


def cmd_serve(args: argparse.Namespace) -> int:
    from tutor.core import Core, StartupError

    settings = _settings(args, host=args.host, port=args.port)
    try:
        core = Core.start(settings)
    except StartupError as exc:
        raise CommandError(str(exc)) from None
    import app  # imported late: Gradio is slow to import and not needed by other commands

    where = f"http://{settings.host}:{settings.port}"
    print(f"Fine-Tuning Tutor on {where} ({settings.mode} mode, database {core.store.engine.url!r})", flush=True)
    if settings.warm_up:
        threading.Thread(target=core.warm_up, kwargs={"log": lambda m: print(m, flush=True)}, daemon=True).start()
    app.launch(core)
    return 0


def _read_password(prompt_user: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"Password for {prompt_user}: ")
        if getpass.getpass("Repeat the password: ") != first:
            raise CommandError("the two passwords differ")
        return first
    line = sys.stdin.readline()
    if not line:
        raise CommandError("no password on standard input")
    return line.rstrip("\r\n")


def cmd_users_add(args: argparse.Namespace) -> int:
    accounts.check_username(args.name)
    store = _store(args)
    password = _read_password(args.name)
    accounts.add_user(store, args.name, password, args.role)
    print(f"created {args.role} {args.name!r}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    users = accounts.list_users(_store(args))
    if args.json:
        print(
            json.dumps(
                [{"username": u.username, "role": u.role, "created_at": u.created_at.isoformat()} for u in users]
            )
        )
    else:
        for user in users:
            print(f"{user.username}\t{user.role}\t{user.created_at:%Y-%m-%d %H:%M}")
    return 0


def cmd_users_passwd(args: argparse.Namespace) -> int:
    store = _store(args)
    if accounts.get_user(store, args.name) is None:
        raise CommandError(f"no user {args.name!r}")
    accounts.set_password(store, args.name, _read_password(args.name))
    print(f"password changed for {args.name!r}")
    return 0


def cmd_lessons_list(args: argparse.Namespace) -> int:
    from tutor.content import load_course

    course = load_course(_settings(args).lessons_dir)
    pages = [
        {"id": p.id, "kind": p.meta.kind, "order": p.meta.order, "title": p.title, "minutes": p.meta.minutes}
        for p in course.pages()
    ]
    _print_rows(pages, args.json, lambda p: f"{p['kind']:<9} {p['order']}  {p['id']:<24} {p['title']}")
    return 0


def cmd_lessons_check(args: argparse.Namespace) -> int:
    from tutor.content import load_course

    course = load_course(_settings(args).lessons_dir)
    print(f"ok: {len(course.lessons)} lessons, {len(course.reference)} reference pages, all links resolve")
    return 0


def _read_bank_file(path: str):
    """Read and validate a bank file; skipped questions go to stderr as warnings and each
    problem to stdout as ``FILE:LINE: message`` (result.bank is None when there were any)."""
    from tutor.quiz.bank_files import read_bank

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None
    result = read_bank(data, path)
    for line in result.skipped:
        print(f"warning: {line}", file=sys.stderr)
    for line in result.problems:
        print(line)
    return result


def cmd_quiz_validate(args: argparse.Namespace) -> int:
    result = _read_bank_file(args.file)
    if result.bank is None:
        return 1
    print(
        f"ok: {args.file}: bank {result.bank.bank!r}, {len(result.bank.questions)} questions, "
        f"{len(result.bank.quizzes)} quizzes"
    )
    return 0


def cmd_quiz_import(args: argparse.Namespace) -> int:
    result = _read_bank_file(args.file)
    if result.bank is None:
        print(f"tutor: error: nothing imported from {args.file}", file=sys.stderr)
        return 1
    core = _core(args)
    version = core.save_bank(core.operator(), result.bank, args.file, publish=args.publish)
    state = "published" if args.publish else "not published (use --publish)"
    print(f"imported {result.bank.bank} v{version.version}: {len(result.bank.questions)} questions, {state}")
    return 0


def cmd_quiz_export(args: argparse.Namespace) -> int:
    core = _core(args)
    try:
        text = core.export_bank(core.operator(), args.bank, args.format)
    except KeyError:
        raise CommandError(f"no bank {args.bank!r} (see `tutor quiz list`)") from None
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_quiz_list(args: argparse.Namespace) -> int:
    core = _core(args)
    rows = []
    for version, bank in core.bank_versions(core.operator(), published_only=True):
        for quiz in bank.quizzes:
            rows.append(
                {
                    "id": quiz.id,
                    "title": quiz.title,
                    "bank": version.bank_id,
                    "version": version.version,
                    "questions": len(quiz.questions) + sum(d.count for d in quiz.draws),
                    "pass_mark": quiz.pass_mark,
                    "attempts_allowed": quiz.attempts_allowed,
                    "grading": quiz.grading,
                }
            )
    _print_rows(
        rows,
        args.json,
        lambda r: f"{r['id']:<14} {r['questions']:>3} questions  {r['bank']} v{r['version']}  {r['title']}",
    )
    return 0


def cmd_quiz_stats(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    core = _core(args)
    stats = core.quiz_statistics(core.operator(), args.quiz)
    if args.json:
        print(json.dumps(asdict(stats), indent=2))
        return 0

    def pct(value: float | None) -> str:
        return "   -" if value is None else f"{value:5.1f}"

    alpha = "-" if stats.cronbach_alpha is None else f"{stats.cronbach_alpha:.3f}"
    print(f"{args.quiz}: {analysed_label(stats)}, mean {pct(stats.mean_percent)}%, Cronbach's alpha {alpha}")
    if stats.note:
        print(f"note: {stats.note}")
    print("question           n  facility%  discrimination%  efficiency%")
    for item in stats.items:
        flag = "  <- review (DE < 15%)" if item.dubious else ""
        print(
            f"{item.question_id:<16} {item.attempts:>3}  {pct(item.facility):>9}  {pct(item.discrimination):>15}"
            f"  {pct(item.efficiency):>11}{flag}"
        )
    return 0


def _core(args: argparse.Namespace):
    from tutor.core import Core, StartupError

    try:
        # One question and out: no web requests to keep fast, so no worker process to start.
        return Core.start(_settings(args, llm_worker=False))
    except StartupError as exc:
        raise CommandError(str(exc)) from None


def cmd_index(args: argparse.Namespace) -> int:
    report = _core(args).course_index().ensure(force=args.force)
    state = "built" if report.built else "up to date"
    print(
        f"course index {state}: {report.chunks} chunks in {report.seconds:.1f} s (content {report.content_hash[:12]})"
    )
    return 0


def cmd_rag_search(args: argparse.Namespace) -> int:
    passages = _core(args).search_course(args.query, k=args.k)
    rows = [
        {"lesson": p.page_id, "section": p.section, "anchor": p.anchor, "score": p.score, "text": p.text}
        for p in passages
    ]
    _print_rows(rows, args.json, lambda r: f"{r['score']:.3f}  {r['lesson']} › {r['section']}  (#{r['anchor']})")
    return 0


def cmd_advise(args: argparse.Namespace) -> int:
    from tutor.advisors.base import to_json
    from tutor.advisors.service import sources_markdown
    from tutor.advisors.turn import FinalAnswer, ModelFailed, ModelReady, final_answer

    text = sys.stdin.read() if args.text == "-" else args.text
    core = _core(args)
    files = [f for f in (args.file, args.file2) if f]
    for name in files:
        if not Path(name).is_file():
            raise CommandError(f"{name}: no such file")
    advice = core.advise_once(args.lab, text, files)
    if args.json:
        data = json.loads(to_json(advice.recommendation))
        if args.explain:
            final = final_answer(core.answer(advice, drafts=False))
            if final.error:
                raise CommandError(final.error)
            data["explanation"], data["model"] = final.explanation.strip(), final.model
            data["grounded"], data["source"] = final.grounded, final.source
            if final.note:  # why the explanation is shorter than what the model wrote, or empty
                data["note"] = final.note.strip()
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print(advice.recommendation.markdown())
    if args.explain:
        # A terminal cannot take back what it printed, so the CLI shows the final answer (what the
        # checks let stand), not the streamed draft.
        model = ""
        for event in core.answer(advice, drafts=False):
            match event:
                case ModelReady(model=model):
                    pass
                case ModelFailed(error=error):
                    raise CommandError(error)
                case FinalAnswer(explanation=explanation, note=note, source=source):
                    # Course quotes that stand in for the model's words are not put under its name.
                    print("\n--- From the course ---" if source == "extract" else f"\n--- {model} explains ---")
                    print((explanation + note).strip())
    print("\nSources:\n" + sources_markdown(advice))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """An alias of ``python -m trainer``, with the models folder of the app's settings."""
    from trainer.command import config_reference, run_train_command

    if args.help_config:
        print(config_reference())
        return 0
    if not args.run_config:
        raise CommandError("--config FILE is required (shipped configs: trainer/configs/*.yaml)")
    return run_train_command(
        args.run_config,
        max_steps=args.max_steps,
        output_dir=args.output_dir,
        resume=args.resume,
        models_dir=_settings(args).models_dir,
        prog="tutor",
    )


def cmd_export(args: argparse.Namespace) -> int:
    from trainer.config import ConfigError, load_config
    from trainer.export import merge_adapter
    from trainer.gguf_export import export_gguf
    from trainer.model import ModelError

    run_dir = Path(args.run_dir)
    models_dir = _settings(args).models_dir
    try:
        config = load_config(run_dir / "config.yaml")
        if args.format == "gguf":
            path = export_gguf(run_dir, config, models_dir=models_dir)
        else:
            path = merge_adapter(run_dir, config, dtype=args.dtype, models_dir=models_dir)
    except (ConfigError, ModelError) as exc:
        raise CommandError(str(exc)) from None
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor",
        description="Fine-Tuning Tutor: Module 3 of the LLM course.",
        epilog="commands:\n" + "\n".join(line.strip() and "  " + line.strip() for line in _COMMAND_LIST),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", metavar="FILE", help="settings file (TOML); default $TUTOR_CONFIG or ./tutor.toml")
    parser.add_argument("--database-url", metavar="URL", help="SQLAlchemy database URL (default: SQLite in data_dir)")
    parser.add_argument("--data-dir", metavar="DIR", help="folder for runtime data (default: ./var)")
    parser.add_argument("--mode", choices=["single", "class"], help="single learner or a class with accounts")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="start the web app")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 7860)")
    serve.set_defaults(func=cmd_serve)

    users = commands.add_parser("users", help="manage accounts (class mode)")
    users_commands = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_commands.add_parser("add", help="create an account; the password is asked, or read from stdin")
    add.add_argument("name")
    add.add_argument("--role", choices=["learner", "instructor"], default="learner")
    add.set_defaults(func=cmd_users_add)
    listing = users_commands.add_parser("list", help="list accounts")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_users_list)
    passwd = users_commands.add_parser("passwd", help="set a new password (asked, or read from stdin)")
    passwd.add_argument("name")
    passwd.set_defaults(func=cmd_users_passwd)

    lessons = commands.add_parser("lessons", help="list or check the course content")
    lessons_commands = lessons.add_subparsers(dest="lessons_command", metavar="ACTION", required=True)
    lessons_list = lessons_commands.add_parser("list", help="list lessons and reference pages")
    lessons_list.add_argument("--json", action="store_true", help="print JSON")
    lessons_list.set_defaults(func=cmd_lessons_list)
    lessons_check = lessons_commands.add_parser("check", help="validate every page and internal link")
    lessons_check.set_defaults(func=cmd_lessons_check)

    quiz = commands.add_parser("quiz", help="validate, import, export and analyse quiz banks")
    quiz_commands = quiz.add_subparsers(dest="quiz_command", metavar="ACTION", required=True)
    validate = quiz_commands.add_parser("validate", help="check a YAML or GIFT bank file")
    validate.add_argument("file")
    validate.set_defaults(func=cmd_quiz_validate)
    importing = quiz_commands.add_parser("import", help="store a bank file as a new version")
    importing.add_argument("file")
    importing.add_argument("--publish", action="store_true", help="make it the version new attempts use")
    importing.set_defaults(func=cmd_quiz_import)
    export = quiz_commands.add_parser("export", help="write a bank as YAML or GIFT")
    export.add_argument("bank")
    export.add_argument("--format", choices=["yaml", "gift"], default="yaml")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    export.set_defaults(func=cmd_quiz_export)
    quiz_list = quiz_commands.add_parser("list", help="list published quizzes")
    quiz_list.add_argument("--json", action="store_true", help="print JSON")
    quiz_list.set_defaults(func=cmd_quiz_list)
    stats = quiz_commands.add_parser("stats", help="item analysis of a quiz")
    stats.add_argument("quiz")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(func=cmd_quiz_stats)

    index = commands.add_parser("index", help="build the course search index (skipped when up to date)")
    index.add_argument("--force", action="store_true", help="rebuild even when the content has not changed")
    index.set_defaults(func=cmd_index)
    rag = commands.add_parser("rag", help="search the course index")
    rag_commands = rag.add_subparsers(dest="rag_command", required=True, metavar="COMMAND")
    search = rag_commands.add_parser("search", help="the passages closest in meaning to QUERY")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=3, help="how many passages (default 3)")
    search.add_argument("--json", action="store_true", help="print JSON: lesson, section, anchor, score, text")
    search.set_defaults(func=cmd_rag_search)
    advise = commands.add_parser("advise", help="ask an advisor lab about your use case")
    advise.add_argument("lab", choices=["strategy", "dataset", "hyperparams", "eval"])
    advise.add_argument("text", help="your message; - reads it from stdin")
    advise.add_argument("--file", help="data file (dataset: JSONL/CSV; hyperparams: loss log; eval: predictions)")
    advise.add_argument("--file2", help="second file (dataset: test set for leakage; eval: references)")
    advise.add_argument("--json", action="store_true", help="print the recommendation as JSON")
    advise.add_argument("--explain", action="store_true", help="also let the model explain it (slower)")
    advise.set_defaults(func=cmd_advise)
    # here, not at the top: they import helpers from this module
    from tutor import cli_advisor, cli_bench, cli_cluster, cli_models, cli_runs

    cli_advisor.add_parsers(commands)
    cli_runs.add_parsers(commands)
    cli_bench.add_parsers(commands)
    cli_models.add_parsers(commands)
    cli_cluster.add_parsers(commands)

    train = commands.add_parser("train", help="fine-tune a LoRA/QLoRA adapter from a YAML config")
    # dest differs from the global --config (the app's settings file) given before the command.
    train.add_argument("--config", dest="run_config", metavar="FILE", help="training config (YAML)")
    train.add_argument("--max-steps", type=int, metavar="N", help="override training.max_steps")
    train.add_argument("--output-dir", metavar="DIR", help="override training.output_dir")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the output dir")
    train.add_argument("--help-config", action="store_true", help="list every config field with its help")
    train.set_defaults(func=cmd_train)

    export_run = commands.add_parser("export", help="merge a finished run's adapter into the base, or write GGUF")
    export_run.add_argument("run_dir", help="the run's output folder (with adapter/ and config.yaml)")
    export_run.add_argument("--format", choices=["merged", "gguf"], default="merged")
    export_run.add_argument(
        "--dtype",
        choices=["float32", "bfloat16", "float16"],
        default="float32",
        help="precision of the merged copy (never 4-bit)",
    )
    export_run.set_defaults(func=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from tutor.advisors.base import AdvisorInputError
    from tutor.content import ContentError
    from tutor.llm.base import LLMError
    from tutor.rag.index import RetrievalError

    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except SettingsError as exc:
        print(f"tutor: error: {exc}", file=sys.stderr)
        return 2
    except (
        CommandError,
        accounts.AccountError,
        ContentError,
        AdvisorInputError,
        LLMError,
        RetrievalError,
        QuizError,
    ) as exc:
        print(f"tutor: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
