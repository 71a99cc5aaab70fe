"""Data: loaders with file:line errors, a seeded disjoint split, loss on the answer tokens only."""

from __future__ import annotations

import json

import pytest

from trainer.config import DataSection
from trainer.data import (
    DataError,
    Example,
    PadCollator,
    builtin_path,
    load_examples,
    split_examples,
    tokenize_example,
)
from trainer.model import load_tokenizer, resolve_base


@pytest.fixture(scope="module")
def tokenizer(models_dir):
    base, _ = resolve_base("", models_dir)
    return load_tokenizer(base)


@pytest.mark.parametrize("task", ["sentiment", "summarization"])
def test_builtin_datasets_load_with_a_data_card(task):
    examples = load_examples(DataSection(task=task))
    raw = load_examples(DataSection(task=task, source="builtin:raw"))
    assert len(examples) >= 250 and len(raw) >= 300 and {e.input for e in examples} < {e.input for e in raw}
    assert len({ex.input for ex in examples}) == len(examples)  # no duplicate inputs
    card = (builtin_path(task).parent / "DATA_CARD.md").read_text(encoding="utf-8")
    assert builtin_path(task).name in card and builtin_path(task, "builtin:raw").name in card and "Licen" in card


def test_split_is_seeded_and_disjoint():
    data = DataSection(task="sentiment")
    examples = load_examples(data)
    first, again = split_examples(examples, data), split_examples(examples, data)
    assert first == again
    train, val, test = ({ex.input for ex in part} for part in (first.train, first.val, first.test))
    assert not (train & test) and not (train & val) and not (val & test)
    # Shares near the configured 10/10/80 (each example's split comes from its own hash).
    assert 40 <= len(first.test) <= 80 and 40 <= len(first.val) <= 80
    assert len(first.train) + len(first.val) + len(first.test) == len(examples)
    other = split_examples(examples, DataSection(task="sentiment", seed=7))
    assert other.test != first.test


def test_removing_rows_never_moves_the_others_to_another_split():
    """A cleaned copy of a dataset keeps every remaining row where it was: its test set is the raw
    test set minus the removed rows, so raw and clean runs are scored on the same held-out rows."""
    data = DataSection(task="sentiment", max_test_examples=1000)
    examples = load_examples(data)
    full = split_examples(examples, data)
    kept = examples[::3] + examples[1::3]  # a third of the rows removed
    part = split_examples(kept, data)
    for mine, whole in ((part.train, full.train), (part.val, full.val), (part.test, full.test)):
        assert {ex.input for ex in mine} == {ex.input for ex in whole} & {ex.input for ex in kept}


def test_a_tiny_dataset_still_gets_a_test_and_a_validation_example():
    rows = [Example(f"Sales rose {i}%.", "positive") for i in range(10)]
    splits = split_examples(rows, DataSection(task="sentiment"))
    assert len(splits.test) >= 1 and len(splits.val) >= 1 and len(splits.train) >= 7


def test_local_jsonl_and_csv(tmp_path):
    rows = [{"sentence": f"Sales rose {i}%.", "label": "positive"} for i in range(12)]
    jsonl = tmp_path / "mine.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert load_examples(DataSection(source=str(jsonl)))[0] == Example("Sales rose 0%.", "positive")
    csv_file = tmp_path / "mine.csv"
    csv_file.write_text("text,label\n" + "\n".join(f"Profit fell {i}%.,Negative" for i in range(12)), encoding="utf-8")
    assert load_examples(DataSection(source=str(csv_file)))[-1] == Example("Profit fell 11%.", "negative")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"text": "a", "label": "positive"}\n{"text": "b", "label": "great"}\n',
            "bad.jsonl:2: the label must be one of",
        ),
        ('{"text": "a", "label": "positive"}\n{"text": oops}\n', "bad.jsonl:2: not valid JSON"),
        ('{"prompt": "a", "completion": "b"}\n', "bad.jsonl:1: needs the fields text/sentence and label"),
        ('["a", "b"]\n', "bad.jsonl:1: each line must be a JSON object"),
        ('{"text": "a", "label": "positive"}\n' * 3, "only 3 examples"),
    ],
)
def test_bad_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message.replace("(", r"\(")):
        load_examples(DataSection(source=str(path)))


def test_csv_errors_name_the_line_a_row_starts_on(tmp_path):
    rows = "\n".join(f"Sales rose {i}%.,positive" for i in range(10))
    path = tmp_path / "bad.csv"
    path.write_text(f'text,label\n"Profit fell,\nsharply",negative\n{rows}\nA fine day,great\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.csv:14: the label must be one of"):  # the quoted row spans lines 2-3
        load_examples(DataSection(source=str(path)))


def test_hub_source_without_datasets_or_network_says_so():
    with pytest.raises(DataError, match="hf:takala/financial_phrasebank"):
        load_examples(DataSection(source="hf:takala/financial_phrasebank"))


def test_loss_only_on_the_answer(tokenizer):
    row = tokenize_example(tokenizer, "sentiment", Example("Sales rose 5%.", "positive"), 256)
    answer = [t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label != -100]
    prompt = [t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label == -100]
    assert tokenizer.decode(answer).startswith("positive<|im_end|>")
    assert "Sales rose 5%." in tokenizer.decode(prompt)
    assert tokenizer.decode(prompt).endswith("<|im_start|>assistant\n")
    assert row["labels"][: len(prompt)] == [-100] * len(prompt)  # the prompt comes first, all masked


def test_long_inputs_are_cut_but_keep_the_answer(tokenizer):
    long_text = "The company said many things. " * 200
    row = tokenize_example(tokenizer, "summarization", Example(long_text, "It talked."), 128)
    assert len(row["input_ids"]) == 128
    answer = [t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label != -100]
    assert tokenizer.decode(answer).startswith("It talked.")
    assert tokenizer.decode(row["input_ids"]).rstrip().endswith("It talked.<|im_end|>")


def test_collator_pads_to_the_batch_and_counts_real_tokens():
    collator = PadCollator(pad_token_id=0)
    batch = collator([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8], "labels": [8]}])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert collator.tokens_seen == 4


def test_the_advisor_task_reads_whole_chat_prompts(tmp_path, tokenizer):
    messages = [{"role": "system", "content": "Answer from the passages."}, {"role": "user", "content": "What is r?"}]
    rows = [{"messages": messages, "answer": f"The rank, {i}.", "group": f"s{i % 4}"} for i in range(12)]
    path = tmp_path / "advisor.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    data = DataSection(task="advisor", source=str(path), group_field="group")
    examples = load_examples(data)
    assert json.loads(examples[0].input) == messages and examples[0].group == "s0"
    row = tokenize_example(tokenizer, "advisor", examples[0], 256)
    answer_ids = [t for t, label in zip(row["input_ids"], row["labels"], strict=True) if label != -100]
    assert "The rank, 0." in tokenizer.decode(answer_ids)  # the loss covers the answer only
    assert "Answer from the passages." in tokenizer.decode(row["input_ids"])


def test_advisor_data_errors_say_where(tmp_path):
    path = tmp_path / "advisor.jsonl"
    path.write_text(json.dumps({"messages": "not a list", "answer": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"advisor.jsonl:1: 'messages' must be a list"):
        load_examples(DataSection(task="advisor", source=str(path)))
    with pytest.raises(DataError, match=r"no built-in dataset.*tutor advisor build"):
        load_examples(DataSection(task="advisor"))
