"""The one typed settings object of the app.

Values are read once at start, in this order, later sources winning:

1. defaults below;
2. a TOML file (``--config FILE``, else ``$TUTOR_CONFIG``, else ``./tutor.toml`` when it exists);
3. environment variables ``TUTOR_<NAME>`` (e.g. ``TUTOR_PORT=8080``);
4. command-line flags (``tutor serve --port 8080``).

Anything wrong gives a :class:`SettingsError` whose message is one line naming the setting and
where its value came from, so ``tutor`` can print it instead of a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

# The repository root: lessons/ and quizzes/ live beside the packages in an editable install.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "TUTOR_"
# Environment variables with the prefix that are not settings (the file location, test hooks).
_ENV_NOT_SETTINGS = {"TUTOR_CONFIG", "TUTOR_TEST_DATABASE_URL"}


class SettingsError(ValueError):
    """A bad setting; the message is a single line meant for the user."""


class Settings(BaseModel):
    """Everything the app can be configured with. Each field documents itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["single", "class"] = Field(
        "single",
        description="'single': one local learner, no password (a laptop). "
        "'class': accounts in the database, sign-in required, roles learner and instructor.",
    )
    open_single_mode: bool = Field(
        False,
        description="Allow single mode on an address other computers reach (e.g. 0.0.0.0): whoever reaches the "
        "port is the one learner, with no password, and can train, upload and fill the disk. Off: refuse to start.",
    )
    host: str = Field("127.0.0.1", min_length=1, description="Address the web server listens on.")
    port: int = Field(7860, ge=1, le=65535, description="Port the web server listens on.")
    data_dir: Path = Field(
        Path("var"), description="Folder for runtime data (SQLite database, indexes, training runs)."
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the database. Empty: a SQLite file in data_dir. "
        "Example for a class: postgresql+psycopg://tutor:secret@db.example.org/tutor",
    )
    lessons_dir: Path = Field(PROJECT_ROOT / "lessons", description="Folder holding the lesson Markdown files.")
    quizzes_dir: Path = Field(PROJECT_ROOT / "quizzes", description="Folder holding the quiz banks.")
    learner_name: str = Field(
        "learner", min_length=1, max_length=64, description="Name of the local learner in single mode."
    )
    title: str = Field("Fine-Tuning Tutor", min_length=1, description="Title shown in the browser and header.")

    # --- advisor labs: language model ---------------------------------------------------------
    llm_backend: Literal["auto", "transformers", "llamacpp", "openai", "fake"] = Field(
        "auto",
        description="How the advisors generate text: 'auto' (llamacpp when llama-cpp-python is installed, "
        "else transformers), 'transformers' (PyTorch), 'llamacpp' (a GGUF file through llama.cpp, about 3x "
        "faster on a CPU), 'openai' (any OpenAI-compatible server such as Ollama or vLLM, see llm_base_url), "
        "'fake' (canned text, for tests).",
    )
    llm_model: str = Field(
        "",
        description="Model to load. Empty: the packaged SmolLM2-135M-Instruct (GGUF, works offline). "
        "Else a local folder, a .gguf file, a Hugging Face Hub id (needs a network), or the model "
        "name the server knows (openai backend).",
    )
    llm_adapter: str = Field(
        "",
        description="PEFT (LoRA) adapter to put on the model (transformers and llamacpp backends; llama.cpp "
        "applies it on the packaged model only). Empty: the advisor "
        "adapter shipped with the app (tutor/advisors/adapter, trained on the course) when the model is the "
        "packaged one. 'none': the base model alone. Else the adapter's folder.",
    )
    llm_base_url: str = Field(
        "", description="Base URL of an OpenAI-compatible server, e.g. http://localhost:11434/v1 for Ollama."
    )
    llm_api_key: str = Field("", description="API key for the OpenAI-compatible server (many local ones need none).")
    llm_max_new_tokens: int = Field(160, ge=1, le=4096, description="Longest explanation an advisor generates.")
    llm_temperature: float = Field(0.3, ge=0.0, le=2.0, description="Sampling temperature; 0 = greedy.")
    llm_threads: int = Field(0, ge=0, le=256, description="CPU threads for generation; 0 = all cores.")
    llm_worker: bool = Field(
        True,
        description="Generate in a separate process at a lower CPU priority (transformers and llamacpp "
        "backends, for the advisor and the Local models lab's chat), so quiz submits and pages stay fast while "
        "an answer is written and a crash in a model's native code ends one answer, not the server. Off: in "
        "the web process.",
    )

    # --- advisor labs: retrieval -------------------------------------------------------------
    embedding_model: str = Field(
        "", description="Sentence-transformers model folder (or Hub id). Empty: the packaged all-MiniLM-L6-v2."
    )
    chroma_url: str = Field(
        "",
        description="URL of a Chroma server (e.g. http://chroma:8000) for deployments with several "
        "app processes. Empty: a Chroma folder in data_dir.",
    )
    rag_top_k: int = Field(3, ge=1, le=20, description="Passages retrieved for each advisor answer.")
    quote_ranker: str = Field(
        "",
        description="Folder of a learned sentence ranker (trained by bench/train_sentence_ranker.py) that helps "
        "rank the course sentences an answer quotes. Empty: embedding similarity and shared words only; a "
        "trained ranker did not beat them on the held-out questions (docs/benchmarks.md).",
    )
    advisor_max_chars: int = Field(
        100_000, ge=1_000, description="Longest message an advisor accepts; larger data goes in an uploaded file."
    )
    max_upload_mb: float = Field(
        25.0, gt=0, description="Largest file a learner can upload (advisor labs and the QLoRA lab), in MB."
    )
    disk_quota_mb: float = Field(
        2000.0,
        gt=0,
        description="Disk space each learner's QLoRA lab files may take, in MB: uploads, training runs and their "
        "exports (a merged float32 copy of the packaged model is about 540 MB). Over it, new uploads, runs and "
        "exports are refused until the learner deletes old runs.",
    )
    lab_max_steps: int = Field(
        400, ge=1, description="Most optimizer steps a learner's run may take (the server refuses more, and 0)."
    )
    lab_max_minutes: float = Field(
        60.0,
        gt=0,
        description="Longest wall time of one training run, in minutes: past it the worker is asked to stop "
        "(a checkpoint is saved, so the learner can resume later) and the next run in the queue starts.",
    )
    keep_runs_days: float = Field(
        30.0,
        ge=0,
        description="Finished training runs (with their exports) and lab uploads older than this many days are "
        "deleted, checked at start and every 6 hours. 0: keep them all.",
    )
    runs_backend: Literal["local", "ray"] = Field(
        "local",
        description="Where QLoRA lab runs train. 'local': worker processes on this host, one at a time, the rest "
        "queued. 'ray': each run on a node of a Ray cluster (pip install 'fine-tuning-tutor[cluster]'), side by "
        "side as the cluster's resources allow; see docs/deploy.md.",
    )
    runs_ray_address: str = Field(
        "",
        description="The Ray cluster's address (ray backend), e.g. 10.0.0.5:6379. Empty: the cluster started on "
        "this host with 'tutor cluster up' or 'ray start --head'.",
    )
    runs_cpus: float = Field(2.0, gt=0, description="CPUs each run asks the Ray cluster for (its training threads).")
    runs_gpus: float = Field(
        0.0,
        ge=0,
        description="GPUs each run asks the Ray cluster for. Above 0, the lab's default config is the GPU one "
        "(QLoRA, 4-bit), whatever this web host has. At 0, a 4-bit config still asks for one GPU when the "
        "cluster has any.",
    )
    runs_memory_mb: float = Field(
        0.0, ge=0, description="Memory each run asks the Ray cluster for, in MB; 0: not asked (CPUs and GPUs only)."
    )
    runs_node_models_dir: str = Field(
        "",
        description="Where each Ray node keeps its converted copy of the base model. Empty: a folder in the node's "
        "temporary directory (converted once per node, in about 10 s).",
    )
    queue_max_size: int = Field(
        64, ge=1, description="Requests that may wait in the app's queue; more get 'queue full' at once."
    )
    lab_models: list[str] = Field(
        default_factory=list,
        description="Base models learners may train in the QLoRA lab besides the packaged one (local folders or "
        "Hugging Face Hub ids). Empty: the packaged model only.",
    )
    lab_hub_datasets: bool = Field(
        False, description="Let learners train on 'hf:<dataset id>' sources in the QLoRA lab (needs a network)."
    )
    models_power_watts: float = Field(
        65.0,
        gt=0,
        le=10_000,
        description="Local models lab: the power this machine draws while it generates, in watts (stated, not "
        "measured), for the electricity cost per 1M tokens of a local model.",
    )
    models_electricity_price: float = Field(
        0.30, ge=0, description="Local models lab: the price of a kWh of electricity, in dollars."
    )
    warm_up: bool = Field(
        True,
        description="At start, build the course index and load the advisor model in the background, so the "
        "first question is quick. Off: both happen on the first advisor question (a quiz-only server).",
    )

    @field_validator("host")
    @classmethod
    def _single_mode_stays_on_this_machine(cls, value: str, info: ValidationInfo) -> str:
        local = value in ("localhost", "::1") or value.startswith("127.")
        if info.data.get("mode", "single") == "single" and not local and not info.data.get("open_single_mode"):
            raise ValueError(
                f"single mode on {value} lets anyone who reaches the port in as the learner, without a password; "
                "use class mode (--mode class: accounts and sign-in), or set open_single_mode to accept that"
            )
        return value

    @field_validator("lab_models", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """From the environment a list comes as one string: TUTOR_LAB_MODELS="org/a, /models/b"."""
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value

    @field_validator("lessons_dir")
    @classmethod
    def _lessons_dir_exists(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"folder {str(value)!r} does not exist")
        return value

    @field_validator("database_url")
    @classmethod
    def _url_parses(cls, value: str) -> str:
        if value:
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                make_url(value)
            except ArgumentError:
                raise ValueError("not a SQLAlchemy URL (expected e.g. sqlite:///path.db)") from None
        return value

    @field_validator("llm_base_url", "chroma_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def models_dir(self) -> Path:
        """Model weights the app converts or downloads (the packaged model's safetensors copy)."""
        return self.data_dir / "models"

    @property
    def backend(self) -> str:
        """The backend that generates: 'auto' made concrete. llama.cpp when it is installed and the
        model is a GGUF file (the packaged one by default); a folder or a Hub id needs transformers."""
        if self.llm_backend != "auto":
            return self.llm_backend
        import importlib.util

        gguf = not self.llm_model or self.llm_model.endswith(".gguf")
        return "llamacpp" if gguf and importlib.util.find_spec("llama_cpp") is not None else "transformers"

    @property
    def resolved_adapter(self) -> str:
        """The adapter folder the transformers backend loads ("" for none): the shipped advisor
        adapter by default, which was trained on the packaged model and fits no other."""
        if self.llm_adapter.strip().lower() == "none":
            return ""
        if self.llm_adapter:
            return self.llm_adapter
        shipped = PROJECT_ROOT / "tutor" / "advisors" / "adapter"
        packaged = self.backend in ("transformers", "llamacpp") and not self.llm_model
        return str(shipped) if packaged and (shipped / "adapter_config.json").is_file() else ""

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1e6)

    @property
    def resolved_database_url(self) -> str:
        """The database URL to connect to, defaulting to a SQLite file in ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'tutor.db'}"


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path}: {exc}") from None
    # Accept either top-level keys or a [tutor] table.
    return dict(data.get("tutor", data))


def _read_env(env: Mapping[str, str]) -> dict[str, str]:
    known = set(Settings.model_fields)
    values = {}
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and key not in _ENV_NOT_SETTINGS:
            name = key[len(ENV_PREFIX) :].lower()
            if name in known:
                values[name] = value
    return values


def load_settings(
    config_file: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the Settings from file, environment and flags (``None`` flags are ignored)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    path = Path(config_file) if config_file else None
    if path is None and env.get("TUTOR_CONFIG"):
        path = Path(env["TUTOR_CONFIG"])
    if path is None and Path("tutor.toml").is_file():
        path = Path("tutor.toml")
    if path is not None:
        for key, value in _read_file(path).items():
            if key not in Settings.model_fields:
                raise SettingsError(f"unknown setting {key!r} in {path}")
            values[key], sources[key] = value, f"in {path}"
    for key, value in _read_env(env).items():
        values[key], sources[key] = value, f"from {ENV_PREFIX}{key.upper()}"
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key], sources[key] = value, f"from --{key.replace('_', '-')}"

    try:
        return Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "settings"
        where = sources.get(name, "default")
        message = error["msg"].removeprefix("Value error, ")
        given = error.get("input")
        got = f", got {given!r}" if isinstance(given, str | int | float) and error["type"] != "value_error" else ""
        raise SettingsError(f"bad setting {name!r} ({where}): {message}{got}") from None
