"""Fine-Tuning Tutor: assembles the tabs and launches the web app.

Run it with ``tutor serve`` (or ``make run``); ``python app.py`` does the same with default settings.
"""

from __future__ import annotations

import sys
import threading

import gradio as gr
from starlette.middleware import Middleware

from labs.advisor_tab import build_advisors_tab
from labs.identity import viewer_of
from labs.instructor_tab import build_instructor_tab
from labs.lessons_tab import build_lessons_tab
from labs.models_tab import build_models_tab
from labs.progress_tab import build_progress_tab
from labs.qlora_tab import build_qlora_tab, wire_open_in_lab
from labs.quiz_tab import build_quiz_tab
from labs.reference_tab import build_reference_tab
from tutor import accounts
from tutor.advisors.model_card import CARD_PAGE, card_markdown
from tutor.core import Core
from tutor.signin import LoginAddress, SessionSweeper, SignIn
from tutor.training_lab import LabError
from tutor.web_api import gradio_session_user, quiz_router

# Gradio opens Markdown links in a new tab. Links between course pages (``?open=<id>``) should
# behave like a book's cross-references instead: open in the same tab, where the load handler
# routes to the page.
SAME_TAB_LINKS = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="?open="]');
  if (!link) return;
  event.preventDefault();
  window.location.assign(link.getAttribute("href"));
}, true);
</script>
"""


def build_app(core: Core) -> gr.Blocks:
    """The whole UI as a Blocks object (not launched), so tests can launch it themselves."""
    # Uploads and downloads in Gradio's cache go after a day (the lab keeps its own copy of an upload).
    with gr.Blocks(title=core.settings.title, delete_cache=(3600, 24 * 3600)) as demo:
        header = gr.Markdown(f"# {core.settings.title}\nModule 3: Fine-Tuning — learn it by doing it.")
        with gr.Tabs(selected="lessons") as tabs:
            with gr.Tab("Lessons", id="lessons"):
                lessons = build_lessons_tab(core, tabs)
            with gr.Tab("Quizzes", id="quizzes") as quizzes_tab:
                quizzes = build_quiz_tab(core)
            with gr.Tab("Advisor labs", id="advisors"):
                advisor_restorers, open_in_lab = build_advisors_tab(core)
            with gr.Tab("QLoRA lab", id="qlora"):
                qlora_restore, qlora_outputs, qlora_config = build_qlora_tab(core)
            with gr.Tab("Local models", id="models"):
                models_restore, models_outputs = build_models_tab(core)
            with gr.Tab("Reference", id="reference"):
                reference = build_reference_tab(core)
            with gr.Tab("My progress", id="progress") as progress_tab:
                progress = build_progress_tab(core)
            with gr.Tab("Instructor", id="instructor", visible=False) as instructor_tab:
                instructor = build_instructor_tab(core)
        wire_open_in_lab(core, tabs, open_in_lab.button, open_in_lab.recommendation, qlora_config)

        def route(request: gr.Request) -> tuple:
            """On page load: greet the user, show instructor tools to instructors, and follow a
            ``?open=<id>`` deep link (in-page links between lessons use it)."""
            viewer = viewer_of(core, request)
            who = f"Signed in as **{viewer.username}** ({viewer.role}) · [Sign out](/logout)"
            if core.settings.mode == "single":
                who = f"Learning as **{viewer.username}** (single-learner mode)"
            greeting = f"# {core.settings.title}\nModule 3: Fine-Tuning — learn it by doing it. {who}"
            # Not "?page=": Gradio 6 reserves that parameter for its own multipage apps.
            page_id = (request.query_params.get("open") if request else None) or ""
            page = core.course.get(page_id.split("#")[0])
            # Without a deep link the tabs are left alone: on a slow load the learner may already
            # have opened another tab, and selecting Lessons here would pull them back.
            tab, lesson_value, reference_value = gr.skip(), gr.Radio(), gr.Radio()
            if page is not None and page.meta.kind == "lesson":
                tab, lesson_value = gr.Tabs(selected="lessons"), gr.Radio(value=page.id)
            elif page is not None:
                tab, reference_value = gr.Tabs(selected="reference"), gr.Radio(value=page.id)
            elif page_id == CARD_PAGE and card_markdown(core.settings):
                tab, reference_value = gr.Tabs(selected="reference"), gr.Radio(value=CARD_PAGE)
            return (
                greeting,
                tab,
                lesson_value,
                reference_value,
                gr.Tab(visible=viewer.is_instructor),
            )

        demo.load(
            route,
            outputs=[header, tabs, lessons.nav, reference.nav, instructor_tab],
            api_visibility="private",
        ).then(lessons.open_lesson, inputs=lessons.nav, outputs=lessons.outputs, api_visibility="private").then(
            None, js=SCROLL_TO_SECTION
        )
        for restore, restore_outputs in advisor_restorers:
            demo.load(restore, outputs=restore_outputs, api_visibility="private")
        demo.load(qlora_restore, outputs=qlora_outputs, api_visibility="private")
        demo.load(models_restore, outputs=models_outputs, api_visibility="private")
        progress_tab.select(progress.refresh, outputs=progress.outputs, api_visibility="private")
        quizzes_tab.select(quizzes.refresh, outputs=quizzes.picker, api_visibility="private")
        # Lists filled each time the tab opens: a bank imported elsewhere (the CLI) shows at once.
        instructor_tab.select(
            instructor.refresh, inputs=instructor.inputs, outputs=instructor.outputs, api_visibility="private"
        )
        lessons.quiz_btn.click(
            lambda lesson_id: (gr.Tabs(selected="quizzes"), gr.Radio(value=core.quiz_for_lesson(lesson_id))),
            inputs=lessons.nav,
            outputs=[tabs, quizzes.picker],
            api_visibility="private",
        )
    return demo


# A deep link's "#section" names a heading, whose element id the rendered Markdown prefixes with
# "h-". The page's text arrives after the load event, so the heading is looked for until it is there
# (or 10 s have passed), then scrolled to: a cited section opens at that section, not at the top.
SCROLL_TO_SECTION = """() => {
  const id = decodeURIComponent(window.location.hash.slice(1));
  if (!id) return;
  let tries = 0;
  const timer = setInterval(() => {
    const heading = document.getElementById("h-" + id) || document.getElementById(id);
    if (heading) { heading.scrollIntoView({block: "start"}); clearInterval(timer); }
    else if (++tries > 100) clearInterval(timer);
  }, 100);
}"""


def _end_sessions_on_password_change(core: Core, demo: gr.Blocks) -> None:
    """``tutor users passwd`` runs in another process: a thread of the server notices the new hash
    and drops that user's sessions (Gradio keeps them in ``server_app.tokens``)."""
    sweeper = SessionSweeper(lambda: accounts.password_hashes(core.store))

    def tokens() -> dict[str, str] | None:
        return getattr(getattr(demo, "server_app", None), "tokens", None)

    threading.Thread(target=sweeper.run, args=(tokens, threading.Event()), daemon=True).start()


def launch(core: Core, *, prevent_thread_lock: bool = False) -> gr.Blocks:
    """Start the web server with the settings' host, port and sign-in mode."""
    demo = build_app(core)
    try:
        core.qlora.start()  # queued training runs go on after a restart
    except LabError as exc:  # a Ray cluster not up yet: the app serves; starting a run says why it cannot
        print(f"warning: QLoRA lab runs cannot start: {exc}", file=sys.stderr)
    # Class mode: Gradio awaits the password check, which runs in a thread and throttles guesses.
    auth = SignIn(core.authenticate).check if core.settings.mode == "class" else None
    if auth is not None:
        _end_sessions_on_password_change(core, demo)
    demo.queue(default_concurrency_limit=8, max_size=core.settings.queue_max_size)
    demo.launch(
        server_name=core.settings.host,
        server_port=core.settings.port,
        auth=auth,
        auth_message="Sign in with the account your instructor created for you.",
        theme=gr.themes.Soft(),
        head=SAME_TAB_LINKS,
        footer_links=["api"],
        prevent_thread_lock=True,  # the quiz API's routes join the running app below
        quiet=True,
        max_file_size=core.settings.max_upload_bytes,  # Gradio refuses a bigger upload before storing it
        show_error=False,  # our refusals are gr.Error (always shown); other exceptions stay in the log
        # The sign-in throttle counts wrong passwords per address too; Gradio's /login does not pass it on.
        app_kwargs={"middleware": [Middleware(LoginAddress)]},
    )
    # Quiz calls as plain HTTP routes beside Gradio's (no queue, no event stream; tutor/web_api.py).
    demo.server_app.include_router(quiz_router(core, gradio_session_user(demo)))
    if not prevent_thread_lock:
        demo.block_thread()
    return demo


if __name__ == "__main__":
    from tutor.settings import load_settings

    launch(Core.start(load_settings()))
