"""Load the base model (optionally in 4-bit NF4), and wrap it with LoRA adapters.

QLoRA in three lines: the frozen base weights are stored in 4-bit NormalFloat (NF4), they are
dequantized on the fly to the compute dtype for each matrix multiplication, and only the small
LoRA matrices A (r x d_in) and B (d_out x r), kept in full precision, receive gradients.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainer.config import LoraSection, ModelSection

PACKAGED_NAME = "SmolLM2-135M-Instruct (packaged)"


class ModelError(RuntimeError):
    """A base model that cannot be loaded; one line for the user."""


@dataclass(frozen=True)
class Hardware:
    device: str  # "cuda" or "cpu"
    name: str  # e.g. "NVIDIA H100 80GB HBM3" or "CPU (2 cores)"
    bf16: bool  # the GPU computes in bfloat16 natively

    @property
    def is_gpu(self) -> bool:
        return self.device == "cuda"


def detect_hardware() -> Hardware:
    import os

    import torch

    if torch.cuda.is_available():
        return Hardware("cuda", torch.cuda.get_device_name(0), torch.cuda.is_bf16_supported())
    return Hardware("cpu", f"CPU ({os.cpu_count()} cores)", False)


def compute_dtype(settings: ModelSection, hardware: Hardware):
    import torch

    if settings.compute_dtype != "auto":
        return getattr(torch, settings.compute_dtype)
    if hardware.is_gpu:
        return torch.bfloat16 if hardware.bf16 else torch.float16
    return torch.float32  # CPUs have no fast half-precision matmul for training


def resolve_base(name: str, cache_dir: Path) -> tuple[str, str]:
    """(path or Hub id to load, display name). Empty name: the packaged model, converted once."""
    if name:
        return name, name
    from tutor.llm.base import LLMError
    from tutor.llm.packaged import packaged_checkpoint

    try:
        return str(packaged_checkpoint(cache_dir)), PACKAGED_NAME
    except LLMError as exc:
        raise ModelError(str(exc)) from None


def load_tokenizer(base: str):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
    except Exception as exc:
        raise ModelError(_load_message(base, exc)) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def quantization_config(settings: ModelSection, hardware: Hardware):
    """The BitsAndBytesConfig for QLoRA, or None when the base stays in full precision."""
    if settings.quantization == "none":
        return None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",  # NormalFloat4: levels placed for normally distributed weights
        bnb_4bit_use_double_quant=settings.double_quantization,
        bnb_4bit_compute_dtype=compute_dtype(settings, hardware),
    )


def load_base_model(base: str, settings: ModelSection, hardware: Hardware):
    """The frozen base model on the right device, in 4-bit NF4 when configured."""
    from transformers import AutoModelForCausalLM

    quant = quantization_config(settings, hardware)
    kwargs: dict = {"dtype": compute_dtype(settings, hardware)}
    if quant is not None:
        kwargs["quantization_config"] = quant
        kwargs["device_map"] = {"": 0} if hardware.is_gpu else {"": "cpu"}
    try:
        model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    except Exception as exc:
        raise ModelError(_load_message(base, exc)) from None
    if quant is None and hardware.is_gpu:
        model = model.to("cuda")
    model.eval()
    return model


def prepare_for_training(model, settings: ModelSection):
    """Ready a loaded base for LoRA training (done after the 'before' evaluation)."""
    if settings.quantization == "4bit":
        from peft import prepare_model_for_kbit_training

        # Casts the norms to fp32 and lets gradients flow from the frozen 4-bit layers to LoRA.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=settings.gradient_checkpointing)
    elif settings.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    model.config.use_cache = False  # the KV cache only helps generation
    return model


def add_lora(model, settings: LoraSection):
    """Wrap the model with fresh LoRA adapters; only they are trainable."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=list(settings.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    try:
        return get_peft_model(model, config)
    except ValueError as exc:  # e.g. a target module the model does not have
        raise ModelError(f"lora.target_modules: {exc}".splitlines()[0]) from None


def trainable_parameters(model) -> tuple[int, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


def _load_message(base: str, exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if Path(base).exists() or base.startswith((".", "/")):
        return f"cannot load model {base!r}: {first}"
    return (
        f"cannot load model {base!r} from the Hugging Face Hub ({first}). Offline? Use a local folder, or "
        "leave model.name empty for the packaged SmolLM2-135M-Instruct."
    )
