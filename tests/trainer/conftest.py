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


# A small sentiment run that moves held-out accuracy (see test_training_helps_on_held_out_rows
# in test_train_e2e.py for the measurements): 120 examples cut 84 train / 12 validation / 24 test, so the
# test set has 10 neutral, 7 negative and 7 positive sentences (a model that always says one label scores
# at most 10/24 = 0.42).
HELPFUL_RUN = """\
data:
  task: sentiment
  source: builtin
  max_examples: 120
  test_fraction: 0.2
  max_test_examples: 24
  max_length: 96
training:
  output_dir: {output_dir}
  max_steps: {steps}
  batch_size: {batch_size}
  learning_rate: {learning_rate}
  warmup_ratio: 0.1
  eval_steps: {eval_steps}
  save_steps: {eval_steps}
  early_stopping_patience: 0
  threads: 2
  seed: {seed}
"""


def write_helpful_config(
    folder: Path,
    output_dir: Path,
    *,
    steps: int = 24,
    batch_size: int = 4,
    learning_rate: float = 0.001,
    seed: int = 42,
) -> Path:
    path = folder / "helpful.yaml"
    text = HELPFUL_RUN.format(
        output_dir=output_dir,
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        eval_steps=max(1, steps // 2),
        seed=seed,
    )
    path.write_text(text, encoding="utf-8")
    return path
