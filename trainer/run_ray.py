"""Training runs on a Ray cluster: each run is a Ray actor that runs ``python -m trainer`` on a node.

Why actors and not plain tasks: a run must be stoppable (SIGTERM -> checkpoint -> exit) and
watched while it trains; an actor holds the worker process and answers ``poll`` and ``stop``
calls. Ray places each actor where its resources (CPUs, GPUs, memory) are free, so runs train
side by side as the cluster allows, and the rest wait in Ray's own queue.

Storage: **streamed back to the app**. The run folder on the app host stays the one truth (the
lab, the CLI and the instructor view read it as they read a local run). The node trains in a
scratch folder of its own; the app's dispatcher polls each actor about once a second and appends
the new bytes of ``progress.jsonl`` and ``worker.log`` to the run folder, copies each completed
checkpoint (a LoRA checkpoint is a few MB), and at the end the adapter, report and metrics. So
nodes need no shared disk and no object store: only the Ray connection. The cost is that
checkpoints travel over the network once each; a shared path would avoid that but ties every
node to one file server.

Node loss: the checkpoints are on the app host, so a run whose node dies starts again on another
node from its last checkpoint (at most ``max_node_losses`` times). Without a checkpoint, it ends
as interrupted with the reason. Other runs are untouched: they are other actors.

Only one app process dispatches (a file lock in the runs folder); any process can submit, stop
and read runs. Actors are detached and named after the run, so a restarted app finds the runs
that kept training meanwhile.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import io
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.runs import Run, RunError, RunQueue, die_with_parent
from trainer.train import LOG_NAME, latest_checkpoint

NAMESPACE = "fine-tuning-tutor"
WORKER_LOG = "worker.log"
POLL_TIMEOUT_S = 15.0  # a poll not answered by then is asked again; the actor may be busy packing
STOP_GRACE_S = 120.0  # after a stop, time to save a checkpoint before the trainer is killed (as locally)
RESOURCES_CACHE_S = 2.0
MAX_CHUNK = 4 << 20  # bytes of a log sent in one poll; the rest comes with the next
STREAMED = (LOG_NAME, WORKER_LOG, "config.yaml", "data")  # not in the final copy: sent otherwise


class RayUnavailable(RunError):
    """Ray is not installed, or the cluster cannot be reached."""


@dataclass(frozen=True)
class RayResources:
    """What one run asks the cluster for; Ray starts it where that much is free."""

    cpus: float = 2.0
    gpus: float = 0.0
    memory_mb: float = 0.0  # 0: not asked (Ray then only counts CPUs and GPUs)

    def options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"num_cpus": self.cpus, "num_gpus": self.gpus}
        if self.memory_mb:
            options["memory"] = int(self.memory_mb * 1e6)
        return options

    def describe(self) -> str:
        parts = [f"{self.cpus:g} CPU" + ("s" if self.cpus != 1 else "")]
        if self.gpus:
            parts.append(f"{self.gpus:g} GPU" + ("s" if self.gpus != 1 else ""))
        if self.memory_mb:
            parts.append(f"{self.memory_mb:,.0f} MB of memory")
        return ", ".join(parts)


def _loopback(address: str) -> bool:
    host = address.removeprefix("ray://").rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_available() -> bool:
    """A Ray authentication token this process can send (Ray's own places for it)."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token"
    return Path(path).is_file()


def connect(address: str) -> Any:
    """``ray`` connected to the cluster at ``address`` ("" or "auto": the one started on this host
    with ``tutor cluster up`` or ``ray start``); RayUnavailable with the reason when it cannot be.

    Ray sends its authentication token only when told to (RAY_AUTH_MODE=token) once an address is
    given; a head started by ``tutor cluster up``, or by ``ray start`` where a token exists, asks
    for it. So with a token at hand and no mode set, the token is used."""
    if "RAY_AUTH_MODE" not in os.environ and token_available():
        os.environ["RAY_AUTH_MODE"] = "token"  # read when ray is imported, by this process and its workers
    if _loopback(address):
        # Ray rewrites 127.0.0.1 to the machine's network address before connecting, and a
        # one-host cluster started with --node-ip-address=127.0.0.1 does not listen there. This
        # switch (read when ray is imported) keeps loopback addresses as they are.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise RayUnavailable(
            "runs_backend is 'ray' but Ray is not installed: pip install 'fine-tuning-tutor[cluster]'"
        ) from None
    if _loopback(address):
        import ray._private.ray_constants as constants

        constants.ENABLE_RAY_CLUSTER = False  # ray was imported before the switch above
    if ray.is_initialized():
        return ray
    _check_reachable(address, ray)
    try:
        ray.init(
            address=address or "auto",
            namespace=NAMESPACE,
            log_to_driver=False,
            logging_level="WARNING",
            configure_logging=False,
        )
    except Exception as exc:  # ConnectionError, ValueError ("no cluster found"), RuntimeError
        where = address or "auto (a cluster started on this host)"
        raise RayUnavailable(
            f"could not reach the Ray cluster at {where}: {exc}. Start one with 'tutor cluster up', "
            "or set runs_ray_address to the head node's address"
        ) from None
    return ray


def _check_reachable(address: str, ray: Any) -> None:
    """Refuse at once an address where nothing listens: ray.init would retry for minutes."""
    import socket

    given = address.removeprefix("ray://")
    if given in ("", "auto"):
        with contextlib.suppress(Exception):
            given = ray._private.utils.read_ray_address() or ""
        if not given:
            raise RayUnavailable(
                "no Ray cluster was started on this host: start one with 'tutor cluster up', "
                "or set runs_ray_address to the head node's address"
            )
    host, _, port = given.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=3):
            pass
    except (OSError, ValueError) as exc:
        raise RayUnavailable(
            f"could not reach the Ray cluster at {given}: {exc}. Start one with 'tutor cluster up', "
            "or set runs_ray_address to the head node's address (host:port)"
        ) from None


def actor_name(run_id: str, attempt: int) -> str:
    return f"run-{run_id}-{attempt}"


# --- the node side ------------------------------------------------------------------------------
class RunWorker:
    """One run on one node: a scratch folder and the ``python -m trainer`` process in it. Made a
    Ray actor by ``RayBackend`` (``ray.remote(RunWorker)``); a plain object in unit tests."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.proc: subprocess.Popen | None = None

    def begin(self, payload: dict) -> dict:
        """Write the run's inputs into a scratch folder and start training; where it runs."""
        from trainer.config import parse_config

        scratch = Path(payload.get("scratch") or Path(tempfile.gettempdir()) / "tutor-ray-runs")
        self.folder = scratch / f"{payload['run_id']}-{payload['attempt']}"
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        for name, data in payload.get("seed", {}).items():  # the log so far: offsets match the app's copy
            (self.folder / name).write_bytes(data)
        if payload.get("checkpoint"):
            unpack(payload["checkpoint"], self.folder)
        config = parse_config(payload["config"], "config.yaml")
        if payload.get("data_name"):
            data = self.folder / "data" / payload["data_name"]
            data.parent.mkdir()
            data.write_bytes(payload["data"])
            config.data.source = str(data)
        config.training.output_dir = str(self.folder)
        threads = max(1, int(payload.get("cpus") or 1))
        if not config.training.threads or config.training.threads > threads:
            config.training.threads = threads  # the run's share of the node, not all its cores
        (self.folder / "config.yaml").write_text(config.to_yaml(), encoding="utf-8")
        models_dir = Path(payload.get("models_dir") or Path(tempfile.gettempdir()) / "tutor-ray-models")
        command = [
            sys.executable,
            "-m",
            "trainer",
            "--config",
            str(self.folder / "config.yaml"),
            "--output-dir",
            str(self.folder),
            "--models-dir",
            str(models_dir),
        ]
        if payload.get("resume"):
            command.append("--resume")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": str(threads)}
        # The trainer dies with its actor (a lost node's actor is killed): it could report to no one.
        die_with_actor = functools.partial(die_with_parent, signal.SIGKILL)
        with (self.folder / WORKER_LOG).open("ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_actor, env=env
            )
        return {"node": _node_address(), "pid": self.proc.pid}

    def poll(self, log_offset: int, worker_log_offset: int, have: list[str]) -> dict:
        """What is new since the app's copy: log bytes, the newest complete checkpoint it lacks, the
        checkpoints still kept here, and once the worker has exited its code and final files."""
        assert self.folder is not None and self.proc is not None
        code = self.proc.poll()  # first: when it has exited, the logs read next are complete
        complete = _complete_checkpoints(self.folder)
        reply: dict[str, Any] = {
            "log": _read_from(self.folder / LOG_NAME, log_offset),
            "worker_log": _read_from(self.folder / WORKER_LOG, worker_log_offset),
            "kept": [c.name for c in complete],
            "checkpoint": None,
            "exit": None,
        }
        newest = complete[-1] if complete else None
        if newest is not None and newest.name not in have:
            with contextlib.suppress(OSError):  # deleted by the trainer's rotation meanwhile: next poll
                reply["checkpoint"] = (newest.name, pack(newest, arcname=newest.name))
        more = len(reply["log"]) == MAX_CHUNK or len(reply["worker_log"]) == MAX_CHUNK
        if code is not None and not more:
            reply["exit"] = code
            reply["files"] = pack(self.folder, skip=lambda p: p.name in STREAMED or _is_checkpoint(p))
        return reply

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the trainer saves a checkpoint, then exits

    def kill_trainer(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()

    def clean_up(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _node_address() -> str:
    with contextlib.suppress(Exception):
        import ray

        return ray.util.get_node_ip_address() + " " + ray.get_runtime_context().get_node_id()[:8]
    return "this host"


def _read_from(path: Path, offset: int) -> bytes:
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read(MAX_CHUNK)
    except FileNotFoundError:
        return b""


def _is_checkpoint(path: Path) -> bool:
    return path.name.startswith("checkpoint-") and path.name.split("-")[-1].isdigit()


def _complete_checkpoints(folder: Path) -> list[Path]:
    """Checkpoints whose trainer_state.json (written last) is there and whole."""
    found = [p for p in folder.glob("checkpoint-*") if _is_checkpoint(p) and _whole_json(p / "trainer_state.json")]
    return sorted(found, key=lambda p: int(p.name.split("-")[-1]))


def _whole_json(path: Path) -> bool:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def pack(folder: Path, *, arcname: str = "", skip=lambda path: False) -> bytes:
    """A folder as tar bytes (members relative to it, or under ``arcname``)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(folder.iterdir()):
            if not skip(path):
                tar.add(path, arcname=f"{arcname}/{path.name}" if arcname else path.name)
    return buffer.getvalue()


def unpack(data: bytes, target: Path) -> None:
    """Extract tar bytes into ``target``; members that would land outside it are refused."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+
            tar.extractall(target, filter="data")
            return
        root = target.resolve()
        for member in tar.getmembers():  # the same refusals by hand: no links, nothing outside
            if not (member.isfile() or member.isdir()) or not (root / member.name).resolve().is_relative_to(root):
                raise tarfile.TarError(f"refused member {member.name!r}")
        tar.extractall(target)


# --- the app side -------------------------------------------------------------------------------
@dataclass
class _Live:
    actor: Any
    begin: Any  # the ObjectRef of begin(): ready once the cluster has placed and started the run
    attempt: int
    started: bool = False
    stopping: float = 0.0  # when a stop was sent (0: none): past STOP_GRACE_S the trainer is killed
    over_time: bool = False


class RayBackend:
    """Runs on a Ray cluster, side by side as its resources allow (see the module's docstring)."""

    name = "ray"

    def __init__(
        self,
        address: str = "",
        resources: RayResources | None = None,
        *,
        node_models_dir: str = "",
        scratch_dir: str = "",
        poll_s: float = 1.0,
        max_node_losses: int = 2,
    ) -> None:
        """``node_models_dir``: where each node keeps its converted base model ("" a folder in the
        node's temporary directory). ``scratch_dir``: where nodes train ("" their temporary
        directory)."""
        self.address = address
        self.resources = resources or RayResources()
        self.node_models_dir = node_models_dir
        self.scratch_dir = scratch_dir
        self.poll_s = poll_s
        self.max_node_losses = max_node_losses
        self._live: dict[str, _Live] = {}
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self._ray: Any = None
        self._free: tuple[float, dict, dict] = (0.0, {}, {})
        self.last_error = ""

    # --- the RunBackend interface --------------------------------------------------------------
    def bind(self, queue: RunQueue) -> None:
        self.queue = queue

    def start(self) -> None:
        self._connect()
        self._closed.clear()
        if self._dispatcher is None or not self._dispatcher.is_alive():
            self._dispatcher = threading.Thread(target=self._dispatch_forever, name="ray-runs", daemon=True)
            self._dispatcher.start()

    def wake(self) -> None:
        self._wake.set()

    def cancelled(self, run: Run) -> None:
        live = self._live.pop(run.id, None)
        with contextlib.suppress(Exception):
            actor = live.actor if live else self._find_actor(run)
            if actor is not None:
                self._kill(actor, clean_up=True)

    def stop_running(self, run: Run) -> None:
        live = self._live.get(run.id)
        if live:
            live.stopping = live.stopping or time.time()
        with contextlib.suppress(Exception):
            actor = live.actor if live else self._find_actor(run)
            if actor is not None:  # waited for: a CLI process must not exit before the stop is sent
                self._ray.get(actor.stop.remote(), timeout=10)

    def position(self, run_id: str) -> int:
        """Runs train side by side: only the queued runs submitted earlier are ahead."""
        queued = [r.id for r in self.queue.runs() if r.status == "queued"]
        return queued.index(run_id) if run_id in queued else 0

    def waiting_for(self, run: Run) -> str:
        wanted = self.resources_for(self.queue.config(run.id))
        want = wanted.describe()
        free, total = self.cluster_resources()
        if not total:
            return f"{want} on the Ray cluster"
        have = [f"{free.get('CPU', 0):g} of {total.get('CPU', 0):g} CPUs"]
        if wanted.gpus or total.get("GPU"):
            have.append(f"{free.get('GPU', 0):g} of {total.get('GPU', 0):g} GPUs")
        return f"{want} on the Ray cluster, which has {' and '.join(have)} free now"

    def resources_for(self, config) -> RayResources:
        """What a run asks for: the configured resources; a 4-bit (QLoRA, GPU) config asks for a
        GPU when the cluster has any, so it does not train its NF4 weights slowly on a CPU."""
        _, total = self.cluster_resources()
        if config.model.quantization == "4bit" and not self.resources.gpus and total.get("GPU"):
            return dataclasses.replace(self.resources, gpus=1.0)
        return self.resources

    def cluster_resources(self) -> tuple[dict, dict]:
        """(free, total) resources of the cluster, read at most every couple of seconds."""
        stamp, free, total = self._free
        if time.monotonic() - stamp > RESOURCES_CACHE_S:
            with contextlib.suppress(Exception):
                ray = self._connect()
                free, total = ray.available_resources(), ray.cluster_resources()
                self._free = (time.monotonic(), free, total)
        return free, total

    # --- dispatching -----------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self._ray is None:
            self._ray = connect(self.address)
            self._actor_class = self._ray.remote(RunWorker)
        return self._ray

    def close(self) -> None:
        """Stop dispatching in this process (the runs go on training on the cluster; another app
        process, or this one restarted, takes them over by their actors' names)."""
        self._closed.set()
        self._wake.set()
        if self._dispatcher is not None:
            self._dispatcher.join(timeout=30)
        self._dispatcher = None
        self._live.clear()

    def _dispatch_forever(self) -> None:
        lock_path = self.queue.runs_dir / ".ray-dispatch.lock"
        with lock_path.open("w") as handle:
            while not self._closed.is_set():
                try:  # one dispatcher among the app processes that share the runs folder
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    self._closed.wait(5)
            while not self._closed.is_set():
                try:
                    self.tick()
                    self.last_error = ""
                except Exception as exc:  # a broken run folder or a hiccup of the cluster must not stop it
                    self.last_error = str(exc)
                self._wake.wait(timeout=self.poll_s)
                self._wake.clear()

    def tick(self) -> None:
        """One pass: start queued runs, note the ones the cluster started, copy what is new."""
        for run in self.queue.runs():
            if run.backend != self.name or not run.active:
                continue
            try:  # one run's trouble must not hold up the others
                if run.status == "queued" and run.id not in self._live:
                    self._launch(run)
                elif run.status == "queued":
                    self._check_started(run)
                else:
                    self._poll(run)
            except Exception as exc:  # a cluster hiccup: tried again on the next pass
                self.last_error = f"{run.id}: {exc}"
        for run_id in list(self._live):  # cancelled or deleted meanwhile (by another process)
            with contextlib.suppress(RunError):
                if self.queue.get(run_id).active:
                    continue
            self._kill(self._live.pop(run_id).actor, clean_up=True)

    def _fail(self, run: Run, message: str) -> None:
        live = self._live.pop(run.id, None)
        if live is not None:
            self._kill(live.actor, clean_up=True)
        run = self.queue.get(run.id)
        run.status, run.finished, run.message = "failed", time.time(), message
        self.queue.save(run)

    def _launch(self, run: Run) -> None:
        stale = self._find_actor(run) if run.attempts else None
        if stale is not None:  # started by an app that restarted before the run began: only one may train
            self._kill(stale, clean_up=True)
        try:
            payload, resources = self._payload(run)
        except (OSError, RunError, ValueError) as exc:  # its inputs cannot be read here: it never can start
            self._fail(run, f"could not start it on the cluster: {exc}")
            return
        fresh = self.queue.get(run.id)
        if fresh.status != "queued":  # cancelled while its inputs were read
            return
        fresh.attempts = payload["attempt"]  # saved before the actor exists: a restarted app finds it by name
        self.queue.save(fresh)
        name = actor_name(run.id, payload["attempt"])
        options = {"name": name, "namespace": NAMESPACE, "lifetime": "detached", "max_restarts": 0}
        try:
            actor = self._actor_class.options(**options, **resources.options()).remote()
        except ValueError:  # the name is taken: an actor of a crashed app's launch; only one may train
            self._kill(self._ray.get_actor(name, namespace=NAMESPACE), clean_up=True)
            actor = self._actor_class.options(**options, **resources.options()).remote()
        self._live[run.id] = _Live(actor=actor, begin=actor.begin.remote(payload), attempt=payload["attempt"])
        if self.queue.get(run.id).status != "queued":  # cancelled meanwhile, from another thread or process
            self._kill(self._live.pop(run.id).actor, clean_up=True)

    def _payload(self, run: Run) -> tuple[dict[str, Any], RayResources]:
        """What the node needs to train the run: its config, its upload, and when it resumes its
        last checkpoint and its log so far (so the node's log offsets match this copy)."""
        folder = self.queue.folder(run.id)
        checkpoint = latest_checkpoint(folder) if run.resume else None
        if run.resume and checkpoint is None:
            raise RunError("nothing to resume: no checkpoint reached this server")
        config = self.queue.config(run.id)
        resources = self.resources_for(config)
        payload: dict[str, Any] = {
            "run_id": run.id,
            "attempt": run.attempts + 1,
            "config": config.to_yaml(),
            "resume": bool(checkpoint),
            "cpus": resources.cpus,
            "models_dir": self.node_models_dir,
            "scratch": self.scratch_dir,
            "seed": {
                name: (folder / name).read_bytes() for name in (LOG_NAME, WORKER_LOG) if (folder / name).is_file()
            },
        }
        if checkpoint is not None:
            payload["checkpoint"] = pack(checkpoint, arcname=checkpoint.name)
        source = config.data.source.strip()
        if source not in ("builtin", "builtin:raw") and not source.startswith("hf:"):
            path = Path(source)  # an upload on the app host (the lab checked it is the learner's)
            payload["data_name"], payload["data"] = path.name, path.read_bytes()
        return payload, resources

    def _check_started(self, run: Run) -> None:
        live = self._live[run.id]
        ready, _ = self._ray.wait([live.begin], timeout=0)
        if not ready:
            return  # still waiting in the cluster's queue for its resources
        try:
            where = self._ray.get(live.begin)
        except Exception as exc:
            if _actor_gone(exc):  # the node died as the run started
                self._lost(run, exc)
                return
            self._live.pop(run.id, None)  # the worker could not start there (a bad input): not retried
            self._kill(live.actor, clean_up=True)
            run = self.queue.get(run.id)
            run.status, run.finished = "failed", time.time()
            run.message = f"could not start the training worker on the cluster: {_first_line(exc)}"
            self.queue.save(run)
            return
        run = self.queue.get(run.id)
        if run.status != "queued":  # cancelled meanwhile
            self._kill(self._live.pop(run.id).actor, clean_up=True)
            return
        live.started = True
        run.status, run.node = "running", where["node"]
        if not (run.extra.pop("after_node_loss", False) and run.started):
            run.started = time.time()  # a restart after a lost node keeps its time (and time limit)
        self.queue.save(run)

    def _poll(self, run: Run) -> None:
        live = self._live.get(run.id)
        if live is None:  # this process did not start it (a restarted app): find its actor
            actor = self._find_actor(run)
            if actor is None:
                self._lost(run, None)
                return
            live = self._live[run.id] = _Live(actor=actor, begin=None, attempt=run.attempts, started=True)
        folder = self.queue.folder(run.id)
        have = [p.name for p in _complete_checkpoints(folder)]
        try:
            reply = self._ray.get(
                live.actor.poll.remote(_size(folder / LOG_NAME), _size(folder / WORKER_LOG), have),
                timeout=POLL_TIMEOUT_S,
            )
        except Exception as exc:
            if _actor_gone(exc):
                self._lost(run, exc, stopping=bool(live.stopping))
            return  # a slow answer or a moment without the node: asked again next time
        self._copy(folder, reply)
        limit, now = self.queue.max_seconds, time.time()
        if limit and not live.stopping and run.started and now - run.started > limit:
            live.stopping, live.over_time = now, True
            live.actor.stop.remote()
        elif live.stopping and now - live.stopping > STOP_GRACE_S and reply["exit"] is None:
            live.actor.kill_trainer.remote()  # it did not stop by itself: as the local backend does
        if reply["exit"] is None:
            return
        unpack(reply["files"], folder)
        self._live.pop(run.id, None)
        self._kill(live.actor, clean_up=True)
        run = self.queue.finish(run, reply["exit"])
        if live.over_time:
            self.queue.note_time_limit(run.id)
        losses = run.extra.get("node_losses", 0)
        if losses and run.status == "done":
            run = self.queue.get(run.id)
            run.message = f"finished after losing {losses} node(s); it resumed from its last checkpoint"
            self.queue.save(run)

    @staticmethod
    def _copy(folder: Path, reply: dict) -> None:
        for name, key in ((LOG_NAME, "log"), (WORKER_LOG, "worker_log")):
            if reply[key]:
                with (folder / name).open("ab") as out:
                    out.write(reply[key])
        if reply["checkpoint"]:
            name, data = reply["checkpoint"]
            partial = folder / f".{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            unpack(data, partial)
            shutil.rmtree(folder / name, ignore_errors=True)  # an incomplete one of an earlier local run
            (partial / name).rename(folder / name)  # complete or absent, never half there
            partial.rmdir()
        for old in _complete_checkpoints(folder):  # the trainer's rotation, mirrored
            if old.name not in reply["kept"]:
                shutil.rmtree(old, ignore_errors=True)

    def _lost(self, run: Run, error: Exception | None, *, stopping: bool = False) -> None:
        """The run's node (or its actor) is gone: start it again elsewhere from its checkpoint."""
        self._live.pop(run.id, None)
        run = self.queue.get(run.id)
        if not run.active:
            return
        where = f" ({run.node})" if run.node else ""
        checkpoint = latest_checkpoint(self.queue.folder(run.id))
        if stopping:  # it was asked to stop: it stays stopped, resumable from what reached this server
            run.status, run.finished, run.pid = "stopped", time.time(), None
            run.message = f"the node training it{where} was lost as it stopped; " + (
                f"resume continues from {checkpoint.name}" if checkpoint else "no checkpoint was saved yet"
            )
            self.queue.save(run)
            return
        losses = run.extra.get("node_losses", 0) + 1
        run.extra["node_losses"] = losses
        if checkpoint is not None and losses <= self.max_node_losses:
            run.status, run.resume, run.node = "queued", True, ""
            run.extra["after_node_loss"] = True
            run.message = f"the node training it{where} was lost; it resumes from {checkpoint.name} on another node"
            self.queue.save(run)
            self.wake()
            return
        reason = f"the node training it{where} was lost"
        if checkpoint is not None:
            reason += f" {losses} times, more than this server's {self.max_node_losses}"
        if error is not None:
            reason += f" ({type(error).__name__})"
        self.queue.interrupted(run, reason)

    def _find_actor(self, run: Run) -> Any:
        """The run's actor by its name; None when there is none. Other errors (the cluster out of
        reach for a moment) are raised: the actor may well be training."""
        ray = self._connect()
        try:
            return ray.get_actor(actor_name(run.id, run.attempts), namespace=NAMESPACE)
        except ValueError:
            return None

    def _kill(self, actor: Any, *, clean_up: bool = False) -> None:
        with contextlib.suppress(Exception):
            if clean_up:
                self._ray.get(actor.clean_up.remote(), timeout=30)
        with contextlib.suppress(Exception):
            self._ray.kill(actor)


def _first_line(error: Exception) -> str:
    """The cause of a remote error in one line (Ray wraps it in a traceback of the node)."""
    cause = getattr(error, "cause", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[-1][:300]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _actor_gone(error: Exception) -> bool:
    """The actor died (with its node); not a slow answer or a moment of unavailability."""
    try:
        from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError
    except ImportError:
        return False
    if isinstance(error, ActorUnavailableError):
        return False
    return isinstance(error, ActorDiedError | RayActorError)
