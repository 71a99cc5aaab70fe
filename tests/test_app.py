"""The web app, served for real and called through its API with gradio_client."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client.exceptions import AppError, AuthenticationError

from tests.conftest import HTTP_TIMEOUT_S, app_client, free_port, make_settings, serve
from tutor import accounts
from tutor.core import Core
from tutor.signin import MAX_ADDRESS_FAILURES, MAX_FAILURES, SWEEP_S
from tutor.store import open_store

pytestmark = pytest.mark.slow
LESSON_IDS = ["what-is-fine-tuning", "training-data", "hyperparameters-lora", "evaluation-deployment"]


REPO_ADAPTER = Path(__file__).resolve().parent.parent / "tutor" / "advisors" / "adapter"


@pytest.fixture
def single_app(tmp_path: Path) -> Iterator[str]:
    yield from serve(Core.start(make_settings(tmp_path, port=free_port())))


def radio_choices(config: dict, label: str) -> list[str]:
    for component in config["components"]:
        if component.get("type") == "radio" and component.get("props", {}).get("label") == label:
            return [value for _label, value in component["props"]["choices"]]
    raise AssertionError(f"no component labelled {label!r}")


def test_serves_four_lessons_and_the_reference_pages(single_app: str) -> None:
    config = httpx.get(single_app + "config", timeout=30).json()
    assert radio_choices(config, "Lessons") == LESSON_IDS
    assert len(radio_choices(config, "Reference pages")) >= 4
    client = app_client(single_app)
    for lesson_id in LESSON_IDS:
        nav, status, body = client.predict(lesson_id, api_name="/open_lesson")
        assert nav["value"] == lesson_id
        assert [value for _label, value in nav["choices"]] == LESSON_IDS
        assert body.startswith("# ") and "Key takeaway" in body
        assert "not completed yet" in status
    body = client.predict("peft-methods", api_name="/open_reference")
    assert "65,536" in body


@pytest.mark.skipif(
    not (REPO_ADAPTER / "README.md").is_file(), reason="no advisor adapter shipped yet (tutor advisor build --ship)"
)
def test_the_advisors_model_card_is_a_reference_page_linked_from_each_lab(single_app: str) -> None:
    config = httpx.get(single_app + "config", timeout=30).json()
    assert "advisor-model-card" in radio_choices(config, "Reference pages")
    body = app_client(single_app).predict("advisor-model-card", api_name="/open_reference")
    assert "## Intended use" in body and "## Evaluation" in body
    assert "?open=model-landscape#reading-a-model-card" in body  # read beside the module's checklist
    panels = [
        c["props"].get("value") or ""
        for c in config["components"]
        if str(c.get("props", {}).get("elem_id", "")).startswith("model-")
    ]
    assert len(panels) == 4, panels
    for panel in panels:
        assert "SmolLM2-135M-Instruct (packaged) + Advisor adapter v1" in panel
        assert "?open=advisor-model-card" in panel


def test_mark_complete_shows_in_lesson_list_and_progress(single_app: str) -> None:
    client = app_client(single_app)
    nav, status, _body = client.predict("training-data", api_name="/mark_complete")
    assert "✓ completed" in status and "1/4 lessons done" in status
    marks = {value: label[0] for label, value in nav["choices"]}
    assert marks == {
        "what-is-fine-tuning": "○",
        "training-data": "✓",
        "hyperparameters-lora": "○",
        "evaluation-deployment": "○",
    }
    summary, table, _quizzes = client.predict(api_name="/my_progress")
    assert "1 of 4 lessons complete" in summary
    done = {row[0]: row[1] for row in table["data"]}
    assert done["2. Building Your Training Dataset"] == "✓ done"
    assert done["1. What Fine-Tuning Actually Is"] == "not yet"
    # Undo through the app: the mark and the progress row go back.
    nav, status, _body = client.predict("training-data", api_name="/mark_incomplete")
    assert "not completed yet" in status and "0/4 lessons done" in status
    assert {label[0] for label, _value in nav["choices"]} == {"○"}
    summary, table, _quizzes = client.predict(api_name="/my_progress")
    assert "0 of 4 lessons complete" in summary
    assert all(row[1] == "not yet" for row in table["data"])


def test_an_upload_over_the_size_limit_is_refused_before_it_is_stored(single_app: str) -> None:
    too_big = b"x" * int(26e6)  # max_upload_mb is 25
    reply = httpx.post(single_app + "gradio_api/upload", files={"files": ("big.csv", too_big)}, timeout=60)
    assert reply.status_code == 413
    small = httpx.post(single_app + "gradio_api/upload", files={"files": ("ok.csv", b"text,label\n")}, timeout=60)
    assert small.status_code == 200


def test_unknown_lesson_is_a_clear_error(single_app: str) -> None:
    client = app_client(single_app)
    with pytest.raises(AppError, match=r"'nope'.*is not in the list of choices"):
        client.predict("nope", api_name="/open_lesson")


def test_class_mode_refuses_wrong_password_and_anonymous_calls(class_app: str) -> None:
    # Gradio answers a failed sign-in with 400, which gradio_client reports as this ValueError.
    with pytest.raises(ValueError, match="Could not login to"):
        app_client(class_app, auth=("ada", "wrong-password"))
    # Without a session the app does not even hand out its config, so no endpoint can be called.
    with pytest.raises(AuthenticationError, match="credentials were not provided"):
        app_client(class_app)
    assert httpx.post(
        class_app + "login", data={"username": "ada", "password": "nope"}, timeout=HTTP_TIMEOUT_S
    ).status_code in (400, 401)


def login_status(url: str, username: str, password: str, path: str = "login") -> int:
    reply = httpx.post(url + path, data={"username": username, "password": password}, timeout=HTTP_TIMEOUT_S)
    return reply.status_code


def test_password_guessing_is_throttled_through_the_login_page(class_app: str) -> None:
    assert login_status(class_app, "bob", "bob-password") == 200
    for n in range(MAX_FAILURES):
        assert login_status(class_app, "bob", f"guess-{n}") == 400
    assert login_status(class_app, "bob", "bob-password") == 429  # locked now, right password or not
    assert login_status(class_app, "ada", "ada-password") == 200  # other learners sign in as before


def test_guesses_spread_over_many_names_lock_the_address(class_app: str) -> None:
    """One guesser trying one password on each of many names stays under every name's limit; the
    address's count stops them (the tests' client is 127.0.0.1)."""
    for n in range(MAX_ADDRESS_FAILURES):  # Gradio also serves "/login/": it must count the same
        assert login_status(class_app, f"learner{n}", "Summer2026!", "login/" if n % 2 else "login") == 400
    reply = httpx.post(
        class_app + "login", data={"username": "ada", "password": "ada-password"}, timeout=HTTP_TIMEOUT_S
    )
    assert reply.status_code == 429 and "paused for about 15 min" in reply.text
    assert login_status(class_app, "ada", "ada-password", "login/") == 429


def test_a_new_password_ends_the_old_sessions(class_app: str, postgres_url: str) -> None:
    session = httpx.Client(timeout=HTTP_TIMEOUT_S)
    assert session.post(class_app + "login", data={"username": "ada", "password": "ada-password"}).status_code == 200
    assert session.get(class_app + "config").status_code == 200  # signed in: the app hands out its config
    store = open_store(postgres_url)
    accounts.set_password(store, "ada", "a-brand-new-password")  # what `tutor users passwd ada` does
    store.close()
    deadline = time.monotonic() + SWEEP_S * 3
    while session.get(class_app + "config").status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert session.get(class_app + "config").status_code == 401


def test_learners_see_only_their_own_progress(class_app: str) -> None:
    ada = app_client(class_app, auth=("ada", "ada-password"))
    bob = app_client(class_app, auth=("bob", "bob-password"))
    ada.predict("hyperparameters-lora", api_name="/mark_complete")
    ada_summary, _ada_table, _ = ada.predict(api_name="/my_progress")
    bob_summary, bob_table, _ = bob.predict(api_name="/my_progress")
    assert ada_summary.startswith("### ada: 1 of 4")
    assert bob_summary.startswith("### bob: 0 of 4")
    assert all(row[1] == "not yet" for row in bob_table["data"])


def wait_for(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise AssertionError(f"server did not answer at {url}")


def test_completion_survives_a_killed_server(tmp_path: Path) -> None:
    """`tutor serve` as `make run` starts it; kill -9 it; the restarted server still knows."""
    port = free_port()
    command = [sys.executable, "-m", "tutor", "--data-dir", str(tmp_path / "var"), "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}/"
    # No warm-up: building the index and converting the model would only slow this test down.
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TUTOR_WARM_UP": "false"}

    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_for(url, first)
        app_client(url).predict("evaluation-deployment", api_name="/mark_complete")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)

    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_for(url, second)
        summary, table, _ = app_client(url).predict(api_name="/my_progress")
        assert "1 of 4 lessons complete" in summary
        assert {row[0]: row[1] for row in table["data"]}["4. Evaluating & Deploying Your Fine-Tuned Model"] == "✓ done"
    finally:
        second.terminate()
        second.wait(timeout=30)
