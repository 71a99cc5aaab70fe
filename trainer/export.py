"""Export a finished run: the adapter as a zip, or a merged standalone model.

Merging adds B·A·(alpha/r) into each adapted weight matrix, so the result needs no peft at
inference time. It is always done on a fresh 16- or 32-bit load of the base, never on the 4-bit
one used for QLoRA: merged into NF4 the update would be rounded away (and peft refuses it).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from trainer import atomic, hub
from trainer.config import TrainConfig
from trainer.model import ModelError, resolve_base

MERGE_DTYPES = ("float32", "bfloat16", "float16")


def adapter_zip(output_dir: Path) -> Path:
    """``adapter.zip``: adapter weights, its config, tokenizer and the training config."""
    adapter = output_dir / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise ModelError(f"{output_dir} has no finished adapter yet")
    return atomic.make_zip(output_dir / "adapter.zip", adapter)


def merge_adapter(output_dir: Path, config: TrainConfig, *, models_dir: Path, dtype: str = "float32") -> Path:
    """``merged-<dtype>/``: the base with the adapter folded in, loadable by plain transformers.
    ``models_dir`` holds the packaged base's converted copy (see ``trainer.model.resolve_base``)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if dtype not in MERGE_DTYPES:
        raise ModelError(f"merge dtype must be one of {', '.join(MERGE_DTYPES)}")
    adapter = output_dir / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise ModelError(f"{output_dir} has no finished adapter yet")
    base_ref, _ = resolve_base(config.model.name, models_dir)
    base = hub.from_pretrained(AutoModelForCausalLM, base_ref, dtype=getattr(torch, dtype))  # never 4-bit
    merged = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    target = output_dir / f"merged-{dtype}"
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    merged.save_pretrained(partial)
    AutoTokenizer.from_pretrained(adapter).save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def merged_zip(output_dir: Path, config: TrainConfig, *, models_dir: Path, dtype: str = "float32") -> Path:
    target = output_dir / f"merged-{dtype}"
    if not (target / "config.json").is_file():
        merge_adapter(output_dir, config, dtype=dtype, models_dir=models_dir)
    archive = target.with_name(target.name + ".zip")
    newest = max(path.stat().st_mtime for path in target.iterdir())
    if archive.is_file() and archive.stat().st_mtime >= newest:
        return archive  # zipping 540 MB again for every download would cost a minute each
    return atomic.make_zip(archive, target)
