"""``tutor cluster up|down|status``: a Ray cluster for the QLoRA lab's runs (Settings.runs_backend
``ray``). ``up`` starts a one-host cluster for a try, or a head node for a class; GPU workers join
it with the ``ray start --address`` line it prints. Registered by ``tutor.cli.build_parser``."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

INSTALL = "pip install 'fine-tuning-tutor[cluster]'"


def ray_command() -> str:
    """The ``ray`` executable beside this Python (the project's environment), else on PATH."""
    beside = Path(sys.executable).with_name("ray")
    found = str(beside) if beside.is_file() else shutil.which("ray")
    if not found:
        from tutor.cli import CommandError

        raise CommandError(f"Ray is not installed: {INSTALL}")
    return found


def up_command(args: argparse.Namespace) -> list[str]:
    command = [
        ray_command(),
        "start",
        "--head",
        f"--node-ip-address={args.ip}",
        f"--port={args.port}",
        f"--num-cpus={args.cpus}",
        f"--num-gpus={args.gpus}",
        "--disable-usage-stats",
    ]
    if args.dashboard:
        command.append("--include-dashboard=true")
    return command


def up_environment(ip: str) -> dict[str, str]:
    """The head asks every connection for Ray's token (made once, in ~/.ray/auth_token): a
    cluster runs whatever code reaches it. A loopback head keeps its address as given."""
    env = {**os.environ}
    env.setdefault("RAY_AUTH_MODE", "token")
    if ip.startswith("127.") or ip == "localhost":
        env.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    return env


def cmd_cluster_up(args: argparse.Namespace) -> int:
    from tutor.cli import CommandError

    env = up_environment(args.ip)
    if env["RAY_AUTH_MODE"] == "token":
        subprocess.run([ray_command(), "get-auth-token", "--generate"], capture_output=True, env=env)
    done = subprocess.run(up_command(args), capture_output=True, text=True, env=env)
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        raise CommandError("ray start failed: " + (lines[-1] if lines else f"exit status {done.returncode}"))
    address = f"{args.ip}:{args.port}"
    print(f"Ray cluster head started at {address} ({args.cpus} CPUs, {args.gpus} GPUs for runs on this host).")
    print("Point the app at it (tutor.toml, or the same as TUTOR_RUNS_BACKEND / TUTOR_RUNS_RAY_ADDRESS):")
    print(f'  runs_backend = "ray"\n  runs_ray_address = "{address}"')
    if env["RAY_AUTH_MODE"] == "token":
        print("Connections need the token in ~/.ray/auth_token: copy it to the app's host and every worker.")
    if args.ip.startswith("127."):
        print("This head listens on this host only; for other machines, start it with --ip <this host's address>.")
    else:
        print(f"Add a GPU worker on another machine: RAY_AUTH_MODE=token ray start --address={address} --num-gpus=1")
    print("Stop it with: tutor cluster down")
    return 0


def cmd_cluster_down(args: argparse.Namespace) -> int:
    done = subprocess.run([ray_command(), "stop"], capture_output=True, text=True)
    print((done.stdout or done.stderr).strip() or "Ray stopped on this host.")
    return done.returncode


def cmd_cluster_status(args: argparse.Namespace) -> int:
    from trainer.run_ray import RayUnavailable, connect
    from tutor.cli import CommandError, _settings
    from tutor.training_lab import TrainingLab

    settings = _settings(args)
    if settings.runs_backend != "ray":
        raise CommandError("runs_backend is 'local': runs train on this host (set runs_backend = \"ray\")")
    lab = TrainingLab(settings)
    try:
        ray = connect(settings.runs_ray_address)
    except RayUnavailable as exc:
        raise CommandError(str(exc)) from None
    nodes = [
        {
            "address": node["NodeManagerAddress"],
            "id": node["NodeID"][:8],
            "alive": node["Alive"],
            "cpus": node["Resources"].get("CPU", 0),
            "gpus": node["Resources"].get("GPU", 0),
        }
        for node in ray.nodes()
    ]
    free, total = ray.available_resources(), ray.cluster_resources()
    active = [r for r in lab.runs.runs() if r.active]
    report = {
        "nodes": nodes,
        "free": {k: free.get(k, 0) for k in ("CPU", "GPU")},
        "total": {k: total.get(k, 0) for k in ("CPU", "GPU")},
        "runs": [{"id": r.id, "owner": r.owner, "status": r.status, "node": r.node} for r in active],
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for node in nodes:
        state = "alive" if node["alive"] else "dead"
        print(f"node {node['id']} {node['address']}  {state}  {node['cpus']:g} CPUs  {node['gpus']:g} GPUs")
    print(
        f"free: {free.get('CPU', 0):g} of {total.get('CPU', 0):g} CPUs, {free.get('GPU', 0):g} of "
        f"{total.get('GPU', 0):g} GPUs"
    )
    for run in active:
        print(f"{run.id}  {run.owner}  {run.status}  {run.node or '-'}")
    return 0


def add_parsers(commands: argparse._SubParsersAction) -> None:
    cluster = commands.add_parser("cluster", help="a Ray cluster for QLoRA lab runs (runs_backend: ray)")
    cluster_commands = cluster.add_subparsers(dest="cluster_command", required=True, metavar="COMMAND")
    up = cluster_commands.add_parser("up", help="start a Ray head node on this host (ray start --head)")
    up.add_argument("--ip", default="127.0.0.1", help="address it listens on (default: this host only)")
    up.add_argument("--port", type=int, default=6379, help="the head's port (default 6379)")
    up.add_argument("--cpus", type=int, default=2, help="CPUs this host gives to runs (default 2)")
    up.add_argument("--gpus", type=int, default=0, help="GPUs this host gives to runs (default 0)")
    up.add_argument("--dashboard", action="store_true", help="start Ray's dashboard too (needs ray[default])")
    up.set_defaults(func=cmd_cluster_up)
    down = cluster_commands.add_parser("down", help="stop every Ray process on this host (ray stop)")
    down.set_defaults(func=cmd_cluster_down)
    status = cluster_commands.add_parser("status", help="the cluster's nodes, free resources and active runs")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_cluster_status)
