"""The independent Open Badges validator (PyPI `openbadges`), run offline against our live server.

The validator lives in a virtual environment of its own (its pins conflict with ours), created once and reused:
`LMS_OPENBADGES_VENV`, by default .venv/openbadges-validator (inside our own .venv, so `make clean` removes it).
It is rebuilt when tests/openbadges/requirements.txt changes. `run_validator.py` runs inside it, offline: it
answers the JSON-LD context URL from the copy the package ships and refuses every address but loopback.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
REQUIREMENTS = HERE / "requirements.txt"
RUNNER = HERE / "run_validator.py"
VALIDATOR = "openbadges==1.1.2"


def venv_dir() -> Path:
    configured = os.environ.get("LMS_OPENBADGES_VENV", "").strip()
    return Path(configured) if configured else PROJECT_ROOT / ".venv" / "openbadges-validator"


def _stamp() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + VALIDATOR.encode()).hexdigest()[:16]
    return f".installed-{digest}"


def ensure_validator() -> Path:
    """The validator venv's python, creating the venv first if needed (one builder at a time, under a lock)."""
    target = venv_dir()
    python = target / "bin" / "python"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".openbadges-validator.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / _stamp()).exists() and python.exists():
            return python
        venv.EnvBuilder(clear=True, with_pip=True).create(target)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--no-deps", VALIDATOR], check=True, timeout=600)
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True, timeout=600)
        subprocess.run([str(python), "-c", "import openbadges"], check=True, timeout=120)
        (target / _stamp()).touch()
    return python


def run_validator(python: Path, url: str, recipient_email: str | None = None) -> dict[str, Any]:
    """The validator's full result (graph, input, report) for a hosted assertion URL."""
    command = [str(python), str(RUNNER), url]
    if recipient_email is not None:
        command += ["--recipient-email", recipient_email]
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONWARNINGS": "ignore", "NO_PROXY": "*"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, env=env, check=False)
    if done.returncode != 0:
        raise AssertionError(f"the validator failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def messages(result: dict[str, Any]) -> list[str]:
    return [f"{m.get('name')}: {m.get('result')}" for m in result["report"].get("messages", [])]
