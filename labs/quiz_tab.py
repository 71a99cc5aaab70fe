"""The Quizzes tab: pick a quiz, start or resume an attempt, answer, submit, review.

The browser only ever receives stems and option texts (values are display positions 1..n);
answers are saved as a draft on every change, graded on the server at submit, and the review
shows what the quiz's review options allow. Programs use the typed endpoints at the bottom
(quiz_start, quiz_save, quiz_submit, quiz_review, quiz_results).

Component ids: quiz.picker, quiz.start, quiz.header, quiz.slot[i] (stem, single, multi),
quiz.submit, quiz.result, quiz.past, quiz.review.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import gradio as gr

from labs.identity import guarded, viewer_of
from tutor.core import Core, Viewer
from tutor.quiz.attempts import AttemptResult, AttemptView
from tutor.web_api import jsonable

MAX_QUESTIONS = 15  # the module test; shorter quizzes hide the slots they do not use


@dataclass
class QuizTab:
    picker: gr.Radio
    refresh: Callable  # (request) -> picker update; re-run when the tab is opened


def picker_choices(core: Core, viewer: Viewer) -> list[tuple[str, str]]:
    summaries = {s.quiz_id: s for s in core.quiz_summaries(viewer)}
    choices = []
    for quiz in core.quizzes():
        summary = summaries.get(quiz.id)
        mark = ""
        if summary and summary.grade is not None:
            mark = f" · {summary.grade:.0f}%" + (" ✓" if summary.passed else "")
        choices.append((f"{quiz.title}{mark}", quiz.id))
    return choices


def render_result(result: AttemptResult) -> str:
    lines = [f"## {result.title} — attempt {result.number}"]
    if result.percent is None:
        lines.append("Your answers are saved. Scores are shown later for this quiz.")
    else:
        verdict = ""
        if result.pass_mark:
            verdict = " — **passed** ✓" if result.passed else f" — not passed yet (you need {result.pass_mark:g}%)"
        lines.append(f"**Score: {result.score:g} / {result.max_score:g} ({result.percent:.0f}%)**{verdict}")
    for question in result.questions:
        score = "" if question.score is None else f" — {question.score:g}/{question.max_score:g}"
        # A blank answer scores as a wrong one does; the learner should see which it was.
        unanswered = "" if any(option.chosen for option in question.options) else " — *not answered*"
        lines.append(f"\n**{question.position}. {question.stem}**{score}{unanswered}")
        for option in question.options:
            mark = "◉" if option.chosen else "○"
            key = " ✅ *right answer*" if option.correct else ""
            lines.append(f"- {mark} {option.text}{key}")
            if option.feedback:
                lines.append(f"  - 💬 {option.feedback}")
        if question.general_feedback:
            lines.append(f"\n> {question.general_feedback}")
    return "\n".join(lines)


def past_choices(core: Core, viewer: Viewer, quiz_id: str | None) -> gr.Dropdown:
    """The viewer's submitted attempts at this quiz, for the review picker."""
    summary = next((s for s in core.quiz_summaries(viewer) if s.quiz_id == quiz_id), None)
    ids = summary.attempt_ids if summary else ()
    return gr.Dropdown(choices=[(f"Attempt {n}", attempt) for n, attempt in enumerate(ids, start=1)], value=None)


@dataclass
class AttemptScreen:
    """The attempt on screen: its id, the question id per visible slot, and the question slots
    (group, stem, single-answer radio, multiple-answer checkboxes)."""

    attempt_id: gr.State
    slot_ids: gr.State
    header: gr.Markdown
    slots: list[tuple[gr.Group, gr.Markdown, gr.Radio, gr.CheckboxGroup]]
    submit_btn: gr.Button
    result: gr.Markdown

    @property
    def singles(self) -> list[gr.Radio]:
        return [slot[2] for slot in self.slots]

    @property
    def multis(self) -> list[gr.CheckboxGroup]:
        return [slot[3] for slot in self.slots]

    @property
    def shown(self) -> list:
        """What showing an attempt updates (the values of :func:`show_attempt`, in order)."""
        flat_slots = [component for slot in self.slots for component in slot]
        return [self.attempt_id, self.slot_ids, self.header, *flat_slots, self.submit_btn, self.result]

    @property
    def answer_inputs(self) -> set:
        return {self.attempt_id, self.slot_ids, *self.singles, *self.multis}  # a set: handlers get one dict

    def collect(self, data: dict) -> dict[str, list[int]]:
        """Answers by question id from the slots' values (a dict keyed by component)."""
        ids = data[self.slot_ids]
        single_values, multi_values = [data[c] for c in self.singles], [data[c] for c in self.multis]
        answers: dict[str, list[int]] = {}
        for n, question_id in enumerate(ids):
            chosen = multi_values[n] if multi_values[n] else ([single_values[n]] if single_values[n] else [])
            answers[question_id] = [int(position) for position in chosen]
        return answers


def show_attempt(view: AttemptView) -> list:
    """Updates for :attr:`AttemptScreen.shown`: the attempt's questions in the first slots."""
    updates: list = [view.attempt_id, [q.question_id for q in view.questions]]
    total = len(view.questions)
    updates.append(f"## {view.title}\nAttempt {view.number} · {total} questions · answers are saved as you go")
    for n in range(MAX_QUESTIONS):
        if n < total:
            q = view.questions[n]
            choices = [(text, position) for position, text in enumerate(q.options, start=1)]
            updates += [
                gr.Group(visible=True),
                f"**{q.position}. {q.stem}**" + (f" *({q.points:g} points)*" if q.points != 1 else ""),
                gr.Radio(
                    choices=choices,
                    value=q.selected[0] if q.selected and not q.multiple else None,
                    visible=not q.multiple,
                ),
                gr.CheckboxGroup(choices=choices, value=list(q.selected) if q.multiple else [], visible=q.multiple),
            ]
        else:
            updates += [
                gr.Group(visible=False),
                "",
                gr.Radio(choices=[], value=None, visible=False),
                gr.CheckboxGroup(choices=[], value=[], visible=False),
            ]
    updates += [gr.Button(visible=True), ""]
    return updates


def build_quiz_tab(core: Core) -> QuizTab:
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            picker = gr.Radio(choices=[(q.title, q.id) for q in core.quizzes()], label="Quizzes")
            start_btn = gr.Button("Start or resume", variant="primary")
            past = gr.Dropdown(label="Review a submitted attempt", choices=[], interactive=True)
        with gr.Column(scale=4):
            screen = _question_slots()
    _start_and_save(core, screen, picker, start_btn)
    _submit_and_review(core, screen, picker, past)
    _typed_endpoints(core)

    def refresh(request: gr.Request) -> gr.Radio:
        return gr.Radio(choices=picker_choices(core, viewer_of(core, request)))

    return QuizTab(picker=picker, refresh=refresh)


def _question_slots() -> AttemptScreen:
    """The header, MAX_QUESTIONS hidden question slots, the submit button and the result."""
    header = gr.Markdown("Pick a quiz on the left, then **Start or resume**.")
    attempt_id = gr.State(None)
    slot_ids = gr.State([])  # question id per visible slot
    slots = []
    for _ in range(MAX_QUESTIONS):
        with gr.Group(visible=False) as group:
            stem = gr.Markdown()
            single = gr.Radio(choices=[], label="Choose one", visible=False)
            multi = gr.CheckboxGroup(choices=[], label="Choose all that apply", visible=False)
        slots.append((group, stem, single, multi))
    submit_btn = gr.Button("Submit answers", variant="primary", visible=False)
    result = gr.Markdown()
    return AttemptScreen(attempt_id, slot_ids, header, slots, submit_btn, result)


def _start_and_save(core: Core, screen: AttemptScreen, picker: gr.Radio, start_btn: gr.Button) -> None:
    """Start or resume the picked quiz; save the draft on every answer."""

    def start(quiz_id: str | None, request: gr.Request) -> list:
        """Start or resume. Inputs: quiz.picker. Outputs: the attempt's questions (no key)."""
        if not quiz_id:
            raise gr.Error("Pick a quiz first.")
        viewer = viewer_of(core, request)
        return show_attempt(guarded(lambda: core.start_quiz(viewer, quiz_id)))

    def save(data: dict, request: gr.Request) -> None:
        """Save the draft whenever an answer changes, so a reload resumes here."""
        current = data[screen.attempt_id]
        if current:
            viewer = viewer_of(core, request)
            guarded(lambda: core.save_answers(viewer, current, screen.collect(data)))

    start_btn.click(start, inputs=picker, outputs=screen.shown, api_visibility="private")
    for component in screen.singles + screen.multis:
        component.input(
            save, inputs=screen.answer_inputs, outputs=None, api_visibility="private", show_progress="hidden"
        )


def _submit_and_review(core: Core, screen: AttemptScreen, picker: gr.Radio, past: gr.Dropdown) -> None:
    """Submit and show the review; list and review past attempts of the picked quiz."""

    def submit(data: dict, request: gr.Request) -> list:
        """Grade on the server; hide the questions; show the review and refresh the picker."""
        current = data[screen.attempt_id]
        if not current:
            raise gr.Error("Start a quiz first.")
        viewer = viewer_of(core, request)
        graded = guarded(lambda: core.submit_quiz(viewer, current, screen.collect(data)))
        hidden = []
        for _ in range(MAX_QUESTIONS):
            hidden += [gr.Group(visible=False), "", gr.Radio(visible=False), gr.CheckboxGroup(visible=False)]
        return [
            None,
            [],
            f"## {graded.title}",
            *hidden,
            gr.Button(visible=False),
            render_result(graded),
            gr.Radio(choices=picker_choices(core, viewer), value=graded.quiz_id),
            past_choices(core, viewer, graded.quiz_id),
        ]

    def on_pick(quiz_id: str | None, request: gr.Request) -> gr.Dropdown:
        return past_choices(core, viewer_of(core, request), quiz_id)

    def review(chosen: int | None, request: gr.Request) -> str:
        """Show a past attempt (only the caller's own). Inputs: quiz.past. Outputs: quiz.result."""
        if not chosen:
            return ""
        viewer = viewer_of(core, request)
        return render_result(guarded(lambda: core.review_attempt(viewer, int(chosen))))

    outputs = [*screen.shown, picker, past]
    screen.submit_btn.click(submit, inputs=screen.answer_inputs, outputs=outputs, api_visibility="private")
    picker.change(on_pick, inputs=picker, outputs=past, api_visibility="private")
    past.change(review, inputs=past, outputs=screen.result, api_visibility="private")


def _typed_endpoints(core: Core) -> None:
    """Typed endpoints for programs (gradio_client): the same core calls as the screen."""

    def quiz_start(quiz_id: str, request: gr.Request) -> dict:
        """Start or resume an attempt: stems and option texts in display order, no answer key."""
        return asdict(guarded(lambda: core.start_quiz(viewer_of(core, request), quiz_id)))

    def quiz_save(attempt: int, answers: dict, request: gr.Request) -> bool:
        """Save a draft: {question id: [display positions]}."""
        guarded(lambda: core.save_answers(viewer_of(core, request), attempt, answers))
        return True

    def quiz_submit(attempt: int, answers: dict, request: gr.Request) -> dict:
        """Submit {question id: [display positions]}; returns the graded review."""
        return asdict(
            guarded(lambda: core.submit_quiz(viewer_of(core, request), attempt, answers)), dict_factory=jsonable
        )

    def quiz_review(attempt: int, request: gr.Request) -> dict:
        """Review one of your submitted attempts."""
        return asdict(guarded(lambda: core.review_attempt(viewer_of(core, request), attempt)), dict_factory=jsonable)

    def quiz_results(request: gr.Request) -> list:
        """Your grade per quiz (by the quiz's grading method)."""
        return [asdict(s) for s in core.quiz_summaries(viewer_of(core, request))]

    for endpoint in (quiz_start, quiz_save, quiz_submit, quiz_review, quiz_results):
        gr.api(endpoint, api_name=endpoint.__name__)
