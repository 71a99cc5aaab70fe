"""The fast advisor path: a PEFT LoRA adapter applied by llama.cpp on the packaged model must write
the same greedy answers as transformers with the same adapter, run for real on the packaged SmolLM2.

llama.cpp serves a float16 copy of the packaged Q4_1 file (the same dequantized weights that
transformers computes with). On the Q4_1 file itself, whose quantized activations tip near ties,
the two backends agree at ~97% of positions and greedy answers part after a dozen tokens. The
next-token agreement along transformers' greedy answers (teacher forcing) also shows that the
adapter is applied right: leaving it out, or storing its query/key rows in the wrong order, drops
the agreement to ~70%.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer.gguf_lora import export_lora_gguf, lora_gguf_path
from trainer.model import ModelError
from trainer.packaged import packaged_checkpoint, packaged_gguf, packaged_gguf_f16
from tutor.llm import LLMError, generate, load_chat_model
from tutor.llm.llamacpp_backend import LlamaCppChatModel, skip_crashing_cpu_kernels
from tutor.llm.transformers_backend import TransformersChatModel
from tutor.settings import Settings

QUESTIONS = [
    "What is LoRA?",
    "How many examples do I need to teach a model a new output format?",
    "Which learning rate suits QLoRA?",
]


@pytest.fixture(scope="module")
def random_adapter(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Path:
    """A LoRA adapter whose update is large enough to change most answers (PEFT starts B at zero)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(packaged_checkpoint(models_dir), dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    model = get_peft_model(base, config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0.0, 0.25)
    folder = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(folder)
    return folder


def _agreement(transformers_model: TransformersChatModel, llama, question: str, tokens: int = 40) -> float:
    """Share of positions of transformers' greedy answer where llama.cpp picks the same next token."""
    import torch

    messages = [{"role": "system", "content": "You are a course advisor."}, {"role": "user", "content": question}]
    prompt = transformers_model.tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )["input_ids"]
    with torch.inference_mode():
        answer = transformers_model.model.generate(prompt, max_new_tokens=tokens, do_sample=False)
        theirs = transformers_model.model(answer).logits[0].argmax(-1).numpy()
    ids = answer[0].tolist()
    llama.reset()
    llama.eval(ids)
    ours = np.array(llama.scores[: len(ids)]).argmax(-1)
    start = prompt.shape[1] - 1
    return float((theirs[start:-1] == ours[start:-1]).mean())


def _mean_agreement(transformers_model, llama) -> float:
    return float(np.mean([_agreement(transformers_model, llama, q) for q in QUESTIONS]))


def _llama(models_dir: Path, lora: Path | None = None):
    from llama_cpp import Llama

    skip_crashing_cpu_kernels()  # as the app loads its models
    lora_path = str(lora) if lora else None
    base = str(packaged_gguf_f16(models_dir))
    return Llama(model_path=base, n_ctx=1024, logits_all=True, lora_path=lora_path, verbose=False)


def test_llamacpp_applies_the_adapter_as_transformers_does(random_adapter: Path, models_dir: Path, tmp_path: Path):
    tuned = TransformersChatModel("", str(random_adapter), 0, models_dir)
    lora = export_lora_gguf(random_adapter, tmp_path)
    with_adapter = _mean_agreement(tuned, _llama(models_dir, lora))
    without_adapter = _mean_agreement(tuned, _llama(models_dir))
    assert with_adapter >= 0.97, (with_adapter, without_adapter)
    assert without_adapter <= with_adapter - 0.2, (with_adapter, without_adapter)  # the adapter matters here


def test_both_backends_write_the_same_greedy_answers(random_adapter: Path, models_dir: Path) -> None:
    """The product's two paths, as the advisor calls them: same prompt, same penalty, same words."""
    fast = LlamaCppChatModel(adapter=str(random_adapter), cache_dir=models_dir)
    slow = TransformersChatModel("", str(random_adapter), 0, models_dir)
    for question in QUESTIONS:
        messages = [{"role": "system", "content": "You are a course advisor."}, {"role": "user", "content": question}]
        ours = generate(fast, messages, max_new_tokens=60, temperature=0.0)
        theirs = generate(slow, messages, max_new_tokens=60, temperature=0.0)
        assert ours == theirs and len(ours.split()) >= 5, question


def test_the_default_backend_puts_the_adapter_on_llamacpp(random_adapter: Path, shared_data_dir: Path) -> None:
    settings = Settings(data_dir=shared_data_dir, llm_adapter=str(random_adapter), llm_worker=False)
    assert settings.backend == "llamacpp"  # llama-cpp-python is a dependency
    model = load_chat_model(settings)
    assert isinstance(model, LlamaCppChatModel) and "via llama.cpp +" in model.name
    assert "".join(model.stream([{"role": "user", "content": "Hi"}], max_new_tokens=8, temperature=0.0)).strip()
    converted = lora_gguf_path(random_adapter, settings.models_dir)  # other tests share the folder
    assert converted.is_file()
    written = converted.stat().st_mtime_ns
    load_chat_model(settings)  # the second load reuses the converted file
    assert converted.stat().st_mtime_ns == written


def test_adapters_llamacpp_cannot_apply_are_refused_by_name(random_adapter: Path, tmp_path: Path) -> None:
    import json
    import shutil

    dora = tmp_path / "dora"
    shutil.copytree(random_adapter, dora)
    config = json.loads((dora / "adapter_config.json").read_text())
    (dora / "adapter_config.json").write_text(json.dumps({**config, "use_dora": True}))
    with pytest.raises(ModelError, match="use_dora"):
        export_lora_gguf(dora, tmp_path / "cache")
    with pytest.raises(LLMError, match=r"adapter_config\.json missing"):
        LlamaCppChatModel(adapter=str(tmp_path / "nowhere"))
    with pytest.raises(LLMError, match="merge the adapter first"):
        LlamaCppChatModel(str(packaged_gguf()), adapter=str(random_adapter))


def test_making_the_f16_copy_writes_no_llama_cpp_log_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tutor ask` on a fresh data folder printed ~300 lines of llama.cpp's loader and quantizer log
    (every tensor) before the answer: the copy is made before any Llama(verbose=False) quiets it."""
    import logging

    monkeypatch.setattr(logging.getLogger("llama-cpp-python"), "level", logging.NOTSET)  # as in a new process
    packaged_gguf_f16(tmp_path)
    assert (tmp_path / "smollm2-135m-instruct-f16.gguf").is_file()
    assert "llama_model" not in capsys.readouterr().err
