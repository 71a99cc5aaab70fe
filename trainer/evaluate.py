"""Score a model on the held-out test set with the task's metric.

sentiment:      the first of positive/negative/neutral in the answer is the prediction;
                accuracy and macro-F1 (the mean of the three per-class F1 scores, so a model
                that always says "neutral" cannot look good on an unbalanced set).
summarization:  ROUGE-L F-measure between the generated and the reference summary.
advisor:        ROUGE-L against the reference answer (the app's own harness, ``tutor advisor eval``,
                is what measures the advisor; this is the trainer's quick before/after).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from trainer.data import LABELS, Example, prompt_messages

MAX_NEW_TOKENS = {"sentiment": 8, "summarization": 60, "advisor": 120}


@dataclass
class Scores:
    task: str
    examples: int
    metric: str  # the headline metric's name
    value: float  # the headline metric, 0..1
    details: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def parse_label(answer: str) -> str:
    """The first label word in the answer, or "" when there is none."""
    match = re.search(r"\b(positive|negative|neutral)\b", answer.lower())
    return match.group(1) if match else ""


def generate_answers(model, tokenizer, task: str, inputs: list[str], *, batch_size: int = 8) -> list[str]:
    """Greedy answers to a list of inputs, batched with left padding (as generation needs)."""
    import torch

    answers: list[str] = []
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        for start in range(0, len(inputs), batch_size):
            prompts = [
                tokenizer.apply_chat_template(prompt_messages(task, text), add_generation_prompt=True, tokenize=False)
                for text in inputs[start : start + batch_size]
            ]
            batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
            with torch.inference_mode():
                output = model.generate(
                    **batch,
                    max_new_tokens=MAX_NEW_TOKENS[task],
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                    use_cache=True,
                )
            new_tokens = output[:, batch["input_ids"].shape[1] :]  # (batch, new) — the answers only
            answers.extend(text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return answers


def score(task: str, predictions: list[str], references: list[str]) -> Scores:
    if task == "sentiment":
        return _classification_scores([parse_label(p) for p in predictions], references)
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    values = [scorer.score(ref, pred)["rougeL"].fmeasure for pred, ref in zip(predictions, references, strict=True)]
    mean = sum(values) / len(values) if values else 0.0
    return Scores(task, len(values), "rougeL", mean, {"rougeL": mean})


def evaluate(model, tokenizer, task: str, test: list[Example], *, batch_size: int = 8) -> tuple[Scores, list[str]]:
    predictions = generate_answers(model, tokenizer, task, [ex.input for ex in test], batch_size=batch_size)
    return score(task, predictions, [ex.output for ex in test]), predictions


def _classification_scores(predicted: list[str], gold: list[str]) -> Scores:
    n = len(gold)
    accuracy = sum(p == g for p, g in zip(predicted, gold, strict=True)) / n if n else 0.0
    f1s = []
    for label in LABELS:
        tp = sum(p == label and g == label for p, g in zip(predicted, gold, strict=True))
        fp = sum(p == label and g != label for p, g in zip(predicted, gold, strict=True))
        fn = sum(p != label and g == label for p, g in zip(predicted, gold, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    details = {
        "accuracy": accuracy,
        "macro_f1": sum(f1s) / len(f1s),
        "unparsed": sum(not p for p in predicted) / n if n else 0.0,
    }
    return Scores("sentiment", n, "accuracy", accuracy, details)
