"""Export a merged model as GGUF (f16) for llama.cpp and Ollama.

For the packaged SmolLM2 base we already hold a GGUF file: its metadata (architecture numbers,
tokenizer, chat template) is copied as is, and its tensors are replaced by the merged weights
under llama.cpp's names. One detail matters: llama.cpp stores the query and key projections
with their rows interleaved differently from Hugging Face (rotary embedding layout), and
transformers undoes that when it reads a GGUF, so we redo it when writing one.

Other bases: convert the merged folder with llama.cpp's ``convert_hf_to_gguf.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from trainer.config import TrainConfig
from trainer.export import merge_adapter
from trainer.model import ModelError
from trainer.packaged import PackagedModelError, packaged_gguf

# Hugging Face Llama parameter names -> llama.cpp tensor names.
LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
GLOBAL_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}


def gguf_name(hf_name: str) -> str | None:
    if hf_name in GLOBAL_NAMES:
        return GLOBAL_NAMES[hf_name]
    match = re.fullmatch(r"model\.layers\.(\d+)\.(.+)", hf_name)
    if match and match.group(2) in LAYER_NAMES:
        return f"blk.{match.group(1)}.{LAYER_NAMES[match.group(2)]}"
    return None


def rope_permute(weight: np.ndarray, n_heads: int) -> np.ndarray:
    """Hugging Face row order -> llama.cpp's, per head: (heads, 2, d/2, in) -> (heads, d/2, 2, in)."""
    rows = weight.shape[0]
    return weight.reshape(n_heads, 2, rows // n_heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def read_packaged_gguf():
    """The packaged base's GGUF reader, architecture name, and query and key/value head counts."""
    import gguf

    try:
        packaged = packaged_gguf()
    except PackagedModelError as exc:
        raise ModelError(str(exc)) from None
    reader = gguf.GGUFReader(packaged)
    arch = reader.fields["general.architecture"].contents()
    n_heads = int(reader.fields[f"{arch}.attention.head_count"].contents())
    n_kv_heads = int(reader.fields[f"{arch}.attention.head_count_kv"].contents())
    return reader, arch, n_heads, n_kv_heads


def export_gguf(output_dir: Path, config: TrainConfig, *, models_dir: Path) -> Path:
    """``model-f16.gguf``: the merged model under the packaged GGUF's metadata. ``models_dir`` holds
    the packaged base's converted copy (see ``trainer.model.resolve_base``)."""
    import gguf
    from safetensors.numpy import load_file

    if config.model.name:
        raise ModelError(
            "GGUF export copies the packaged model's GGUF metadata, so it works for the packaged base only; "
            "for other models run llama.cpp's convert_hf_to_gguf.py on the merged folder"
        )
    merged = output_dir / "merged-float32"
    if not (merged / "config.json").is_file():
        merge_adapter(output_dir, config, dtype="float32", models_dir=models_dir)
    weights: dict[str, np.ndarray] = {}
    for shard in sorted(merged.glob("*.safetensors")):
        weights.update(load_file(shard))
    by_gguf = {gguf_name(name): value for name, value in weights.items() if gguf_name(name)}

    reader, arch, n_heads, n_kv_heads = read_packaged_gguf()
    target = output_dir / "model-f16.gguf"
    partial = target.with_suffix(".partial")
    writer = gguf.GGUFWriter(str(partial), arch)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in ("general.architecture", "general.file_type"):
            continue
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), field.types[0], sub_type=sub_type)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    for tensor in reader.tensors:
        if tensor.name not in by_gguf:
            raise ModelError(f"the merged model has no weight for GGUF tensor {tensor.name}")
        value = by_gguf[tensor.name]
        if tensor.name.endswith("attn_q.weight"):
            value = rope_permute(value, n_heads)
        elif tensor.name.endswith("attn_k.weight"):
            value = rope_permute(value, n_kv_heads)
        # Norm vectors stay f32 (llama.cpp expects it); matrices go to f16.
        writer.add_tensor(tensor.name, value.astype(np.float32 if value.ndim == 1 else np.float16))
    return finish_gguf(writer, partial, target)


def finish_gguf(writer, partial: Path, target: Path) -> Path:
    """Write the file under a temporary name, then move it into place: a reader never sees half a file."""
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    partial.replace(target)
    return target
