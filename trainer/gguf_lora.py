"""A PEFT LoRA adapter as a GGUF LoRA file, which llama.cpp applies at run time on the GGUF base
(llama-cpp-python's ``lora_path``): the same base weights the transformers path dequantizes,
plus the adapter's low-rank update, at llama.cpp's speed.

The layout follows llama.cpp's ``convert_lora_to_gguf.py``: each adapted matrix ``W`` gets two
tensors, ``<W's GGUF name>.lora_a`` (r x in) and ``.lora_b`` (out x r), and the file says it is a
LoRA adapter with its alpha, so llama.cpp scales the update by alpha / r as PEFT does. The query
and key projections' output rows are stored in llama.cpp's rotary order, so their ``lora_b`` is
permuted like the base weights (``gguf_export.rope_permute``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from trainer.gguf_export import finish_gguf, gguf_name, read_packaged_gguf, rope_permute
from trainer.model import ModelError

_PEFT_PREFIX = "base_model.model."


def adapter_fingerprint(adapter_dir: Path) -> str:
    """A short hash of the adapter's weights and config: the GGUF made from them is cached by it."""
    digest = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        digest.update((adapter_dir / name).read_bytes())
    return digest.hexdigest()[:16]


def lora_gguf_path(adapter_dir: Path, cache_dir: Path) -> Path:
    """Where the GGUF form of this adapter is kept (converted once, reused while the weights match)."""
    return cache_dir / f"lora-{adapter_fingerprint(adapter_dir)}.gguf"


def export_lora_gguf(adapter_dir: Path, cache_dir: Path) -> Path:
    """The adapter as a GGUF LoRA file for the packaged base, converted on first call.

    Raises ModelError for what llama.cpp could not apply as PEFT does: another base model,
    rsLoRA or DoRA scaling, trained biases or fully trained modules."""
    import gguf
    from safetensors.numpy import load_file

    adapter_dir = Path(adapter_dir)
    config_file = adapter_dir / "adapter_config.json"
    if not config_file.is_file():
        raise ModelError(f"no PEFT adapter in {str(adapter_dir)!r} (adapter_config.json missing)")
    target = lora_gguf_path(adapter_dir, cache_dir)
    if target.is_file():
        return target
    config = json.loads(config_file.read_text(encoding="utf-8"))
    unsupported = [
        name
        for name, bad in (
            ("use_rslora", config.get("use_rslora")),
            ("use_dora", config.get("use_dora")),
            ("modules_to_save", config.get("modules_to_save")),
            ("bias", config.get("bias", "none") != "none"),
        )
        if bad
    ]
    if unsupported:
        raise ModelError(f"llama.cpp cannot apply this adapter as PEFT does ({', '.join(unsupported)})")
    reader, arch, n_heads, n_kv_heads = read_packaged_gguf()
    heads = {"attn_q.weight": n_heads, "attn_k.weight": n_kv_heads}
    base_shapes = {tensor.name: tuple(int(n) for n in reversed(tensor.shape)) for tensor in reader.tensors}

    tensors: dict[str, np.ndarray] = {}
    for name, value in load_file(adapter_dir / "adapter_model.safetensors").items():
        hf_name = name.removeprefix(_PEFT_PREFIX)
        for part, suffix in ((".lora_A.weight", "lora_a"), (".lora_B.weight", "lora_b")):
            if hf_name.endswith(part):
                base = gguf_name(hf_name.removesuffix(part) + ".weight")
                if base is None or base not in base_shapes:
                    raise ModelError(f"adapter weight {name} has no matching tensor in the packaged base")
                kind = base.split(".", 2)[2]  # "blk.3.attn_q.weight" -> "attn_q.weight"
                if suffix == "lora_b" and kind in heads:
                    value = rope_permute(value, heads[kind])
                tensors[f"{base}.{suffix}"] = value.astype(np.float32)
                break
        else:
            raise ModelError(f"adapter weight {name} is not a LoRA matrix llama.cpp can apply")

    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    writer = gguf.GGUFWriter(str(partial), arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(config["lora_alpha"]))
    for name, value in sorted(tensors.items()):
        writer.add_tensor(name, value)
    return finish_gguf(writer, partial, target)
