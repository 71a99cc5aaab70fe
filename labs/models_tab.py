"""The Local models tab: the models on this machine, quantize, chat, compare side by side, and a
model-card critique (the syllabus's Local LLM Deployment assignment and the Week 8 lab).

Thin over tutor.local_models.lab.LocalModelsLab (``core.local_models``); ``tutor models …`` does
the same from a terminal.

API endpoints (gradio_client): ``models_catalog`` and ``models_compare`` (typed: model ids and a
prompt set, for scripts), ``models_list``, ``models_quantize``, ``models_chat``, ``models_quickstart``,
``models_gemma``, ``models_open_comparison``, ``models_reflect``, ``models_card``, ``models_save_card``,
``models_add_server``.
"""

from __future__ import annotations

import json

import gradio as gr
import pandas as pd

from labs.identity import viewer_of
from tutor.core import Core
from tutor.lab_files import text_download
from tutor.local_models.card_critique import CHECKLIST, STATES, summary
from tutor.local_models.catalog import ModelEntry, gemma_installed
from tutor.local_models.compare import report_markdown, table_headers, table_rows
from tutor.local_models.lab import SavedComparison, lab_errors
from tutor.local_models.prompt_sets import PROMPT_SETS
from tutor.local_models.quantize import QUANT_TYPES

MODEL_COLUMNS = ["id", "model", "engine", "format", "quantization", "size MB", "source"]
SET_CHOICES = [(f"{name}: {about}", name) for name, about in PROMPT_SETS.items()]
SET_CHOICES.append(("typed: the prompts below, one per line (no score)", "typed"))
QUANT_TYPES_PAGE = "?open=local-models#quantization-types-what-q80-q4km-and-q2k-keep-and-lose"
INTRO = f"""## Local models: run, quantize, measure, compare

Run models on this machine, make smaller copies with llama.cpp, and measure what each costs and
gives: speed, memory, size and quality on the same prompts. Read
[Quantization types]({QUANT_TYPES_PAGE}) first.
"""


def _errors(call):
    """The lab's refusals (bad type, missing file, unreachable server…) become a message."""
    try:
        return call()
    except lab_errors() as exc:
        raise gr.Error(str(exc)) from None


def models_frame(entries: list[ModelEntry]) -> pd.DataFrame:
    rows = [
        [
            e.id,
            e.name,
            e.engine,
            e.format,
            e.quantization,
            round(e.size_bytes / 1e6, 1) if e.size_bytes else "",
            e.source,
        ]
        for e in entries
    ]
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def comparison_view(saved: SavedComparison) -> tuple:
    """(summary, table, speed/size chart data, quality chart data, answers, report file)."""
    comparison = saved.comparison
    table = pd.DataFrame(table_rows(comparison), columns=table_headers(comparison))
    points = [
        {"model": m.name, "size MB": m.size_mb, "tokens/s": m.tokens_per_s, "quality": m.quality}
        for m in comparison.models
        if m.tokens_per_s and not m.error
    ]
    speed = pd.DataFrame(points) if points else None
    quality = pd.DataFrame([p for p in points if p["quality"] is not None]) if points else None
    if quality is not None and quality.empty:
        quality = None
    answers = pd.DataFrame(
        [
            [prompt, comparison.references[i] if i < len(comparison.references) else ""]
            + [(m.answers[i] if i < len(m.answers) else "") for m in comparison.models]
            for i, prompt in enumerate(comparison.prompts)
        ],
        columns=["prompt", "expected"] + [m.name for m in comparison.models],
    )
    lines = [f"**Comparison {saved.id}** ({saved.prompt_set}, {saved.created}) on {comparison.machine}."]
    lines += [f"- {line}" for line in comparison.speed_direction()]
    failed = [f"- **{m.name}** failed: {m.error}" for m in comparison.models if m.error]
    report = text_download(report_markdown(comparison, saved.reflection), f"models-comparison-{saved.id}.md")
    return "\n".join(lines + failed), table, speed, quality, answers, str(report)


def build_models_tab(core: Core):
    """Lay out the tab and wire it. Returns (on-load handler, its outputs)."""
    lab = core.local_models

    def owner(request: gr.Request) -> str:
        return viewer_of(core, request).username

    gr.Markdown(INTRO)
    with gr.Row():
        quick_btn = gr.Button(
            "Quantize and compare: the packaged model, Q8_0 and F16 on 10 sentiment sentences", variant="primary"
        )
        gemma_btn = gr.Button("Compare Gemma 3 270M (base) with SmolLM2 (instruct)", visible=gemma_installed())
    quick_note = gr.Markdown()

    with gr.Accordion("1. Models on this machine", open=True):
        models = gr.Dataframe(headers=MODEL_COLUMNS, interactive=False, wrap=True)
        refresh_btn = gr.Button("Refresh the list", size="sm")
        with gr.Accordion("Add an OpenAI-compatible server (Ollama, vLLM, a hosted API)", open=False):
            with gr.Row():
                server_name = gr.Textbox(label="Name", placeholder="ollama")
                server_url = gr.Textbox(label="Base URL", placeholder="http://localhost:11434/v1")
                server_model = gr.Textbox(label="Model name on the server", placeholder="llama3.2:1b")
            with gr.Row():
                server_key = gr.Textbox(label="API key (optional)", type="password")
                server_price = gr.Number(label="Price per 1M tokens ($, optional)", minimum=0)
                server_shared = gr.Checkbox(label="For every learner (instructors)")
            with gr.Row():
                server_btn = gr.Button("Add the server")
                server_remove_btn = gr.Button("Remove the server of this name")

    with gr.Accordion("2. Quantize a GGUF model", open=False):
        with gr.Row():
            quant_source = gr.Dropdown(label="Source GGUF", choices=[], interactive=True, allow_custom_value=True)
            quant_type = gr.Dropdown(label="Type", choices=list(QUANT_TYPES), value="Q4_K_M", interactive=True)
            quant_btn = gr.Button("Quantize", variant="primary")
        quant_result = gr.Markdown()

    with gr.Accordion("3. Chat with a model", open=False):
        with gr.Row():
            chat_model = gr.Dropdown(label="Model", choices=[], interactive=True, allow_custom_value=True)
            temperature = gr.Slider(0, 2, value=0.7, step=0.05, label="Temperature")
            max_tokens = gr.Slider(16, 1024, value=200, step=16, label="Max tokens")
            context = gr.Slider(256, 8192, value=2048, step=256, label="Context (tokens)")
        chatbot = gr.Chatbot(label="Chat", height=320)
        with gr.Row():
            chat_text = gr.Textbox(label="Message", scale=4, max_length=8000)
            chat_btn = gr.Button("Send", variant="primary", scale=1)
        chat_stats = gr.Markdown()

    with gr.Accordion("4. Compare side by side", open=True):
        with gr.Row():
            compare_models = gr.CheckboxGroup(label="Models (2-4)", choices=[])
            prompt_set = gr.Radio(label="Prompts", choices=SET_CHOICES, value="sentiment")
        typed = gr.Textbox(label="Typed prompts (one per line)", lines=3, visible=False)
        compare_btn = gr.Button("Run the comparison", variant="primary")
        compare_note = gr.Markdown()
        compare_table = gr.Dataframe(interactive=False, wrap=True, label="Measured on this machine")
        with gr.Row():
            speed_plot = gr.ScatterPlot(x="size MB", y="tokens/s", color="model", title="Speed against size")
            quality_plot = gr.ScatterPlot(x="tokens/s", y="quality", color="model", title="Quality against speed")
        answers = gr.Dataframe(interactive=False, wrap=True, label="Answers side by side")
        report = gr.File(label="Report (Markdown)", interactive=False)
        comparison_id = gr.Number(visible=False, precision=0)
        with gr.Row():
            history = gr.Dropdown(
                label="My comparisons", choices=[], interactive=True, scale=3, allow_custom_value=True
            )
            open_btn = gr.Button("Open", scale=1)
        reflection = gr.Textbox(label="Which model would you use for your project, and why?", lines=3, max_length=5000)
        reflect_btn = gr.Button("Save the reflection")
        reflect_note = gr.Markdown()

    with gr.Accordion("5. Read a model card critically", open=False):
        card_model = gr.Dropdown(label="Model", choices=[], interactive=True, allow_custom_value=True)
        with gr.Row():
            with gr.Column(scale=3):
                card_text = gr.Markdown(max_height=480)
            with gr.Column(scale=2):
                card_state = gr.Markdown()
                marks = [
                    gr.Radio(STATES, label=f"{item.title} — {item.question}", value="missing") for item in CHECKLIST
                ]
                card_note = gr.Textbox(label="Your note: what is documented well, what is missing?", lines=3)
                card_btn = gr.Button("Save the critique", variant="primary")

    comparison_outputs = [compare_note, compare_table, speed_plot, quality_plot, answers, report]

    # --- handlers ----------------------------------------------------------------------------
    def pickers(who: str, history_value=None, first: bool = False) -> tuple:
        """The lists, refreshed. Only the page's first load picks values: later refreshes leave the
        learner's choices alone (a chat must not switch model under them, nor a card lose its marks)."""
        entries = lab.models(who)
        ggufs = [(e.name, e.id) for e in entries if e.format == "GGUF"]
        every = [(e.name, e.id) for e in entries]
        saved = [
            (f"{s.id}: {s.prompt_set} — {', '.join(s.models)} ({s.created[:16]})", s.id) for s in lab.history(who)
        ]
        first_of = {"value": ggufs[0][1] if ggufs else None} if first else {}
        return (
            models_frame(entries),
            gr.Dropdown(choices=ggufs, **first_of),
            gr.Dropdown(choices=every, **first_of),
            gr.CheckboxGroup(choices=every),
            gr.Dropdown(choices=every),
            gr.Dropdown(choices=saved, **({"value": history_value} if history_value is not None else {})),
        )

    picker_outputs = [models, quant_source, chat_model, compare_models, card_model, history]

    def models_list(request: gr.Request) -> tuple:
        """Every model on this machine (packaged, quantized, the learner's runs, servers)."""
        return _errors(lambda: pickers(owner(request)))

    def on_load(request: gr.Request) -> tuple:
        return _errors(lambda: pickers(owner(request), first=True))

    def models_add_server(name, url, model, key, price, shared, request: gr.Request) -> tuple:
        viewer = viewer_of(core, request)
        # In a class, the server makes requests to the address given: only instructors choose addresses.
        if (shared or core.settings.mode == "class") and not viewer.is_instructor:
            raise gr.Error("In a class, your instructor adds model servers (for everyone).")
        _errors(
            lambda: lab.add_server(viewer.username, name or "", url or "", model=model or "", api_key=key or "",
                                   price_per_million=price, shared=bool(shared))
        )  # fmt: skip
        gr.Info(f"Added server:{name.strip()}. Pick it in Chat or Compare.")
        return pickers(viewer.username)

    def models_remove_server(name, shared, request: gr.Request) -> tuple:
        """Forget a server (and the key stored with it)."""
        viewer = viewer_of(core, request)
        if shared and not viewer.is_instructor:
            raise gr.Error("Only instructors can remove a server added for everyone.")
        _errors(lambda: lab.remove_server(viewer.username, (name or "").strip(), shared=bool(shared)))
        gr.Info(f"Removed server:{(name or '').strip()}.")
        return pickers(viewer.username)

    def models_quantize(source: str, qtype: str, request: gr.Request, progress=gr.Progress()) -> tuple:  # noqa: B008
        """Quantize a GGUF model; returns the result line and the refreshed pickers."""
        who = owner(request)
        if not source:
            raise gr.Error("Pick a source GGUF first.")
        progress(0, desc=f"quantizing to {qtype}")

        def tick(done: int, total: int) -> None:
            progress(done / total, desc=f"tensor {done} of {total}")

        result = _errors(lambda: lab.quantize(who, source, qtype or "", on_progress=tick))
        return ("✅ " + result.summary(), *pickers(who))

    def models_chat(model_id: str, message: str, history_value, temp, tokens, ctx, request: gr.Request):
        """Stream a reply; the line under the chat shows time to first token and tokens/s."""
        who = owner(request)
        if not model_id:
            raise gr.Error("Pick a model first.")
        past = [{"role": m["role"], "content": _text(m["content"])} for m in (history_value or [])]
        shown = [*past, {"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        stream = lab.chat(who, model_id, past, message or "", temperature=float(temp), max_tokens=int(tokens),
                          context=int(ctx))  # fmt: skip
        settings = f"temperature {temp}, max tokens {int(tokens)}, context {int(ctx)}"
        try:
            for text, answer in stream:
                shown[-1] = {"role": "assistant", "content": text}
                if answer is None:
                    yield shown, "", "generating…"
                else:
                    stats = (
                        f"**{answer.tokens_per_s:.1f} tokens/s** · first token after {answer.ttft:.2f} s · "
                        f"{answer.tokens} tokens in {answer.seconds:.1f} s · {settings}"
                    )
                    yield shown, "", stats
        except lab_errors() as exc:
            raise gr.Error(str(exc)) from None

    def _comparison(who: str, saved: SavedComparison) -> tuple:
        return (*comparison_view(saved), saved.id, saved.reflection, *pickers(who, saved.id))

    def compare_picked(ids: list[str], set_name: str, typed_text: str, request: gr.Request, progress=gr.Progress()):  # noqa: B008
        """The picked models on the picked prompts, measured one after another; saved to history."""
        who = owner(request)
        if not ids or len(ids) < 2:
            raise gr.Error("Pick 2 to 4 models to compare.")
        prompts = _errors(lambda: lab.prompt_set(set_name or "sentiment", typed_text or ""))
        saved = _errors(lambda: lab.compare(who, list(ids), prompts, on_progress=lambda m: progress(None, desc=m)))
        return _comparison(who, saved)

    def models_quickstart(request: gr.Request, progress=gr.Progress()):  # noqa: B008
        """The one-click comparison: the packaged model, its Q8_0 and F16 copies, 10 sentiment sentences."""
        who = owner(request)
        saved = _errors(lambda: lab.quick_start(who, on_progress=lambda m: progress(None, desc=m)))
        note = (
            "Done: the table and charts are in step 4, and the report is saved in your history. Q8_0 and F16 were "
            "made from the packaged Q4_1 file, so they hold its values in more bits: expect the same answers at "
            f"other speeds and sizes ([why]({QUANT_TYPES_PAGE}))."
        )
        return (note, *_comparison(who, saved))

    def models_gemma(request: gr.Request, progress=gr.Progress()):  # noqa: B008
        who = owner(request)
        saved = _errors(lambda: lab.gemma_comparison(who, on_progress=lambda m: progress(None, desc=m)))
        return ("Done: a pretrained base beside an instruction-tuned model, in step 4.", *_comparison(who, saved))

    def models_open_comparison(comparison: int | None, request: gr.Request):
        """A comparison from the learner's history, with its reflection."""
        who = owner(request)
        if comparison is None or not str(comparison).strip().isdigit():
            raise gr.Error("Pick a comparison from your history.")
        return _comparison(who, _errors(lambda: lab.saved(who, int(comparison))))

    def models_reflect(comparison: int | None, text: str, request: gr.Request) -> tuple:
        """Save the reflection with the comparison (it goes in the report too)."""
        who = owner(request)
        if not comparison:
            raise gr.Error("Run or open a comparison first.")
        saved = _errors(lambda: lab.save_reflection(who, int(comparison), text or ""))
        return f"Saved with comparison {saved.id}.", comparison_view(saved)[-1]

    def models_card(model_id: str, request: gr.Request) -> tuple:
        """A model's card and the checklist: the saved critique, else pre-filled from the card."""
        who = owner(request)
        if not model_id:
            return ("Pick a model to read its card.", "", *[gr.Radio(value="missing") for _ in CHECKLIST], "")
        view = _errors(lambda: lab.card(who, model_id))
        state = (
            f"**Your saved critique:** {summary(view.states)}."
            if view.saved
            else f"**Pre-filled from the card** ({summary(view.prefilled)}): check each item and save."
        )
        text = view.card or "_This model has no model card file. That is itself a finding: mark what is missing._"
        return (text, state, *(view.states[item.key] for item in CHECKLIST), view.note)

    def models_save_card(  # one argument per checklist item (Gradio passes each component's value)
        model_id: str, intended_use: str, training_data: str, evaluation: str, limitations: str,
        bias_safety: str, license: str, compute: str, versioning: str, note: str, request: gr.Request,
    ) -> str:  # fmt: skip
        """Save the checklist and note for this model (it comes back after a restart)."""
        values = [intended_use, training_data, evaluation, limitations, bias_safety, license, compute, versioning]
        who = owner(request)
        if not model_id:
            raise gr.Error("Pick a model first.")
        states = {item.key: value for item, value in zip(CHECKLIST, values, strict=True)}
        view = _errors(lambda: lab.save_critique(who, model_id, states, note or ""))
        return f"**Saved.** {summary(view.states)}."

    # --- wiring ------------------------------------------------------------------------------
    refresh_btn.click(models_list, outputs=picker_outputs, api_name="models_list")
    server_btn.click(
        models_add_server,
        inputs=[server_name, server_url, server_model, server_key, server_price, server_shared],
        outputs=picker_outputs,
        api_name="models_add_server",
    )
    server_remove_btn.click(models_remove_server, inputs=[server_name, server_shared], outputs=picker_outputs,
                            api_name="models_remove_server")  # fmt: skip
    quant_btn.click(
        models_quantize, inputs=[quant_source, quant_type], outputs=[quant_result, *picker_outputs],
        api_name="models_quantize", concurrency_id="models_heavy", concurrency_limit=1,
    )  # fmt: skip
    chat_event = {"inputs": [chat_model, chat_text, chatbot, temperature, max_tokens, context],
                  "outputs": [chatbot, chat_text, chat_stats]}  # fmt: skip
    one_chat = {"concurrency_id": "models_chat", "concurrency_limit": 1}  # one model answers at a time
    chat_btn.click(models_chat, **chat_event, api_name="models_chat", **one_chat)
    chat_text.submit(models_chat, **chat_event, api_visibility="private", **one_chat)
    prompt_set.change(lambda name: gr.Textbox(visible=name == "typed"), inputs=prompt_set, outputs=typed,
                      api_visibility="private")  # fmt: skip
    shown = [*comparison_outputs, comparison_id, reflection, *picker_outputs]
    heavy = {"concurrency_id": "models_heavy", "concurrency_limit": 1}  # one measurement at a time: fair figures
    # The page's model picker holds each learner's own choices (set on load); scripts call the typed twin.
    compare_btn.click(compare_picked, inputs=[compare_models, prompt_set, typed], outputs=shown,
                      api_visibility="private", **heavy)  # fmt: skip
    quick_btn.click(models_quickstart, outputs=[quick_note, *shown], api_name="models_quickstart", **heavy)
    gemma_btn.click(models_gemma, outputs=[quick_note, *shown], api_name="models_gemma", **heavy)
    open_btn.click(models_open_comparison, inputs=history, outputs=shown, api_name="models_open_comparison")
    reflect_btn.click(models_reflect, inputs=[comparison_id, reflection], outputs=[reflect_note, report],
                      api_name="models_reflect")  # fmt: skip
    card_model.input(models_card, inputs=card_model, outputs=[card_text, card_state, *marks, card_note],
                      api_name="models_card")  # fmt: skip
    card_btn.click(models_save_card, inputs=[card_model, *marks, card_note], outputs=card_state,
                   api_name="models_save_card")  # fmt: skip

    def models_catalog(request: gr.Request) -> list[dict]:
        """The models on this machine as data: id, name, engine, format, quantization, size, source."""
        return [e.public() for e in lab.models(owner(request))]

    def models_compare_api(model_ids: list[str], prompts: str, typed_prompts: str, request: gr.Request) -> dict:
        """Compare 2-4 models (ids from models_catalog) on a prompt set ("sentiment", "summarization",
        "course") or "typed" prompts; saved to the history. Returns the comparison as data."""
        who = owner(request)
        prompt_set_value = _errors(lambda: lab.prompt_set(prompts or "sentiment", typed_prompts or ""))
        saved = _errors(lambda: lab.compare(who, list(model_ids), prompt_set_value))
        return {"id": saved.id, "speed_direction": saved.comparison.speed_direction(),
                **json.loads(saved.comparison.to_json())}  # fmt: skip

    gr.api(models_catalog, api_name="models_catalog")
    gr.api(models_compare_api, api_name="models_compare", **heavy)
    return on_load, picker_outputs


def _text(content) -> str:
    """A Chatbot message's content as text (Gradio 6 may hand back a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)
