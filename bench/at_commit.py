"""Run a function of a bench script on the code of an earlier commit: the baseline of a scenario
benchmark, measured in the same run as today's code.

``git archive`` writes that commit's ``tutor/`` to a temporary folder; a subprocess imports the
archived module first (so the bench script's own path setup cannot put the checkout's ``tutor/``
ahead of it), then calls ``script.function`` on the JSON payload and prints its JSON result.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_at_commit(commit: str, module: str, script: str, function: str, payload: object) -> object | None:
    """``script.function(payload)`` with ``module`` (and what it imports) from ``commit``; None,
    with a line saying why, when the commit cannot be read (a shallow clone)."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "tutor"], capture_output=True)
        if archive.returncode:
            print(f"(no baseline: git archive {commit} failed: {archive.stderr.decode().strip()})")
            return None
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        code = (
            f"import json, sys; sys.path.insert(0, sys.argv[1]); import {module};"
            f"sys.path.append(sys.argv[2]); from {script} import {function};"
            f"print(json.dumps({function}(json.load(sys.stdin))))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, folder, str(Path(__file__).parent)],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)


def scenario_main(description: str, score) -> int:
    """The command line every scenario benchmark shares: ``--split dev|test|both``,
    ``--show-wrong N``, ``--no-baseline``; calls ``score(split, baseline, show_wrong)`` per split."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both")
    parser.add_argument("--show-wrong", type=int, default=0, help="print up to N wrong cases per split")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    for split in ("dev", "test") if args.split == "both" else (args.split,):
        score(split, not args.no_baseline, args.show_wrong)
    return 0
