"""Read a training-loss log and say what the curve shows (Lesson 3, "Reading your training curves").

Accepted: CSV with a step column and loss / eval_loss columns; JSON lines (one dict per line, as
in a Trainer's ``log_history``); a ``trainer_state.json``; or the dicts a transformers Trainer
prints, e.g. ``{'loss': 1.234, 'learning_rate': 0.0002, 'epoch': 0.5}``.
"""

from __future__ import annotations

import ast
import json
import math
import re
import statistics
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from trainer.records import read_csv

Kind = Literal["overfitting", "divergence", "spike", "oscillation", "plateau", "underfitting", "healthy"]


class LogError(ValueError):
    """A log that cannot be read; the message says where."""


@dataclass
class Curve:
    train: list[tuple[float, float]]  # (step, loss)
    eval: list[tuple[float, float]]  # (step, eval loss)


class Diagnosis(BaseModel):
    kind: Kind
    source: Literal["log", "description"]
    evidence: list[str] = Field(description="Steps and values that show it.")
    likely_cause: str
    actions: list[str]
    unsure: str = Field("", description="When the reading is not certain: what would decide it.")


_TRAIN_KEYS = ("loss", "train_loss", "training_loss")
_EVAL_KEYS = ("eval_loss", "val_loss", "validation_loss", "valid_loss")
_STEP_KEYS = ("step", "global_step", "steps", "iteration", "iter")


def _add(record: dict, index: int, curve: Curve, where: str) -> None:
    # No step column: fall back to the epoch, then to the record's position.
    step = next((record[k] for k in _STEP_KEYS if k in record), record.get("epoch", index))
    try:
        step = float(step)
        for key in _TRAIN_KEYS:
            if key in record and record[key] not in ("", None):
                curve.train.append((step, float(record[key])))
                break
        for key in _EVAL_KEYS:
            if key in record and record[key] not in ("", None):
                curve.eval.append((step, float(record[key])))
                break
    except (TypeError, ValueError):
        raise LogError(f"{where}: loss and step must be numbers") from None


def parse_log(text: str, filename: str = "log") -> Curve:
    curve = Curve([], [])
    stripped = text.strip()
    if not stripped:
        raise LogError(f"{filename}: the log is empty")
    if stripped.startswith("{") and '"log_history"' in stripped[:100_000]:
        try:
            history = json.loads(stripped)["log_history"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise LogError(f"{filename}: not a readable trainer_state.json ({exc})") from None
        for index, record in enumerate(history):
            _add(record, index, curve, f"{filename}: log_history[{index}]")
    elif "," in stripped.splitlines()[0] and not stripped.startswith("{"):
        table = read_csv(stripped)
        columns = table.columns or []
        if not set(columns) & set(_TRAIN_KEYS + _EVAL_KEYS):
            raise LogError(
                f"{filename}:1: the CSV header needs a loss or eval_loss column (found: {', '.join(columns)})"
            )
        if table.first_problem:
            raise LogError(f"{filename}:{table.first_problem.line}: {table.first_problem.detail}")
        for index, row in enumerate(table.records):
            _add(row.value, index, curve, f"{filename}:{row.line}")
    else:
        for number, line in enumerate(stripped.splitlines(), start=1):
            # From the first "{" to the last "}" (what the Trainer prints), found without a regex: "\{.*\}"
            # costs quadratic time on a long line of "{".
            start, end = line.find("{"), line.rfind("}")
            if start < 0 or end < start:
                continue
            braced = line[start : end + 1]
            try:
                record = json.loads(braced)
            except json.JSONDecodeError:
                try:
                    # The Trainer prints Python dicts, where a diverged loss shows as nan or inf.
                    literal = re.sub(r"(?<=: )(-?(?:nan|inf))\b", r"'\1'", braced)
                    record = ast.literal_eval(literal)
                except (ValueError, SyntaxError):
                    raise LogError(f"{filename}:{number}: cannot read this line as a log record") from None
            if isinstance(record, dict):
                _add(record, number, curve, f"{filename}:{number}")
    if len(curve.train) + len(curve.eval) < 3:
        raise LogError(f"{filename}: found {len(curve.train) + len(curve.eval)} loss values; need at least 3")
    return curve


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _not_finite(curve: Curve) -> Diagnosis | None:
    bad = [(s, v) for s, v in curve.train + curve.eval if not math.isfinite(v)]
    if not bad:
        return None
    return Diagnosis(
        kind="divergence",
        source="log",
        evidence=[f"loss is {bad[0][1]} at step {bad[0][0]:g}"],
        likely_cause="the learning rate is too high or a batch is corrupt (NaN/inf)",
        actions=[
            "Halve the learning rate (LoRA: 1e-4 to 2e-4) and keep warmup.",
            "Check the batch at that step for empty or broken examples.",
            "Use bf16 rather than fp16 on GPUs that support it.",
        ],
    )


@dataclass
class Shape:
    """The train curve read the way Lesson 3 reads it by eye: its level over time (a wide rolling
    mean, which oscillation averages out of), its trend (a rolling median smoothed, which a spike of
    a point or two does not move), and how far the points scatter around the trend."""

    values: list[float]
    level: list[float]
    trend: list[float]
    spread: float  # median |loss / trend - 1|: 0.02 is ordinary noise, 0.3 a curve swinging by 30%
    high: list[int]  # points far above the trend (spikes)
    swing_to_drop: float  # the typical distance from the trend, as a share of the whole drop (inf: no drop)

    @classmethod
    def of(cls, values: list[float]) -> Shape:
        n = len(values)
        narrow, wide = max(5, (n // 8) | 1), max(5, (n // 4) | 1)
        trend = _rolling(_rolling(values, narrow, statistics.median), narrow, statistics.mean)
        residuals = [v / t - 1 if t > 0 else 0.0 for v, t in zip(values, trend, strict=True)]
        spread = statistics.median(abs(r) for r in residuals)
        # The first points fall steeply by nature (and their windows are one-sided): never a spike.
        level = _rolling(values, wide, statistics.mean)
        # A jump must also show on the chart: a tenth of the whole drop at least. At the low end of a
        # real run (loss 0.08 after starting at 4) a small batch moves the loss by 2x, and that is noise.
        drop = level[0] - min(level)
        high = [
            i
            for i, r in enumerate(residuals)
            if r > max(0.5, 6 * spread) and i >= max(2, n // 10) and values[i] - trend[i] >= VISIBLE * drop
        ]
        swing = statistics.median(abs(v - t) for v, t in zip(values, trend, strict=True))
        return cls(values, level, trend, spread, high, swing / drop if drop > 0 else math.inf)

    @property
    def low(self) -> int:
        return min(range(len(self.level)), key=self.level.__getitem__)

    def climbs(self) -> bool:
        """The level rises for good after its low: half again above it at the end, still rising."""
        low, n = self.low, len(self.level)
        middle = (low + n - 1) // 2
        ends_high = self.level[-1] > 1.5 * self.level[low]
        return low < n - 3 and ends_high and self.level[-1] > self.level[middle] > self.level[low]

    def still_falling(self) -> float:
        """The share of the whole drop that the last third of the log still makes (a line fitted
        to it): about 0.03 for a curve that has levelled off, 0.2 or more for one cut short."""
        values = self.values
        third = values[-max(4, len(values) // 3) :]
        xs = range(len(third))
        mx, my = statistics.mean(xs), statistics.mean(third)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, third, strict=True)) / sum((x - mx) ** 2 for x in xs)
        drop = self.level[0] - min(self.level)
        return -slope * (len(third) - 1) / drop if drop > 0 else 0.0


def _rolling(values: list[float], window: int, fn) -> list[float]:
    half = window // 2
    return [fn(values[max(0, i - half) : i + half + 1]) for i in range(len(values))]


OSCILLATING = 0.12  # the spread above which the curve swings rather than jitters (tuned on the dev split)
STILL_FALLING = 0.12  # the share of the drop in the last third above which training stopped early
PLATEAU = 0.88  # the level at the end above this share of the start: barely moved
VISIBLE = 0.1  # a spike rises above the trend by at least this share of the whole drop
SWING_TO_DROP = 0.1  # an oscillation's typical swing is at least this share of the whole drop


def _oscillation(curve: Curve, shape: Shape) -> Diagnosis | None:
    # Swinging, not falling: a curve that drops 4.3 -> 0.3 in a dozen steps scatters a lot around a
    # rolling trend, but its swings are small beside the drop (a real run's log).
    if shape.spread <= OSCILLATING or shape.climbs() or shape.swing_to_drop < SWING_TO_DROP:
        return None
    return Diagnosis(
        kind="oscillation",
        source="log",
        evidence=[
            f"the loss swings {shape.spread:.0%} around its trend from one log to the next "
            f"(between {_fmt(min(shape.values))} and {_fmt(max(shape.values))}), and the trend itself "
            f"goes from {_fmt(shape.level[0])} to {_fmt(shape.level[-1])}"
        ],
        likely_cause="the batch is too small or the learning rate too high",
        actions=["Raise gradient accumulation (effective batch 16–32).", "Halve the learning rate."],
    )


def _divergence(curve: Curve, shape: Shape) -> Diagnosis | None:
    if not shape.climbs():
        return None
    low = shape.low
    # A run that climbs from its first step never fell: say where it started, not a rolling level.
    start = (
        f"train loss started at {_fmt(shape.values[0])} at step {curve.train[0][0]:g}"
        if low == 0
        else f"train loss fell to about {_fmt(shape.level[low])} by step {curve.train[low][0]:g}"
    )
    return Diagnosis(
        kind="divergence",
        source="log",
        evidence=[f"{start}, then climbed for good, to {_fmt(shape.values[-1])} at step {curve.train[-1][0]:g}"],
        likely_cause="the learning rate is too high for LoRA (copying pre-training rates is the classic trap)",
        actions=[
            "Lower the learning rate to 1e-4–2e-4 with warmup (3% of steps).",
            "Restart from the last checkpoint before the rise.",
        ],
    )


def _eval_loss_rose(curve: Curve, shape: Shape) -> Diagnosis | None:
    evals = curve.eval
    if len(evals) < 3:
        return None
    # With six evals or more, read on a rolling mean of three, so that one noisy eval is neither
    # the low nor a turn; fewer are read as they are.
    eval_values = [v for _, v in evals]
    if len(eval_values) >= 6:
        eval_values = _rolling(eval_values, 3, statistics.mean)
    best = min(range(len(eval_values)), key=eval_values.__getitem__)
    train_after = [v for s, v in curve.train if s > evals[best][0]]
    train_still_falling = len(train_after) >= 2 and statistics.mean(train_after[-3:]) < statistics.mean(
        train_after[:3]
    )
    rose = best < len(evals) - 1 and eval_values[-1] > eval_values[best] * 1.05
    if not (rose and (train_still_falling or not train_after)):
        return None
    return Diagnosis(
        kind="overfitting",
        source="log",
        evidence=[
            f"eval loss was lowest (about {_fmt(eval_values[best])}) at step {evals[best][0]:g} and rose to "
            f"{_fmt(eval_values[-1])} by step {evals[-1][0]:g}"
        ]
        + ([f"train loss kept falling to {_fmt(train_after[-1])}"] if train_after else []),
        likely_cause="the model is memorising the training set (too many epochs for the data)",
        actions=[
            "Keep the checkpoint from the lowest eval loss (load_best_model_at_end).",
            "Stop earlier: 1–3 epochs; use early stopping on eval loss.",
            "Add more diverse data rather than more epochs; a smaller rank or more dropout also help.",
        ],
    )


def _spike(curve: Curve, shape: Shape) -> Diagnosis | None:
    n = len(shape.values)
    if not shape.high or len(shape.high) > max(3, n // 10) or max(shape.high) >= n - 2:
        return None  # none, too many to be a burst, or at the very end (not recovered yet)
    first = shape.high[0]
    return Diagnosis(
        kind="spike",
        source="log",
        evidence=[
            f"train loss jumped to {_fmt(shape.values[first])} at step {curve.train[first][0]:g} "
            f"({shape.values[first] / shape.trend[first]:.1f}× the curve around it) and came back to "
            f"the trend; it ends at {_fmt(shape.values[-1])}"
        ],
        likely_cause="one bad batch (an unusual or broken example) or a brief step too large; training recovered",
        actions=[
            "No restart needed: the curve recovered. Look at the examples of the batch at that step.",
            "If spikes repeat, lower the learning rate a little or clip gradients (max_grad_norm 1.0).",
        ],
    )


def _plateau(curve: Curve, shape: Shape) -> Diagnosis | None:
    if shape.level[-1] <= PLATEAU * shape.level[0]:
        return None
    return Diagnosis(
        kind="plateau",
        source="log",
        evidence=[
            f"train loss went from about {_fmt(shape.level[0])} to only {_fmt(shape.level[-1])} over "
            f"{len(shape.values)} logged steps"
        ],
        likely_cause="the learning rate is too low, the adapter too small, or the labels are not learnable "
        "(e.g. loss computed on the prompt, or inconsistent data)",
        actions=[
            "Check the learning rate (LoRA 1e-4 to 2e-4) and that warmup ends.",
            "Check the data: consistent outputs, loss on the answer tokens only.",
            "Try a larger rank (16) or more target modules.",
        ],
    )


def _still_falling(curve: Curve, shape: Shape) -> Diagnosis | None:
    share = shape.still_falling()
    if share <= STILL_FALLING:
        return None
    return Diagnosis(
        kind="underfitting",
        source="log",
        evidence=[
            f"train loss is still falling at the end: the last third of the log makes {share:.0%} of the whole "
            f"drop ({_fmt(shape.level[0])} → {_fmt(shape.values[-1])})"
        ],
        likely_cause="training stopped before the model converged",
        actions=[
            "Train longer (another epoch) while eval loss keeps falling.",
            "Or raise the learning rate within 1e-4–2e-4.",
        ],
    )


def _healthy(curve: Curve) -> Diagnosis:
    values, evals = [v for _, v in curve.train], curve.eval
    evidence = [f"train loss {_fmt(values[0])} → {_fmt(values[-1])}"] if values else []
    if evals:
        evidence.append(f"eval loss {_fmt(evals[0][1])} → {_fmt(evals[-1][1])}, lowest at the end or within 5%")
    return Diagnosis(
        kind="healthy",
        source="log",
        evidence=evidence,
        likely_cause="the curves fall and level off together",
        actions=[
            "Keep the best checkpoint and move on to task evaluation: loss says training works, "
            "not that outputs are right."
        ],
    )


# The shapes of Lesson 3's "Reading your training curves", checked in this order; the first that
# fits wins. Oscillation comes first: its swings would otherwise read as a rise or an eval turn.
SHAPE_CHECKS = (_oscillation, _divergence, _eval_loss_rose, _spike, _plateau, _still_falling)
FEW_POINTS = 6  # below this many train losses, only NaN and the eval turn are read


def diagnose_curve(curve: Curve) -> Diagnosis:
    if (diagnosis := _not_finite(curve)) is not None:
        return diagnosis
    values = [v for _, v in curve.train]
    if len(values) < FEW_POINTS:
        diagnosis = _eval_loss_rose(curve, Shape.of(values)) if values else None
        diagnosis = diagnosis or _healthy(curve)
        diagnosis.unsure = (
            f"only {len(values)} train losses were logged, too few to read the curve's shape; log every few "
            "steps (logging_steps) and send the log again"
        )
        return diagnosis
    shape = Shape.of(values)
    for check in SHAPE_CHECKS:
        if (diagnosis := check(curve, shape)) is not None:
            break
    else:
        diagnosis = _healthy(curve)
    diagnosis.unsure = _unsure(diagnosis.kind, curve, shape)
    return diagnosis


def _unsure(kind: str, curve: Curve, shape: Shape) -> str:
    """What would decide a reading that sits near a line, or that the log cannot show."""
    if kind != "oscillation" and 0.75 * OSCILLATING < shape.spread <= OSCILLATING:
        return (
            f"the swings ({shape.spread:.0%}) are close to where noise becomes oscillation; a log with a "
            "larger effective batch, or a smoothed curve, would tell them apart"
        )
    if kind in ("healthy", "underfitting") and abs(shape.still_falling() - STILL_FALLING) < 0.04:
        return "the curve is close to levelling off; a few hundred more steps would show whether it has"
    if kind in ("healthy", "underfitting", "plateau", "spike") and len(curve.eval) < 3:
        return "without eval loss, overfitting cannot show; log eval_loss (eval_steps) to check it"
    return ""


SYMPTOMS: list[tuple[Kind, str, str, list[str]]] = [
    (
        "divergence",
        r"\b(nan|diverg\w*|explod\w*|blew up)\b",
        "the learning rate is too high for LoRA, or a batch is corrupt",
        ["Lower the learning rate to 1e-4–2e-4 and use warmup.", "Inspect the batch where the loss first rises."],
    ),
    (
        # A spike in words is the course's spike (Lesson 3), not a divergence: a log shows which.
        "spike",
        r"\b(spik\w*)\b",
        "the learning rate is too high or a batch is corrupt",
        [
            "Look at the examples of the batch at that step.",
            "If spikes repeat, lower the learning rate a little or clip gradients (max_grad_norm 1.0).",
            "Upload the loss log: it shows whether the loss came back down (a spike) or kept rising.",
        ],
    ),
    (
        "overfitting",
        r"\b(overfit\w*|eval(?:uation)? loss (?:goes|went|is going|keeps going|started going|rises|"
        r"rising|increas\w*|climb\w*)|val(?:idation)? loss (?:goes|went|rises|rising|increas\w*|climb\w*))",
        "the model memorises the training set",
        ["Stop at the lowest eval loss (keep that checkpoint).", "Fewer epochs (1–3); more diverse data."],
    ),
    (
        "oscillation",
        r"\b(oscillat\w*|swing\w*|jump\w* around|noisy loss|unstable)\b",
        "the batch is too small or the learning rate too high",
        ["Raise gradient accumulation.", "Halve the learning rate."],
    ),
    (
        "plateau",
        r"\b(plateau\w*|flat|stuck|not (?:going down|decreasing)|doesn'?t (?:go down|decrease))\b",
        "the learning rate is too low or the data is not learnable as formatted",
        ["Check the learning rate and warmup.", "Check that loss is computed on the answers only."],
    ),
    (
        "underfitting",
        r"\b(underfit\w*|still (?:decreasing|falling|going down)|slow(?:ly)? converg\w*)\b",
        "training stopped too early",
        ["Train longer while eval loss keeps falling."],
    ),
]


def diagnose_text(text: str) -> Diagnosis | None:
    """A diagnosis from a description of the symptoms, when there is no log."""
    format_symptom = re.search(
        r"\b(inconsistent\w*|format\w*|schema|malformed|invalid json|broken json|"
        r"different (?:keys|fields|formats?))\b",
        text,
        re.IGNORECASE,
    )
    loss_fine = re.search(
        r"\b(?:loss|curves?)\b[^.]{0,40}\b(good|fine|low|great|ok|okay|normal|healthy|decreas\w*|"
        r"going down|converg\w*)\b",
        text,
        re.IGNORECASE,
    )
    for kind, pattern, cause, actions in SYMPTOMS:
        if re.search(pattern, text, re.IGNORECASE):
            return Diagnosis(
                kind=kind,
                source="description",
                evidence=[f"you described: “{_quote(text, pattern)}”"],
                likely_cause=cause,
                actions=actions,
            )
    if format_symptom and (loss_fine or re.search(r"\beval\w*\b|\boutputs?\b", text, re.IGNORECASE)):
        evidence = [f"you described: “{_quote(text, format_symptom.re.pattern)}”"]
        if loss_fine:
            evidence.insert(0, "the loss looks fine, so optimisation is not the problem")
        return Diagnosis(
            kind="healthy",
            source="description",
            evidence=evidence,
            likely_cause="data/format consistency: the training outputs do not follow one format, so the model "
            "learned several — a fine loss cannot show this",
            actions=[
                "Run the training set through the dataset critic (Lab 2) and fix inconsistent_format lines: "
                "one JSON schema, the same keys and conventions in every example.",
                "Use the same system prompt and chat template in training and at inference.",
                "Measure schema validity rate and exact match on a held-out set, not just loss (Lab 4).",
                "Then retrain; a few hundred consistent examples beat thousands of mixed ones.",
            ],
        )
    return None


def _quote(text: str, pattern: str) -> str:
    """The sentence of the text that matches the pattern, trimmed."""
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if re.search(pattern, sentence, re.IGNORECASE):
            return sentence.strip()[:200]
    return text.strip()[:200]
