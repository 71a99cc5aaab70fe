"""Generation in its own process, at a lower CPU priority than the web server.

On a small CPU an advisor answer keeps every core busy for seconds. Generated inside the web
process it also competes for the interpreter lock, so a classmate's quiz submit or sign-in waits
behind it. In a child process with a raised nice value the kernel gives the web process the CPU
whenever it has work, and generation takes what is left.

The same holds for the Local models lab's chat, whose models (llama.cpp's native code above all)
can crash: in the web process a segfault ends the server for the whole class.

The parent talks to the child over a pipe with framed messages (``multiprocessing.connection``):

    parent -> child   a loader (once: a picklable callable that returns the ChatModel), then
                      ("stream", messages, max_new_tokens, temperature), ("stop",) when the caller
                      stops reading early, and ("count", text) for the model's token count of a text
    child -> parent   ("ready", name) or ("failed", message) once, then per stream request
                      ("piece", text)..., then exactly one ("done", None) or ("error", message);
                      per count request ("count", number or None)

A child that dies (killed for memory, a crash in native code) is started again on the next
request; the request that was running gets an LLMError, and the web process keeps running.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

from tutor.llm.base import ChatModel, LLMError, Message
from tutor.settings import Settings

# Nice 10 against the server's 0 gives it about nine times generation's share of a busy CPU.
WORKER_NICENESS = 10
START_TIMEOUT_S = 600  # loading weights (and converting the packaged model once) can take minutes


@dataclass(frozen=True)
class AdvisorModel:
    """The loader for the advisor's model: the settings' backend, loaded in the child's own process."""

    settings: Settings

    def __call__(self) -> ChatModel:
        from tutor.llm import load_chat_model

        return load_chat_model(self.settings.model_copy(update={"llm_worker": False}))


class WorkerChatModel:
    """A ChatModel whose generation runs in a child process. ``load`` is what the child calls to
    get its model: the advisor's settings (``AdvisorModel``), or a Local models lab entry."""

    def __init__(self, load: Callable[[], ChatModel]) -> None:
        self._load = load
        self._lock = threading.Lock()  # one request on the pipe at a time (the model serves one anyway)
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self.name = ""
        with self._lock:
            self._start()
        atexit.register(self.close)

    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tutor.llm.worker", str(to_child_r), str(from_child_w)],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._conn = _Pipe(read_fd=from_child_r, write_fd=to_child_w)
        self._conn.send(self._load)
        kind, value = self._receive(timeout=START_TIMEOUT_S, doing="load the model")
        if kind != "ready":
            self._stop_process()
            raise LLMError(value)
        self.name = value

    def stream(self, messages: list[Message], *, max_new_tokens: int, temperature: float) -> Iterator[str]:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()  # the last child died; this request gets a new one
            assert self._conn is not None
            self._send(("stream", messages, max_new_tokens, temperature))
            finished = False
            try:
                while True:
                    kind, value = self._receive(timeout=None, doing="answer")
                    if kind == "piece":
                        yield value
                    elif kind == "done":
                        finished = True
                        return
                    else:
                        finished = True
                        raise LLMError(value)
            finally:
                if not finished and self._process is not None and self._process.poll() is None:
                    # The caller stopped reading (a draft that failed a check): stop the child and
                    # read up to its "done" so the next request starts on a clean pipe.
                    self._send(("stop",))
                    while self._receive(timeout=60, doing="stop")[0] == "piece":
                        pass

    def count_tokens(self, text: str) -> int | None:
        """The model's own token count of ``text`` (None where it has no tokenizer to ask)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                return None
            try:
                self._send(("count", text))
                kind, value = self._receive(timeout=60, doing="count tokens")
            except LLMError:  # a count is a figure beside an answer already given: never fail it
                return None
            return value if kind == "count" else None  # type: ignore[return-value]

    def _send(self, message: object) -> None:
        try:
            self._conn.send(message)  # type: ignore[union-attr]
        except OSError:
            raise LLMError(self._died()) from None

    def _receive(self, *, timeout: float | None, doing: str) -> tuple[str, object]:
        conn = self._conn
        assert conn is not None
        try:
            if timeout is not None and not conn.poll(timeout):
                self._stop_process()
                raise LLMError(f"the model worker did not {doing} within {timeout:.0f} s; it was stopped")
            return conn.recv()
        except (EOFError, OSError):
            raise LLMError(self._died()) from None

    def _died(self) -> str:
        code = self._process.wait() if self._process is not None else None
        self._stop_process()
        return (
            f"the model worker stopped (exit status {code}); the next question starts a new one. "
            "If it keeps stopping, the server may be short of memory, or the model may crash on this machine."
        )

    def _stop_process(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
                self._process.wait()
            self._process = None

    def close(self) -> None:
        """End the child (at exit, or when the model is replaced)."""
        self._stop_process()
        atexit.unregister(self.close)  # a replaced model is not kept alive until the process ends

    @property
    def pid(self) -> int | None:
        """The child's process id (tests and operators use it to watch or stop it)."""
        return self._process.pid if self._process is not None else None


class _Pipe:
    """A duplex connection made of two one-way pipes (framed pickles, as multiprocessing sends)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._reader = Connection(read_fd, writable=False)
        self._writer = Connection(write_fd, readable=False)

    def send(self, message: object) -> None:
        self._writer.send(message)

    def recv(self) -> object:
        return self._reader.recv()

    def poll(self, timeout: float | None) -> bool:
        return self._reader.poll(timeout)

    def close(self) -> None:
        for end in (self._reader, self._writer):
            with contextlib.suppress(OSError):
                end.close()


def serve(conn: _Pipe) -> None:
    """The child's loop: load the model, then answer requests until the parent goes away."""
    load = conn.recv()
    try:
        model = load()
    except LLMError as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready", model.name))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return  # the web process ended
        if request[0] == "count":
            try:
                counted = token_count(model, request[1])
            except Exception:  # a count is a figure beside an answer: it must not end the worker
                counted = None
            conn.send(("count", counted))
            continue
        if request[0] != "stream":
            continue  # a stop that came after its answer had finished (its "done" is already sent)
        _, messages, max_new_tokens, temperature = request
        _answer(conn, model, messages, max_new_tokens, temperature)


def token_count(model: ChatModel, text: str) -> int | None:
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is not None:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])
    llm = getattr(model, "llm", None)
    if llm is not None:
        return len(llm.tokenize(text.encode(), add_bos=False, special=False))
    return None


def _answer(conn: _Pipe, model, messages: list[Message], max_new_tokens: int, temperature: float) -> None:
    pieces = model.stream(messages, max_new_tokens=max_new_tokens, temperature=temperature)
    try:
        for piece in pieces:
            conn.send(("piece", piece))
            if conn.poll(0):  # the only message that can come mid-answer is "stop"
                conn.recv()
                pieces.close()
                break
        conn.send(("done", None))
    except LLMError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # one failed answer must not end the worker
        conn.send(("error", f"generation failed: {exc}".splitlines()[0]))


if __name__ == "__main__":
    os.nice(WORKER_NICENESS)
    serve(_Pipe(read_fd=int(sys.argv[1]), write_fd=int(sys.argv[2])))
