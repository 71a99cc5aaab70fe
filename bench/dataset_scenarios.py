"""Training files with planted issues for the dataset critic (issue 14, item 5), and its score.

Each file is a clean dataset for one of four tasks (sentiment labels in JSONL, medication
extraction as chat JSONL with JSON answers, support replies as prompt/completion, topic labels in
CSV), written from seeded draws, with one to three issues planted at known lines:

- invalid JSON, a broken schema, an empty answer;
- an exact duplicate, a reworded near-duplicate;
- an inconsistent format (a JSON answer with other keys, a date in another style, a label
  spelled another way);
- an answer of outlying length;
- personal data (an e-mail address, a phone number);
- a majority label that swamps the rest (the whole file);
- leakage: a test file that holds a training example.

A file is right when every planted issue is reported with its kind and its line (the later copy
for duplicates; no line for imbalance). Issues reported on lines where nothing was planted are
counted as false alarms. Seeds 0-23 are the dev split, 1000-1023 the test split.

    .venv/bin/python bench/dataset_scenarios.py [--split dev|test|both] [--show-wrong N]

The baseline is the critic at ``BASELINE_COMMIT`` (``git archive``, in a subprocess), scored on
the same files in the same run.
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from at_commit import run_at_commit, scenario_main  # noqa: E402  (bench/ is on the path when run as a script)

BASELINE_COMMIT = "e7206d3"
PER_SPLIT = 24
SPLIT_SEEDS = {"dev": 0, "test": 1000}
TASKS = ("sentiment", "medication", "support", "topics")
ISSUES = (
    "invalid_json",
    "schema",
    "empty_output",
    "duplicate",
    "near_duplicate",
    "inconsistent_format",
    "length_outlier",
    "pii",
    "label_imbalance",
    "leakage",
)

PRODUCTS = [
    "kettle",
    "headphones",
    "backpack",
    "desk lamp",
    "blender",
    "phone case",
    "office chair",
    "tent",
    "coffee grinder",
    "keyboard",
    "water bottle",
    "monitor",
    "rain jacket",
    "toaster",
    "camera bag",
]
PRAISE = [
    "works perfectly",
    "arrived early and feels solid",
    "is worth every penny",
    "exceeded what I hoped",
    "is quiet and well made",
]
COMPLAINTS = [
    "broke after two days",
    "stopped charging within a week",
    "smells of plastic",
    "is far too flimsy",
    "arrived with a cracked lid",
]
NEUTRAL = ["does what the listing says", "is fine for the price", "is an ordinary model", "looks like the photos"]
DRUGS = [
    "amoxicillin",
    "metformin",
    "lisinopril",
    "atorvastatin",
    "omeprazole",
    "sertraline",
    "ibuprofen",
    "levothyroxine",
    "amlodipine",
    "prednisone",
    "gabapentin",
    "warfarin",
]
DOSES = ["5 mg", "10 mg", "20 mg", "40 mg", "250 mg", "500 mg", "850 mg", "1 g"]
TOPICS = {
    "billing": ["I was charged twice for {p}", "the invoice for {p} shows the wrong amount"],
    "shipping": ["my {p} has not arrived yet", "tracking for the {p} has not moved in days"],
    "product": ["the {p} stopped working", "how do I clean the {p}"],
}


@dataclass
class Planted:
    kind: str
    line: int | None  # None: the whole file


@dataclass
class DataFile:
    name: str
    task: str
    filename: str
    text: str
    planted: list[Planted]
    test_text: str | None = None
    test_filename: str = ""
    clean_lines: set[int] = field(default_factory=set)


def _sentiment_rows(rng: random.Random, n: int, skew: bool) -> list[dict]:
    rows = []
    for i in range(n):
        label = "positive" if skew and rng.random() < 0.92 else ["positive", "negative", "neutral"][i % 3]
        phrase = {"positive": PRAISE, "negative": COMPLAINTS, "neutral": NEUTRAL}[label]
        product = rng.choice(PRODUCTS)
        rows.append({"prompt": f"Review #{i + 1}: the {product} {rng.choice(phrase)}.", "completion": label})
    return rows


def _medication_rows(rng: random.Random, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        drug, dose = rng.choice(DRUGS), rng.choice(DOSES)
        day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        note = (
            f"Visit {i + 1}: patient started {drug} {dose} twice daily on {day}; review in {rng.randint(2, 8)} weeks."
        )
        answer = json.dumps({"medication": drug, "dose": dose, "start_date": day})
        rows.append({"messages": [{"role": "user", "content": note}, {"role": "assistant", "content": answer}]})
    return rows


OPENERS = [
    "Thanks for writing in.",
    "Sorry for the trouble.",
    "Happy to help with that.",
    "Good question.",
    "Thanks for your patience.",
]
HOW = {
    "reset my password": "use the Forgot password link on the sign-in page; the email it sends is valid for an hour",
    "change my delivery address": "edit the address under Orders before the parcel is packed",
    "cancel my subscription": "turn off renewal in Billing; you keep access until the period ends",
    "get an invoice copy": "download any invoice as a PDF from the Billing history page",
    "update my card details": "replace the card under Payment methods and make it the default",
    "return a damaged item": "start a return from the order page and attach a photo of the damage",
    "add a second user": "invite them from Team settings; each seat is billed monthly",
    "close my account": "ask us in writing, since closing deletes your order history after 30 days",
}
CLOSERS = [
    "Let us know if that does not work.",
    "Reply to this message if you get stuck.",
    "We are here on weekdays if you need more.",
    "Anything else, just ask.",
]


CONTEXTS = [
    "I tried twice already",
    "the app keeps logging me out",
    "I am on the mobile site",
    "my colleague set this up originally",
    "I bought it as a gift",
    "the help page did not answer this",
    "I need it done before Friday",
    "we moved offices last month",
    "I use the desktop app on Windows",
    "your chat was closed when I tried",
    "this is for our charity account",
    "my previous email bounced",
]
TIPS = [
    "Screenshots help us answer faster.",
    "Our status page lists any outage.",
    "Check your spam folder too.",
    "The mobile app shows the same menu under Profile.",
    "Changes can take ten minutes to appear.",
    "Team admins can do this for everyone at once.",
    "Keep your order number at hand.",
    "Browser extensions sometimes block the button.",
    "We never ask for your password by email.",
    "A confirmation email follows every change.",
    "Weekend requests are handled on Monday.",
    "You can undo this within 24 hours.",
]


def _support_rows(rng: random.Random, n: int) -> list[dict]:
    """Varied tickets: the same request comes in different circumstances, with different tips."""
    rows = []
    for i in range(n):
        asked = rng.choice(list(HOW))
        tips = " ".join(rng.sample(TIPS, 2))
        reply = f"{rng.choice(OPENERS)} To {asked.replace('my', 'your')}, {HOW[asked]}. {tips} {rng.choice(CLOSERS)}"
        context = rng.choice(CONTEXTS)
        rows.append(
            {
                "prompt": f"Ticket {1000 + i}: how do I {asked}? {context}, and my {rng.choice(PRODUCTS)} "
                "order is waiting.",
                "completion": reply,
            }
        )
    return rows


def _topic_rows(rng: random.Random, n: int, skew: bool = False) -> list[dict]:
    rows = []
    for i in range(n):
        topic = "billing" if skew and rng.random() < 0.92 else list(TOPICS)[i % 3]
        text = rng.choice(TOPICS[topic]).format(p=rng.choice(PRODUCTS))
        detail = rng.choice(
            [
                "since Monday",
                "after the last update",
                "on order " + str(rng.randint(10000, 99999)),
                "for the second time",
                "and nobody replied",
                "which is frustrating",
            ]
        )
        rows.append({"text": f"{text} {detail}", "label": topic})
    return rows


def _issues_for(task: str) -> list[str]:
    kinds = list(ISSUES)
    if task == "topics":  # a CSV has no JSON to break
        kinds.remove("invalid_json")
    if task not in ("sentiment", "topics"):
        kinds.remove("label_imbalance")
    return kinds


def generate(split: str, count: int = PER_SPLIT) -> list[DataFile]:
    rng = random.Random(SPLIT_SEEDS[split])
    files = []
    for i in range(count):
        task = TASKS[i % len(TASKS)]
        kinds = rng.sample(_issues_for(task), rng.randint(1, 3))
        files.append(_build(f"{split}-{i:02d}-{task}", task, kinds, rng))
    return files


def _build(name: str, task: str, kinds: list[str], rng: random.Random) -> DataFile:
    n = rng.randint(30, 60)
    skew = "label_imbalance" in kinds
    rows: list = {
        "sentiment": lambda: _sentiment_rows(rng, n, skew),
        "medication": lambda: _medication_rows(rng, n),
        "support": lambda: _support_rows(rng, n),
        "topics": lambda: _topic_rows(rng, n, skew),
    }[task]()
    planted: list[Planted] = []
    raw: dict[int, str] = {}  # row index -> a raw line that replaces the row's JSON
    test_rows: list | None = None
    if skew:
        planted.append(Planted("label_imbalance", None))
    free = list(range(5, n))
    rng.shuffle(free)
    for kind in kinds:
        if kind == "label_imbalance":
            continue
        at = free.pop()
        if kind == "invalid_json":
            raw[at] = json.dumps(rows[at]).rstrip("}") + ",}"  # a trailing comma
        elif kind == "schema":
            if task == "medication":
                rows[at] = {"messages": rows[at]["messages"][:1]}  # no assistant answer
            else:
                key = "completion" if task != "topics" else "label"
                rows[at] = {k: v for k, v in rows[at].items() if k != key} | {"answer": "x"}
                if task == "topics":
                    rows[at] = dict(rows[at]) | {"label": ""}
                    kind = "empty_output"
        elif kind == "empty_output":
            if task == "medication":
                rows[at]["messages"][1]["content"] = ""
            else:
                rows[at][{"topics": "label"}.get(task, "completion")] = ""
        elif kind == "duplicate":
            source = rng.randrange(0, at)
            rows[at] = json.loads(json.dumps(rows[source]))
        elif kind == "near_duplicate":
            source = rng.randrange(0, at)
            rows[at] = _reworded(rows[source], task)
        elif kind == "inconsistent_format":
            rows[at] = _other_format(rows[at], task)
        elif kind == "length_outlier":
            rows[at] = _too_long(rows[at], task)
        elif kind == "pii":
            rows[at] = _with_pii(rows[at], task, rng)
        elif kind == "leakage":
            test_rows = [rows[at], *_more_rows(task, rng)]
        planted.append(Planted(kind, at + 1 + (1 if task == "topics" else 0)))
    if task == "topics":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["text", "label"], extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({"text": row.get("text", ""), "label": row.get("label", "")})
        text, filename = buffer.getvalue(), f"{name}.csv"
    else:
        text = "".join((raw.get(i) or json.dumps(row)) + "\n" for i, row in enumerate(rows))
        filename = f"{name}.jsonl"
    test_text = None
    if test_rows is not None:
        if task == "topics":
            test_text = "text,label\n" + "".join(f"{r['text']},{r['label']}\n" for r in test_rows)
        else:
            test_text = "".join(json.dumps(r) + "\n" for r in test_rows)
    offset = 1 if task == "topics" else 0
    planted_lines = {p.line for p in planted}
    clean = {i + 1 + offset for i in range(n)} - planted_lines
    return DataFile(name, task, filename, text, planted, test_text, "test" + filename[-6:], clean)


def _reworded(row: dict, task: str) -> dict:
    """The same example with one small edit (what copy-paste-and-tweak leaves behind)."""
    row = json.loads(json.dumps(row))
    if task == "medication":
        row["messages"][0]["content"] = row["messages"][0]["content"].replace("twice daily", "two times a day")
    elif task == "topics":
        row["text"] = row["text"] + " please"
    else:
        row["prompt"] = row["prompt"].rstrip(".?") + ", thanks?"
    return row


def _other_format(row: dict, task: str) -> dict:
    row = json.loads(json.dumps(row))
    if task == "medication":
        answer = json.loads(row["messages"][1]["content"])
        year, month, day = answer["start_date"].split("-")
        answer["start_date"] = f"{day}/{month}/{year}"  # another date style
        row["messages"][1]["content"] = json.dumps(answer)
    elif task == "sentiment":
        row["completion"] = row["completion"].upper()  # "POSITIVE" beside "positive"
    elif task == "topics":
        row["label"] = row["label"].capitalize()
    else:
        row["completion"] = json.dumps({"reply": row["completion"]})  # JSON where the rest is prose
    return row


def _too_long(row: dict, task: str) -> dict:
    row = json.loads(json.dumps(row))
    filler = " ".join(["Please also note the general terms and conditions that apply to this request."] * 40)
    if task == "medication":
        row["messages"][1]["content"] = json.dumps(json.loads(row["messages"][1]["content"]) | {"note": filler})
    elif task == "support":
        row["completion"] += " " + filler
    elif task == "topics":
        row["text"] += " " + filler
    else:
        row["prompt"] += " " + filler
    return row


def _with_pii(row: dict, task: str, rng: random.Random) -> dict:
    row = json.loads(json.dumps(row))
    contact = rng.choice(["jane.doe@example.com", "call me on +44 7700 900123", "m.rossi@mail.example.org"])
    if task == "medication":
        row["messages"][0]["content"] += f" Contact: {contact}."
    elif task == "topics":
        row["text"] += f" ({contact})"
    else:
        row["prompt"] += f" Contact: {contact}."
    return row


def _more_rows(task: str, rng: random.Random) -> list[dict]:
    other = random.Random(rng.random())
    return {
        "sentiment": lambda: _sentiment_rows(other, 5, False),
        "medication": lambda: _medication_rows(other, 5),
        "support": lambda: _support_rows(other, 5),
        "topics": lambda: _topic_rows(other, 5),
    }[task]()


def run_critic(files: list[dict]) -> list[list[dict]]:
    """The dataset critic of this checkout on each file: its issues as (kind, line)."""
    from tutor.advisors.dataset_checks import critique

    out = []
    for f in files:
        issues, _ = critique(f["text"], f["filename"], f["test_text"], f["test_filename"])
        out.append([{"kind": i.kind, "line": i.line} for i in issues])
    return out


def run_baseline(files: list[dict]) -> list[list[dict]] | None:
    """``run_critic`` on the code of BASELINE_COMMIT (bench/at_commit.py)."""
    return run_at_commit(BASELINE_COMMIT, "tutor.advisors.dataset_checks", "dataset_scenarios", "run_critic", files)  # type: ignore[return-value]


def missed(f: DataFile, found: list[dict]) -> list[Planted]:
    got = {(i["kind"], i["line"]) for i in found}
    return [p for p in f.planted if (p.kind, p.line) not in got]


def false_alarms(f: DataFile, found: list[dict]) -> int:
    return sum(1 for i in found if i["line"] in f.clean_lines and i["kind"] != "duplicate")


def _plain(files: list[DataFile]) -> list[dict]:
    return [
        {"text": f.text, "filename": f.filename, "test_text": f.test_text, "test_filename": f.test_filename}
        for f in files
    ]


def score(split: str, baseline: bool, show_wrong: int) -> None:
    files = generate(split)
    now = run_critic(_plain(files))
    before = run_baseline(_plain(files)) if baseline else None
    for label, results in (("now", now), (f"baseline ({BASELINE_COMMIT})", before)):
        if results is None:
            continue
        right = sum(not missed(f, r) for f, r in zip(files, results, strict=True))
        planted = sum(len(f.planted) for f in files)
        found = planted - sum(len(missed(f, r)) for f, r in zip(files, results, strict=True))
        alarms = sum(false_alarms(f, r) for f, r in zip(files, results, strict=True))
        print(
            f"{split} {label}: {right}/{len(files)} files with every planted issue found at its line; "
            f"{found}/{planted} planted issues; {alarms} false alarms on clean lines"
        )
    shown = 0
    for f, r in zip(files, now, strict=True):
        if missed(f, r) and shown < show_wrong:
            shown += 1
            print(f"  MISSED {f.name}: {[(p.kind, p.line) for p in missed(f, r)]}; found {r}")


def main() -> int:
    return scenario_main(__doc__.split("\n\n")[0], score)


if __name__ == "__main__":
    sys.exit(main())
