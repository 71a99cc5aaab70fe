"""Examples in, token tensors out: load a dataset, split it, and turn each example into a chat.

The loss is computed on the answer tokens only: every prompt token gets the label -100, which
PyTorch's cross-entropy ignores. So the model learns to *answer*, not to repeat the question.

    prompt:  <|im_start|>system ... <|im_start|>user Classify ... <|im_start|>assistant\n
    answer:  positive<|im_end|>
    labels:  -100 -100 ... -100                                   positive <|im_end|>
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from trainer import hub
from trainer.config import DataSection
from trainer.records import NotTextError, decode_text, is_csv, is_jsonl, read_csv, read_jsonl

BUILTIN_DIR = Path(__file__).parent / "datasets"
BUILTIN_FILES = {"sentiment": "financial_sentiment.jsonl", "summarization": "dialogue_summaries.jsonl"}
# ``builtin`` is the cleaned set (what the critic found removed; DATA_CARD.md says how), and
# ``builtin:raw`` the set as generated, kept as the worked example of what the critic catches.
BUILTIN_SOURCES = ("builtin", "builtin:raw")
DEFAULT_FIELDS = {
    "sentiment": (("text", "sentence"), ("label",)),
    "summarization": (("dialogue",), ("summary",)),
    "advisor": (("messages",), ("answer",)),  # the prompt is a whole chat (system + user turns)
}
LABELS = ("positive", "negative", "neutral")
# financial_phrasebank on the Hub stores labels as integers in this order.
HUB_LABELS = {0: "negative", 1: "neutral", 2: "positive"}

SYSTEM = {
    "sentiment": "You rate the sentiment of financial news.",
    "summarization": "You write short, factual summaries of chat conversations.",
}
INSTRUCTION = {
    "sentiment": "{input}\n\nIs this news positive, negative or neutral?",
    "summarization": "Summarise this dialogue in one sentence.\n\n{input}",
}


class DataError(ValueError):
    """A dataset that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Example:
    input: str  # for the advisor task: the prompt's messages as JSON
    output: str
    group: str = ""  # examples of one group stay in one split (data.group_field)


@dataclass(frozen=True)
class Splits:
    train: list[Example]
    val: list[Example]
    test: list[Example]


def builtin_path(task: str, source: str = "builtin") -> Path:
    """The shipped file of a built-in source: ``builtin`` (clean) or ``builtin:raw``."""
    raw = BUILTIN_DIR / BUILTIN_FILES[task]
    return raw if source == "builtin:raw" else raw.with_suffix(".clean.jsonl")


def load_examples(data: DataSection) -> list[Example]:
    """Every usable example of the configured source, in file order."""
    source = data.source.strip()
    if source in BUILTIN_SOURCES and data.task not in BUILTIN_FILES:
        raise DataError(f"the {data.task} task has no built-in dataset: `tutor advisor build --data-only` makes it")
    if source in BUILTIN_SOURCES:
        records = _read_file(builtin_path(data.task, source))
    elif source.startswith("hf:"):
        records = _read_hub(source.removeprefix("hf:"))
    else:
        records = _read_file(Path(source))
    examples = [_example(record, where, data) for where, record in records]
    if data.max_examples:
        examples = examples[: data.max_examples]
    if len(examples) < 10:
        raise DataError(f"{source}: only {len(examples)} examples; a train/validation/test split needs at least 10")
    return examples


def split_examples(examples: list[Example], data: DataSection) -> Splits:
    """Train / validation / test by a seeded hash of each example's own input: an example's split
    depends only on its text and the seed, never on the rows around it. So a cleaned copy of a
    dataset (rows removed) keeps every remaining row in the split it had, its test set is the raw
    test set minus the removed rows, and removing train rows that leak into the test set cannot
    move other rows around. Rows with the same input always share a split.
    With ``group_field``, whole groups are shuffled and cut, so a group never spans two splits."""
    if data.group_field:
        return _split_groups(examples, data)
    ranked = sorted(examples, key=lambda example: split_position(example.input, data.seed))
    positions = [split_position(example.input, data.seed) for example in ranked]
    n_test = max(1, bisect.bisect_left(positions, data.test_fraction))
    n_val = bisect.bisect_left(positions, data.test_fraction + data.val_fraction) - n_test
    if data.val_fraction and n_val < 1 and len(ranked) - n_test > 1:
        n_val = 1  # a tiny dataset still gets an eval loss
    test, val, train = ranked[:n_test], ranked[n_test : n_test + n_val], ranked[n_test + n_val :]
    random.Random(data.seed).shuffle(train)  # batches mix kinds; the hash order is not random enough to rely on
    return Splits(train=train, val=val, test=test[: data.max_test_examples])


def split_position(text: str, seed: int) -> float:
    """Where an input falls in [0, 1): test below test_fraction, validation next, train above."""
    digest = hashlib.sha256(f"{seed}\x00{text}".encode()).hexdigest()
    return int(digest[:13], 16) / 16**13


def _split_groups(examples: list[Example], data: DataSection) -> Splits:
    groups: dict[str, list[Example]] = {}
    for example in examples:
        groups.setdefault(example.group, []).append(example)
    names = sorted(groups)
    random.Random(data.seed).shuffle(names)
    test: list[Example] = []
    val: list[Example] = []
    train: list[Example] = []
    for name in names:  # fill test, then validation, group by group, up to their shares
        if len(test) < data.test_fraction * len(examples):
            test += groups[name]
        elif len(val) < data.val_fraction * len(examples):
            val += groups[name]
        else:
            train += groups[name]
    rng = random.Random(data.seed)
    for part in (train, val, test):  # mixed kinds in every batch and in the capped test set
        rng.shuffle(part)
    return Splits(train=train, val=val, test=test[: data.max_test_examples])


def prompt_messages(task: str, text: str) -> list[dict[str, str]]:
    if task == "advisor":  # the whole prompt, as the lab sent it
        return json.loads(text)
    return [
        {"role": "system", "content": SYSTEM[task]},
        {"role": "user", "content": INSTRUCTION[task].format(input=text)},
    ]


def tokenize_example(tokenizer, task: str, example: Example, max_length: int) -> dict[str, list[int]] | None:
    """input_ids and labels (-100 on the prompt) for one example; None when the answer does not fit."""
    messages = prompt_messages(task, example.input)
    prompt_ids = _ids(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True))
    full_ids = _ids(
        tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": example.output}], tokenize=True)
    )
    # The chat template may add a trailing newline after the end-of-turn token; it is part of the
    # answer's tokens, which is harmless. What matters is that the prompt is a prefix.
    if full_ids[: len(prompt_ids)] != prompt_ids:
        raise DataError("the tokenizer's chat template does not put the prompt before the answer")
    answer_len = len(full_ids) - len(prompt_ids)
    if len(full_ids) > max_length:
        keep_prompt = max_length - answer_len
        if keep_prompt < 8:
            return None
        # Cut the middle of the prompt (the input), keeping the instruction's start and the
        # assistant header at its end, so the model still sees where to answer.
        head = keep_prompt // 2
        prompt_ids = prompt_ids[:head] + prompt_ids[len(prompt_ids) - (keep_prompt - head) :]
        full_ids = prompt_ids + full_ids[len(full_ids) - answer_len :]
    labels = [-100] * len(prompt_ids) + full_ids[len(prompt_ids) :]
    return {"input_ids": full_ids, "labels": labels}


def tokenize_all(tokenizer, task: str, examples: list[Example], max_length: int) -> tuple[list[dict], int]:
    """Tokenized examples, and how many were dropped because their answer alone was too long."""
    rows = [tokenize_example(tokenizer, task, example, max_length) for example in examples]
    kept = [row for row in rows if row is not None]
    return kept, len(rows) - len(kept)


class PadCollator:
    """Pads a batch to its own longest example (not to max_length) and counts real tokens.

    With length-grouped batches the padding is small, and ``tokens_seen`` gives an honest
    tokens/s: padding is work the model does, but not learning.
    """

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id
        self.tokens_seen = 0

    def __call__(self, rows: list[dict]):
        import torch

        longest = max(len(row["input_ids"]) for row in rows)
        input_ids = torch.full((len(rows), longest), self.pad_token_id, dtype=torch.long)  # (batch, seq)
        labels = torch.full((len(rows), longest), -100, dtype=torch.long)
        attention = torch.zeros((len(rows), longest), dtype=torch.long)
        for i, row in enumerate(rows):
            n = len(row["input_ids"])
            input_ids[i, :n] = torch.tensor(row["input_ids"])
            labels[i, :n] = torch.tensor(row["labels"])
            attention[i, :n] = 1
        self.tokens_seen += int(attention.sum())
        return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}


def _ids(value) -> list[int]:
    # apply_chat_template returns a list, or a BatchEncoding in some tokenizer versions.
    if hasattr(value, "keys") and "input_ids" in value:
        value = value["input_ids"]
    return list(value)


def _example(record: dict, where: str, data: DataSection) -> Example:
    inputs, outputs = DEFAULT_FIELDS[data.task]
    if data.input_field:
        inputs = (data.input_field,)
    if data.output_field:
        outputs = (data.output_field,)
    text = next((record[name] for name in inputs if name in record), None)
    answer = next((record[name] for name in outputs if name in record), None)
    if text is None or answer is None:
        wanted = f"{'/'.join(inputs)} and {'/'.join(outputs)}"
        # Names the fields wanted, never the file's own words: an error must not echo content.
        raise DataError(f"{where}: needs the fields {wanted} ({len(record)} other field(s) found)")
    if data.task == "sentiment":
        answer = HUB_LABELS.get(answer, answer) if isinstance(answer, int) else str(answer).strip().lower()
        if answer not in LABELS:
            raise DataError(f"{where}: the label must be one of {', '.join(LABELS)}")
    if data.task == "advisor":
        if not (isinstance(text, list) and all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in text)):
            raise DataError(f"{where}: 'messages' must be a list of {{role, content}} objects")
        text = json.dumps(text, ensure_ascii=False)
    text, answer = str(text).strip(), str(answer).strip()
    if not text or not answer:
        raise DataError(f"{where}: empty input or answer")
    group = str(record.get(data.group_field, "")) if data.group_field else ""
    return Example(input=text, output=answer, group=group)


def _read_file(path: Path) -> list[tuple[str, dict]]:
    """(``file:line``, record) pairs from a .jsonl or .csv file."""
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    try:
        text = decode_text(path.read_bytes())  # UTF-8, or UTF-16/32 by a byte-order mark
    except NotTextError as exc:
        raise DataError(f"{path}: {exc}" if exc.binary else f"{path}:{exc.line}: {exc}") from None
    if is_csv(path.name):
        read = read_csv(text, normalise_header=False)
    elif is_jsonl(path.name):
        read = read_jsonl(text)
    else:
        raise DataError(f"{path}: use a .jsonl or .csv file")
    # The loader stops at the first bad line (the dataset critic lists them all).
    problems = [(bad.line, bad.detail) for bad in read.problems]
    problems += [(r.line, "each line must be a JSON object") for r in read.records if not isinstance(r.value, dict)]
    if problems:
        line, detail = min(problems)
        raise DataError(f"{path}:{line}: {detail}")
    return [(f"{path}:{record.line}", record.value) for record in read.records]


def _read_hub(ref: str) -> list[tuple[str, dict]]:
    """A Hub dataset, e.g. ``takala/financial_phrasebank:sentences_allagree`` (needs a network)."""
    name, _, subset = ref.partition(":")
    try:
        import datasets
    except ImportError:
        raise DataError(f"hf:{ref}: Hub datasets need the 'datasets' package (pip install -e '.[hub]')") from None
    try:
        loaded = datasets.load_dataset(name, subset or None, split="train")
    except Exception as exc:  # offline, unknown id, gated dataset: all mean "not available here"
        first = hub.first_line(exc)
        raise DataError(
            f"hf:{ref}: cannot load it from the Hugging Face Hub ({first}). Offline? Use 'builtin' or a local file."
        ) from None
    return [(f"hf:{ref}#{i}", dict(row)) for i, row in enumerate(loaded)]
