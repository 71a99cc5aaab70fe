"""The real thing on a CPU: ``tutor train`` (and ``python -m trainer``, which it is an alias of)
fine-tunes the packaged SmolLM2 for a few steps.

Checks what a learner relies on: the loss goes down, the adapter, log and report are written,
the adapter loads in plain peft, changes the model and reproduces the reported metric; a
killed run leaves a readable log and a checkpoint that ``--resume`` continues from.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.trainer.conftest import write_tiny_config
from trainer.config import load_config
from trainer.data import load_examples, split_examples
from trainer.evaluate import evaluate, parse_label
from trainer.model import load_base_model, load_tokenizer, resolve_base
from trainer.progress import read_events

# Real training processes: a minute or two each on an idle 2-core machine, several times that on
# a busy shared one (CI). The 300 s default is for hangs in ordinary tests.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def tutor(data_dir: Path, *args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "tutor.cli", "--data-dir", str(data_dir), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def tutor_train(data_dir: Path, *args: str) -> subprocess.Popen:
    return tutor(data_dir, "train", *args)


def python_m_trainer(models_dir: Path, *args: str) -> subprocess.Popen:
    """The trainer on its own, as the run queue starts it."""
    command = [sys.executable, "-m", "trainer", "--models-dir", str(models_dir), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, shared_data_dir) -> Path:
    folder = tmp_path_factory.mktemp("e2e")
    config = write_tiny_config(folder, folder / "run", steps=6)
    proc = tutor_train(shared_data_dir, "--config", str(config))
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output
    assert "step 6/6" in output and "loss" in output  # one printed line per step
    return folder / "run"


def test_loss_goes_down_and_every_file_is_written(finished_run):
    events = read_events(finished_run / "progress.jsonl")
    losses = [e["loss"] for e in events if e["event"] == "step"]
    assert len(losses) == 6
    assert sum(losses[-2:]) / 2 < 0.6 * losses[0], losses
    step = next(e for e in events if e["event"] == "step")
    assert {"step", "max_steps", "loss", "lr", "tokens_per_s", "eta_s", "memory_mb"} <= set(step)
    assert any(e["event"] == "eval" for e in events)
    assert events[-1]["event"] == "done"
    for name in (
        "adapter/adapter_config.json",
        "adapter/adapter_model.safetensors",
        "adapter/training_config.yaml",
        "config.yaml",
        "metrics.json",
        "report.md",
        "loss.svg",
    ):
        assert (finished_run / name).is_file(), name
    report = (finished_run / "report.md").read_text(encoding="utf-8")
    assert "![training and validation loss](loss.svg)" in report and "| accuracy |" in report
    assert "<polyline" in (finished_run / "loss.svg").read_text(encoding="utf-8")
    card = (finished_run / "adapter" / "README.md").read_text(encoding="utf-8")
    assert "library_name: peft" in card and "| accuracy |" in card and "PeftModel.from_pretrained" in card


def test_adapter_loads_in_plain_peft_and_reproduces_the_metric(finished_run, models_dir):
    import torch
    from peft import PeftModel

    config = load_config(finished_run / "adapter" / "training_config.yaml")
    base_ref, _ = resolve_base("", models_dir)
    tokenizer = load_tokenizer(base_ref)
    from trainer.model import detect_hardware

    base = load_base_model(base_ref, config.model, detect_hardware())
    prompt = tokenizer("Profits rose 20% this year.", return_tensors="pt")
    with torch.inference_mode():
        base_logits = base(**prompt).logits
    tuned = PeftModel.from_pretrained(base, finished_run / "adapter")
    with torch.inference_mode():
        tuned_logits = tuned(**prompt).logits
    assert not torch.allclose(base_logits, tuned_logits, atol=1e-3)  # the adapter changes the model
    test = split_examples(load_examples(config.data), config.data).test
    scores, _ = evaluate(tuned, tokenizer, config.data.task, test)
    reported = json.loads((finished_run / "metrics.json").read_text(encoding="utf-8"))["after"]
    assert scores.value == pytest.approx(reported["value"])
    assert scores.details["macro_f1"] == pytest.approx(reported["details"]["macro_f1"])


def test_killed_run_leaves_a_readable_log_and_resumes(tmp_path, models_dir):
    config = write_tiny_config(tmp_path, tmp_path / "run", steps=8, eval_steps=100)  # no validation: faster
    proc = python_m_trainer(models_dir, "--config", str(config))
    log = tmp_path / "run" / "progress.jsonl"
    deadline = time.monotonic() + 400
    while not any(e["event"] == "checkpoint" for e in read_events(log)):
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)  # like a server killed mid-training: no chance to clean up
    proc.wait()
    proc.stdout.close()
    lines = log.read_text(encoding="utf-8").splitlines()
    complete = [json.loads(line) for line in lines if line.endswith("}")]
    assert len(complete) >= len(lines) - 1  # at most the last line is cut short
    saved = max(e["step"] for e in complete if e["event"] == "checkpoint")

    # Without --resume the old run is protected...
    again = python_m_trainer(models_dir, "--config", str(config))
    output, _ = again.communicate(timeout=120)
    assert again.returncode == 1 and "--resume" in output
    # ...with it, training continues from the checkpoint to the end.
    resumed = python_m_trainer(models_dir, "--config", str(config), "--resume")
    output, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, output
    events = read_events(log)
    starts = [e for e in events if e["event"] == "start"]
    assert starts[-1]["resume_from"].endswith(f"checkpoint-{saved}")
    after_resume = [e["step"] for e in events[events.index(starts[-1]) :] if e["event"] == "step"]
    assert after_resume[0] == saved + 1 and after_resume[-1] == 8
    assert events[-1]["event"] == "done"


def test_bad_config_exits_2_with_the_field(tmp_path, shared_data_dir):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  learning_rate: 0\n", encoding="utf-8")
    proc = tutor_train(shared_data_dir, "--config", str(bad))
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert f"{bad}:2: training.learning_rate: Input should be greater than 0" in output


def test_merged_and_gguf_exports_answer_like_the_adapter(finished_run, shared_data_dir):
    from llama_cpp import Llama
    from transformers import AutoModelForCausalLM

    from trainer.data import prompt_messages

    for fmt in ("merged", "gguf"):
        proc = tutor(shared_data_dir, "export", str(finished_run), "--format", fmt)
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, output
    config = load_config(finished_run / "config.yaml")
    test = split_examples(load_examples(config.data), config.data).test
    samples = json.loads((finished_run / "metrics.json").read_text(encoding="utf-8"))["samples"]
    adapter_answers = [s["after"] for s in samples]

    merged = AutoModelForCausalLM.from_pretrained(finished_run / "merged-float32")  # plain transformers, no peft
    tokenizer = load_tokenizer(str(finished_run / "merged-float32"))
    _, merged_answers = evaluate(merged, tokenizer, config.data.task, test)
    same = sum(a == b for a, b in zip(merged_answers, adapter_answers, strict=True))
    assert same >= len(test) - 1, (merged_answers, adapter_answers)  # W + B·A vs W·x + B·A·x: rounding only

    llm = Llama(model_path=str(finished_run / "model-f16.gguf"), n_ctx=512, verbose=False)
    gguf_answers = [
        llm.create_chat_completion(messages=prompt_messages("sentiment", ex.input), max_tokens=8, temperature=0)[
            "choices"
        ][0]["message"]["content"].strip()
        for ex in test
    ]
    # f16 weights in llama.cpp vs fp32 in torch: the parsed labels agree (rare near-ties aside).
    agree = sum(parse_label(a) == parse_label(b) for a, b in zip(gguf_answers, adapter_answers, strict=True))
    assert agree >= len(test) - 1, (gguf_answers, adapter_answers)
