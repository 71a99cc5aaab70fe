"""Writes the two small datasets the QLoRA lab ships with (run it to regenerate them).

    python -m trainer.datasets.build_datasets

Both are written for this project from hand-made sentence patterns and word lists, with a
fixed random seed, so every copy of the repo has the same files. They are shaped like the
course assignment's public datasets (financial_phrasebank and SAMSum) but share no text with
them. See DATA_CARD.md for what is in them and their limits.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
SEED = 20261122

COMPANIES = [
    "Nordvik Paper",
    "Aalto Marine",
    "Kestrel Foods",
    "Borealis Telecom",
    "Lumo Energy",
    "Sarka Steel",
    "Vesta Retail",
    "Kivi Engineering",
    "Harbor Logistics",
    "Polar Pharma",
    "Tammi Forest Products",
    "Merikoski Bank",
    "Ilves Software",
    "Rautio Machinery",
    "Saimaa Shipping",
    "Pohja Chemicals",
    "Kaleva Insurance",
    "Lumen Medical",
    "Virta Utilities",
    "Tuuli Wind Systems",
    "Nova Packaging",
    "Keskus Media",
    "Halla Construction",
    "Aurora Textiles",
]
PRODUCTS = [
    "paper machines",
    "container cranes",
    "mobile network equipment",
    "frozen ready meals",
    "wind turbines",
    "steel pipes",
    "packaging board",
    "hospital software",
    "forklift trucks",
    "marine engines",
    "data centre cooling units",
    "pulp",
    "insurance policies",
    "bus fleets",
    "solar inverters",
]
CLIENTS = [
    "a Swedish utility",
    "a German car maker",
    "the city of Tampere",
    "a US retailer",
    "a Chinese paper mill",
    "the Finnish Defence Forces",
    "a Norwegian shipowner",
    "a Polish rail operator",
    "a Dutch grocery chain",
    "an Indian telecom operator",
]
CITIES = ["Helsinki", "Espoo", "Tampere", "Oulu", "Turku", "Stockholm", "Tallinn", "Gothenburg", "Vaasa"]
REGIONS = ["the Baltic countries", "Northern Europe", "Asia", "North America", "Russia", "Central Europe"]
PERIODS = [
    "the first quarter",
    "the second quarter",
    "the third quarter",
    "the fourth quarter",
    "January-June",
    "January-September",
    "the financial year",
    "the first half of the year",
]
METRICS = [
    "net sales",
    "operating profit",
    "pre-tax profit",
    "net profit",
    "revenue",
    "order intake",
    "earnings per share",
    "comparable operating profit",
]
UP_VERBS = ["rose", "increased", "grew", "climbed", "jumped", "improved"]
DOWN_VERBS = ["fell", "decreased", "dropped", "declined", "slumped", "shrank"]


def _money(rng: random.Random) -> str:
    return f"EUR {rng.choice([rng.randint(2, 95), rng.randint(100, 900)])}.{rng.randint(0, 9)} mn"


def _pct(rng: random.Random) -> str:
    return f"{rng.randint(2, 48)}.{rng.randint(0, 9)}%"


def _positive(rng: random.Random) -> str:
    c, metric, period = rng.choice(COMPANIES), rng.choice(METRICS), rng.choice(PERIODS)
    patterns = [
        lambda: f"{c}'s {metric} {rng.choice(UP_VERBS)} by {_pct(rng)} to {_money(rng)} in {period}.",
        lambda: f"In {period}, {metric} {rng.choice(UP_VERBS)} to {_money(rng)} from {_money(rng)} a year earlier.",
        lambda: f"{c} won an order worth {_money(rng)} from {rng.choice(CLIENTS)} for {rng.choice(PRODUCTS)}.",
        lambda: f"{c} raised its full-year outlook after strong demand for {rng.choice(PRODUCTS)}.",
        lambda: f"Shares in {c} gained {_pct(rng)} after the company beat analysts' profit forecasts.",
        lambda: f"{c} turned to an operating profit of {_money(rng)} after a loss a year ago.",
        lambda: f"The board of {c} proposes a higher dividend of EUR 0.{rng.randint(10, 95)} per share.",
        lambda: (
            f"Demand for {rng.choice(PRODUCTS)} picked up clearly in {rng.choice(REGIONS)}, lifting {c}'s margins."
        ),
        lambda: f"{c} says its order backlog is at a record level, up {_pct(rng)} from last year.",
        lambda: f"Cost savings helped {c} improve its operating margin to {rng.randint(8, 22)}.{rng.randint(0, 9)}%.",
    ]
    return rng.choice(patterns)()


def _negative(rng: random.Random) -> str:
    c, metric, period = rng.choice(COMPANIES), rng.choice(METRICS), rng.choice(PERIODS)
    patterns = [
        lambda: f"{c}'s {metric} {rng.choice(DOWN_VERBS)} by {_pct(rng)} to {_money(rng)} in {period}.",
        lambda: f"In {period}, {metric} {rng.choice(DOWN_VERBS)} to {_money(rng)} from {_money(rng)} a year earlier.",
        lambda: f"{c} plans to cut {rng.randint(20, 900)} jobs in {rng.choice(CITIES)} as demand weakens.",
        lambda: f"{c} lowered its full-year guidance because of weak demand for {rng.choice(PRODUCTS)}.",
        lambda: f"Shares in {c} fell {_pct(rng)} after the company issued a profit warning.",
        lambda: f"{c} swung to an operating loss of {_money(rng)} from a profit a year ago.",
        lambda: f"The operating loss of {c} widened to {_money(rng)} in {period}.",
        lambda: (
            f"{c} will close its {rng.choice(PRODUCTS)} plant in {rng.choice(CITIES)}, which employs "
            f"{rng.randint(40, 600)} people."
        ),
        lambda: f"Higher raw material costs squeezed {c}'s margins in {period}.",
        lambda: f"{c} cancelled its dividend after a difficult year in {rng.choice(REGIONS)}.",
    ]
    return rng.choice(patterns)()


def _neutral(rng: random.Random) -> str:
    c = rng.choice(COMPANIES)
    patterns = [
        lambda: f"{c} is headquartered in {rng.choice(CITIES)} and has operations in {rng.choice(REGIONS)}.",
        lambda: (
            f"{c} will publish its interim report for {rng.choice(PERIODS)} on {rng.randint(1, 28)} "
            f"{rng.choice(['February', 'April', 'July', 'October'])}."
        ),
        lambda: f"{c} employs about {rng.randint(2, 60) * 100} people in {rng.randint(3, 30)} countries.",
        lambda: f"The company makes {rng.choice(PRODUCTS)} and {rng.choice(PRODUCTS)}.",
        lambda: f"{c}'s shares are listed on the {rng.choice(['Helsinki', 'Stockholm', 'Oslo'])} stock exchange.",
        lambda: f"The agreement covers deliveries of {rng.choice(PRODUCTS)} to {rng.choice(REGIONS)}.",
        lambda: (
            f"{c} appointed a new chief financial officer, who starts on 1 "
            f"{rng.choice(['March', 'June', 'September'])}."
        ),
        lambda: "The value of the deal was not disclosed.",
        lambda: (
            f"{c} will hold its annual general meeting in {rng.choice(CITIES)} in "
            f"{rng.choice(['March', 'April', 'May'])}."
        ),
        lambda: "The figures in this release are unaudited and based on IFRS.",
        lambda: (
            f"{c} has {rng.randint(3, 40)} production sites and sells {rng.choice(PRODUCTS)} to {rng.choice(CLIENTS)}."
        ),
        lambda: (
            f"The company's financial year runs from {rng.choice(['January', 'July'])} to "
            f"{rng.choice(['December', 'June'])}."
        ),
    ]
    return rng.choice(patterns)()


def sentiment_rows(rng: random.Random, count: int = 600) -> list[dict]:
    makers = [("positive", _positive, 0.32), ("negative", _negative, 0.25), ("neutral", _neutral, 0.43)]
    rows, seen = [], set()
    while len(rows) < count:
        label, make, _ = rng.choices(makers, weights=[w for *_, w in makers])[0]
        sentence = make(rng)
        if sentence not in seen:
            seen.add(sentence)
            rows.append({"text": sentence, "label": label})
    return rows


NAMES = [
    "Anna",
    "Ben",
    "Chloe",
    "Daniel",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kate",
    "Liam",
    "Mia",
    "Noah",
    "Olivia",
    "Pavel",
    "Rosa",
    "Sam",
    "Tara",
    "Viktor",
    "Yuki",
    "Zoe",
]
PLACES = [
    "the station",
    "the cafe on Main Street",
    "the library",
    "the gym",
    "the cinema",
    "the office",
    "the park gate",
    "the pizza place",
    "the bus stop",
    "the museum",
]
TIMES = ["6", "7", "half past 5", "8", "noon", "10 tomorrow morning", "4 on Friday", "9 on Saturday"]
ITEMS = [
    "charger",
    "umbrella",
    "bike pump",
    "camping tent",
    "drill",
    "blue scarf",
    "history notes",
    "keys",
    "laptop",
    "board game",
]
DISHES = ["sushi", "tacos", "pizza", "a curry", "pasta", "burgers", "a salad"]


def _dialogue(rng: random.Random) -> tuple[list[str], str]:
    a, b = rng.sample(NAMES, 2)
    place, time, item, dish = rng.choice(PLACES), rng.choice(TIMES), rng.choice(ITEMS), rng.choice(DISHES)
    minutes = rng.choice([10, 15, 20, 30])
    scenarios = [
        (
            [
                f"{a}: Are we still meeting at {place}?",
                f"{b}: Yes! What time suits you?",
                f"{a}: {time}?",
                f"{b}: Perfect, see you there.",
                f"{a}: 👍",
            ],
            f"{a} and {b} will meet at {place} at {time}.",
        ),
        (
            [
                f"{a}: I'm running late, sorry",
                f"{b}: How late?",
                f"{a}: About {minutes} minutes, the bus broke down",
                f"{b}: No problem, I'll wait at {place}",
            ],
            f"{a} will be {minutes} minutes late because the bus broke down; {b} will wait at {place}.",
        ),
        (
            [
                f"{a}: Can I borrow your {item}?",
                f"{b}: Sure, when do you need it?",
                f"{a}: Tomorrow if possible",
                f"{b}: Pick it up tonight, I'm home after {time}",
                f"{a}: Thanks a lot!",
            ],
            f"{b} will lend {a} the {item}; {a} will pick it up tonight after {time}.",
        ),
        (
            [
                f"{a}: Dinner tonight?",
                f"{b}: I could eat {dish}",
                f"{a}: Great, I'll book a table for {time}",
                f"{b}: Should I invite {rng.choice(NAMES)}?",
                f"{a}: Sure, the more the merrier",
            ],
            f"{a} and {b} will have {dish} tonight; {a} books a table for {time}.",
        ),
        (
            [
                f"{a}: Did you leave your {item} at my place?",
                f"{b}: Oh no, I've been looking for it!",
                f"{a}: I'll bring it to {place} tomorrow",
                f"{b}: You're a lifesaver",
            ],
            f"{b} left the {item} at {a}'s place; {a} will bring it to {place} tomorrow.",
        ),
        (
            [
                f"{a}: The meeting moved to {time}",
                f"{b}: Which room?",
                f"{a}: Same one, but we meet at {place} first",
                f"{b}: Got it, I'll tell the others",
            ],
            f"The meeting was moved to {time}; {b} will tell the others to meet at {place} first.",
        ),
        (
            [
                f"{a}: Happy birthday!!",
                f"{b}: Thank you! Are you coming to the party?",
                f"{a}: Of course. Should I bring anything?",
                f"{b}: Maybe {dish}?",
                f"{a}: Deal",
            ],
            f"It is {b}'s birthday; {a} is coming to the party and will bring {dish}.",
        ),
        (
            [
                f"{a}: I can't find my {item}",
                f"{b}: Did you check {place}?",
                f"{a}: Not yet",
                f"{b}: You had it there yesterday",
                f"{a}: I'll go and look after {time}",
            ],
            f"{a} lost the {item}; {b} thinks it is at {place}, and {a} will look there after {time}.",
        ),
    ]
    return rng.choice(scenarios)


def summary_rows(rng: random.Random, count: int = 300) -> list[dict]:
    rows, seen = [], set()
    while len(rows) < count:
        lines, summary = _dialogue(rng)
        dialogue = "\n".join(lines)
        if dialogue not in seen:
            seen.add(dialogue)
            rows.append({"dialogue": dialogue, "summary": summary})
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    rng = random.Random(SEED)
    write_jsonl(HERE / "financial_sentiment.jsonl", sentiment_rows(rng))
    write_jsonl(HERE / "dialogue_summaries.jsonl", summary_rows(rng))


if __name__ == "__main__":
    main()
