"""The trainer stands alone: nothing under trainer/ imports the app (tutor), not even inside a
function, and ``python -m trainer`` is a command of its own."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import trainer

ROOT = Path(trainer.__file__).resolve().parent.parent


def _python(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def test_no_trainer_module_imports_the_app() -> None:
    found = []
    for path in sorted((ROOT / "trainer").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            found += [f"{path.name}:{node.lineno}" for name in names if name.split(".")[0] == "tutor"]
    assert not found


def test_the_trainer_imports_with_the_app_missing(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['tutor'] = None; "
        "import trainer, trainer.train, trainer.runs, trainer.gguf_export, trainer.model, trainer.command"
    )
    result = _python("-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_python_m_trainer_explains_its_config_and_needs_one(tmp_path: Path) -> None:
    reference = _python("-m", "trainer", "--help-config", cwd=tmp_path)
    assert reference.returncode == 0 and "training.learning_rate (default" in reference.stdout
    missing = _python("-m", "trainer", cwd=tmp_path)
    assert missing.returncode == 2 and "trainer: error: --config FILE is required" in missing.stderr
