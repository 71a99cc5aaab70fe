"""Load the base model (optionally in 4-bit NF4), and wrap it with LoRA adapters.

QLoRA in three lines: the frozen base weights are stored in 4-bit NormalFloat (NF4), they are
dequantized on the fly to the compute dtype for each matrix multiplication, and only the small
LoRA matrices A (r x d_in) and B (d_out x r), kept in full precision, receive gradients.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainer import hub
from trainer.config import LoraSection, ModelSection
from trainer.packaged import PACKAGED_NAME, PackagedModelError, packaged_checkpoint


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


def compute_dtype(model_cfg: ModelSection, hardware: Hardware):
    import torch

    if model_cfg.compute_dtype != "auto":
        return getattr(torch, model_cfg.compute_dtype)
    if hardware.is_gpu:
        return torch.bfloat16 if hardware.bf16 else torch.float16
    return torch.float32  # CPUs have no fast half-precision matmul for training


def resolve_base(name: str, models_dir: Path) -> tuple[str, str]:
    """(path or Hub id to load, display name). Empty name: the packaged model, converted once into
    ``models_dir``."""
    if name:
        return name, name
    try:
        return str(packaged_checkpoint(models_dir)), PACKAGED_NAME
    except PackagedModelError as exc:
        raise ModelError(str(exc)) from None


def load_tokenizer(base: str):
    from transformers import AutoTokenizer

    try:
        tokenizer = hub.from_pretrained(AutoTokenizer, base)
    except Exception as exc:
        raise ModelError(_load_message(base, exc)) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def quantization_config(model_cfg: ModelSection, hardware: Hardware):
    """The BitsAndBytesConfig for QLoRA, or None when the base stays in full precision."""
    if model_cfg.quantization == "none":
        return None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",  # NormalFloat4: levels placed for normally distributed weights
        bnb_4bit_use_double_quant=model_cfg.double_quantization,
        bnb_4bit_compute_dtype=compute_dtype(model_cfg, hardware),
    )


def load_base_model(base: str, model_cfg: ModelSection, hardware: Hardware):
    """The frozen base model on the right device, in 4-bit NF4 when configured."""
    from transformers import AutoModelForCausalLM

    quant = quantization_config(model_cfg, hardware)
    kwargs: dict = {"dtype": compute_dtype(model_cfg, hardware)}
    if quant is not None:
        kwargs["quantization_config"] = quant
        kwargs["device_map"] = {"": 0} if hardware.is_gpu else {"": "cpu"}
    try:
        model = hub.from_pretrained(AutoModelForCausalLM, base, **kwargs)
    except Exception as exc:
        raise ModelError(_load_message(base, exc)) from None
    if quant is None and hardware.is_gpu:
        model = model.to("cuda")
    model.eval()
    return model


def prepare_for_training(model, model_cfg: ModelSection):
    """Ready a loaded base for LoRA training (done after the 'before' evaluation)."""
    if model_cfg.quantization == "4bit":
        from peft import prepare_model_for_kbit_training

        # Casts the norms to fp32 and lets gradients flow from the frozen 4-bit layers to LoRA.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=model_cfg.gradient_checkpointing)
    elif model_cfg.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    model.config.use_cache = False  # the KV cache only helps generation
    return model


def add_lora(model, lora: LoraSection):
    """Wrap the model with fresh LoRA adapters; only they are trainable."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )
    try:
        return get_peft_model(model, config)
    except ValueError as exc:  # e.g. a target module the model does not have
        raise ModelError(f"lora.target_modules: {exc}".splitlines()[0]) from None


def load_with_adapter(adapter: Path, model_cfg: ModelSection, hardware: Hardware, models_dir: Path):
    """(model, tokenizer): the base as it was trained (4-bit when configured) with a finished
    adapter on top. ``with model.disable_adapter():`` answers as the base model alone."""
    from peft import PeftModel

    base_ref, _ = resolve_base(model_cfg.name, models_dir)
    tokenizer = load_tokenizer(str(adapter))
    model = PeftModel.from_pretrained(load_base_model(base_ref, model_cfg, hardware), adapter)
    model.eval()
    return model, tokenizer


def trainable_parameters(model) -> tuple[int, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    return trainable, total


def _load_message(base: str, exc: Exception) -> str:
    first = hub.first_line(exc)
    if hub.is_local(base):
        return f"cannot load model {base!r}: {first}"
    return (
        f"cannot load model {base!r} from the Hugging Face Hub ({first}). Offline? Use a local folder, or "
        "leave model.name empty for the packaged SmolLM2-135M-Instruct."
    )
