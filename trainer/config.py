"""The training run's configuration: one typed object, read from the YAML file the lab writes.

Every field has a help text (shown by the lab and by ``tutor train --help-config``) and a check.
A bad file is rejected before anything loads, with the field's dotted name and its line:

    sentiment.yaml:14: training.learning_rate: must be greater than 0 (got -0.1)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CONFIG_DIR = Path(__file__).parent / "configs"
TASKS = ("sentiment", "summarization", "advisor")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file, line and field."""


class _Section(BaseModel):
    # A misspelt key is an error, not a silently ignored default.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSection(_Section):
    name: str = Field(
        "",
        description="Base model: empty for the packaged SmolLM2-135M-Instruct (works offline), a local folder "
        "with a transformers causal LM, or a Hugging Face Hub id (needs a network the first time).",
    )
    quantization: Literal["none", "4bit"] = Field(
        "none",
        description="'4bit' loads the frozen base weights as 4-bit NF4 (QLoRA): about 4x less memory for "
        "the weights. It saves memory on a GPU; on a CPU it is slower than 'none'.",
    )
    double_quantization: bool = Field(
        True,
        description="With 4-bit: also quantize the quantization constants (QLoRA's double quantization), "
        "saving about 0.4 bits per parameter.",
    )
    compute_dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto",
        description="Precision of the matrix multiplications. 'auto': bfloat16 on a GPU that supports it, "
        "float32 on a CPU.",
    )
    gradient_checkpointing: bool = Field(
        False,
        description="Recompute activations in the backward pass instead of storing them: less memory, "
        "about 30% slower. Turn it on when a run runs out of memory.",
    )


class LoraSection(_Section):
    r: int = Field(8, ge=1, le=256, description="Rank of the low-rank update B·A. 8-16 is plenty for one task.")
    alpha: int = Field(16, ge=1, le=1024, description="Scale of the update (alpha / r multiplies B·A). Usually 2 x r.")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="Dropout on the LoRA input; 0.05-0.1 fights overfitting.")
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
        min_length=1,
        description="Names of the linear layers that get adapters. Attention projections are the classic "
        "choice; adding gate_proj, up_proj, down_proj (the MLP) adapts more but trains slower.",
    )


class DataSection(_Section):
    task: Literal["sentiment", "summarization", "advisor"] = Field(
        "sentiment",
        description="sentiment: label a financial news sentence positive, negative or neutral (metric: "
        "accuracy, macro-F1). summarization: summarise a chat dialogue (metric: ROUGE-L). advisor: the "
        "app's own advisor, chat prompts with course passages in them (records with 'messages' and "
        "'answer', built by `tutor advisor build`; metric: ROUGE-L).",
    )
    source: str = Field(
        "builtin",
        description="'builtin' for the cleaned dataset shipped with the app ('builtin:raw' for the same set before "
        "cleaning, near-duplicates and all), a path to a .jsonl or .csv file, or "
        "'hf:<dataset id>' (e.g. hf:takala/financial_phrasebank) when a network is available.",
    )
    input_field: str = Field("", description="Column with the model's input. Empty: 'text' or 'dialogue' by task.")
    output_field: str = Field("", description="Column with the expected answer. Empty: 'label' or 'summary' by task.")
    max_examples: int = Field(0, ge=0, description="Use at most this many examples (0 = all). Handy for a quick run.")
    group_field: str = Field(
        "",
        description="Keep examples that share this field's value in one split (e.g. the course section "
        "a question is about), so that test topics are never seen in training. Empty: split example by example.",
    )
    val_fraction: float = Field(0.1, ge=0.0, lt=0.5, description="Share held out for eval loss and early stopping.")
    test_fraction: float = Field(
        0.1, gt=0.0, lt=0.5, description="Share held out for the before/after comparison; never trained on."
    )
    max_test_examples: int = Field(
        80, ge=1, description="Cap on test examples scored before and after (generation is the slow part on a CPU)."
    )
    max_length: int = Field(
        256, ge=16, le=32768, description="Longest example in tokens (prompt + answer); longer ones are cut."
    )
    seed: int = Field(
        42,
        description="Seed of the hash that puts each example in train, validation or test (by its own text, so "
        "removing other rows never moves it).",
    )

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> DataSection:
        if self.val_fraction + self.test_fraction >= 0.8:
            raise ValueError("val_fraction + test_fraction must leave at least 20% of the data for training")
        return self


class TrainingSection(_Section):
    output_dir: str = Field(
        "var/runs/sentiment", description="Where checkpoints, the adapter, the log and the report are written."
    )
    epochs: float = Field(1.0, gt=0, le=100, description="Passes over the training set (ignored when max_steps > 0).")
    max_steps: int = Field(
        0, ge=0, description="Stop after this many optimizer steps (0 = run the full epochs). Sets a time budget."
    )
    batch_size: int = Field(8, ge=1, le=1024, description="Examples per forward pass. Halve it if memory runs out.")
    gradient_accumulation: int = Field(
        1, ge=1, le=1024, description="Forward passes per optimizer step: effective batch = batch_size x this."
    )
    learning_rate: float = Field(2e-4, gt=0, le=1.0, description="Peak learning rate. LoRA: 1e-4 to 5e-4.")
    warmup_ratio: float = Field(0.05, ge=0, lt=1, description="Share of the steps spent ramping the rate up from 0.")
    scheduler: Literal["cosine", "linear", "constant"] = Field(
        "cosine", description="How the rate decays after warmup. Cosine is the common default."
    )
    weight_decay: float = Field(0.0, ge=0, le=1, description="AdamW weight decay on the adapter weights.")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping threshold; guards against spikes.")
    eval_steps: int = Field(20, ge=1, description="Compute the validation loss every this many steps.")
    save_steps: int = Field(20, ge=1, description="Write a resumable checkpoint every this many steps.")
    early_stopping_patience: int = Field(
        3, ge=0, description="Stop when the validation loss has not improved for this many evaluations (0 = off)."
    )
    group_by_length: bool = Field(
        False,
        description="Batch examples of similar length together, so little compute goes to padding. Leave it "
        "off when length hints at the answer (each batch would hold one label), or for short examples.",
    )
    threads: int = Field(0, ge=0, le=256, description="CPU threads for training; 0 = all cores.")
    seed: int = Field(42, description="Seed for the adapter's initial weights and the batch order.")
    watchdog_factor: float = Field(
        5.0,
        gt=1,
        description="Stop the run when the loss stays above this multiple of its starting value (or is NaN): "
        "the run is diverging, usually from a too high learning rate.",
    )

    @model_validator(mode="after")
    def _checkpoints_line_up_with_evaluations(self) -> TrainingSection:
        # Early stopping keeps the best checkpoint, so every evaluation must have one to keep.
        if self.early_stopping_patience and self.save_steps % self.eval_steps:
            raise ValueError("save_steps must be a multiple of eval_steps when early stopping is on")
        return self


class TrainConfig(_Section):
    model: ModelSection = Field(default_factory=ModelSection)
    lora: LoraSection = Field(default_factory=LoraSection)
    data: DataSection = Field(default_factory=DataSection)
    training: TrainingSection = Field(default_factory=TrainingSection)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def parse_config(text: str, filename: str = "<config>") -> TrainConfig:
    """A config from YAML text; a ConfigError names the file, line and field of each problem."""
    if len(text) > MAX_CONFIG_CHARS:
        raise ConfigError(f"{filename}: {len(text):,} characters; a run config is at most {MAX_CONFIG_CHARS:,}")
    try:
        _refuse_aliases(text, filename)
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark else filename
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{filename}:1: the config must be a mapping of sections (model, lora, data, training)")
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        lines = _key_lines(text)
        raise ConfigError("\n".join(_describe(error, filename, lines) for error in exc.errors())) from None


# A config is a few dozen lines; a larger text is a mistake or an attack on the parser.
MAX_CONFIG_CHARS = 20_000


def _refuse_aliases(text: str, filename: str) -> None:
    """Anchors and aliases let a few lines expand into billions of nodes ("billion laughs"), which
    validation and its error messages would then walk: a run config has no use for them."""
    for token in yaml.scan(text):
        if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
            raise ConfigError(
                f"{filename}:{token.start_mark.line + 1}: YAML anchors and aliases (&name, *name) are not allowed here"
            )


def load_config(path: str | Path) -> TrainConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file (shipped ones are in {CONFIG_DIR})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc})") from None
    return parse_config(text, str(path))


def shipped_config(name: str) -> TrainConfig:
    return load_config(CONFIG_DIR / f"{name}.yaml")


def default_config_name(task: str = "sentiment", has_gpu: bool | None = None) -> str:
    """The shipped config that suits this host: the QLoRA one on a GPU, the quick one on a CPU."""
    if has_gpu is None:
        import torch

        has_gpu = torch.cuda.is_available()
    return f"{task}-{'gpu' if has_gpu else 'cpu'}"


def field_help() -> list[tuple[str, str, str]]:
    """(dotted field name, default, help) for every field: the lab's Advanced reference."""
    rows = []
    for section_name, section in TrainConfig.model_fields.items():
        model_cls = section.annotation
        for name, field in model_cls.model_fields.items():  # type: ignore[union-attr]
            default = field.get_default(call_default_factory=True)
            rows.append((f"{section_name}.{name}", repr(default), field.description or ""))
    return rows


def _describe(error: dict[str, Any], filename: str, lines: dict[tuple, int]) -> str:
    loc = tuple(str(part) for part in error["loc"])
    line = lines.get(loc) or lines.get(loc[:-1]) or 1
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field (check the spelling; `tutor train --help-config` lists them all)"
    elif "input" in error and error["type"] != "missing" and not isinstance(error["input"], dict):
        given = repr(error["input"])
        message += f" (got {given if len(given) <= 80 else given[:77] + '...'})"
    return f"{filename}:{line}: {'.'.join(loc) or 'config'}: {message}"


def _key_lines(text: str) -> dict[tuple, int]:
    """1-based line of every mapping key, by its path: ('training', 'learning_rate') -> 14."""
    lines: dict[tuple, int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines

    def walk(node: yaml.Node, path: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, str(index))] = item.start_mark.line + 1
                walk(item, (*path, str(index)))

    if root is not None:
        walk(root, ())
    return lines
