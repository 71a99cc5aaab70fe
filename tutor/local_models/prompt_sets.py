"""The prompts a comparison runs: a set from the course (held-out sentiment sentences and dialogues
of the QLoRA lab's built-in data, closed-book course questions), typed prompts, or a file.

A prompt carries what scores its answer, when there is something to score against: a label
(accuracy), a reference summary (ROUGE-L) or facts (fact match).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tutor.llm.base import Message

COURSE_QUESTIONS = Path(__file__).parent / "prompt_sets" / "course.yaml"
PROMPT_SETS = {
    "sentiment": "10 held-out financial news sentences from the QLoRA lab's built-in data (accuracy)",
    "summarization": "5 held-out chat dialogues from the QLoRA lab's built-in data (ROUGE-L)",
    "course": "8 course questions, answered closed-book (fact match)",
}
SET_SIZES = {"sentiment": 10, "summarization": 5, "course": 8}
COURSE_SYSTEM = "Answer the question in one or two sentences."
MAX_TOKENS = {"sentiment": 8, "summarization": 60, "course": 80, "typed": 160}
MAX_PROMPTS = 50  # a comparison's prompts, at most (each goes through every model)


class PromptSetError(ValueError):
    """A prompt file or set that cannot be used; names the file and line."""


@dataclass
class Prompt:
    text: str  # what the learner reads in the comparison
    messages: list[Message]
    label: str = ""  # sentiment: the right label
    reference: str = ""  # summarization: the reference summary
    facts: list[str] = field(default_factory=list)  # course: any of these in the answer


@dataclass
class PromptSet:
    name: str  # "sentiment", "summarization", "course", "typed" or the file's name
    kind: str  # which score applies: "sentiment", "summarization", "course" or "typed" (none)
    prompts: list[Prompt]

    @property
    def max_tokens(self) -> int:
        return MAX_TOKENS[self.kind]


def builtin_set(name: str, size: int | None = None) -> PromptSet:
    if name not in PROMPT_SETS:
        raise PromptSetError(f"unknown prompt set {name!r}; choose one of {', '.join(PROMPT_SETS)}")
    size = size or SET_SIZES[name]
    if name == "course":
        items = yaml.safe_load(COURSE_QUESTIONS.read_text(encoding="utf-8"))[:size]
        prompts = [_course_prompt(item["prompt"], item["fact"]) for item in items]
        return PromptSet(name, name, prompts)
    return PromptSet(name, name, _held_out(name, size))


def _held_out(task: str, size: int) -> list[Prompt]:
    """The first rows of the lab's default test split: rows no default run has trained on."""
    from trainer.config import default_config_name, shipped_config
    from trainer.data import load_examples, prompt_messages, split_examples

    data = shipped_config(default_config_name(task, has_gpu=False)).data
    test = split_examples(load_examples(data), data).test[:size]
    if task == "sentiment":
        return [Prompt(ex.input, prompt_messages(task, ex.input), label=ex.output) for ex in test]
    return [Prompt(ex.input, prompt_messages(task, ex.input), reference=ex.output) for ex in test]


def _course_prompt(question: str, facts: list[str]) -> Prompt:
    messages = [{"role": "system", "content": COURSE_SYSTEM}, {"role": "user", "content": question}]
    return Prompt(question, messages, facts=[str(f) for f in facts])


def typed_set(text: str) -> PromptSet:
    """One prompt per non-empty line, as typed in the tab."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise PromptSetError("type at least one prompt (one per line), or pick a prompt set")
    if len(lines) > MAX_PROMPTS:
        raise PromptSetError(f"{len(lines)} prompts typed; a comparison takes at most {MAX_PROMPTS}")
    return PromptSet("typed", "typed", [Prompt(line, [{"role": "user", "content": line}]) for line in lines])


def read_prompt_file(path: Path) -> PromptSet:
    """A JSONL or YAML file of prompts: each item a string, or an object with ``prompt`` and
    optionally ``label``, ``reference`` or ``fact`` (a string or a list). All items score the same
    way: the kind of the first item with a reference decides."""
    if not path.is_file():
        raise PromptSetError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8", errors="replace")
    items: list[tuple[int, object]] = []
    if path.suffix in (".yaml", ".yml"):
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark else ""
            problem = getattr(exc, "problem", None)
            raise PromptSetError(f"{path}{line}: not valid YAML" + (f" ({problem})" if problem else "")) from None
        if not isinstance(loaded, list):
            raise PromptSetError(f"{path}: expected a list of prompts")
        items = [(0, item) for item in loaded]
    else:
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append((number, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise PromptSetError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
    prompts = [_file_prompt(path, number or index + 1, item) for index, (number, item) in enumerate(items)]
    if not prompts:
        raise PromptSetError(f"{path}: no prompts")
    if len(prompts) > MAX_PROMPTS:
        raise PromptSetError(f"{path}: {len(prompts)} prompts; a comparison takes at most {MAX_PROMPTS}")
    kind = next(
        ("sentiment" if p.label else "summarization" if p.reference else "course"
         for p in prompts if p.label or p.reference or p.facts),
        "typed",
    )  # fmt: skip
    return PromptSet(path.name, kind, prompts)


def _file_prompt(path: Path, number: int, item: object) -> Prompt:
    if isinstance(item, str):
        item = {"prompt": item}
    if not isinstance(item, dict) or not isinstance(item.get("prompt"), str) or not item["prompt"].strip():
        raise PromptSetError(f"{path}:{number}: each item needs a non-empty 'prompt' string")
    facts = item.get("fact", [])
    facts = [facts] if isinstance(facts, str) else [str(f) for f in facts]
    messages = [{"role": "user", "content": item["prompt"]}]
    return Prompt(item["prompt"], messages, str(item.get("label", "")), str(item.get("reference", "")), facts)
