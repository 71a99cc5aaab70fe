"""The QLoRA lab's session logic: data preview and critique, configs, runs, live status, compare,
export. The QLoRA method itself lives in the trainer (trainer/model.py); this is what one
learner's session in the lab asks of it.

The lab tab (labs/qlora_tab.py) only displays what this returns. Training itself happens in
``python -m trainer`` workers queued by trainer.runs.RunQueue: one at a time on this host, or on a Ray
cluster side by side (Settings.runs_backend).
"""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from trainer.config import ConfigError, TrainConfig, default_config_name, parse_config, shipped_config
from trainer.data import BUILTIN_FILES, BUILTIN_SOURCES, DataError, Example, builtin_path, load_examples
from trainer.model import Hardware, detect_hardware
from trainer.progress import RunProgress, summarise
from trainer.records import NotTextError, decode_text
from trainer.report import smooth
from trainer.runs import Run, RunBackend, RunError, RunQueue
from tutor import data_versions, lab_files
from tutor.learner_jobs import LearnerBusy, OneAtATime
from tutor.settings import Settings

if TYPE_CHECKING:
    from tutor.advisors.dataset_checks import Issue
    from tutor.data_cleaning import Cleaned
    from tutor.run_compare import Comparison, RunRow

PREVIEW_ROWS = 8
EXPORT_WAIT_S = 600.0  # how long an export waits for the one export slot before it is refused
EXPORT_TIMEOUT_S = 1800.0  # a merge or GGUF conversion that takes longer is killed
DAY_S = 24 * 3600.0
CLEAN_UP_EVERY_S = 6 * 3600.0


class LabError(ValueError):
    """Something the learner can fix; shown as a message in the lab."""


def _no_version(path: Path) -> data_versions.DataVersion:
    """An upload stored before data versions had sidecars: its id is still its content hash."""
    return data_versions.DataVersion(
        id=path.name.split(".")[0], path=str(path), task="", rows=0, origin="upload", name=path.name
    )


@dataclass
class DataPreview:
    source: str  # "builtin" or the stored upload's path
    examples: int
    rows: list[list[str]]  # [input, output] for the first few examples
    labels: dict[str, int] | None
    issues: list[Issue] = field(default_factory=list)  # the dataset critic's findings; the tab renders them
    issue_counts: dict[str, int] = field(default_factory=dict)  # issues per kind, in order of first finding
    label: str = ""  # the data version as a person reads it
    blocking: str = ""  # why the trainer cannot read this file as it is ("" when it can); cleaning may fix it


@dataclass
class CleanOutcome:
    version: data_versions.DataVersion
    cleaned: Cleaned


def run_backend(settings: Settings) -> RunBackend | None:
    """The backend Settings ask for (None: the queue's default, local worker processes)."""
    if settings.runs_backend != "ray":
        return None
    from trainer.run_ray import RayBackend, RayResources

    resources = RayResources(cpus=settings.runs_cpus, gpus=settings.runs_gpus, memory_mb=settings.runs_memory_mb)
    return RayBackend(settings.runs_ray_address, resources, node_models_dir=settings.runs_node_models_dir)


@dataclass
class RunStatus:
    run: Run
    position: int  # runs ahead in the queue
    phase: str  # the run's status, or while it runs, the phase it is in
    progress: RunProgress = field(default_factory=RunProgress)
    curve: list[dict] = field(default_factory=list)  # {"step", "loss", "series"} rows for the chart
    metrics: dict | None = None  # metrics.json once done
    log_tail: list[str] = field(default_factory=list)
    waiting_for: str = ""  # a queued run: what it waits for (the machine, or the cluster's resources)


class TrainingLab:
    """The lab's operations for each learner (runs belong to their owner); one per app (Core.qlora)."""

    # The export worker's command, before its arguments (a test can put a stand-in here).
    export_command: tuple[str, ...] = (sys.executable, "-m", "trainer.export_worker")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        keep = settings.keep_runs_days * DAY_S or None  # 0 days: keep every run
        self.runs = RunQueue(
            settings.data_dir / "runs",
            settings.models_dir,
            backend=run_backend(settings),
            max_seconds=settings.lab_max_minutes * 60,
            keep_seconds=keep,
        )
        self.uploads = settings.data_dir / "uploads"
        self._hardware: Hardware | None = None
        self._cleaner: threading.Thread | None = None
        self._exporting: set[str] = set()  # run ids with an export under way in this process
        self.export_jobs = OneAtATime("an export")  # per learner: one export queued or running
        self._compare_lock = threading.Lock()
        self._compare: tuple[str, object, object] | None = None  # (run id, peft model, tokenizer)

    def start(self) -> None:
        """Start the clean-up of old runs and uploads and the run queue's dispatcher (idempotent).
        LabError when the runs' backend cannot start (a Ray cluster that cannot be reached)."""
        if self.settings.keep_runs_days and self._cleaner is None:
            self._cleaner = threading.Thread(target=self._clean_up_forever, name="lab-clean-up", daemon=True)
            self._cleaner.start()
        self._guard(self.runs.start)

    @property
    def on_cluster(self) -> bool:
        return self.runs.backend.name == "ray"

    def _clean_up_forever(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # a folder that vanished meanwhile: next time
                self.clean_up()
            time.sleep(CLEAN_UP_EVERY_S)

    def clean_up(self) -> tuple[list[str], list[Path]]:
        """Delete finished runs and uploads older than ``keep_runs_days`` (the run queue also does
        this every few hours); the run ids and upload paths deleted."""
        if not self.settings.keep_runs_days:
            return [], []
        runs = self.runs.clean_up(skip=self._exporting)
        # Any run still on disk may read its upload again (a stopped run resumes), not only active ones.
        in_use = {Path(self.runs.config(r.id).data.source).resolve() for r in self.runs.runs()}
        in_use |= {data_versions.sidecar_of(path) for path in in_use}  # a kept file keeps its history
        return runs, lab_files.old_uploads(self.uploads, self.settings.keep_runs_days * DAY_S, in_use)

    # --- disk space ----------------------------------------------------------------------------
    def disk_used(self, owner: str) -> int:
        """Bytes of this learner's uploads, runs and exports."""
        runs = sum(lab_files.folder_bytes(self.runs.folder(r.id)) for r in self.runs.runs(owner))
        return lab_files.folder_bytes(self._upload_folder(owner)) + runs

    def check_space(self, owner: str, adding: int = 0, what: str = "this") -> None:
        """Refuse what would take this learner's lab files past their disk quota (LabError)."""
        used, quota = self.disk_used(owner), self.settings.disk_quota_mb * 1e6
        if used + adding > quota:
            raise LabError(
                f"{what}: your lab files would pass your {self.settings.disk_quota_mb:g} MB on this server "
                f"(your uploads and runs take {lab_files.megabytes(used)}); delete old runs to make room"
            )

    @property
    def hardware(self) -> Hardware:
        if self._hardware is None:
            self._hardware = detect_hardware()
        return self._hardware

    # --- step 1: task and data -----------------------------------------------------------------
    def preview(self, task: str, upload: str | None = None, owner: str = "", source: str = "builtin") -> DataPreview:
        """The first rows and the critic's findings of an upload (stored as a new data version), or
        of ``source``: ``builtin``, ``builtin:raw`` or one of this learner's stored versions."""
        from tutor.advisors import dataset_checks

        if upload:
            source = str(self._store_upload(Path(upload), owner))
        path = self._data_path(owner, task, source)
        config = TrainConfig()
        config.data.task = task
        config.data.source = source
        text = path.read_text(encoding="utf-8-sig")
        issues, _ = dataset_checks.critique(text, path.name, task_text=task)
        blocking = ""
        try:
            examples = load_examples(config.data)
        except DataError as exc:  # still shown with the critic's findings: cleaning may fix it
            blocking = str(exc)
            parsed, _, _ = dataset_checks.parse(text, path.name)
            examples = [Example(e.input, e.output) for e in parsed]
        counts: dict[str, int] = {}
        for issue in issues:
            counts[issue.kind] = counts.get(issue.kind, 0) + 1
        labels = None
        if task == "sentiment":
            labels = {}
            for example in examples:
                labels[example.output] = labels.get(example.output, 0) + 1
        rows = [[ex.input, ex.output] for ex in examples[:PREVIEW_ROWS]]
        label = data_versions.describe_source(source)
        return DataPreview(source, len(examples), rows, labels, issues, counts, label, blocking)

    def _data_path(self, owner: str, task: str, source: str) -> Path:
        """The file behind a lab data source; only built-in sets and the learner's own files."""
        if source in BUILTIN_SOURCES:
            if task not in BUILTIN_FILES:
                raise LabError(f"the {task} task has no built-in dataset in this lab")
            return builtin_path(task, source)
        path = Path(source)
        path = (path if path.is_absolute() else self._upload_folder(owner) / path).resolve()
        if not path.is_relative_to(self._upload_folder(owner)) or not path.is_file():
            raise LabError("data: use a built-in set or a file you uploaded or cleaned in this lab")
        return path

    def _store_upload(self, path: Path, owner: str) -> Path:
        if path.suffix.lower() not in (".jsonl", ".csv"):
            raise LabError(f"{path.name}: upload a .jsonl or .csv file")
        if path.stat().st_size > self.settings.max_upload_bytes:
            raise LabError(f"{path.name}: larger than {self.settings.max_upload_mb:g} MB")
        # Stored as UTF-8 whatever the learner's editor wrote (UTF-16 from Windows Notepad or
        # PowerShell, a byte-order mark), so the critic, the cleaner and the trainer read one text;
        # the same decoder as the advisor labs' uploads, so both refuse the same binary files.
        try:
            data = decode_text(path.read_bytes()).encode("utf-8")
        except NotTextError as exc:
            raise LabError(f"{path.name} {exc}" if exc.binary else f"{path.name}:{exc.line}: {exc}") from None
        self.check_space(owner, len(data), path.name)
        # Named by content: a second upload under the same name cannot change a queued run's data.
        version = data_versions.save(
            self._upload_folder(owner), data, path.suffix.lower(), task="", rows=0, origin="upload", name=path.name
        )
        return Path(version.path)

    # --- step 1b: act on the critic's findings -------------------------------------------------
    def clean_data(
        self,
        owner: str,
        task: str,
        source: str,
        actions: list[str],
        *,
        seed: int = 42,
        test_fraction: float = 0.1,
        max_words: int = 0,
    ) -> CleanOutcome:
        """Apply cleaning actions to a built-in set or one of the learner's versions, and store the
        result as a new version (named by its content, with its parent and what was removed).
        ``seed`` and ``test_fraction`` are the config's, so "leaks into the test set" means the
        test set this learner's run will hold out."""
        from tutor.data_cleaning import CleanError, clean

        path = self._data_path(owner, task, source)
        try:
            cleaned = clean(
                path.read_text(encoding="utf-8-sig"),
                path.name,
                actions,
                seed=seed,
                test_fraction=test_fraction,
                max_words=max_words,
            )
        except (CleanError, UnicodeDecodeError) as exc:
            raise LabError(str(exc)) from None
        if len(cleaned.rows) < 10:
            left = len(cleaned.rows)
            raise LabError(f"cleaning would leave {left} rows; a run needs at least 10, so nothing was saved")
        data = cleaned.jsonl().encode("utf-8")
        self.check_space(owner, len(data), "the cleaned data")
        parent = source if source in BUILTIN_SOURCES else (data_versions.read(path) or _no_version(path)).id
        steps = [
            {
                "action": step.action,
                "title": step.title,
                "before": step.before,
                "after": step.after,
                "changed": step.changed,
                "note": step.note,
                "removed": [
                    {"line": gone.line, "reason": gone.reason}
                    for gone in step.removed[: data_versions.MAX_REMOVED_KEPT]
                ],
            }
            for step in cleaned.steps
        ]
        version = data_versions.save(
            self._upload_folder(owner),
            data,
            ".jsonl",
            task=task,
            rows=len(cleaned.rows),
            origin="clean",
            parent=parent,
            steps=steps,
        )
        return CleanOutcome(version=version, cleaned=cleaned)

    def _upload_folder(self, owner: str) -> Path:
        return (self.uploads / (owner or "user")).resolve()

    def versions(self, owner: str, task: str) -> list[data_versions.DataVersion]:
        """The learner's stored uploads and cleaned versions for ``task`` (uploads whose task is not
        known yet count for every task), newest first."""
        folder = self._upload_folder(owner)
        found = []
        for path in folder.glob("*") if folder.is_dir() else []:
            if path.suffix.lower() not in data_versions.DATA_SUFFIXES:
                continue
            version = data_versions.read(path) or _no_version(path)
            if version.task in ("", task):
                found.append(version)
        return sorted(found, key=lambda v: v.created, reverse=True)

    def check_inputs(self, owner: str, config: TrainConfig) -> None:
        """What a learner's config may read on this server: the built-in data, a file the learner
        uploaded in this lab, a Hub dataset where Settings allow it; the packaged model, or one the
        instructor listed in Settings. Anything else (a path to a server file, another learner's
        upload, any folder as a model) is refused before a byte of it is read."""
        source = config.data.source.strip()
        if source.startswith("hf:"):
            if not self.settings.lab_hub_datasets:
                raise LabError(
                    "data.source: Hub datasets are switched off on this server (Settings: lab_hub_datasets)"
                )
        elif source not in BUILTIN_SOURCES:
            path = Path(source)
            path = (path if path.is_absolute() else self._upload_folder(owner) / path).resolve()
            if not path.is_relative_to(self._upload_folder(owner)) or not path.is_file():
                raise LabError("data.source: use 'builtin' or a file you uploaded in step 1 of this lab")
        steps, most = config.training.max_steps, self.settings.lab_max_steps
        if not 1 <= steps <= most:
            raise LabError(f"training.max_steps: between 1 and {most} on this server (got {steps})")
        name = config.model.name.strip()
        if name and name not in self.settings.lab_models:
            allowed = ", ".join(self.settings.lab_models)
            raise LabError(
                "model.name: this lab trains the packaged model (leave it empty)"
                + (f" or one of: {allowed}" if allowed else "; an instructor can allow others (Settings: lab_models)")
            )

    # --- step 2: configure ---------------------------------------------------------------------
    def default_config(self, task: str = "sentiment") -> TrainConfig:
        """The shipped config for where runs train: this host's hardware, or a GPU when cluster runs
        ask for one."""
        gpu = self.settings.runs_gpus > 0 if self.on_cluster else self.hardware.is_gpu
        return shipped_config(default_config_name(task, gpu))

    def basic_config(
        self, task: str, source: str, *, learning_rate: float, rank: int, max_steps: int, quantize: bool
    ) -> TrainConfig:
        """The shipped default for this host and task, with the Basic panel's choices applied."""
        config = self.default_config(task)
        config.data.source = source or "builtin"
        return self._apply_basic(config, learning_rate, rank, max_steps, quantize)

    def edit_config(
        self, yaml_text: str, *, learning_rate: float, rank: int, max_steps: int, quantize: bool
    ) -> TrainConfig:
        """The learner's config (the Advanced box) with only the Basic panel's fields changed, so
        hand edits to the other fields survive a Basic change. A config that does not parse raises
        LabError and is left for the learner to fix."""
        return self._apply_basic(self.parse(yaml_text), learning_rate, rank, max_steps, quantize)

    def with_advice(self, recommendation: dict | None, yaml_text: str) -> TrainConfig:
        """The learner's config (or this machine's default when it does not parse) with the LoRA
        and optimiser settings of a hyperparameter advisor's recommendation (its JSON)."""
        from pydantic import ValidationError

        from tutor.advisors.hyperparams import LoraTrainingConfig

        if not recommendation or recommendation.get("lab") != "hyperparams" or "config" not in recommendation:
            raise LabError("ask the hyperparameter advisor (Lab 3) for a config first")
        try:
            advice = LoraTrainingConfig(**recommendation["config"])
        except (TypeError, ValidationError):
            raise LabError("this recommendation's config is not one the lab can read; ask the advisor again") from None
        try:
            current = self.parse(yaml_text)
        except LabError:
            current = self.default_config()
        return advice.for_lab(current)

    def with_source(self, yaml_text: str, source: str) -> TrainConfig:
        """The learner's config reading its data from ``source`` (a checked upload, or builtin)."""
        config = self.parse(yaml_text)
        config.data.source = source or "builtin"
        return config

    @staticmethod
    def _apply_basic(config: TrainConfig, learning_rate: float, rank: int, max_steps: int, quantize: bool):
        choices = [
            ("training", "learning_rate", learning_rate, float),
            ("lora", "r", rank, int),
            ("training", "max_steps", max_steps, int),
            ("model", "quantization", "4bit" if quantize else "none", str),
        ]
        rank_before = config.lora.r
        for section, name, value, kind in choices:
            try:
                setattr(getattr(config, section), name, kind(value))
            except (TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
                errors = getattr(exc, "errors", None)
                reason = errors()[0]["msg"] if errors else str(exc)
                raise LabError(f"{section}.{name}: {reason} (got {value!r})") from None
        if config.lora.r != rank_before:  # the Basic panel's rule of thumb, only when its rank moves:
            config.lora.alpha = 2 * config.lora.r  # an advised or hand-set alpha survives other changes
        return config

    @staticmethod
    def parse(yaml_text: str) -> TrainConfig:
        try:
            return parse_config(yaml_text, "config")
        except ConfigError as exc:
            raise LabError(str(exc)) from None

    @staticmethod
    def command(run_config_path: str = "my-run.yaml") -> str:
        return f"tutor train --config {run_config_path}"

    # --- step 3: train -------------------------------------------------------------------------
    def start_run(self, owner: str, yaml_text: str) -> Run:
        config = self.parse(yaml_text)
        self.check_inputs(owner, config)
        try:
            load_examples(config.data)  # fail now, with the file and line, not in the worker
        except DataError as exc:
            raise LabError(str(exc)) from None
        mine = [r for r in self.runs.runs(owner) if r.active]
        if mine:
            raise LabError(f"you already have a run {mine[0].status}: {mine[0].id}")
        self.check_space(owner, what="a new run")
        self.start()
        return self.runs.submit(owner, config)

    def stop(self, owner: str | None, run_id: str) -> Run:
        """Stop a run; ``owner`` None stops anyone's (instructors, through Core)."""
        return self._guard(lambda: self.runs.stop(run_id, owner))

    def delete(self, owner: str | None, run_id: str) -> Run:
        """Delete a finished run with its exports; ``owner`` None deletes anyone's (instructors)."""
        if run_id in self._exporting:  # the worker would write its files back into a folder no run owns
            raise LabError(f"run {run_id} is being exported; delete it when the export has finished")
        run = self._guard(lambda: self.runs.delete(run_id, owner))
        with self._compare_lock:
            if self._compare and self._compare[0] == run_id:
                self._compare = None
        return run

    def all_runs(self) -> list[tuple[Run, int]]:
        """Every learner's runs with the bytes each takes, newest first (the instructor's view)."""
        return [(r, lab_files.folder_bytes(self.runs.folder(r.id))) for r in reversed(self.runs.runs())]

    def resume(self, owner: str, run_id: str) -> Run:
        self.start()
        return self._guard(lambda: self.runs.resume(run_id, owner))

    def latest(self, owner: str) -> Run | None:
        return self.runs.latest(owner)

    # --- my runs: the table, comparisons, guided experiments -----------------------------------
    def run_table(self, owner: str | None) -> list[RunRow]:
        """The learner's runs (``owner`` None: everyone's), newest first, each with the fields that
        differ from this host's default config for its task."""
        from tutor.run_compare import run_row

        defaults: dict[str, TrainConfig] = {}
        rows = []
        for run in reversed(self.runs.runs(owner)):
            if run.task not in defaults:
                defaults[run.task] = self.default_config(run.task if run.task in BUILTIN_FILES else "sentiment")
            rows.append(run_row(self.runs, run, defaults[run.task]))
        return rows

    def compare_runs(self, owner: str | None, run_ids: list[str]) -> Comparison:
        """2-4 of the learner's finished runs of one task, side by side (``owner`` None: anyone's)."""
        from tutor.run_compare import CompareError, compare

        try:
            return compare(self.runs, owner, run_ids)
        except CompareError as exc:
            raise LabError(str(exc)) from None

    def comparison_report(self, owner: str | None, run_ids: list[str]) -> Path:
        """The comparison as a Markdown file to download (a fresh copy; nothing in the runs changes)."""
        from tutor.run_compare import markdown

        comparison = self.compare_runs(owner, run_ids)
        summary = self._experiment_verdict(comparison)
        name = "comparison-" + "-vs-".join(c.run.id for c in comparison.runs)[:150] + ".md"
        return lab_files.text_download(markdown(comparison, summary=summary), name)

    def start_experiment(self, owner: str, experiment_id: str, seed: int | None = None) -> list[Run]:
        """Queue both arms of a guided experiment on this host's default sentiment config; ``seed``
        (``training.seed``: the adapter's first weights and the batch order) repeats a pair under
        other luck, with the same train/test split."""
        from tutor.experiments import EXPERIMENTS

        experiment = EXPERIMENTS.get(experiment_id)
        if experiment is None:
            raise LabError(f"no experiment {experiment_id!r}; pick one of {', '.join(EXPERIMENTS)}")
        mine = [r for r in self.runs.runs(owner) if r.active]
        if mine:
            raise LabError(f"you already have a run {mine[0].status}: {mine[0].id}; an experiment starts two more")
        self.check_space(owner, what="an experiment")
        base = self.default_config("sentiment")
        if seed is not None:
            base.training.seed = int(seed)
        configs = [arm.apply(base) for arm in experiment.arms]
        for config in configs:
            self.check_inputs(owner, config)
        pair = f"{experiment.id}-{int(time.time())}"
        self.start()
        return [
            self.runs.submit(
                owner,
                config,
                {"experiment": experiment.id, "experiment_title": experiment.title, "arm": arm.label, "pair": pair},
            )
            for arm, config in zip(experiment.arms, configs, strict=True)
        ]

    def experiment_pairs(self, owner: str) -> dict[str, list[Run]]:
        """The learner's guided experiments, newest first: pair id -> its two runs."""
        pairs: dict[str, list[Run]] = {}
        for run in reversed(self.runs.runs(owner)):
            if run.extra.get("pair"):
                pairs.setdefault(run.extra["pair"], []).insert(0, run)
        return pairs

    def _experiment_verdict(self, comparison: Comparison) -> str:
        """The verdict when the runs compared are the two arms of one guided experiment."""
        from tutor.experiments import EXPERIMENTS, verdict

        pairs = {c.run.extra.get("pair") for c in comparison.runs}
        experiment = EXPERIMENTS.get(comparison.runs[0].run.extra.get("experiment", ""))
        if len(comparison.runs) != 2 or len(pairs) != 1 or None in pairs or experiment is None:
            return ""
        return verdict(experiment, comparison)

    def experiment_verdict(self, owner: str | None, run_ids: list[str]) -> tuple[Comparison, str]:
        comparison = self.compare_runs(owner, run_ids)
        return comparison, self._experiment_verdict(comparison)

    def status(self, owner: str, run_id: str) -> RunStatus:
        run = self._guard(lambda: self.runs.get(run_id, owner))
        events = self.runs.events(run_id)
        progress = summarise(events)  # the same reading as the report's: a resumed run keeps the last value
        phase = progress.phase if progress.phase and run.status == "running" else run.status
        position = self.runs.position(run_id) if run.active else 0
        status = RunStatus(run=run, position=position, phase=phase, progress=progress)
        status.waiting_for = self.runs.waiting_for(run)
        points = progress.loss
        status.curve = [{"step": s, "loss": v, "series": "training loss"} for s, v in points]
        status.curve += [
            {"step": s, "loss": v, "series": "smoothed"}
            for (s, _), v in zip(points, smooth([v for _, v in points]), strict=True)
        ]
        status.curve += [{"step": s, "loss": v, "series": "validation loss"} for s, v in progress.validation]
        metrics_path = self.runs.folder(run_id) / "metrics.json"
        if run.status == "done" and metrics_path.is_file():
            import json

            status.metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        from trainer.progress import format_event

        status.log_tail = [format_event(e) for e in events[-12:]]
        return status

    # --- step 4: compare -----------------------------------------------------------------------
    def compare(self, owner: str, run_id: str, text: str) -> tuple[str, str]:
        """The same input answered by the base model (adapter off) and the fine-tuned one (on)."""
        from trainer.evaluate import generate_answers

        text = (text or "").strip()
        if not text:
            raise LabError("type a sentence (or a dialogue) to compare")
        if len(text) > 4000:
            raise LabError("keep the input under 4,000 characters")
        run = self._guard(lambda: self.runs.get(run_id, owner))
        if run.status != "done":
            raise LabError("the run has not finished, so there is no adapter to compare yet")
        task = self.runs.config(run_id).data.task
        with self._compare_lock:
            model, tokenizer = self._compare_model(run_id)
            with model.disable_adapter():
                base = generate_answers(model, tokenizer, task, [text])[0]
            tuned = generate_answers(model, tokenizer, task, [text])[0]
        return base, tuned

    def _compare_model(self, run_id: str):
        if self._compare and self._compare[0] == run_id:
            return self._compare[1], self._compare[2]
        from trainer.model import load_with_adapter

        model_cfg = self.runs.config(run_id).model
        adapter = self.runs.folder(run_id) / "adapter"
        model, tokenizer = load_with_adapter(adapter, model_cfg, self.hardware, self.settings.models_dir)
        self._compare = (run_id, model, tokenizer)
        return model, tokenizer

    # --- step 5: export ------------------------------------------------------------------------
    def export(self, owner: str, run_id: str, kind: str) -> Path:
        """A download of a finished run: ``adapter`` (zip), ``report`` (Markdown), ``merged`` (zip)
        or ``gguf``. The file is a copy in a temporary folder (see tutor.lab_files)."""
        from trainer import export
        from trainer.model import ModelError

        run = self._guard(lambda: self.runs.get(run_id, owner))
        if run.status != "done":
            raise LabError("the run has not finished yet")
        if kind not in ("adapter", "report", "merged", "gguf"):
            raise LabError(f"unknown export {kind!r}")
        folder = self.runs.folder(run_id)
        if kind == "report":
            return lab_files.download_copy(folder / "report.md")
        self.check_space(owner, what=f"the {kind} export")
        try:
            release = self.export_jobs.take(owner)
        except LearnerBusy as exc:
            raise LabError(str(exc)) from None
        self._exporting.add(run_id)
        try:
            path = export.adapter_zip(folder) if kind == "adapter" else self._export_in_worker(kind, folder)
        except ModelError as exc:
            raise LabError(str(exc)) from None
        finally:
            self._exporting.discard(run_id)
            release()
        return lab_files.download_copy(path)

    def _export_in_worker(self, kind: str, folder: Path) -> Path:
        """A merge or GGUF conversion in a worker process, one at a time on this host."""
        dtype = "bfloat16" if self.hardware.is_gpu else "float32"
        command = [*self.export_command, kind, str(folder), "--models-dir", str(self.settings.models_dir)]
        with self._export_slot():
            try:
                done = subprocess.run(
                    [*command, "--dtype", dtype], capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S
                )
            except subprocess.TimeoutExpired:
                minutes = EXPORT_TIMEOUT_S / 60
                raise LabError(f"the {kind} export took over {minutes:.0f} min and was stopped") from None
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
            reason = errors[-1].removeprefix("error: ") if errors else f"its worker exited with {done.returncode}"
            raise LabError(f"the {kind} export failed: {reason}")
        return Path(done.stdout.strip().splitlines()[-1])

    @contextlib.contextmanager
    def _export_slot(self):
        """One export at a time across every app process sharing the runs folder (a file lock);
        others wait for it up to EXPORT_WAIT_S."""
        with (self.runs.runs_dir / ".export.lock").open("w") as handle:
            deadline = time.monotonic() + EXPORT_WAIT_S
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LabError("another export is still running on this server; try again later") from None
                    time.sleep(0.5)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def _guard(call):
        try:
            return call()
        except RunError as exc:
            raise LabError(str(exc)) from None
