"""One advisor turn as a stream of typed events, the same for the chat, the API and the CLI.

The turn (after ``service.advise`` has computed the Advice) goes:

1. ``Recommended``: the rules' recommendation, its citations and the retrieved passages (no model yet);
   ``Queued``: while other learners' answers are ahead of this one for the model (tutor/llm/line.py);
2. ``ModelReady``: the model has loaded (its name heads the explanation);
3. ``AnswerPiece``: the model's explanation, piece by piece as it streams (a draft of the answer);
4. ``Drafted``: for the dataset lab, when asked, examples the model drafted (chat turns only);
5. ``ModelFailed``: the model could not load or answer; the recommendation stands on its own;
6. ``FinalAnswer``: always last, the turn's record: the final explanation, model, error and the whole
   answer as the transcript stores it. Renderers show its text in place of what they streamed, so a
   later step that checks the draft can change the final answer without touching the renderers.

Nothing here stores anything: ``Core.advisor_turn`` stores the question before and the answer after.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from tutor.advisors.extractive import ANSWER_CLOSE, ANSWER_QUOTES, Scorer, best_quotes
from tutor.advisors.grounding import (
    EXAMPLES_LABEL,
    Claims,
    DraftWatch,
    Verdict,
    check_answer,
    complete_sentences,
    contradictions,
)
from tutor.advisors.quiz_guard import QuizGuard
from tutor.advisors.service import Advice, draft_examples, explain, sources_markdown
from tutor.llm import ChatModel, LLMError
from tutor.llm.line import ModelLine

MODEL_FAILED = (
    "\n\n⚠️ The model could not answer ({error}). The recommendation above comes from the "
    "course's rules and stands on its own."
)
CUT_SHORT = (
    "\n\n_The model's explanation stopped before it finished a sentence, so it is not shown; the "
    "recommendation above stands on its own._"
)
NO_USABLE_DRAFTS = (
    "\n\n_No drafted examples: what the model wrote did not have the input and output fields of "
    "your examples, so none is shown._"
)
QUOTED_INSTEAD = (
    "\n\n📖 _Quoted from the course: the model's explanation did not pass the check against the course, so "
    "these are the course's own sentences on your case._"
)
CHECKED = (
    "\n\n✅ _Checked against the course: every number, name and claim above is in the recommendation or the passages._"
)
DRAFTS_BLOCK = "\n\n**Drafted examples — review every one before use:**\n```json\n{drafts}\n```"


def explains(model: str) -> str:
    """The line between the recommendation and the model's words in the chat."""
    return f"\n\n---\n*{model} explains:* "


# The line above course quotes that stand in for the model's words: not under its name, and a
# blank line before the first quote so that it renders as a quote, not as a literal ">".
FROM_THE_COURSE = "\n\n---\n*From the course:*\n\n"


@dataclass(frozen=True)
class Recommended:
    """The rules' result, at once: ``advice`` holds the recommendation, citations and passages."""

    advice: Advice
    markdown: str  # the recommendation as the chat shows it
    sources: str  # citations and retrieved passages as Markdown links


@dataclass(frozen=True)
class Queued:
    ahead: int  # answers the model writes before this one (each time the number changes)

    @property
    def text(self) -> str:
        answers = "answer is" if self.ahead == 1 else "answers are"
        return f"⏳ {self.ahead} {answers} being written ahead of yours; yours starts by itself."


@dataclass(frozen=True)
class ModelReady:
    model: str  # the model's name


@dataclass(frozen=True)
class AnswerPiece:
    text: str  # the next piece of the streamed explanation


@dataclass(frozen=True)
class Drafted:
    drafts: list[str]  # JSON lines, each marked "draft": true (also stored on the recommendation)
    text: str  # the Markdown block added to the explanation


@dataclass(frozen=True)
class ModelFailed:
    error: str  # the LLMError's message
    text: str  # what the learner reads about it


@dataclass(frozen=True)
class FinalAnswer:
    """The turn's record. ``explanation`` is the model's final answer (today: the streamed pieces
    plus any drafts), which replaces the streamed draft; ``text`` is the whole answer as stored."""

    advice: Advice
    markdown: str
    sources: str
    model: str = ""  # empty when the model did not load
    explanation: str = ""
    error: str = ""
    note: str = ""  # ModelFailed's text, or why the model's words are not shown, or the check's mark
    grounded: bool | None = None  # the check's verdict on the model's words (None: not checked)
    source: str = ""  # "model": its words are shown; "extract": course quotes stand in for them
    problems: tuple[str, ...] = ()  # why the check failed

    @property
    def text(self) -> str:
        """The answer as the chat shows it at the end and the transcript stores it."""
        head = FROM_THE_COURSE if self.source == "extract" else explains(self.model) if self.model else ""
        return f"{self.markdown}{head}{self.explanation}{self.note}\n\n**Sources**\n{self.sources}"


TurnEvent = Recommended | Queued | ModelReady | AnswerPiece | Drafted | ModelFailed | FinalAnswer


_ADDRESSES_LEARNER = re.compile(r"\b(?:you|your|you're|you've)\b", re.I)


def quotable(guard: QuizGuard, claims: Claims | None) -> Callable[[str], bool]:
    """Which course sentences may be quoted to a learner: none that holds a quiz option's text, and
    beside a recommendation none that reads against its decision ("weights you can download and
    fine-tune" under "prompting is enough"). The hyperparameters it sets are held against every
    quote ("Full fine-tuning uses 1e-5 to 5e-5" under LoRA's 2e-4 reads as another rate for the
    learner); its count of examples is not: "Alpaca trained on 52,000 examples" is a fact about
    Alpaca, not advice. A sentence that speaks to the learner ("You have fewer than 100 examples",
    a checklist line) is held to that count too: under the recommendation it reads as a claim about
    their case."""
    decision = (
        replace(claims, numbers=tuple(n for n in claims.numbers if n.label != EXAMPLES_LABEL)) if claims else None
    )

    def allowed(sentence: str) -> bool:
        held_to = claims if _ADDRESSES_LEARNER.search(sentence) else decision
        return not guard.leaks(sentence) and not (held_to and contradictions(sentence, held_to))

    return allowed


@dataclass(frozen=True)
class ExplanationCheck:
    """The grounding check on a use case's explanation, and the course quotes that replace an
    explanation that fails it."""

    guard: QuizGuard
    scorer: Scorer

    def verdict(self, advice: Advice, explanation: str, *, finished: bool = True) -> Verdict:
        context = [p.text for p in advice.passages] + advice.recommendation.facts_for_prompt()
        context.append(advice.request.all_text)
        return check_answer(
            explanation, context, claims=advice.recommendation.claims(), guard=self.guard, finished=finished
        )

    def quotes(self, advice: Advice) -> str:
        """The course's sentences closest to the case, in place of an explanation that failed; for a
        case that asks a course question, the sentences that answer it, read with the case."""
        if advice.question_answer is not None:  # answered as a course question is
            return advice.question_answer.text
        case = "\n".join([advice.request.text, *advice.recommendation.facts_for_prompt()[:2]])
        allowed, cut = quotable(self.guard, advice.recommendation.claims()), self.guard.without_options
        if advice.question:  # the question ranks; the case's words count again, as a follow-up's subject
            quotes = best_quotes(
                advice.question,
                advice.retrieved,
                self.scorer,
                allowed=allowed,
                cut=cut,
                subject=case,
                most=ANSWER_QUOTES,
                close=ANSWER_CLOSE,
            )
        else:  # the quotes in place of the case's explanation are its answer too: as many
            quotes = best_quotes(
                case, advice.passages, self.scorer, allowed=allowed, cut=cut, most=ANSWER_QUOTES, close=ANSWER_CLOSE
            )
        return "\n\n".join(q.markdown() for q in quotes)


# Between a checked explanation and the course sentences that answer the question the case asked.
ON_YOUR_QUESTION = "\n\nOn your question, from the course:\n\n"


def run_turn(
    advice: Advice,
    load_model: Callable[[], ChatModel],
    *,
    max_new_tokens: int,
    temperature: float,
    drafts: bool = True,
    check: ExplanationCheck | None = None,
    line: ModelLine | None = None,
) -> Iterator[TurnEvent]:
    """The events of answering ``advice``; an LLMError becomes ModelFailed, never an exception.
    With ``line``, the turn waits its place for the model (``Queued``) before it calls it."""
    first = Recommended(advice, advice.recommendation.markdown(), sources_markdown(advice))
    yield first
    watch = DraftWatch(lambda done: check.verdict(advice, done, finished=False)) if check is not None else None
    model_name, streamed, drafts_block, error, note = "", "", "", "", ""
    failure: LLMError | None = None
    with (line or ModelLine()).place() as place:
        try:
            yield from (Queued(ahead) for ahead in place.waits())
            model = load_model()
            model_name = model.name
            yield ModelReady(model_name)
            stream = explain(model, advice, max_new_tokens=max_new_tokens, temperature=temperature)
            try:
                for piece in stream:
                    streamed += piece
                    yield AnswerPiece(piece)
                    if watch is not None and watch.failed(streamed):
                        break  # this draft can no longer be shown: stop the model
            finally:
                stream.close()
            drafted = draft_examples(model, advice) if drafts else None
            if drafted:
                drafts_block = DRAFTS_BLOCK.format(drafts="\n".join(drafted))
                yield Drafted(drafted, drafts_block)
            elif drafted is not None:  # asked for, but nothing the model wrote was a usable example
                drafts_block = NO_USABLE_DRAFTS
        except LLMError as exc:
            failure = exc
    if failure is not None:  # said after the model's place is given up: a caller may stop here
        error = str(failure) or type(failure).__name__
        note = MODEL_FAILED.format(error=error)
        yield ModelFailed(error, note)
    # The final answer keeps only complete sentences: a reply cut off by the token limit (or by a
    # failure half-way) would otherwise end mid-claim.
    explanation = complete_sentences(streamed)
    if streamed.strip() and not explanation and not note:
        note = CUT_SHORT
    grounded, source, problems = None, "model" if explanation else "", ()
    if check is not None and explanation:
        problems = tuple(watch.problems or check.verdict(advice, explanation).problems)
        grounded = not problems
        if grounded:
            source, note = "model", note + CHECKED
            if advice.question:  # the explanation is of the recommendation; the question still gets its answer
                explanation += ON_YOUR_QUESTION + check.quotes(advice)
        else:
            source, note, explanation = "extract", note + QUOTED_INSTEAD, check.quotes(advice)
    yield FinalAnswer(
        advice, first.markdown, first.sources, model_name, explanation + drafts_block, error, note,
        grounded, source, problems,
    )  # fmt: skip


def final_answer(events: Iterable[TurnEvent]) -> FinalAnswer:
    """Run a turn to its end (for callers that do not stream) and return its record."""
    final = None
    for event in events:
        if isinstance(event, FinalAnswer):
            final = event
    if final is None:
        raise RuntimeError("the advisor turn ended without a final answer")
    return final
