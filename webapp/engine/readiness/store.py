"""Save and load readiness artefacts (skops + metadata JSON), refusing foreign, stale or tampered files.

An artefact is ``<name>.skops`` (the per-tier pipelines, skops format: loading builds only the types it
is told to trust, so a crafted file cannot run code) beside ``<name>.json`` (versions, features, data,
metrics, the artefact's SHA-256). Loading checks, in order: the metadata format, the library versions
(scikit-learn exactly, numpy and skops by major.minor), the rule tables, the SHA-256 of the bytes, the
types in the file (only the expected scikit-learn types and GiantStep's feature builder), then the loaded
structure. Any failure is a :class:`ModelError` that says what to do (usually: retrain).

The shipped default lives in ``models/`` (``readiness.*``); retrained, versioned artefacts go to
``<instance>/models/readiness-<UTC time>.*``. :func:`load_model` without a path takes the newest valid one
and lists the newer ones it refused.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import sklearn
import skops
import skops.io as sio
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import Pipeline

from webapp import paths
from webapp.engine.readiness.calibration import InformationCalibratedClassifier
from webapp.engine.readiness.features import ReadinessFeatures
from webapp.engine.readiness.model import ReadinessModel
from webapp.engine.rules.rulebook import RuleBook, load_rule_book

FORMAT = "giantstep-readiness/2"   # 2: one model per SME rule set in one artefact (1 held one rule set)
DEFAULT_NAME = "readiness"
# The only types beyond skops' own safe defaults an artefact may contain. Anything else is refused
# before a single object is built.
ALLOWED_TYPES = frozenset({
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "webapp.engine.readiness.calibration.InformationCalibratedClassifier",
    "webapp.engine.readiness.features.ReadinessFeatures",
})
_NAME = re.compile(r"^[A-Za-z0-9_.\-]+\.skops$")


class ModelError(RuntimeError):
    """A readiness artefact is missing, foreign, stale or tampered with; the message says which and why."""


def library_versions() -> dict[str, str]:
    """Versions of the libraries an artefact depends on."""
    import platform

    import pandas
    import scipy

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": np.__version__,
            "scipy": scipy.__version__, "pandas": pandas.__version__, "skops": skops.__version__}


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def save_model(model: ReadinessModel, directory: str | Path, *, name: str = DEFAULT_NAME,
               card: str | None = None) -> Path:
    """Write ``<name>.skops`` and ``<name>.json`` (and a model card) into ``directory``.

    Parameters
    ----------
    model : ReadinessModel
        Pipelines and metadata (from :func:`webapp.engine.readiness.build.train_readiness`).
    directory : str or Path
        Created if missing.
    name : str
        File stem.
    card : str, optional
        File name of the model card (default ``MODEL_CARD.md`` for the default name, else ``<name>.md``).

    Returns
    -------
    Path
        The ``.skops`` file. ``model.metadata["artefact"]`` and ``model.path`` are updated.
    """
    from webapp.engine.readiness.card import model_card

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    models = [model, *model.siblings.values()]
    data = sio.dumps({m.rules: dict(m.pipelines) for m in models}, compression=zipfile.ZIP_DEFLATED)
    path = folder / f"{name}.skops"
    path.write_bytes(data)
    model.metadata["artefact"] = {"file": path.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    model.metadata["format"] = FORMAT
    meta = {**model.metadata, "siblings": {m.rules: m.metadata for m in model.siblings.values()}}
    (folder / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    card_name = card or ("MODEL_CARD.md" if name == DEFAULT_NAME else f"{name}.md")
    (folder / card_name).write_text(model_card(meta), encoding="utf-8")
    for m in models:
        m.path = path
    return path


def _check_metadata(meta: dict, where: Path, book: RuleBook) -> None:
    if isinstance(meta, dict) and str(meta.get("format", "")).startswith("giantstep-readiness/") \
            and meta.get("format") != FORMAT:
        raise ModelError(f"{where}: a readiness artefact of format {meta.get('format')!r}, not {FORMAT!r} (one "
                         "model per SME rule set); retrain with `giantstep train`")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{where}: not a GiantStep readiness model (format {meta.get('format')!r} "
                         f"instead of {FORMAT!r})" if isinstance(meta, dict) else f"{where}: not a metadata object")
    libs, here = meta.get("libraries", {}), library_versions()
    if libs.get("scikit-learn") != here["scikit-learn"]:
        raise ModelError(f"{where}: trained with scikit-learn {libs.get('scikit-learn')}, but "
                         f"{here['scikit-learn']} is installed; retrain with `giantstep train`")
    for lib in ("numpy", "skops"):
        if _minor(str(libs.get(lib))) != _minor(here[lib]):
            raise ModelError(f"{where}: trained with {lib} {libs.get(lib)}, but {here[lib]} is installed; "
                             "retrain with `giantstep train`")
    siblings = meta.get("siblings", {})
    if not isinstance(siblings, dict) or not all(isinstance(m, dict) for m in siblings.values()):
        raise ModelError(f"{where}: its siblings are not metadata objects")
    for one in (meta, *siblings.values()):
        sme = one.get("rules", {}).get("sme")
        try:
            ruleset = book.select(sme)
        except ValueError as exc:
            raise ModelError(f"{where}: {exc}") from None
        current = {**ruleset.table_versions(), "METRICS": ruleset.metrics_version}
        if one.get("rule_versions") != current:
            raise ModelError(f"{where}: trained with rule tables {one.get('rule_versions')}, but the installed "
                             f"ones are {current}; retrain with `giantstep train`")


def _rule_set_metadata(meta: dict) -> dict[str, dict]:
    """The metadata of each rule set's model, the artefact's own first."""
    own = {k: v for k, v in meta.items() if k != "siblings"}
    return {own.get("rules", {}).get("sme"): own, **meta.get("siblings", {})}


def _check_structure(obj, meta: dict, where: Path) -> dict:
    by_rules = _rule_set_metadata(meta)
    if not isinstance(obj, dict) or list(obj) != list(by_rules):
        raise ModelError(f"{where}: holds {type(obj).__name__} {list(obj) if isinstance(obj, dict) else ''}, "
                         f"not the models of {list(by_rules)}")
    for rules, one in by_rules.items():
        tiers = list(one.get("tiers", {}))
        pipes = obj[rules]
        if not isinstance(pipes, dict) or list(pipes) != tiers:
            raise ModelError(f"{where}: the {rules} model does not hold the pipelines of {tiers}")
        for tier, pipe in pipes.items():
            ok = (isinstance(pipe, Pipeline) and [n for n, _ in pipe.steps] == ["features", "classifier"]
                  and isinstance(pipe["features"], ReadinessFeatures) and pipe["features"].rules == rules
                  and isinstance(pipe["classifier"], InformationCalibratedClassifier)
                  and list(pipe["features"].feature_names_out_) == one["features"]["names"])
            if not ok:
                raise ModelError(f"{where}: the {rules} {tier} pipeline is not the one its metadata describes")
    return obj


def load_artefact(meta_path: str | Path, rule_book: RuleBook | None = None) -> ReadinessModel:
    """Load one artefact from its metadata file, checking everything first, bound to ``rule_book`` (default:
    the rule tables of the rules folder in force).

    Raises
    ------
    ModelError
        Naming the file and the reason: unreadable, foreign, versions, rule tables, SHA-256, types, shape.
    """
    meta_path = Path(meta_path)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{meta_path}: cannot read the model metadata ({exc})") from None
    book = rule_book or load_rule_book()
    _check_metadata(meta, meta_path, book)
    name = str(meta.get("artefact", {}).get("file", ""))
    if not _NAME.match(name):
        raise ModelError(f"{meta_path}: names no artefact file in its own folder")
    path = meta_path.parent / name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the artefact ({exc.strerror})") from None
    if hashlib.sha256(data).hexdigest() != meta["artefact"].get("sha256"):
        raise ModelError(f"{path}: its bytes differ from those recorded when it was written (SHA-256 "
                         "mismatch); refusing to load a modified artefact, retrain with `giantstep train`")
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # a corrupt zip or schema: never try to build it
        raise ModelError(f"{path}: not a readable skops file ({exc})") from None
    unexpected = sorted(set(untrusted) - ALLOWED_TYPES)
    if unexpected:
        raise ModelError(f"{path}: contains types a readiness model never holds ({', '.join(unexpected)}); "
                         "refusing to load it")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            obj = sio.loads(data, trusted=untrusted)
    except Exception as exc:
        raise ModelError(f"{path}: cannot be loaded ({type(exc).__name__}: {exc}); retrain with `giantstep train`") \
            from None
    obj = _check_structure(obj, meta, path)
    models = [ReadinessModel(obj[rules], one, path=path) for rules, one in _rule_set_metadata(meta).items()]
    models[0].siblings = {m.rules: m for m in models[1:]}
    return models[0].bind(book)


def candidates() -> list[Path]:
    """Metadata files of every artefact :func:`load_model` may choose, newest ``trained_at`` first."""
    where = paths.resolve()
    found = sorted(where.retrained_models.glob(f"{DEFAULT_NAME}-*.json"))
    default = where.models / f"{DEFAULT_NAME}.json"
    found += [default] if default.exists() else []

    def trained_at(p: Path) -> str:
        try:
            return str(json.loads(p.read_text(encoding="utf-8")).get("trained_at", ""))
        except (OSError, ValueError):
            return ""
    return sorted(found, key=trained_at, reverse=True)


def load_model(path: str | Path | None = None, *, rule_book: RuleBook | None = None) -> ReadinessModel:
    """Load a readiness model.

    Parameters
    ----------
    path : str or Path, optional
        An artefact's ``.json`` or ``.skops`` file, or a folder holding ``readiness.json``. Without it,
        the newest valid artefact among the instance folder's retrained ones and the shipped default.
    rule_book : RuleBook, optional
        Rule tables the model judges with (default: those of the rules folder in force).

    Returns
    -------
    ReadinessModel
        ``model.path`` names the file; ``model.notes`` lists newer artefacts refused and why.

    Raises
    ------
    ModelError
        When the named artefact, or every candidate, is refused.
    """
    if path is not None:
        p = Path(path)
        p = p / f"{DEFAULT_NAME}.json" if p.is_dir() else p.with_suffix(".json")
        return load_artefact(p, rule_book)
    notes = []
    for meta_path in candidates():
        try:
            model = load_artefact(meta_path, rule_book)
        except ModelError as exc:
            notes.append(str(exc))
            continue
        model.notes = tuple(notes)
        return model
    where = paths.resolve()
    detail = "; ".join(notes) if notes else f"none found in {where.models} or {where.retrained_models}"
    raise ModelError(f"no valid readiness model ({detail}); train one with `giantstep train`")
