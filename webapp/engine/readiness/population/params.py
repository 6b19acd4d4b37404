"""Load and check the simulated population's parameter files (data/population/*.toml)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from webapp import paths
from webapp.engine.cohorts.store import CohortSet, load_cohorts

# The five profiles (marginal sets) every quantity gives parameters for; strata in population.toml draw
# their profile from one of them and hold the titles of one.
STRATA = ("none", "innovative", "srdi_sme", "little_giant", "single_champion")
FACTORS = ("size", "innovation", "growth", "maturity", "standing", "global")
FAMILIES = ("zidlognorm", "lognormal", "logitnorm", "normal", "growth", "bernoulli", "ordinal", "categorical")
# Parameters each family needs per stratum (from `cohort` or written out).
_NEEDS = {"zidlognorm": ("mu", "sigma", "pi"), "lognormal": ("median", "sigma"), "logitnorm": ("mu", "sigma"),
          "normal": ("mean", "sd"), "growth": ("mu", "sigma"), "bernoulli": ("p",), "ordinal": ("probs",),
          "categorical": ("probs",)}
_COHORT_FAMILIES = {"zidlognorm": "zi_dlognorm", "logitnorm": "logitnorm", "growth": "growth_lognorm"}


class PopulationParamsError(ValueError):
    """A parameter file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Quantity:
    """One drawn quantity: its family, per-stratum parameters, factor loadings and options."""

    name: str
    family: str
    params: dict[str, dict]          # stratum -> {param: value}
    loadings: dict[str, float]
    options: dict = field(default_factory=dict)   # lo, hi, min, years, year_sd, scale, levels


@dataclass(frozen=True)
class PopulationParams:
    """Everything the simulation reads: strata, quantities, derived constants, titles and label settings."""

    version: str
    default_rows: int
    default_seed: int
    shares: dict[str, float]
    strata: dict[str, dict]          # stratum -> {"profile": ..., "titles": ...}
    quantities: dict[str, Quantity]
    derived: dict[str, float]
    titles: dict[str, dict[str, float]]
    hidden: dict[str, float]
    holders: dict[str, float]
    applicants: dict[str, float]
    targets: tuple[dict, ...]
    masking: dict[str, float]
    sha256: str
    documented: dict[str, dict] = field(repr=False, default_factory=dict)


def _fail(path: Path, where: str, message: str):
    raise PopulationParamsError(f"{path.name}: {where}: {message}")


def _documented(path: Path, where: str, entry: dict) -> dict:
    if not (entry.get("source") or entry.get("assumption")):
        _fail(path, where, "states neither a source nor an assumption")
    return {k: entry[k] for k in ("source", "assumption") if entry.get(k)}


def _constants(path: Path, table: dict, section: str, docs: dict) -> dict[str, float]:
    out = {}
    for name, entry in table.items():
        if not isinstance(entry, dict) or "value" not in entry:
            _fail(path, f"[{section}].{name}", "must be {{ value = ..., source/assumption = ... }}")
        docs[f"{section}.{name}"] = _documented(path, f"[{section}].{name}", entry)
        out[name] = float(entry["value"])
    return out


def _quantity(path: Path, name: str, entry: dict, cohorts: CohortSet) -> Quantity:
    where = f"[quantities.{name}]"
    family = entry.get("family")
    if family not in FAMILIES:
        _fail(path, where, f"unknown family {family!r}; use one of {', '.join(FAMILIES)}")
    loadings = {k: float(v) for k, v in entry.get("loadings", {}).items()}
    unknown = sorted(set(loadings) - set(FACTORS))
    if unknown:
        _fail(path, where, f"unknown factor(s) {unknown}; factors are {', '.join(FACTORS)}")
    if sum(v * v for v in loadings.values()) >= 1.0:
        _fail(path, where, "the squared loadings must sum to less than 1")
    metric = entry.get("metric", name)
    params: dict[str, dict] = {}
    basis: dict[str, tuple[str, bool]] = {}   # stratum -> (cohort id, fitted to assumed values rather than published)
    for stratum in STRATA:
        cid = entry.get("cohort", {}).get(stratum)
        if cid is not None:
            dist = cohorts[cid].distribution(metric)
            if dist.family != _COHORT_FAMILIES.get(family):
                _fail(path, where, f"cohort {cid}/{metric} is {dist.family}, not usable as {family}")
            params[stratum] = dist.params()
            basis[stratum] = (cid, bool(cohorts[cid].basis_for(metric).get("assumption")))
            continue
        given = {key: entry[key][stratum] for key in _NEEDS[family] if stratum in entry.get(key, {})}
        missing = [key for key in _NEEDS[family] if key not in given]
        if missing:
            _fail(path, where, f"stratum {stratum!r} has no cohort and no {', '.join(missing)}")
        params[stratum] = given
    options = {k: entry[k] for k in ("lo", "hi", "min", "years", "year_sd", "scale", "levels") if k in entry}
    options["cohort_strata"] = tuple(entry.get("cohort", {}))
    options["cohort_basis"] = basis
    if family in ("ordinal", "categorical"):
        levels = options.get("levels")
        for stratum, p in params.items():
            if levels is None or len(p["probs"]) != len(levels) or abs(sum(p["probs"]) - 1.0) > 1e-6:
                _fail(path, where, f"stratum {stratum!r}: probs must give one probability per level, summing to 1")
    return Quantity(name, family, params, loadings, options)


def load_population_params(directory: str | Path | None = None, *,
                           cohorts: CohortSet | None = None) -> PopulationParams:
    """Read ``population.toml`` and ``labels.toml`` and check them.

    Parameters
    ----------
    directory : str or Path, optional
        Folder holding both files (default ``data/population``).
    cohorts : CohortSet, optional
        Fitted cohorts to resolve ``cohort = {...}`` entries (default: the built-in ones).

    Returns
    -------
    PopulationParams

    Raises
    ------
    PopulationParamsError
        When an entry is malformed or states neither a source nor an assumption; the message names the
        file and the entry.
    """
    folder = Path(directory) if directory is not None else paths.resolve().population
    pop_path, lab_path = folder / "population.toml", folder / "labels.toml"
    raw = {p: p.read_bytes() for p in (pop_path, lab_path)}
    pop, lab = (tomllib.loads(raw[p].decode("utf-8")) for p in (pop_path, lab_path))
    cohorts = cohorts if cohorts is not None else load_cohorts()
    docs: dict[str, dict] = {}
    shares, strata = {}, {}
    for stratum, entry in pop.get("strata", {}).items():
        where = f"[strata.{stratum}]"
        docs[f"strata.{stratum}"] = _documented(pop_path, where, entry)
        shares[stratum] = float(entry["share"])
        strata[stratum] = {"profile": entry.get("profile", stratum), "titles": entry.get("titles", stratum)}
        if strata[stratum]["profile"] not in STRATA or strata[stratum]["titles"] not in STRATA:
            _fail(pop_path, where, f"profile and titles must be among {', '.join(STRATA)}")
    if not set(STRATA) <= set(shares):
        _fail(pop_path, "[strata]", f"needs at least the strata {', '.join(STRATA)}")
    if abs(sum(shares.values()) - 1.0) > 1e-9:
        _fail(pop_path, "[strata]", "shares must sum to 1")
    quantities = {}
    for name, entry in pop["quantities"].items():
        docs[f"quantities.{name}"] = _documented(pop_path, f"[quantities.{name}]", entry)
        quantities[name] = _quantity(pop_path, name, entry, cohorts)
    titles = {}
    for name, entry in pop["titles"].items():
        docs[f"titles.{name}"] = _documented(pop_path, f"[titles.{name}]", entry)
        titles[name] = {s: float(entry[s]) for s in STRATA}
    targets = []
    for i, entry in enumerate(lab["targets"]):
        where = f"[[targets]] #{i + 1} ({entry.get('tier')}, {entry.get('group')})"
        docs[f"targets.{entry.get('tier')}.{entry.get('group')}"] = _documented(lab_path, where, entry)
        if entry.get("group") not in ("new", "review", "review_legacy"):
            _fail(lab_path, where, "group must be new, review or review_legacy")
        if not set(entry.get("pool", ())) <= set(shares):
            _fail(lab_path, where, f"pool strata must be among {', '.join(shares)}")
        targets.append(dict(entry))
    meta = pop["meta"]
    digest = hashlib.sha256(raw[pop_path] + b"\0" + raw[lab_path]).hexdigest()
    return PopulationParams(
        version=f"{meta['version']}/{lab['meta']['version']}", default_rows=int(meta["default_rows"]),
        default_seed=int(meta["default_seed"]), shares=shares, strata=strata, quantities=quantities,
        derived=_constants(pop_path, pop["derived"], "derived", docs), titles=titles,
        hidden=_constants(lab_path, lab["hidden"], "hidden", docs),
        holders=_constants(lab_path, lab["holders"], "holders", docs),
        applicants=_constants(lab_path, lab["applicants"], "applicants", docs), targets=tuple(targets),
        masking=_constants(lab_path, lab["masking"], "masking", docs), sha256=digest, documented=docs)
