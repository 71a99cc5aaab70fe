"""One advisor turn, from the learner's message to a grounded, cited answer:

1. the lab's rules turn the message (and files) into a typed Recommendation with citations;
2. the course index finds the passages closest to the question and the recommendation's topic,
   and to the course question the message asks besides its case (``question_within``); one
   that asks beyond the verdict is answered as any course question is (``answer_within``, from
   ``Core``: quotes only, or that the course does not answer it);
3. the model explains the recommendation with those passages in its prompt (streamed);
4. for the dataset lab, when asked, the model drafts extra examples, marked as drafts.

Steps 1–2 are ``advise``; ``tutor.advisors.turn.run_turn`` runs steps 3–4 as a stream of events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tutor.advisors import ADVISORS
from tutor.advisors.base import AdvisorRequest, Citation, Recommendation, build_messages
from tutor.advisors.course_words import spelled_out
from tutor.advisors.dataset import DatasetRecommendation, draft_prompt, parse_drafts
from tutor.advisors.question_within import asks_beyond_the_verdict, question_within
from tutor.content import Course
from tutor.llm import ChatModel
from tutor.rag import CourseIndex, Passage, RetrievalError

PERSONAS = {
    "strategy": "a fine-tuning strategy advisor",
    "dataset": "a training-data critic",
    "hyperparams": "a LoRA hyperparameter and training-diagnostics advisor",
    "eval": "an evaluation and deployment advisor",
}


# Passages searched for the course question a use case asks, as many as for a course question
# (ask.QUOTE_TOP_K), with the keyword search's beside them.
QUESTION_K = 5


@dataclass(frozen=True)
class QuestionAnswer:
    """The course's answer to the question a use case asks besides its case: the course sentences
    that answer it, or that the course does not answer it (``outcome`` "off_course")."""

    text: str  # Markdown, shown under the recommendation
    outcome: str  # "answer" or "off_course"
    passages: list[Passage]  # what was searched for it


# Answers the question a use case asks (the request with its conversation, the question, the recommendation).
AnswerWithin = Callable[[AdvisorRequest, str, Recommendation], QuestionAnswer]


@dataclass
class Advice:
    lab: str
    request: AdvisorRequest
    recommendation: Recommendation
    passages: list[Passage]
    messages: list[dict] = field(default_factory=list)  # the prompt the model gets
    question: str | None = None  # the course question the message asks besides its case
    # Passages found for that question: quoted to answer it, not put in the model's prompt.
    question_passages: list[Passage] = field(default_factory=list)
    question_answer: QuestionAnswer | None = None  # its answer, when it asks beyond the verdict

    @property
    def citations(self) -> list[Citation]:
        return self.recommendation.citations

    @property
    def retrieved(self) -> list[Passage]:
        """Every passage found: the case's, then its question's (what the passages panel shows)."""
        return self.passages + self.question_passages


def resolve_citations(course: Course, recommendation: Recommendation) -> None:
    """Fill in page and section titles; a rule citing a missing section is a bug, so it raises."""
    for citation in recommendation.citations:
        page = course.get(citation.page_id)
        section = next((s for s in page.sections if s.slug == citation.anchor), None) if page else None
        if page is None or section is None:
            raise KeyError(f"advisor cites missing section {citation.page_id}#{citation.anchor}")
        citation.page_title, citation.section = page.title, section.title


def advise(
    course: Course,
    index: CourseIndex | None,
    lab: str,
    request: AdvisorRequest,
    k: int = 3,
    answer_within: AnswerWithin | None = None,
) -> Advice:
    """Steps 1–2 (fast, no model): the recommendation, its citations and the retrieved passages;
    with ``answer_within``, the answer to a question the message asks beyond the verdict."""
    module = ADVISORS[lab]
    recommendation = module.analyse(request)
    resolve_citations(course, recommendation)
    query = recommendation.retrieval_query(request.text or request.all_text)
    question = question_within(request.text) if request.text else None
    passages: list[Passage] = []
    question_passages: list[Passage] = []
    answered: QuestionAnswer | None = None
    if index is not None:
        try:
            passages = index.search(query, k=k)
            if question:  # "…, how much of that am I supposed to read myself?": searched as a course question is
                if answer_within is not None and asks_beyond_the_verdict(question):
                    answered = answer_within(request, question, recommendation)
                    found = answered.passages
                else:
                    found = index.search_hybrid(spelled_out(question), k=QUESTION_K)
                seen = {p.chunk_id for p in passages}
                question_passages = [p for p in found if p.chunk_id not in seen]
        except RetrievalError as exc:  # answer from the rules alone rather than not at all
            recommendation.notes.append(
                f"Course search is unavailable ({exc}); citations come from the advisor's rules only."
            )
    messages = build_messages(PERSONAS[lab], recommendation, passages, request.text)
    return Advice(lab, request, recommendation, passages, messages, question, question_passages, answered)


def explain(model: ChatModel, advice: Advice, *, max_new_tokens: int, temperature: float) -> Iterator[str]:
    """Step 3: the model's explanation, piece by piece."""
    yield from model.stream(advice.messages, max_new_tokens=max_new_tokens, temperature=temperature)


def draft_examples(model: ChatModel, advice: Advice, *, max_new_tokens: int = 300) -> list[str] | None:
    """Step 4 (dataset lab): new examples in the learner's pattern, each marked ``"draft": true``.
    None when no drafts were asked for (or there were no examples to imitate); an empty list when
    the model wrote none that is usable."""
    if not isinstance(advice.recommendation, DatasetRecommendation) or not advice.recommendation.wants_drafts:
        return None
    prompt = draft_prompt(advice.request)
    if prompt is None:
        return None
    shown, messages = prompt
    text = "".join(model.stream(messages, max_new_tokens=max_new_tokens, temperature=0.7))
    drafts = parse_drafts(text, shown)
    advice.recommendation.drafts = drafts
    return drafts


def sources_markdown(advice: Advice) -> str:
    """The citations (rule sources) and retrieved passages as Markdown links into the app."""
    lines = [f"- [{c.page_title} › {c.section}]({c.link}) — {c.why}" for c in advice.citations]
    cited = {(c.page_id, c.anchor) for c in advice.citations}
    extra = [p for p in advice.passages if (p.page_id, p.anchor) not in cited]
    lines += [f"- [{p.page_title} › {p.section}]({p.link}) — retrieved (similarity {p.score:.2f})" for p in extra]
    return "\n".join(lines)
