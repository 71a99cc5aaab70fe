"""Benchmark: N learners submit the module test at the same time through the app's API.

Each learner is a separate account with its own gradio_client session (browsers cap their own
connections, so several tabs of one browser would measure the browser, not the server). Every
learner starts an attempt, then all submit at once behind a barrier. Afterwards the database is
checked: one submitted attempt per learner, 15 answer rows each, and every stored score equal to
the score the learner's own answers deserve (nothing lost, duplicated or mixed up).

Baseline, measured in the same run: the same submit called directly on the core library
(no HTTP, no queue), for as many learners, one after another.

    .venv/bin/python bench/quiz_submit.py [--learners 50] [--repeat 3]

Prints medians over the repeats of p50/p95/max latency, and the ratio app p95 / core p95.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gradio_client import Client
from sqlmodel import select

from bench.served import free_port, percentile, serve_class, stop, worth
from tutor import accounts
from tutor.core import Core
from tutor.quiz import versions
from tutor.settings import load_settings
from tutor.tables import AttemptAnswer, QuizAttempt

QUIZ = "module-test"


def expected_score(core: Core, view: dict, answers: dict[str, list[int]]) -> float:
    """What these answers are worth, computed here from the bank (not by the server)."""
    return worth(versions.find_quiz(core.store, QUIZ)[1], view, answers)


def run_app(core: Core, url: str, learners: int, rng: random.Random) -> tuple[list[float], list[str]]:
    names = [f"bench{n}-{rng.randrange(10**9)}" for n in range(learners)]
    for name in names:
        accounts.add_user(core.store, name, "bench-password")
    clients = [Client(url, auth=(name, "bench-password"), verbose=False) for name in names]
    views = [client.predict(QUIZ, api_name="/quiz_start") for client in clients]
    plans = []
    for view in views:
        answers = {q["question_id"]: [rng.randint(1, len(q["options"]))] for q in view["questions"]}
        plans.append((view, answers))
    latencies = [0.0] * learners
    barrier = threading.Barrier(learners)
    errors: list[str] = []

    def learner(n: int) -> None:
        view, answers = plans[n]
        barrier.wait()
        started = time.perf_counter()
        try:
            result = clients[n].predict(view["attempt_id"], answers, api_name="/quiz_submit")
            worth = expected_score(core, view, answers)
            if result["score"] != worth:
                errors.append(f"{names[n]}: server says {result['score']}, answers are worth {worth}")
        except Exception as exc:
            errors.append(f"{names[n]}: {exc}")
        latencies[n] = time.perf_counter() - started

    threads = [threading.Thread(target=learner, args=(n,)) for n in range(learners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors += check_database(core, names, plans)
    for client in clients:
        client.close()
    return latencies, errors


def check_database(core: Core, names: list[str], plans: list) -> list[str]:
    problems = []
    for name, (view, answers) in zip(names, plans, strict=True):
        user = accounts.get_user(core.store, name)
        with core.store.session() as session:
            mine = list(session.exec(select(QuizAttempt).where(QuizAttempt.user_id == user.id)))
            rows = list(session.exec(select(AttemptAnswer).where(AttemptAnswer.attempt_id == view["attempt_id"])))
        submitted = [a for a in mine if a.submitted_at is not None]
        if len(mine) != 1 or len(submitted) != 1 or submitted[0].id != view["attempt_id"]:
            problems.append(f"{name}: {len(mine)} attempts, {len(submitted)} submitted")
        elif len(rows) != 15:
            problems.append(f"{name}: {len(rows)} answer rows")
        elif submitted[0].score != expected_score(core, view, answers):
            problems.append(f"{name}: stored score {submitted[0].score} is not what the answers are worth")
    return problems


def run_core(core: Core, learners: int, rng: random.Random) -> list[float]:
    latencies = []
    for n in range(learners):
        user = accounts.add_user(core.store, f"core{n}-{rng.randrange(10**9)}", "bench-password")
        viewer = core.viewer(user.username)
        view = core.start_quiz(viewer, QUIZ)
        answers = {q.question_id: [rng.randint(1, len(q.options))] for q in view.questions}
        started = time.perf_counter()
        core.submit_quiz(viewer, view.attempt_id, answers)
        latencies.append(time.perf_counter() - started)
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(42)
    workdir = Path(tempfile.mkdtemp(prefix="tutor-bench-"))
    settings = load_settings(env={}, overrides={"data_dir": workdir, "mode": "class", "port": free_port()})
    core = Core.start(settings)
    # The server runs as its own process (`tutor serve`), as in a deployment; this process only
    # plays the learners and reads the shared SQLite database to check the results.
    server = serve_class(workdir, settings.port)
    url = f"http://127.0.0.1:{settings.port}/"
    app_runs, core_runs, all_errors = [], [], []
    try:
        for _ in range(args.repeat):
            app_latencies, errors = run_app(core, url, args.learners, rng)
            core_latencies = run_core(core, args.learners, rng)
            app_runs.append(app_latencies)
            core_runs.append(core_latencies)
            all_errors += errors
    finally:
        stop(server)

    def summary(runs: list[list[float]]) -> dict[str, float]:
        return {
            name: statistics.median(fn(run) for run in runs) * 1000
            for name, fn in [("p50", statistics.median), ("p95", lambda r: percentile(r, 0.95)), ("max", max)]
        }

    app_summary, core_summary = summary(app_runs), summary(core_runs)
    print(
        f"{args.learners} concurrent learners x {args.repeat} runs, `tutor serve` process, SQLite (WAL), "
        f"{os.cpu_count()} CPUs, medians over runs:"
    )
    print(
        f"  app  (gradio_client -> server -> core): p50 {app_summary['p50']:.0f} ms, "
        f"p95 {app_summary['p95']:.0f} ms, max {app_summary['max']:.0f} ms"
    )
    print(
        f"  core (direct call, sequential):        p50 {core_summary['p50']:.1f} ms, "
        f"p95 {core_summary['p95']:.1f} ms, max {core_summary['max']:.1f} ms"
    )
    print(f"  ratio app p95 / core p95: {app_summary['p95'] / core_summary['p95']:.1f}x")
    print(f"  integrity: {len(all_errors)} problems in {args.learners * args.repeat} submissions")
    for error in all_errors[:20]:
        print(f"    {error}")
    return 1 if all_errors else 0


if __name__ == "__main__":
    sys.exit(main())
