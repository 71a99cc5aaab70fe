"""Benchmark: the QLoRA lab's default run, end to end through the web app.

Starts ``tutor serve`` (the same as ``make run``), waits for its warm-up, submits the config the
lab shows by default on this machine through the lab's API, polls until the run ends, and
prints the wall time and the held-out metric before (the base model, measured in the same run)
and after.

    python bench/lab_default_run.py [--port 7899] [--warmup 60]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from gradio_client import Client

from trainer.config import CONFIG_DIR, default_config_name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=7899)
    parser.add_argument("--warmup", type=float, default=60, help="seconds to let the server warm up first")
    args = parser.parse_args()
    tutor = Path(sys.executable).with_name("tutor")
    server = subprocess.Popen(
        [str(tutor), "serve", "--port", str(args.port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                client = Client(f"http://127.0.0.1:{args.port}/", verbose=False)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start in 5 minutes") from None
                time.sleep(2)
        time.sleep(args.warmup)  # a learner reads step 1 while the server converts the model
        config_file = CONFIG_DIR / f"{default_config_name('sentiment')}.yaml"
        started = time.monotonic()
        run_id = client.predict(config_file.read_text(encoding="utf-8"), api_name="/qlora_start")
        while (status := client.predict(run_id, api_name="/qlora_status"))["status"] in ("queued", "running"):
            time.sleep(2)
        wall = time.monotonic() - started
    finally:
        server.terminate()
        server.wait()
    metrics = status["metrics"] or {}
    before, after = metrics.get("before", {}), metrics.get("after", {})
    print(
        json.dumps(
            {
                "config": config_file.name,
                "run": run_id,
                "status": status["status"],
                "wall_s": round(wall, 1),
                "before": before.get("details"),
                "after": after.get("details"),
            },
            indent=2,
        )
    )
    if before and after:
        gain = 100 * (after["value"] - before["value"])
        print(
            f"\n{after['metric']}: {before['value']:.3f} -> {after['value']:.3f} ({gain:+.1f} points) "
            f"in {wall / 60:.1f} min"
        )


if __name__ == "__main__":
    main()
