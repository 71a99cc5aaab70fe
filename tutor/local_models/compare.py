"""Compare models side by side: the same prompts through 2–4 models, measured on this machine in
one run, with each model's answers, speed, memory, size, quality, refusals and cost per 1M tokens.

Each model runs in a worker process of its own (tutor.local_models.measure), one after another,
so their speeds and peak memory do not mix.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

from tutor.local_models.catalog import ModelEntry
from tutor.local_models.measure import Measurement, measure
from tutor.local_models.prompt_sets import PromptSet

MAX_MODELS = 4
REFUSAL = re.compile(
    r"\b(I can(?:'|’|no)t|I'm (?:sorry|unable)|I am (?:sorry|unable|not able)|as an AI\b|I (?:won't|will not)\b|"
    r"cannot (?:help|assist|provide|answer))",
    re.IGNORECASE,
)
QUALITY_METRIC = {"sentiment": "accuracy", "summarization": "ROUGE-L", "course": "fact match", "typed": ""}


class CompareError(ValueError):
    """A comparison that cannot start; one line for the user."""


@dataclass(frozen=True)
class Power:
    """What a local model's electricity costs: the machine's draw while generating (stated by the
    learner or the settings, not measured) and the price of a kWh."""

    watts: float
    price_per_kwh: float
    currency: str = "$"

    def cost_per_million(self, tokens_per_s: float) -> float | None:
        if tokens_per_s <= 0:
            return None
        hours = 1e6 / tokens_per_s / 3600
        return self.watts * hours / 1000 * self.price_per_kwh


@dataclass
class ModelResult:
    id: str
    name: str
    engine: str
    format: str
    quantization: str
    size_mb: float
    load_s: float
    ttft_s: float | None  # median over the prompts
    tokens_per_s: float | None  # decoding: the speed probe's median (answers' median for a server)
    peak_memory_mb: float | None
    quality: float | None  # 0..1 by the set's metric; None without references
    refusals: int
    cost_per_million: float | None
    cost_basis: str
    answers: list[str]
    correct: list[bool | None]  # per prompt, where the set can say
    error: str = ""
    family: str = ""  # "SmolLM2", "Gemma 3", a server's model: speed is compared within a family


@dataclass
class Comparison:
    prompt_set: str
    metric: str
    prompts: list[str]
    references: list[str]
    models: list[ModelResult]
    machine: str
    power: str
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    load: str = ""  # the machine's load average before and after: other work skews speed figures

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Comparison:
        data = json.loads(text)
        data["models"] = [ModelResult(**row) for row in data["models"]]
        return cls(**data)

    def speed_direction(self) -> list[str]:
        """For GGUF files of one model family, whether the smaller file decoded faster, pair by pair
        in order of size: what llama.cpp's memory-bound decoding leads one to expect on a CPU."""
        lines = []
        families = dict.fromkeys(m.family for m in self.models)
        for family in families:
            ggufs = sorted(
                (
                    m
                    for m in self.models
                    if m.family == family and m.format == "GGUF" and m.tokens_per_s and not m.error
                ),
                key=lambda m: m.size_mb,
            )
            for small, big in itertools.pairwise(ggufs):
                faster = small.tokens_per_s > big.tokens_per_s  # type: ignore[operator]
                line = (
                    f"{small.quantization or small.name} ({small.size_mb:.0f} MB) decoded "
                    f"{'faster' if faster else 'slower'} than {big.quantization or big.name} ({big.size_mb:.0f} MB): "
                    f"{small.tokens_per_s:.0f} vs {big.tokens_per_s:.0f} tokens/s"
                )
                if not faster:
                    line += " (unpacking this type costs more arithmetic per weight here than reading the bigger one)"
                lines.append(line)
        return lines


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import psutil

        memory = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:  # pragma: no cover - psutil comes with the app's dependencies
        memory = ""
    try:
        import llama_cpp

        engine = f", llama-cpp-python {llama_cpp.__version__}"
    except ImportError:
        engine = ""
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} CPUs{memory}; {system}{engine}"


def score_answer(prompts: PromptSet, index: int, answer: str) -> bool | None:
    prompt = prompts.prompts[index]
    if prompts.kind == "sentiment" and prompt.label:
        from trainer.evaluate import parse_label

        return parse_label(answer) == prompt.label
    if prompts.kind == "course" and prompt.facts:
        from tutor.advisors.answer_eval import has_fact

        return has_fact(answer, prompt.facts)
    return None


def quality(prompts: PromptSet, answers: list[str], correct: list[bool | None]) -> float | None:
    if prompts.kind == "summarization":
        pairs = [(a, p.reference) for a, p in zip(answers, prompts.prompts, strict=False) if p.reference]
        if not pairs:
            return None
        from trainer.evaluate import score

        return score("summarization", [a for a, _ in pairs], [r for _, r in pairs]).value
    scored = [c for c in correct if c is not None]
    return sum(scored) / len(scored) if scored else None


def result_of(entry: ModelEntry, measured: Measurement, prompts: PromptSet, power: Power) -> ModelResult:
    answers = [a.text for a in measured.answers]
    correct = [score_answer(prompts, i, text) for i, text in enumerate(answers)]
    answer_speeds = [a.tokens_per_s for a in measured.answers if a.tokens_per_s > 0]
    speed = median(measured.probe_tokens_per_s) if measured.probe_tokens_per_s else None
    if speed is None and answer_speeds:
        speed = median(answer_speeds)
    if entry.engine == "openai":
        cost = entry.price_per_million
        basis = "the price configured for this server" if cost is not None else "no price configured"
    else:
        cost = power.cost_per_million(speed or 0.0)
        basis = f"electricity at {power.watts:g} W and {power.currency}{power.price_per_kwh:g}/kWh"
    return ModelResult(
        id=entry.id,
        name=measured.name or entry.name,
        engine=entry.engine,
        format=entry.format,
        quantization=entry.quantization,
        size_mb=round(entry.size_bytes / 1e6, 1),
        load_s=round(measured.load_seconds, 2),
        ttft_s=round(median(a.ttft for a in measured.answers), 3) if measured.answers else None,
        tokens_per_s=round(speed, 1) if speed else None,
        peak_memory_mb=round(measured.peak_rss_mb) if measured.peak_rss_mb else None,
        # Scored only when every prompt was answered: k of N answers is not the model's score.
        quality=quality(prompts, answers, correct) if answers and len(answers) == len(prompts.prompts) else None,
        refusals=sum(bool(REFUSAL.search(text)) for text in answers),
        cost_per_million=round(cost, 4) if cost is not None else None,
        cost_basis=basis,
        answers=answers,
        correct=correct,
        error=measured.error,
        family=entry.family,
    )


def run_comparison(
    entries: list[ModelEntry],
    prompts: PromptSet,
    *,
    models_dir: Path,
    power: Power,
    threads: int = 0,
    on_progress: Callable[[str], None] | None = None,
) -> Comparison:
    if not 1 <= len(entries) <= MAX_MODELS:
        raise CompareError(f"pick 1 to {MAX_MODELS} models to compare ({len(entries)} picked)")
    if len({e.id for e in entries}) != len(entries):
        raise CompareError("a model is picked twice")
    load_before = _load_average()
    results = []
    for number, entry in enumerate(entries, 1):
        if on_progress:
            on_progress(f"model {number} of {len(entries)}: {entry.name} — loading")

        def answered(index: int, _answer, entry=entry, number=number) -> None:
            if on_progress:
                on_progress(
                    f"model {number} of {len(entries)}: {entry.name} — prompt {index + 1} of {len(prompts.prompts)}"
                )

        measured = measure(
            entry,
            [p.messages for p in prompts.prompts],
            models_dir=models_dir,
            max_tokens=prompts.max_tokens,
            threads=threads,
            on_answer=answered,
        )
        results.append(result_of(entry, measured, prompts, power))
    load = f"{load_before} before, {_load_average()} after (1-minute load average, {os.cpu_count()} CPUs)"
    references = [p.label or p.reference or " / ".join(p.facts) for p in prompts.prompts]
    power_line = f"{power.watts:g} W at {power.currency}{power.price_per_kwh:g}/kWh (stated, not measured)"
    return Comparison(
        prompts.name,
        QUALITY_METRIC[prompts.kind],
        [p.text for p in prompts.prompts],
        references,
        results,
        machine_description(),
        power_line,
        load=load,
    )


def _load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:  # not on this system
        return "?"


def _cell(value: float | None, spec: str, missing: str = "—") -> str:
    return missing if value is None else format(value, spec)


def table_rows(comparison: Comparison) -> list[list[str]]:
    """One row per model: the figures the tab's table and the report show."""
    rows = []
    for m in comparison.models:
        quality_cell = _cell(m.quality, ".2f", "no reference") if comparison.metric else "no reference"
        cost = _cell(m.cost_per_million, ".4f")
        rows.append(
            [
                m.name + (f" (failed: {m.error})" if m.error else ""),
                m.format + (f" {m.quantization}" if m.quantization else ""),
                "remote" if m.engine == "openai" else _cell(m.size_mb, ".1f"),
                _cell(m.ttft_s, ".3f"),
                _cell(m.tokens_per_s, ".1f"),
                _cell(m.peak_memory_mb, ".0f", "remote"),
                quality_cell,
                str(m.refusals),
                cost,
            ]
        )
    return rows


def table_headers(comparison: Comparison) -> list[str]:
    metric = comparison.metric or "quality"
    return ["model", "format", "size MB", "first token s", "tokens/s", "peak memory MB", metric, "refusals",
            "cost per 1M tokens"]  # fmt: skip


def report_markdown(comparison: Comparison, reflection: str = "") -> str:
    headers = table_headers(comparison)
    lines = [
        f"# Local models compared: {comparison.prompt_set}",
        "",
        f"Measured {comparison.created} on {comparison.machine}."
        + (f" Machine load: {comparison.load}." if comparison.load else ""),
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(row) + " |" for row in table_rows(comparison)),
        "",
        "- First token: median over the prompts, prompt reading included.",
        "- Tokens/s: decoding speed, the median of 3 runs of 64 tokens after a short prompt (as llama-bench's "
        "tg test); for a server, the median over its answers.",
        "- Peak memory: the peak resident memory of the process that ran the model (about 150 MB of it is "
        "Python and the runtime).",
        f"- Cost per 1M tokens: a server's configured price; for local models, {comparison.power}.",
    ]
    direction = comparison.speed_direction()
    if direction:
        lines += ["", "Size against speed (GGUF files):", *(f"- {line}" for line in direction)]
    lines += ["", "## Answers", ""]
    for index, prompt in enumerate(comparison.prompts):
        reference = comparison.references[index] if index < len(comparison.references) else ""
        lines.append(f"### {index + 1}. {_one_line(prompt, 200)}")
        if reference.strip():
            lines.append(f"Expected: {_one_line(reference, 200)}")
        lines.append("")
        for m in comparison.models:
            if index < len(m.answers):
                mark = {True: " ✓", False: " ✗"}.get(m.correct[index], "") if index < len(m.correct) else ""
                lines.append(f"- **{m.name}**{mark}: {_one_line(m.answers[index], 400)}")
        lines.append("")
    if reflection.strip():
        lines += ["## Which model I would use, and why", "", reflection.strip(), ""]
    return "\n".join(lines)


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
