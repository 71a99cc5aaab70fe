"""``python -m trainer`` (and its alias ``tutor train``): run one fine-tuning job from a YAML
config, printing one line per step.

SIGTERM or Ctrl-C asks the run to stop at the end of the current step; it saves a checkpoint
first, so ``--resume`` continues where it stopped. Exit status: 0 done, 1 error or diverged,
2 bad config or usage, 130 stopped.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from trainer.config import ConfigError, field_help, load_config
from trainer.data import DataError
from trainer.model import ModelError
from trainer.progress import EventLog
from trainer.train import LOG_NAME, TrainError, train

EXIT_STOPPED = 130
# The standalone command's default for --models-dir: the same folder the app uses with its default
# data_dir (tutor's Settings.models_dir = data_dir / "models", data_dir ./var), so the packaged
# base model is converted once for both.
DEFAULT_MODELS_DIR = Path("var") / "models"


def config_reference() -> str:
    """Every config field with its default and help: ``python -m trainer --help-config``."""
    return "\n".join(f"{name} (default {default})\n    {help_text}" for name, default, help_text in field_help())


def run_train_command(
    config_path: str,
    *,
    max_steps: int | None,
    output_dir: str | None,
    resume: bool,
    models_dir: Path,
    prog: str = "trainer",
) -> int:
    """Train ``config_path`` with the command line's overrides; the exit status. ``prog`` starts
    the one-line error messages (``trainer: error: ...``, or ``tutor: error: ...`` for the alias)."""
    try:
        config = load_config(config_path)
        if max_steps is not None:
            config.training.max_steps = max_steps
        if output_dir:
            config.training.output_dir = output_dir
    except (ConfigError, ValueError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
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
        result = train(config, resume=resume, models_dir=models_dir, stop=stop)
    except (ConfigError, DataError, ModelError, TrainError) as exc:
        # The log records the failure too, so a watcher (the lab) can show it.
        EventLog(Path(config.training.output_dir) / LOG_NAME, echo=False).write("error", message=str(exc))
        print(f"{prog}: error: {exc}", file=sys.stderr)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainer",
        description="Fine-tune a LoRA/QLoRA adapter from a YAML config (shipped configs: trainer/configs/*.yaml).",
    )
    parser.add_argument("--config", metavar="FILE", help="training config (YAML)")
    parser.add_argument("--max-steps", type=int, metavar="N", help="override training.max_steps")
    parser.add_argument("--output-dir", metavar="DIR", help="override training.output_dir")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in the output dir")
    parser.add_argument("--help-config", action="store_true", help="list every config field with its help")
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=DEFAULT_MODELS_DIR,
        metavar="DIR",
        help=f"where the packaged base model is converted once (default {DEFAULT_MODELS_DIR}, as the app's)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.help_config:
        print(config_reference())
        return 0
    if not args.config:
        print("trainer: error: --config FILE is required (shipped configs: trainer/configs/*.yaml)", file=sys.stderr)
        return 2
    return run_train_command(
        args.config,
        max_steps=args.max_steps,
        output_dir=args.output_dir,
        resume=args.resume,
        models_dir=args.models_dir,
    )
