"""``tutor train``: run one fine-tuning job from a YAML config, printing one line per step.

SIGTERM or Ctrl-C asks the run to stop at the end of the current step; it saves a checkpoint
first, so ``--resume`` continues where it stopped. Exit status: 0 done, 1 error or diverged,
130 stopped.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from trainer.config import ConfigError, field_help, load_config
from trainer.data import DataError
from trainer.model import ModelError
from trainer.progress import EventLog
from trainer.train import LOG_NAME, TrainError, train

EXIT_STOPPED = 130


def config_reference() -> str:
    """Every config field with its default and help: ``tutor train --help-config``."""
    return "\n".join(f"{name} (default {default})\n    {help_text}" for name, default, help_text in field_help())


def run_train_command(
    config_path: str, *, max_steps: int | None, output_dir: str | None, resume: bool, cache_dir: Path
) -> int:
    try:
        config = load_config(config_path)
        if max_steps is not None:
            config.training.max_steps = max_steps
        if output_dir:
            config.training.output_dir = output_dir
    except (ConfigError, ValueError) as exc:
        print(f"tutor: error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def request_stop(signum, frame) -> None:
        if stop.is_set():
            if signum == signal.SIGINT:  # a second Ctrl-C means "now"
                raise KeyboardInterrupt
            return  # a repeated SIGTERM changes nothing: the stop is under way
        print("stopping after this step (a checkpoint will be saved)...", file=sys.stderr, flush=True)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    try:
        result = train(config, resume=resume, cache_dir=cache_dir, stop=stop)
    except (ConfigError, DataError, ModelError, TrainError) as exc:
        # The log records the failure too, so a watcher (the lab) can show it.
        EventLog(Path(config.training.output_dir) / LOG_NAME, echo=False).write("error", message=str(exc))
        print(f"tutor: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        message = "stopped at once (second Ctrl-C); resume continues from the last saved checkpoint"
        EventLog(Path(config.training.output_dir) / LOG_NAME, echo=False).write("stopped", message=message)
        print(message, file=sys.stderr)
        return EXIT_STOPPED
    if result.status == "done":
        print(f"adapter: {result.output_dir / 'adapter'}\nreport:  {result.output_dir / 'report.md'}")
        return 0
    return EXIT_STOPPED if result.status == "stopped" else 1
