"""``tutor models …``: the Local models lab on the command line (list, quantize, chat, bench,
quickstart, card, history, server). Registered by ``tutor.cli.build_parser``.

A model is named by its id in ``tutor models list`` (``packaged``, ``quant:…``, ``run:…``,
``server:…``) or, on the command line only, by the path of a .gguf file.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from trainer import atomic


def _lab(args: argparse.Namespace):
    from tutor.cli import _core

    return _core(args).local_models


def _owner(args: argparse.Namespace) -> str:
    from tutor.cli import _settings

    return args.owner or _settings(args).learner_name


def _guarded(call):
    """Run ``call``; the lab's own errors become one-line command errors."""
    from tutor.cli import CommandError
    from tutor.local_models.lab import lab_errors

    try:
        return call()
    except lab_errors() as exc:
        raise CommandError(str(exc)) from None


def cmd_list(args: argparse.Namespace) -> int:
    entries = _guarded(lambda: _lab(args).models(_owner(args)))
    if args.json:
        print(json.dumps([e.public() for e in entries], indent=2))
        return 0
    for e in entries:
        size = f"{e.size_bytes / 1e6:8.1f} MB" if e.size_bytes else "  (server)"
        where = e.base_url or e.path
        print(f"{e.id:<44} {e.engine:<12} {e.format + ' ' + e.quantization:<32} {size}  {where}")
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    lab = _lab(args)

    def progress(done: int, total: int) -> None:
        if not args.json and (done == total or done % 34 == 0):
            print(f"  {done}/{total} tensors", file=sys.stderr, flush=True)

    result = _guarded(
        lambda: lab.quantize(_owner(args), args.source, args.type, on_progress=progress, allow_paths=True)
    )
    if args.json:
        data = {**asdict(result), "path": str(result.path), "ratio": result.ratio}
        print(json.dumps(data, indent=2))
    else:
        print(result.summary())
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    lab = _lab(args)
    text = sys.stdin.read() if args.text == "-" else args.text

    def run():
        final = None
        for partial, answer in lab.chat(
            _owner(args), args.model, [], text, temperature=args.temperature, max_tokens=args.max_tokens,
            context=args.context,
        ):  # fmt: skip
            final = (partial, answer)
        return final

    reply, answer = _guarded(run)
    stats = {
        "first_token_s": round(answer.ttft, 3),
        "tokens": answer.tokens,
        "tokens_per_s": round(answer.tokens_per_s, 1),
        "seconds": round(answer.seconds, 2),
    }
    if args.json:
        print(json.dumps({"model": args.model, "reply": reply, **stats}, indent=2, ensure_ascii=False))
    else:
        print(reply)
        print(
            f"\n— {stats['tokens']} tokens, {stats['tokens_per_s']} tokens/s, first token after "
            f"{stats['first_token_s']} s (temperature {args.temperature}, max tokens {args.max_tokens}, "
            f"context {args.context})"
        )
    return 0


def _print_comparison(saved, args: argparse.Namespace) -> None:
    from tutor.local_models.compare import report_markdown

    report = report_markdown(saved.comparison, saved.reflection)
    if args.out:
        atomic.write_text(Path(args.out), report)
    if args.json:
        data = asdict(saved.comparison)
        data["id"] = saved.id or None
        data["speed_direction"] = saved.comparison.speed_direction()
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(report.split("\n## Answers")[0])
        if args.out:
            print(f"\nreport written to {args.out}")


def cmd_bench(args: argparse.Namespace) -> int:
    from tutor.local_models.prompt_sets import PROMPT_SETS, builtin_set, read_prompt_file

    lab = _lab(args)
    ids = [m.strip() for m in args.models.split(",") if m.strip()]

    def run():
        prompts = builtin_set(args.prompts) if args.prompts in PROMPT_SETS else read_prompt_file(Path(args.prompts))
        return lab.compare(
            _owner(args),
            ids,
            prompts,
            on_progress=None if args.json else _say,
            allow_paths=True,
            save=not args.no_save,
        )

    _print_comparison(_guarded(run), args)
    return 0


def _say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def cmd_quickstart(args: argparse.Namespace) -> int:
    lab = _lab(args)
    if args.gemma:
        saved = _guarded(lambda: lab.gemma_comparison(_owner(args), on_progress=None if args.json else _say))
    else:
        saved = _guarded(lambda: lab.quick_start(_owner(args), on_progress=None if args.json else _say))
    _print_comparison(saved, args)
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    from tutor.cli import CommandError
    from tutor.local_models.card_critique import CHECKLIST

    lab = _lab(args)
    owner = _owner(args)
    if args.mark or args.note is not None:
        view = _guarded(lambda: lab.card(owner, args.model))
        states = dict(view.states)
        for mark in args.mark or []:
            key, _, state = mark.partition("=")
            if not state:
                raise CommandError(f"--mark {mark!r}: expected ITEM=STATE, e.g. license=missing")
            states[key.strip()] = state.strip()
        note = view.note if args.note is None else args.note
        view = _guarded(lambda: lab.save_critique(owner, args.model, states, note))
    else:
        view = _guarded(lambda: lab.card(owner, args.model))
    if args.json:
        print(json.dumps(asdict(view), indent=2, ensure_ascii=False))
        return 0
    print(view.card or f"({args.model} has no model card file)")
    print("\nChecklist" + (" (saved)" if view.saved else " (pre-filled from the card; not saved yet)"))
    for item in CHECKLIST:
        print(f"  {item.title:<20} {view.states[item.key]:<11} {item.question}")
    if view.note:
        print(f"\nNote: {view.note}")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    saved = _guarded(lambda: _lab(args).history(_owner(args)))
    rows = [
        {"id": s.id, "created": s.created, "prompt_set": s.prompt_set, "models": s.models, "reflection": s.reflection}
        for s in saved
    ]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for row in rows:
            print(f"{row['id']:>4}  {row['created']}  {row['prompt_set']:<14} {', '.join(row['models'])}")
    return 0


def cmd_server_add(args: argparse.Namespace) -> int:
    server = _guarded(
        lambda: _lab(args).add_server(
            _owner(args), args.name, args.url, model=args.model, api_key=args.key or "",
            price_per_million=args.price, shared=args.shared,
        )
    )  # fmt: skip
    print(f"added server:{server.name} ({server.base_url}){' for everyone' if args.shared else ''}")
    return 0


def cmd_server_remove(args: argparse.Namespace) -> int:
    _guarded(lambda: _lab(args).remove_server(_owner(args), args.name, shared=args.shared))
    print(f"removed server:{args.name}")
    return 0


def add_parsers(commands: argparse._SubParsersAction) -> None:
    from tutor.local_models.card_critique import ITEM_KEYS, STATES
    from tutor.local_models.prompt_sets import PROMPT_SETS
    from tutor.local_models.quantize import QUANT_TYPES

    models = commands.add_parser("models", help="the Local models lab: list, quantize, chat, compare, model cards")
    actions = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    def owned(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--owner", metavar="NAME", help="whose runs and history (default: the local learner)")
        return parser

    listing = owned(actions.add_parser("list", help="the models on this machine, with format, size and quantization"))
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(func=cmd_list)

    quant = owned(actions.add_parser("quantize", help="a quantized copy of a GGUF model"))
    quant.add_argument("source", metavar="SRC", help="a model id (tutor models list) or a .gguf file")
    quant.add_argument("--type", required=True, metavar="TYPE", help="one of " + ", ".join(QUANT_TYPES))
    quant.add_argument("--json", action="store_true", help="print JSON")
    quant.set_defaults(func=cmd_quantize)

    chat = owned(actions.add_parser("chat", help="one message to a model, with its speed"))
    chat.add_argument("model", help="a model id or a .gguf file")
    chat.add_argument("text", help="the message; - reads it from stdin")
    chat.add_argument("--temperature", type=float, default=0.7)
    chat.add_argument("--max-tokens", type=int, default=200)
    chat.add_argument("--context", type=int, default=2048, help="context window in tokens (llama.cpp)")
    chat.add_argument("--json", action="store_true", help="print JSON")
    chat.set_defaults(func=cmd_chat)

    bench = owned(actions.add_parser("bench", help="the same prompts through 1-4 models, measured side by side"))
    bench.add_argument("--models", required=True, metavar="A,B,C", help="model ids or .gguf files, comma-separated")
    bench.add_argument(
        "--prompts", default="sentiment", metavar="SET|FILE",
        help=f"a prompt set ({', '.join(PROMPT_SETS)}) or a JSONL/YAML file of prompts (default: sentiment)",
    )  # fmt: skip
    bench.add_argument("--out", metavar="FILE", help="also write the Markdown report to FILE")
    bench.add_argument("--no-save", action="store_true", help="do not keep it in the learner's history")
    bench.add_argument("--json", action="store_true", help="print JSON")
    bench.set_defaults(func=cmd_bench)

    quick = owned(
        actions.add_parser("quickstart", help="quantize the packaged model to Q8_0 and F16, compare the three")
    )
    quick.add_argument("--gemma", action="store_true", help="instead: Gemma 3 270M (base) against SmolLM2 (instruct)")
    quick.add_argument("--out", metavar="FILE", help="also write the Markdown report to FILE")
    quick.add_argument("--json", action="store_true", help="print JSON")
    quick.set_defaults(func=cmd_quickstart)

    card = owned(actions.add_parser("card", help="a model's card and its checklist critique"))
    card.add_argument("model", help="a model id")
    card.add_argument(
        "--mark", action="append", metavar="ITEM=STATE",
        help=f"set an item ({', '.join(ITEM_KEYS)}) to {', '.join(STATES)} and save the critique",
    )  # fmt: skip
    card.add_argument("--note", help="your note on the card (saved)")
    card.add_argument("--json", action="store_true", help="print JSON")
    card.set_defaults(func=cmd_card)

    history = owned(actions.add_parser("history", help="the learner's saved comparisons"))
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(func=cmd_history)

    server = actions.add_parser("server", help="add or remove an OpenAI-compatible server (Ollama, vLLM, an API)")
    server_actions = server.add_subparsers(dest="server_command", metavar="ACTION", required=True)
    add = owned(server_actions.add_parser("add", help="add (or update) a server"))
    add.add_argument("name")
    add.add_argument("url", help="its base URL, e.g. http://localhost:11434/v1")
    add.add_argument("--model", default="", help="the model name the server knows")
    add.add_argument("--key", help="API key (many local servers need none)")
    add.add_argument("--price", type=float, help="price per 1M tokens, for the cost column")
    add.add_argument("--shared", action="store_true", help="for every learner (an instructor's server)")
    add.set_defaults(func=cmd_server_add)
    remove = owned(server_actions.add_parser("remove", help="remove a server"))
    remove.add_argument("name")
    remove.add_argument("--shared", action="store_true", help="a server added for every learner")
    remove.set_defaults(func=cmd_server_remove)
