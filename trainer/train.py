"""One LoRA / QLoRA fine-tuning run, top to bottom.

    1. data     load the examples, split train/validation/test, build chat prompts,
                mask the prompt so the loss covers the answer only
    2. model    the frozen base (4-bit NF4 for QLoRA), scored on the test set: "before"
    3. LoRA     small trainable matrices next to the attention projections
    4. train    transformers Trainer: cosine schedule with warmup, gradient accumulation,
                eval loss and early stopping, checkpoints; progress events every step
    5. after    save the adapter, score it on the same test set, write the report

Everything lands in the output directory: ``progress.jsonl``, ``checkpoint-*/`` (resumable),
``adapter/`` (PEFT format, with the resolved config), ``metrics.json``, ``report.md``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from trainer import atomic
from trainer.config import TrainConfig
from trainer.data import Example, PadCollator, Splits, load_examples, split_examples, tokenize_all
from trainer.evaluate import Scores, evaluate
from trainer.model import (
    Hardware,
    add_lora,
    detect_hardware,
    load_base_model,
    load_tokenizer,
    prepare_for_training,
    resolve_base,
    trainable_parameters,
)
from trainer.progress import EventLog

LOG_NAME = "progress.jsonl"


class TrainError(RuntimeError):
    """A run that cannot start or cannot go on; the message says what to change."""


@dataclass
class RunResult:
    output_dir: Path
    status: str  # "done", "stopped" (resumable) or "diverged"
    before: Scores | None
    after: Scores | None
    seconds: float


def latest_checkpoint(output_dir: Path) -> Path | None:
    checkpoints = [p for p in output_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    complete = [p for p in checkpoints if (p / "trainer_state.json").is_file()]  # a killed save is incomplete
    return max(complete, key=lambda p: int(p.name.split("-")[-1]), default=None)


def train(
    config: TrainConfig,
    *,
    models_dir: Path,
    resume: bool = False,
    echo: bool = True,
    stop: threading.Event | None = None,
) -> RunResult:
    """Run ``config`` to the end (or until ``stop`` is set). ``models_dir`` holds the packaged base
    model's converted copy, made there on first use when ``model.name`` is empty."""
    started = time.monotonic()
    out = Path(config.training.output_dir)
    checkpoint = _checkpoint_to_resume(out, resume)
    log = EventLog(out / LOG_NAME, echo=echo, fresh=not resume)
    hardware = _start(config, out, log, checkpoint)

    # 1. Data ------------------------------------------------------------------------------
    splits = _load_splits(config, log)
    base_ref, base_name = resolve_base(config.model.name, models_dir)
    tokenizer = load_tokenizer(base_ref)
    train_rows, val_rows = _tokenize_splits(config, tokenizer, splits, log)

    # 2. The base model, and its score before training -------------------------------------------
    log.write("phase", phase="model", detail=f"loading {base_name} ({config.model.quantization})")
    model = load_base_model(base_ref, config.model, hardware)
    before = _score_before(model, tokenizer, config, splits.test, out, log)
    if config.model.quantization == "4bit" and not hardware.is_gpu:
        # bitsandbytes' CPU backend repacks 4-bit weights for inference on the first eval-mode
        # forward, and a model used for inference that way no longer trains (the loss stays flat,
        # measured: 5.65 -> 5.41 in 6 steps instead of 5.65 -> 3.07). Train a freshly loaded base.
        model = load_base_model(base_ref, config.model, hardware)

    # 3. LoRA ------------------------------------------------------------------------------------
    model = add_lora(prepare_for_training(model, config.model), config.lora)
    trainable, total = trainable_parameters(model)
    log.write("lora", trainable_params=trainable, total_params=total, percent=round(100 * trainable / total, 3))

    # 4. Train -----------------------------------------------------------------------------------
    trainer, progress = _fit(config, model, tokenizer, train_rows, val_rows, hardware, log, checkpoint, stop)
    ended = _ended_early(progress, trainer.state.global_step, log)
    if ended:
        return RunResult(out, ended, before, None, time.monotonic() - started)

    # 5. Save the adapter, score it, report -----------------------------------------------------
    adapter_dir = _save_adapter(model, tokenizer, config, out)
    log.write("phase", phase="evaluate after", detail=f"{len(splits.test)} test examples")
    after, after_answers = evaluate(model, tokenizer, config.data.task, splits.test)
    seconds = time.monotonic() - started
    _save_metrics(
        out,
        splits.test,
        before,
        after,
        after_answers,
        base_model=base_name,
        hardware=hardware.name,
        seconds=round(seconds, 1),
        steps=trainer.state.global_step,
        trainable_params=trainable,
        total_params=total,
    )
    from trainer.report import write_model_card, write_report

    write_report(out)
    write_model_card(out)  # replaces peft's empty template
    log.write(
        "done",
        seconds=round(seconds, 1),
        before=before.value,
        after=after.value,
        metric=after.metric,
        summary=f"{after.metric} {before.value:.3f} -> {after.value:.3f}",
        adapter=str(adapter_dir),
    )
    return RunResult(out, "done", before, after, seconds)


# --- the steps of train(), in order ---------------------------------------------------------------


def _checkpoint_to_resume(out: Path, resume: bool) -> Path | None:
    """The checkpoint ``--resume`` continues from; an earlier run's checkpoints are never overwritten."""
    checkpoint = latest_checkpoint(out) if resume else None
    if resume and checkpoint is None:
        raise TrainError(f"nothing to resume in {out}: it has no complete checkpoint-* folder")
    if not resume and latest_checkpoint(out) is not None:
        raise TrainError(f"{out} holds checkpoints of an earlier run: resume it (--resume) or pick another output dir")
    return checkpoint


def _start(config: TrainConfig, out: Path, log: EventLog, checkpoint: Path | None) -> Hardware:
    """Save the resolved config, seed torch, and log the start with the hardware found."""
    # Imported after the checks of _checkpoint_to_resume, which should answer at once.
    import torch

    atomic.write_text(out / "config.yaml", config.to_yaml())  # the resolved config
    hardware = detect_hardware()
    if config.training.threads:
        torch.set_num_threads(config.training.threads)
    torch.manual_seed(config.training.seed)
    log.write(
        "start",
        hardware=hardware.name,
        device=hardware.device,
        resume_from=str(checkpoint or ""),
        task=config.data.task,
        output_dir=str(out),
    )
    return hardware


def _load_splits(config: TrainConfig, log: EventLog) -> Splits:
    log.write("phase", phase="data", detail=f"loading {config.data.source}")
    return split_examples(load_examples(config.data), config.data)


def _tokenize_splits(config: TrainConfig, tokenizer, splits: Splits, log: EventLog) -> tuple[list[dict], list[dict]]:
    """Token rows for training and validation (the test set is scored from text, by generation)."""
    train_rows, dropped = tokenize_all(tokenizer, config.data.task, splits.train, config.data.max_length)
    val_rows, _ = tokenize_all(tokenizer, config.data.task, splits.val, config.data.max_length)
    log.write(
        "data",
        train=len(train_rows),
        val=len(val_rows),
        test=len(splits.test),
        dropped_too_long=dropped,
        mean_tokens=round(sum(len(r["input_ids"]) for r in train_rows) / max(len(train_rows), 1), 1),
    )
    if not train_rows:
        raise TrainError(f"no training example fits data.max_length={config.data.max_length}; raise it")
    return train_rows, val_rows


def _score_before(model, tokenizer, config: TrainConfig, test: list[Example], out: Path, log: EventLog) -> Scores:
    """The base model's test score; a resumed run scored it already and reads it back."""
    before = _load_scores(out / "metrics_before.json")
    if before is None:
        log.write("phase", phase="evaluate before", detail=f"{len(test)} test examples")
        before, before_answers = evaluate(model, tokenizer, config.data.task, test)
        _save_json(out / "metrics_before.json", {"scores": before.to_dict(), "predictions": before_answers})
    log.write("metrics", stage="before", **before.to_dict())
    return before


def _fit(config: TrainConfig, model, tokenizer, train_rows, val_rows, hardware, log, checkpoint, stop):
    """(trainer, progress callback) after training; out of memory becomes advice on what to change."""
    # transformers' callback module pulls in peft and bitsandbytes, which the run queue and the web
    # app (users of this module's LOG_NAME and latest_checkpoint) never need: imported here.
    import torch

    from trainer.callbacks import ProgressCallback

    collator = PadCollator(tokenizer.pad_token_id)
    progress = ProgressCallback(
        log, collator, hardware.device, watchdog_factor=config.training.watchdog_factor, stop=stop or threading.Event()
    )
    trainer = _trainer(config, model, train_rows, val_rows, collator, progress, hardware)
    log.write("phase", phase="train", detail=f"{len(train_rows)} examples")
    try:
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    except torch.OutOfMemoryError:
        raise TrainError(out_of_memory_advice(config)) from None
    except RuntimeError as exc:
        if "out of memory" in str(exc).lower():
            raise TrainError(out_of_memory_advice(config)) from None
        raise
    return trainer, progress


def _ended_early(progress, step: int, log: EventLog) -> str | None:
    """How training ended early, "diverged" or "stopped" (logged with why); None when it ran to the end."""
    if progress.diverged:
        message = f"{progress.diverged}. Lower training.learning_rate (e.g. to a third) and start again."
        log.write("diverged", message=message, step=step)
        return "diverged"
    if progress.stopped:
        log.write("stopped", message="stopped on request; resume continues from the last checkpoint", step=step)
        return "stopped"
    return None


def _save_adapter(model, tokenizer, config: TrainConfig, out: Path) -> Path:
    adapter_dir = out / "adapter"
    model.save_pretrained(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)
    atomic.write_text(adapter_dir / "training_config.yaml", config.to_yaml())
    return adapter_dir


def _save_metrics(out: Path, test: list[Example], before: Scores, after: Scores, after_answers, **facts) -> None:
    """``metrics.json``: both scores, the run's facts, and each test example answered before and after."""
    before_answers = json.loads((out / "metrics_before.json").read_text(encoding="utf-8"))["predictions"]
    samples = [
        {"input": ex.input, "reference": ex.output, "before": b, "after": a}
        for ex, b, a in zip(test, before_answers, after_answers, strict=False)
    ]
    _save_json(
        out / "metrics.json", {"before": before.to_dict(), "after": after.to_dict(), **facts, "samples": samples}
    )


def out_of_memory_advice(config: TrainConfig) -> str:
    tips = [f"shorter sequences (data.max_length {config.data.max_length} -> {max(64, config.data.max_length // 2)})"]
    if config.training.batch_size > 1:
        tips.append(
            f"a smaller batch (training.batch_size {config.training.batch_size} -> "
            f"{max(1, config.training.batch_size // 2)}, with training.gradient_accumulation doubled to keep "
            "the effective batch)"
        )
    if config.model.quantization == "none":
        tips.append("4-bit weights (model.quantization: 4bit)")
    if not config.model.gradient_checkpointing:
        tips.append("gradient checkpointing (model.gradient_checkpointing: true)")
    return "out of memory. Try, in this order: " + "; ".join(tips) + "."


def _trainer(config: TrainConfig, model, train_rows, val_rows, collator, progress, hardware):
    from transformers import EarlyStoppingCallback, PrinterCallback, Trainer, TrainingArguments

    t = config.training
    evaluate_during = bool(val_rows)
    early_stop = evaluate_during and t.early_stopping_patience > 0
    args = TrainingArguments(
        output_dir=t.output_dir,
        num_train_epochs=t.epochs,
        max_steps=t.max_steps or -1,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.batch_size,
        gradient_accumulation_steps=t.gradient_accumulation,
        learning_rate=t.learning_rate,
        lr_scheduler_type=t.scheduler,
        warmup_steps=t.warmup_ratio,  # a float below 1 is a share of the total steps
        weight_decay=t.weight_decay,
        max_grad_norm=t.max_grad_norm,
        logging_steps=1,
        eval_strategy="steps" if evaluate_during else "no",
        eval_steps=t.eval_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=2,
        load_best_model_at_end=early_stop,
        metric_for_best_model="eval_loss" if early_stop else None,
        greater_is_better=False if early_stop else None,
        train_sampling_strategy="group_by_length" if t.group_by_length else "random",
        bf16=hardware.is_gpu and config.model.compute_dtype in ("auto", "bfloat16") and hardware.bf16,
        use_cpu=not hardware.is_gpu,
        seed=t.seed,
        report_to=[],
        disable_tqdm=True,
        remove_unused_columns=False,
        dataloader_num_workers=0,
    )
    callbacks = [progress]
    if early_stop:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=t.early_stopping_patience))
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=val_rows or None,
        data_collator=collator,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # our ProgressCallback prints one line per step instead
    return trainer


def _load_scores(path: Path) -> Scores | None:
    if not path.is_file():
        return None
    return Scores(**json.loads(path.read_text(encoding="utf-8"))["scores"])


def _save_json(path: Path, data: dict) -> None:
    atomic.write_text(path, json.dumps(data, indent=2))  # never a half-written metrics file
