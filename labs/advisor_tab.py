"""The Advisor labs tab: one chat per lab, with the structured recommendation, citations and
retrieved passages beside it. Thin: the core computes everything; this file only streams it.

API endpoints (gradio_client): ``advise_strategy``, ``advise_dataset``, ``advise_hyperparams``,
``advise_eval`` (text, files -> recommendation, citations, passages, explanation) and the chat
events ``chat_<lab>`` used by the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import gradio as gr

from labs.identity import viewer_of
from tutor.advisors import LABS, AdvisorInputError
from tutor.advisors.base import LabInfo, to_json
from tutor.advisors.service import Advice, draft_examples, explain, sources_markdown
from tutor.core import AccessError, Core, recommendation_of
from tutor.llm import LLMError


def _file_paths(files) -> list[str]:
    if not files:
        return []
    items = files if isinstance(files, list) else [files]
    # gr.File gives paths; typed API endpoints give FileData (both already in Gradio's upload cache).
    return [getattr(item, "path", None) or getattr(item, "name", None) or str(item) for item in items]


def passages_markdown(advice: Advice) -> str:
    if not advice.passages:
        return "_No passages retrieved._"
    return "\n\n".join(
        f"**[{p.page_title} › {p.section}]({p.link})** (similarity {p.score:.2f})\n\n> "
        + p.text.split("\n\n", 1)[-1][:700].replace("\n", "\n> ")
        for p in advice.passages
    )


def _history(core: Core, viewer, lab: LabInfo) -> list[dict]:
    chat = [{"role": "assistant", "content": lab.opening}]
    for message in core.conversation(viewer, lab.id):
        content = message.content
        files = json.loads(message.files or "[]")
        if files:
            content += "\n\n📎 " + ", ".join(files)
        chat.append({"role": message.role, "content": content})
    return chat


def build_lab(core: Core, lab: LabInfo) -> tuple:
    """One lab's chat and side panel; returns the (handler, outputs) that restore it on page load."""
    tasks = "\n".join(f"- {task}" for task in lab.tasks)
    gr.Markdown(f"### Lab {lab.number} — {lab.title}\n{lab.intro}\n\n**Your task**\n{tasks}")
    with gr.Row():
        with gr.Column(scale=3):
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
        with gr.Column(scale=2):
            gr.Markdown("#### Recommendation")
            recommendation = gr.JSON(label="Structured recommendation", elem_id=f"rec-{lab.id}")
            citations = gr.Markdown(label="Sources", elem_id=f"sources-{lab.id}")
            with gr.Accordion("Retrieved course passages", open=False):
                passages = gr.Markdown()

    inputs = [message] + ([files] if files is not None else [])

    def chat(text: str, uploaded=None, request: gr.Request = None) -> Iterator[tuple]:
        """Answer one message: recommendation at once, then the model's explanation streamed."""
        viewer = viewer_of(core, request)
        try:
            turn = core.start_advice(viewer, lab.id, text, _file_paths(uploaded))
        except AdvisorInputError as exc:
            yield gr.skip(), gr.skip(), f"⚠️ {exc}", gr.skip(), gr.skip(), gr.skip()
            return
        except (KeyError, AccessError) as exc:
            raise gr.Error(str(exc).strip("'\"")) from None
        advice = turn.advice
        history = _history(core, viewer, lab)
        answer = advice.recommendation.markdown()
        sources = sources_markdown(advice)
        rec_json = json.loads(to_json(advice.recommendation))
        history.append({"role": "assistant", "content": answer})
        yield history, "", "", rec_json, "**Sources**\n\n" + sources, passages_markdown(advice)
        model_name, error, explanation = "", "", ""
        try:
            model = core.chat_model()
            model_name = model.name
            history[-1]["content"] = answer + f"\n\n---\n*{model_name} explains:* "
            for piece in explain(
                model,
                advice,
                max_new_tokens=core.settings.llm_max_new_tokens,
                temperature=core.settings.llm_temperature,
            ):
                explanation += piece
                history[-1]["content"] = answer + f"\n\n---\n*{model_name} explains:* {explanation}"
                yield history, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            drafts = draft_examples(model, advice)
            if drafts:
                explanation += (
                    "\n\n**Drafted examples — review every one before use:**\n```json\n" + "\n".join(drafts) + "\n```"
                )
                rec_json = json.loads(to_json(advice.recommendation))
        except LLMError as exc:
            error = str(exc)
            explanation += (
                f"\n\n⚠️ The model could not answer ({exc}). The recommendation above comes from the "
                "course's rules and stands on its own."
            )
        final = answer + (f"\n\n---\n*{model_name} explains:* " if model_name else "") + explanation
        final += "\n\n**Sources**\n" + sources
        history[-1]["content"] = final
        core.finish_advice(viewer, turn, final, model=model_name, error=error)
        yield history, gr.skip(), gr.skip(), rec_json, gr.skip(), gr.skip()

    outputs = [chatbot, message, status, recommendation, citations, passages]
    send.click(
        chat, inputs=inputs, outputs=outputs, api_name=f"chat_{lab.id}", concurrency_id="llm", concurrency_limit=1
    )
    message.submit(
        chat, inputs=inputs, outputs=outputs, api_visibility="private", concurrency_id="llm", concurrency_limit=1
    )
    try_it.click(lambda: lab.try_prompt, outputs=message, api_visibility="private")

    def new_conversation(request: gr.Request) -> tuple:
        core.new_conversation(viewer_of(core, request), lab.id)
        return [{"role": "assistant", "content": lab.opening}], None, "", "", ""

    new.click(
        new_conversation, outputs=[chatbot, recommendation, citations, passages, status], api_visibility="private"
    )

    def restore(request: gr.Request) -> tuple:
        viewer = viewer_of(core, request)
        messages = core.conversation(viewer, lab.id)
        last = next((recommendation_of(m) for m in reversed(messages) if m.recommendation), None)
        return _history(core, viewer, lab), last

    def advise_api(text: str, uploaded: list | None = None, request: gr.Request = None) -> dict:
        """The recommendation for one message, with citations, passages and the model's explanation.
        Nothing is stored; for a conversation use the chat endpoint."""
        viewer_of(core, request)
        try:
            advice = core.advise_once(lab.id, text, _file_paths(uploaded))
        except AdvisorInputError as exc:
            raise gr.Error(str(exc)) from None
        result = {
            "recommendation": json.loads(to_json(advice.recommendation)),
            "passages": [p.as_dict() for p in advice.passages],
        }
        try:
            model = core.chat_model()
            result["explanation"] = "".join(
                explain(
                    model,
                    advice,
                    max_new_tokens=core.settings.llm_max_new_tokens,
                    temperature=core.settings.llm_temperature,
                )
            ).strip()
            result["model"] = model.name
        except LLMError as exc:
            result["explanation"], result["error"] = "", str(exc)
        return result

    # An API-only event on hidden components: gr.File validates and caches uploads (a raw path
    # from a client would let it read any file on the server).
    with gr.Row(visible=False):
        api_text = gr.Textbox()
        api_files = gr.File(file_count="multiple")
        api_result = gr.JSON()
        api_button = gr.Button()
    api_button.click(
        advise_api,
        inputs=[api_text, api_files],
        outputs=api_result,
        api_name=f"advise_{lab.id}",
        concurrency_id="llm",
        concurrency_limit=1,
    )
    return restore, [chatbot, recommendation]


def build_advisors_tab(core: Core) -> list:
    """All four labs as sub-tabs; returns (handler, outputs) pairs to run on page load."""
    restorers = []
    gr.Markdown(
        "## Advisor labs\nBring your own use case. Each advisor applies the course's rules to what you tell it, "
        "explains the result with a local language model, and cites the lesson sections it rests on. Your "
        "conversations are saved (instructors can read them)."
    )
    with gr.Tabs():
        for lab in LABS:
            with gr.Tab(f"Lab {lab.number} — {lab.title}", id=f"lab-{lab.id}"):
                restorers.append(build_lab(core, lab))
    return restorers
