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


QUIZ_HEADERS = ["Quiz", "Attempts", "Grade", "Result"]


@dataclass
class ProgressTab:
    outputs: list  # summary, lessons table, quiz table
    refresh: Callable  # the handler, re-run when the tab is opened


def build_progress_tab(core: Core) -> ProgressTab:
    summary = gr.Markdown()
    table = gr.Dataframe(headers=HEADERS, interactive=False, label="Lessons", wrap=True)
    quiz_table = gr.Dataframe(headers=QUIZ_HEADERS, interactive=False, label="Quizzes", wrap=True)

    def my_progress(request: gr.Request) -> tuple[str, list[list[str]], list[list[str]]]:
        """The caller's own progress only. Outputs: progress.summary, progress.table, progress.quizzes."""
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
        titles = {quiz.id: quiz.title for quiz in core.quizzes()}
        quiz_rows = []
        for quiz in core.quiz_summaries(viewer):
            result = "" if quiz.passed is None else ("passed" if quiz.passed else "not passed yet")
            grade = "" if quiz.grade is None else f"{quiz.grade:.0f}%"
            quiz_rows.append([titles.get(quiz.quiz_id, quiz.quiz_id), str(quiz.attempts), grade, result])
        return text, rows, quiz_rows

    refresh = gr.Button("Refresh", size="sm")
    outputs = [summary, table, quiz_table]
    refresh.click(my_progress, outputs=outputs, api_name="my_progress")
    return ProgressTab(outputs=outputs, refresh=my_progress)
