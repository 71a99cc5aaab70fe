"""``tutor models …``: every command of the Local models lab, run as a user runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_cli import run_tutor

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def models(tmp_path: Path, *args: str):
    return run_tutor("--data-dir", str(tmp_path / "var"), "models", *args, env={"TUTOR_WARM_UP": "false"})


def test_list_quantize_chat_and_bench(tmp_path: Path) -> None:
    listed = models(tmp_path, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    ids = {m["id"]: m for m in json.loads(listed.stdout)}
    assert ids["packaged"]["quantization"] == "Q4_1" and ids["packaged"]["format"] == "GGUF"

    bad = models(tmp_path, "quantize", "packaged", "--type", "Q9")
    assert bad.returncode == 1 and bad.stderr.startswith("tutor: error: unknown quantization type 'Q9'")
    missing = models(tmp_path, "quantize", str(tmp_path / "nope.gguf"), "--type", "Q8_0")
    assert missing.returncode == 1 and "nope.gguf: no such file" in missing.stderr

    made = models(tmp_path, "quantize", "packaged", "--type", "Q4_K_M", "--json")
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["qtype"] == "Q4_K_M" and Path(result["path"]).is_file()
    assert result["fallback_tensors"] > 0  # SmolLM2's rows of 576 are not a multiple of 256

    chat = models(tmp_path, "chat", "quant:smollm2-135m-instruct.Q4_K_M", "Name a colour.", "--max-tokens", "16",
                  "--temperature", "0", "--json")  # fmt: skip
    assert chat.returncode == 0, chat.stderr
    reply = json.loads(chat.stdout)
    assert reply["reply"] and reply["tokens"] >= 1 and reply["tokens_per_s"] >= 0 and reply["first_token_s"] > 0

    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "Which format does llama.cpp run?", "fact": ["GGUF"]}\n', encoding="utf-8")
    bench = models(tmp_path, "bench", "--models", f"packaged,{result['path']}", "--prompts", str(prompts),
                   "--json", "--out", str(tmp_path / "report.md"))  # fmt: skip
    assert bench.returncode == 0, bench.stderr
    data = json.loads(bench.stdout)
    assert [m["quantization"] for m in data["models"]] == ["Q4_1", "Q4_K_M"] and data["metric"] == "fact match"
    assert all(m["tokens_per_s"] and m["peak_memory_mb"] and m["cost_per_million"] for m in data["models"])
    assert "| model | format | size MB |" in (tmp_path / "report.md").read_text(encoding="utf-8")
    history = models(tmp_path, "history", "--json")
    assert [h["id"] for h in json.loads(history.stdout)] == [data["id"]]

    broken = tmp_path / "broken.yaml"
    broken.write_text("- prompt: [unclosed\n", encoding="utf-8")
    refused = models(tmp_path, "bench", "--models", "packaged", "--prompts", str(broken))
    assert refused.returncode == 1 and re.search(r"broken\.yaml:\d+: not valid YAML \(.+\)", refused.stderr)


def test_quickstart_compares_three_quantization_levels(tmp_path: Path) -> None:
    quick = models(tmp_path, "quickstart", "--json")
    assert quick.returncode == 0, quick.stderr
    data = json.loads(quick.stdout)
    assert [m["quantization"] for m in data["models"]] == ["Q4_1", "Q8_0", "F16"]
    assert data["metric"] == "accuracy" and len(data["prompts"]) == 10
    assert len(data["speed_direction"]) == 2  # Q4_1 against Q8_0, Q8_0 against F16


def test_card_server_and_their_errors(tmp_path: Path) -> None:
    card = models(tmp_path, "card", "packaged", "--json")
    assert card.returncode == 0, card.stderr
    view = json.loads(card.stdout)
    assert view["card"].startswith("# SmolLM2-135M-Instruct") and view["saved"] is False
    marked = models(tmp_path, "card", "packaged", "--mark", "compute=missing", "--note", "No energy figure.")
    assert marked.returncode == 0, marked.stderr
    again = json.loads(models(tmp_path, "card", "packaged", "--json").stdout)
    assert again["saved"] and again["states"]["compute"] == "missing" and again["note"] == "No energy figure."
    wrong = models(tmp_path, "card", "packaged", "--mark", "compute=perhaps")
    assert wrong.returncode == 1 and "'perhaps' is not one of documented, partly, missing" in wrong.stderr

    added = models(tmp_path, "server", "add", "ollama", "http://localhost:11434/v1", "--model", "llama3.2",
                   "--price", "0.25")  # fmt: skip
    assert added.returncode == 0 and "added server:ollama" in added.stdout, added.stderr
    servers = [m for m in json.loads(models(tmp_path, "list", "--json").stdout) if m["source"] == "server"]
    assert [(m["id"], m["price_per_million"]) for m in servers] == [("server:ollama", 0.25)]
    bad = models(tmp_path, "server", "add", "x", "ftp://nowhere")
    assert bad.returncode == 1 and "not an http:// or https:// URL" in bad.stderr
    removed = models(tmp_path, "server", "remove", "ollama")
    assert removed.returncode == 0
    gone = models(tmp_path, "server", "remove", "ollama")
    assert gone.returncode == 1 and "no server 'ollama'" in gone.stderr
