"""Every figure the evaluation designer prints stands on something: the course sections the suite
cites, or the learner's own words. Targets the course does not give ("≥ 99% schema validity", "alert
above 1% of requests in an hour") once sat above the course's citations as if they were its own;
the designer now leaves such targets to the learner, in words that say so."""

from __future__ import annotations

import re
from functools import cache

import pytest

from tests.tutor.advisors import design_cases
from tutor.advisors import eval_reader, evaluation, grounding
from tutor.advisors.base import AdvisorRequest
from tutor.content import Course, load_course
from tutor.settings import PROJECT_ROOT

pytestmark = pytest.mark.timeout(300)

# A figure: digits not glued to a name on their left ("F1", "q6h" and "ROUGE-L" are names, and the
# grounding check's term rule covers them), with their thousands and decimals, and a percent sign:
# "1%" of requests is not the "1" of "a score from 1 to 5".
FIGURE = re.compile(r"(?<![\w.])(\d+(?:,\d{3})*(?:\.\d+)?)(\s?%)?")
# Round quantities said in words ("a few hundred ratings").
QUANTITY_WORD = re.compile(r"\b(?:dozen|hundred|thousand|million|billion)s?\b", re.IGNORECASE)
# The numbers of the suite's parts ("**1. Automated metrics**") and of the judge prompt's list.
LIST_NUMBER = re.compile(r"^(?:\*\*)?\d{1,2}\. ", re.MULTILINE)

UNSTATED = "i want to fine tune a model with lora on rented gpus"  # no task: the suite is assumed
DESIGN_CASES = [
    text
    for text, *_ in design_cases.IN_OTHER_WORDS
    + design_cases.WORDS_IN_THEIR_SENSE
    + design_cases.QUESTION_APPENDED
    + design_cases.QUESTION_IS_THE_USE_CASE
] + [
    evaluation.LAB.try_prompt,
    "i want to fine tune a 7b model with lora on rented gpus",
    "Our support bot answers about 10,000 requests a day. It sorts each ticket into one of 12 queues.",
]
# Every suite the designer can print: its tables depend on the task, the domain, the stakes and
# whether the task was stated, nothing else of the text. The bench's 1,174 use cases read through
# the designer take minutes; these combinations take seconds and cover them all.
COMBINATIONS = [
    (task, domain, high_stakes, stated)
    for task in eval_reader.TASKS
    for domain in eval_reader.DOMAINS
    for high_stakes in (False, True)
    for stated in (False, True)
]


@cache
def course() -> Course:
    return load_course(PROJECT_ROOT / "lessons")


def section_text(page_id: str, anchor: str) -> str:
    """The section under the heading ``anchor``, its subsections included."""
    page = course().get(page_id)
    assert page is not None, page_id
    lines = page.body.splitlines()
    sections = list(page.sections)
    index = next(i for i, s in enumerate(sections) if s.slug == anchor)
    start = sections[index].line - page.body_line
    later = [s for s in sections[index + 1 :] if s.level <= sections[index].level]
    end = later[0].line - page.body_line if later else len(lines)
    return "\n".join(lines[start:end])


def figures(text: str) -> list[tuple[str, float, bool]]:
    """Each figure as written, its value, and whether it is a percentage."""
    return [(m.group(0), float(m.group(1).replace(",", "")), bool(m.group(2))) for m in FIGURE.finditer(text)]


def unsupported_figures(shown: str, context: str) -> list[str]:
    # Figures in digits only ("10k" is 10,000 as well): grounding's context also counts "once" as 1
    # and "half" as 0.5, which would let "alert above 1 in 100" stand on "not done once deployed".
    known = {(value, percent) for _, value, percent in figures(context)}
    known |= {(value, False) for _, values in grounding.number_values(context) for value in values}
    said = LIST_NUMBER.sub("", shown)
    unknown = [written.strip() for written, value, percent in figures(said) if (value, percent) not in known]
    words = [w for w in QUANTITY_WORD.findall(said) if w.lower().rstrip("s") not in context.lower()]
    return unknown + words


def without_sample_inputs(markdown: str, recommendation: evaluation.EvalRecommendation) -> str:
    """The markdown less the adversarial cases' sample inputs and answers (checked on their own)."""
    for case in recommendation.adversarial_cases:
        markdown = markdown.replace(f"“{case.example}” → {case.expected}", "")
    return markdown


def figures_without_support(text: str) -> list[str]:
    recommendation = evaluation.analyse(AdvisorRequest(text))
    cited = "\n".join(section_text(c.page_id, c.anchor) for c in recommendation.citations)
    shown = without_sample_inputs(recommendation.markdown(), recommendation)
    shown += "\n" + "\n".join(recommendation.facts_for_prompt())
    return unsupported_figures(shown, cited + "\n" + text)


def test_the_check_finds_a_figure_the_course_does_not_give() -> None:
    """The old targets fail it; the course's own figures and the learner's pass."""
    monitoring = section_text("evaluation-deployment", "monitoring-in-production")
    assert unsupported_figures("Target: ≥ 99%; alert above 1% of requests", monitoring) == ["99%", "1%"]
    assert unsupported_figures("a few hundred ratings", monitoring) == ["hundred"]
    assert unsupported_figures("every 30 days; your 10,000 requests a day", monitoring + " 10,000 a day") == []


@pytest.mark.parametrize("text", DESIGN_CASES)
def test_every_figure_of_a_suite_is_the_courses_or_the_learners(text: str) -> None:
    assert figures_without_support(text) == []


@pytest.mark.parametrize(("task", "domain", "high_stakes", "stated"), COMBINATIONS)
def test_every_figure_of_every_suite_the_designer_can_print_is_the_courses(
    task: str, domain: str, high_stakes: bool, stated: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluation, "_task_domain_stakes", lambda *_: (task, domain, high_stakes, stated))
    recommendation = evaluation.analyse(AdvisorRequest(UNSTATED))
    assert (recommendation.task_type, recommendation.domain, recommendation.task_stated) == (task, domain, stated)
    assert figures_without_support(UNSTATED) == []


def test_sample_inputs_are_labelled_as_made_up_and_their_answers_add_no_figure() -> None:
    """The red-team examples are inputs to copy the shape of, not the course's data: the section
    says so, and each expected answer uses only the figures of its own input."""
    recommendation = evaluation.analyse(AdvisorRequest(evaluation.LAB.try_prompt))
    heading = next(line for line in recommendation.markdown().splitlines() if "Adversarial cases" in line)
    assert "made up" in heading
    for case in recommendation.adversarial_cases:
        example = re.sub(r"(?<=[A-Za-z])(?=\d)", " ", case.example)  # "q6h" says 6 hours
        assert unsupported_figures(case.name + " " + case.expected, example) == [], case.name
