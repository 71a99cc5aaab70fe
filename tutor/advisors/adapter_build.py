"""``tutor advisor build``: the advisor's adapter, end to end.

    1. data    examples from the course (``adapter_data``), written with a data card
    2. train   LoRA on the packaged SmolLM2-135M-Instruct with ``trainer`` (trainer/configs/advisor-cpu.yaml)
    3. ship    the adapter and its model card copied to ``tutor/advisors/adapter/`` (what the labs load)
    4. eval    the advisor harness on the held-out questions: base and fine-tuned, with and without
               the check, in one run; the figures go in the model card

Every step can run alone; a test runs the whole chain on a tiny slice.
"""

from __future__ import annotations

import collections
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from tutor.advisors import adapter_data

SHIPPED_ADAPTER = Path(__file__).resolve().parent / "adapter"
CONFIG = Path(__file__).resolve().parents[2] / "trainer" / "configs" / "advisor-cpu.yaml"
DATA_NAME = "advisor.jsonl"


@dataclass
class BuiltData:
    path: Path
    examples: int
    by_kind: dict[str, int]
    by_split: dict[str, dict[str, int]]  # split -> kind -> examples
    counts: adapter_data.BuildCounts
    sha256: str = ""  # of the data file: the same data gives the same adapter and figures


def build_data(core, out_dir: Path, *, config, seed: int = 0, per_lab: int = 40, limit_units: int = 0) -> BuiltData:
    """Writes ``out_dir/advisor.jsonl`` and ``out_dir/DATA_CARD.md``; the card counts each split as
    the trainer will cut it (``config``'s data section)."""
    examples, counts = adapter_data.build(core, seed=seed, per_lab=per_lab, limit_units=limit_units)
    path = out_dir / DATA_NAME
    adapter_data.write(examples, path)
    (out_dir / "counts.json").write_text(json.dumps({"seed": seed, "per_lab": per_lab, **vars(counts)}))
    built = describe(path, config, counts)
    (out_dir / "DATA_CARD.md").write_text(data_card(built, seed=seed, per_lab=per_lab), encoding="utf-8")
    return built


_FINGERPRINT = re.compile(r"sha256 `([0-9a-f]{64})`")


def shipped_data_sha256(card: Path = SHIPPED_ADAPTER / "DATA_CARD.md") -> str:
    """The fingerprint of the data the shipped adapter was trained on ("" when none is shipped)."""
    found = _FINGERPRINT.search(card.read_text(encoding="utf-8")) if card.is_file() else None
    return found.group(1) if found else ""


def read_data(out_dir: Path, *, config) -> BuiltData:
    """The data an earlier ``build_data`` wrote (``--skip-data``)."""
    path = out_dir / DATA_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no advisor data yet; run `tutor advisor build --data-only` first")
    saved = json.loads((out_dir / "counts.json").read_text(encoding="utf-8"))
    counts = adapter_data.BuildCounts(**{k: saved[k] for k in vars(adapter_data.BuildCounts())})
    built = describe(path, config, counts)
    card = data_card(built, seed=saved["seed"], per_lab=saved["per_lab"])
    (out_dir / "DATA_CARD.md").write_text(card, encoding="utf-8")
    return built


def describe(path: Path, config, counts: adapter_data.BuildCounts) -> BuiltData:
    """Counts by kind and by split, the split cut as the trainer will cut it."""
    from trainer.data import load_examples, split_examples

    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    data = config.data.model_copy(update={"source": str(path)})
    kinds = {json.dumps(r["messages"], ensure_ascii=False): r["kind"] for r in records}
    splits = split_examples(load_examples(data), data.model_copy(update={"max_test_examples": 10**9}))
    by_split = {
        name: dict(collections.Counter(kinds.get(e.input, "?") for e in getattr(splits, name)))
        for name in ("train", "val", "test")
    }
    kinds_count = dict(collections.Counter(r["kind"] for r in records))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return BuiltData(path, len(records), kinds_count, by_split, counts, digest)


def data_card(built: BuiltData, *, seed: int, per_lab: int) -> str:
    rows = "\n".join(
        f"| {kind} | {built.by_kind.get(kind, 0)} | "
        + " | ".join(str(built.by_split[s].get(kind, 0)) for s in ("train", "val", "test"))
        + " |"
        for kind in ("question", "follow_up", "explain", "not_covered", "refusal")
    )
    c = built.counts
    return f"""# Data card: the advisor adapter's training data

Built by `tutor advisor build` (`tutor/advisors/adapter_data.py`), seed {seed}, {per_lab} use cases per lab.
Every answer was written by the app's own code from the course, not by a model: no model wrote
any of this data. The file, `advisor.jsonl`, has sha256 `{built.sha256}`; `tutor advisor build`
says whether the data it builds is byte for byte the data the shipped adapter was trained on (a
change to the rules or the course since, or retrieval ties ordering two passages the other way,
makes it differ).

## What is in it

| kind | examples | train | validation | test |
|---|---|---|---|---|
{rows}

- **question**: a learner's question about one sentence of the lessons or reference pages, asked
  through the lab's real retrieval; the answer is that sentence (with the next one when it is
  short), copied from a passage in the prompt. Questions name the sentence's most telling words
  ("What does the course say about NF4?") in a dozen phrasings, some in lower case or without a
  question mark.
- **follow_up**: "What about X?" after a question about another sentence of the same page, sent
  with the conversation as the lab sends it.
- **explain**: a use case for the strategy, hyperparameter or evaluation lab (12 domains, sizes,
  budgets, GPUs, symptoms; vague and precise); the answer explains the rules' recommendation in at
  most four sentences, each made of one line of it.
- **not_covered**: a question whose sentence is not in the passages shown; the answer says so.
- **refusal**: a request for a quiz answer; the answer declines.

## How it was made safe to train on

- The prompts are exactly what the labs send (`ask.answer_messages`, `base.build_messages`).
- Every answer except "not covered" passed the app's grounding check against its own prompt
  before it was kept ({c.failed_check} of {c.generated} did not and were dropped).
- Questions whose sentence was not among the passages retrieved were skipped ({c.not_in_prompt}).
- Near-duplicates were dropped with MinHash LSH over word bigrams ({c.duplicates}).
- No quiz bank was read: no quiz item or option is in the data.
- The split keeps each course section (and each use case) in one split, so the test sections'
  facts are never trained on.

## Limitations

- Questions are built from templates around key words, not written by people; the held-out
  evaluation (`bench/advisor_heldout.yaml`, written by people) is what measures the adapter.
- The answers are extractive: the adapter learns to find and copy the sentence that answers,
  not to paraphrase.
- Dataset-lab use cases (pasted files) are not in the data.
"""


def train_adapter(config, data_path: Path, run_dir: Path, *, models_dir: Path, max_steps: int = 0, echo: bool = True):
    from trainer.train import train

    config = config.model_copy(deep=True)
    config.data.source = str(data_path)
    config.training.output_dir = str(run_dir)
    if max_steps:
        config.training.max_steps = max_steps
    return train(config, models_dir=models_dir, echo=echo)


ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "README.md", "DATA_CARD.md")


def ship(run_dir: Path, dest: Path = SHIPPED_ADAPTER) -> Path:
    """The run's adapter, its resolved config and metrics, copied where the labs load it from."""
    source = run_dir / "adapter"
    missing = [name for name in ADAPTER_FILES if not (source / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{source}: no trained adapter ({', '.join(missing)} missing)")
    dest.mkdir(parents=True, exist_ok=True)
    for name in ADAPTER_FILES:
        shutil.copy2(source / name, dest / name)
    for name in ("config.yaml", "metrics.json"):
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, dest / name)
    return dest


# --- evaluation --------------------------------------------------------------------------------

GENERAL_SET = Path(__file__).resolve().parents[2] / "bench" / "general_instructions.yaml"


def harness_configs(settings, names: list[str], adapter: str = "") -> dict[str, tuple[object, object]]:
    """The advisor harness's configurations by name: ``raw`` and ``checked`` with the adapter
    (``adapter``, or the settings' own: the shipped one by default), ``base-raw`` and ``base-checked``
    on the base model alone. One core per model, loaded in this process."""
    from tutor.advisors import answer_eval
    from tutor.core import Core

    cores: dict[str, object] = {}

    def core(which: str):
        if which not in cores:
            own = "none" if which == "base" else adapter or settings.llm_adapter
            update = {"llm_worker": False, "llm_adapter": own}
            cores[which] = Core.start(settings.model_copy(update=update))
        return cores[which]

    replies = {"raw": answer_eval.reply_raw, "unchecked": answer_eval.reply_unchecked}
    replies["checked"] = answer_eval.reply_checked
    configs = {}
    for name in names:
        which, _, path = name.rpartition("-") if name.startswith("base-") else ("tuned", "", name)
        if path in replies:
            configs[name] = (core(which), replies[path])
    return configs


def general_items(limit: int = 0, path: Path = GENERAL_SET) -> list[dict]:
    import yaml

    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    return items[:limit] if limit else items


def general_ability(core, items: list[dict], max_new_tokens: int = 48) -> tuple[float, list[str]]:
    """The share of general instructions (nothing to do with the course) answered right, greedy,
    and the ids of the misses: the adapter's regression check (Lesson 4)."""
    import re

    model = core.chat_model()
    right, missed = 0, []
    for n, item in enumerate(items, start=1):
        messages = [{"role": "user", "content": item["prompt"]}]
        answer = "".join(model.stream(messages, max_new_tokens=max_new_tokens, temperature=0.0)).lower()
        if any(re.search(rf"(?<!\w){re.escape(str(e).lower())}(?!\w)", answer) for e in item["expect"]):
            right += 1
        else:
            missed.append(f"g{n:02d}")
    return right / len(items), missed


@dataclass
class EvalReport:
    scores: list  # answer_eval.Scores, one per configuration
    general: dict[str, float]  # "base" / "fine-tuned" -> share of general instructions right
    cases: int

    @property
    def markdown(self) -> str:
        from tutor.advisors.answer_eval import markdown_table

        general = " | ".join(f"{name}: {value:.0%}" for name, value in self.general.items())
        return f"{markdown_table(self.scores)}\n\nGeneral instructions answered right — {general}"


HARNESS = ["base-unchecked", "unchecked", "base-checked", "checked"]


def evaluate(
    settings, adapter: str, cases_path: Path, *, limit: int = 0, general: int = 0, progress=None
) -> EvalReport:
    """Base and fine-tuned, each with and without the check, on the same held-out cases in one run,
    and the general-ability regression of both."""
    from tutor.advisors import answer_eval

    cases = answer_eval.load_cases(cases_path)
    cases = cases[:limit] if limit else cases
    configs = harness_configs(settings, HARNESS, adapter=adapter)
    names = {"base-unchecked": "base unchecked", "unchecked": "fine-tuned unchecked"}
    names |= {"base-checked": "base checked", "checked": "fine-tuned checked"}
    configs = {names[k]: v for k, v in configs.items()}
    scores = answer_eval.run(configs, cases, progress=progress or (lambda _: None))
    items = general_items(general)
    base_core, tuned_core = configs["base checked"][0], configs["fine-tuned checked"][0]
    ability = {
        "base": general_ability(base_core, items)[0],
        "fine-tuned": general_ability(tuned_core, items)[0],
    }
    return EvalReport(scores, ability, len(cases))


def write_model_card(run_dir: Path, report: EvalReport, built: BuiltData, *, command: str) -> Path:
    """``run_dir/adapter/README.md``: the card the app shows beside the module's model-card checklist."""
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    config = (run_dir / "config.yaml").read_text(encoding="utf-8").rstrip()
    before, after = metrics["before"], metrics["after"]
    card = f"""---
library_name: peft
base_model: HuggingFaceTB/SmolLM2-135M-Instruct
tags: [lora, fine-tuning-tutor, advisor, rag]
---

# Advisor adapter v1: the course's own advisor, SmolLM2-135M-Instruct + LoRA

A LoRA adapter ({metrics["trainable_params"]:,} trainable parameters) that teaches the packaged
SmolLM2-135M-Instruct to answer a lab's prompt from the course passages in it: find the sentence
that answers and say it, or explain a recommendation line by line. Trained on {metrics["hardware"]}
in {metrics["seconds"] / 60:.0f} minutes ({metrics["steps"]} optimizer steps).

## Intended use

The advisor labs of Fine-Tuning Tutor, behind the app's grounding check: every answer is checked
against the passages and the recommendation before a learner sees it, and the course's own
sentences are quoted when it fails. It is not a general assistant and not meant for use without
that check.

## Training data

{built.examples} examples built from the course by `tutor/advisors/adapter_data.py` (no model
wrote them; see the data card, DATA_CARD.md): {", ".join(f"{n} {k}" for k, n in built.by_kind.items())}.
The split keeps each course section and use case in one split: train {sum(built.by_split["train"].values())},
validation {sum(built.by_split["val"].values())}, test {sum(built.by_split["test"].values())}.
No quiz bank entered the data.

## Evaluation

The advisor harness (`tutor advisor eval`) on {report.cases} held-out learner messages written by
people (`bench/advisor_heldout.yaml`, never used for training or tuning), base and fine-tuned,
with and without the check, in one run:

{report.markdown}

"General instructions" is the regression check on general ability: {len(general_items())} everyday
questions with nothing to do with the course (`bench/general_instructions.yaml`), greedy.

The trainer's own test split ({after["examples"]} examples from sections never trained on),
ROUGE-L against the reference answer: {before["value"]:.3f} before, {after["value"]:.3f} after.

## Limitations

- 135M parameters: it copies well and reasons little. It may pick a sentence that is near the
  question but does not answer it; the check cannot tell, so the app shows the course's quotes
  for the question with every answer.
- It was trained on the prompts the labs send today; another prompt format loses most of the gain.
- It knows only what the passages in its prompt say; it has no knowledge of its own to add.

## Safety notes

- The grounding check stays in front of it: numbers, names and terms that are not in the passages,
  sentences that no single passage sentence says (words stitched together from several),
  contradictions of the recommendation, half sentences and quiz answers are never shown.
- No quiz bank is in its data; requests for quiz answers are refused by the app before any model runs.
- The general-ability figure above is the check that the adapter did not cost the base model its
  everyday skills.

## Reproduce

```
tutor {command}
```

## Training configuration

```yaml
{config}
```
"""
    card_path = run_dir / "adapter" / "README.md"
    card_path.write_text(card, encoding="utf-8")
    shutil.copy2(built.path.parent / "DATA_CARD.md", run_dir / "adapter" / "DATA_CARD.md")
    return card_path
