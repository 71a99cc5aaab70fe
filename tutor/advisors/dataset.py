"""Lab 2: critique a training set (pasted or uploaded) against Lesson 2's data-quality
checklist, and draft extra examples with the model when asked."""

from __future__ import annotations

import json
import re
from collections import Counter

from pydantic import Field

from trainer.records import is_csv
from tutor.advisors import facts
from tutor.advisors.base import AdvisorRequest, LabInfo, Recommendation, table
from tutor.advisors.dataset_checks import FIELD_PAIRS, Issue, IssueCause, Stats, critique, parse

LAB = LabInfo(
    id="dataset",
    number=2,
    title="Dataset Builder & Critic",
    lesson_id="training-data",
    intro="Draft training examples and have them checked for format, consistency, duplicates, leakage and "
    "balance before you spend GPU time on them.",
    tasks=(
        "Describe the task you are building training data for.",
        "Paste 2–3 example input/output pairs (JSON, one per line) or upload a JSONL/CSV file; ask for a critique.",
        "Ask the critic to draft more diverse examples following your pattern.",
        "Ask how to find and remove near-duplicates in a larger set; upload a test file to check for leakage.",
    ),
    try_prompt="I'm building training data to extract medication names and dosages from doctor notes as JSON. "
    "Here's my first example — [paste your example]. What's wrong with it?",
    opening="I'm your dataset critic. Tell me what you are fine-tuning for and show me some examples: paste "
    "input/output pairs or upload your file. I'll check format consistency, correctness patterns, diversity "
    "and the usual mistakes, with line numbers, so you don't spend compute on bad data.",
    accepts_files=True,
    file_help="Training data: JSONL (chat `messages` or prompt/completion) or CSV with a header. "
    "A second file is treated as the test set and checked for leakage.",
)

# One fix per kind of issue, for JSON inputs (a JSONL file or pasted JSON objects); a CSV file gets
# CSV_FIXES (see fixes_for).
FIXES = {
    "invalid_json": "Make every line one complete JSON object (no trailing commas, double quotes only); "
    "`python -m json.tool` on a single line shows the error.",
    "schema": 'Use one shape for every line: {"messages": [{"role": "user", ...}, {"role": "assistant", '
    '...}]} or {"prompt": ..., "completion": ...}.',
    "empty_output": "Remove examples with empty answers or write the answer: an empty output teaches the model to "
    "stop early.",
    "duplicate": "Keep one copy of each example; where the same input has different outputs, decide which is right "
    "— the model otherwise averages them.",
    "near_duplicate": "Drop rewordings of the same example (MinHash or embedding similarity finds them): they "
    "over-weight one phrasing and cause overfitting.",
    "inconsistent_format": "Pick one convention (one JSON schema, one date format, one spelling per label) and "
    "rewrite the outliers; the model averages conflicting conventions and produces neither reliably.",
    "length_outlier": "Check the outliers by hand: truncate or split very long examples, and complete suspiciously "
    "short answers.",
    "label_imbalance": "Add examples of the rare labels (or down-sample the common one) so the model does not learn "
    "to guess the majority.",
    "pii": "Mask or remove personal data (names, emails, phone and ID numbers) before training: a model can repeat "
    "what it saw.",
    "leakage": "Remove test examples from the training set (or re-split): leaked examples make test scores "
    "meaningless.",
}

# The fixes for a CSV file. The JSON texts of "invalid_json" and "schema" show JSONL record shapes
# ({"messages": ...}), which tell a CSV learner to change format rather than how to mend the file:
# a CSV has no JSON lines to break, and its "schema" problems (a header without an input and an
# output column, a broken quote, extra values) each get their own fix, naming their lines
# (CSV_SCHEMA_FIXES). "inconsistent_format" is reworded without "JSON schema"; the other kinds'
# texts hold for any format.
_FORMAT_FREE = ("empty_output", "duplicate", "near_duplicate", "length_outlier", "label_imbalance", "pii", "leakage")
CSV_FIXES: dict[str, str] = {kind: FIXES[kind] for kind in _FORMAT_FREE} | {
    "inconsistent_format": "Pick one convention (one answer format, one date format, one spelling per label) and "
    "rewrite the outlying rows; the model averages conflicting conventions and produces neither reliably.",
}
# The headers the critic reads a CSV by (dataset_checks.FIELD_PAIRS), as a learner would type them.
CSV_HEADERS = f"`{','.join(FIELD_PAIRS[0])}` (or {', '.join(f'`{a},{b}`' for a, b in FIELD_PAIRS[1:])})"
CSV_SCHEMA_FIXES: dict[IssueCause, str] = {
    "csv_header": f"Start the file with a header row naming an input and an output column, {CSV_HEADERS}, "
    "then one example per row.",
    "csv_quote": "Close the quote that opens a value on {lines}. A quote inside a quoted value is written twice "
    '(`"She said ""no"""`), and a value that holds a comma or a line break goes in double quotes.',
    "csv_columns": 'Put each value that holds a comma in double quotes (`"Lisinopril, 10 mg"`) or remove the '
    "extra values: there are more values than header columns on {lines}.",
}


def fixes_for(issues: list[Issue], filename: str = "") -> list[str]:
    """One fix per kind of issue found, in FIXES order, in the words of the file's format: JSON for
    a JSONL file or a paste, CSV for a CSV file (one fix per cause of its schema problems)."""
    kinds = {issue.kind for issue in issues}
    if not is_csv(filename):
        return [FIXES[kind] for kind in FIXES if kind in kinds]
    fixes: list[str] = []
    for kind in FIXES:
        if kind == "schema":
            fixes += _csv_schema_fixes(issues)
        elif kind in kinds and kind in CSV_FIXES:
            fixes.append(CSV_FIXES[kind])
    return fixes


def _csv_schema_fixes(issues: list[Issue]) -> list[str]:
    """A fix for each cause of a CSV's schema problems, naming the lines it is on. A schema issue
    without a cause (none comes from the CSV parser today) is read as a header problem, the fix
    that says what a CSV must look like."""
    lines: dict[IssueCause, list[int]] = {}
    for issue in issues:
        if issue.kind == "schema":
            lines.setdefault(issue.cause or "csv_header", []).append(issue.line or 1)
    return [fix.format(lines=_line_list(lines[cause])) for cause, fix in CSV_SCHEMA_FIXES.items() if cause in lines]


def _line_list(lines: list[int], shown: int = 5) -> str:
    """'line 3', 'lines 3 and 7', 'lines 3, 7, 9, 12, 15 and 4 more'."""
    numbers = [str(n) for n in sorted(set(lines))]
    if len(numbers) == 1:
        return f"line {numbers[0]}"
    if len(numbers) > shown:
        return f"lines {', '.join(numbers[:shown])} and {len(numbers) - shown} more"
    return f"lines {', '.join(numbers[:-1])} and {numbers[-1]}"


def _no_examples_note(filename: str) -> str:
    """What to give the critic when it found no examples, in the format the learner is using."""
    if is_csv(filename):
        return (
            f"No examples found. A CSV needs a header row naming an input and an output column, {CSV_HEADERS}, "
            "then one example per row."
        )
    return (
        "No examples found. Paste JSON objects, one per line, e.g. "
        '{"prompt": "…note…", "completion": "{\\"medication\\": \\"…\\", \\"dose\\": \\"…\\"}"}, '
        "or upload a JSONL/CSV file."
    )


class DatasetRecommendation(Recommendation):
    lab: str = "dataset"
    source: str = Field(description="What was critiqued: a file name or 'pasted text'.")
    issues: list[Issue]
    counts: dict[str, int] = Field(description="Issues by kind.")
    stats: Stats
    fixes: list[str]
    volume_advice: str
    verdict: str
    wants_drafts: bool = False
    drafts: list[str] = Field(default_factory=list, description="Model-written examples: drafts to review, not data.")

    def facts_for_prompt(self) -> list[str]:
        lines = [f"Examples checked: {self.stats.examples}", f"Verdict: {self.verdict}"]
        lines += [
            f"Issue, line {i.line}: {i.kind} — {i.detail}" if i.line else f"Issue: {i.kind} — {i.detail}"
            for i in self.issues[:5]
        ]
        lines += [f"Fix: {fix}" for fix in self.fixes[:2]]
        lines.append(f"Data volume: {self.volume_advice}")
        return lines

    def markdown(self) -> str:
        parts = [f"**Critique of {self.source}** — {self.verdict}"]
        s = self.stats
        parts.append(
            table(
                [
                    ("Examples", f"{s.examples} (from {s.lines} lines; {s.style})"),
                    ("Mean words in / out", f"{s.mean_input_words:g} / {s.mean_output_words:g}"),
                    ("Distinct outputs", str(s.distinct_outputs)),
                    ("About", f"{s.approx_tokens:,} tokens"),
                ]
                + ([("Labels", ", ".join(f"{k}: {v}" for k, v in s.labels.items()))] if s.labels else []),
                ("", ""),
            )
        )
        if self.issues:
            rows = "\n".join(
                f"| {i.line or '—'} | {i.kind} | {i.detail.replace('|', '/')} |" for i in self.issues[:30]
            )
            more = (
                f"\n\n…and {len(self.issues) - 30} more (see the table beside the chat)."
                if len(self.issues) > 30
                else ""
            )
            parts.append(f"| line | issue | detail |\n|---|---|---|\n{rows}{more}")
            parts.append("**Fixes**\n" + "\n".join(f"- {fix}" for fix in self.fixes))
        parts.append(f"**Volume.** {self.volume_advice}")
        if self.notes:
            parts.append("\n".join(f"- {note}" for note in self.notes))
        return "\n\n".join(parts)

    def retrieval_query(self, text: str) -> str:
        kinds = " ".join(sorted(self.counts)) or "data quality"
        return f"training data quality checklist {kinds.replace('_', ' ')} {text[:300]}"


def _prose(text: str) -> str:
    """The learner's words without pasted JSON lines (so 'JSON' in a task description counts,
    but the word inside an example does not)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("{", "}", '"')))


def analyse(request: AdvisorRequest) -> DatasetRecommendation:
    task_text = _prose(request.all_text)
    if request.files:
        data = request.files[0]
        text, filename, source = data.text, data.name, data.name
    else:
        text, filename, source = request.text, "", "pasted text"
    test = request.files[1] if len(request.files) > 1 else None
    issues, stats = critique(text, filename, test.text if test else None, test.name if test else "", task_text)
    counts = dict(Counter(i.kind for i in issues))
    fixes = fixes_for(issues, filename)
    notes = []
    if stats.examples == 0:
        notes.append(_no_examples_note(filename))
    if test is None:
        notes.append("Upload your test set as a second file to check it for leakage into the training data.")

    wanted = facts.example_count(task_text)
    if stats.labels or re.search(r"\b(classif\w*|label\w*|extract\w*|json|format)\b", task_text, re.IGNORECASE):
        low, high, goal = 500, 5_000, "a new task format or schema"
    elif re.search(r"\b(style|tone|voice)\b", task_text, re.IGNORECASE):
        low, high, goal = 50, 500, "style or tone"
    else:
        low, high, goal = 500, 5_000, "a task"
    have = stats.examples
    volume_advice = (
        f"For {goal}, plan on {low:,}–{high:,} varied examples; you have {have:,}"
        + (f" (you mentioned {wanted:,})" if wanted and wanted != have else "")
        + ". "
        + (
            "That is enough to start; quality beats quantity."
            if have >= low
            else "Write a few dozen by hand, then grow the set with a teacher model and review a sample of "
            "what it writes."
        )
    )
    serious = {k for k in counts if k in ("invalid_json", "schema", "empty_output", "leakage", "pii")}
    if not stats.examples:
        verdict = "nothing to critique yet"
    elif not issues:
        verdict = "no problems found by the automatic checks — still read a random sample yourself"
    elif serious:
        verdict = f"fix before training: {', '.join(sorted(serious))}"
    else:
        verdict = f"usable after clean-up: {', '.join(sorted(counts))}"
    recommendation = DatasetRecommendation(
        source=source,
        issues=issues,
        counts=counts,
        stats=stats,
        fixes=fixes,
        volume_advice=volume_advice,
        verdict=verdict,
        notes=notes,
        wants_drafts=bool(
            re.search(
                r"\b(generate|draft|write|create|more|additional)\b.{0,40}\bexamples?\b", request.text, re.IGNORECASE
            )
        ),
    )
    recommendation.cite(
        "training-data", "data-quality-checklist", "the four checks: diversity, accuracy, consistency, deduplication"
    )
    if "leakage" in counts or test is None:
        recommendation.cite("safety-evaluation", "data-quality-pitfalls", "leakage and inconsistent labels")
    recommendation.cite("training-data", "how-much-data-do-you-need", "how many examples")
    if "invalid_json" in counts or "schema" in counts or stats.examples == 0:
        # The section shows the JSONL chat format; for a CSV what it teaches is the input/output pair.
        why = "what an example pairs: an input and its ideal output" if is_csv(filename) else "the JSONL chat format"
        recommendation.cite("training-data", "the-format-instruction-pairs-in-chat-form", why)
    if recommendation.wants_drafts:
        recommendation.cite("training-data", "synthetic-data-from-a-teacher-model", "drafting synthetic examples")
    return recommendation


def draft_prompt(request: AdvisorRequest, count: int = 3) -> tuple[list[dict], list[dict]] | None:
    """Messages asking the model for ``count`` new examples like the learner's, and the examples
    they show; None when the learner gave no examples."""
    source = request.files[0] if request.files else None
    examples, _, _ = parse(source.text if source else request.text, source.name if source else "")
    if not examples:
        return None
    pairs = [{"input": e.input, "output": e.output} for e in examples[:3]]
    shown = "\n".join(json.dumps(pair, ensure_ascii=False) for pair in pairs)
    return pairs, [
        {
            "role": "system",
            "content": "You write new training examples for a dataset. Each example is one line "
            "of JSON with the keys input and output, in the same style as the examples. Vary the inputs.",
        },
        {"role": "user", "content": f"Examples:\n{shown}\n\nWrite {count} new examples, one JSON object per line."},
    ]


def parse_drafts(text: str, shown: list[dict] | None = None) -> list[str]:
    """The usable examples in a model's draft reply, each marked ``"draft": true``.

    A draft is kept only when it is what the prompt asked for: a JSON object with a non-empty
    string ``input`` and ``output`` and no other keys, that is not a copy of a shown example.
    Anything else the model wrote (prose, other keys, half objects) is dropped: a small model
    often answers with JSON-shaped text that is not an example at all."""
    seen = {(e.get("input"), e.get("output")) for e in shown or []}
    drafts = []
    for line in text.splitlines():
        line = line.strip().rstrip(",")
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(value, dict) or set(value) != {"input", "output"}:
            continue
        pair = (value["input"], value["output"])
        if not all(isinstance(v, str) and v.strip() for v in pair) or pair in seen:
            continue
        seen.add(pair)
        drafts.append(json.dumps({**value, "draft": True}, ensure_ascii=False))
    return drafts
