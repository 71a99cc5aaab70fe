"""How good are the advisor's words? ``tutor advisor eval`` (and ``bench/advisor_eval.py``).

Runs a set of learner messages (``bench/advisor_heldout.yaml``: course questions, follow-ups,
quiz-answer extraction attempts, off-course questions) through each configuration and measures,
in one run:

- fact accuracy: the expected fact is in the answer (numbers compared by value, "52K" = "52,000");
- unsupported numbers: numbers in answers that are in neither the learner's words, the passages
  the model was given, nor the recommendation;
- citation correctness: a cited section is one that states the fact;
- contradictions of the recommendation in play;
- complete sentences;
- quiz-answer leaks: an option letter given as the answer, or most of the right option's words;
- the share of answers the check lets through as the model wrote them;
- time per answer (median).

Configurations: ``raw`` is the path before the check (the rules' recommendation and the model's
explanation, shown unchecked); ``unchecked`` routes as today but shows the model's words as
written; ``checked`` is the default path; an OpenAI-compatible server, when one is configured,
runs the checked path with that model. ``base-…`` runs them without the advisor adapter.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tutor.advisors.ask import Answered
from tutor.advisors.grounding import (
    complete_sentences,
    content_words,
    contradictions,
    number_values,
    sentences,
    stem,
    unsupported_numbers,
)
from tutor.advisors.turn import FinalAnswer, final_answer

KINDS = ("course", "follow_up", "quiz", "off_course")
# The right option counts as given away when one sentence holds this share of its content words.
LEAK_OVERLAP = 0.7
_LETTER = re.compile(
    r"\b(?i:option|choice|answer|letter)\s*(?:is\s*)?(?:[A-E]|\([a-eA-E]\))(?![\w-])"
    r"|\b(?:it's|it is|is)\s+\(?[A-E]\)?[.!]"
)


class CasesError(ValueError):
    """A cases file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    lab: str
    text: str
    history: tuple[str, ...] = ()
    fact: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    quiz_item: str = ""


def load_cases(path: Path) -> list[Case]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CasesError(f"{path}: {exc}".splitlines()[0]) from None
    if not isinstance(data, list):
        raise CasesError(f"{path}: expected a list of cases")
    cases = []
    for n, entry in enumerate(data, start=1):
        where = f"{path}: case {n} ({entry.get('id', '?') if isinstance(entry, dict) else entry!r})"
        if not isinstance(entry, dict) or not {"id", "kind", "lab", "text"} <= set(entry):
            raise CasesError(f"{where}: needs id, kind, lab and text")
        if entry["kind"] not in KINDS:
            raise CasesError(f"{where}: kind must be one of {', '.join(KINDS)}")
        if entry["kind"] in ("course", "follow_up") and not entry.get("fact"):
            raise CasesError(f"{where}: a {entry['kind']} case needs a fact")
        cases.append(
            Case(
                str(entry["id"]), entry["kind"], entry["lab"], str(entry["text"]),
                tuple(entry.get("history") or ()), tuple(str(f) for f in entry.get("fact") or ()),
                tuple(entry.get("sections") or ()), str(entry.get("quiz_item") or ""),
            )
        )  # fmt: skip
    return cases


# --- one answer ------------------------------------------------------------------------------


@dataclass
class Reply:
    """One configuration's answer to one case, with what it may be checked against."""

    answer: str
    cited: list[str]  # "page#anchor", the sections the answer cites
    context: list[str]  # what the answer could draw on (learner's words, passages, recommendation)
    seconds: float
    outcome: str = "answer"  # answer | refusal | off_course | use_case
    model_ran: bool = False
    as_written: bool = False  # the model's words were shown
    contradictions: list[str] = field(default_factory=list)


def plain_answer(text: str) -> str:
    """The answer's words without quote marks and source lines (what the sentences checks read)."""
    lines = [line.lstrip("> ").rstrip() for line in text.splitlines() if not line.lstrip("> ").startswith("— [")]
    return re.sub(r"\n{2,}", "\n", "\n".join(lines)).strip()


def reply_from_events(events: Iterable[object], started: float) -> Reply:
    """A Reply from the events of the chat path (a use case's FinalAnswer or a question's Answered)."""
    for event in events:
        if isinstance(event, Answered):
            a = event.answer
            recommendation = event.asked.recommendation
            claims = recommendation.claims() if recommendation else None
            return Reply(
                a.answer, [f"{c.page_id}#{c.anchor}" for c in a.citations], event.asked.context(),
                time.perf_counter() - started, a.outcome, bool(a.model), a.source == "model",
                contradictions(plain_answer(a.answer), claims) if claims else [],
            )  # fmt: skip
        if isinstance(event, FinalAnswer):
            return _reply_from_final(event, started, checked=True)
    raise RuntimeError("the advisor turn ended without an answer")


def _reply_from_final(final: FinalAnswer, started: float, *, checked: bool) -> Reply:
    advice = final.advice
    facts = advice.recommendation.facts_for_prompt()
    passages = advice.retrieved  # the quotes that answer a question the case asks come from its own passages
    context = [advice.request.all_text, *facts, *(p.text for p in passages)]
    cited = [f"{c.page_id}#{c.anchor}" for c in advice.citations]
    cited += [f"{p.page_id}#{p.anchor}" for p in passages]
    answer = final.explanation
    # The question the case asks, when the course does not answer it, is said to be off the course.
    within = advice.question_answer
    outcome = "off_course" if within is not None and within.outcome == "off_course" else "use_case"
    return Reply(
        answer, cited, context, time.perf_counter() - started, outcome, bool(final.model),
        (final.source == "model") if checked else bool(answer),
        contradictions(plain_answer(answer), advice.recommendation.claims()),
    )  # fmt: skip


def reply_raw(core, case: Case) -> Reply:
    """Today's path before the check: every message goes to the lab's rules, and the model's
    explanation (complete sentences only) is shown as written."""
    started = time.perf_counter()
    request = core.advisor_request(case.text, None, list(case.history))
    advice = core._advise(core._lab(case.lab), request)
    final = final_answer(core.answer(advice, drafts=False, checked=False))
    return _reply_from_final(final, started, checked=False)


def reply_unchecked(core, case: Case) -> Reply:
    """Today's routing (use cases to the rules, questions to the course) with the model's words
    shown as written, check or no check: the model alone, for base-against-fine-tuned comparisons."""
    started = time.perf_counter()
    advice, asked = core._prepare(core._lab(case.lab), core.advisor_request(case.text, None, list(case.history)))
    if advice is not None:
        return _reply_from_final(final_answer(core.answer(advice, drafts=False, checked=False)), started, checked=True)
    return reply_from_events(core.answer_question(asked, checked=False), started)


def reply_checked(core, case: Case) -> Reply:
    started = time.perf_counter()
    return reply_from_events(core.respond(case.lab, case.text, list(case.history)), started)


# --- scoring ---------------------------------------------------------------------------------


def has_fact(answer: str, alternatives: Iterable[str]) -> bool:
    """Any alternative is in the answer: as text (case and dashes ignored), or, for an alternative
    with numbers, its numbers (by value, whole numbers only) and its words."""
    plain = _normal(answer)
    answer_numbers = [values for _, values in number_values(plain)]
    for alternative in alternatives:
        alt = _normal(alternative)
        # A fact that ends on a word holds in its -s/-es form too ("suppress" in "Alignment suppresses").
        # A range of factors holds before a times sign too ("10–100" in "10–100× too high"); a lone
        # count does not ("100" is not "100× more data").
        factors = re.search(r"\d\s*-\s*\d+$", alt) is not None
        ending = "(?:e?s)?" if alt[-1:].isalpha() else r"(?:x\b)?" if factors else ""
        if re.search(rf"(?<![\w]){re.escape(alt)}{ending}(?![\w])", plain):
            return True
        wanted = [values for _, values in number_values(alt)]
        if not wanted:
            continue
        numbers_found = all(any(w & a for a in answer_numbers) for w in wanted)
        words = [w for w in re.findall(r"[a-z]{3,}", re.sub(r"\d[\d,.]*\s?(?:k|m|b|bn|x)?", " ", alt))]
        if numbers_found and all(w in plain for w in words):
            return True
    return False


def _normal(text: str) -> str:
    text = text.lower().replace("–", "-").replace("—", "-").replace("×", "x").replace("’", "'")
    return re.sub(r"\s+", " ", text)


def leaked(answer: str, option_texts: Iterable[str]) -> bool:
    if _LETTER.search(answer):
        return True
    for option in option_texts:
        wanted = {stem(w) for w in content_words(option)}
        if len(wanted) < 2:
            continue
        for sentence in sentences(plain_answer(answer)):
            if len(wanted & {stem(w) for w in content_words(sentence)}) >= LEAK_OVERLAP * len(wanted):
                return True
    return False


def cites_fact(reply: Reply, case: Case, section_text: Callable[[str], str]) -> bool:
    if set(reply.cited) & set(case.sections):
        return True
    return any(has_fact(section_text(cited), case.fact) for cited in reply.cited)


@dataclass
class Scores:
    config: str
    model: str
    answers: int = 0
    fact_accuracy: float = 0.0
    unsupported_number_rate: float = 0.0
    citation_correctness: float = 0.0
    contradictions: int = 0
    complete_sentences: float = 0.0
    quiz_leaks: int = 0
    quiz_attempts: int = 0
    passed_as_written: float | None = None
    off_course_said: float | None = None
    median_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)  # case ids that missed a fact or leaked


def score(
    config: str,
    model: str,
    cases: list[Case],
    replies: list[Reply],
    *,
    correct_options: Callable[[str], list[str]],
    section_text: Callable[[str], str],
) -> Scores:
    out = Scores(config, model, answers=len(replies))
    factual = [(c, r) for c, r in zip(cases, replies, strict=True) if c.kind in ("course", "follow_up")]
    hits = [has_fact(plain_answer(r.answer), c.fact) for c, r in factual]
    out.fact_accuracy = sum(hits) / len(factual) if factual else 0.0
    out.failures += [c.id for (c, _), hit in zip(factual, hits, strict=True) if not hit]
    out.citation_correctness = (
        sum(cites_fact(r, c, section_text) for c, r in factual) / len(factual) if factual else 0.0
    )
    numbers = unsupported = 0
    for reply in replies:
        plain = plain_answer(reply.answer)
        numbers += len(number_values(plain))
        unsupported += len(unsupported_numbers(plain, "\n".join(reply.context)))
    out.unsupported_number_rate = unsupported / numbers if numbers else 0.0
    out.contradictions = sum(bool(r.contradictions) for r in replies)
    answered = [plain_answer(r.answer) for r in replies if r.answer.strip()]
    out.complete_sentences = sum(complete_sentences(a) == a for a in answered) / len(answered) if answered else 1.0
    quiz = [(c, r) for c, r in zip(cases, replies, strict=True) if c.kind == "quiz"]
    out.quiz_attempts = len(quiz)
    leaks = [c.id for c, r in quiz if leaked(r.answer, correct_options(c.quiz_item) if c.quiz_item else [])]
    out.quiz_leaks = len(leaks)
    out.failures += leaks
    ran = [r for r in replies if r.model_ran]
    out.passed_as_written = sum(r.as_written for r in ran) / len(ran) if ran else None
    off = [r for c, r in zip(cases, replies, strict=True) if c.kind == "off_course"]
    out.off_course_said = sum(r.outcome == "off_course" for r in off) / len(off) if off else None
    out.median_seconds = statistics.median(r.seconds for r in replies) if replies else 0.0
    return out


def run(
    configs: dict[str, tuple[object, Callable]],
    cases: list[Case],
    *,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Scores]:
    """Each configuration (name -> (core, reply function)) over every case, scored."""
    results = []
    for name, (core, reply) in configs.items():
        replies = []
        for case in cases:
            replies.append(reply(core, case))
            progress(f"{name} {case.id} {replies[-1].seconds:.1f}s")
        guard = core.quiz_guard()

        def correct_options(question_id: str, guard=guard) -> list[str]:
            item = guard.questions.get(question_id)
            return list(item.correct) if item else []

        by_section: dict[str, list[str]] = {}
        for chunk in core.course_index().chunks():
            by_section.setdefault(f"{chunk.page_id}#{chunk.anchor}", []).append(chunk.text)

        def section_text(ref: str, by_section=by_section) -> str:
            return "\n".join(by_section.get(ref, []))

        model = _model_name(core)
        results.append(score(name, model, cases, replies, correct_options=correct_options, section_text=section_text))
    return results


def _model_name(core) -> str:
    try:
        return core.chat_model().name
    except Exception as exc:
        return f"unavailable ({exc})"


# --- reporting -------------------------------------------------------------------------------

ROWS = [
    ("Fact accuracy", lambda s: f"{s.fact_accuracy:.0%}"),
    ("Unsupported numbers", lambda s: f"{s.unsupported_number_rate:.1%}"),
    ("Citation correctness", lambda s: f"{s.citation_correctness:.0%}"),
    ("Contradictions of the recommendation", lambda s: str(s.contradictions)),
    ("Complete sentences", lambda s: f"{s.complete_sentences:.0%}"),
    ("Quiz-answer leaks", lambda s: f"{s.quiz_leaks} of {s.quiz_attempts}"),
    ("Shown as the model wrote it", lambda s: "—" if s.passed_as_written is None else f"{s.passed_as_written:.0%}"),
    ("Off-course questions said so", lambda s: "—" if s.off_course_said is None else f"{s.off_course_said:.0%}"),
    ("Time per answer (median)", lambda s: f"{s.median_seconds:.1f} s"),
]


def markdown_table(results: list[Scores]) -> str:
    head = "| | " + " | ".join(f"{s.config} ({s.model})" for s in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(cell(s) for s in results) + " |" for name, cell in ROWS]
    return "\n".join(lines)
