"""Plain HTTP routes for the quiz, mounted beside the Gradio app under ``/api/v1``.

A quiz submit needs no streaming, no queue and no UI state, so it does not go through Gradio's
queue (an event, a server-sent-events stream and its JSON per request: most of the ~130 ms of
server CPU per submit measured in docs/benchmarks.md). These routes are ordinary FastAPI
handlers: one request, one JSON answer, the same core calls as the quiz tab and the ``quiz_*``
Gradio endpoints. FastAPI runs them in its thread pool, so a class's submits never wait behind an
advisor answer that is streaming on the Gradio queue.

Who is asking: in class mode the Gradio session cookie (sign in through ``/login`` as in the
browser), read from the same token table Gradio uses, so a password change that ends a session
ends it here too; in single-learner mode the local learner.

Every POST and PUT sends JSON from this site (see ``_same_site_json``).

    POST /api/v1/quizzes/{quiz_id}/start          {} -> the attempt (stems, options, no answer key)
    PUT  /api/v1/attempts/{attempt_id}/answers    {"answers": {question id: [positions]}} -> draft saved
    POST /api/v1/attempts/{attempt_id}/submit     {"answers": {...}} -> the graded review
    GET  /api/v1/attempts/{attempt_id}            -> the review of a submitted attempt
    GET  /api/v1/results                          -> your grade per quiz
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from tutor.core import AccessError, Core, Viewer
from tutor.quiz.versions import QuizError

PREFIX = "/api/v1"
Answers = dict[str, list[int]]
AnswersBody = Annotated[Answers, Body(embed=True)]  # {"answers": {question id: [display positions]}}


def jsonable(items: list[tuple]) -> dict:
    """``asdict``'s dict_factory for results with datetimes: ISO strings."""
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in items}


def _same_site_json(request: Request) -> None:
    """Refuse a change that a page on another site could have made in the learner's name: Gradio's
    sign-in cookie is SameSite=None, so the browser sends it with cross-site requests too. A
    cross-site <form> cannot send application/json without a CORS preflight (which this app does
    not grant), and a browser names the page's site in Origin."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(415, "send the body as JSON (Content-Type: application/json), even when it is {}")
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise ApiError(403, f"a request from another site ({origin}) cannot change your attempts")


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def quiz_router(core: Core, user_of: Callable[[Request], str | None]) -> APIRouter:
    """The quiz routes; ``user_of`` names the signed-in user of a request (None: nobody)."""
    router = APIRouter(prefix=PREFIX)

    def viewer(request: Request) -> Viewer:
        _same_site_json(request)
        try:
            return core.viewer(user_of(request))
        except AccessError as exc:
            raise ApiError(401, str(exc)) from None

    def answered(call: Callable[[], Any]) -> JSONResponse:
        """Run a core call; its refusals become a status and a message, never a traceback."""
        try:
            return JSONResponse(call())
        except ApiError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except AccessError as exc:
            return JSONResponse({"error": str(exc)}, status_code=403)
        except KeyError as exc:
            return JSONResponse({"error": str(exc).strip("'\"")}, status_code=404)
        except QuizError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    @router.post("/quizzes/{quiz_id}/start")
    def start(quiz_id: str, request: Request) -> JSONResponse:
        return answered(lambda: asdict(core.start_quiz(viewer(request), quiz_id)))

    @router.put("/attempts/{attempt_id}/answers")
    def save(attempt_id: int, request: Request, answers: AnswersBody) -> JSONResponse:
        return answered(lambda: core.save_answers(viewer(request), attempt_id, answers) or {"saved": True})

    @router.post("/attempts/{attempt_id}/submit")
    def submit(attempt_id: int, request: Request, answers: Annotated[Answers | None, Body(embed=True)] = None):
        return answered(
            lambda: asdict(core.submit_quiz(viewer(request), attempt_id, answers or {}), dict_factory=jsonable)
        )

    @router.get("/attempts/{attempt_id}")
    def review(attempt_id: int, request: Request) -> JSONResponse:
        return answered(lambda: asdict(core.review_attempt(viewer(request), attempt_id), dict_factory=jsonable))

    @router.get("/results")
    def results(request: Request) -> JSONResponse:
        return answered(lambda: [asdict(summary) for summary in core.quiz_summaries(viewer(request))])

    return router


def gradio_session_user(demo) -> Callable[[Request], str | None]:
    """The user of a request by the Gradio sign-in cookie, looked up in the running app's tokens."""

    def user_of(request: Request) -> str | None:
        app = demo.server_app
        token = request.cookies.get(f"access-token-{app.cookie_id}") or request.cookies.get(
            f"access-token-unsecure-{app.cookie_id}"
        )
        return app.tokens.get(token) if token else None

    return user_of
