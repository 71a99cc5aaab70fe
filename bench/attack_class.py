"""A hostile learner against a served class-mode app: every opening of issue 15, tried through the
API as a script would (gradio_client for named endpoints, raw ``/queue/join`` with ``fn_index``
for handlers that have no API name, plain HTTP for sign-in and uploads).

Each attack must be refused, quickly, with no planted secret and no quiz key in any response.
Meanwhile another learner (the victim) keeps submitting a lesson quiz; their latency is the
"does the class still work" figure.

    .venv/bin/python bench/attack_class.py [--rounds 3] [--baseline-s 30]

starts ``tutor serve`` in class mode on a temporary folder (its own process; the packaged
models, offline, warmed up as before a class), measures the victim's quiz submits alone for
``--baseline-s`` (the baseline of the same run), then runs the attacks ``--rounds`` times with
the victim submitting meanwhile. It prints, per attack, the median and worst refusal time, and
the victim's submit times alone and under attack; exit status 1 when an attack got through,
leaked, or took over 2 s, or a victim submit took over 1 s. ``tests/test_attacks.py`` runs the same
attacks and checks the refusals and leaks (not the times: those are this script's job).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from gradio_client import Client

from bench.served import stop

REFUSAL_LIMIT_S = 2.0
VICTIM_LIMIT_S = 1.0
SECRET = "sk-secret-7f3a"  # planted in a server file and in the victim's upload; must never come back
HTTP_TIMEOUT_S = 60
PRACTICE_ROUNDS = 8  # attempts at the practice quiz (8 showed all 15 module-test items before the fix)
USE_CASE = (
    "We want to turn doctors' dictated visit notes into SOAP notes in our exact house format, "
    "about 50,000 notes a day, and we have 8,000 notes our staff already wrote."
)
TINY_RUN = "data:\n  task: sentiment\n  source: builtin\ntraining:\n  max_steps: 2\n"


@dataclass
class Outcome:
    item: int  # the item, 1-7
    attack: str
    refused: bool
    seconds: float
    detail: str  # what came back (shortened)
    leaked: list[str] = field(default_factory=list)
    timed: bool = True  # a refusal whose time counts (not a check spread over many calls)
    started: float = 0.0  # time.time() when the attack began (to line the victim's slow submits up)


@dataclass
class Target:
    url: str
    attacker: tuple[str, str]
    victim: tuple[str, str]
    secret_file: Path  # a server file holding SECRET


def client(url: str, auth: tuple[str, str]) -> Client:
    return Client(url, auth=auth, verbose=False, httpx_kwargs={"timeout": HTTP_TIMEOUT_S})


def signed_in(url: str, auth: tuple[str, str]) -> httpx.Client:
    session = httpx.Client(base_url=url, timeout=HTTP_TIMEOUT_S)
    reply = session.post("login", data={"username": auth[0], "password": auth[1]})
    reply.raise_for_status()
    return session


def raw_call(session: httpx.Client, fn_index: int, data: list) -> tuple[bool, str]:
    """Call a handler by its index through the queue, as the browser does; (succeeded, the text of
    the completion message)."""
    session_hash = uuid.uuid4().hex[:10]
    body = {"data": data, "fn_index": fn_index, "session_hash": session_hash, "event_data": None, "trigger_id": None}
    joined = session.post("gradio_api/queue/join", json=body)
    if joined.status_code != 200:
        return False, joined.text
    with session.stream("GET", "gradio_api/queue/data", params={"session_hash": session_hash}) as stream:
        for line in stream.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") == "process_completed":
                return bool(message.get("success")), json.dumps(message)
    return False, "the stream ended without a result"


def fn_index_of(session: httpx.Client, what: Callable[[dict], bool]) -> int:
    """The index of the first dependency of the app's config that ``what`` accepts."""
    config = session.get("config").json()
    return next(i for i, dep in enumerate(config["dependencies"]) if what(dep))


class Attacks:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.me = client(target.url, target.attacker)
        self.outcomes: list[Outcome] = []

    def attempt(
        self, item: int, attack: str, call: Callable[[], object], refused: Callable[[str], bool], timed: bool = True
    ) -> None:
        """Run ``call``; an exception is the server's refusal. ``refused(text)`` judges the reply."""
        started, wall = time.perf_counter(), time.time()
        try:
            text = str(call())
        except Exception as exc:  # gradio_client raises AppError for gr.Error
            text = f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        leaked = [SECRET] if SECRET in text else []
        if "Traceback" in text or "/site-packages/" in text:
            leaked.append("a server traceback or path")
        shown = " ".join(text.split())[:160]
        self.outcomes.append(Outcome(item, attack, refused(text), seconds, shown, leaked, timed, wall))

    # --- item 1: the practice quiz and the module test's key -----------------------------------
    def practice_quiz_keeps_module_test_items_out(self) -> None:
        module_ids = {q["question_id"] for q in self.me.predict("module-test", api_name="/quiz_start")["questions"]}
        seen: set[str] = set()

        def practice_rounds() -> str:
            for _ in range(PRACTICE_ROUNDS):
                attempt = self.me.predict("practice", api_name="/quiz_start")
                seen.update(q["question_id"] for q in attempt["questions"])
                self.me.predict(attempt["attempt_id"], {}, api_name="/quiz_submit")
            return f"practice showed {len(seen & module_ids)} module-test items: {sorted(seen & module_ids)}"

        self.attempt(
            1, "practice quiz draws module-test items", practice_rounds, lambda t: " 0 module-test" in t, timed=False
        )
        self.attempt(
            1,
            "review the module test before submitting",
            lambda: self.me.predict(
                self.me.predict("module-test", api_name="/quiz_start")["attempt_id"], api_name="/quiz_review"
            ),
            lambda t: "AppError" in t,
        )

    # --- item 2: training inputs that read the server ------------------------------------------
    def training_inputs_stay_in_the_learners_folder(self) -> None:
        for attack, source in (
            ("data.source = a server file", str(self.target.secret_file)),
            ("data.source = /etc/passwd", "/etc/passwd"),
            ("data.source = another learner's upload", f"../{self.target.victim[0]}/planted.csv"),
        ):
            self.attempt(
                2,
                attack,
                lambda source=source: self.me.predict(TINY_RUN.replace("builtin", source), api_name="/qlora_start"),
                lambda t: "data.source: use 'builtin' or a file you uploaded" in t,
            )
        self.attempt(
            2,
            "model.name = a server folder",
            lambda: self.me.predict(TINY_RUN + "model:\n  name: /etc\n", api_name="/qlora_start"),
            lambda t: "model.name: this lab trains the packaged model" in t,
        )

    # --- item 3: inputs that stall the server -----------------------------------------------
    def inputs_that_stall_are_refused(self) -> None:
        bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
            f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        self.attempt(
            3,
            "YAML alias bomb as a training config",
            lambda: self.me.predict(bomb, api_name="/qlora_start"),
            lambda t: "anchors and aliases" in t,
        )
        self.attempt(
            3,
            "a 200,000-character chat message",
            lambda: self.me.predict("x" * 200_000, None, api_name="/chat_dataset"),
            lambda t: "characters; the limit is" in t,
        )

    # --- item 5: limits -------------------------------------------------------------------------
    def limits_hold(self) -> None:
        session = signed_in(self.target.url, self.target.attacker)
        big = b"x" * (30 * 1024 * 1024)  # over the 25 MB default
        self.attempt(
            5,
            "a 30 MB upload",
            lambda: session.post("gradio_api/upload", files={"files": ("big.jsonl", big)}).text,
            lambda t: "exceeded maximum allowed size" in t,
        )
        self.attempt(
            5,
            "max_steps 100,000",
            lambda: self.me.predict(TINY_RUN.replace("max_steps: 2", "max_steps: 100000"), api_name="/qlora_start"),
            lambda t: "training.max_steps: between 1 and" in t,
        )
        # A use case: the model explains the recommendation, so the first answer takes a while.
        first = self.me.submit(USE_CASE, None, api_name="/chat_strategy")
        deadline = time.monotonic() + 60
        while not first.outputs() and time.monotonic() < deadline:  # the first answer is under way
            time.sleep(0.05)
        second_tab = client(self.target.url, self.target.attacker)
        self.attempt(
            5,
            "a second advisor job while the first runs",
            lambda: second_tab.predict("And a second question at once?", None, api_name="/chat_strategy"),
            lambda t: "already have an advisor answer under way" in t,
        )
        first.result()

    # --- item 6: sign-in -------------------------------------------------------------------------
    def password_guessing_is_throttled(self) -> None:
        def guess(n: int) -> str:
            data = {"username": self.target.victim[0], "password": f"guess-{n}"}
            return f"HTTP {httpx.post(self.target.url + 'login', data=data, timeout=HTTP_TIMEOUT_S).status_code}"

        def five_guesses() -> str:
            return ", ".join(guess(n) for n in range(5))

        self.attempt(6, "five wrong passwords", five_guesses, lambda t: "200" not in t, timed=False)
        self.attempt(6, "a sixth guess (the name is locked)", lambda: guess(5), lambda t: t == "HTTP 429")

    # --- item 7: smaller openings ---------------------------------------------------------------
    def smaller_openings_are_closed(self) -> None:
        self.attempt(
            7, "run id '..'", lambda: self.me.predict("..", api_name="/qlora_status"), lambda t: "no run '..'" in t
        )
        self.attempt(
            7,
            "wrong types to trigger a server error",
            lambda: self.me.predict("not-a-number", {"x": "y"}, api_name="/quiz_submit"),
            lambda t: "no attempt not-a-number for you" in t,  # our refusal, not a crash
        )
        session = signed_in(self.target.url, self.target.attacker)
        index = fn_index_of(session, lambda d: d.get("api_name") == "lab_runs")
        self.attempt(
            7,
            "an instructor handler by fn_index",
            lambda: raw_call(session, index, [])[1],
            lambda t: "only instructors" in t,
        )
        # The browser calls handlers that have no public API by index; so can a script.
        private = fn_index_of(
            session, lambda d: d["api_visibility"] == "private" and str(d["api_name"]).startswith("list_runs")
        )
        self.attempt(
            7,
            "a private instructor handler by fn_index",
            lambda: raw_call(session, private, [])[1],
            lambda t: "only instructors" in t,
        )
        junk = fn_index_of(session, lambda d: d["api_name"] == "quiz_submit")
        self.attempt(
            7,
            "junk input to a handler by fn_index",
            lambda: raw_call(session, junk, [{"x": 1}, "y"])[1],
            lambda t: "no attempt {'x': 1} for you" in t,
        )

    def run(self) -> list[Outcome]:
        self.practice_quiz_keeps_module_test_items_out()
        self.training_inputs_stay_in_the_learners_folder()
        self.inputs_that_stall_are_refused()
        self.limits_hold()
        self.smaller_openings_are_closed()
        self.password_guessing_is_throttled()  # last: it locks the victim's name from this address
        return self.outcomes


class Victim:
    """Another learner submitting lesson quizzes while the attacks run; their submit times.

    The learner runs in a process of its own, as another learner's browser would: in a thread of
    this script it would also wait for the attacker's client code (gradio_client parsing the app's
    config holds the interpreter lock), and that wait is not the server's."""

    def __init__(self, url: str, auth: tuple[str, str]) -> None:
        context = multiprocessing.get_context("spawn")
        self._results = context.Queue()
        self.stop = context.Event()
        self._ready = context.Event()
        self._process = context.Process(
            target=submit_quizzes, args=(url, auth, self._results, self.stop, self._ready), daemon=True
        )
        self.times: list[float] = []
        self.when: list[float] = []  # time.time() at each submit
        self.errors: list[str] = []

    def start(self) -> None:
        self._process.start()
        self._ready.wait(timeout=HTTP_TIMEOUT_S)  # signed in before the attacks start

    def join(self, timeout: float) -> None:
        self.times, self.when, self.errors = self._results.get(timeout=timeout)
        self._process.join(timeout=timeout)


def submit_quizzes(url: str, auth: tuple[str, str], results, stop, ready) -> None:
    """The victim's loop (in its own process): start a lesson quiz, time its submit, repeat."""
    me = client(url, auth)
    ready.set()
    times: list[float] = []
    when: list[float] = []
    errors: list[str] = []
    while not stop.is_set():
        try:
            attempt = me.predict("lesson-1", api_name="/quiz_start")
            answers = {q["question_id"]: [1] for q in attempt["questions"]}
            started, wall = time.perf_counter(), time.time()
            me.predict(attempt["attempt_id"], answers, api_name="/quiz_submit")
            times.append(time.perf_counter() - started)
            when.append(wall)
        except Exception as exc:
            errors.append(str(exc)[:200])
            time.sleep(0.5)
    results.put((times, when, errors))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def plant_secret(folder: Path) -> Path:
    path = folder / "secret.csv"
    path.write_text("text,label\n" + "\n".join(f"row {i},{SECRET}" for i in range(12)) + "\n", encoding="utf-8")
    return path


def start_server(folder: Path, port: int) -> subprocess.Popen:
    """``tutor serve`` in class mode as its own process (as deployed: the attacker's and the
    victim's clients here do not share the server's interpreter); returns once the course index
    and the advisor model are warm, as they are before a class arrives."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tutor", "--data-dir", str(folder), "--mode", "class", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("advisor model"):  # "... ready: <name>" or "... unavailable: <why>"
            print(f"server: {line.strip()}", flush=True)
            break
    else:
        raise SystemExit("the server stopped before it was ready")
    threading.Thread(target=server.stdout.read, daemon=True).start()  # keep the pipe drained
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-s", type=float, default=30.0, help="victim alone, before the attacks")
    args = parser.parse_args()

    from tutor import accounts
    from tutor.core import Core
    from tutor.settings import load_settings

    folder = Path(tempfile.mkdtemp(prefix="attack-"))
    port = free_port()
    core = Core.start(load_settings(env={}, overrides={"data_dir": folder, "mode": "class", "warm_up": False}))
    accounts.add_user(core.store, "mallory", "mallory-password", "learner")
    accounts.add_user(core.store, "ada", "ada-password", "learner")
    core.store.close()
    server = start_server(folder, port)
    url = f"http://127.0.0.1:{port}/"
    target = Target(url, ("mallory", "mallory-password"), ("ada", "ada-password"), plant_secret(folder))
    try:
        alone = Victim(url, target.victim)  # the baseline, measured in this run
        alone.start()
        time.sleep(args.baseline_s)
        alone.stop.set()
        alone.join(timeout=30)
        victim = Victim(url, target.victim)
        victim.start()
        outcomes: list[Outcome] = []
        for _ in range(args.rounds):
            outcomes += Attacks(target).run()
        victim.stop.set()
        victim.join(timeout=30)
    finally:
        stop(server)
    return report(outcomes, alone, victim, args.rounds)


def report(outcomes: list[Outcome], alone: Victim, victim: Victim, rounds: int) -> int:
    """Print the tables; 1 when an attack got through, leaked, or was slow, or the victim was."""
    failed = False
    print(f"\n{rounds} rounds, {os.cpu_count()} CPUs, server `tutor serve` (class mode, SQLite)\n")
    print("| item | attack | refused | median s | worst s | leaks |\n|---|---|---|---|---|---|")
    for attack in dict.fromkeys(o.attack for o in outcomes):
        mine = [o for o in outcomes if o.attack == attack]
        times = [o.seconds for o in mine]
        refused = all(o.refused for o in mine)
        leaks = sorted({leak for o in mine for leak in o.leaked})
        worst = max(times)
        failed |= not refused or bool(leaks) or (worst > REFUSAL_LIMIT_S and mine[0].timed)
        verdict = "yes" if refused else "NO: " + next(o.detail for o in mine if not o.refused)
        timing = f"{statistics.median(times):.2f} | {worst:.2f}" if mine[0].timed else "(not a refusal) | "
        print(f"| {mine[0].item} | {attack} | {verdict} | {timing} | {', '.join(leaks) or 'none'} |")
    if not (alone.times and victim.times):
        print(f"\nthe victim submitted nothing; errors: {(alone.errors + victim.errors)[:3]}")
        return 1
    base, under = statistics.median(alone.times), statistics.median(victim.times)
    worst = max(victim.times)
    failed |= worst > VICTIM_LIMIT_S or bool(victim.errors)
    print(
        f"\nanother learner's quiz submit: alone median {base:.3f} s (worst {max(alone.times):.3f} s, "
        f"{len(alone.times)} submits); during the attacks median {under:.3f} s (worst {worst:.3f} s, "
        f"{len(victim.times)} submits, {len(victim.errors)} errors); ratio of medians {under / base:.2f}x"
    )
    for seconds, wall in sorted(zip(victim.times, victim.when, strict=True), reverse=True)[:3]:
        during = [o.attack for o in outcomes if o.started <= wall + seconds and wall <= o.started + o.seconds]
        print(f"  slow submit {seconds:.3f} s during: {', '.join(during) or '(between attacks)'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
