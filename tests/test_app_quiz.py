"""Quizzes through the served app: take and grade a quiz, nothing secret reaches the client
before submission, and learners cannot read each other's attempts or call instructor tools."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import HTTP_TIMEOUT_S, app_client
from tests.data.quiz_bank import BANK, right_positions

pytestmark = pytest.mark.slow


def secrets() -> list[str]:
    """Text that must not reach a learner before submitting: all feedback of every question."""
    found = []
    for question in BANK.questions:
        found += [option.feedback for option in question.options if option.feedback]
        if question.general_feedback:
            found.append(question.general_feedback)
    return found


def test_take_and_pass_the_module_test(class_app: str) -> None:
    ada = app_client(class_app, auth=("ada", "ada-password"))
    view = ada.predict("module-test", api_name="/quiz_start")
    assert len(view["questions"]) == 15
    result = ada.predict(view["attempt_id"], right_positions(view), api_name="/quiz_submit")
    assert (result["score"], result["percent"], result["passed"]) == (15, 100, True)
    again = ada.predict(view["attempt_id"], {}, api_name="/quiz_submit")  # double submit
    assert again["submitted_at"] == result["submitted_at"] and again["score"] == 15
    _summary, _lessons, quizzes = ada.predict(api_name="/my_progress")
    row = next(r for r in quizzes["data"] if r[0] == "Module 3 test: Fine-Tuning")
    assert row[1:] == ["1", "100%", "passed"]


def test_nothing_secret_reaches_the_client_before_submission(class_app: str) -> None:
    ada = app_client(class_app, auth=("ada", "ada-password"))
    received = []
    for quiz_id in ["lesson-1", "lesson-2", "lesson-3", "lesson-4", "module-test", "practice"]:
        view = ada.predict(quiz_id, api_name="/quiz_start")
        ada.predict(view["attempt_id"], {view["questions"][0]["question_id"]: [1]}, api_name="/quiz_save")
        received.append(json.dumps(ada.predict(quiz_id, api_name="/quiz_start")))  # resumed, with the draft
    cookies = ada.cookies if hasattr(ada, "cookies") else {}
    with httpx.Client(cookies=cookies, timeout=HTTP_TIMEOUT_S) as http:
        login = http.post(class_app + "login", data={"username": "ada", "password": "ada-password"})
        assert login.status_code == 200
        received.append(http.get(class_app + "config").text)
        received.append(http.get(class_app + "gradio_api/info").text)
        received.append(http.get(class_app).text)
    everything = "\n".join(received)
    leaked = [text for text in secrets() if json.dumps(text)[1:-1] in everything or text in everything]
    assert leaked == []
    assert '"weight"' not in everything and '"correct"' not in everything


def test_learners_cannot_read_each_others_attempts(class_app: str) -> None:
    ada = app_client(class_app, auth=("ada", "ada-password"))
    bob = app_client(class_app, auth=("bob", "bob-password"))
    view = ada.predict("lesson-2", api_name="/quiz_start")
    ada.predict(view["attempt_id"], right_positions(view), api_name="/quiz_submit")
    with pytest.raises(Exception, match="no attempt"):
        bob.predict(view["attempt_id"], api_name="/quiz_review")
    with pytest.raises(Exception, match="no attempt"):
        bob.predict(view["attempt_id"], {}, api_name="/quiz_submit")
    assert all(s["attempts"] == 0 for s in bob.predict(api_name="/quiz_results"))


def signed_in(url: str, username: str) -> httpx.Client:
    """A plain HTTP client with the learner's Gradio session cookie, as a browser has after /login."""
    http = httpx.Client(base_url=url, timeout=HTTP_TIMEOUT_S)
    assert http.post("login", data={"username": username, "password": f"{username}-password"}).status_code == 200
    return http


def test_the_quiz_over_plain_http_routes(class_app: str) -> None:
    """/api/v1: the same quiz as the tab and the Gradio endpoints, without Gradio's queue; who asks
    comes from the sign-in cookie, and every refusal is a status with a message."""
    ada, bob = signed_in(class_app, "ada"), signed_in(class_app, "bob")
    view = ada.post("api/v1/quizzes/module-test/start", json={}).json()
    assert len(view["questions"]) == 15 and '"correct"' not in json.dumps(view)
    first = view["questions"][0]["question_id"]
    assert ada.put(f"api/v1/attempts/{view['attempt_id']}/answers", json={"answers": {first: [1]}}).json() == {
        "saved": True
    }
    resumed = ada.post("api/v1/quizzes/module-test/start", json={}).json()
    assert resumed["attempt_id"] == view["attempt_id"] and resumed["questions"][0]["selected"] == [1]
    # Another learner, or nobody, gets a refusal; ada's attempt stays open and unchanged.
    refused = bob.post(f"api/v1/attempts/{view['attempt_id']}/submit", json={"answers": {}})
    assert refused.status_code == 400 and refused.json()["error"].startswith("no attempt")
    assert httpx.get(class_app + "api/v1/results", timeout=HTTP_TIMEOUT_S).json() == {"error": "sign in first"}
    bad = ada.post(f"api/v1/attempts/{view['attempt_id']}/submit", json={"answers": "all of them"})
    assert bad.status_code == 422 and "answers" in bad.text
    result = ada.post(f"api/v1/attempts/{view['attempt_id']}/submit", json={"answers": right_positions(view)})
    assert result.status_code == 200
    assert (result.json()["score"], result.json()["percent"], result.json()["passed"]) == (15, 100, True)
    again = ada.post(f"api/v1/attempts/{view['attempt_id']}/submit", json={}).json()  # double submit
    assert again["submitted_at"] == result.json()["submitted_at"] and again["score"] == 15
    assert ada.get(f"api/v1/attempts/{view['attempt_id']}").json()["score"] == 15
    grades = {s["quiz_id"]: s for s in ada.get("api/v1/results").json()}
    assert grades["module-test"]["attempts"] == 1
    assert bob.post("api/v1/quizzes/no-such-quiz/start", json={}).status_code in (400, 404)


def test_another_site_cannot_submit_a_learners_attempt(class_app: str) -> None:
    """The sign-in cookie goes with cross-site requests (Gradio sets it SameSite=None), so a page
    elsewhere could post a form to the routes in the learner's name: every change must be JSON
    (a form cannot send it without the browser asking the server first) from this site."""
    ada = signed_in(class_app, "ada")
    attempt = ada.post("api/v1/quizzes/lesson-1/start", json={}).json()["attempt_id"]
    form = ada.post(f"api/v1/attempts/{attempt}/submit", data={"answers": "{}"})  # what a forged <form> sends
    assert form.status_code == 415 and "application/json" in form.json()["error"]
    assert ada.post("api/v1/quizzes/lesson-2/start", content=b"").status_code == 415
    elsewhere = ada.post(f"api/v1/attempts/{attempt}/submit", json={}, headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403 and "another site" in elsewhere.json()["error"]
    assert ada.get(f"api/v1/attempts/{attempt}").json() == {"error": "submit the attempt before reviewing it"}
    here = ada.post(f"api/v1/attempts/{attempt}/submit", json={}, headers={"Origin": class_app.rstrip("/")})
    assert here.status_code == 200 and here.json()["submitted_at"]


INSTRUCTOR_ENDPOINTS = [
    ("/gradebook", ()),
    ("/quiz_stats", ("lesson-1",)),
    ("/publish_bank", ("module3",)),
    ("/export_bank", ("module3", "gift")),
    ("/bank_versions", ()),
]


@pytest.mark.parametrize(("endpoint", "args"), INSTRUCTOR_ENDPOINTS, ids=[e for e, _ in INSTRUCTOR_ENDPOINTS])
def test_learners_cannot_call_instructor_tools(class_app: str, endpoint: str, args: tuple) -> None:
    ada = app_client(class_app, auth=("ada", "ada-password"))
    with pytest.raises(Exception, match="only instructors"):
        ada.predict(*args, api_name=endpoint)


def test_instructor_imports_gift_publishes_and_analyses(class_app: str, tmp_path: Path) -> None:
    from gradio_client import handle_file

    grace = app_client(class_app, auth=("grace", "grace-password"))
    bad = tmp_path / "broken.gift"
    bad.write_text("::a::Fine? {=yes ~no}\n\n::b::Unclosed {=x ~y\n")
    report = grace.predict(handle_file(str(bad)), api_name="/import_bank")
    assert "Nothing imported" in report and "broken.gift:3:" in report

    good = tmp_path / "extra-lora.gift"
    good.write_text(
        "// [id:e1] [lesson:hyperparameters-lora]\n::Alpha::Usual alpha for r=8? {=16 #Yes ~4 #No ~64 #No}\n"
        "\n::Match::Pair them {=a -> b =c -> d}\n"
    )
    report = grace.predict(handle_file(str(good)), api_name="/import_bank")
    assert "Imported `extra-lora`: 1 questions" in report and "matching questions are not supported" in report
    assert "Published `extra-lora` v1" in grace.predict("extra-lora", api_name="/publish_bank")

    ada = app_client(class_app, auth=("ada", "ada-password"))
    view = ada.predict("extra-lora", api_name="/quiz_start")
    position = view["questions"][0]["options"].index("16") + 1
    assert ada.predict(view["attempt_id"], {"e1": [position]}, api_name="/quiz_submit")["percent"] == 100

    exported = Path(grace.predict("extra-lora", "gift", api_name="/export_bank")).read_text()
    assert "// [id:e1] [lesson:hyperparameters-lora]" in exported and "=16 #Yes" in exported
    gradebook = Path(grace.predict(api_name="/gradebook")).read_text().splitlines()
    assert gradebook[0].startswith("username,") and "extra-lora grade %" in gradebook[0]
    ada_row = next(line for line in gradebook if line.startswith("ada,"))
    assert ",100.0,1" in ada_row
    text, rows, _plot = grace.predict("extra-lora", api_name="/quiz_stats")
    assert "1 learner, first attempt of each (1 attempt submitted)" in text and "too few" in text
    assert rows["data"][0][:3] == ["e1", 1, "100"]  # whole percents: one attempt is no precise measure
