"""Benchmark: quiz submits under a class, through both of the served app's paths, in one run.

The learners are one light asyncio HTTP client (httpx), not a process per learner, so the
figures are the server's, not the clients': each learner signs in through ``/login`` as a browser
does and keeps its own session cookie.

Two paths to the same core call, measured side by side on the same server:
  - ``gradio``: Gradio's queue protocol (``POST /gradio_api/call/quiz_submit`` for an event id,
    then its server-sent-events stream for the result), as ``gradio_client`` and the tab use it;
  - ``http``: the plain route ``POST /api/v1/attempts/{id}/submit`` (tutor/web_api.py).

Per path: server CPU per submit (the server process's user+system time over 50 sequential
submits, from /proc), a burst of 50 simultaneous submits (time until all are graded), and the
p50/p95 latency of submits arriving at a steady rate (default 10/s for 6 s), alone and while the
strategy advisor generates answers for another learner (``/advise_strategy`` in a loop). Then the
database is checked: one submitted attempt per started one, 15 answer rows each, and every stored
score what the learner's answers are worth (computed here from the bank, not by the server).

    .venv/bin/python bench/quiz_load.py [--burst 50] [--rate 10] [--seconds 6] [--repeat 3] [--no-advisor] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlmodel import select

from bench.served import free_port, percentile, serve_class, stop, worth
from tutor import accounts
from tutor.core import Core
from tutor.quiz import versions
from tutor.settings import load_settings
from tutor.tables import AttemptAnswer, QuizAttempt

QUIZ = "module-test"
PASSWORD = "bench-password"
ADVISOR_QUESTION = (
    "We run a clinic and want SOAP notes written from 50,000 doctor-patient transcripts a day; "
    "the records are private. Should we fine-tune?"
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Learner:
    name: str
    http: httpx.AsyncClient
    view: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)
    submitted: list[tuple[dict, dict, float]] = field(default_factory=list)  # (view, answers, score)


class Bench:
    def __init__(self, url: str, core: Core, rng: random.Random) -> None:
        self.url, self.core, self.rng = url, core, rng
        self.bank = versions.find_quiz(core.store, QUIZ)[1]

    async def sign_in(self, names: list[str]) -> list[Learner]:
        learners = []
        for name in names:  # one at a time: Argon2 is slow on purpose, and this is not measured
            http = httpx.AsyncClient(base_url=self.url, timeout=120)
            reply = await http.post("login", data={"username": name, "password": PASSWORD})
            reply.raise_for_status()
            learners.append(Learner(name, http))
        return learners

    async def start(self, learners: list[Learner]) -> None:
        """Each learner opens an attempt (not measured) and picks random answers."""
        for learner in learners:
            reply = await learner.http.post(f"api/v1/quizzes/{QUIZ}/start", json={})
            reply.raise_for_status()
            learner.view = reply.json()
            learner.answers = {
                q["question_id"]: [self.rng.randint(1, len(q["options"]))] for q in learner.view["questions"]
            }

    async def submit(self, learner: Learner, path: str) -> float:
        """One submit by ``path``; the seconds until the graded result is back."""
        attempt, answers = learner.view["attempt_id"], learner.answers
        started = time.perf_counter()
        if path == "http":
            reply = await learner.http.post(f"api/v1/attempts/{attempt}/submit", json={"answers": answers})
            reply.raise_for_status()
            result = reply.json()
        else:
            reply = await learner.http.post("gradio_api/call/quiz_submit", json={"data": [attempt, answers]})
            reply.raise_for_status()
            event = reply.json()["event_id"]
            result = None
            async with learner.http.stream("GET", f"gradio_api/call/quiz_submit/{event}") as stream:
                kind = ""
                async for line in stream.aiter_lines():
                    if line.startswith("event:"):
                        kind = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and kind in ("complete", "error"):
                        data = json.loads(line.split(":", 1)[1])
                        if kind == "error":
                            raise RuntimeError(f"{learner.name}: {data}")
                        result = data[0]
                        break
        elapsed = time.perf_counter() - started
        learner.submitted.append((learner.view, answers, result["score"]))
        return elapsed

    def worth(self, view: dict, answers: dict) -> float:
        return worth(self.bank, view, answers)


async def phase_cpu(bench: Bench, learners: list[Learner], path: str, pid: int) -> float:
    await bench.start(learners)
    before = cpu_seconds(pid)
    for learner in learners:
        await bench.submit(learner, path)
    return (cpu_seconds(pid) - before) / len(learners)


async def phase_burst(bench: Bench, learners: list[Learner], path: str) -> list[float]:
    await bench.start(learners)
    return list(await asyncio.gather(*(bench.submit(learner, path) for learner in learners)))


async def phase_rate(bench: Bench, learners: list[Learner], path: str, rate: float) -> list[float]:
    """Open loop: a submit every 1/rate s whether or not the earlier ones are back."""
    await bench.start(learners)
    tasks = []
    for learner in learners:
        tasks.append(asyncio.create_task(bench.submit(learner, path)))
        await asyncio.sleep(1 / rate)
    return list(await asyncio.gather(*tasks))


class AdvisorLoad:
    """Another learner asking the strategy advisor, one answer after another, on a thread."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name, self.stop, self.answers = url, name, threading.Event(), []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=300) as http:
            http.post("login", data={"username": self.name, "password": PASSWORD}).raise_for_status()
            while not self.stop.is_set():
                started = time.perf_counter()
                event = http.post("gradio_api/call/advise_strategy", json={"data": [ADVISOR_QUESTION, None]})
                event.raise_for_status()
                body = http.get(f"gradio_api/call/advise_strategy/{event.json()['event_id']}").text
                self.answers.append((time.perf_counter() - started, "event: complete" in body))

    def __enter__(self) -> AdvisorLoad:
        self.thread.start()
        time.sleep(8)  # the first answer loads the model: let it be generating, not loading
        return self

    def __exit__(self, *_) -> None:
        self.stop.set()
        self.thread.join(timeout=300)


def check_database(bench: Bench, learners: list[Learner]) -> list[str]:
    problems = []
    with bench.core.store.session() as session:
        for learner in learners:
            user = accounts.get_user(bench.core.store, learner.name)
            mine = list(session.exec(select(QuizAttempt).where(QuizAttempt.user_id == user.id)))
            if len(mine) != len(learner.submitted) or any(a.submitted_at is None for a in mine):
                problems.append(f"{learner.name}: {len(mine)} attempts for {len(learner.submitted)} submits")
            for view, answers, score in learner.submitted:
                rows = session.exec(select(AttemptAnswer).where(AttemptAnswer.attempt_id == view["attempt_id"]))
                stored = next(a for a in mine if a.id == view["attempt_id"])
                worth = bench.worth(view, answers)
                if len(list(rows)) != 15 or stored.score != worth or score != worth:
                    problems.append(
                        f"{learner.name}: attempt {view['attempt_id']} stored {stored.score}, worth {worth}"
                    )
    return problems


def learners_per_path(args: argparse.Namespace) -> int:
    """Every measured submit is a different learner's first attempt (the test allows 3 each)."""
    return 2 * args.burst + int(args.rate * args.seconds) * (1 if args.no_advisor else 2)


def bench_names(args: argparse.Namespace, repeat: int) -> list[str]:
    return [f"bench{repeat}-{n}" for n in range(2 * learners_per_path(args))]


async def measure(bench: Bench, pid: int, args: argparse.Namespace, repeat: int) -> dict:
    per_path = learners_per_path(args)
    names = bench_names(args, repeat)
    everyone = await bench.sign_in(names)
    rate_n = int(args.rate * args.seconds)
    results: dict = {}
    pools = {"gradio": everyone[:per_path], "http": everyone[per_path:]}
    for path, pool in pools.items():  # the learners of a path: a slice per phase, each used once
        taken = 0

        def take(n: int, pool=pool) -> list[Learner]:
            nonlocal taken
            chosen, taken = pool[taken : taken + n], taken + n
            return chosen

        figures = {"cpu_ms_per_submit": 1000 * await phase_cpu(bench, take(args.burst), path, pid)}
        burst = await phase_burst(bench, take(args.burst), path)
        figures["burst_all_graded_s"] = max(burst)
        figures["burst_p50_s"] = statistics.median(burst)
        alone = await phase_rate(bench, take(rate_n), path, args.rate)
        figures["rate_p50_ms"], figures["rate_p95_ms"] = (
            1000 * statistics.median(alone),
            1000 * percentile(alone, 0.95),
        )
        if not args.no_advisor:
            with AdvisorLoad(bench.url, "advisor-user") as advisor:
                busy = await phase_rate(bench, take(rate_n), path, args.rate)
            figures["advisor_p50_ms"] = 1000 * statistics.median(busy)
            figures["advisor_p95_ms"] = 1000 * percentile(busy, 0.95)
            figures["advisor_answers"] = sum(ok for _seconds, ok in advisor.answers)
        results[path] = figures
    results["integrity_problems"] = check_database(bench, everyone)
    for learner in everyone:
        await learner.http.aclose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--no-advisor", action="store_true", help="skip the phase with an advisor answering")
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each with new learners; medians reported")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tutor-bench-"))
    usual = load_settings()
    if usual.models_dir.is_dir():  # the advisor's converted model, made once, not per benchmark
        (workdir / "models").symlink_to(usual.models_dir.resolve())
    port = free_port()
    settings = load_settings(env={}, overrides={"data_dir": workdir, "mode": "class", "port": port})
    core = Core.start(settings)
    hashed = accounts.hash_password(PASSWORD)  # one Argon2 hash for every bench account: setup, not measured
    for repeat in range(args.repeat):
        for name in bench_names(args, repeat):
            accounts.add_user(core.store, name, None)
    accounts.add_user(core.store, "advisor-user", None)
    with core.store.session() as session:
        from tutor.tables import User

        for user in session.exec(select(User).where(User.username.like("bench%") | (User.username == "advisor-user"))):
            user.password_hash = hashed
            session.add(user)
    server = serve_class(workdir, port)
    url = f"http://127.0.0.1:{port}/"
    try:
        bench = Bench(url, core, random.Random(42))
        rounds = [asyncio.run(measure(bench, server.pid, args, repeat)) for repeat in range(args.repeat)]
    finally:
        stop(server)
    results = {
        path: {key: statistics.median(r[path][key] for r in rounds) for key in rounds[0][path]}
        for path in ("gradio", "http")
    }
    results["integrity_problems"] = [problem for r in rounds for problem in r["integrity_problems"]]
    results["rounds"] = rounds
    results["machine"] = (
        f"{os.cpu_count()} CPUs, SQLite (WAL), `tutor serve` in class mode; medians over {args.repeat} rounds"
    )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(report(results, args))
    return 1 if results["integrity_problems"] else 0


def report(results: dict, args: argparse.Namespace) -> str:
    rows = [
        (f"server CPU per submit ({args.burst} sequential)", "cpu_ms_per_submit", "{:.1f} ms"),
        (f"burst of {args.burst}: all graded within", "burst_all_graded_s", "{:.2f} s"),
        (f"{args.rate:g} submits/s for {args.seconds:g} s: p50", "rate_p50_ms", "{:.0f} ms"),
        (f"{args.rate:g} submits/s: p95", "rate_p95_ms", "{:.0f} ms"),
    ]
    if not args.no_advisor:
        rows += [
            ("same, advisor answering: p50", "advisor_p50_ms", "{:.0f} ms"),
            ("same, advisor answering: p95", "advisor_p95_ms", "{:.0f} ms"),
            ("advisor answers meanwhile", "advisor_answers", "{}"),
        ]
    lines = [f"{results['machine']}", "", "| measure | Gradio queue | /api/v1 route | ratio |", "|---|---|---|---|"]
    for label, key, fmt in rows:
        gradio, http = results["gradio"][key], results["http"][key]
        ratio = f"{gradio / http:.1f}×" if isinstance(http, float) and http else ""
        lines.append(f"| {label} | {fmt.format(gradio)} | {fmt.format(http)} | {ratio} |")
    for key in ("cpu_ms_per_submit", "burst_all_graded_s"):
        each = {path: ", ".join(f"{r[path][key]:.2f}" for r in results["rounds"]) for path in ("gradio", "http")}
        lines.append(f"\n{key} by round: Gradio queue {each['gradio']}; /api/v1 route {each['http']}")
    problems = results["integrity_problems"]
    lines += ["", f"integrity: {len(problems)} problems", *(f"  {p}" for p in problems[:20])]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
