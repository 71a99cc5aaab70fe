"""The Local models lab's one-click comparison, repeated, beside a plain llama-cpp-python baseline.

Each round runs what the tab's first button runs (the packaged Q4_1 model, its Q8_0 and F16
copies, 10 held-out sentiment sentences; tutor.local_models.lab.LocalModelsLab.quick_start) in a
fresh data folder, and times each file a second way with llama-cpp-python's high-level API alone
(64 tokens after the same short prompt, end-of-text forbidden): the baseline, written without the
lab's code, that says whether the lab's speed ordering is llama.cpp's own. Medians over rounds.

    .venv/bin/python bench/local_models.py [--repeat 3] [--gemma] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BASELINE = """
import json, os, sys, time
import llama_cpp
from tutor.llm.llamacpp_backend import skip_crashing_cpu_kernels
skip_crashing_cpu_kernels()  # as the app loads it: llama.cpp's AMX kernels segfault (llama.cpp#20824)
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=512, n_threads=os.cpu_count(), verbose=False)
eos = llm.token_eos()
speeds = []
for _ in range(3):
    started = time.perf_counter()
    out = llm("The quarterly report shows that revenue", max_tokens=64, temperature=0.0, logit_bias={eos: -1e9})
    speeds.append(out["usage"]["completion_tokens"] / (time.perf_counter() - started))
print(json.dumps(speeds))
"""


def baseline_speed(path: str) -> float:
    """Tokens/s of llama-cpp-python's own completion call (prompt included), median of 3."""
    done = subprocess.run([sys.executable, "-c", BASELINE, path], capture_output=True, text=True, check=True)
    return statistics.median(json.loads(done.stdout.strip().splitlines()[-1]))


def one_round(gemma: bool) -> dict:
    from tutor.core import Core
    from tutor.settings import load_settings

    folder = Path(tempfile.mkdtemp(prefix="bench-local-models-"))
    core = Core.start(load_settings(env={}, overrides={"data_dir": folder, "warm_up": False}))
    lab = core.local_models
    started = time.perf_counter()
    saved = lab.quick_start("bench")
    seconds = time.perf_counter() - started
    rows = {}
    for model in saved.comparison.models:
        entry = lab.entry("bench", model.id)
        rows[model.quantization] = {
            "size_mb": model.size_mb,
            "tokens_per_s": model.tokens_per_s,
            "first_token_s": model.ttft_s,
            "peak_memory_mb": model.peak_memory_mb,
            "accuracy": model.quality,
            "baseline_tokens_per_s": baseline_speed(entry.path),
        }
    result = {"seconds": seconds, "models": rows, "direction": saved.comparison.speed_direction()}
    if gemma:
        pair = lab.gemma_comparison("bench")
        result["gemma"] = [
            {"model": m.name, "tokens_per_s": m.tokens_per_s, "accuracy": m.quality, "answers": m.answers[:3]}
            for m in pair.comparison.models
        ]
    core.store.close()
    return result


def order(speeds: dict[str, float]) -> list[str]:
    return sorted(speeds, key=lambda name: -speeds[name])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gemma", action="store_true", help="also Gemma 3 270M (base) against SmolLM2 (instruct)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rounds = [one_round(args.gemma) for _ in range(args.repeat)]
    names = list(rounds[0]["models"])
    medians = {
        name: {
            key: statistics.median(r["models"][name][key] for r in rounds if r["models"][name][key] is not None)
            for key in rounds[0]["models"][name]
        }
        for name in names
    }
    lab_order = order({n: medians[n]["tokens_per_s"] for n in names})
    base_order = order({n: medians[n]["baseline_tokens_per_s"] for n in names})
    summary = {
        "rounds": rounds,
        "median": medians,
        "one_click_seconds_median": statistics.median(r["seconds"] for r in rounds),
        "fastest_first_lab": lab_order,
        "fastest_first_baseline": base_order,
        "orders_agree": lab_order == base_order,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"One-click comparison, {args.repeat} rounds; medians.\n")
    columns = ["type", "size MB", "tokens/s (lab probe)", "tokens/s (llama-cpp-python alone)", "first token s"]
    print("| " + " | ".join([*columns, "peak MB", "accuracy"]) + " |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        m = medians[name]
        print(
            f"| {name} | {m['size_mb']:.1f} | {m['tokens_per_s']:.1f} | {m['baseline_tokens_per_s']:.1f} | "
            f"{m['first_token_s']:.3f} | {m['peak_memory_mb']:.0f} | {m['accuracy']:.2f} |"
        )
    agree = lab_order == base_order
    print(f"\nfastest first, lab: {', '.join(lab_order)}; baseline: {', '.join(base_order)}; agree: {agree}")
    print(f"one click, start to table: {summary['one_click_seconds_median']:.1f} s (median)")
    for r in rounds:
        print("round:", "; ".join(r["direction"]))
    if args.gemma:
        for row in rounds[-1]["gemma"]:
            speed, accuracy = row["tokens_per_s"], row["accuracy"]
            print(f"{row['model']}: {speed} tokens/s, accuracy {accuracy}, e.g. {row['answers'][:2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
