"""Lab 3: a LoRA/QLoRA training config with a reason for every value, a GPU memory estimate,
and a diagnosis of training problems (a pasted or uploaded loss log, or described symptoms).
Values come from Lesson 3's tables; the memory arithmetic is spelled out below."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from trainer.config import TrainConfig
from tutor.advisors import facts
from tutor.advisors.base import AdvisorInputError, AdvisorRequest, LabInfo, Recommendation, table
from tutor.advisors.grounding import Claims, NumericClaim
from tutor.advisors.loss_log import Diagnosis, LogError, diagnose_curve, diagnose_text, parse_log

LAB = LabInfo(
    id="hyperparams",
    number=3,
    title="LoRA Hyperparameter Advisor",
    lesson_id="hyperparameters-lora",
    intro="Describe your model, data and GPU. Get a LoRA config with the reasoning for every value and a memory "
    "estimate, then diagnose training problems from a loss log or a description.",
    tasks=(
        "Tell the advisor your base model (e.g. 7B, 13B, 70B), dataset size and GPU.",
        "Ask for a complete LoRA config with a reason for each value.",
        "Describe a training problem (loss spike, overfitting, slow convergence) or upload the loss log.",
        "Ask which evaluation beyond loss catches behavioural regressions.",
    ),
    try_prompt="I'm fine-tuning Mistral 7B on 3,000 examples for JSON extraction. I have one A100 40GB. My training "
    "loss looks good but my eval outputs are inconsistently formatted. What's wrong?",
    opening="I'm your LoRA configuration and training-diagnostics advisor. Tell me your base model, how much data "
    "you have, your GPU and the task. I'll recommend a full training config, explain each value, estimate the "
    "memory, and help you read loss curves when training misbehaves.",
    accepts_files=True,
    file_help="A loss log: CSV (step, loss, eval_loss), JSON lines, trainer_state.json or Trainer console output.",
)

GB = 1e9
# (parameters in billions, hidden size, layers, vocabulary) of typical decoder-only models.
ARCHITECTURES = [
    (0.135, 576, 30, 49_152),
    (0.5, 896, 24, 151_936),
    (1.1, 2048, 22, 32_000),
    (3.0, 3072, 28, 128_256),
    (7.0, 4096, 32, 32_000),
    (8.0, 4096, 32, 128_256),
    (13.0, 5120, 40, 32_000),
    (34.0, 8192, 48, 32_000),
    (70.0, 8192, 80, 128_256),
]
ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]
MLP = ["gate_proj", "up_proj", "down_proj"]


class LoraTrainingConfig(BaseModel):
    """The advised run, in the field names of the lab's trainer (trainer/config.py), so that the
    QLoRA lab can load it; ``effective_batch_size`` is the one derived value."""

    r: int
    alpha: int
    dropout: float
    target_modules: list[str]
    learning_rate: float
    scheduler: Literal["cosine", "linear", "constant"]
    warmup_ratio: float
    epochs: int
    batch_size: int
    gradient_accumulation: int
    effective_batch_size: int
    max_length: int
    quantization: Literal["none", "4bit"]  # 4bit: NF4 with double quantization (QLoRA)
    gradient_checkpointing: bool

    def for_lab(self, lab_config: TrainConfig) -> TrainConfig:
        """The lab's run with this advice's LoRA and optimiser settings. Steps, batch, sequence
        length and precision stay the lab's: the advice sized them for the learner's model and
        GPU, the lab trains its small packaged model on this machine."""
        config = lab_config.model_copy(deep=True)
        config.lora.r, config.lora.alpha, config.lora.dropout = self.r, self.alpha, self.dropout
        config.lora.target_modules = list(self.target_modules)
        training = config.training
        training.learning_rate, training.scheduler, training.warmup_ratio = (
            self.learning_rate,
            self.scheduler,
            self.warmup_ratio,
        )
        return config


class MemoryEstimate(BaseModel):
    precision: str
    weights_gb: float = Field(description="Base model weights at the chosen precision.")
    lora_parameters: int
    lora_states_gb: float = Field(description="LoRA weights, gradients and AdamW states (16 bytes per parameter).")
    activations_gb: float = Field(description="Saved activations and logits for one micro-batch.")
    overhead_gb: float = Field(description="CUDA context, allocator fragmentation.")
    total_gb: float
    gpu_gb: float
    fits: bool


class HyperparamsRecommendation(Recommendation):
    lab: str = "hyperparams"
    model: str
    parameters_billion: float
    examples: int
    task: str
    gpu: str
    config: LoraTrainingConfig
    reasons: dict[str, str] = Field(description="Why each config value, by field name.")
    memory: MemoryEstimate
    memory_16bit_gb: float = Field(description="The same run without quantization, for comparison.")
    diagnosis: Diagnosis | None = None

    def claims(self) -> Claims:
        c = self.config
        fixed = [
            (r"\brank\b|\br\s?=", c.r, "rank"),
            (r"\balpha\b", c.alpha, "alpha"),
            (r"\blearning[ _]rate\b|\blr\b", c.learning_rate, "learning rate"),
            (r"\bepochs?\b", c.epochs, "number of epochs"),
        ]
        return Claims(
            numbers=tuple(NumericClaim(re.compile(t), frozenset({float(v)}), label) for t, v, label in fixed)
        )

    def facts_for_prompt(self) -> list[str]:
        c = self.config
        lines = [
            f"Config: r={c.r}, alpha={c.alpha}, learning_rate={c.learning_rate:g}, "
            f"epochs={c.epochs}, effective batch {c.effective_batch_size}, "
            f"{'4-bit NF4 (QLoRA)' if c.quantization == '4bit' else '16-bit (no quantization)'}",
            # A follow-up quotes this line alone, away from the notes: an assumed GPU must say so there.
            f"Memory: about {self.memory.total_gb:.0f} GB of {self.memory.gpu_gb:.0f} GB"
            f"{' (an assumed GPU: name yours)' if '(assumed)' in self.gpu else ''} "
            f"({'fits' if self.memory.fits else 'does not fit'})",
        ]
        if self.diagnosis:
            lines.append(f"Diagnosis: {self.diagnosis.kind}; likely cause: {self.diagnosis.likely_cause}")
            lines += [f"Action: {a}" for a in self.diagnosis.actions[:2]]
        return lines

    def markdown(self) -> str:
        parts = []
        if self.diagnosis:
            d = self.diagnosis
            parts.append(
                f"**Diagnosis: {d.kind}** ({'from your log' if d.source == 'log' else 'from your description'})"
                f"\n\n- Likely cause: {d.likely_cause}\n"
                + "\n".join(f"- Evidence: {e}" for e in d.evidence)
                + "\n"
                + "\n".join(f"- Do: {a}" for a in d.actions)
                + (f"\n- Not certain: {d.unsure}." if d.unsure else "")
            )
        c = self.config.model_dump()
        rows = [(f"`{name}`", f"{_show(value)} — {self.reasons.get(name, '')}") for name, value in c.items()]
        parts.append(
            f"**Config for {self.model} ({self.parameters_billion:g}B) on {self.examples:,} examples, "
            f"{self.gpu}**\n\n" + table(rows, ("setting", "value — why"))
        )
        m = self.memory
        parts.append(
            table(
                [
                    ("Weights", f"{m.weights_gb:.1f} GB ({m.precision})"),
                    (
                        "LoRA + gradients + AdamW",
                        f"{m.lora_states_gb:.2f} GB ({m.lora_parameters / 1e6:.1f}M parameters)",
                    ),
                    ("Activations + logits", f"{m.activations_gb:.1f} GB"),
                    ("Overhead", f"{m.overhead_gb:.1f} GB"),
                    (
                        "**Total**",
                        f"**{m.total_gb:.1f} GB of {m.gpu_gb:g} GB — {'fits' if m.fits else 'does not fit'}**",
                    ),
                    ("Same run in 16-bit", f"{self.memory_16bit_gb:.1f} GB"),
                ],
                ("memory estimate", ""),
            )
        )
        if self.notes:
            parts.append("\n".join(f"- {n}" for n in self.notes))
        return "\n\n".join(parts)

    def retrieval_query(self, text: str) -> str:
        topic = "reading training curves overfitting format consistency" if self.diagnosis else ""
        return f"{text}\nLoRA hyperparameters learning rate rank alpha epochs QLoRA memory {topic}"


def _show(value: object) -> str:
    if isinstance(value, float) and value and value < 0.01:
        return f"{value:.0e}".replace("e-0", "e-")
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def architecture(billions: float) -> tuple[int, int, int]:
    """(hidden, layers, vocab) of the listed model nearest in size (on a log scale)."""
    nearest = min(ARCHITECTURES, key=lambda a: abs(math.log(a[0] / billions)))
    return nearest[1], nearest[2], nearest[3]


def estimate_memory(billions: float, config: LoraTrainingConfig, gpu_gb: float, four_bit: bool) -> MemoryEstimate:
    hidden, layers, vocab = architecture(billions)
    params = billions * 1e9
    # NF4 with double quantization: about 4.13 bits per weight, plus embeddings and norms kept in 16-bit.
    weights = params * (0.516 if four_bit else 2.0) + (vocab * hidden * 2 * 1.5 if four_bit else 0)
    intermediate = int(hidden * 3.5)
    # A LoRA pair on a (d_in x d_out) matrix adds r * (d_in + d_out) parameters.
    in_plus_out = {
        "gate_proj": hidden + intermediate,
        "up_proj": hidden + intermediate,
        "down_proj": intermediate + hidden,
    }
    per_layer = sum(config.r * in_plus_out.get(name, 2 * hidden) for name in config.target_modules)
    lora_params = per_layer * layers
    lora_states = lora_params * 16  # fp32 weight 4 + gradient 4 + AdamW moments 8 bytes
    tokens = config.batch_size * config.max_length
    # Activations (16-bit, flash attention): about 34 bytes per token per hidden unit per layer; with
    # checkpointing only each layer's input (2 bytes) is kept, and one layer is recomputed at a time.
    if config.gradient_checkpointing:
        activations = tokens * hidden * (2 * layers + 34)
    else:
        activations = tokens * hidden * 34 * layers
    logits = tokens * vocab * 4 * 2  # fp32 logits and their gradient
    overhead = 1.0 * GB
    total = weights + lora_states + activations + logits + overhead
    return MemoryEstimate(
        precision="4-bit NF4" if four_bit else "bf16",
        weights_gb=round(weights / GB, 2),
        lora_parameters=int(lora_params),
        lora_states_gb=round(lora_states / GB, 3),
        activations_gb=round((activations + logits) / GB, 2),
        overhead_gb=1.0,
        total_gb=round(total / GB, 1),
        gpu_gb=gpu_gb,
        fits=total <= gpu_gb * GB * 0.9,
    )


@dataclass(frozen=True)
class Rule:
    """One line of Lesson 3's guidance: when the learner's words say so, this value, and why."""

    when: Callable[[str], bool]
    value: int
    why: str = ""
    task: str = ""  # rank rules: how the task reads


_DEEP = ("new language", "reasoning", "deep", "complex", "math", "code generation")
_DOMAIN = ("domain", "medical", "legal", "financ\\w*", "scientific", "jargon", "knowledge")
_FORMAT = ("json", "extract\\w*", "format", "classif\\w*", "style", "tone")
_FORMAT_OR_LABELS = (*_FORMAT, "schema", "label\\w*", "sentiment")

# Lesson 3's rank table, read top to bottom: the first rule that applies sets the rank.
RANK_TABLE: tuple[Rule, ...] = (
    Rule(
        lambda t: facts.has_any(t, *_DEEP),
        32, "r=32+ for deep changes to what the model does", "deep change to the task",
    ),
    Rule(
        lambda t: facts.has_any(t, *_DOMAIN) and not facts.has_any(t, *_FORMAT),
        16, "r=16 for domain adaptation", "domain adaptation",
    ),
    Rule(
        lambda t: facts.has_any(t, *_FORMAT_OR_LABELS),
        8, "r=8 is enough for format or style tasks (more risks overfitting)", "format/style task",
    ),
    Rule(lambda t: True, 16, "r=16, the middle of the 8–32 range, when the task is not described", "general task"),
)  # fmt: skip
# Sequence length: long inputs need room; labels need little.
SEQ_TABLE: tuple[Rule, ...] = (
    Rule(lambda t: facts.has_any(t, "summar\\w*", "long documents?", "dialogues?", "transcripts?"), 2048),
    Rule(lambda t: facts.has_any(t, "classif\\w*", "sentiment", "label\\w*"), 512),
    Rule(lambda t: True, 1024),
)
# Epochs by dataset size (Lesson 3: 1–3; small sets need more passes, large ones overfit with more).
EPOCHS_TABLE: tuple[tuple[int, int], ...] = ((999, 3), (10_000, 2))  # (up to this many examples, epochs); else 1


def first(table: tuple[Rule, ...], text: str) -> Rule:
    return next(rule for rule in table if rule.when(text))


def _task_kind(text: str) -> tuple[str, int, str]:
    """(task description, rank, why) from Lesson 3's rank guidance."""
    rule = first(RANK_TABLE, text)
    return rule.task, rule.value, rule.why


def _epochs(examples: int) -> int:
    return next((epochs for most, epochs in EPOCHS_TABLE if examples <= most), 1)


@dataclass(frozen=True)
class Setup:
    """What the config is for: read from the learner's text, with stated assumptions for the gaps."""

    model: str
    billions: float
    examples: int
    gpu_name: str
    gpu_gb: float
    gpu_count: int
    task: str
    rank: int
    rank_why: str
    epochs: int
    effective_batch: int
    seq: int
    forced_4bit: bool
    forced_16: bool

    @property
    def deep(self) -> bool:
        return self.rank >= 32

    @property
    def modules(self) -> list[str]:
        return ATTENTION + (MLP if self.deep else [])

    @property
    def gpu_label(self) -> str:
        return f"{self.gpu_count}× {self.gpu_name}" if self.gpu_count > 1 else f"one {self.gpu_name}"


def read_setup(text: str, notes: list[str]) -> Setup:
    name, billions = facts.model_size_billion(text)
    if billions is None:
        name, billions = "a 7B model", 7.0
        notes.append("No model size found; assumed 7B. Say e.g. 'Llama 3 8B' or 'a 1B model'.")
    examples = facts.example_count(text)
    if examples is None:
        examples = 1_000
        notes.append("No dataset size found; assumed 1,000 examples.")
    gpu_name, gpu_gb, gpu_count = facts.gpu(text)
    if gpu_gb is None:
        gpu_name, gpu_gb = "24 GB GPU (assumed)", 24.0
        notes.append("No GPU found; assumed one 24 GB card. Say e.g. 'one A100 40GB' or 'RTX 4090'.")
    task, rank, rank_why = _task_kind(text)
    seq = first(SEQ_TABLE, text).value
    return Setup(
        model=name or "the model",
        billions=billions,
        examples=examples,
        gpu_name=gpu_name or "",
        gpu_gb=gpu_gb,
        gpu_count=gpu_count,
        task=task,
        rank=rank,
        rank_why=rank_why,
        epochs=_epochs(examples),
        effective_batch=16 if examples < 2_000 else 32,
        seq=seq,
        forced_4bit=facts.has_any(text, "qlora", "4-?bit", "nf4", "quantiz\\w*"),
        forced_16=facts.has_any(text, "no quantization", "16-?bit", "bf16 lora", "full precision"),
    )


def config_for(setup: Setup, four_bit: bool, batch: int, checkpointing: bool) -> LoraTrainingConfig:
    per_step = batch * setup.gpu_count
    accumulation = max(1, setup.effective_batch // per_step)
    return LoraTrainingConfig(
        r=setup.rank,
        alpha=2 * setup.rank,
        dropout=0.1 if setup.examples < 1_000 else 0.05,
        target_modules=setup.modules,
        learning_rate=1e-4 if setup.rank >= 32 else 2e-4,
        scheduler="cosine",
        warmup_ratio=0.03,
        epochs=setup.epochs,
        batch_size=batch,
        gradient_accumulation=accumulation,
        effective_batch_size=per_step * accumulation,
        max_length=setup.seq,
        quantization="4bit" if four_bit else "none",
        gradient_checkpointing=checkpointing,
    )


def best_config(setup: Setup, four_bit: bool) -> tuple[LoraTrainingConfig, MemoryEstimate]:
    """The largest micro-batch (4, 2, 1) that fits; gradient checkpointing only when needed."""
    for batch in (4, 2, 1):
        for checkpointing in (False, True):
            cfg = config_for(setup, four_bit, batch, checkpointing)
            mem = estimate_memory(setup.billions, cfg, setup.gpu_gb, four_bit)
            if mem.total_gb <= 0.6 * setup.gpu_gb or (checkpointing and mem.fits):
                return cfg, mem
    cfg = config_for(setup, four_bit, 1, True)
    return cfg, estimate_memory(setup.billions, cfg, setup.gpu_gb, four_bit)


@dataclass(frozen=True)
class Precision:
    """The chosen config and memory, and the 16-bit figures the choice was judged by."""

    config: LoraTrainingConfig
    memory: MemoryEstimate
    four_bit: bool
    mem16: MemoryEstimate  # the best 16-bit run
    lean16: MemoryEstimate  # 16-bit at its leanest (batch 4, checkpointing on)


def choose_precision(setup: Setup) -> Precision:
    cfg16, mem16 = best_config(setup, False)
    cfg4, mem4 = best_config(setup, True)
    # Judge 16-bit by its lean footprint (batch 4, checkpointing on): what it needs at the least.
    lean16 = estimate_memory(setup.billions, config_for(setup, False, 4, True), setup.gpu_gb, False)
    if setup.forced_4bit:
        four_bit = True
    elif setup.forced_16:
        four_bit = False
    else:
        # 16-bit LoRA is faster, but only worth it with plenty of headroom: activations grow with
        # sequence length and batch, and an out-of-memory crash costs more than 4-bit's slowdown.
        four_bit = not (lean16.fits and lean16.total_gb <= 0.4 * setup.gpu_gb)
    config, memory = (cfg4, mem4) if four_bit else (cfg16, mem16)
    return Precision(config, memory, four_bit, mem16, lean16)


def quantization_reason(setup: Setup, p: Precision) -> str:
    if p.four_bit and not setup.forced_4bit:
        return (
            "4-bit NF4 with double quantization (QLoRA): the 16-bit run would need about "
            f"{p.lean16.total_gb:.0f} GB of the {setup.gpu_gb:g} GB at least, too little headroom"
        )
    if p.four_bit:
        return "4-bit as you asked (QLoRA): slower per step than 16-bit, but a fraction of the memory"
    return (
        f"16-bit LoRA fits comfortably (about {p.mem16.total_gb:.0f} GB of {setup.gpu_gb:g} GB) and is faster than "
        "4-bit"
    )


def config_reasons(setup: Setup, p: Precision) -> dict[str, str]:
    """Why each config value, by field name (Lesson 3's tables)."""
    small = setup.examples < 1_000
    return {
        "r": setup.rank_why,
        "alpha": "alpha = 2r, the usual scaling of the LoRA update",
        "dropout": "0.1 guards a small dataset against overfitting"
        if small
        else "0.05, light regularisation as in the lesson's config",
        "target_modules": "attention q, k, v, o (q_proj and v_proj at least)"
        + (" plus the MLP layers for capacity" if setup.deep else ""),
        "learning_rate": "1e-4 to 2e-4 is the LoRA range (full fine-tuning uses 1e-5 to 5e-5)"
        + ("; the low end for a high rank" if setup.rank >= 32 else ""),
        "scheduler": "cosine decay after warmup",
        "warmup_ratio": "3% of steps: LoRA's B starts at zero and the first gradients are noisy",
        "epochs": f"{setup.epochs} for {setup.examples:,} examples: 1–3 epochs; more usually overfits",
        "batch_size": "the largest micro-batch that fits the memory estimate",
        "gradient_accumulation": f"reaches an effective batch of {p.config.effective_batch_size}",
        "effective_batch_size": "per-device batch × accumulation × GPUs, within the 4–32 range",
        "max_length": f"{setup.seq} tokens for this task; measure your examples and cut the longest",
        "quantization": quantization_reason(setup, p),
        "gradient_checkpointing": "on: recomputes activations to save memory (about 30% slower)"
        if p.config.gradient_checkpointing
        else "off: memory is sufficient, so keep the speed",
    }


def diagnose(request: AdvisorRequest) -> Diagnosis | None:
    """From the uploaded loss log when there is one, else from the described symptoms."""
    if not request.files:
        return diagnose_text(request.text)
    log = request.files[0]
    try:
        return diagnose_curve(parse_log(log.text, log.name))
    except LogError as exc:
        raise AdvisorInputError(str(exc)) from None


def cite_sources(recommendation: HyperparamsRecommendation) -> None:
    recommendation.cite(
        "hyperparameters-lora",
        "the-hyperparameters-that-matter",
        "learning rate, rank, alpha, batch, epochs, target modules",
    )
    recommendation.cite("hyperparameters-lora", "effective-batch-size-worked-through", "effective batch size")
    recommendation.cite("peft-methods", "qlora-quantization-plus-lora", "4-bit base weights and memory")
    diagnosis = recommendation.diagnosis
    if diagnosis is not None:
        recommendation.cite("hyperparameters-lora", "reading-your-training-curves", "reading the loss curves")
        if "format" in diagnosis.likely_cause:
            recommendation.cite("training-data", "data-quality-checklist", "consistency of the training data")
            recommendation.cite("evaluation-deployment", "why-loss-is-not-enough", "loss does not show format errors")


def analyse(request: AdvisorRequest) -> HyperparamsRecommendation:
    notes: list[str] = []
    setup = read_setup(request.all_text, notes)
    precision = choose_precision(setup)
    if not precision.memory.fits:
        notes.append(
            f"Even with 4-bit weights, batch 1 and checkpointing this needs about {precision.memory.total_gb:.0f} GB: "
            "use a larger GPU, several GPUs (FSDP/DeepSpeed), shorter sequences or a smaller model."
        )
    recommendation = HyperparamsRecommendation(
        model=setup.model,
        parameters_billion=setup.billions,
        examples=setup.examples,
        task=setup.task,
        gpu=setup.gpu_label,
        config=precision.config,
        reasons=config_reasons(setup, precision),
        memory=precision.memory,
        memory_16bit_gb=precision.lean16.total_gb,
        diagnosis=diagnose(request),
        notes=notes,
    )
    cite_sources(recommendation)
    return recommendation
