"""The advisor's answers on the held-out questions: the path before the grounding check ("raw":
the rules' recommendation and the model's explanation, unchecked) beside the default path
("checked"), and an OpenAI-compatible server's model when one is configured, in one run.

    .venv/bin/python bench/advisor_eval.py [--cases bench/advisor_heldout.yaml] [--configs raw,checked]

The same as ``tutor advisor eval``; the figures go in docs/benchmarks.md. The held-out set is
never used to tune anything; tune on bench/advisor_dev.yaml.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tutor.cli import main

if __name__ == "__main__":
    sys.exit(main(["advisor", "eval", *sys.argv[1:]]))
