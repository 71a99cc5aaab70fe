"""The Instructor tab (instructors only; every handler re-checks the role on the server):
import and validate a bank (YAML or Moodle GIFT), preview questions, publish, export, the
gradebook CSV, and item analysis with a chart.

Component ids: instructor.upload, instructor.report, instructor.versions, instructor.bank,
instructor.question, instructor.preview, instructor.export_format, instructor.download,
instructor.quiz, instructor.stats, instructor.items, instructor.chart.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from labs.identity import guarded, viewer_of
from tutor.core import AccessError, Core
from tutor.quiz import attempts, instructor
from tutor.quiz.bank import Question

VERSION_HEADERS = ["bank", "version", "published", "questions", "quizzes", "source", "created (UTC)"]
ITEM_HEADERS = ["question", "attempts", "facility %", "discrimination %", "efficiency %", "review?"]


def _instructor(core: Core, request: gr.Request):
    viewer = viewer_of(core, request)
    try:
        core.require_instructor(viewer)
    except AccessError as exc:
        raise gr.Error(str(exc)) from None
    return viewer


def preview_markdown(question: Question) -> str:
    """The question as a learner sees it, then the instructor's view with key and feedback."""
    kind = {"single": "choose one", "multiple": "choose all that apply", "truefalse": "true or false"}[question.type]
    lines = [f"#### As learners see it ({kind})", f"**{question.stem}**"]
    lines += [f"- ○ {option.text}" for option in question.options]
    lines.append("\n#### Key and feedback")
    for option in question.options:
        mark = "✅" if option.weight == 100 else (f"{option.weight:g}%" if option.weight else "✗")
        lines.append(f"- {mark} {option.text}" + (f" — 💬 {option.feedback}" if option.feedback else ""))
    if question.general_feedback:
        lines.append(f"\n> {question.general_feedback}")
    lines.append(
        f"\n*id `{question.id}` · lesson `{question.lesson or '-'}` · tags {', '.join(question.tags) or '-'}*"
    )
    return "\n".join(lines)


def build_instructor_tab(core: Core) -> None:
    gr.Markdown("## Quiz banks\nImport a bank in YAML or Moodle GIFT; nothing is imported from a file with errors.")
    with gr.Row():
        with gr.Column():
            upload = gr.File(
                label="Bank file (.yaml, .yml, .gift, .txt)", file_types=[".yaml", ".yml", ".gift", ".txt"]
            )
            import_btn = gr.Button("Validate and import", variant="primary")
            report = gr.Markdown()
        with gr.Column():
            versions = gr.Dataframe(headers=VERSION_HEADERS, interactive=False, label="Bank versions")
            with gr.Row():
                bank = gr.Dropdown(label="Bank", choices=[], interactive=True, allow_custom_value=True)
                publish_btn = gr.Button("Publish newest version")
            with gr.Row():
                export_format = gr.Radio(choices=["yaml", "gift"], value="yaml", label="Export format")
                export_btn = gr.Button("Export")
            download = gr.File(label="Download", interactive=False)
    with gr.Row():
        question = gr.Dropdown(label="Preview a question", choices=[], interactive=True, allow_custom_value=True)
    preview = gr.Markdown()

    gr.Markdown("## Results")
    with gr.Row():
        gradebook_btn = gr.Button("Gradebook (CSV)")
        quiz = gr.Dropdown(label="Quiz", choices=[], interactive=True, allow_custom_value=True)
        stats_btn = gr.Button("Item analysis", variant="primary")
    stats_md = gr.Markdown()
    items = gr.Dataframe(headers=ITEM_HEADERS, interactive=False, label="Per question")
    chart = gr.BarPlot(x="question", y="percent", color="measure", label="Facility and discriminative efficiency")

    def refresh(request: gr.Request) -> tuple:
        """Versions table and the bank, question and quiz pickers."""
        _instructor(core, request)
        rows, banks = [], []
        for version in instructor.list_versions(core.store):
            content = attempts.bank_of(version)
            rows.append(
                [
                    version.bank_id,
                    version.version,
                    "yes" if version.published else "",
                    len(content.questions),
                    len(content.quizzes),
                    Path(version.source).name,
                    version.created_at.strftime("%Y-%m-%d %H:%M"),
                ]
            )
            if version.bank_id not in banks:
                banks.append(version.bank_id)
        quiz_ids = [q.id for q in core.quizzes()]
        return rows, gr.Dropdown(choices=banks), gr.Dropdown(choices=quiz_ids)

    def import_bank(file: str | None, request: gr.Request) -> str:
        """Validate an uploaded bank; store it as a new unpublished version if it has no errors."""
        viewer = _instructor(core, request)
        if not file:
            raise gr.Error("Choose a file first.")
        path = Path(file)
        result = core.import_bank(viewer, path.read_bytes(), path.name)
        lines = []
        if result.bank is None:
            lines.append(f"### ✗ Nothing imported — {len(result.problems)} problem(s)")
            lines += [f"- `{problem}`" for problem in result.problems[:50]]
        else:
            lines.append(
                f"### ✓ Imported `{result.bank.bank}`: {len(result.bank.questions)} questions, "
                f"{len(result.bank.quizzes)} quizzes — not published yet"
            )
        if result.skipped:
            lines.append("\nSkipped (unsupported question types):")
            lines += [f"- `{line}`" for line in result.skipped[:50]]
        return "\n".join(lines)

    def pick_bank(bank_id: str | None, request: gr.Request) -> gr.Dropdown:
        _instructor(core, request)
        newest = instructor.newest_version(core.store, bank_id) if bank_id else None
        ids = [q.id for q in attempts.bank_of(newest).questions] if newest else []
        return gr.Dropdown(choices=ids, value=None)

    def show_question(bank_id: str | None, question_id: str | None, request: gr.Request) -> str:
        _instructor(core, request)
        newest = instructor.newest_version(core.store, bank_id) if bank_id else None
        if newest is None or not question_id:
            return ""
        return preview_markdown(attempts.bank_of(newest).question(question_id))

    def publish_bank(bank_id: str | None, request: gr.Request) -> str:
        """Publish the newest version of the bank: new attempts use it; old attempts keep theirs."""
        viewer = _instructor(core, request)
        if not bank_id:
            raise gr.Error("Choose a bank first.")
        version = guarded(lambda: core.publish_bank(viewer, bank_id))
        return f"### ✓ Published `{bank_id}` v{version}"

    def export_bank(bank_id: str | None, fmt: str, request: gr.Request) -> str:
        viewer = _instructor(core, request)
        if not bank_id:
            raise gr.Error("Choose a bank first.")
        text = guarded(lambda: core.export_bank(viewer, bank_id, fmt))
        path = Path(tempfile.mkdtemp(prefix="tutor-export-")) / f"{bank_id}.{fmt}"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def gradebook(request: gr.Request) -> str:
        """Every learner's grade per quiz, as CSV."""
        text = core.gradebook_csv(_instructor(core, request))
        path = Path(tempfile.mkdtemp(prefix="tutor-gradebook-")) / "gradebook.csv"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def quiz_stats(quiz_id: str | None, request: gr.Request) -> tuple:
        """Facility, discrimination and efficiency per question; Cronbach's alpha for the quiz."""
        viewer = _instructor(core, request)
        if not quiz_id:
            raise gr.Error("Choose a quiz first.")
        stats = core.quiz_statistics(viewer, quiz_id)

        def pct(value: float | None) -> str:
            return "" if value is None else f"{value:.1f}"

        alpha = "n/a" if stats.cronbach_alpha is None else f"{stats.cronbach_alpha:.3f}"
        mean = "n/a" if stats.mean_percent is None else f"{stats.mean_percent:.1f}%"
        text = f"### {quiz_id}: {stats.attempts} attempts · mean {mean} · Cronbach's alpha {alpha}"
        if stats.note:
            text += f"\n\n*{stats.note}*"
        rows = [
            [
                i.question_id,
                i.attempts,
                pct(i.facility),
                pct(i.discrimination),
                pct(i.efficiency),
                "⚠ DE < 15%" if i.dubious else "",
            ]
            for i in stats.items
        ]
        plot = pd.DataFrame(
            [{"question": i.question_id, "measure": "facility", "percent": i.facility or 0.0} for i in stats.items]
            + [
                {"question": i.question_id, "measure": "efficiency", "percent": i.efficiency or 0.0}
                for i in stats.items
            ],
            columns=["question", "measure", "percent"],
        )
        return text, rows, plot

    import_btn.click(import_bank, inputs=upload, outputs=report, api_name="import_bank").then(
        refresh, outputs=[versions, bank, quiz], api_visibility="private"
    )
    bank.change(pick_bank, inputs=bank, outputs=question, api_visibility="private")
    question.change(show_question, inputs=[bank, question], outputs=preview, api_name="preview_question")
    publish_btn.click(publish_bank, inputs=bank, outputs=report, api_name="publish_bank").then(
        refresh, outputs=[versions, bank, quiz], api_visibility="private"
    )
    export_btn.click(export_bank, inputs=[bank, export_format], outputs=download, api_name="export_bank")
    gradebook_btn.click(gradebook, outputs=download, api_name="gradebook")
    stats_btn.click(quiz_stats, inputs=quiz, outputs=[stats_md, items, chart], api_name="quiz_stats")
    refresh_btn = gr.Button("Refresh lists", size="sm")
    refresh_btn.click(refresh, outputs=[versions, bank, quiz], api_name="bank_versions")

    build_conversations_section(core)


CONVERSATION_HEADERS = ["id", "learner", "lab", "first message", "started (UTC)", "messages"]


def transcript_markdown(messages: list) -> str:
    """A conversation as instructors read it: who said what, when, and which model answered."""
    if not messages:
        return "_No messages._"
    parts = []
    for message in messages:
        when = message.created_at.strftime("%Y-%m-%d %H:%M")
        who = "Learner" if message.role == "user" else f"Advisor ({message.model or 'rules only'})"
        error = f"\n\n⚠️ {message.error}" if message.error else ""
        parts.append(f"**{who}** · {when}\n\n{message.content}{error}")
    return "\n\n---\n\n".join(parts)


def build_conversations_section(core: Core) -> None:
    """What learners asked the advisor labs (CS50's duck lets staff read questions; so do we)."""
    gr.Markdown("## Advisor conversations")
    with gr.Row():
        lab = gr.Dropdown(["", "strategy", "dataset", "hyperparams", "eval"], value="", label="Lab (all when empty)")
        learner = gr.Textbox(label="Learner (all when empty)")
        list_btn = gr.Button("List conversations")
    table = gr.Dataframe(headers=CONVERSATION_HEADERS, interactive=False, wrap=True)
    with gr.Row():
        conversation_id = gr.Number(label="Conversation id", precision=0)
        read_btn = gr.Button("Read")
    transcript = gr.Markdown()

    def list_conversations(lab_id: str, username: str, request: gr.Request) -> list[list]:
        viewer = _instructor(core, request)
        rows = guarded(lambda: core.advisor_conversations(viewer, lab_id, username.strip()))
        return [[r.id, r.username, r.lab, r.title, r.started_at.strftime("%Y-%m-%d %H:%M"), r.messages] for r in rows]

    def read_conversation(number: float | None, request: gr.Request) -> str:
        viewer = _instructor(core, request)
        if number is None:
            raise gr.Error("enter a conversation id from the table")
        return transcript_markdown(guarded(lambda: core.read_conversation(viewer, int(number))))

    list_btn.click(list_conversations, inputs=[lab, learner], outputs=table, api_name="advisor_conversations")
    read_btn.click(read_conversation, inputs=conversation_id, outputs=transcript, api_name="read_conversation")
