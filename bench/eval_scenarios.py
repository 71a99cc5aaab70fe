"""Labelled use cases for the evaluation suite designer (issue 14, item 5), and its score.

Each case says what a fine-tuned model does (structured extraction, classification,
summarisation, code generation, open-ended generation), in which domain (medical, legal,
financial, customer support, general), and sometimes what is at stake. Every part has several
phrasings: dev cases use the even-numbered ones, test cases the odd-numbered ones. A design is
right when its required fields match the label: the task type (which picks the metrics and the
rubric), the domain (which picks the adversarial cases), and whether the stakes are high (which
adds safety to the rubric and human review).

    .venv/bin/python bench/eval_scenarios.py [--split dev|test|both] [--show-wrong N]
    .venv/bin/python bench/eval_scenarios.py --cases bench/eval_cases_dev.yaml [--show-wrong N]

``--cases FILE`` also scores a YAML list of ``{text, task, domain, high_stakes}`` cases (such as
bench/eval_cases_dev.yaml, a dev set written in learners' own words); given alone, without
``--split``, it scores only that file.

The baseline is the designer at ``BASELINE_COMMIT`` (``git archive``, in a subprocess), scored on
the same cases in the same run.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from at_commit import run_at_commit, scenario_main  # noqa: E402  (bench/ is on the path when run as a script)

BASELINE_COMMIT = "e7206d3"
PER_SPLIT = 60
SPLIT_SEEDS = {"dev": 0, "test": 1000}

# What the model does: phrasings per task type, each with a {thing} the domain fills in.
TASKS: dict[str, list[str]] = {
    "structured extraction": [
        "Our fine-tuned model pulls the {things} out of {docs} into JSON with fixed fields.",
        "It reads {docs} and fills in a record of the {things} for our database.",
        "The model extracts every {thing} from {docs} as structured output.",
        "We tuned it to turn {docs} into a table of {things}, one row per item.",
        "It parses {docs} and returns the {things} in our schema.",
        "Given {docs}, it lists each {thing} with its attributes, machine-readable.",
        "It copies the {thing} of every one of our {docs} into the right box of our form.",
        "From {docs} it picks out each {thing} so our system can store it.",
        "It reads {docs} and hands our software the {things}, one per entry.",
        "It goes through {docs} and notes down every {thing} in a fixed layout.",
    ],
    "classification": [
        "Our fine-tuned model sorts {docs} into one of eight categories.",
        "It assigns each of our {docs} a label: urgent, routine or spam.",
        "The model classifies {docs} by topic.",
        "It decides for each of the {docs} which team should handle it.",
        "We tuned it to tag the sentiment of {docs}.",
        "It routes {docs} to the right queue based on their intent.",
        "It puts each of our {docs} in one of a handful of buckets.",
        "For every one of our {docs} it says which of five kinds it is.",
        "It flags which {docs} are spam and which are genuine.",
        "It tells us whether each of our {docs} is positive, negative or mixed.",
    ],
    "summarisation": [
        "Our fine-tuned model writes a short summary of {docs}.",
        "It condenses {docs} into three bullet points for busy readers.",
        "The model summarises {docs} for the weekly report.",
        "It turns long {docs} into a one-paragraph brief.",
        "We tuned it to produce a TL;DR of {docs}.",
        "It gives the gist of {docs} in under 100 words.",
        "It shortens {docs} so a manager can read them in a minute.",
        "It boils {docs} down to their main points.",
        "It writes a brief overview of each of our {docs}.",
        "It cuts {docs} to a few lines that keep what matters.",
    ],
    "code generation": [
        "Our fine-tuned model writes SQL queries from questions about {docs}.",
        "It generates Python scripts that process {docs}.",
        "The model turns plain-English requests about {docs} into SQL.",
        "It writes the code that loads {docs} into our pipeline.",
        "We tuned it to produce database queries over {docs}.",
        "It generates small Python functions to validate {docs}.",
        "It writes the scripts our analysts run against {docs}.",
        "It produces programs that check {docs} automatically.",
        "It turns a question about {docs} into a database query we can run.",
        "It writes unit-tested functions that transform {docs}.",
    ],
    "open-ended generation": [
        "Our fine-tuned model drafts friendly replies about {docs}.",
        "It writes marketing copy inspired by {docs}.",
        "The model chats with users about {docs} in our brand voice.",
        "It composes personalised emails that mention {docs}.",
        "We tuned it to write blog posts based on {docs}.",
        "It answers open questions about {docs} conversationally.",
        "It writes warm thank-you notes that mention {docs}.",
        "It comes up with creative stories set around {docs}.",
        "It talks with visitors about {docs} in a playful tone.",
        "It drafts social media posts about {docs}.",
    ],
}
DOMAINS: dict[str, list[tuple[str, str]]] = {  # (documents, thing)
    "medical": [
        ("doctors' visit notes", "medication"),
        ("discharge letters", "diagnosis"),
        ("patient intake forms", "allergy"),
        ("prescription records", "dosage"),
    ],
    "legal": [
        ("contracts", "clause"),
        ("court filings", "party"),
        ("lease agreements", "obligation"),
        ("legal briefs", "precedent"),
    ],
    "financial": [
        ("earnings reports", "figure"),
        ("bank statements", "transaction"),
        ("invoices", "amount"),
        ("trading desk chats", "trade"),
    ],
    "customer support": [
        ("support tickets", "issue"),
        ("customer emails", "request"),
        ("helpdesk chats", "complaint"),
        ("customer reviews", "feature"),
    ],
    "general": [
        ("recipes", "ingredient"),
        ("travel blogs", "destination"),
        ("news articles", "event"),
        ("product descriptions", "feature"),
    ],
}
STAKES = [
    "Mistakes here could hurt someone.",
    "It is safety-critical: a wrong answer has real consequences.",
    "We work in a regulated industry and auditors will check it.",
    "Errors could cost people a lot of money or their health.",
]
LOW_STAKES = ["It is a low-risk internal tool.", "Nobody is harmed if it is occasionally off."]
HIGH_STAKES_DOMAINS = ("medical", "legal", "financial")


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    task: str
    domain: str
    high_stakes: bool


def _own(options: list, split: str) -> list:
    return options[0::2] if split == "dev" else options[1::2]


def generate(split: str, count: int = PER_SPLIT) -> list[Case]:
    rng = random.Random(SPLIT_SEEDS[split])
    cases = []
    for i in range(count):
        task = list(TASKS)[i % len(TASKS)]
        domain = rng.choice(list(DOMAINS))
        docs, thing = rng.choice(_own(DOMAINS[domain], split))
        template = rng.choice(_own(TASKS[task], split))
        text = template.format(docs=docs, things=thing + "s", thing=thing)
        stated = rng.random() < 0.3
        if stated:
            text += " " + rng.choice(_own(STAKES, split))
        elif domain not in HIGH_STAKES_DOMAINS and rng.random() < 0.3:
            text += " " + rng.choice(_own(LOW_STAKES, split))
        cases.append(Case(f"{split}-{i:02d}", text, task, domain, stated or domain in HIGH_STAKES_DOMAINS))
    return cases


def run_designer(texts: list[str]) -> list[dict]:
    from tutor.advisors.base import AdvisorRequest
    from tutor.advisors.evaluation import analyse

    out = []
    for text in texts:
        rec = analyse(AdvisorRequest(text))
        out.append({"task": rec.task_type, "domain": rec.domain, "high_stakes": rec.high_stakes})
    return out


def run_baseline(texts: list[str]) -> list[dict] | None:
    """``run_designer`` on the code of BASELINE_COMMIT (bench/at_commit.py)."""
    return run_at_commit(BASELINE_COMMIT, "tutor.advisors.evaluation", "eval_scenarios", "run_designer", texts)  # type: ignore[return-value]


def right(case: Case, got: dict) -> bool:
    return (got["task"], got["domain"], got["high_stakes"]) == (case.task, case.domain, case.high_stakes)


def score(split: str, baseline: bool, show_wrong: int) -> None:
    cases = generate(split)
    texts = [c.text for c in cases]
    now = run_designer(texts)
    line = f"{split}: {len(cases)} cases, now {sum(map(right, cases, now)) / len(cases):.1%} right"
    before = run_baseline(texts) if baseline else None
    if before is not None:
        line += f", baseline ({BASELINE_COMMIT}) {sum(map(right, cases, before)) / len(cases):.1%}"
    print(line)
    shown = 0
    for case, got in zip(cases, now, strict=True):
        if not right(case, got) and shown < show_wrong:
            shown += 1
            print(f"  WRONG {case.name}: expected {case.task}/{case.domain}/{case.high_stakes}, got {got}")
            print(f"    {case.text}")


def load_cases(path: str) -> list[Case]:
    import yaml

    rows = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [
        Case(f"{Path(path).stem}-{i:02d}", r["text"], r["task"], r["domain"], bool(r["high_stakes"]))
        for i, r in enumerate(rows)
    ]


def score_cases(path: str, show_wrong: int) -> None:
    """The designer on the cases of a YAML file, compared as ``right`` compares (no baseline)."""
    cases = load_cases(path)
    now = run_designer([c.text for c in cases])
    print(f"{path}: {len(cases)} cases, now {sum(map(right, cases, now)) / len(cases):.1%} right")
    wrong = [(case, got) for case, got in zip(cases, now, strict=True) if not right(case, got)]
    for case, got in wrong[:show_wrong]:
        print(f"  WRONG {case.name}: expected {case.task}/{case.domain}/{case.high_stakes}, got {got}")
        print(f"    {case.text}")


def main() -> int:
    import argparse

    # --cases is read here and the rest left to the shared command line (bench/at_commit.py).
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--cases")
    parser.add_argument("--show-wrong", type=int, default=0)
    args, rest = parser.parse_known_args()
    if args.cases is None:
        return scenario_main(__doc__.split("\n\n")[0], score)
    if any(a == "--split" or a.startswith("--split=") for a in rest):
        sys.argv = [sys.argv[0], *rest, "--show-wrong", str(args.show_wrong)]
        scenario_main(__doc__.split("\n\n")[0], score)
    score_cases(args.cases, args.show_wrong)
    return 0


if __name__ == "__main__":
    sys.exit(main())
