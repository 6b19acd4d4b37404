"""Where the data, rule tables, models and per-installation files live: the one configuration path.

Every folder is resolved in one place, in this order: an explicit override (the web app's config keys
``GIANTSTEP_DATA_DIR``, ``GIANTSTEP_RULES_DIR``, ``GIANTSTEP_MODELS_DIR``, ``GIANTSTEP_INSTANCE_DIR``), then
the environment variable of the same name, then the folder in the repository. The CLI, the engine's
loaders and the web app all call :func:`resolve`, so a folder set once is honoured everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

ENV_KEYS = {
    "data": "GIANTSTEP_DATA_DIR",
    "rules": "GIANTSTEP_RULES_DIR",
    "models": "GIANTSTEP_MODELS_DIR",
    "instance": "GIANTSTEP_INSTANCE_DIR",
}


@dataclass(frozen=True)
class Paths:
    """The folders of one installation."""

    data: Path
    rules: Path
    models: Path
    instance: Path

    @property
    def cohorts(self) -> Path:
        """Published aggregates and fitted cohort distributions (``giantstep cohorts fit`` writes here)."""
        return self.data / "cohorts"

    @property
    def advice(self) -> Path:
        """Planning constants, action texts, documents and themes of the advice engine."""
        return self.data / "advice"

    @property
    def population(self) -> Path:
        """Parameters of the simulated population."""
        return self.data / "population"

    @property
    def imported_cohorts(self) -> Path:
        """Cohorts built by ``giantstep cohorts import`` from a user's own firms."""
        return self.instance / "cohorts"

    @property
    def retrained_models(self) -> Path:
        """Models retrained on real outcomes (``giantstep train --labels``)."""
        return self.instance / "models"


def resolve(*, data=None, rules=None, models=None, instance=None) -> Paths:
    """The folders in force: explicit arguments, then ``GIANTSTEP_*`` environment variables, then the repository.

    The rules folder defaults to ``<data>/rules``, so pointing the data folder elsewhere moves the rule
    tables with it unless ``GIANTSTEP_RULES_DIR`` says otherwise.
    """

    def pick(value, key: str, default: Path) -> Path:
        chosen = value or os.environ.get(ENV_KEYS[key]) or default
        return Path(chosen).expanduser().resolve()

    data_dir = pick(data, "data", REPO_ROOT / "data")
    return Paths(data=data_dir, rules=pick(rules, "rules", data_dir / "rules"),
                 models=pick(models, "models", REPO_ROOT / "models"),
                 instance=pick(instance, "instance", REPO_ROOT / "instance"))
