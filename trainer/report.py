"""The run's report: ``report.md`` with the loss curves drawn as ``loss.svg`` beside it.

Hand-written SVG keeps the report free of a plotting dependency and opens in any browser or
Markdown viewer.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from trainer import atomic
from trainer.packaged import HUB_ID, PACKAGED_NAME
from trainer.progress import RunProgress, format_duration, read_events, summarise


def smooth(values: list[float], weight: float = 0.8) -> list[float]:
    """Exponential moving average, debiased like TensorBoard's smoothing slider."""
    smoothed, last = [], 0.0
    for n, value in enumerate(values, start=1):
        last = weight * last + (1 - weight) * value
        smoothed.append(last / (1 - weight**n))
    return smoothed


def loss_svg(progress: RunProgress, width: int = 640, height: int = 320) -> str:
    train, val = progress.loss, progress.validation
    if not train:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"></svg>'
    left, right, top, bottom = 56, 16, 16, 40
    steps = [s for s, _ in train + val]
    losses = [v for _, v in train + val]
    x_max, y_max = max(max(steps), 1), max(losses) * 1.05 or 1.0

    def xy(step: float, loss: float) -> str:
        x = left + (width - left - right) * step / x_max
        y = top + (height - top - bottom) * (1 - loss / y_max)
        return f"{x:.1f},{y:.1f}"

    raw = " ".join(xy(s, v) for s, v in train)
    ema = " ".join(xy(s, v) for (s, _), v in zip(train, smooth([v for _, v in train]), strict=True))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#444"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="#444"/>',
    ]
    for i in range(5):  # y ticks
        value = y_max * i / 4
        y = top + (height - top - bottom) * (1 - i / 4)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.2f}</text>')
    for i in range(5):  # x ticks
        step = x_max * i / 4
        x = left + (width - left - right) * i / 4
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">{step:.0f}</text>')
    parts += [
        f'<text x="{(width + left) / 2}" y="{height - 6}" text-anchor="middle">optimizer step</text>',
        f'<polyline points="{raw}" fill="none" stroke="#9ecae1" stroke-width="1"/>',
        f'<polyline points="{ema}" fill="none" stroke="#08519c" stroke-width="2"/>',
    ]
    for step, loss in val:
        x, y = xy(step, loss).split(",")
        parts.append(f'<circle cx="{x}" cy="{y}" r="4" fill="#e6550d"/>')
    legend = [("#9ecae1", "training loss"), ("#08519c", "smoothed"), ("#e6550d", "validation loss")]
    for i, (colour, label) in enumerate(legend):
        y = top + 8 + 16 * i
        parts.append(f'<rect x="{width - right - 130}" y="{y - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{width - right - 114}" y="{y + 1}">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def write_report(output_dir: Path) -> Path:
    metrics = json.loads((output_dir / "metrics.json").read_text(encoding="utf-8"))
    progress = summarise(read_events(output_dir / "progress.jsonl"))
    atomic.write_text(output_dir / "loss.svg", loss_svg(progress))
    config = (output_dir / "config.yaml").read_text(encoding="utf-8")
    before, after = metrics["before"], metrics["after"]
    rates = sorted(progress.speeds)
    lines = [
        f"# Fine-tuning report: {before['task']}",
        "",
        f"- Base model: {metrics['base_model']}",
        f"- Hardware: {metrics['hardware']}",
        f"- Time: {format_duration(metrics['seconds'])} in all; {metrics['steps']} optimizer steps",
        f"- Trainable parameters: {metrics['trainable_params']:,} of {metrics['total_params']:,} "
        f"({100 * metrics['trainable_params'] / metrics['total_params']:.2f}%)",
        f"- Median speed: {rates[len(rates) // 2] if rates else 0:.0f} tokens/s; "
        f"peak memory {progress.peak_memory_mb:.0f} MB",
        "",
        "## Held-out test set",
        "",
        f"{before['examples']} examples the model never trained on, scored before and after.",
        "",
        "| metric | before | after | change |",
        "|---|---|---|---|",
    ]
    for name, value in after["details"].items():
        old = before["details"].get(name, 0.0)
        lines.append(f"| {name} | {old:.3f} | {value:.3f} | {value - old:+.3f} |")
    lines += ["", "## Loss", "", "![training and validation loss](loss.svg)", ""]
    lines += ["## Sample outputs", "", "| input | reference | before | after |", "|---|---|---|---|"]
    for sample in metrics["samples"][:10]:
        cells = [sample[k] for k in ("input", "reference", "before", "after")]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "## Configuration", "", "```yaml", config.rstrip(), "```", ""]
    return atomic.write_text(output_dir / "report.md", "\n".join(lines))


def write_model_card(output_dir: Path) -> Path:
    """``adapter/README.md``: what the adapter is, how it was trained and scored, how to load it."""
    metrics = json.loads((output_dir / "metrics.json").read_text(encoding="utf-8"))
    before, after = metrics["before"], metrics["after"]
    config = (output_dir / "config.yaml").read_text(encoding="utf-8")
    rows = "\n".join(
        f"| {name} | {before['details'].get(name, 0.0):.3f} | {value:.3f} |"
        for name, value in after["details"].items()
    )
    card = f"""---
library_name: peft
base_model: {_hub_id(metrics["base_model"])}
tags: [lora, fine-tuning-tutor, {before["task"]}]
---

# LoRA adapter: {before["task"]}

Trained in Fine-Tuning Tutor's QLoRA lab on {metrics["hardware"]} in {format_duration(metrics["seconds"])}
({metrics["steps"]} optimizer steps; {metrics["trainable_params"]:,} trainable parameters).

## Held-out test set ({after["examples"]} examples never trained on)

| metric | base model | with this adapter |
|---|---|---|
{rows}

## Use

```python
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

base = AutoModelForCausalLM.from_pretrained("<the base model folder or Hub id>")
model = PeftModel.from_pretrained(base, "<this folder>")
tokenizer = AutoTokenizer.from_pretrained("<this folder>")
```

Prompts use the chat template with the lab's system and user messages (trainer/data.py); the
adapter learned to answer in that format.

## Training configuration

```yaml
{config.rstrip()}
```
"""
    return atomic.write_text(output_dir / "adapter" / "README.md", card)


def _hub_id(base_model: str) -> str:
    # The packaged GGUF is a conversion of this Hub model; model cards name the original.
    return HUB_ID if base_model == PACKAGED_NAME else base_model


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("|", "\\|")
