"""The Advisor labs tab: one chat per lab, with the structured recommendation, citations and
retrieved passages beside it. Thin: the core runs the turn (``tutor.advisors.turn``); this file
lays out each lab from small section builders and renders the turn's events.

API endpoints (gradio_client): ``advise_strategy``, ``advise_dataset``, ``advise_hyperparams``,
``advise_eval`` (text, files -> recommendation, citations, passages, explanation) and the chat
events ``chat_<lab>`` used by the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import gradio as gr

from labs.identity import viewer_of
from tutor.advisors import LABS, AdvisorInputError
from tutor.advisors.ask import Answered, Asked, QuestionEvent, Retrieved
from tutor.advisors.base import LabInfo, to_json
from tutor.advisors.dataset import DatasetRecommendation
from tutor.advisors.evaluation import EvalRecommendation
from tutor.advisors.history import CUT_OFF
from tutor.advisors.hyperparams import HyperparamsRecommendation
from tutor.advisors.model_card import model_panel
from tutor.advisors.service import Advice
from tutor.advisors.strategy import StrategyRecommendation
from tutor.advisors.turn import (
    AnswerPiece,
    FinalAnswer,
    ModelReady,
    Queued,
    Recommended,
    TurnEvent,
    explains,
    final_answer,
)
from tutor.core import AccessError, Core, recommendation_of
from tutor.rag import Passage
from tutor.settings import Settings


def _file_paths(files) -> list[str]:
    if not files:
        return []
    items = files if isinstance(files, list) else [files]
    # gr.File gives paths; typed API endpoints give FileData (both already in Gradio's upload cache).
    return [getattr(item, "path", None) or getattr(item, "name", None) or str(item) for item in items]


def passages_markdown(passages: list[Passage]) -> str:
    if not passages:
        return "_No passages retrieved._"
    return "\n\n".join(
        f"**[{p.page_title} › {p.section}]({p.link})** (similarity {p.score:.2f})\n\n> "
        + p.text.split("\n\n", 1)[-1][:700].replace("\n", "\n> ")
        for p in passages
    )


def _question_sources(asked: Asked) -> str:
    lines = [
        f"- [{p.page_title} › {p.section}]({p.link}) — retrieved (similarity {p.score:.2f})" for p in asked.passages
    ]
    return "**Sources**\n\n" + "\n".join(lines)


def _rec_json(advice: Advice) -> dict:
    return json.loads(to_json(advice.recommendation))


def _history(core: Core, viewer, lab: LabInfo) -> list[dict]:
    chat = [{"role": "assistant", "content": lab.opening}]
    for message in core.conversation(viewer, lab.id):
        content = message.content
        files = json.loads(message.files or "[]")
        if files:
            content += "\n\n📎 " + ", ".join(files)
        if message.error == CUT_OFF:
            content += f"\n\n⚠️ {CUT_OFF}."
        chat.append({"role": message.role, "content": content})
    return chat


# --- rendering a turn ------------------------------------------------------------------------


def chat_updates(events: Iterable[TurnEvent | QuestionEvent], history: list[dict]) -> Iterator[tuple]:
    """The chat's outputs (chatbot, message, status, recommendation, sources, passages) for a
    turn's events: the recommendation (or, for a question, the passages) at once, the learner's
    place in the line while others' answers are written, the model's draft as it streams, then
    the answer that passed the check (or the course's quotes) in its place."""
    streamed, question, queued = "", False, False
    for event in events:
        question = question or isinstance(event, Retrieved)
        match event:
            case Recommended(advice=advice, markdown=markdown, sources=sources):
                streamed = markdown
                history.append({"role": "assistant", "content": markdown})
                sources = "**Sources**\n\n" + sources
                yield history, "", "", _rec_json(advice), sources, passages_markdown(advice.retrieved)
            case Retrieved(asked=asked):
                streamed = ""
                history.append({"role": "assistant", "content": "…"})
                rec = json.loads(to_json(asked.recommendation)) if asked.recommendation else gr.skip()
                yield history, "", "", rec, _question_sources(asked), passages_markdown(asked.passages)
            case Queued():
                # Shown in the answer's place until the model starts on it.
                queued = True
                history[-1]["content"] = f"{streamed}\n\n{event.text}" if streamed else event.text
                yield history, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            case ModelReady(model=model):
                if question:
                    streamed = f"*{model} is drafting an answer; it is checked against the course before it stands:* "
                else:
                    streamed += explains(model)
                if queued:  # its turn has come: the place in line is no longer true
                    history[-1]["content"] = streamed
                    yield history, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            case AnswerPiece(text=piece):
                streamed += piece
                history[-1]["content"] = streamed
                yield history, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            case FinalAnswer():
                history[-1]["content"] = event.text
                yield history, gr.skip(), gr.skip(), _rec_json(event.advice), gr.skip(), gr.skip()
            case Answered():
                history[-1]["content"] = event.text
                yield history, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()


def api_result(advice: Advice, final: FinalAnswer) -> dict:
    """The API's answer: the explanation and model name, or an empty explanation and the error."""
    result = {"recommendation": _rec_json(advice), "passages": [p.as_dict() for p in advice.retrieved]}
    if final.error:
        result["explanation"], result["error"] = "", final.error
    else:
        result["explanation"], result["model"] = final.explanation.strip(), final.model
        result["grounded"], result["source"] = final.grounded, final.source
        if final.note:  # why the explanation is shorter than what the model wrote, or empty
            result["note"] = final.note.strip()
    return result


# --- one lab's sections ----------------------------------------------------------------------


@dataclass
class ChatColumn:
    chatbot: gr.Chatbot
    message: gr.Textbox
    files: gr.File | None
    send: gr.Button
    try_it: gr.Button
    new: gr.Button
    status: gr.Markdown

    @property
    def inputs(self) -> list:
        return [self.message] + ([self.files] if self.files is not None else [])


@dataclass
class RecommendationPanel:
    recommendation: gr.JSON
    citations: gr.Markdown
    passages: gr.Markdown


def _chat_column(lab: LabInfo) -> ChatColumn:
    chatbot = gr.Chatbot(
        value=[{"role": "assistant", "content": lab.opening}],
        height=520,
        label=lab.title,
        buttons=["copy"],
        elem_id=f"chat-{lab.id}",
    )
    message = gr.Textbox(
        label="Your message", lines=3, placeholder="Describe your use case…", elem_id=f"message-{lab.id}"
    )
    files = None
    if lab.accepts_files:
        files = gr.File(label=lab.file_help, file_count="multiple", elem_id=f"files-{lab.id}")
    with gr.Row():
        send = gr.Button("Send", variant="primary", elem_id=f"send-{lab.id}")
        try_it = gr.Button("Use the “Try” prompt", size="sm")
        new = gr.Button("New conversation", size="sm")
    gr.Markdown(f"**Try:** _{lab.try_prompt}_")
    status = gr.Markdown(elem_id=f"status-{lab.id}")
    return ChatColumn(chatbot, message, files, send, try_it, new, status)


# The model answers one request at a time (each backend holds a lock); several handlers may run at
# once so that a learner's second message is refused at once (core.advisor_jobs) instead of
# waiting in Gradio's queue behind the first, and retrieval and the rules run meanwhile.
ADVISOR_QUEUE = {"concurrency_id": "advisor", "concurrency_limit": 4}
RECOMMENDATION_TYPES = {
    "strategy": StrategyRecommendation,
    "dataset": DatasetRecommendation,
    "hyperparams": HyperparamsRecommendation,
    "eval": EvalRecommendation,
}
NO_RECOMMENDATION = "_Describe your use case and the recommendation appears here._"


def recommendation_card(lab: str, data: dict | None) -> str:
    """The recommendation as a learner reads it: the decision first, each reason with the lesson
    section behind it, and what would change it (the JSON stays one click away)."""
    if not data:
        return NO_RECOMMENDATION
    recommendation = RECOMMENDATION_TYPES[lab].model_validate(data)
    sections = "\n".join(f"- [{c.page_title} › {c.section}]({c.link}) — {c.why}" for c in recommendation.citations)
    return recommendation.markdown() + (f"\n\n**Lesson sections behind it**\n{sections}" if sections else "")


def _recommendation_panel(lab: LabInfo, settings: Settings) -> RecommendationPanel:
    gr.Markdown("#### Recommendation")
    card = gr.Markdown(NO_RECOMMENDATION, elem_id=f"card-{lab.id}")
    with gr.Accordion("Structured recommendation (JSON, for scripts)", open=False):
        recommendation = gr.JSON(label="Structured recommendation", elem_id=f"rec-{lab.id}")
    # The card follows the JSON, whoever sets it (a turn, a restored conversation, a new one).
    recommendation.change(
        lambda data: recommendation_card(lab.id, data), recommendation, card, queue=False, api_visibility="private"
    )
    citations = gr.Markdown(label="Sources", elem_id=f"sources-{lab.id}")
    with gr.Accordion("Retrieved course passages", open=False):
        passages = gr.Markdown()
    with gr.Accordion("Model", open=False):
        gr.Markdown(model_panel(settings), elem_id=f"model-{lab.id}")
    return RecommendationPanel(recommendation, citations, passages)


def _wire_chat(core: Core, lab: LabInfo, column: ChatColumn, panel: RecommendationPanel) -> None:
    def chat(text: str, uploaded=None, request: gr.Request = None) -> Iterator[tuple]:
        """Answer one message: recommendation at once, then the model's explanation streamed."""
        viewer = viewer_of(core, request)
        try:
            events = core.advisor_turn(viewer, lab.id, text, _file_paths(uploaded))
        except AdvisorInputError as exc:
            yield gr.skip(), gr.skip(), f"⚠️ {exc}", gr.skip(), gr.skip(), gr.skip()
            return
        except (KeyError, AccessError) as exc:
            raise gr.Error(str(exc).strip("'\"")) from None
        # The history without this turn's answer row, which is stored (marked cut off) before it streams.
        yield from chat_updates(events, _history(core, viewer, lab)[:-1])

    def new_conversation(request: gr.Request) -> tuple:
        core.new_conversation(viewer_of(core, request), lab.id)
        return [{"role": "assistant", "content": lab.opening}], None, "", "", ""

    outputs = [column.chatbot, column.message, column.status, panel.recommendation, panel.citations, panel.passages]
    column.send.click(chat, inputs=column.inputs, outputs=outputs, api_name=f"chat_{lab.id}", **ADVISOR_QUEUE)
    column.message.submit(chat, inputs=column.inputs, outputs=outputs, api_visibility="private", **ADVISOR_QUEUE)
    column.try_it.click(lambda: lab.try_prompt, outputs=column.message, api_visibility="private")
    column.new.click(
        new_conversation,
        outputs=[column.chatbot, panel.recommendation, panel.citations, panel.passages, column.status],
        api_visibility="private",
    )


def _api_event(core: Core, lab: LabInfo) -> None:
    """An API-only event on hidden components: gr.File validates and caches uploads (a raw path
    from a client would let it read any file on the server)."""

    def advise_api(text: str, uploaded: list | None = None, request: gr.Request = None) -> dict:
        """The recommendation for one message, with citations, passages and the model's explanation.
        Nothing is stored; for a conversation use the chat endpoint."""
        viewer = viewer_of(core, request)
        try:
            release = core.advisor_jobs.take(viewer.username)
        except AdvisorInputError as exc:  # LearnerBusy: an answer of theirs is under way
            raise gr.Error(str(exc)) from None
        try:
            advice = core.advise_once(lab.id, text, _file_paths(uploaded))
            return api_result(advice, final_answer(core.answer(advice, drafts=False)))
        except AdvisorInputError as exc:
            raise gr.Error(str(exc)) from None
        finally:
            release()

    with gr.Row(visible=False):
        api_text = gr.Textbox()
        api_files = gr.File(file_count="multiple")
        api_result_json = gr.JSON()
        api_button = gr.Button()
    api_button.click(
        advise_api,
        inputs=[api_text, api_files],
        outputs=api_result_json,
        api_name=f"advise_{lab.id}",
        **ADVISOR_QUEUE,
    )


def _restorer(core: Core, lab: LabInfo):
    def restore(request: gr.Request) -> tuple:
        viewer = viewer_of(core, request)
        messages = core.conversation(viewer, lab.id)
        last = next((recommendation_of(m) for m in reversed(messages) if m.recommendation), None)
        return _history(core, viewer, lab), last

    return restore


@dataclass
class OpenInLab:
    """The hyperparameter lab's "Open in the QLoRA lab" button and the recommendation it reads
    (app.py wires it to the QLoRA tab, which is built later)."""

    button: gr.Button
    recommendation: gr.JSON


def build_lab(core: Core, lab: LabInfo) -> tuple:
    """One lab's chat and side panel; returns the (handler, outputs) that restore it on page load,
    and the "Open in the QLoRA lab" button of the hyperparameter lab (None for the others)."""
    tasks = "\n".join(f"- {task}" for task in lab.tasks)
    gr.Markdown(f"### Lab {lab.number} — {lab.title}\n{lab.intro}\n\n**Your task**\n{tasks}")
    open_in_lab = None
    with gr.Row():
        with gr.Column(scale=3):
            column = _chat_column(lab)
        with gr.Column(scale=2):
            panel = _recommendation_panel(lab, core.settings)
            if lab.id == "hyperparams":
                button = gr.Button("Open in the QLoRA lab", size="sm", elem_id="open-in-lab")
                open_in_lab = OpenInLab(button, panel.recommendation)
    _wire_chat(core, lab, column, panel)
    _api_event(core, lab)
    return (_restorer(core, lab), [column.chatbot, panel.recommendation]), open_in_lab


def build_advisors_tab(core: Core) -> tuple[list, OpenInLab]:
    """All four labs as sub-tabs; returns (handler, outputs) pairs to run on page load, and the
    hyperparameter lab's "Open in the QLoRA lab" button."""
    restorers, open_in_lab = [], None
    gr.Markdown(
        "## Advisor labs\nBring your own use case. Each advisor applies the course's rules to what you tell it, "
        "explains the result with a local language model, and cites the lesson sections it rests on. Your "
        "conversations are saved (instructors can read them)."
    )
    with gr.Tabs():
        for lab in LABS:
            with gr.Tab(f"Lab {lab.number} — {lab.title}", id=f"lab-{lab.id}"):
                restorer, button = build_lab(core, lab)
                restorers.append(restorer)
                open_in_lab = button or open_in_lab
    assert open_in_lab is not None
    return restorers, open_in_lab
