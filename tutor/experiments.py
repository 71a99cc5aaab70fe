"""Guided experiments: pairs of runs that change one thing, each with what the lessons say should
happen, and a verdict written only from the two runs' own measured figures.

The expectation is the lesson's; the verdict is this machine's. When they disagree the verdict
says so: a short CPU run of a 135M model is not the setting the lessons' rules of thumb come from,
and seeing where a rule holds is part of the lesson.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trainer.config import TrainConfig
from trainer.data import DataError, load_examples, split_examples
from tutor.advisors import dataset_checks
from tutor.run_compare import Comparison, final_losses

NEAR = dataset_checks.NEAR_DUPLICATE_JACCARD
TOLERANCE = 0.03  # differences in a held-out score smaller than this are "about the same" (60 examples)


@dataclass(frozen=True)
class Arm:
    label: str
    changes: dict[str, object]  # dotted config field -> value

    def apply(self, config: TrainConfig) -> TrainConfig:
        config = config.model_copy(deep=True)
        for key, value in self.changes.items():
            section, name = key.split(".")
            setattr(getattr(config, section), name, value)
        return config


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    changes: str  # the one thing that differs, in words
    expectation: str  # what the lesson says should happen
    citation: str  # lessons/... link
    arms: tuple[Arm, Arm]
    held: Callable[[Comparison], bool | None]  # did the expectation hold in these runs (None: cannot tell)


def _after(comparison: Comparison, index: int) -> float:
    return comparison.runs[index].metrics["after"]["value"]


def _shared_scores(comparison: Comparison) -> list[float] | None:
    """Each run's exact-match score on the held-out rows every run answered (label tasks), so that
    runs on different data versions are scored on the same rows; None when there are too few."""
    if comparison.runs[0].run.task != "sentiment" or len(comparison.answers) < 5:
        return None
    return _scores_on(comparison, {row["input"] for row in comparison.answers})


def near_twins(comparison: Comparison) -> set[str] | None:
    """The shared held-out inputs with the same or nearly the same input among some run's training
    rows (by the measure the cleaning's dedupe uses). A run scores such a row partly from memory, so runs on
    different data are compared fairly only on the other rows. None when a run's data is gone."""
    shared = [row["input"] for row in comparison.answers]
    held_out = [dataset_checks.Example(line=i, input=text, output="", style="") for i, text in enumerate(shared)]
    twins: set[str] = set()
    for item in comparison.runs:
        try:
            train = split_examples(load_examples(item.config.data), item.config.data).train
        except DataError:
            return None
        rows = [dataset_checks.Example(line=i, input=e.input, output=e.output, style="") for i, e in enumerate(train)]
        twins |= {shared[issue.other_line] for issue in dataset_checks.check_leakage(rows, held_out, NEAR)}
    return twins


def _scores_on(comparison: Comparison, inputs: set[str]) -> list[float] | None:
    rows = [row for row in comparison.answers if row["input"] in inputs]
    if not rows:
        return None
    return [sum(_label(row[x]) == _label(row["reference"]) for row in rows) / len(rows) for x in comparison.letters]


def _label(text: str) -> str:
    return str(text).strip().lower().rstrip(".")


def _clean_not_worse(comparison: Comparison) -> bool | None:
    """Judged on the shared held-out rows that no run has a near-twin of in training: the raw arm's
    score on the other rows is flattered by memory, which is the lesson's point, not a win."""
    if _shared_scores(comparison) is not None:
        twins = near_twins(comparison)
        fair = {row["input"] for row in comparison.answers} - (twins or set())
        scores = _scores_on(comparison, fair) if twins is not None and len(fair) >= 5 else None
        if scores is not None:
            return scores[1] >= scores[0] - TOLERANCE
    return _after(comparison, 1) >= _after(comparison, 0) - TOLERANCE


def _last_train_loss(comparison: Comparison, index: int) -> float | None:
    item = comparison.runs[index]
    last = final_losses(comparison).get(f"{item.letter} ({item.label})", {})
    return last["train"][1] if "train" in last else None


def _higher_rate_learns_faster(comparison: Comparison) -> bool | None:
    high, low = _last_train_loss(comparison, 0), _last_train_loss(comparison, 1)
    return None if high is None or low is None else high < low


def _rank_barely_matters(comparison: Comparison) -> bool | None:
    return abs(_after(comparison, 1) - _after(comparison, 0)) <= TOLERANCE


EXPERIMENTS = {
    e.id: e
    for e in (
        Experiment(
            id="raw-vs-clean",
            title="Raw vs clean data",
            changes="the data: the built-in set as generated (near-duplicates and all) vs the cleaned set",
            expectation="Near-duplicates over-weight some phrasings and cause overfitting, and a test row whose "
            "near-twin is in the training data flatters the score. Curated data should do at least as well on "
            "held-out rows, with fewer rows to train on.",
            citation="lessons/02-training-data.md#data-quality-checklist",
            arms=(Arm("raw data", {"data.source": "builtin:raw"}), Arm("clean data", {"data.source": "builtin"})),
            held=_clean_not_worse,
        ),
        Experiment(
            id="learning-rate",
            title="Learning rate 1e-3 vs 1e-4",
            changes="the learning rate: 1e-3 vs 1e-4",
            expectation="LoRA's usual range is 1e-4 to 2e-4 over a full run. In this lab's short budget of steps, "
            "the higher rate should bring the training loss down further; too high a rate shows as spikes and "
            "swings in the curve.",
            citation="lessons/03-hyperparameters-lora.md#the-hyperparameters-that-matter",
            arms=(
                Arm("lr 1e-3", {"training.learning_rate": 1e-3}),
                Arm("lr 1e-4", {"training.learning_rate": 1e-4}),
            ),
            held=_higher_rate_learns_faster,
        ),
        Experiment(
            id="rank",
            title="Rank 4 vs rank 16",
            changes="the LoRA rank: r=4 (alpha 8) vs r=16 (alpha 32)",
            expectation="A higher rank trains more parameters: more capacity, and more risk of overfitting. A "
            "small format task such as three labels needs little capacity (r=8 is the lesson's choice for "
            "format tasks), so both ranks should end about level.",
            citation="lessons/03-hyperparameters-lora.md#the-hyperparameters-that-matter",
            arms=(
                Arm("rank 4", {"lora.r": 4, "lora.alpha": 8}),
                Arm("rank 16", {"lora.r": 16, "lora.alpha": 32}),
            ),
            held=_rank_barely_matters,
        ),
    )
}


def _twin_lines(comparison: Comparison) -> list[str]:
    twins = near_twins(comparison)
    if not twins:
        return []
    fair = {row["input"] for row in comparison.answers} - twins

    def scores(inputs: set[str]) -> str:
        found = _scores_on(comparison, inputs)
        return ", ".join(f"{x} {v:.3f}" for x, v in zip(comparison.letters, found or [], strict=False))

    text = (
        f"{len(twins)} of them have a near-twin (the same or nearly the same input) among a run's training rows; "
        f"there the runs score {scores(twins)}."
    )
    if fair:
        text += f" On the other {len(fair)}, which no run saw anything like: {scores(fair)}."
    return [text]


def verdict(experiment: Experiment, comparison: Comparison) -> str:
    """What happened, in the runs' own figures, and whether the lesson's expectation held."""
    lines = [f"**{experiment.title}.** One change: {experiment.changes}.", f"*The lesson:* {experiment.expectation}"]
    measured = []
    for item in comparison.runs:
        before, after = item.metrics["before"], item.metrics["after"]
        seconds = item.metrics.get("seconds")
        params = item.metrics.get("trainable_params")
        loss = _last_train_loss(comparison, comparison.runs.index(item))
        measured.append(
            f"{item.letter} ({item.label}): {after['metric']} {before['value']:.3f} → {after['value']:.3f} on "
            f"{after.get('examples', '?')} held-out rows"
            + (f", final training loss {loss:.3f}" if loss is not None else "")
            + (f", {params:,} trainable parameters" if params else "")
            + (f", {seconds:.0f} s on this machine" if seconds else "")
        )
    lines.append("*Measured here:* " + "; ".join(measured) + ".")
    shared = _shared_scores(comparison)
    if shared is not None and comparison.runs[0].config.data.source != comparison.runs[1].config.data.source:
        lines.append(
            f"On the {len(comparison.answers)} held-out rows both runs answered: "
            + ", ".join(f"{x} {score:.3f}" for x, score in zip(comparison.letters, shared, strict=True))
            + "."
        )
        lines += _twin_lines(comparison)
    held = experiment.held(comparison)
    if held is True:
        lines.append("*Verdict:* these runs agree with the lesson.")
    elif held is False:
        lines.append(
            "*Verdict:* these runs do **not** show what the lesson expects. One short run per arm is noisy, and "
            "a 135M model on a small, regular dataset is far from the setting behind the rule of thumb; "
            "run the pair again with another seed (`training.seed`) to see whether it repeats."
        )
    else:
        lines.append("*Verdict:* these runs do not hold enough figures to tell.")
    return "\n\n".join(lines)
