"""Benchmark: the lab's QLoRA trainer against a plain transformers Trainer + peft script.

Both train the same LoRA (same rank, targets, data, batch, steps) in the same process, one after
the other; we report median tokens/s over the steps and peak memory, and the ratios.

    python bench/qlora_train.py                  # the GPU config (4-bit NF4 + bf16 vs plain bf16)
    python bench/qlora_train.py --steps 8 --cpu  # a CPU smoke run (NF4 + fp32 vs plain fp32)

"plain" is what a learner writes from the peft docs: the base in bf16 (fp32 on a CPU), no
quantization, Trainer with default settings and a padding collator.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from trainer.command import DEFAULT_MODELS_DIR
from trainer.config import shipped_config
from trainer.data import PadCollator, load_examples, split_examples, tokenize_all
from trainer.model import add_lora, detect_hardware, load_tokenizer, resolve_base
from trainer.progress import read_events, summarise
from trainer.train import train


def peak_memory_mb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def run_lab(config, out: Path, models_dir: Path) -> dict:
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    config.training.output_dir = str(out)
    result = train(config, models_dir=models_dir, echo=False)
    progress = summarise(read_events(out / "progress.jsonl"))
    rates = progress.speeds[1:]  # the first step includes warm-up work
    return {
        "tokens_per_s": statistics.median(rates),
        "peak_mb": progress.peak_memory_mb,
        "seconds": result.seconds,
        "after": result.after.value if result.after else None,
    }


class _Timer:
    """A TrainerCallback-like hook for the plain script: per-step tokens/s from the collator."""

    def __init__(self, collator: PadCollator) -> None:
        self.collator, self.rates, self._last = collator, [], None

    def __call__(self) -> None:
        now, tokens = time.perf_counter(), self.collator.tokens_seen
        if self._last is not None:
            self.rates.append((tokens - self._last[1]) / (now - self._last[0]))
        self._last = (now, tokens)


def run_plain(config, base_ref: str, device: str) -> dict:
    from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments

    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    tokenizer = load_tokenizer(base_ref)
    splits = split_examples(load_examples(config.data), config.data)
    rows, _ = tokenize_all(tokenizer, config.data.task, splits.train, config.data.max_length)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base_ref, dtype=dtype).to(device)
    model = add_lora(model, config.lora)
    collator = PadCollator(tokenizer.pad_token_id)
    timer = _Timer(collator)

    class Tick(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            timer()

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            max_steps=config.training.max_steps,
            per_device_train_batch_size=config.training.batch_size,
            learning_rate=config.training.learning_rate,
            bf16=device == "cuda",
            use_cpu=device == "cpu",
            report_to=[],
            save_strategy="no",
            logging_steps=10,
            disable_tqdm=True,
            remove_unused_columns=False,
        )
        trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=collator, callbacks=[Tick()])
        started = time.perf_counter()
        trainer.train()
    return {
        "tokens_per_s": statistics.median(timer.rates),
        "peak_mb": peak_memory_mb(device),
        "seconds": time.perf_counter() - started,
        "after": None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--cpu", action="store_true", help="allow a run without CUDA (smoke test)")
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR, help="the packaged model's copy")
    args = parser.parse_args()
    hardware = detect_hardware()
    if not hardware.is_gpu and not args.cpu:
        raise SystemExit("no CUDA GPU found; pass --cpu for a CPU smoke run")
    config = shipped_config("sentiment-gpu")
    config.model.quantization = "4bit"
    config.training.max_steps = args.steps
    config.training.early_stopping_patience = 0  # first: the config checks save/eval steps against it
    config.training.eval_steps = config.training.save_steps = args.steps
    base_ref, base_name = resolve_base(config.model.name, args.models_dir)
    with tempfile.TemporaryDirectory() as tmp:
        lab = run_lab(config, Path(tmp) / "lab", args.models_dir)
    if hardware.is_gpu:
        torch.cuda.empty_cache()
    plain = run_plain(config, base_ref, hardware.device)
    print(
        f"# {base_name} on {hardware.name}: {args.steps} steps, batch {config.training.batch_size}, "
        f"LoRA r={config.lora.r} on {', '.join(config.lora.target_modules)}"
    )
    print("| script | weights | tokens/s (median) | peak memory MB | wall s |")
    print("|---|---|---|---|---|")
    compute = "bf16" if hardware.is_gpu else "fp32"
    print(
        f"| lab trainer (QLoRA) | NF4 + {compute} compute | {lab['tokens_per_s']:.0f} | {lab['peak_mb']:.0f} | "
        f"{lab['seconds']:.1f} |"
    )
    print(
        f"| plain Trainer + peft | {compute} | {plain['tokens_per_s']:.0f} | {plain['peak_mb']:.0f} | "
        f"{plain['seconds']:.1f} |"
    )
    print(
        f"\nratio lab/plain: speed {lab['tokens_per_s'] / plain['tokens_per_s']:.2f}x, "
        f"peak memory {lab['peak_mb'] / plain['peak_mb']:.2f}x"
    )
    print("(the lab's wall time also includes loading, and scoring the test set before and after)")


if __name__ == "__main__":
    main()
