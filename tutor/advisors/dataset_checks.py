"""The dataset critic's checks, usable on their own (the QLoRA lab runs them on uploads).

Input: JSONL (chat ``messages`` or prompt/completion style, one object per line), CSV with a
header, or pasted text holding JSON objects. Output: issues, each with its kind, the line it is
on (None for whole-dataset findings) and a detail, plus statistics. Lines are 1-based lines of
the file or paste, so an editor jumps straight to them.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from trainer.records import BadLine, Record, Records, is_csv, is_jsonl, read_csv, read_jsonl

IssueKind = Literal[
    "invalid_json",
    "schema",
    "empty_output",
    "duplicate",
    "near_duplicate",
    "inconsistent_format",
    "length_outlier",
    "label_imbalance",
    "pii",
    "leakage",
]
# Why a CSV file's row is a "schema" issue: each cause has its own fix (dataset.fixes_for).
IssueCause = Literal["csv_header", "csv_quote", "csv_columns"]
_CSV_CAUSES: dict[str, IssueCause] = {"quote": "csv_quote", "columns": "csv_columns"}  # from BadLine.cause
ROLES = {"system", "user", "assistant", "tool"}
# Field pairs accepted besides chat messages: (input field, output field).
FIELD_PAIRS = [
    ("prompt", "completion"),
    ("input", "output"),
    ("instruction", "output"),
    ("question", "answer"),
    ("text", "label"),
    ("sentence", "label"),
    ("dialogue", "summary"),
    ("source", "target"),
]
NEAR_DUPLICATE_JACCARD = 0.7  # word-bigram Jaccard similarity above which two inputs are "the same thing reworded"
LEAKAGE_JACCARD = 0.8
MAX_ISSUES_PER_KIND = 200  # a 10,000-line file of broken JSON should not produce a 10,000-row table


class Issue(BaseModel):
    kind: IssueKind
    line: int | None = Field(description="1-based line in the file or paste; None: the whole dataset.")
    detail: str
    other_line: int | None = Field(None, description="The line it duplicates, or the test-file line it leaks into.")
    cause: IssueCause | None = Field(None, description="What broke, where one kind has several fixes (CSV files).")


@dataclass
class Example:
    line: int
    input: str
    output: str
    style: str  # "chat" or the input/output field names, e.g. "prompt/completion"


class Stats(BaseModel):
    examples: int
    lines: int
    style: str
    mean_input_words: float
    mean_output_words: float
    max_output_words: int
    distinct_outputs: int
    approx_tokens: int = Field(description="About 4 characters per token.")
    labels: dict[str, int] | None = None


# --- parsing ---------------------------------------------------------------------------------


def _example_from(obj: object, line: int, issues: list[Issue]) -> Example | None:
    if not isinstance(obj, dict):
        issues.append(Issue(kind="schema", line=line, detail=f"expected a JSON object, got {type(obj).__name__}"))
        return None
    if "messages" in obj:
        return _chat_example(obj["messages"], line, issues)
    for in_key, out_key in FIELD_PAIRS:
        if in_key in obj and out_key in obj:
            source, target = obj[in_key], obj[out_key]
            if in_key == "instruction" and isinstance(obj.get("input"), str) and obj["input"]:
                source = f"{source}\n{obj['input']}"
            if not isinstance(source, str) or not isinstance(target, str | int | float | bool | dict | list):
                issues.append(Issue(kind="schema", line=line, detail=f"'{in_key}' must be text"))
                return None
            if not isinstance(target, str):
                target = json.dumps(target, ensure_ascii=False)
            if not target.strip():
                issues.append(Issue(kind="empty_output", line=line, detail=f"'{out_key}' is empty"))
            return Example(line, source, target, f"{in_key}/{out_key}")
    keys = ", ".join(sorted(obj)) or "none"
    issues.append(
        Issue(
            kind="schema",
            line=line,
            detail=f"no 'messages' list and no prompt/completion-style fields (keys found: {keys})",
        )
    )
    return None


def _chat_example(messages: object, line: int, issues: list[Issue]) -> Example | None:
    if not isinstance(messages, list) or not messages:
        issues.append(Issue(kind="schema", line=line, detail="'messages' must be a non-empty list"))
        return None
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            issues.append(Issue(kind="schema", line=line, detail=f"message {index + 1} needs a text 'content'"))
            return None
        if message.get("role") not in ROLES:
            issues.append(
                Issue(
                    kind="schema",
                    line=line,
                    detail=f"message {index + 1} has role {message.get('role')!r}; "
                    f"expected one of {', '.join(sorted(ROLES))}",
                )
            )
            return None
    if messages[-1]["role"] != "assistant":
        issues.append(Issue(kind="schema", line=line, detail="the last message must be the assistant's answer"))
        return None
    if not any(m["role"] == "user" for m in messages):
        issues.append(Issue(kind="schema", line=line, detail="no user message"))
        return None
    output = messages[-1]["content"]
    if not output.strip():
        issues.append(Issue(kind="empty_output", line=line, detail="the assistant's answer is empty"))
    source = "\n".join(m["content"] for m in messages[:-1] if m["role"] in ("user", "tool"))
    return Example(line, source, output, "chat")


def _in_line_order(read: Records) -> list[Record | BadLine]:
    """Records and bad lines together, in file order (so issues come out in line order)."""
    return sorted([*read.records, *read.problems], key=lambda item: item.line)


def parse_jsonl(text: str) -> tuple[list[Example], list[Issue], int]:
    examples, issues = [], []
    read = read_jsonl(text)
    for item in _in_line_order(read):
        if isinstance(item, BadLine):
            detail = item.detail.removeprefix("not valid JSON: ")
            issues.append(Issue(kind="invalid_json", line=item.line, detail=detail))
        elif example := _example_from(item.value, item.line, issues):
            examples.append(example)
    return examples, issues, read.lines


def parse_csv(text: str) -> tuple[list[Example], list[Issue], int]:
    read = read_csv(text)
    header = read.columns or []
    pair = next(((a, b) for a, b in FIELD_PAIRS if a in header and b in header), None)
    if pair is None:
        issue = Issue(
            kind="schema",
            line=1,
            detail="the CSV header needs an input and an output column, e.g. "
            f"prompt,completion (found: {', '.join(header) or 'nothing'})",
            cause="csv_header",
        )
        return [], [issue], text.count("\n") + 1
    examples, issues = [], []
    for item in _in_line_order(read):
        if isinstance(item, BadLine):
            issues.append(Issue(kind="schema", line=item.line, detail=item.detail, cause=_CSV_CAUSES[item.cause]))
            continue
        source, target = item.value.get(pair[0], ""), item.value.get(pair[1], "")
        if not target.strip():
            issues.append(Issue(kind="empty_output", line=item.line, detail=f"'{pair[1]}' is empty"))
        examples.append(Example(item.line, source, target, f"{pair[0]}/{pair[1]}"))
    return examples, issues, read.lines


def parse_paste(text: str) -> tuple[list[Example], list[Issue], int]:
    """JSON objects inside free text: each starts on a line beginning with '{' and may span lines."""
    decoder = json.JSONDecoder()
    examples, issues = [], []
    lines = text.splitlines(keepends=True)
    offsets = list(itertools.accumulate((len(line) for line in lines), initial=0))  # start of each line
    index = 0
    while index < len(lines):
        raw = lines[index]
        if not raw.lstrip().startswith("{"):
            index += 1
            continue
        begin = offsets[index] + len(raw) - len(raw.lstrip())
        try:
            obj, end = decoder.raw_decode(text, begin)
        except json.JSONDecodeError as exc:
            issues.append(Issue(kind="invalid_json", line=exc.lineno, detail=f"{exc.msg} (column {exc.colno})"))
            index += 1
            continue
        example = _example_from(obj, index + 1, issues)
        if example:
            examples.append(example)
        index = bisect.bisect_right(offsets, end - 1)  # the line after the one the object ends on
    return examples, issues, len(lines)


def parse(text: str, filename: str = "") -> tuple[list[Example], list[Issue], int]:
    if is_csv(filename):
        return parse_csv(text)
    if is_jsonl(filename):
        return parse_jsonl(text)
    return parse_paste(text)


# --- checks ----------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def shingles(text: str) -> set[str]:
    words = _WORD.findall(text.lower())
    if len(words) < 3:
        return {" ".join(words)} if words else set()
    return {f"{a} {b}" for a, b in itertools.pairwise(words)}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class NearIndex:
    """MinHash LSH (datasketch) over word bigrams; candidates are confirmed with the exact Jaccard."""

    def __init__(self, threshold: float, num_perm: int = 64) -> None:
        from datasketch import MinHashLSH

        self.num_perm = num_perm
        # The LSH bands are tuned below the real threshold: near the threshold MinHash misses many
        # true pairs, so we over-collect candidates and confirm each with the exact Jaccard.
        self.lsh = MinHashLSH(threshold=max(0.3, threshold - 0.25), num_perm=num_perm)
        self.threshold = threshold
        self.sets: dict[int, set[str]] = {}

    def signatures(self, token_sets: list[set[str]]):
        from datasketch import MinHash

        return MinHash.bulk([[t.encode() for t in tokens] for tokens in token_sets], num_perm=self.num_perm)

    def add(self, key: int, tokens: set[str], signature) -> None:
        self.sets[key] = tokens
        self.lsh.insert(key, signature, check_duplication=False)

    def best(self, tokens: set[str], signature) -> tuple[int, float] | None:
        """The earliest stored line whose exact Jaccard with ``tokens`` reaches the threshold."""
        if not tokens:
            return None
        found = sorted(
            (key, score)
            for key in self.lsh.query(signature)
            if (score := _jaccard(tokens, self.sets[key])) >= self.threshold
        )
        return found[0] if found else None


def check_duplicates(examples: list[Example]) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[tuple[str, str], int] = {}
    by_input: dict[str, tuple[int, str]] = {}
    exact = set()
    for example in examples:
        key = (_norm(example.input), _norm(example.output))
        if key in seen:
            issues.append(
                Issue(
                    kind="duplicate",
                    line=example.line,
                    other_line=seen[key],
                    detail=f"the same example as line {seen[key]}",
                )
            )
            exact.add(example.line)
            continue
        seen[key] = example.line
        earlier = by_input.get(key[0])
        if earlier and key[0]:
            issues.append(
                Issue(
                    kind="duplicate",
                    line=example.line,
                    other_line=earlier[0],
                    detail=f"the same input as line {earlier[0]} with a different output (conflicting labels)",
                )
            )
            exact.add(example.line)
        else:
            by_input[key[0]] = (example.line, key[1])
    candidates = [e for e in examples if e.line not in exact]
    token_sets = [shingles(e.input + " " + e.output) for e in candidates]
    if len(candidates) < 2:
        return issues
    index = NearIndex(NEAR_DUPLICATE_JACCARD)
    signatures = index.signatures(token_sets)
    for example, tokens, signature in zip(candidates, token_sets, signatures, strict=True):
        match = index.best(tokens, signature)
        if match:
            other, score = match
            issues.append(
                Issue(
                    kind="near_duplicate",
                    line=example.line,
                    other_line=other,
                    detail=f"a near-duplicate of line {other} ({score:.0%} of word pairs shared)",
                )
            )
        elif tokens:
            index.add(example.line, tokens, signature)
    return issues


def check_leakage(train: list[Example], test: list[Example], threshold: float = LEAKAGE_JACCARD) -> list[Issue]:
    """Train examples whose input also appears (exactly or nearly: ``threshold`` Jaccard) in the test file."""
    issues: list[Issue] = []
    exact = {}
    for example in test:
        exact.setdefault(_norm(example.input), example.line)
    index = NearIndex(threshold)
    test_sets = [shingles(e.input) for e in test]
    for example, tokens, signature in zip(test, test_sets, index.signatures(test_sets), strict=True):
        if tokens:
            index.add(example.line, tokens, signature)
    train_sets = [shingles(e.input) for e in train]
    for example, tokens, signature in zip(train, train_sets, index.signatures(train_sets), strict=True):
        key = _norm(example.input)
        if key and key in exact:
            issues.append(
                Issue(
                    kind="leakage",
                    line=example.line,
                    other_line=exact[key],
                    detail=f"the same input is in the test file at line {exact[key]}",
                )
            )
            continue
        match = index.best(tokens, signature)
        if match:
            other, score = match
            issues.append(
                Issue(
                    kind="leakage",
                    line=example.line,
                    other_line=other,
                    detail=f"nearly the same input as test line {other} ({score:.0%} shared)",
                )
            )
    return issues


def _json_value(text: str):
    text = text.strip()
    if not text.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


DATE_STYLES = {
    "MM/DD/YYYY": re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b"),
    "ISO 8601 (YYYY-MM-DD)": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "DD.MM.YYYY": re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b"),
    "Month D, YYYY": re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}\b"),
}


MINORITY_SHARE = 0.1  # a style this rare beside another is an inconsistency, not a second convention


def _minority(examples: list[Example], style_of, what: str) -> list[Issue]:
    """Flag examples whose style differs from the most common one."""
    styles = {e.line: style_of(e) for e in examples}
    counts = Counter(s for s in styles.values() if s is not None)
    if len(counts) < 2:
        return []
    main, main_count = counts.most_common(1)[0]
    return [
        Issue(
            kind="inconsistent_format",
            line=line,
            detail=f"{what}: {style} here, {main} in {main_count} other examples",
        )
        for line, style in styles.items()
        if style is not None and style != main
    ]


def looks_like_labels(examples: list[Example]) -> bool:
    if len(examples) < 10:
        return False
    outputs = [_norm(e.output) for e in examples]
    distinct = set(outputs)
    # Labels: short outputs drawn from a small set (at most a third as many values as examples).
    few_values = len(distinct) <= min(20, max(2, len(outputs) // 3))
    return statistics.mean(len(o.split()) for o in outputs) <= 3 and few_values


def check_format(examples: list[Example], task_text: str = "") -> list[Issue]:
    issues = _minority(examples, lambda e: e.style, "record format")
    values = {e.line: _json_value(e.output) for e in examples}
    json_share = sum(v is not None for v in values.values()) / max(1, len(examples))
    wants_json = bool(re.search(r"\bjson\b", task_text, re.IGNORECASE))
    if json_share >= 0.5 or wants_json:
        for example in examples:
            if values[example.line] is None and example.output.strip():
                issues.append(
                    Issue(
                        kind="inconsistent_format",
                        line=example.line,
                        detail="the output is not valid JSON"
                        + (
                            ", but the task asks for JSON"
                            if wants_json and json_share < 0.5
                            else ", unlike the other outputs"
                        ),
                    )
                )
        objects = [e for e in examples if isinstance(values[e.line], dict)]
        key_sets = Counter(frozenset(values[e.line]) for e in objects)
        if len(key_sets) > 1:
            main = key_sets.most_common(1)[0][0]
            for example in objects:
                keys = frozenset(values[example.line])
                if keys != main:
                    missing = ", ".join(sorted(main - keys)) or "none"
                    extra = ", ".join(sorted(keys - main)) or "none"
                    issues.append(
                        Issue(
                            kind="inconsistent_format",
                            line=example.line,
                            detail=f"JSON keys differ from the usual set (missing: {missing}; extra: {extra})",
                        )
                    )

    elif 0 < json_share <= MINORITY_SHARE and len(examples) >= 10:
        # Prose answers with a few JSON objects among them: the model learns to do either at random.
        for example in examples:
            if isinstance(values[example.line], (dict, list)):
                issues.append(
                    Issue(
                        kind="inconsistent_format",
                        line=example.line,
                        detail=f"the output is JSON, while {1 - json_share:.0%} of the outputs are plain text",
                    )
                )

    def date_style(example: Example) -> str | None:
        found = [name for name, pattern in DATE_STYLES.items() if pattern.search(example.output)]
        return found[0] if len(found) == 1 else None

    issues += _minority(examples, date_style, "date format")
    if looks_like_labels(examples):
        spellings: dict[str, Counter] = defaultdict(Counter)
        for example in examples:
            spellings[_norm(example.output)][example.output.strip()] += 1
        for example in examples:
            variants = spellings[_norm(example.output)]
            if len(variants) > 1:
                main = variants.most_common(1)[0][0]
                if example.output.strip() != main:
                    issues.append(
                        Issue(
                            kind="inconsistent_format",
                            line=example.line,
                            detail=f"label written {example.output.strip()!r}; elsewhere {main!r}",
                        )
                    )
    return issues


def check_lengths(examples: list[Example]) -> list[Issue]:
    """Far longer (or shorter) than the rest: median ± many median absolute deviations."""
    if len(examples) < 10:
        return []
    issues = []
    for field_name in ("input", "output"):
        lengths = [len(getattr(e, field_name).split()) for e in examples]
        median = statistics.median(lengths)
        mad = statistics.median(abs(n - median) for n in lengths) or 1.0
        for example, n in zip(examples, lengths, strict=True):
            if n > median + 8 * mad and n > 3 * median + 10:
                issues.append(
                    Issue(
                        kind="length_outlier",
                        line=example.line,
                        detail=f"{field_name} is {n} words; the median is {median:g}",
                    )
                )
            elif median >= 20 and 0 < n < median / 10:
                issues.append(
                    Issue(
                        kind="length_outlier",
                        line=example.line,
                        detail=f"{field_name} is only {n} words; the median is {median:g}",
                    )
                )
    return issues


def label_counts(examples: list[Example]) -> dict[str, int] | None:
    if not looks_like_labels(examples):
        return None
    return dict(Counter(_norm(e.output) for e in examples if e.output.strip()).most_common())


def check_balance(examples: list[Example]) -> list[Issue]:
    counts = label_counts(examples)
    if not counts or len(counts) < 2:
        return []
    total = sum(counts.values())
    top, top_count = next(iter(counts.items()))
    rare, rare_count = list(counts.items())[-1]
    if top_count / total > 0.6 or rare_count / total < 0.5 / len(counts):
        spread = ", ".join(f"{label} {count} ({count / total:.0%})" for label, count in counts.items())
        return [
            Issue(
                kind="label_imbalance",
                line=None,
                detail=f"labels are unbalanced: {spread}; the model will lean towards '{top}' "
                f"and see too few '{rare}'",
            )
        ]
    return []


PII_PATTERNS = {
    # Bounded repeats (RFC 5321's part lengths): "[\w.+-]+@" tried at every start of a 64k-character
    # "a.a.a…" field scanned to its end each time, 16 s of the server's time.
    "email address": re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}\.[\w.-]{1,190}\b"),
    "US social security number": re.compile(r"\b\d{3}-\d{2}-\d{4}\b"),
    "phone number": re.compile(r"(?<![\w-])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b"),
    # International form: a country code, then two to four groups ("+44 7700 900123", "+31 6 1234 5678").
    "international phone number": re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\d{1,5}){2,4}\b"),
    "card number": re.compile(r"\b(?:\d[ -]?){13,19}\b"),
    "IP address": re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"),
}


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for index, char in enumerate(digits):
        value = int(char)
        if index % 2 == parity:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask(value: str) -> str:
    return value[:2] + "…" + value[-2:] if len(value) > 6 else "…"


def check_pii(examples: list[Example]) -> list[Issue]:
    issues = []
    for example in examples:
        text = example.input + "\n" + example.output
        for what, pattern in PII_PATTERNS.items():
            match = pattern.search(text)
            if not match:
                continue
            if what == "card number":
                digits = re.sub(r"\D", "", match.group(0))
                if not (13 <= len(digits) <= 19 and _luhn(digits)):
                    continue
            if what == "international phone number" and not 8 <= len(re.sub(r"\D", "", match.group(0))) <= 15:
                continue  # E.164 numbers have 8 to 15 digits; "+2 3" is arithmetic
            issues.append(Issue(kind="pii", line=example.line, detail=f"{what} ({_mask(match.group(0))})"))
            break
    return issues


def stats_of(examples: list[Example], lines: int) -> Stats:
    inputs = [len(e.input.split()) for e in examples] or [0]
    outputs = [len(e.output.split()) for e in examples] or [0]
    styles = Counter(e.style for e in examples)
    chars = sum(len(e.input) + len(e.output) for e in examples)
    return Stats(
        examples=len(examples),
        lines=lines,
        style=", ".join(f"{s} ({n})" for s, n in styles.most_common()) or "none",
        mean_input_words=round(statistics.mean(inputs), 1),
        mean_output_words=round(statistics.mean(outputs), 1),
        max_output_words=max(outputs),
        distinct_outputs=len({_norm(e.output) for e in examples}),
        approx_tokens=chars // 4,
        labels=label_counts(examples),
    )


def critique(
    text: str, filename: str = "", test_text: str | None = None, test_filename: str = "", task_text: str = ""
) -> tuple[list[Issue], Stats]:
    """Every issue of a dataset (and its leakage into a test set, when given), sorted by line."""
    examples, issues, lines = parse(text, filename)
    issues += check_duplicates(examples)
    issues += check_format(examples, task_text)
    issues += check_lengths(examples)
    issues += check_balance(examples)
    issues += check_pii(examples)
    if test_text is not None:
        test_examples, _, _ = parse(test_text, test_filename)
        issues += check_leakage(examples, test_examples)
    kept: list[Issue] = []
    per_kind: Counter = Counter()
    for issue in sorted(issues, key=lambda i: (i.line or 0, i.kind)):
        per_kind[issue.kind] += 1
        if per_kind[issue.kind] <= MAX_ISSUES_PER_KIND:
            kept.append(issue)
    return kept, stats_of(examples, lines)
