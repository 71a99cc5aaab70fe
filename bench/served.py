"""Helpers the served-app benchmarks share: a free port, a percentile, ``tutor serve`` as its own
process (as deployed: the benchmark's clients do not share the server's interpreter)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def serve_class(workdir: Path, port: int, wait_s: float = 180) -> subprocess.Popen:
    """``tutor serve`` in class mode on ``workdir``, offline, its log in ``workdir/server.log`` (a
    pipe nobody reads would stall a chatty server); returns once its first page answers."""
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "tutor", "--data-dir", str(workdir), "--mode", "class", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"},
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if httpx.get(url, timeout=2).status_code in (200, 401):
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise SystemExit(f"server did not start: {(workdir / 'server.log').read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)


def stop(server: subprocess.Popen, grace_s: float = 30) -> None:
    """Stop a server started by ``serve_class``: Ctrl-C (SIGINT) first, as a person would, then
    SIGTERM, then SIGKILL, each after ``grace_s``. A benchmark started in the background of a
    non-interactive shell (``nohup ... &``) runs with SIGINT ignored, and so does its server, so
    SIGINT alone can wait forever."""
    for send in (lambda: server.send_signal(signal.SIGINT), server.terminate, server.kill):
        if server.poll() is not None:
            return
        send()
        try:
            server.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            continue


def worth(bank, view: dict, answers: dict[str, list[int]]) -> float:
    """What single-choice answers to an attempt (its JSON view) are worth, computed from the bank
    by the benchmark, not by the server: the check that nothing was mixed up."""
    total = 0.0
    for shown in view["questions"]:
        question = bank.question(shown["question_id"])
        key_text = question.options[question.key()[0]].text
        chosen = answers[shown["question_id"]]
        total += 1.0 if chosen and shown["options"][chosen[0] - 1] == key_text else 0.0
    return total
