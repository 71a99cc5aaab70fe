"""Who is asking, from the server-side session (never from anything the browser sends)."""

from __future__ import annotations

import gradio as gr

from tutor.core import AccessError, Core, Viewer
from tutor.quiz.attempts import QuizError
from tutor.training_lab import LabError


def viewer_of(core: Core, request: gr.Request | None) -> Viewer:
    """The signed-in user (class mode) or the local learner (single mode); gr.Error otherwise."""
    username = getattr(request, "username", None) if request is not None else None
    try:
        return core.viewer(username)
    except AccessError as exc:
        raise gr.Error(str(exc)) from None


def guarded(call):
    """Run ``call``; the core's refusals become a message in the UI (a gr.Error), not a traceback."""
    try:
        return call()
    except (QuizError, AccessError, LabError, KeyError) as exc:
        raise gr.Error(str(exc).strip("'\"")) from None
