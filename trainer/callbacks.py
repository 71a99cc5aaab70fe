"""The Trainer callback that turns training into progress events (see ``trainer.progress``).

Kept apart from the event log: importing transformers' callback machinery pulls in peft,
bitsandbytes and torch, which the web app and the run queue (readers of the log) do not need.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

from transformers import TrainerCallback

from trainer.progress import EventLog


def memory_mb(device: str) -> float:
    """Peak GPU memory allocated by torch on CUDA; the process's resident memory on a CPU."""
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    import psutil

    return psutil.Process().memory_info().rss / 2**20


class ProgressCallback(TrainerCallback):
    """Writes step/eval/checkpoint events, watches for divergence, and honours a stop request."""

    def __init__(
        self, log: EventLog, token_counter, device: str, *, watchdog_factor: float, stop: threading.Event
    ) -> None:
        self.log = log
        self.token_counter = token_counter  # the collator: counts real (non-padding) tokens
        self.device = device
        self.watchdog_factor = watchdog_factor
        self.stop = stop
        self.diverged: str = ""
        self.stopped = False
        self._reference_loss: float | None = None
        self._high_in_a_row = 0

    def on_train_begin(self, args, state, control, **kwargs):
        self._start_time = time.monotonic()
        self._start_step = state.global_step  # > 0 when resuming: the ETA counts this session's speed
        self._last_time, self._last_tokens = self._start_time, self.token_counter.tokens_seen

    def on_step_end(self, args, state, control, **kwargs):
        if self.stop.is_set():
            self.stopped = True
            control.should_save = True  # leave a checkpoint to resume from
            control.should_training_stop = True

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "eval_loss" in logs:
            self.log.write("eval", step=state.global_step, eval_loss=round(logs["eval_loss"], 5))
        if "loss" not in logs:
            return
        now, tokens = time.monotonic(), self.token_counter.tokens_seen
        rate = (tokens - self._last_tokens) / max(now - self._last_time, 1e-6)
        self._last_time, self._last_tokens = now, tokens
        done_here = state.global_step - self._start_step
        per_step = (now - self._start_time) / done_here if done_here else None
        eta = per_step * (state.max_steps - state.global_step) if per_step else None
        loss = float(logs["loss"])
        self.log.write(
            "step",
            step=state.global_step,
            max_steps=state.max_steps,
            epoch=round(state.epoch or 0.0, 4),
            loss=round(loss, 5) if math.isfinite(loss) else str(loss),
            lr=float(logs.get("learning_rate", 0.0)),
            grad_norm=round(float(logs.get("grad_norm", 0.0)), 4),
            tokens_per_s=round(rate, 1),
            elapsed_s=round(now - self._start_time, 1),
            eta_s=round(eta, 1) if eta is not None else None,
            memory_mb=round(memory_mb(self.device), 1),
        )
        self._watch(loss, control)

    def on_evaluate(self, args, state, control, **kwargs):
        # Evaluation batches pass through the same collator: do not count them as training speed.
        self._last_time, self._last_tokens = time.monotonic(), self.token_counter.tokens_seen

    def on_save(self, args, state, control, **kwargs):
        path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        self.log.write("checkpoint", step=state.global_step, path=str(path))

    def _watch(self, loss: float, control) -> None:
        """Stop a diverging run: a NaN/inf loss at once, a loss far above its start three times in a row."""
        if not math.isfinite(loss):
            self.diverged = f"the loss became {loss}"
        elif self._reference_loss is None:
            self._reference_loss = loss
        elif loss > self.watchdog_factor * self._reference_loss:
            self._high_in_a_row += 1
            if self._high_in_a_row >= 3:
                self.diverged = (
                    f"the loss ({loss:.3g}) stayed above {self.watchdog_factor:g}x its starting value "
                    f"({self._reference_loss:.3g})"
                )
        else:
            self._high_in_a_row = 0
        if self.diverged:
            control.should_training_stop = True
