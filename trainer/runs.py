"""Training runs as worker processes, one at a time per host, the others waiting in a queue.

Each run is a folder ``<runs_dir>/<run id>/`` holding ``run.json`` (owner, status, pid), the
``config.yaml`` the lab wrote, and everything ``python -m trainer`` writes (log, checkpoints,
adapter, report). The folder is the truth: a web page that reloads, or a server that restarts, reads it
back, so nothing depends on the browser tab or on the server's memory.

Why a separate process: training holds the GIL-free cores for minutes, can run out of memory,
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

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class RunQueue:
    def __init__(
        self,
        runs_dir: Path,
        models_dir: Path,
        *,
        poll_s: float = 0.5,
        max_seconds: float | None = None,
        keep_seconds: float | None = None,
    ) -> None:
        """``models_dir``: where the workers find (or convert) the packaged base model.
        ``max_seconds``: wall time one run may take before it is stopped (None: no limit).
        ``keep_seconds``: finished runs older than this are deleted by :meth:`clean_up` (None: kept)."""
        self.runs_dir = runs_dir
        self.models_dir = models_dir
        self.poll_s = poll_s
        self.max_seconds = max_seconds
        self.keep_seconds = keep_seconds
        runs_dir.mkdir(parents=True, exist_ok=True)
        self._wake = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._dispatcher: threading.Thread | None = None
        self._mark_dead_runs()

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
        )
        self._save(run)
        self._wake.set()
        return run

    def resume(self, run_id: str, owner: str) -> Run:
        run = self.get(run_id, owner)
        if run.active:
            raise RunError(f"run {run_id} is already {run.status}")
        if latest_checkpoint(self.folder(run_id)) is None:
            raise RunError(f"run {run_id} has no checkpoint to resume from; start a new run")
        run.status, run.resume, run.created, run.message = "queued", True, time.time(), ""
        run.exit_code = run.pid = run.finished = None
        self._save(run)
        self._wake.set()
        return run

    def stop(self, run_id: str, owner: str | None) -> Run:
        """Cancel a queued run, or ask a running one to stop. ``owner`` None: anyone's (instructors)."""
        run = self.get(run_id, owner)
        if run.status == "queued":
            run.status, run.message = "cancelled", "cancelled before it started"
            self._save(run)
        elif run.status == "running" and run.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(run.pid, signal.SIGTERM)  # the worker saves a checkpoint, then exits
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
        """0 for the running run (or the next one); n when n runs are ahead of it."""
        active = [r for r in self.runs() if r.active]
        running = [r for r in active if r.status == "running"]
        queued = [r for r in active if r.status == "queued"]
        order = [r.id for r in running + queued]
        return order.index(run_id) if run_id in order else 0

    def folder(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def config(self, run_id: str) -> TrainConfig:
        path = self.folder(run_id) / "config.yaml"
        return parse_config(path.read_text(encoding="utf-8"), str(path))

    def events(self, run_id: str) -> list[dict]:
        return read_events(self.folder(run_id) / LOG_NAME)

    # --- the worker side ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the dispatcher thread (idempotent): it runs queued runs one after another."""
        if self._dispatcher is None or not self._dispatcher.is_alive():
            self._dispatcher = threading.Thread(target=self._dispatch_forever, name="run-queue", daemon=True)
            self._dispatcher.start()

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(r.active for r in self.runs()):
                return True
            time.sleep(0.2)
        return False

    def _dispatch_forever(self) -> None:
        while True:
            self._wake.wait(timeout=self.poll_s * 4)
            self._wake.clear()
            with contextlib.suppress(Exception):  # a broken run folder must not kill the queue
                while self._run_next():
                    pass

    def _run_next(self) -> bool:
        queued = [r for r in self.runs() if r.status == "queued"]
        if not queued:
            return False
        with self._host_lock():
            run = next((r for r in self.runs() if r.status == "queued"), None)  # re-read under the lock
            if run is None:
                return False
            try:
                self._execute(run)
            except Exception as exc:  # the worker could not even start: say so, or it would be retried forever
                run.status, run.finished, run.pid = "failed", time.time(), None
                run.message = f"could not start the training worker: {exc}"
                self._save(run)
        return True

    def _execute(self, run: Run) -> None:
        folder = self.folder(run.id)
        command = [
            sys.executable,
            "-m",
            "trainer",
            "--config",
            str(folder / "config.yaml"),
            "--output-dir",
            str(folder),
            "--models-dir",
            str(self.models_dir),
        ]
        if run.resume:
            command.append("--resume")
        with (folder / "worker.log").open("ab") as worker_log:
            self._proc = subprocess.Popen(
                command,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        run.status, run.pid, run.started = "running", self._proc.pid, time.time()
        self._save(run)
        try:
            code, over_time = self._proc.wait(timeout=self.max_seconds), False
        except subprocess.TimeoutExpired:  # past the server's limit: stop as a learner's Stop does
            code, over_time = _stop_worker(self._proc), True
        self._proc = None
        self._finish(run, code)
        if over_time:
            self._note_time_limit(run.id)

    def _note_time_limit(self, run_id: str) -> None:
        run = self.get(run_id)
        if run.status == "done":  # it finished in the grace period
            return
        minutes = f"{self.max_seconds / 60:g}"
        can_resume = latest_checkpoint(self.folder(run_id)) is not None
        run.status = "stopped"
        run.message = f"stopped at this server's time limit of {minutes} min per run; " + (
            "resume continues from the last checkpoint" if can_resume else "no checkpoint was saved yet"
        )
        self._save(run)

    def _finish(self, run: Run, code: int) -> None:
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

    def _mark_dead_runs(self) -> None:
        """Runs marked running whose worker is gone (the server was killed): interrupted, resumable."""
        for run in self.runs():
            if run.status == "running" and not _alive(run.pid):
                run.status, run.pid, run.finished = "interrupted", None, time.time()
                can_resume = latest_checkpoint(self.folder(run.id)) is not None
                run.message = "the server stopped during training; " + (
                    "resume continues from the last checkpoint" if can_resume else "no checkpoint was saved yet"
                )
                self._save(run)

    @contextlib.contextmanager
    def _host_lock(self):
        with (self.runs_dir / ".host.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

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


def _die_with_parent() -> None:
    """Linux: the worker gets SIGTERM (checkpoint, then exit) when the server process dies."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


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
