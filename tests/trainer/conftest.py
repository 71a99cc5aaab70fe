"""Fixtures for the trainer tests: a tiny run config on the packaged model."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_RUN = """\
data:
  task: sentiment
  source: builtin
  max_examples: 60
  max_test_examples: 8
  max_length: 96
training:
  output_dir: {output_dir}
  max_steps: {steps}
  batch_size: 4
  learning_rate: 0.001
  warmup_ratio: 0.0
  eval_steps: {eval_steps}
  save_steps: 2
  early_stopping_patience: 0
  threads: 2
"""


def tiny_run(output_dir: Path | str = "ignored", steps: int = 6, eval_steps: int = 2) -> str:
    """The tiny config's YAML; ``eval_steps`` above ``steps`` skips the validation passes."""
    return TINY_RUN.format(output_dir=output_dir, steps=steps, eval_steps=eval_steps)


def write_tiny_config(folder: Path, output_dir: Path, steps: int = 6, eval_steps: int = 2) -> Path:
    path = folder / "tiny.yaml"
    path.write_text(tiny_run(output_dir, steps, eval_steps), encoding="utf-8")
    return path


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    return write_tiny_config(tmp_path, tmp_path / "run")
