"""Where the project's data, models and per-installation files live (overridable by environment)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("GIANTSTEP_DATA_DIR", REPO_ROOT / "data"))
MODELS_DIR = Path(os.environ.get("GIANTSTEP_MODELS_DIR", REPO_ROOT / "models"))


def instance_dir() -> Path:
    """Per-installation folder (SQLite, secret key, imported cohorts, retrained models)."""
    return Path(os.environ.get("GIANTSTEP_INSTANCE_DIR", REPO_ROOT / "instance"))


def imported_cohorts_dir() -> Path:
    """Where ``giantstep cohorts import`` writes empirical cohorts."""
    return instance_dir() / "cohorts"
