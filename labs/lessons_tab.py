"""The Lessons tab: lesson list with completion marks, the lesson text, previous/next,
"Mark complete", and buttons to the lesson's quiz and lab.

Component ids: lessons.nav (Radio of lesson ids), lessons.status, lessons.body,
lessons.complete / lessons.undo (buttons), lessons.prev / lessons.next, lessons.quiz / lessons.lab.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import gradio as gr

from labs.identity import viewer_of
from tutor.core import Core, LessonStatus


def nav_choices(statuses: list[LessonStatus]) -> list[tuple[str, str]]:
    """(label, lesson id) pairs; the label carries the completion mark."""
    return [(f"{'✓' if s.done else '○'} {s.order}. {s.title}", s.id) for s in statuses]


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC")


def status_line(statuses: list[LessonStatus], lesson_id: str) -> str:
    current = next(s for s in statuses if s.id == lesson_id)
    done = sum(s.done for s in statuses)
    state = f"✓ completed {_when(current.completed_at)}" if current.completed_at else "not completed yet"
    return (
        f"**Lesson {current.order} of {len(statuses)}** · about {current.minutes} min · {state} · "
        f"{done}/{len(statuses)} lessons done"
    )


@dataclass
class LessonsTab:
    nav: gr.Radio
    outputs: list
    open_lesson: Callable  # the handler app.py chains after page load
    quiz_btn: gr.Button  # app.py points it at the lesson's quiz


def build_lessons_tab(core: Core, tabs: gr.Tabs) -> LessonsTab:
    first = core.course.lessons[0].id

    with gr.Row():
        with gr.Column(scale=1, min_width=240):
            nav = gr.Radio(choices=[(p.title, p.id) for p in core.course.lessons], value=first, label="Lessons")
        with gr.Column(scale=4):
            status = gr.Markdown()
            body = gr.Markdown(header_links=True)
            with gr.Row():
                prev_btn = gr.Button("← Previous", size="sm")
                complete_btn = gr.Button("Mark complete", variant="primary", size="sm")
                undo_btn = gr.Button("Mark as not complete", size="sm", visible=False)
                next_btn = gr.Button("Next →", size="sm")
            with gr.Row():
                quiz_btn = gr.Button("Take this lesson's quiz", size="sm")
                lab_btn = gr.Button("Open this lesson's advisor lab", size="sm")

    outputs = [nav, status, body, complete_btn, undo_btn]

    def render(lesson_id: str, request: gr.Request) -> tuple:
        viewer = viewer_of(core, request)
        try:
            core.lesson(lesson_id)
        except KeyError:
            raise gr.Error(f"There is no lesson {lesson_id!r}.") from None
        statuses = core.lesson_statuses(viewer)
        done = next(s for s in statuses if s.id == lesson_id).done
        return (
            gr.Radio(choices=nav_choices(statuses), value=lesson_id),
            status_line(statuses, lesson_id),
            core.page_markdown(lesson_id),
            gr.Button(visible=not done),
            gr.Button(visible=done),
        )

    def open_lesson(lesson_id: str, request: gr.Request) -> tuple:
        """Show a lesson. Inputs: lessons.nav. Outputs: nav, status, body, complete, undo."""
        return render(lesson_id, request)

    def mark_complete(lesson_id: str, request: gr.Request) -> tuple:
        """Record the lesson as complete for the signed-in learner, then re-render."""
        core.mark_complete(viewer_of(core, request), lesson_id)
        return render(lesson_id, request)

    def mark_incomplete(lesson_id: str, request: gr.Request) -> tuple:
        core.mark_incomplete(viewer_of(core, request), lesson_id)
        return render(lesson_id, request)

    def step(lesson_id: str, delta: int) -> str:
        return core.neighbour(lesson_id, delta)

    nav.change(open_lesson, inputs=nav, outputs=outputs, api_name="open_lesson", scroll_to_output=True)
    complete_btn.click(mark_complete, inputs=nav, outputs=outputs, api_name="mark_complete")
    undo_btn.click(mark_incomplete, inputs=nav, outputs=outputs, api_name="mark_incomplete")
    prev_btn.click(lambda lesson_id: step(lesson_id, -1), inputs=nav, outputs=nav, api_visibility="private")
    next_btn.click(lambda lesson_id: step(lesson_id, +1), inputs=nav, outputs=nav, api_visibility="private")
    lab_btn.click(lambda: gr.Tabs(selected="advisors"), outputs=tabs, api_visibility="private")

    return LessonsTab(nav=nav, outputs=outputs, open_lesson=open_lesson, quiz_btn=quiz_btn)
