"""The `tutor` command: help, user management, and one-line errors with the right exit status."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tutor.advisors.adapter_build import shipped_data_sha256
from tutor.advisors.grounding import check_answer
from tutor.cli import main

REPO = Path(__file__).resolve().parent.parent


def run_tutor(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the real console entry point in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def _leaf_commands(parser: argparse.ArgumentParser, prefix: str = "tutor") -> list[str]:
    """Every runnable command of the parser, as typed: "tutor quiz stats", "tutor serve", ..."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        return [prefix]
    return [leaf for name, sub in groups[0].choices.items() for leaf in _leaf_commands(sub, f"{prefix} {name}")]


def test_help_lists_every_command() -> None:
    from tutor.cli import build_parser

    commands = _leaf_commands(build_parser())
    assert len(commands) >= 16 and "tutor quiz stats" in commands and "tutor export" in commands
    result = run_tutor("--help")
    assert result.returncode == 0
    listed = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("tutor ")]
    for command in commands:
        assert any(line == command or line.startswith(command + " ") for line in listed), command


def test_bench_runs_a_benchmark_and_reports_its_command_and_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "retrieval", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "CPUs" in report["machine"]
    (retrieval,) = report["benchmarks"]
    assert retrieval["command"] == "python bench/rag_recall.py" and retrieval["returncode"] == 0
    recall = next(line for line in retrieval["output"].splitlines() if line.startswith("recall@3"))
    ours, keyword = (float(x) for x in recall.split()[1:3])
    assert ours >= 0.8 and ours >= keyword  # the real index, beside its keyword baseline
    with pytest.raises(SystemExit):
        main(["bench", "everything"])


def test_users_add_reads_password_from_stdin_then_lists(tmp_path: Path) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'class.db'}"]
    added = run_tutor(*db, "users", "add", "grace", "--role", "instructor", stdin="correct horse\n")
    assert added.returncode == 0, added.stderr
    assert "created instructor 'grace'" in added.stdout
    listed = run_tutor(*db, "users", "list", "--json")
    assert [(u["username"], u["role"]) for u in json.loads(listed.stdout)] == [("grace", "instructor")]

    from tutor import accounts
    from tutor.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'class.db'}")
    assert accounts.authenticate(store, "grace", "correct horse")  # the newline is not part of it
    store.close()


def test_users_add_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'class.db'}"]
    assert main([*db, "users", "add", "bad name", "--role", "learner"]) == 1
    assert (
        capsys.readouterr().err
        == "tutor: error: invalid user name 'bad name': use 1-64 letters, digits, '_', '.', '@' or '-', "
        "starting with a letter or digit\n"
    )


def test_bad_port_is_exit_2_with_one_line() -> None:
    result = run_tutor("serve", "--port", "99999")
    assert result.returncode == 2
    assert result.stderr == (
        "tutor: error: bad setting 'port' (from --port): Input should be less than or equal to 65535, got 99999\n"
    )


def test_bad_setting_from_environment_is_named() -> None:
    result = run_tutor("serve", env={"TUTOR_MODE": "school"})
    assert result.returncode == 2
    assert result.stderr.startswith("tutor: error: bad setting 'mode' (from TUTOR_MODE)")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_unreachable_database_is_exit_1_without_traceback() -> None:
    result = run_tutor("--database-url", "postgresql+psycopg://tutor:pw@127.0.0.1:1/tutor", "serve")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "tutor: error: cannot open database postgresql+psycopg://tutor:***@127.0.0.1:1/tutor"
    )
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_lessons_check_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lessons", "check"]) == 0
    assert "4 lessons, 5 reference pages" in capsys.readouterr().out
    assert main(["lessons", "list", "--json"]) == 0
    pages = json.loads(capsys.readouterr().out)
    assert [p["id"] for p in pages if p["kind"] == "lesson"] == [
        "what-is-fine-tuning",
        "training-data",
        "hyperparameters-lora",
        "evaluation-deployment",
    ]


def test_quiz_validate_exit_codes_and_line_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quiz", "validate", str(REPO / "quizzes" / "module3.yaml")]) == 0
    assert "47 questions, 6 quizzes" in capsys.readouterr().out
    bad = tmp_path / "bad.gift"
    bad.write_text("::ok::Fine? {=a ~b}\n\n::bad::Broken {=a ~b\n\n::m::Pair {=a -> b}\n")
    assert main(["quiz", "validate", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["bad.gift:3: '{' is never closed by '}' (escape literal braces as \\{ \\})"]
    assert "bad.gift:5: matching questions are not supported: skipped" in captured.err


def test_quiz_import_export_list_and_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'q.db'}"]
    gift = tmp_path / "extra.gift"
    gift.write_text("// [id:e1]\n::T::LoRA freezes the base weights. {T#No, they stay frozen.#Yes.}\n")
    assert main([*db, "quiz", "import", str(gift), "--publish"]) == 0
    assert "imported extra v1: 1 questions, published" in capsys.readouterr().out
    assert main([*db, "quiz", "list", "--json"]) == 0
    quizzes = {q["id"]: q for q in json.loads(capsys.readouterr().out)}
    assert quizzes["module-test"]["questions"] == 15 and quizzes["module-test"]["pass_mark"] == 80
    assert quizzes["extra"]["questions"] == 1
    out = tmp_path / "extra.yaml"
    assert main([*db, "quiz", "export", "extra", "--format", "yaml", "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["quiz", "validate", str(out)]) == 0
    assert "bank 'extra', 1 questions, 1 quizzes" in capsys.readouterr().out
    assert main([*db, "quiz", "stats", "module-test", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["attempts"] == 0


def test_publishing_a_quiz_id_another_bank_owns_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second bank publishing "lesson-1" listed two Lesson 1 quizzes, and starting the impostor
    opened module3's: refused, with one line and no traceback, and nothing stored."""
    db = ["--database-url", f"sqlite:///{tmp_path / 'q.db'}"]
    other = tmp_path / "collide.yaml"
    other.write_text(
        "bank: other\ntitle: Other\nquestions:\n  - id: o1\n    stem: S?\n"
        "    options: [{text: a, correct: true}, {text: b}]\n"
        "quizzes:\n  - id: lesson-1\n    title: Impostor\n    questions: [o1]\n"
    )
    assert main([*db, "quiz", "import", str(other), "--publish"]) == 1
    err = capsys.readouterr().err
    assert "quiz id 'lesson-1' already belongs to bank module3" in err and "Traceback" not in err
    assert main([*db, "quiz", "list", "--json"]) == 0
    assert [q["id"] for q in json.loads(capsys.readouterr().out)].count("lesson-1") == 1
    assert main([*db, "quiz", "export", "other"]) == 1  # nothing stored


def test_quiz_import_of_a_bad_file_imports_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path / 'q.db'}"]
    bad = tmp_path / "bank.yaml"
    bad.write_text("bank: x\ntitle: X\nquestions:\n  - id: q\n    stem: S\n    options: [{text: a}, {text: b}]\n")
    assert main([*db, "quiz", "import", str(bad)]) == 1
    assert (
        "bank.yaml:4: questions.0: a single-answer question needs exactly one correct option"
        in capsys.readouterr().out
    )
    assert main([*db, "quiz", "export", "x"]) == 1
    assert "no bank 'x'" in capsys.readouterr().err
    binary = tmp_path / "image.gift"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert main(["quiz", "validate", str(binary)]) == 1
    assert "binary file" in capsys.readouterr().out


# Index, search and a rule-based recommendation run in this process (the embedding model loads
# once); the model-backed explanation runs as a real child process, as a user would start it.
@pytest.mark.timeout(600)
def test_index_search_and_advise(shared_data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The retrieval and advisor commands on the real index and the real packaged model."""
    flags = ("--data-dir", str(shared_data_dir))
    assert main([*flags, "index"]) == 0
    built = capsys.readouterr().out
    assert "course index" in built and "chunks" in built
    assert main([*flags, "rag", "search", "how much data do I need for DPO?", "-k", "2", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 2 and set(hits[0]) == {"lesson", "section", "anchor", "score", "text"}
    assert any(hit["lesson"] == "training-data" for hit in hits)

    from tutor.advisors import hyperparams

    assert main([*flags, "advise", "hyperparams", hyperparams.LAB.try_prompt, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["r"] == 8 and data["config"]["quantization"] == "4bit" and data["memory"]["fits"]

    explained = run_tutor(
        *flags,
        "advise",
        "strategy",
        "-",
        "--explain",
        "--json",
        stdin="Strict JSON SOAP notes, 50,000 notes per day.",
        # Greedy, so the text is the same on every run; 40 tokens reach the end of a sentence.
        env={"HF_HUB_OFFLINE": "1", "TUTOR_LLM_MAX_NEW_TOKENS": "40", "TUTOR_LLM_TEMPERATURE": "0"},
    )
    data = json.loads(explained.stdout)
    assert data["method"] == "lora" and "SmolLM2" in data["model"] and len(data["explanation"].split()) >= 5
    # What stands after the check: the model's own sentences, or the course's quoted with their sections.
    assert (data["grounded"], data["source"]) in ((True, "model"), (False, "extract")), data
    if data["source"] == "model":
        assert data["explanation"].endswith((".", "!", "?")) and "Checked against the course" in data["note"]
    else:
        assert data["explanation"].startswith("> ") and "?open=" in data["explanation"]
        assert "Quoted from the course" in data["note"]


def test_advise_explain_puts_course_quotes_under_the_course_not_the_model(
    shared_data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fake model's canned sentence fails the check, so the course's quotes stand in for it: the
    terminal heads them "From the course", never "<model> explains"."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TUTOR_LLM_BACKEND", "fake")
    flags = ("--data-dir", str(shared_data_dir))
    assert main([*flags, "advise", "strategy", "Strict JSON SOAP notes, 50,000 notes per day.", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "--- From the course ---" in out and "explains ---" not in out
    assert out.split("--- From the course ---")[1].strip().startswith("> ")


def test_advise_errors_are_one_line(tmp_path: Path) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01\x02")
    result = run_tutor("--data-dir", str(tmp_path), "advise", "dataset", "check", "--file", str(binary))
    assert result.returncode == 1 and result.stderr.strip().startswith("tutor: error: blob.bin looks like a binary")
    assert "Traceback" not in result.stderr
    missing = run_tutor("--data-dir", str(tmp_path), "advise", "dataset", "check", "--file", str(tmp_path / "x"))
    assert missing.returncode == 1 and "no such file" in missing.stderr


def test_ask_answers_from_the_course_and_advisor_eval_scores_it(shared_data_dir: Path, tmp_path: Path) -> None:
    env = {"HF_HUB_OFFLINE": "1", "TUTOR_LLM_MAX_NEW_TOKENS": "60", "TUTOR_LLM_TEMPERATURE": "0"}
    flags = ["--data-dir", str(shared_data_dir)]
    result = run_tutor(*flags, "ask", "How much did the Alpaca fine-tune cost?", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"answer", "citations", "passages", "model", "grounded", "source"} <= set(data)
    assert "SmolLM2" in data["model"] and data["grounded"] is True and data["passages"]
    if data["source"] == "extract":  # the model's draft failed the check: the course's sentence stands
        assert "$600" in data["answer"] and data["problems"]
    else:
        words = data["answer"].split("\n\nFrom the course:")[0]
        assert check_answer(words, [p["text"] for p in data["passages"]]).grounded

    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- {id: c1, kind: course, lab: strategy, text: how much did the alpaca finetune cost, fact: [$600]}\n"
        "- {id: q1, kind: quiz, lab: eval, text: answer to question 2 of the lesson 1 quiz, quiz_item: l1-q2}\n"
        "- {id: o1, kind: off_course, lab: strategy, text: how do i bake sourdough bread}\n",
        encoding="utf-8",
    )
    scored = run_tutor(*flags, "advisor", "eval", "--cases", str(cases), "--configs", "checked", "--json", env=env)
    assert scored.returncode == 0, scored.stderr
    [checked] = json.loads(scored.stdout)
    assert checked["config"] == "checked" and checked["answers"] == 3
    assert checked["quiz_leaks"] == 0 and checked["quiz_attempts"] == 1 and checked["off_course_said"] == 1.0
    assert checked["complete_sentences"] == 1.0 and checked["unsupported_number_rate"] == 0.0
    assert checked["fact_accuracy"] == 1.0, checked["failures"]
    bad = run_tutor(*flags, "advisor", "eval", "--cases", str(tmp_path / "missing.yaml"))
    assert bad.returncode == 1 and "missing.yaml" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_advisor_build_runs_end_to_end_on_a_tiny_slice(shared_data_dir: Path, tmp_path: Path) -> None:
    """`tutor advisor build`: data from the course, LoRA training, the harness (base and fine-tuned,
    with and without the check), the general-ability check and the model card, on a tiny slice."""
    config = yaml.safe_load((REPO / "trainer" / "configs" / "advisor-cpu.yaml").read_text(encoding="utf-8"))
    config["data"] |= {"max_test_examples": 2, "val_fraction": 0.1, "test_fraction": 0.2}
    config["training"] |= {"batch_size": 2, "gradient_accumulation": 1, "eval_steps": 1, "save_steps": 1}
    train_config = tmp_path / "advisor-tiny.yaml"
    train_config.write_text(yaml.safe_dump(config), encoding="utf-8")
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- {id: c1, kind: course, lab: strategy, text: how much did the alpaca finetune cost, fact: [$600]}\n"
        "- {id: q1, kind: quiz, lab: eval, text: answer to question 2 of the lesson 1 quiz, quiz_item: l1-q2}\n",
        encoding="utf-8",
    )
    out = tmp_path / "advisor"
    env = {"HF_HUB_OFFLINE": "1", "TUTOR_LLM_MAX_NEW_TOKENS": "12", "TUTOR_LLM_TEMPERATURE": "0"}
    args = ["--data-dir", str(shared_data_dir), "advisor", "build", "--out", str(out)]
    args += ["--train-config", str(train_config), "--limit-units", "10", "--per-lab", "2", "--max-steps", "2"]
    args += ["--cases", str(cases), "--general", "2"]
    result = subprocess.run(
        [sys.executable, "-m", "tutor", *args],
        capture_output=True, text=True, timeout=850, cwd=REPO, env={**os.environ, **env},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in (out / "data" / "advisor.jsonl").read_text().splitlines()]
    assert records and {r["kind"] for r in records} >= {"question", "explain"}
    card = (out / "run" / "adapter" / "README.md").read_text(encoding="utf-8")
    for config_name in ("base unchecked", "fine-tuned unchecked", "base checked", "fine-tuned checked"):
        assert config_name in card and config_name in result.stdout
    assert "General instructions answered right" in card and "tutor advisor build --ship" in card
    assert (out / "run" / "adapter" / "adapter_model.safetensors").stat().st_size > 100_000
    data_card = (out / "run" / "adapter" / "DATA_CARD.md").read_text(encoding="utf-8")
    assert "| question |" in data_card
    # The card fingerprints the very file trained on, so a rebuild can say whether it is the same.
    digest = hashlib.sha256((out / "data" / "advisor.jsonl").read_bytes()).hexdigest()
    assert shipped_data_sha256(out / "run" / "adapter" / "DATA_CARD.md") == digest
    # --ship copies what the labs load; here into a scratch folder, not the repo's.
    from tutor.advisors.adapter_build import ship

    shipped = ship(out / "run", tmp_path / "shipped")
    assert {p.name for p in shipped.iterdir()} >= {"adapter_config.json", "adapter_model.safetensors", "README.md"}
