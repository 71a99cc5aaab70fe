"""``python -m trainer.export_worker KIND RUN_DIR --models-dir DIR [--dtype D]``: one export of a
finished run (``merged`` zip or ``gguf``) in a process of its own.

Why a process: a merge loads the base model in 16 or 32 bits (hundreds of MB) and converts for
tens of seconds; inside the web app that memory and CPU would be taken from every learner's
requests, and a crash or an out-of-memory kill would take the app down with it. The web app
starts one worker at a time (tutor.training_lab) and reads back the path printed on stdout.
Exit status 0 with the path; 1 with ``error: <message>`` on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from trainer.config import ConfigError, load_config
from trainer.export import MERGE_DTYPES, merged_zip
from trainer.model import ModelError

KINDS = ("merged", "gguf")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer.export_worker")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--dtype", choices=MERGE_DTYPES, default="float32")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.run_dir / "config.yaml")
        if args.kind == "gguf":
            from trainer.gguf_export import export_gguf

            path = export_gguf(args.run_dir, config, models_dir=args.models_dir)
        else:
            path = merged_zip(args.run_dir, config, dtype=args.dtype, models_dir=args.models_dir)
    except (ConfigError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
