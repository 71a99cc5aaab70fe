"""Run prompts through one model and time them, in a worker process of its own, so that each
model's peak memory is its own (not the web app's, nor the previous model's).

The parent sends a job as JSON on stdin; the worker answers with JSON lines on stdout:

    {"event": "loaded", "seconds": 0.4, "name": "…"}
    {"event": "answer", "index": 0, "text": "…", "ttft": 0.12, "tokens": 31, "seconds": 0.5}
    {"event": "speed", "tokens_per_s": [104.2, 105.3, 103.9]}
    {"event": "done", "peak_rss_mb": 412.0}
    {"event": "error", "message": "…"}            (then exit status 1)

The speed probe decodes PROBE_TOKENS tokens straight after a short prompt, never stopping at an
end-of-text token, PROBE_RUNS times (as llama.cpp's llama-bench "tg" test does): answers to real
prompts are often a few tokens long, too short to time decoding. Servers get no probe.

Tokens are counted with the model's own tokenizer where the process has it (llama.cpp and
transformers), else as streamed pieces (a server sends about one token per piece).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tutor.llm.base import ChatModel, LLMError, Message
from tutor.llm.worker import WorkerChatModel, token_count
from tutor.local_models.catalog import GEMMA_ID, CatalogError, ModelEntry, assemble_gemma

WORKER_TIMEOUT_S = 900.0
PROBE_TOKENS = 64
PROBE_RUNS = 3
PROBE_PROMPT = "The quarterly report shows that revenue"


@dataclass
class Answer:
    text: str
    ttft: float  # seconds from the request to the first piece of the answer
    tokens: int
    seconds: float  # the whole answer

    @property
    def tokens_per_s(self) -> float:
        """Decoding speed: the tokens after the first, over the time after the first."""
        decode = self.seconds - self.ttft
        return (self.tokens - 1) / decode if self.tokens > 1 and decode > 0 else 0.0


@dataclass
class Measurement:
    entry_id: str
    name: str
    load_seconds: float = 0.0
    answers: list[Answer] = field(default_factory=list)
    peak_rss_mb: float | None = None  # None for a server: its memory is not on this machine
    probe_tokens_per_s: list[float] = field(default_factory=list)  # the speed probe's runs
    error: str = ""


def open_model(entry: ModelEntry, *, models_dir: Path, threads: int = 0, context: int = 2048) -> ChatModel:
    """A chat model for a catalog entry, with the app's own backends."""
    model = _load(entry, models_dir=models_dir, threads=threads, context=context)
    model.name = entry.name  # the lab's own name: two runs' adapters, or a GGUF and its transformers twin, differ
    return model


@dataclass(frozen=True)
class EntryModel:
    """What a worker process calls to load a catalog entry's model (``open_model`` there)."""

    entry: ModelEntry
    models_dir: Path
    threads: int = 0
    context: int = 2048

    def __call__(self) -> ChatModel:
        return open_model(self.entry, models_dir=self.models_dir, threads=self.threads, context=self.context)


def open_chat_model(
    entry: ModelEntry, *, models_dir: Path, threads: int = 0, context: int = 2048, worker: bool = True
) -> ChatModel:
    """A chat model for an entry; a local one (llama.cpp, transformers) generates in a worker
    process of its own when ``worker`` is set, so that a crash in its native code ends one answer,
    not the web process. A server's client stays in-process: its model runs elsewhere."""
    load = EntryModel(entry, models_dir, threads, context)
    if worker and entry.engine != "openai":
        return WorkerChatModel(load)
    return load()


def _load(entry: ModelEntry, *, models_dir: Path, threads: int, context: int) -> ChatModel:
    if entry.engine == "openai":
        from tutor.llm.openai_backend import OpenAIChatModel

        return OpenAIChatModel(entry.base_url, entry.model, entry.api_key, timeout=60.0)
    if entry.engine == "transformers":
        from tutor.llm.transformers_backend import TransformersChatModel

        if entry.id == "packaged:transformers":
            return TransformersChatModel("", "", threads, models_dir)
        if entry.format.endswith("LoRA adapter"):  # the run's base ("" = the packaged model) + its adapter
            return TransformersChatModel(entry.model, entry.path, threads, models_dir)
        return TransformersChatModel(entry.path, "", threads, models_dir)
    from tutor.llm.llamacpp_backend import LlamaCppChatModel

    path = entry.path
    if entry.id == GEMMA_ID:
        try:
            path = str(assemble_gemma(models_dir))
        except CatalogError as exc:
            raise LLMError(str(exc)) from None
    return LlamaCppChatModel(path, threads, context=context)


def count_tokens(model: ChatModel, text: str, pieces: int) -> int:
    """The model's own token count of ``text`` (asked of its worker process when it runs in one),
    else the number of streamed pieces."""
    counted = model.count_tokens(text) if isinstance(model, WorkerChatModel) else token_count(model, text)
    return pieces if counted is None else counted


def timed_stream(
    model: ChatModel, messages: list[Message], *, max_tokens: int, temperature: float
) -> Iterator[tuple[str, Answer | None]]:
    """The reply piece by piece, then ("", the timed Answer)."""
    started = time.perf_counter()
    first = 0.0
    pieces: list[str] = []
    for piece in model.stream(messages, max_new_tokens=max_tokens, temperature=temperature):
        if not pieces:
            first = time.perf_counter() - started
        pieces.append(piece)
        yield piece, None
    text = "".join(pieces)
    total = time.perf_counter() - started
    yield "", Answer(text.strip(), first or total, count_tokens(model, text, len(pieces)), total)


def measure(
    entry: ModelEntry,
    prompts: list[list[Message]],
    *,
    models_dir: Path,
    max_tokens: int,
    temperature: float = 0.0,
    threads: int = 0,
    on_answer: Callable[[int, Answer], None] | None = None,
) -> Measurement:
    """Every prompt through ``entry`` in a fresh worker process. A model that cannot load or answer
    comes back with ``error`` set (the comparison goes on with the other models)."""
    job = {
        "entry": {**asdict(entry)},
        "prompts": prompts,
        "models_dir": str(models_dir),
        "max_tokens": max_tokens,
        "temperature": temperature,
        "threads": threads,
    }
    result = Measurement(entry.id, entry.name)
    worker = subprocess.Popen(
        [sys.executable, "-m", "tutor.local_models.measure"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")},
    )
    assert worker.stdin is not None and worker.stdout is not None
    # A worker that hangs without a word (a server that never answers) is stopped all the same.
    timer = threading.Timer(WORKER_TIMEOUT_S, worker.kill)
    timer.start()
    try:
        worker.stdin.write(json.dumps(job))
        worker.stdin.close()
        for line in worker.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:  # something a library printed on stdout: not ours
                continue
            if not isinstance(event, dict) or "event" not in event:
                continue
            kind = event.pop("event")
            if kind == "loaded":
                result.load_seconds, result.name = event["seconds"], event["name"]
            elif kind == "answer":
                answer = Answer(event["text"], event["ttft"], event["tokens"], event["seconds"])
                result.answers.append(answer)
                if on_answer:
                    on_answer(event["index"], answer)
            elif kind == "speed":
                result.probe_tokens_per_s = event["tokens_per_s"]
            elif kind == "done":
                result.peak_rss_mb = event["peak_rss_mb"] if entry.engine != "openai" else None
            elif kind == "error":
                result.error = event["message"]
    finally:
        timed_out = not timer.is_alive() and worker.poll() is not None and worker.returncode < 0
        timer.cancel()
        if worker.poll() is None:
            worker.kill()
        code = worker.wait()
    if timed_out and not result.error:
        result.error = f"stopped after {WORKER_TIMEOUT_S / 60:.0f} min, after {len(result.answers)} answers"
    elif not result.error and code != 0:
        result.error = f"its worker ended with status {code} after {len(result.answers)} answers"
    return result


def speed_probe(model: ChatModel, tokens: int = PROBE_TOKENS, runs: int = PROBE_RUNS) -> list[float]:
    """Decoding speed in tokens/s, ``runs`` times: ``tokens`` tokens after a short prompt, greedy,
    past any end-of-text token. The prompt is read before the clock starts."""
    speeds = []
    llm = getattr(model, "llm", None)
    for _ in range(runs):
        if llm is not None:  # llama.cpp: its own eval loop, as llama-bench times it
            llm.reset()
            llm.eval(llm.tokenize(PROBE_PROMPT.encode(), add_bos=True))
            started = time.perf_counter()
            for _ in range(tokens):
                llm.eval([llm.sample(temp=0.0)])
            speeds.append(tokens / (time.perf_counter() - started))
        else:  # transformers: generate exactly ``tokens`` tokens; minus one forward pass for the prompt
            import torch

            batch = model.tokenizer(PROBE_PROMPT, return_tensors="pt")  # type: ignore[attr-defined]
            with torch.inference_mode():
                started = time.perf_counter()
                model.model.generate(**batch, max_new_tokens=1, do_sample=False)  # type: ignore[attr-defined]
                prompt_s = time.perf_counter() - started
                started = time.perf_counter()
                model.model.generate(  # type: ignore[attr-defined]
                    **batch, min_new_tokens=tokens, max_new_tokens=tokens, do_sample=False
                )
            speeds.append((tokens - 1) / max(time.perf_counter() - started - prompt_s, 1e-6))
    return speeds


def _work() -> int:
    from tutor.llm import quiet_loading

    quiet_loading()
    job = json.loads(sys.stdin.read())
    entry = ModelEntry(**job["entry"])

    def say(event: str, **values) -> None:
        print(json.dumps({"event": event, **values}), flush=True)

    try:
        started = time.perf_counter()
        model = open_model(entry, models_dir=Path(job["models_dir"]), threads=job["threads"])
        say("loaded", seconds=time.perf_counter() - started, name=model.name)
        for index, messages in enumerate(job["prompts"]):
            for _, answer in timed_stream(
                model, messages, max_tokens=job["max_tokens"], temperature=job["temperature"]
            ):
                if answer is not None:
                    say("answer", index=index, text=answer.text, ttft=answer.ttft, tokens=answer.tokens,
                        seconds=answer.seconds)  # fmt: skip
        if entry.engine != "openai":
            say("speed", tokens_per_s=speed_probe(model))
    except LLMError as exc:
        say("error", message=str(exc))
        return 1
    except Exception as exc:  # anything else, in one line: the comparison shows it beside the model
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        say("error", message=f"{type(exc).__name__}: {first}"[:300])
        return 1
    say("done", peak_rss_mb=peak_rss_mb())
    return 0


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process's own memory map, made at
    exec; ru_maxrss would also count the parent's memory at the fork (Linux keeps it across exec),
    so a worker started by the web app (torch and all) would report the app's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:  # not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(_work())
