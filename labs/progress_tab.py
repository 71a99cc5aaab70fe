"""The My progress tab: the signed-in learner's lessons done (quiz results join later).

Component ids: progress.summary, progress.table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from labs.identity import viewer_of
from tutor.core import Core

HEADERS = ["Lesson", "Status", "Completed (UTC)"]


@dataclass
class ProgressTab:
    summary: gr.Markdown
    table: gr.Dataframe
    refresh: Callable  # the handler, re-run when the tab is opened


def build_progress_tab(core: Core) -> ProgressTab:
    summary = gr.Markdown()
    table = gr.Dataframe(headers=HEADERS, interactive=False, label="Lessons", wrap=True)
    gr.Markdown("Quiz and module-test results will appear here once the quizzes are available.")

    def my_progress(request: gr.Request) -> tuple[str, list[list[str]]]:
        """The caller's own progress only. Outputs: progress.summary, progress.table."""
        viewer = viewer_of(core, request)
        statuses = core.lesson_statuses(viewer)
        rows = [
            [
                f"{s.order}. {s.title}",
                "✓ done" if s.done else "not yet",
                s.completed_at.strftime("%Y-%m-%d %H:%M") if s.completed_at else "",
            ]
            for s in statuses
        ]
        done = sum(s.done for s in statuses)
        text = f"### {viewer.username}: {done} of {len(statuses)} lessons complete"
        return text, rows

    refresh = gr.Button("Refresh", size="sm")
    refresh.click(my_progress, outputs=[summary, table], api_name="my_progress")
    return ProgressTab(summary=summary, table=table, refresh=my_progress)
