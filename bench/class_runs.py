"""A class presses "Train" at once: N learners' default QLoRA-lab runs through the local backend
and through the Ray backend, on this machine, each backend with the same CPUs.

- local: the app's worker processes, one run at a time on the web host (each run uses the
  host's CPUs, ``--cpus``);
- ray: a one-node Ray cluster started here with ``--cpus`` CPUs; each run asks for
  ``--ray-cpus-per-run`` of them, so runs train side by side as those CPUs allow.

Reported, in one run: each run's wait until it started, the class's total time, and the share of
the machine's CPU time that the web host's process tree (the app and its children) used while the
runs trained. Then the measured run time is projected to classes of 30 and 100 learners on K
workers, with the model written out. ``--max-steps`` shortens every run the same way (the default
config's 40 steps take about 4 minutes on 2 cores); the projection rebuilds a full default run
from the measured per-step time and fixed overhead.

    .venv/bin/python bench/class_runs.py [--learners 4] [--cpus 2] [--max-steps 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.config import default_config_name, shipped_config
from trainer.progress import read_events
from trainer.runs import RunQueue
from trainer.train import LOG_NAME
from tutor.cli_cluster import ray_command


def machine_cpu_seconds() -> float:
    """CPU time spent by the whole machine so far (all cores, busy states), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the local workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def class_config(max_steps: int):
    config = shipped_config(default_config_name("sentiment", False))
    config.training.max_steps = max_steps
    return config


def run_class(queue: RunQueue, learners: int, max_steps: int) -> dict:
    host_before, machine_before = process_tree_cpu_seconds(), machine_cpu_seconds()
    started = time.time()
    runs = [queue.submit(f"learner{i + 1:02d}", class_config(max_steps)) for i in range(learners)]
    queue.start()
    if not queue.wait_idle(4 * 3600):
        raise SystemExit("the runs did not finish in 4 hours")
    ended = [queue.get(r.id) for r in runs]
    bad = [r for r in ended if r.status != "done"]
    if bad:
        raise SystemExit(f"{bad[0].id}: {bad[0].status}: {bad[0].message}")
    host_cpu = process_tree_cpu_seconds() - host_before
    machine_cpu = machine_cpu_seconds() - machine_before
    waits = [r.started - r.created for r in ended]
    durations = [r.finished - r.started for r in ended]
    steps = [step_timing(queue.folder(r.id)) for r in ended]
    return {
        "waits_s": [round(w, 1) for w in waits],
        "run_s": [round(d, 1) for d in durations],
        "median_run_s": round(statistics.median(durations), 1),
        "total_s": round(max(r.finished for r in ended) - started, 1),
        "web_host_cpu_s": round(host_cpu, 1),
        "machine_cpu_s": round(machine_cpu, 1),
        "web_host_share": round(host_cpu / machine_cpu, 3) if machine_cpu else None,
        "step_s": round(statistics.median(s for s, _ in steps), 2),
        "overhead_s": round(statistics.median(o for _, o in steps), 1),
        "nodes": sorted({r.node or "web host" for r in ended}),
    }


def step_timing(folder: Path) -> tuple[float, float]:
    """(seconds per optimizer step, seconds outside the steps) of one finished run: loading,
    evaluation before and after, saving."""
    events = read_events(folder / LOG_NAME)
    train = next(e["time"] for e in events if e["event"] == "phase" and e.get("phase") == "train")
    steps = [e for e in events if e["event"] == "step"]
    per_step = (steps[-1]["time"] - train) / len(steps)
    total = events[-1]["time"] - events[0]["time"]
    return per_step, total - per_step * len(steps)


def start_ray_head(cpus: int, port: int) -> str:
    ray = ray_command()
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}
    subprocess.run([ray, "stop", "--force"], capture_output=True, env=env)
    command = [ray, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", f"--num-cpus={cpus}"]
    subprocess.run([*command, "--disable-usage-stats"], check=True, capture_output=True, env=env)
    return f"127.0.0.1:{port}"


def projection(run_s: float, learners: int, workers: int, per_worker: int = 1) -> dict:
    """Everyone presses Train at once; ``workers`` x ``per_worker`` runs train at a time, each
    taking ``run_s``. Runs start in waves: wave w (0-based) starts at w x run_s."""
    slots = workers * per_worker
    waves = math.ceil(learners / slots)
    waits = [(i // slots) * run_s for i in range(learners)]
    return {
        "learners": learners,
        "workers": workers,
        "waves": waves,
        "last_start_min": round(max(waits) / 60, 1),
        "median_wait_min": round(statistics.median(waits) / 60, 1),
        "total_min": round(waves * run_s / 60, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=4)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="CPUs for each backend")
    parser.add_argument("--ray-cpus-per-run", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=40, help="steps of every run (default config: 40)")
    parser.add_argument("--port", type=int, default=6390)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.update({"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"})
    from trainer.run_ray import RayBackend, RayResources

    root = Path(tempfile.mkdtemp(prefix="class-runs-"))
    models = Path("var/models").resolve()  # the app's converted base model, shared by both backends
    results = {"machine": f"{os.cpu_count()} CPUs", "learners": args.learners, "max_steps": args.max_steps}
    print(f"local backend: {args.learners} runs, one at a time on {args.cpus} CPUs ...", file=sys.stderr)
    results["local"] = run_class(RunQueue(root / "local", models), args.learners, args.max_steps)
    address = start_ray_head(args.cpus, args.port)
    try:
        backend = RayBackend(address, RayResources(cpus=args.ray_cpus_per_run), node_models_dir=str(models))
        print(f"ray backend: {args.cpus} CPUs, {args.ray_cpus_per_run} per run ...", file=sys.stderr)
        results["ray"] = run_class(RunQueue(root / "ray", models, backend=backend), args.learners, args.max_steps)
    finally:
        import ray

        ray.shutdown()  # first, so that stopping the cluster is not reported as a crash
        subprocess.run([ray_command(), "stop", "--force"], capture_output=True)
    local = results["local"]
    default_steps = class_config(40).training.max_steps
    full_run = local["overhead_s"] + default_steps * local["step_s"]
    results["default_run_s"] = round(full_run, 1)
    results["projection"] = [
        projection(full_run, learners, workers) for learners in (30, 100) for workers in (1, 4, 8, 16)
    ]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for name in ("local", "ray"):
        r = results[name]
        print(
            f"{name:5}  waits {r['waits_s']} s  runs median {r['median_run_s']} s  total {r['total_s']} s  "
            f"web host CPU {r['web_host_cpu_s']} of {r['machine_cpu_s']} s ({r['web_host_share']:.1%})"
        )
    print(f"a full default run (40 steps) on {args.cpus} CPUs: {full_run:.0f} s")
    for p in results["projection"]:
        print(
            f"class of {p['learners']:3} on {p['workers']:2} worker(s): {p['waves']} waves, last start after "
            f"{p['last_start_min']} min, all done after {p['total_min']} min"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
