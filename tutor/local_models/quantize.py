"""Quantize a GGUF file with llama.cpp (``llama_model_quantize``), in a worker process.

The worker writes ``<target>.partial-<pid>`` and renames it only when llama.cpp has finished, so a
killed or stopped quantization never leaves a file that looks complete. llama.cpp prints one line
per tensor (``[ 12/ 272] blk.0.attn_q.weight …``) on stderr; the parent reads them as progress.

    python -m tutor.local_models.quantize SRC TARGET TYPE     (the worker; use quantize() instead)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# The types a learner can pick, best kept to worst (imatrix-only types such as IQ2_XS are left out:
# they need an importance matrix computed on sample text first).
QUANT_TYPES = (
    "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_1", "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_1", "Q4_0",
    "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K",
)  # fmt: skip
_TENSOR_LINE = re.compile(r"\[\s*(\d+)/\s*(\d+)\]")
_FALLBACKS = re.compile(r"(\d+) of (\d+) tensor\(s\) required fallback")
STALE_PARTIAL_S = 3600.0  # a partial file this old belongs to a process that is gone


class QuantizeError(ValueError):
    """A quantization that cannot be done or did not finish; one line for the user."""


@dataclass(frozen=True)
class QuantizeResult:
    path: Path
    qtype: str
    size_bytes: int
    source_bytes: int
    seconds: float
    fallback_tensors: int  # tensors llama.cpp stored in another type (rows not a multiple of 256)
    tensors: int
    note: str = ""  # e.g. that a wider copy of a quantized file cannot be better than its source

    @property
    def ratio(self) -> float:
        """Size against the source file (0.5: half as big)."""
        return self.size_bytes / self.source_bytes if self.source_bytes else 0.0

    def summary(self) -> str:
        text = (
            f"{self.path.name}: {self.size_bytes / 1e6:.1f} MB, {self.ratio:.2f}× the source "
            f"({self.source_bytes / 1e6:.1f} MB), in {self.seconds:.1f} s"
        )
        if self.fallback_tensors:
            text += (
                f"; {self.fallback_tensors} of {self.tensors} tensors kept another type (their rows are not a "
                "multiple of the type's block size)"
            )
        return text + (f". Note: {self.note}." if self.note else "")


def check_type(name: str) -> str:
    qtype = name.strip().upper()
    if qtype not in QUANT_TYPES:
        raise QuantizeError(f"unknown quantization type {name!r}; choose one of {', '.join(QUANT_TYPES)}")
    return qtype


def check_source(src: Path) -> None:
    if not src.is_file():
        raise QuantizeError(f"{src}: no such file")
    with src.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise QuantizeError(f"{src}: not a GGUF file (llama.cpp quantizes GGUF files only)")


def remove_stale_partials(folder: Path, now: float | None = None) -> None:
    now = time.time() if now is None else now
    for partial in folder.glob("*.gguf.partial-*"):
        if now - partial.stat().st_mtime > STALE_PARTIAL_S:
            partial.unlink(missing_ok=True)


def quantize(
    src: Path,
    qtype: str,
    target: Path,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    threads: int = 0,
) -> QuantizeResult:
    """``src`` quantized to ``qtype`` at ``target`` (replaced if there). ``on_progress(done, total)``
    is called per tensor; setting ``cancel`` stops the worker and removes its partial file."""
    qtype = check_type(qtype)
    check_source(src)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target.parent)
    existed = target.exists()
    started = time.monotonic()
    worker = subprocess.Popen(
        [sys.executable, "-m", "tutor.local_models.quantize", str(src), str(target), qtype, str(threads)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    partial = partial_path(target, worker.pid)
    done = total = fallbacks = 0
    last_error = ""
    stopper = None
    if cancel is not None:
        stopper = threading.Thread(target=_kill_when_set, args=(cancel, worker), daemon=True)
        stopper.start()
    try:
        assert worker.stderr is not None
        for line in worker.stderr:
            if match := _TENSOR_LINE.search(line):
                done, total = int(match.group(1)), int(match.group(2))
                if on_progress:
                    on_progress(done, total)
                if cancel is not None and cancel.is_set():
                    worker.kill()
            elif match := _FALLBACKS.search(line):
                fallbacks = int(match.group(1))
            elif line.startswith("error: "):
                last_error = line.removeprefix("error: ").strip()
        code = worker.wait()
    finally:
        if worker.poll() is None:  # the caller stopped reading (a closed stream): stop the worker too
            worker.kill()
            worker.wait()
        partial.unlink(missing_ok=True)
    if cancel is not None and cancel.is_set():
        if not existed:  # it finished just before the stop took effect: the learner asked for nothing
            target.unlink(missing_ok=True)
        raise QuantizeError(f"quantization to {qtype} stopped; nothing was written")
    if code != 0 or not target.is_file():
        reason = last_error or (f"its worker was killed ({-code})" if code < 0 else f"its worker exited with {code}")
        raise QuantizeError(f"quantization to {qtype} did not finish: {reason}; nothing was written")
    return QuantizeResult(
        target, qtype, target.stat().st_size, src.stat().st_size, time.monotonic() - started, fallbacks, total
    )


def partial_path(target: Path, pid: int) -> Path:
    return target.with_name(f"{target.name}.partial-{pid}")


def _kill_when_set(cancel: threading.Event, worker: subprocess.Popen) -> None:
    while worker.poll() is None:
        if cancel.wait(0.2):
            worker.kill()
            return


def _work(src: str, target: str, qtype: str, threads: int) -> int:
    import ctypes

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{qtype}")
    params.allow_requantize = True  # the packaged model is already Q4_1
    params.nthread = threads
    partial = partial_path(Path(target), os.getpid())
    code = llama_cpp.llama_model_quantize(src.encode(), str(partial).encode(), ctypes.byref(params))
    if code != 0:
        partial.unlink(missing_ok=True)
        print(f"error: llama.cpp could not quantize {src} (code {code})", file=sys.stderr, flush=True)
        return 1
    partial.replace(target)
    return 0


if __name__ == "__main__":
    sys.exit(_work(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0))
