"""Labelled use cases for the strategy advisor (issue 14, item 5), and its score against a baseline.

Each generated case joins a plain task ("We need to sort incoming support emails into
categories.") with facts drawn at random: daily volume, examples on hand, private data, a strict
format, specialist vocabulary, knowledge that changes, behaviour needed every time, preference
data, a small budget, "prompting already works", a pre-training ambition. Every fact has many
phrasings (numbers in digits, "12k", words, per month or per hour; paraphrases such as "cannot
leave our servers"; negations such as "nothing in it is confidential"). **The phrasings are split
too**: dev cases use the even-numbered phrasings, test cases the odd-numbered ones, so a test case
says things in words the rules were never tuned on. Hand-written cases (the lecture's six
adapter-choosing scenarios, the cases the issue reports) join the test split.

The label follows Lesson 1's decision framework from the facts that were drawn, not from the
text (see ``expected``): whether to fine-tune, whether to add retrieval, and which method.

    .venv/bin/python bench/strategy_scenarios.py [--split dev|test|both] [--show-wrong N] [--no-baseline]
    .venv/bin/python bench/strategy_scenarios.py --cases bench/strategy_cases_dev2.yaml [--show-wrong N]

The baseline is the advisor as it was at commit ``BASELINE_COMMIT`` (before this work), run from
``git archive`` of that commit in a subprocess, on the same cases, in the same run.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from at_commit import run_at_commit, scenario_main  # noqa: E402  (bench/ is on the path when run as a script)

BASELINE_COMMIT = "e7206d3"  # the rules before issue 14's signals and tables
PER_SPLIT = 200
SPLIT_SEEDS = {"dev": 0, "test": 1000}

TASKS = [
    "We want a model that writes replies to messages from our online shop's customers.",
    "Our team wants an assistant that drafts answers to internal IT requests.",
    "We'd like to summarise the transcripts of our sales calls.",
    "I'm building a tool that turns questions from analysts into database queries.",
    "We need to sort incoming support emails into twelve categories.",
    "A startup I work for wants to tag product reviews by topic.",
    "We want a helper that writes follow-up emails for our sales reps.",
    "Our insurance company wants short summaries of claim files for the adjusters.",
    "We want to pull the key figures out of quarterly reports.",
    "A tutoring site wants a model that explains homework solutions step by step.",
    "Our law firm wants to extract the key clauses from contracts and flag risky ones.",
    "We'd like a bot that turns dictated visit notes into structured notes.",
    "The HR department wants an assistant for employee questions.",
    "We want to classify maintenance reports from our factory by fault type.",
]

# Each fact: its phrasings. Even positions go to dev cases, odd ones to test cases.
VOLUME_FORMS = [
    "We get about {n:,} requests a day.",
    "It would handle roughly {n:,} of these per day.",
    "Volume is around {k}k a day.",
    "That is about {m:,} a month.",
    "We expect {words} a day.",
    "Traffic is roughly {w:,} every week.",
    "Peak load is about {h:,} an hour, around the clock.",
    "Expect on the order of {mm}M per month.",
]
EXAMPLE_FORMS = [
    "We have {n:,} labelled examples.",
    "There are {n:,} past cases our staff already handled by hand.",
    "Our archive holds {k}k annotated examples.",
    "We've collected {words} input/output pairs.",
    "A spreadsheet of {n:,} rows with the correct answers exists.",
    "We kept {n:,} reviewed answers written by our experts.",
]
NO_EXAMPLE_FORMS = [
    "We have no labelled data yet.",
    "Nobody has labelled anything so far.",
    "There are no training examples at the moment.",
    "We don't have any examples of good outputs yet.",
]
PHRASES: dict[str, list[str]] = {
    "private": [
        "The data cannot leave our servers.",
        "Everything has to stay in-house.",
        "These records are confidential.",
        "Customer data may not be sent to an outside API.",
        "The texts contain patients' personal details.",
        "Our compliance team won't let it go to a third-party cloud.",
        "It is covered by GDPR and must not be shared with vendors.",
        "We are not allowed to paste any of it into an external service.",
    ],
    "not_private": [
        "Nothing in it is confidential.",
        "The data is all public anyway.",
        "There's no personal information involved.",
        "Privacy is not a concern here, it is published material.",
    ],
    "strict_format": [
        "Every answer must be valid JSON matching our schema.",
        "The output has to follow our fixed template exactly.",
        "The result must always come in the same XML layout.",
        "Downstream code breaks if a single field is missing or renamed.",
        "Each output must use our house format, no exceptions.",
        "The reply must be machine-readable with exactly the same fields every time.",
    ],
    "vocabulary": [
        "The texts are dense with radiology jargon.",
        "Our field uses specialist terminology that general models fumble.",
        "The documents are full of derivatives-trading terms.",
        "Our engineers write in semiconductor-fab shorthand nobody outside understands.",
        "It's written in heavy legal language.",
        "Clinical abbreviations are everywhere.",
    ],
    "changing": [
        "Our prices change every week.",
        "The policies are updated every month.",
        "The product list changes daily.",
        "Answers depend on the latest version of our documentation.",
        "New regulations come out all the time and the answers must follow them.",
        "Stock levels shift every hour.",
    ],
    "behaviour": [
        "It must always speak in our brand voice.",
        "It has to refuse anything outside our policy, every time.",
        "It should keep the same friendly persona in every reply.",
        "The tone must be formal every single time.",
    ],
    "preference": [
        "Our reviewers can easily say which of two drafts is better.",
        "We have thousands of chosen/rejected reply pairs from our raters.",
        "Annotators rank candidate answers rather than writing them.",
        "It's easier for our team to pick the better of two answers than to write a perfect one.",
    ],
    "low_budget": [
        "We only have one consumer GPU.",
        "Our budget is tiny: a single RTX 3090.",
        "We'd train on a free Colab notebook.",
        "All we have is one 24 GB gaming card.",
    ],
    "already_works": [
        "A plain prompt to the base model already gets it right.",
        "Prompting works fine today; we mostly want a second opinion.",
        "The base model already handles it well with a good prompt.",
        "Honestly our current prompt does the job nearly every time.",
    ],
    "from_scratch_big": [
        "We want our own foundation model, pre-trained from scratch on trillions of tokens of our data, "
        "with a $20M budget.",
        "The plan is to pre-train a brand-new base model on our 3T-token corpus; the compute budget is $15 million.",
        "We intend to build a foundation model of our own from nothing, on 2 trillion tokens, "
        "with tens of millions of dollars.",
        "Leadership wants a from-scratch model trained on our entire 5 trillion token archive, budget $25M.",
    ],
    "from_scratch_small": [
        "We'd love to train our own model from scratch, but the budget is $5,000.",
        "Someone suggested pre-training our own model from scratch; we have a few thousand dollars.",
        "Could we build our own model from scratch on a $10k budget?",
        "Ideally we'd train a model from scratch, though we only have about $3,000 to spend.",
    ],
}

_WORDS = {
    20: "twenty", 40: "forty", 50: "fifty", 60: "sixty", 300: "three hundred", 500: "five hundred",
    2_000: "two thousand", 5_000: "five thousand", 8_000: "eight thousand", 12_000: "twelve thousand",
    20_000: "twenty thousand", 50_000: "fifty thousand", 200_000: "two hundred thousand",
}  # fmt: skip
VOLUMES = [20, 50, 300, 2_000, 5_000, 20_000, 50_000, 200_000]
HAVES = [0, 40, 60, 500, 2_000, 8_000, 12_000]


@dataclass(frozen=True)
class Facts:
    """What a use case says, as drawn (the label is computed from these, not from the words)."""

    volume: int | None = None
    have: int | None = None
    private: bool = False
    strict_format: bool = False
    vocabulary: bool = False
    changing: bool = False
    behaviour: bool = False
    preference: bool = False
    low_budget: bool = False
    already_works: bool = False
    from_scratch: str = ""  # "", "big" (huge data and budget) or "small"


@dataclass(frozen=True)
class Label:
    fine_tune: bool
    rag: bool
    method: str  # none, lora, qlora, dpo, full; "full" with train-from-scratch for pre-training
    from_scratch: bool = False


@dataclass
class Case:
    name: str
    text: str
    label: Label
    facts: dict = field(default_factory=dict)


def expected(f: Facts) -> Label:
    """Lesson 1's decision framework applied to the facts.

    - Pre-training from scratch is for organisations with huge data and budgets; with a small
      budget the course's answer is to fine-tune an open model instead (BloombergGPT).
    - Do not fine-tune when prompting already works or with fewer than about 100 examples.
    - Fine-tune for a format that must never vary, specialist vocabulary, scale (about 10,000
      requests a day and up), behaviour needed every time, or private data; at low volume (under
      1,000 a day) format or behaviour alone is what a prompt can hold.
    - Knowledge that changes goes to retrieval.
    - Method: DPO with preference data, QLoRA on a small budget, else LoRA.
    """
    rag = f.changing
    if f.from_scratch == "big":
        return Label(fine_tune=False, rag=False, method="full", from_scratch=True)
    few = f.have is not None and f.have < 100
    signals = {
        name
        for name, on in (
            ("format", f.strict_format),
            ("vocabulary", f.vocabulary),
            ("volume", f.volume is not None and f.volume >= 10_000),
            ("behaviour", f.behaviour),
            ("privacy", f.private),
        )
        if on
    }
    low_volume = f.volume is not None and f.volume < 1_000
    fine_tune = bool(signals) and not (low_volume and signals <= {"format", "behaviour"})
    if f.from_scratch == "small":
        fine_tune = True
    if f.already_works or few:
        fine_tune = False
    if not fine_tune:
        return Label(False, rag, "none")
    method = "dpo" if f.preference else "qlora" if f.low_budget else "lora"
    return Label(True, rag, method)


def _number_forms(n: int) -> dict[str, object]:
    return {
        "n": n,
        "k": f"{n / 1000:g}",
        "words": _WORDS.get(n, f"{n:,}"),
        "m": n * 30,
        "w": n * 7,
        "h": max(1, round(n / 24)),
        "mm": f"{n * 30 / 1e6:g}",
    }


def _pick(rng: random.Random, options: list[str], split: str, n: int | None = None) -> str:
    own = options[0::2] if split == "dev" else options[1::2]
    if n is not None:  # nobody writes "0.06k" or "0.0006M"
        own = [o for o in own if not ("{k}k" in o and n < 1000) and not ("{mm}M" in o and n * 30 < 500_000)]
    return rng.choice(own)


def generate(split: str, count: int = PER_SPLIT) -> list[Case]:
    rng = random.Random(SPLIT_SEEDS[split])
    cases = []
    for i in range(count):
        f = Facts(
            volume=rng.choice(VOLUMES) if rng.random() < 0.75 else None,
            have=rng.choice(HAVES) if rng.random() < 0.75 else None,
            private=rng.random() < 0.3,
            strict_format=rng.random() < 0.3,
            vocabulary=rng.random() < 0.25,
            changing=rng.random() < 0.25,
            behaviour=rng.random() < 0.15,
            preference=rng.random() < 0.12,
            low_budget=rng.random() < 0.2,
            already_works=rng.random() < 0.08,
            from_scratch=rng.choices(["", "big", "small"], weights=[0.9, 0.05, 0.05])[0],
        )
        if f.from_scratch == "big":  # the ambition is the whole case: leave out what contradicts it
            f = Facts(volume=f.volume, private=f.private, vocabulary=f.vocabulary, from_scratch="big")
        parts = [rng.choice(TASKS)]
        for name in ("private", "strict_format", "vocabulary", "changing", "behaviour", "preference", "low_budget"):
            if getattr(f, name):
                parts.append(_pick(rng, PHRASES[name], split))
        if not f.private and rng.random() < 0.15:
            parts.append(_pick(rng, PHRASES["not_private"], split))
        if f.volume is not None:
            parts.append(_pick(rng, VOLUME_FORMS, split, f.volume).format(**_number_forms(f.volume)))
        if f.have == 0:
            parts.append(_pick(rng, NO_EXAMPLE_FORMS, split))
        elif f.have is not None:
            parts.append(_pick(rng, EXAMPLE_FORMS, split, f.have).format(**_number_forms(f.have)))
        if f.already_works:
            parts.append(_pick(rng, PHRASES["already_works"], split))
        if f.from_scratch:
            parts.append(_pick(rng, PHRASES[f"from_scratch_{f.from_scratch}"], split))
        first, rest = parts[0], parts[1:]
        rng.shuffle(rest)
        cases.append(Case(f"{split}-{i:03d}", " ".join([first, *rest]), expected(f), asdict(f)))
    return cases


# Written by hand, in people's own words: the lecture's six adapter-choosing scenarios (with the
# facts a group would ask for), and the use cases the issue reports as decided wrong.
HAND_WRITTEN = [
    Case(
        "lecture-legal",
        "A law firm needs to extract key clauses and flag risks in contracts. Legal language is highly "
        "specialized. They have 6,000 contracts their associates annotated, and the contracts are confidential.",
        Label(True, False, "lora"),
    ),
    Case(
        "lecture-sql",
        "Analysts need to query a database using plain English. The system must return valid SQL, every time. "
        "About 15,000 queries a day; we logged 4,000 question/SQL pairs.",
        Label(True, False, "lora"),
    ),
    Case(
        "lecture-math",
        "A tutoring platform needs to walk students through algebra and calculus problems step by step, "
        "showing work and explaining each move, always in the same structure. 30k students use it daily and "
        "we have 10k worked solutions from our tutors.",
        Label(True, False, "lora"),
    ),
    Case(
        "lecture-medical",
        "A clinical tool to suggest follow-up tests based on patient symptoms. Very high stakes. The notes "
        "use dense clinical terminology and must stay inside the hospital; we have 20,000 reviewed cases.",
        Label(True, False, "lora"),
    ),
    Case(
        "lecture-multilingual",
        "Customer support for an e-commerce platform serving users in English, Spanish, French, German, and "
        "Japanese. Answers depend on our shipping and returns policies, which change every month, and on a "
        "product list that changes daily. 800 chats a day.",
        Label(False, True, "none"),
    ),
    Case(
        "lecture-financial",
        "Extract key figures and risk factors from earnings reports and SEC filings into our fixed JSON "
        "schema. Financial jargon throughout; we have 3,000 filings already tagged by analysts.",
        Label(True, False, "lora"),
    ),
    Case(
        "issue-law-firm",
        "We're a law firm. We'd like to pull out clauses and flag risky ones automatically. We have 8,000 "
        "annotated contracts, the data cannot leave our servers, and we process thousands of contracts a month.",
        Label(True, False, "lora"),
    ),
    Case(
        "issue-national-lab",
        "We are a national lab with a $20M budget and want our own foundation model trained on trillions of "
        "tokens of our own scientific data.",
        Label(False, False, "full", from_scratch=True),
    ),
    Case(
        "issue-brand-voice",
        "We want emails in our brand voice. We have 40 example emails, and we send about 20 emails a day.",
        Label(False, False, "none"),
    ),
    Case(
        "insurer",
        "Our insurer wants claim summaries in one fixed template. Adjusters wrote two thousand past summaries "
        "we can train on, and the claims must stay in-house. About 1,500 claims a day.",
        Label(True, False, "lora"),
    ),
    Case(
        "bank-support",
        "Support bot for 3,000 Dutch tickets a day at a bank, strict policy on what it may say, and 12k "
        "answered tickets we can learn from.",
        Label(True, False, "lora"),
    ),
    Case(
        "no-labels-yet",
        "We want to classify support tickets by urgency, maybe 500 a day, but we have no labelled data at all.",
        Label(False, False, "none"),
    ),
]


def run_rules(cases: list[dict]) -> list[dict]:
    """The strategy advisor of this checkout on each case: its decision as a label."""
    from tutor.advisors.base import AdvisorRequest
    from tutor.advisors.strategy import analyse

    out = []
    for case in cases:
        rec = analyse(AdvisorRequest(case["text"]))
        out.append(
            {
                "fine_tune": "fine-tuning" in rec.approach,
                "rag": "rag" in rec.approach,
                "method": rec.method,
                "from_scratch": "train-from-scratch" in rec.approach,
                "approach": rec.approach,
                "have": rec.facts.get("examples_on_hand"),
            }
        )
    return out


def run_baseline(cases: list[dict]) -> list[dict] | None:
    """``run_rules`` on the code of BASELINE_COMMIT (bench/at_commit.py)."""
    return run_at_commit(BASELINE_COMMIT, "tutor.advisors.strategy", "strategy_scenarios", "run_rules", cases)  # type: ignore[return-value]


def right(label: Label, got: dict) -> bool:
    if label.from_scratch:
        return got["from_scratch"] and not got["fine_tune"]
    return (
        not got["from_scratch"]
        and got["fine_tune"] == label.fine_tune
        and got["rag"] == label.rag
        and got["method"] == label.method
    )


def cases_for(split: str) -> list[Case]:
    return generate(split) + (HAND_WRITTEN if split == "test" else [])


def cases_from_file(path: str) -> list[Case]:
    """A YAML list of ``{name, text, facts}`` (bench/strategy_cases_*.yaml, written in people's
    own words): each label is computed from the facts by ``expected``, as for generated cases."""
    import yaml

    entries = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [Case(e["name"], e["text"], expected(Facts(**e.get("facts", {}))), e.get("facts", {})) for e in entries]


def score(split: str, baseline: bool, show_wrong: int, cases: list[Case] | None = None) -> None:
    cases = cases if cases is not None else cases_for(split)
    plain = [{"text": c.text} for c in cases]
    now = run_rules(plain)
    before = run_baseline(plain) if baseline else None
    ours = [right(c.label, g) for c, g in zip(cases, now, strict=True)]
    line = f"{split}: {len(cases)} cases, now {sum(ours) / len(cases):.1%} right"
    if before is not None:
        theirs = [right(c.label, g) for c, g in zip(cases, before, strict=True)]
        line += f", baseline ({BASELINE_COMMIT}) {sum(theirs) / len(cases):.1%}"
    print(line)
    if any(c.facts for c in cases):  # the own-words files give the count each text states, if any
        exact = sum(g["have"] == c.facts.get("have") for c, g in zip(cases, now, strict=True))
        print(f"  examples on hand read exactly (none, where the text gives no count): {exact}/{len(cases)}")
    kinds = Counter(_kind(c.label) for c in cases)
    wrong_by_kind = Counter(_kind(c.label) for c, ok in zip(cases, ours, strict=True) if not ok)
    tally = ", ".join(f"{k} {kinds[k] - wrong_by_kind[k]}/{kinds[k]}" for k in sorted(kinds))
    print(f"  by expected decision: {tally}")
    shown = 0
    for case, got, ok in zip(cases, now, ours, strict=True):
        if not ok and shown < show_wrong:
            shown += 1
            decided = f"{' + '.join(got['approach'])} / {got['method']}"
            print(f"  WRONG {case.name}: expected {_kind(case.label)}, got {decided}")
            print(f"    {case.text}")


def _kind(label: Label) -> str:
    if label.from_scratch:
        return "from-scratch"
    if not label.fine_tune:
        return "prompting+rag" if label.rag else "prompting"
    return f"{label.method}{'+rag' if label.rag else ''}"


def main() -> int:
    import argparse

    # --cases FILE scores that file's cases only; the rest is the shared command line (at_commit.py).
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--cases")
    parser.add_argument("--show-wrong", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true")
    args, rest = parser.parse_known_args()
    if args.cases is None:
        return scenario_main(__doc__.split("\n\n")[0], score)
    if rest:
        parser.error(f"with --cases, only --show-wrong and --no-baseline apply; not {' '.join(rest)}")
    score(Path(args.cases).stem, not args.no_baseline, args.show_wrong, cases_from_file(args.cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
