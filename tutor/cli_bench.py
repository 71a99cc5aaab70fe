"""``tutor bench [advisor|retrieval|quiz|train|models|all] [--json]``: the benchmarks in bench/, run one
after another, each in its own process, with the machine and the exact command printed above
its result. Each benchmark measures its own baseline in the same run and reports medians;
docs/benchmarks.md explains every figure. Registered by ``tutor.cli.build_parser``.

The benchmarks ship with the repository (bench/), not with an installed wheel: run this from a
clone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    args: tuple[str, ...]
    what: str
    json_flag: bool = False  # the script prints JSON itself with --json


BENCHMARKS = {
    b.name: b
    for b in (
        Benchmark(
            "advisor",
            "advisor_speed.py",
            ("--repeats", "3", "--tokens", "160"),
            "advisor answers: the default path, transformers generate and llama.cpp on the base, side by side",
        ),
        Benchmark(
            "retrieval", "rag_recall.py", (), "the course index: recall@1/3/5, MRR@10 against a keyword baseline"
        ),
        Benchmark(
            "quiz",
            "quiz_load.py",
            (),
            "quiz submits under a class: Gradio's queue against the /api/v1 route",
            json_flag=True,
        ),
        Benchmark("train", "qlora_train.py", (), "the QLoRA trainer against a plain Trainer + peft script"),
        Benchmark(
            "models",
            "local_models.py",
            ("--repeat", "3"),
            "the Local models lab's one-click comparison (Q4_1, Q8_0, F16) beside llama-cpp-python alone",
            json_flag=True,
        ),
    )
}


def machine() -> str:
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    except ImportError:  # pragma: no cover - torch is a dependency
        gpu = "no torch"
    return f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, {gpu}"


def command_of(bench: Benchmark, as_json: bool) -> list[str]:
    args = list(bench.args)
    if bench.name == "train" and "no GPU" in machine():
        args.append("--cpu")  # a short CPU run: the comparison's GPU figures need a GPU
    if as_json and bench.json_flag:
        args.append("--json")
    return [sys.executable, str(BENCH_DIR / bench.script), *args]


def cmd_bench(args: argparse.Namespace) -> int:
    from tutor.cli import CommandError

    if not BENCH_DIR.is_dir():
        raise CommandError(f"{BENCH_DIR}: the benchmarks ship with the repository; run `tutor bench` from a clone")
    names = list(BENCHMARKS) if args.which == "all" else [args.which]
    results, failed = [], 0
    if not args.json:
        print(f"Machine: {machine()}\n", flush=True)
    for name in names:
        bench = BENCHMARKS[name]
        command = command_of(bench, args.json)
        shown = " ".join(["python", f"bench/{bench.script}", *command[2:]])
        if not args.json:
            print(f"## {name}: {bench.what}\n\n    {shown}\n", flush=True)
        started = time.monotonic()
        env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
        done = subprocess.run(command, cwd=BENCH_DIR.parent, env=env, capture_output=args.json, text=True, check=False)
        failed += done.returncode != 0
        if args.json:
            output = done.stdout
            try:
                parsed = json.loads(output) if bench.json_flag else None
            except ValueError:
                parsed = None
            results.append(
                {
                    "benchmark": name,
                    "command": shown,
                    "returncode": done.returncode,
                    "seconds": round(time.monotonic() - started, 1),
                    "result": parsed,
                    "output": None if parsed is not None else output,
                    "errors": done.stderr[-4000:] if done.returncode else "",
                }
            )
        else:
            status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
            print(f"\n({name}: {status}, {time.monotonic() - started:.0f} s)\n", flush=True)
    if args.json:
        print(json.dumps({"machine": machine(), "benchmarks": results}, indent=2))
    return 1 if failed else 0


def add_parsers(commands: argparse._SubParsersAction) -> None:
    bench = commands.add_parser("bench", help="run the benchmarks (bench/) and print their figures")
    bench.add_argument("which", nargs="?", default="all", choices=[*BENCHMARKS, "all"], help="which (default: all)")
    bench.add_argument("--json", action="store_true", help="one JSON document with every benchmark's result")
    bench.set_defaults(func=cmd_bench)
