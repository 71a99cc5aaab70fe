"""QLoRA's model side: NF4 base with double quantization, LoRA on top, gradients only in LoRA.

Runs on the CPU (bitsandbytes quantizes to NF4 there too, with fp32 compute); the same checks
with bf16 compute run on a CUDA GPU and are skipped without one.
"""

from __future__ import annotations

import pytest
import torch

from trainer.config import LoraSection, ModelSection, TrainConfig
from trainer.model import (
    Hardware,
    add_lora,
    compute_dtype,
    detect_hardware,
    load_base_model,
    load_tokenizer,
    prepare_for_training,
    quantization_config,
    resolve_base,
    trainable_parameters,
)
from trainer.train import out_of_memory_advice

CPU = Hardware("cpu", "CPU", False)
GPU = Hardware("cuda", "GPU", True)
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_quantization_config_is_nf4_with_double_quant_and_the_right_compute_dtype():
    model_cfg = ModelSection(quantization="4bit")
    on_gpu, on_cpu = quantization_config(model_cfg, GPU), quantization_config(model_cfg, CPU)
    assert on_gpu.bnb_4bit_quant_type == "nf4" and on_gpu.bnb_4bit_use_double_quant
    assert on_gpu.bnb_4bit_compute_dtype == torch.bfloat16
    assert on_cpu.bnb_4bit_compute_dtype == torch.float32
    assert quantization_config(ModelSection(quantization="none"), GPU) is None
    assert compute_dtype(ModelSection(compute_dtype="float16"), CPU) == torch.float16


def _one_step(hardware: Hardware, models_dir):
    import bitsandbytes as bnb

    model_cfg = ModelSection(quantization="4bit")
    base_ref, _ = resolve_base("", models_dir)
    tokenizer = load_tokenizer(base_ref)
    model = load_base_model(base_ref, model_cfg, hardware)
    layers = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers and all(m.weight.quant_state.quant_type == "nf4" for m in layers)
    assert layers[0].weight.quant_state.nested  # double quantization
    model = add_lora(prepare_for_training(model, model_cfg), LoraSection(r=4, alpha=8))
    trainable, total = trainable_parameters(model)
    assert 0 < trainable < total / 50
    batch = tokenizer(["Net sales rose 5%."], return_tensors="pt").to(hardware.device)
    loss = model(**batch, labels=batch["input_ids"]).loss
    loss.backward()
    assert torch.isfinite(loss)
    grads = {name: p.grad for name, p in model.named_parameters() if p.requires_grad}
    assert grads and all("lora_" in name for name in grads)
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values())
    return model


def test_qlora_step_on_cpu(models_dir):
    _one_step(CPU, models_dir)


@pytest.mark.gpu
@needs_cuda
def test_qlora_step_on_gpu_uses_bf16_compute(models_dir):
    import bitsandbytes as bnb

    hardware = detect_hardware()
    model = _one_step(hardware, models_dir)
    layer = next(m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit))
    assert layer.compute_dtype == (torch.bfloat16 if hardware.bf16 else torch.float16)
    assert next(model.parameters()).device.type == "cuda"


@pytest.mark.gpu
@needs_cuda
def test_gpu_config_trains_with_4bit(tmp_path, models_dir):
    from trainer.config import shipped_config
    from trainer.train import train

    config = shipped_config("sentiment-gpu")
    config.training.output_dir = str(tmp_path / "run")
    config.training.max_steps = 10
    config.data.max_test_examples = 16
    result = train(config, models_dir=models_dir, echo=False)
    assert result.status == "done" and result.after is not None


def test_out_of_memory_advice_names_the_fields():
    advice = out_of_memory_advice(TrainConfig())
    for field in ("data.max_length", "training.batch_size", "model.quantization", "model.gradient_checkpointing"):
        assert field in advice
