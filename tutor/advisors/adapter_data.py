"""Training data for the advisor's own adapter, built from the course by the app's own code.

Every example is a prompt exactly as a lab sends it (the same retrieval, the same system prompt,
the same clipped passages; see ``ask.answer_messages`` and ``base.build_messages``) and an answer
that is grounded by construction:

- **question**: a learner's question about one course sentence; the answer is that sentence (with
  the next one when it is short), copied from a passage that is in the prompt;
- **follow_up**: a second question read with the first ("What about QLoRA?"), answered the same way;
- **explain**: a use case for one of the four labs; the answer explains the rules' recommendation in
  at most four sentences, each built from one line of it;
- **not_covered**: a question whose sentence is not among the passages shown; the answer says the
  passages do not answer it;
- **refusal**: a request for a quiz answer; the answer declines and points at the lesson.

No quiz bank is read: the questions come from the lessons' sentences. Near-duplicate prompts are
dropped (MinHash LSH over word bigrams, as in the dataset critic). Each example has a ``group``
(the course section, or the use case) so that the trainer's split keeps test topics out of
training (``data.group_field``).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from tutor.advisors.ask import REFUSAL
from tutor.advisors.base import AdvisorRequest
from tutor.advisors.dataset_checks import NearIndex, shingles
from tutor.advisors.extractive import plain_units
from tutor.advisors.grounding import check_answer, content_words

# --- how a learner asks ----------------------------------------------------------------------

ASK_ABOUT = [
    "What does the course say about {kp}?",
    "Can you explain {kp}?",
    "Tell me about {kp}.",
    "What should I know about {kp}?",
    "I'm confused about {kp}, what does the course say?",
    "Explain {kp} in simple words, please.",
    "what's the deal with {kp}",
    "How does {kp} work?",
    "Why does {kp} matter?",
    "Could you summarise the point about {kp}?",
    "quick question about {kp}",
    "What is meant by {kp}?",
]
ASK_FIGURE = [
    "What numbers does the course give for {kp}?",
    "How much is {kp}, according to the course?",
    "What's the figure for {kp}?",
    "how big is {kp}?",
    "Is there a rule of thumb for {kp}?",
]
ASK_SECTION = [
    "What is {title}?",
    "What's the main idea of {title}?",
    "Give me the gist of {title}.",
    "{title}: what do I need to know?",
]
FOLLOW = [
    "What about {kp}?",
    "And {kp}?",
    "how about {kp} then",
    "And what does the course say about {kp}?",
    "Does the same go for {kp}?",
]
CODE_UNIT = "The course's example sets"
NOT_IN_PASSAGES = "These passages do not answer that question."
QUIZ_ASKS = [
    "Which option is right in question {n} of the quiz after lesson {lesson}?",
    "is it B for question {n}?",
    "Just tell me the answer to module test question {n}.",
    "What should I tick for Q{n} of the lesson {lesson} quiz?",
]


@dataclass(frozen=True)
class AdvisorExample:
    kind: str  # question | follow_up | explain | not_covered | refusal
    lab: str
    group: str  # the course section (page#anchor) or the use case: the split keeps a group together
    messages: list[dict]  # the prompt, exactly as the lab sends it
    answer: str

    def record(self) -> dict:
        return asdict(self)


# --- key phrases -----------------------------------------------------------------------------

_NUMBER = re.compile(r"\d")


def key_phrase(sentence: str, index, rng: random.Random) -> str:
    """One or two of the sentence's most telling words, in their order: what a learner would ask
    about. Terms ("NF4", "QLoRA", "BloombergGPT") come first, then the course's rarer words."""
    words = [w for w in dict.fromkeys(content_words(sentence)) if not _NUMBER.fullmatch(w) and len(w) > 2]
    if not words:
        return ""

    def term(word: str) -> bool:
        return any(c.isdigit() for c in word) or word[1:] != word[1:].lower() or not index.is_common_word(word)

    def telling(word: str) -> float:
        return index.word_weight(word.lower()) + (2.0 if term(word) else 0.0)

    ranked = sorted(words, key=telling, reverse=True)
    # A second word only when it is a term too: "LoRA and QLoRA", not "LoRA and typical".
    chosen = ranked[:2] if len(ranked) > 1 and term(ranked[1]) and rng.random() < 0.6 else ranked[:1]
    return " and ".join(w if term(w) else w.lower() for w in words if w in chosen)


def answer_for(units: list[str], i: int) -> str:
    """The sentence, and the next one too when the first is short (it often names the subject
    and the next gives the fact)."""
    text = units[i]
    if len(text.split()) < 14 and i + 1 < len(units):
        text = f"{text} {units[i + 1]}"
    return text


def shown_answer(units: list[str], i: int, prompt: str) -> str:
    """``answer_for`` when the prompt shows all of it, the sentence alone when it shows only that,
    else "": the model learns to answer from what it reads, not from what it remembers."""
    for answer in (answer_for(units, i), units[i]):
        if answer.replace(units[i], "", 1).strip() in prompt and units[i] in prompt:
            return answer
    return ""


def learner_words(text: str, rng: random.Random) -> str:
    """Learners type in lower case, without the question mark, now and then."""
    if rng.random() < 0.2:
        text = text[0].lower() + text[1:]
    if rng.random() < 0.15:
        text = text.rstrip("?.")
    return text


# --- use cases for the explanations ----------------------------------------------------------

DOMAINS = [
    ("a hospital", "discharge summaries", "patient"), ("a law firm", "contracts", "client"),
    ("a bank", "support tickets", "customer"), ("an online shop", "product reviews", "shopper"),
    ("a school", "student essays", "pupil"), ("an insurer", "claim forms", "policyholder"),
    ("a game studio", "player chats", "player"), ("a city council", "citizen requests", "resident"),
    ("a logistics firm", "delivery notes", "driver"), ("a pharmacy", "prescriptions", "patient"),
    ("a newsroom", "press releases", "reader"), ("a software team", "bug reports", "developer"),
]  # fmt: skip
STRATEGY_CASES = [
    "We are {org} and want a model that turns {docs} into a fixed JSON record. "
    "We get {volume} a day and have {have} labelled examples.",
    "{Org} here. We'd like an assistant that answers {who} questions about our {docs}. "
    "Policies change every month. Budget is tight.",
    "Our {docs} are private and cannot leave our servers. We want to classify them into 12 categories, "
    "about {volume} a day, {have} labelled so far.",
    "Can a small model learn the tone of our {docs}? We only have {have} examples and send maybe {small} a day.",
    "I want to build a chatbot for {org} that uses our specialist jargon from {docs}. "
    "We have {have} question-answer pairs.",
    "We'd like to train our own foundation model from scratch on all our {docs}. Budget: a few thousand dollars.",
]
HYPER_CASES = [
    "I'm fine-tuning {model} on {have} examples for {task}. I have one {gpu}. {symptom}",
    "LoRA on {model}, {have} examples, {gpu}. What rank, learning rate and epochs should I use?",
    "My {model} fine-tune on {have} {docs}: {symptom}",
]  # fmt: skip
MODELS = ["Mistral 7B", "Llama 3 8B", "Qwen2.5 1.5B", "a 13B model", "Gemma 2B", "a 70B model"]
GPUS = ["RTX 4090 24GB", "A100 40GB", "T4 16GB", "A100 80GB", "RTX 3060 12GB"]
TASKS = ["JSON extraction", "classification", "summarisation", "a support chatbot", "code review comments"]
SYMPTOMS = [
    "Training loss went down nicely but validation loss started rising after epoch 2.",
    "The loss went to NaN after a few hundred steps.",
    "Loss is flat at 2.1 and not moving.",
    "It runs out of memory at the first step.",
    "Outputs are inconsistently formatted even though the loss looks good.",
    "",
]
EVAL_CASES = [
    "My fine-tuned model {task_verb} for {org}. What should my evaluation suite look like?",
    "How do I evaluate a model that {task_verb}? It is used by {org} for {docs}.",
    "Design an eval plan for our {docs} model: it {task_verb}. We deploy next month.",
]  # fmt: skip
TASK_VERBS = [
    "extracts fields from documents as JSON", "classifies messages into categories", "summarises long documents",
    "answers customer questions in a chat", "writes replies in our brand voice", "translates short texts",
]  # fmt: skip


def use_cases(rng: random.Random, per_lab: int) -> Iterator[tuple[str, str, str]]:
    """(lab, group, text): varied use cases (domains, sizes, budgets, hardware; vague and precise)."""
    for lab, templates in (("strategy", STRATEGY_CASES), ("hyperparams", HYPER_CASES), ("eval", EVAL_CASES)):
        for i in range(per_lab):
            org, docs, who = rng.choice(DOMAINS)
            text = rng.choice(templates).format(
                org=org, Org=org[0].upper() + org[1:], docs=docs, who=who,
                volume=f"{rng.choice([30, 200, 2_000, 20_000, 80_000]):,}", small=rng.choice([5, 10, 20]),
                have=f"{rng.choice([40, 300, 1_500, 5_000, 12_000]):,}", model=rng.choice(MODELS),
                gpu=rng.choice(GPUS), task=rng.choice(TASKS), symptom=rng.choice(SYMPTOMS),
                task_verb=rng.choice(TASK_VERBS),
            )  # fmt: skip
            yield lab, f"{lab}-case-{i:03d}", text.strip()


# How each line of a recommendation ("Key: value") opens its sentence in an explanation: with the
# line's own words, since the grounding check refuses words that neither the passages nor the
# recommendation use.
LEADS = {
    "Approach": "The approach is {v}",
    "Method": "The method is {v}",
    "Data needed": "The data needed is {v}",
    "Reason": "{v}",
    "Risk": "Risk: {v}",
    "Config": "The config is {v}",
    "Memory": "Memory: {v}",
    "Diagnosis": "The diagnosis is {v}",
    "Action": "{v}",
    "Task type": "The task type is {v}",
    "Metrics": "The metrics are {v}",
    "Judge dimensions": "The judge dimensions are {v}",
    "Adversarial cases": "The adversarial cases are {v}",
    "Regression": "Regression: {v}",
    "Verdict": "The verdict is {v}",
    "Data volume": "{v}",
}


def explanation(facts: list[str], most: int = 4) -> str:
    """At most ``most`` sentences, each made from one line of the recommendation: the decision lines
    first, then the reasons."""
    sentences = []
    for line in facts:
        key, sep, value = line.partition(": ")
        lead = LEADS.get(key) if sep else None
        if lead is None or value.strip().lower() == "none":
            continue
        text = lead.format(v=value.strip().rstrip("."))
        sentences.append(text[0].upper() + text[1:] + ".")
        if len(sentences) >= most:
            break
    return " ".join(sentences)


# --- near-duplicates ---------------------------------------------------------------------------


def asked_text(example: AdvisorExample) -> str:
    """The learner's words in the prompt (after "Question:" or "Student's message:")."""
    content = example.messages[-1]["content"]
    for marker in ("Question:", "Student's message:"):
        if marker in content:
            content = content.rsplit(marker, 1)[1]
    return content.strip()


def deduplicate(examples: list[AdvisorExample], threshold: float = 0.8) -> list[AdvisorExample]:
    """Drops an example whose learner's words are a near-duplicate (word-bigram Jaccard, found by
    MinHash LSH as in the dataset critic) of one kept before. Two phrasings of a
    question about one sentence both stay: that variety is what the model should learn from."""
    index = NearIndex(threshold)
    token_sets = [shingles(f"{e.kind} {asked_text(e)}") for e in examples]
    kept = []
    for n, (example, tokens, signature) in enumerate(
        zip(examples, token_sets, index.signatures(token_sets), strict=True)
    ):
        if index.best(tokens, signature) is None:
            index.add(n, tokens, signature)
            kept.append(example)
    return kept


# --- the builder -------------------------------------------------------------------------------


@dataclass
class BuildCounts:
    generated: int = 0
    not_in_prompt: int = 0  # the answer's sentence was not among the passages retrieved: skipped
    failed_check: int = 0  # an answer that the grounding check refused: skipped (should be 0)
    duplicates: int = 0


def build(
    core, *, seed: int = 0, phrasings: int = 4, per_lab: int = 40, limit_units: int = 0
) -> tuple[list[AdvisorExample], BuildCounts]:
    """Examples for every usable sentence of the course (``phrasings`` questions each), follow-ups,
    explanations for ``per_lab`` use cases per lab, a few not-covered answers and refusals."""
    rng = random.Random(seed)
    index = core.course_index()
    guard = core.quiz_guard()
    counts = BuildCounts()
    examples: list[AdvisorExample] = []
    chunks = index.chunks()
    # The sentences a prompt can show of each chunk; the code lines are left out ("The course's example
    # sets `lora_dropout=0.05`" frames the code in words the check does not find in the passage).
    shown = {c.id: [u for u in plain_units(c.text) if not u.startswith(CODE_UNIT)] for c in chunks}
    units = [(c, shown[c.id], i) for c in chunks for i in range(len(shown[c.id]))]
    rng.shuffle(units)
    if limit_units:
        units = units[:limit_units]

    def keep(example: AdvisorExample) -> None:
        counts.generated += 1
        # "Not in these passages" cannot use the passages' words: the check would refuse it in the
        # app too, and show the course's quotes, which is what such a question should get.
        # Checked against what the model reads (its prompt), not against every retrieved passage: an
        # answer the prompt cannot ground would teach the model to say what it was not shown.
        prompt = [m["content"] for m in example.messages]
        problems = [] if example.kind == "not_covered" else check_answer(example.answer, prompt, guard=guard).problems
        if problems:
            counts.failed_check += 1
            return
        examples.append(example)

    for chunk, chunk_units, i in units:
        group = f"{chunk.page_id}#{chunk.anchor}"
        for _ in range(phrasings):
            kp = key_phrase(chunk_units[i], index, rng)
            if not kp:
                continue
            templates = ASK_FIGURE if _NUMBER.search(chunk_units[i]) and rng.random() < 0.5 else ASK_ABOUT
            if rng.random() < 0.2:
                title = chunk.section.split(" › ")[-1]
                templates, kp = ASK_SECTION, title[0].lower() + title[1:] if title[1:2].islower() else title
            question = learner_words(rng.choice(templates).format(kp=kp, title=kp), rng)
            lab = rng.choice(("strategy", "dataset", "hyperparams", "eval"))
            _, asked = core._prepare(lab, AdvisorRequest(question))
            if asked is None or asked.outcome != "answer":
                continue
            prompt = asked.messages[-1]["content"]
            answer = shown_answer(chunk_units, i, prompt)
            if answer:
                keep(AdvisorExample("question", lab, group, asked.messages, answer))
            elif rng.random() < 0.1 and f"[{chunk.page_title} › " not in prompt:
                keep(AdvisorExample("not_covered", lab, group, asked.messages, NOT_IN_PASSAGES))
            else:
                counts.not_in_prompt += 1
    _follow_ups(core, units, rng, keep)
    for lab, group, text in use_cases(rng, per_lab):
        advice, _ = core._prepare(lab, AdvisorRequest(text))
        if advice is None:
            continue
        facts = advice.recommendation.facts_for_prompt()
        answer = explanation(facts)
        if answer:
            keep(AdvisorExample("explain", lab, group, advice.messages, answer))
    for n in range(max(4, per_lab // 4)):
        ask_text = rng.choice(QUIZ_ASKS).format(n=rng.randint(1, 15), lesson=rng.randint(1, 4))
        _, asked = core._prepare("strategy", AdvisorRequest(ask_text))
        messages = [
            {"role": "system", "content": "You answer a student's question in an online course on fine-tuning "
             "language models."},
            {"role": "user", "content": ask_text},
        ]  # fmt: skip
        answer = REFUSAL.format(what="what you asked").split(":")[0] + "."
        examples.append(AdvisorExample("refusal", "strategy", f"refusal-{n}", messages, answer))
    before = len(examples)
    examples = deduplicate(examples)
    counts.duplicates = before - len(examples)
    return examples, counts


def _follow_ups(core, units, rng: random.Random, keep) -> None:
    """A question about one sentence, then "What about X?" about another of the same page."""
    by_page: dict[str, list] = {}
    for chunk, chunk_units, i in units:
        by_page.setdefault(chunk.page_id, []).append((chunk, chunk_units, i))
    index = core.course_index()
    for chunk, chunk_units, i in units:
        others = [u for u in by_page[chunk.page_id] if u[0].id != chunk.id]
        if not others:
            continue
        other, other_units, j = rng.choice(others)
        first_kp = key_phrase(chunk_units[i], index, rng)
        kp = key_phrase(other_units[j], index, rng)
        if not first_kp or not kp:
            continue
        first = rng.choice(ASK_ABOUT).format(kp=first_kp)
        text = learner_words(rng.choice(FOLLOW).format(kp=kp), rng)
        lab = rng.choice(("strategy", "dataset", "hyperparams", "eval"))
        _, asked = core._prepare(lab, AdvisorRequest(text, history=[first]))
        if asked is None or asked.outcome != "answer":
            continue
        answer = shown_answer(other_units, j, asked.messages[-1]["content"])
        if answer:
            keep(AdvisorExample("follow_up", lab, f"{other.page_id}#{other.anchor}", asked.messages, answer))


def write(examples: list[AdvisorExample], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for example in examples:
            f.write(json.dumps(example.record(), ensure_ascii=False) + "\n")
