"""The Instructor tab (instructors only; every handler re-checks the role on the server):
import and validate a bank (YAML or Moodle GIFT), preview questions, publish, export, the
gradebook CSV, and item analysis with a chart.

Component ids: instructor.upload, instructor.report, instructor.versions, instructor.bank,
instructor.question, instructor.preview, instructor.export_format, instructor.download,
instructor.quiz, instructor.stats, instructor.items, instructor.chart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd
from gradio.events import Dependency

from labs.identity import guarded, viewer_of
from tutor.core import AccessError, Core, Viewer
from tutor.lab_files import text_download
from tutor.quiz.analysis import RELIABLE_ATTEMPTS, QuizStats, analysed_label
from tutor.quiz.bank import Bank, Question
from tutor.quiz.bank_files import ReadResult
from tutor.tables import QuizBankVersion

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


def version_table(pairs: list[tuple[QuizBankVersion, Bank]]) -> tuple[list[list], list[str]]:
    """Rows of the versions table, and the bank ids in the order they first appear."""
    rows, banks = [], []
    for version, content in pairs:
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
    return rows, banks


def keep_pick(current: str | None, choices: list[str]) -> str | None:
    """The instructor's pick while it is still listed, else the first entry: the preview and the
    item analysis then have something to show as soon as the tab opens."""
    if current in choices:
        return current
    return choices[0] if choices else None


@dataclass(frozen=True)
class InstructorLists:
    rows: list[list]  # the versions table
    banks: list[str]
    bank: str | None  # picked
    quizzes: list[str]
    quiz: str | None  # picked


def instructor_lists(core: Core, viewer: Viewer, bank_id: str | None, quiz_id: str | None) -> InstructorLists | None:
    """The versions table and the bank and quiz pickers, keeping the current picks; None for a
    learner (the page-load event runs for everyone, and a learner's page gets nothing)."""
    if not viewer.is_instructor:
        return None
    rows, banks = version_table(core.bank_versions(viewer))
    quiz_ids = [q.id for q in core.quizzes()]
    return InstructorLists(rows, banks, keep_pick(bank_id, banks), quiz_ids, keep_pick(quiz_id, quiz_ids))


def lists_update(lists: InstructorLists | None) -> tuple:
    """Outputs for instructor.versions, instructor.bank and instructor.quiz."""
    if lists is None:
        return gr.skip(), gr.skip(), gr.skip()
    return (
        lists.rows,
        gr.Dropdown(choices=lists.banks, value=lists.bank),
        gr.Dropdown(choices=lists.quizzes, value=lists.quiz),
    )


def import_report(result: ReadResult) -> str:
    """What an import did: the problems that refused the file, or the bank stored; skipped questions."""
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


def chart_frame(stats: QuizStats) -> pd.DataFrame:
    """Facility and discriminative efficiency per question, for the chart. An undefined value
    (no variance yet) is left out rather than drawn as 0%, which would read as "no discrimination"."""
    rows = [
        {"question": item.question_id, "measure": measure, "percent": value}
        for measure in ("facility", "efficiency")
        for item in stats.items
        if (value := item.facility if measure == "facility" else item.efficiency) is not None
    ]
    return pd.DataFrame(rows, columns=["question", "measure", "percent"])


def stats_view(quiz_id: str, stats: QuizStats) -> tuple[str, list[list], gr.ScatterPlot]:
    """Item analysis as a heading, the per-question table and the chart (in the quiz's question
    order: without an explicit order the chart sorts ids as text, mt-q10 before mt-q2)."""
    # With few attempts one more learner moves every number a lot: fewer digits say so.
    reliable = stats.attempts >= RELIABLE_ATTEMPTS
    digits = 1 if reliable else 0

    def pct(value: float | None) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    alpha = "n/a" if stats.cronbach_alpha is None else f"{stats.cronbach_alpha:.{3 if reliable else 2}f}"
    mean = "n/a" if stats.mean_percent is None else f"{stats.mean_percent:.1f}%"
    text = f"### {quiz_id}: {analysed_label(stats)} · mean {mean} · Cronbach's alpha {alpha}"
    if stats.note:
        text += f"\n\n{'' if reliable else '⚠ '}*{stats.note}*"
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
    order = [item.question_id for item in stats.items]
    return text, rows, gr.ScatterPlot(value=chart_frame(stats), sort=order)


def _save_download(text: str, prefix: str, filename: str) -> str:
    """Write ``text`` to a fresh temporary folder for the download component; returns the path."""
    return str(text_download(text, filename))


@dataclass
class InstructorTab:
    refresh: Callable  # the lists' handler, re-run when the tab is opened (app.py wires the select)
    inputs: list  # bank and quiz pickers: a refresh keeps the picks
    outputs: list  # versions table, bank picker, quiz picker


def build_instructor_tab(core: Core) -> InstructorTab:
    gr.Markdown("## Quiz banks\nImport a bank in YAML or Moodle GIFT; nothing is imported from a file with errors.")
    with gr.Row():
        with gr.Column():
            report, imported = _import_section(core)
        with gr.Column():
            refresh_btn = gr.Button("Refresh lists", size="sm")
            versions = gr.Dataframe(headers=VERSION_HEADERS, interactive=False, label="Bank versions")
            bank, published = _publish_section(core, report)
            download = _export_section(core, bank)
    _preview_section(core, bank)
    gr.Markdown("## Results")
    quiz = _results_section(core, download)

    lists = [versions, bank, quiz]
    picks = [bank, quiz]

    def refresh(request: gr.Request, bank_id: str | None = None, quiz_id: str | None = None) -> tuple:
        """Versions table and the bank and quiz pickers (the API's /bank_versions: instructors only)."""
        return lists_update(instructor_lists(core, _instructor(core, request), bank_id, quiz_id))

    def on_open(request: gr.Request, bank_id: str | None = None, quiz_id: str | None = None) -> tuple:
        """The same lists on page load and when the tab opens; nothing (and no error) for learners."""
        return lists_update(instructor_lists(core, viewer_of(core, request), bank_id, quiz_id))

    # Fill the lists on page load (just after sign-in), so the tab never opens empty. With no
    # triggers and no inputs, gr.on listens to the page's load event only.
    gr.on(triggers=None, fn=on_open, outputs=lists, api_visibility="private")
    for changed in (imported, published):
        changed.then(refresh, inputs=picks, outputs=lists, api_visibility="private")
    refresh_btn.click(refresh, inputs=picks, outputs=lists, api_name="bank_versions")

    build_conversations_section(core)
    build_runs_section(core)
    return InstructorTab(refresh=on_open, inputs=picks, outputs=lists)


def _import_section(core: Core) -> tuple[gr.Markdown, Dependency]:
    """Upload, validate and import a bank file. Returns the report and the import event."""
    upload = gr.File(label="Bank file (.yaml, .yml, .gift, .txt)", file_types=[".yaml", ".yml", ".gift", ".txt"])
    import_btn = gr.Button("Validate and import", variant="primary")
    report = gr.Markdown()

    def import_bank(file: str | None, request: gr.Request) -> str:
        """Validate an uploaded bank; store it as a new unpublished version if it has no errors."""
        viewer = _instructor(core, request)
        if not file:
            raise gr.Error("Choose a file first.")
        path = Path(file)
        return import_report(core.import_bank(viewer, path.read_bytes(), path.name))

    return report, import_btn.click(import_bank, inputs=upload, outputs=report, api_name="import_bank")


def _publish_section(core: Core, report: gr.Markdown) -> tuple[gr.Dropdown, Dependency]:
    """The bank picker and its publish button. Returns the picker and the publish event."""
    with gr.Row():
        bank = gr.Dropdown(label="Bank", choices=[], interactive=True, allow_custom_value=True)
        publish_btn = gr.Button("Publish newest version")

    def publish_bank(bank_id: str | None, request: gr.Request) -> str:
        """Publish the newest version of the bank: new attempts use it; old attempts keep theirs."""
        viewer = _instructor(core, request)
        if not bank_id:
            raise gr.Error("Choose a bank first.")
        version = guarded(lambda: core.publish_bank(viewer, bank_id))
        return f"### ✓ Published `{bank_id}` v{version}"

    return bank, publish_btn.click(publish_bank, inputs=bank, outputs=report, api_name="publish_bank")


def _export_section(core: Core, bank: gr.Dropdown) -> gr.File:
    """Export the picked bank as YAML or GIFT. Returns the download (the gradebook uses it too)."""
    with gr.Row():
        export_format = gr.Radio(choices=["yaml", "gift"], value="yaml", label="Export format")
        export_btn = gr.Button("Export")
    download = gr.File(label="Download", interactive=False)

    def export_bank(bank_id: str | None, fmt: str, request: gr.Request) -> str:
        viewer = _instructor(core, request)
        if not bank_id:
            raise gr.Error("Choose a bank first.")
        text = guarded(lambda: core.export_bank(viewer, bank_id, fmt))
        return _save_download(text, "tutor-export-", f"{bank_id}.{fmt}")

    export_btn.click(export_bank, inputs=[bank, export_format], outputs=download, api_name="export_bank")
    return download


def question_choices(content: Bank | None) -> tuple[list[str], str | None]:
    """The bank's question ids and the one to preview: the first, so the preview is never blank
    once a bank is picked (and the tab picks a bank when it opens)."""
    ids = [q.id for q in content.questions] if content else []
    return ids, ids[0] if ids else None


def _preview_section(core: Core, bank: gr.Dropdown) -> None:
    """Pick a question of the picked bank's newest version and preview it."""
    with gr.Row():
        question = gr.Dropdown(label="Preview a question", choices=[], interactive=True, allow_custom_value=True)
    preview = gr.Markdown()

    def newest(bank_id: str | None, request: gr.Request) -> Bank | None:
        viewer = _instructor(core, request)
        return core.newest_bank(viewer, bank_id) if bank_id else None

    def pick_bank(bank_id: str | None, request: gr.Request) -> gr.Dropdown:
        ids, first = question_choices(newest(bank_id, request))
        return gr.Dropdown(choices=ids, value=first)

    def show_question(bank_id: str | None, question_id: str | None, request: gr.Request) -> str:
        content = newest(bank_id, request)
        if content is None or not question_id:
            return ""
        return preview_markdown(content.question(question_id))

    bank.change(pick_bank, inputs=bank, outputs=question, api_visibility="private")
    question.change(show_question, inputs=[bank, question], outputs=preview, api_name="preview_question")


def _results_section(core: Core, download: gr.File) -> gr.Dropdown:
    """The gradebook download and item analysis with a chart. Returns the quiz picker."""
    with gr.Row():
        gradebook_btn = gr.Button("Gradebook (CSV)")
        quiz = gr.Dropdown(label="Quiz", choices=[], interactive=True, allow_custom_value=True)
        stats_btn = gr.Button("Item analysis", variant="primary")
    stats_md = gr.Markdown()
    items = gr.Dataframe(headers=ITEM_HEADERS, interactive=False, label="Per question")
    # Points, not bars: Gradio stacks bars of one x, which would add facility to efficiency.
    chart = gr.ScatterPlot(
        x="question",
        y="percent",
        color="measure",
        y_lim=[-100, 100],
        label="Facility and discriminative efficiency (%)",
    )

    def gradebook(request: gr.Request) -> str:
        """Every learner's grade per quiz, as CSV."""
        return _save_download(core.gradebook_csv(_instructor(core, request)), "tutor-gradebook-", "gradebook.csv")

    def quiz_stats(quiz_id: str | None, request: gr.Request) -> tuple:
        """Facility, discrimination and efficiency per question; Cronbach's alpha for the quiz."""
        viewer = _instructor(core, request)
        if not quiz_id:
            raise gr.Error("Choose a quiz first.")
        return stats_view(quiz_id, core.quiz_statistics(viewer, quiz_id))

    gradebook_btn.click(gradebook, outputs=download, api_name="gradebook")
    stats_btn.click(quiz_stats, inputs=quiz, outputs=[stats_md, items, chart], api_name="quiz_stats")
    return quiz


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


RUN_HEADERS = ["run", "learner", "task", "status", "created (UTC)", "size MB", "message"]


def run_rows(runs: list) -> list[list]:
    """[(Run, bytes)] as table rows."""

    def when(stamp: float | None) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(stamp)) if stamp else ""

    return [[r.id, r.owner, r.task, r.status, when(r.created), round(size / 1e6, 1), r.message] for r, size in runs]


def build_runs_section(core: Core) -> None:
    """Every learner's QLoRA runs: a run that holds the one training slot can be stopped, and old
    runs deleted when the disk fills (Settings keep_runs_days does it by age)."""
    gr.Markdown("## Training runs\nOne run trains at a time; the others wait. Stop keeps a checkpoint.")
    list_btn = gr.Button("List runs")
    table = gr.Dataframe(headers=RUN_HEADERS, interactive=False, wrap=True)
    with gr.Row():
        run_id = gr.Textbox(label="Run id (from the table)")
        stop_btn = gr.Button("Stop run")
        delete_btn = gr.Button("Delete run", variant="stop")
    outcome = gr.Markdown()

    def list_runs(request: gr.Request) -> list[list]:
        return run_rows(guarded(lambda: core.lab_runs(_instructor(core, request))))

    def stop_run(run: str, request: gr.Request) -> str:
        stopped = guarded(lambda: core.stop_run(_instructor(core, request), run.strip()))
        return f"Run `{stopped.id}` of {stopped.owner}: stop requested ({stopped.status})."

    def delete_run(run: str, request: gr.Request) -> str:
        deleted = guarded(lambda: core.delete_run(_instructor(core, request), run.strip()))
        return f"Run `{deleted.id}` of {deleted.owner} deleted, with its exports."

    list_btn.click(list_runs, outputs=table, api_name="lab_runs")
    stop_btn.click(stop_run, inputs=run_id, outputs=outcome, api_name="stop_any_run").then(
        list_runs, outputs=table, api_visibility="private"
    )
    delete_btn.click(delete_run, inputs=run_id, outputs=outcome, api_name="delete_any_run").then(
        list_runs, outputs=table, api_visibility="private"
    )
