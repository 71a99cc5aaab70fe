"""Training runs: the run folders, and the backends that execute them.

``RunQueue`` is the one interface the lab, the CLI and the instructor view use (submit, status,
events, stop, resume, list); a backend decides where ``python -m trainer`` runs:

- ``LocalBackend`` (the default, below): worker processes on this host, one at a time, the others
  waiting in a queue;
- ``trainer.run_ray.RayBackend``: each run on a node of a Ray cluster, side by side as the
  cluster's resources allow.

Each run is a folder ``<runs_dir>/<run id>/`` holding ``run.json`` (owner, status, pid), the
``config.yaml`` the lab wrote, and everything ``python -m trainer`` writes (log, checkpoints,
adapter, report). The folder is the truth: a web page that reloads, or a server that restarts, reads it
back, so nothing depends on the browser tab or on the server's memory.

Why a separate process (local backend): training holds the GIL-free cores for minutes, can run out of memory,
and must be stoppable; a worker can be signalled (SIGTERM -> save a checkpoint, stop) and killed
without taking the web app down. A file lock makes "one at a time" hold across every app
process that shares the runs folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from trainer import atomic
from trainer.config import TrainConfig, parse_config
from trainer.progress import read_events, summarise
from trainer.train import LOG_NAME, latest_checkpoint

ACTIVE = ("queued", "running")
STOP_GRACE_S = 120.0  # after SIGTERM, time to finish the step and save a checkpoint before SIGKILL


class RunError(RuntimeError):
    """A request the queue cannot do (unknown run, not yours, not resumable)."""


@dataclass
class Run:
    id: str
    owner: str
    task: str
    status: str  # queued, running, done, stopped, diverged, failed, interrupted, cancelled
    created: float
    resume: bool = False
    pid: int | None = None
    started: float | None = None
    finished: float | None = None
    exit_code: int | None = None
    message: str = ""
    extra: dict = field(default_factory=dict)
    backend: str = "local"  # the backend that executes it: "local" or "ray"
    node: str = ""  # where it trains (ray: the node's address); "" on this host
    attempts: int = 0  # times it was started on a node (ray: a lost node's run starts again elsewhere)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class RunBackend(Protocol):
    """Where a queue's runs execute. The queue owns the run folders; a backend starts queued runs,
    moves them to running and, through ``RunQueue.finish``, to how they ended."""

    name: str

    def bind(self, queue: RunQueue) -> None:
        """Called once by the queue; then recover runs a dead server left marked running."""

    def start(self) -> None:
        """Start executing queued runs (idempotent)."""

    def wake(self) -> None:
        """A run was queued or resumed: look at the queue now."""

    def stop_running(self, run: Run) -> None:
        """Ask a running run to stop (it saves a checkpoint first)."""

    def cancelled(self, run: Run) -> None:
        """A queued run was cancelled: release anything reserved for it."""

    def position(self, run_id: str) -> int:
        """Runs ahead of this one before it can start (0: it is next, or running)."""

    def waiting_for(self, run: Run) -> str:
        """What a queued run waits for, in words ("" when nothing worth saying)."""


class RunQueue:
    def __init__(
        self,
        runs_dir: Path,
        models_dir: Path,
        *,
        backend: RunBackend | None = None,
        poll_s: float = 0.5,
        max_seconds: float | None = None,
        keep_seconds: float | None = None,
    ) -> None:
        """``models_dir``: where the workers find (or convert) the packaged base model.
        ``backend``: where runs execute (default: ``LocalBackend``, one at a time on this host).
        ``max_seconds``: wall time one run may take before it is stopped (None: no limit).
        ``keep_seconds``: finished runs older than this are deleted by :meth:`clean_up` (None: kept)."""
        self.runs_dir = runs_dir
        self.models_dir = models_dir
        self.poll_s = poll_s
        self.max_seconds = max_seconds
        self.keep_seconds = keep_seconds
        runs_dir.mkdir(parents=True, exist_ok=True)
        self.backend: RunBackend = backend or LocalBackend(poll_s)
        self.backend.bind(self)

    def adopt_runs(self) -> None:
        """Runs left by a server that used another backend: queued ones wait for this one; running
        ones can no longer be watched from here, so they end as interrupted (resumable)."""
        for run in self.runs():
            if run.backend == self.backend.name or not run.active:
                continue
            if run.status == "queued":
                run.backend = self.backend.name
                self._save(run)
            else:
                self.interrupted(run, f"it trained under the {run.backend} backend, which this server no longer uses")

    # --- what the lab asks --------------------------------------------------------------------
    def submit(self, owner: str, config: TrainConfig, extra: dict | None = None) -> Run:
        run_id = self._new_id(owner, config.data.task)
        folder = self.runs_dir / run_id
        folder.mkdir(parents=True)
        config = config.model_copy(deep=True)
        config.training.output_dir = str(folder)
        atomic.write_text(folder / "config.yaml", config.to_yaml())
        run = Run(
            id=run_id,
            owner=owner,
            task=config.data.task,
            status="queued",
            created=time.time(),
            extra=dict(extra or {}),
            backend=self.backend.name,
        )
        self._save(run)
        self.backend.wake()
        return run

    def resume(self, run_id: str, owner: str) -> Run:
        run = self.get(run_id, owner)
        if run.active:
            raise RunError(f"run {run_id} is already {run.status}")
        if latest_checkpoint(self.folder(run_id)) is None:
            raise RunError(f"run {run_id} has no checkpoint to resume from; start a new run")
        run.status, run.resume, run.created, run.message = "queued", True, time.time(), ""
        run.exit_code = run.pid = run.finished = None
        run.backend = self.backend.name  # a run stopped under one backend may resume under another
        run.extra.pop("node_losses", None)  # a fresh allowance of lost nodes, as of time
        self._save(run)
        self.backend.wake()
        return run

    def stop(self, run_id: str, owner: str | None) -> Run:
        """Cancel a queued run, or ask a running one to stop. ``owner`` None: anyone's (instructors)."""
        run = self.get(run_id, owner)
        if run.status == "queued":
            run.status, run.message = "cancelled", "cancelled before it started"
            self._save(run)
            self.backend.cancelled(run)
        elif run.status == "running":
            self.backend.stop_running(run)  # the worker saves a checkpoint, then exits
        return run

    def delete(self, run_id: str, owner: str | None) -> Run:
        """Remove a run's folder (its adapter, checkpoints, exports). ``owner`` None: anyone's."""
        run = self.get(run_id, owner)
        if run.active:
            raise RunError(f"run {run_id} is {run.status}; stop it before deleting it")
        _remove_folder(self.folder(run_id))
        return run

    def clean_up(self, now: float | None = None, skip: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """Delete the finished runs older than ``keep_seconds`` (not those in ``skip``); their ids."""
        if self.keep_seconds is None:
            return []
        now = time.time() if now is None else now
        cutoff = now - self.keep_seconds
        old = [r for r in self.runs() if not r.active and r.id not in skip and (r.finished or r.created) < cutoff]
        for run in old:
            _remove_folder(self.folder(run.id))
        return [r.id for r in old]

    def get(self, run_id: str, owner: str | None = None) -> Run:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", run_id or ""):  # never ".", ".." or a path
            raise RunError(f"no run {run_id!r}")
        path = self.folder(run_id) / "run.json"
        try:
            run = Run(**json.loads(path.read_text(encoding="utf-8")))
        except (FileNotFoundError, json.JSONDecodeError, TypeError):
            raise RunError(f"no run {run_id!r}") from None
        if owner is not None and run.owner != owner:
            raise RunError(f"run {run_id!r} belongs to someone else")
        return run

    def runs(self, owner: str | None = None) -> list[Run]:
        found = []
        for path in self.runs_dir.glob("*/run.json"):
            with contextlib.suppress(RunError):
                run = self.get(path.parent.name)
                if owner is None or run.owner == owner:
                    found.append(run)
        return sorted(found, key=lambda r: r.created)

    def latest(self, owner: str) -> Run | None:
        mine = self.runs(owner)
        return mine[-1] if mine else None

    def position(self, run_id: str) -> int:
        """0 for a running run (or the next one to start); n when n runs are ahead of it."""
        return self.backend.position(run_id)

    def waiting_for(self, run: Run) -> str:
        """What a queued run waits for, in words ("" when nothing worth saying)."""
        return self.backend.waiting_for(run) if run.status == "queued" else ""

    def folder(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def config(self, run_id: str) -> TrainConfig:
        path = self.folder(run_id) / "config.yaml"
        return parse_config(path.read_text(encoding="utf-8"), str(path))

    def events(self, run_id: str) -> list[dict]:
        return read_events(self.folder(run_id) / LOG_NAME)

    # --- what backends call ----------------------------------------------------------------------
    def start(self) -> None:
        """Start executing queued runs (idempotent). Only an executing queue adopts the runs left
        under another backend: a read-only one (``tutor runs list``) changes nothing."""
        self.adopt_runs()
        self.backend.start()

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(r.active for r in self.runs()):
                return True
            time.sleep(0.2)
        return False

    def note_time_limit(self, run_id: str) -> None:
        run = self.get(run_id)
        if run.status == "done":  # it finished in the grace period
            return
        minutes = f"{self.max_seconds / 60:g}" if self.max_seconds else "?"
        can_resume = latest_checkpoint(self.folder(run_id)) is not None
        run.status = "stopped"
        run.message = f"stopped at this server's time limit of {minutes} min per run; " + (
            "resume continues from the last checkpoint" if can_resume else "no checkpoint was saved yet"
        )
        self._save(run)

    def finish(self, run: Run, code: int) -> Run:
        """Record how a run ended, read from its event log and the worker's exit status."""
        run = self.get(run.id)
        progress = summarise(self.events(run.id))
        outcome = progress.outcome
        run.status = {"done": "done", "stopped": "stopped", "diverged": "diverged"}.get(outcome, "failed")
        if outcome == "error":
            run.message = progress.message
        elif not outcome or (code and outcome not in ("stopped", "diverged")):
            run.message = _exit_message(code, self.folder(run.id))
        else:
            run.message = progress.message if outcome != "done" else ""
        run.exit_code, run.finished, run.pid = code, time.time(), None
        self._save(run)
        return run

    def interrupted(self, run: Run, why: str) -> Run:
        """A run whose worker is gone without a word (a server or a node died): resumable when it
        saved a checkpoint."""
        can_resume = latest_checkpoint(self.folder(run.id)) is not None
        run.status, run.pid, run.finished = "interrupted", None, time.time()
        run.message = f"{why}; " + (
            "resume continues from the last checkpoint" if can_resume else "no checkpoint was saved yet"
        )
        self._save(run)
        return run

    def save(self, run: Run) -> None:
        self._save(run)

    def _save(self, run: Run) -> None:
        atomic.write_text(self.folder(run.id) / "run.json", json.dumps(asdict(run), indent=2))

    def _new_id(self, owner: str, task: str) -> str:
        safe_owner = re.sub(r"[^A-Za-z0-9_-]+", "-", owner)[:32] or "user"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_id, n = f"{stamp}-{safe_owner}-{task}", 1
        while self.folder(run_id).exists():
            n += 1
            run_id = f"{stamp}-{safe_owner}-{task}-{n}"
        return run_id


class LocalBackend:
    """Worker processes on this host, one at a time (a file lock makes that hold across every app
    process sharing the runs folder); the others wait in the queue."""

    name = "local"

    def __init__(self, poll_s: float = 0.5) -> None:
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._dispatcher: threading.Thread | None = None

    def bind(self, queue: RunQueue) -> None:
        self.queue = queue
        self._mark_dead_runs()

    def wake(self) -> None:
        self._wake.set()

    def cancelled(self, run: Run) -> None:
        pass  # nothing was reserved: the run only waited in the folder

    def stop_running(self, run: Run) -> None:
        if run.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(run.pid, signal.SIGTERM)

    def position(self, run_id: str) -> int:
        active = [r for r in self.queue.runs() if r.active]
        running = [r for r in active if r.status == "running"]
        queued = [r for r in active if r.status == "queued"]
        order = [r.id for r in running + queued]
        return order.index(run_id) if run_id in order else 0

    def waiting_for(self, run: Run) -> str:
        return "the machine (this server trains one run at a time)"

    def start(self) -> None:
        """Start the dispatcher thread (idempotent): it runs queued runs one after another."""
        if self._dispatcher is None or not self._dispatcher.is_alive():
            self._dispatcher = threading.Thread(target=self._dispatch_forever, name="run-queue", daemon=True)
            self._dispatcher.start()

    def _dispatch_forever(self) -> None:
        while True:
            self._wake.wait(timeout=self.poll_s * 4)
            self._wake.clear()
            with contextlib.suppress(Exception):  # a broken run folder must not kill the queue
                while self._run_next():
                    pass

    def _mine(self, run: Run) -> bool:
        return run.backend == self.name

    def _run_next(self) -> bool:
        queued = [r for r in self.queue.runs() if r.status == "queued" and self._mine(r)]
        if not queued:
            return False
        with self._host_lock():
            # re-read under the lock
            run = next((r for r in self.queue.runs() if r.status == "queued" and self._mine(r)), None)
            if run is None:
                return False
            try:
                self._execute(run)
            except Exception as exc:  # the worker could not even start: say so, or it would be retried forever
                run.status, run.finished, run.pid = "failed", time.time(), None
                run.message = f"could not start the training worker: {exc}"
                self.queue.save(run)
        return True

    def _execute(self, run: Run) -> None:
        queue = self.queue
        folder = queue.folder(run.id)
        command = [
            sys.executable,
            "-m",
            "trainer",
            "--config",
            str(folder / "config.yaml"),
            "--output-dir",
            str(folder),
            "--models-dir",
            str(queue.models_dir),
        ]
        if run.resume:
            command.append("--resume")
        with (folder / "worker.log").open("ab") as worker_log:
            self._proc = subprocess.Popen(
                command,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        run.status, run.pid, run.started, run.attempts = "running", self._proc.pid, time.time(), run.attempts + 1
        queue.save(run)
        try:
            code, over_time = self._proc.wait(timeout=queue.max_seconds), False
        except subprocess.TimeoutExpired:  # past the server's limit: stop as a learner's Stop does
            code, over_time = _stop_worker(self._proc), True
        self._proc = None
        queue.finish(run, code)
        if over_time:
            queue.note_time_limit(run.id)

    def _mark_dead_runs(self) -> None:
        """Runs marked running whose worker is gone (the server was killed): interrupted, resumable."""
        for run in self.queue.runs():
            if run.status == "running" and self._mine(run) and not _alive(run.pid):
                self.queue.interrupted(run, "the server stopped during training")

    @contextlib.contextmanager
    def _host_lock(self):
        with (self.queue.runs_dir / ".host.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _stop_worker(proc: subprocess.Popen) -> int:
    """SIGTERM (the worker saves a checkpoint and exits), then SIGKILL if it does not; its exit code."""
    proc.terminate()
    try:
        return proc.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def _remove_folder(folder: Path) -> None:
    """Delete a run folder so that a half-deleted one is never read as a run: run.json goes first."""
    with contextlib.suppress(FileNotFoundError):
        (folder / "run.json").unlink()
    shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Linux (a Popen ``preexec_fn``): the child gets ``signum`` when its parent process dies. The
    local worker gets SIGTERM (checkpoint, then exit) when the server dies."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signum)  # 1 = PR_SET_PDEATHSIG


def _exit_message(code: int, folder: Path) -> str:
    if code < 0 and -code == signal.SIGKILL:
        return (
            "the worker was killed (SIGKILL), often by the system running out of memory; resume if a checkpoint exists"
        )
    tail = ""
    with contextlib.suppress(OSError):
        lines = (folder / "worker.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
        tail = next((line for line in reversed(lines) if line.strip()), "")
    return f"the worker exited with status {code}" + (f": {tail}" if tail else "")
