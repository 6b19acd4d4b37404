"""A simulated population of firms across the ladder, with outcomes, reproducible from a seed.

No firm-level outcome data is public (reference/statistics.md), so the readiness classifier learns from
this population until a user retrains it on real outcomes. Every parameter is in ``data/population``
with its source or stated assumption; how a profile is drawn is in :mod:`webapp.engine.readiness.population.draw`.

Outcome of a firm for a tier = the engine's verdict on its full profile under the chosen rule set (a
holder of the tier's title judged as a re-review) AND a hidden pass standing for what no input captures
(market-share proof, the review panel, provincial quotas). The hidden pass rate of each target group is
solved so that the group's pass rate equals the published one (about 23% of new little-giant applicants,
87% of 2025 re-reviews, about 60% of early re-reviews) or the stated assumption.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from webapp.engine.readiness.population.draw import draw_profiles
from webapp.engine.readiness.population.fit import cohort_check, fit_holder_marginals, with_cohort_means
from webapp.engine.readiness.population.params import STRATA, PopulationParams, load_population_params
from webapp.engine.rules.criteria import MET, Judge
from webapp.engine.rules.rulebook import RuleBook, RuleSet, load_rule_book
from webapp.fields import REGISTRY

TIERS = ("innovative_sme", "tech_sme", "srdi_sme", "little_giant", "single_champion")
TITLE_OF = {"innovative_sme": "title_innovative", "srdi_sme": "title_srdi", "little_giant": "title_little_giant"}
HELD_TIER = {"srdi_sme": "srdi_sme", "little_giant": "little_giant", "single_champion": "single_champion"}


class PopulationError(RuntimeError):
    """The population cannot be drawn as specified (e.g. no candidate meets a tier's rules)."""


@dataclass
class Population:
    """Simulated firms: clean profiles, per-tier outcomes, strata, and how they were made.

    ``mode`` is ``review`` for a firm drawn as a holder of its own stratum's title (innovative, srdi_sme,
    little_giant, single_champion: the title it re-reviews) and ``new`` for the others (no title, or a
    "rising" firm applying for the next one), as ``giantstep batch`` reads a per-row ``mode`` column.
    """

    profiles: pd.DataFrame
    labels: pd.DataFrame
    stratum: np.ndarray
    info: dict = field(default_factory=dict)
    mode: np.ndarray | None = None

    def to_frame(self) -> pd.DataFrame:
        """Canonical fields (enums as codes, booleans as 1/0), ``stratum``, ``mode`` and ``<tier>_certified``."""
        out = self.profiles.copy()
        for spec in REGISTRY:
            if spec.kind == "enum":
                out[spec.name] = out[spec.name].astype(object)
            elif spec.kind == "bool" or spec.integer:
                out[spec.name] = out[spec.name].astype("Int64")
        out["stratum"] = self.stratum
        if self.mode is not None:
            out["mode"] = self.mode
        return pd.concat([out, self.labels], axis=1)


def _counts(rows: int, shares: dict[str, float]) -> dict[str, int]:
    """Rows per stratum, rounded so they sum to ``rows`` (largest remainder)."""
    raw = {s: rows * share for s, share in shares.items()}
    counts = {s: int(np.floor(v)) for s, v in raw.items()}
    for s in sorted(shares, key=lambda s: counts[s] - raw[s])[: rows - sum(counts.values())]:
        counts[s] += 1
    return counts


def _holder_met(titles: str, profiles: pd.DataFrame, judge: Judge) -> np.ndarray:
    """Whether each candidate meets the rules of a title it holds (re-review mode)."""
    if titles == "innovative":
        innovative = (judge.tiers["innovative_sme"].status == MET) & (profiles["title_innovative"].to_numpy() > 0)
        tech = (judge.tiers["tech_sme"].status == MET) & (profiles["title_tech_sme"].to_numpy() > 0)
        return innovative | tech
    return judge.tiers[HELD_TIER[titles]].status == MET


def _draw_stratum(params: PopulationParams, stratum: str, n: int, rng: np.random.Generator,
                  ruleset: RuleSet) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A stratum's firms: title holders are kept when they meet their tier's rules (but a drift share)."""
    spec = params.strata.get(stratum, {"profile": stratum, "titles": stratum})
    profile, titles = spec["profile"], spec["titles"]
    if titles == "none":
        frame, standing = draw_profiles(params, profile, n, rng, titles=titles)
        return frame, standing, np.zeros(n, dtype=bool)
    hp = params.holders
    n_legacy = int(round(n * hp["legacy_share"])) if stratum == "little_giant" else 0
    groups = [(n - n_legacy, hp["drift"]), (n_legacy, hp["legacy_drift"])]
    need = np.array([sum(int(round(k * d)) for k, d in groups), 0])
    need[1] = n - need[0]  # [not meeting, meeting]
    parts: list[list] = [[], []]
    got = np.zeros(2, dtype=int)
    batch, rate = max(2 * n, 500), 0.0
    for _ in range(int(hp["max_rounds"])):
        cand, standing = draw_profiles(params, profile, batch, rng, titles=titles)
        ok = _holder_met(titles, cand, Judge(cand, ruleset, review=True).run())
        rate = ok.mean()
        for k in (0, 1):
            idx = np.flatnonzero(ok == bool(k))[: need[k] - got[k]]
            parts[k].append((cand.iloc[idx], standing[idx]))
            got[k] += len(idx)
        if (got >= need).all():
            break
        batch = int(min(max((need[1] - got[1]) / max(rate, 1e-4) * 1.2, 500), 400_000))
    else:
        raise PopulationError(f"{stratum}: found {got[1]} of {need[1]} candidates meeting the rules of "
                              f"{ruleset.sme.id} after {int(hp['max_rounds'])} batches (acceptance {rate:.3%})")
    frames = [f for k in (1, 0) for f, _ in parts[k]]
    standing = np.concatenate([s for k in (1, 0) for _, s in parts[k]])
    met = np.r_[np.ones(need[1], bool), np.zeros(need[0], bool)]
    legacy = np.zeros(n, dtype=bool)  # the legacy group takes its own mix of meeting and drifted holders
    legacy_met = n_legacy - int(round(n_legacy * hp["legacy_drift"]))
    legacy[np.flatnonzero(met)[:legacy_met]] = True
    legacy[np.flatnonzero(~met)[: n_legacy - legacy_met]] = True
    return pd.concat(frames, ignore_index=True), standing, legacy


def _solve_alpha(met: np.ndarray, h: np.ndarray, beta: float, rate: float) -> float:
    """alpha with mean(met * expit(alpha + beta h)) = rate, or the bound when out of reach."""
    def gap(alpha):
        return float(np.mean(met * special.expit(alpha + beta * h))) - rate
    lo, hi = -20.0, 20.0
    if gap(hi) <= 0:
        return hi
    if gap(lo) >= 0:
        return lo
    return float(optimize.brentq(gap, lo, hi, xtol=1e-10))


def _holders(profiles: pd.DataFrame, stratum: np.ndarray) -> dict[str, np.ndarray]:
    out = {t: profiles[TITLE_OF[t]].to_numpy() > 0 for t in TITLE_OF}
    out["tech_sme"] = np.zeros(len(profiles), dtype=bool)  # registered yearly: always judged as new
    out["single_champion"] = stratum == "single_champion"
    return out


def _target_members(target: dict, holder: np.ndarray, stratum: np.ndarray, legacy: np.ndarray,
                    met: np.ndarray, applies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(members the target's rate is measured on, firms its alpha applies to)."""
    group = target["group"]
    if group == "new":
        scope = ~holder
        return scope & np.isin(stratum, target["pool"]) & (met | applies), scope
    scope = holder & (legacy if group == "review_legacy" else ~legacy)
    return (scope & np.isin(stratum, target["pool"]) if target.get("pool") else scope), scope


def label_population(profiles: pd.DataFrame, stratum: np.ndarray, legacy: np.ndarray, standing: np.ndarray,
                     params: PopulationParams, ruleset: RuleSet,
                     rng: np.random.Generator) -> tuple[pd.DataFrame, list[dict]]:
    """Outcomes per tier (rules met AND hidden pass) with the hidden pass calibrated to the targets.

    Returns
    -------
    labels : pandas.DataFrame
        ``<tier>_certified`` columns, int8 0/1.
    calibration : list of dict
        Per target: tier, group, members, rules-met share, target rate, solved alpha, achieved rate,
        and its source or assumption.
    """
    hid = params.hidden
    verdicts = {False: Judge(profiles, ruleset).run(), True: Judge(profiles, ruleset, review=True).run()}
    holders = _holders(profiles, stratum)
    provinces, codes = np.unique(profiles["province"].astype(str).to_numpy(), return_inverse=True)
    labels, calibration = {}, []
    for tier in TIERS:
        holder = holders[tier]
        met = np.where(holder, verdicts[True].tiers[tier].status, verdicts[False].tiers[tier].status) == MET
        quota = rng.normal(0.0, hid["province_sd"], len(provinces))[codes]
        w = hid["standing_weight"]
        h = w * standing + np.sqrt(1 - w * w) * rng.standard_normal(len(met)) + quota
        applies = rng.random(len(met)) < params.applicants["misjudge"]
        alpha = np.full(len(met), np.nan)
        rows = []
        for target in (t for t in params.targets if t["tier"] == tier):
            members, scope = _target_members(target, holder, stratum, legacy, met, applies)
            a = _solve_alpha(met[members], h[members], hid["beta"], target["rate"])
            alpha[scope] = a
            rows.append((target, members, a))
        alpha = np.where(np.isnan(alpha), -20.0, alpha)  # a group without a target never passes by chance
        certified = met & (rng.random(len(met)) < special.expit(alpha + hid["beta"] * h))
        labels[f"{tier}_certified"] = certified.astype(np.int8)
        for target, members, a in rows:
            calibration.append({
                "tier": tier, "group": target["group"], "members": int(members.sum()),
                "rules_met_share": round(float(met[members].mean()), 4) if members.any() else None,
                "target": target["rate"], "alpha": round(a, 4),
                "achieved": round(float(certified[members].mean()), 4) if members.any() else None,
                "published": bool(target.get("source")),
                "basis": target.get("source") or target.get("assumption")})
    return pd.DataFrame(labels, index=profiles.index), calibration


def population_hash(profiles: pd.DataFrame, labels: pd.DataFrame) -> str:
    """SHA-256 of the profiles and outcomes (row order included), to identify a population."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(profiles, index=False).to_numpy().tobytes())
    digest.update(np.ascontiguousarray(labels.to_numpy()).tobytes())
    return digest.hexdigest()


PILOT_ROWS = 3000


def fitted_params(params: PopulationParams, ruleset: RuleSet) -> PopulationParams:
    """``params`` with the holder strata's cohort marginals shifted to the cohort means (see population.fit).

    The pilot is drawn with the parameter files' default seed and a fixed size, whatever the population's
    seed and size: every population of the same parameter files and rule set then shares its marginals, and
    a new seed changes the firms drawn, not the distribution they are drawn from (a pilot seeded with the
    population's own seed moved the little-giant pass-rate offsets by up to 0.3 logit between seeds, which
    a model trained on one population cannot be calibrated for). Cached per parameter and rule version.
    """
    key = (params.sha256, ruleset.sme.id, tuple(sorted(ruleset.table_versions().items())), ruleset.metrics_version)
    if key not in _FITTED:
        stream = np.random.SeedSequence(params.default_seed).spawn(len(params.shares) + 3)[-3]
        holder_strata = [s for s in STRATA if s != "none"]  # the strata drawn from, and holding, their own profile
        _FITTED[key] = fit_holder_marginals(
            with_cohort_means(params), lambda p, s, n, r: _draw_stratum(p, s, n, r, ruleset), holder_strata,
            np.random.default_rng(stream), pilot=PILOT_ROWS)
    return _FITTED[key]


_FITTED: dict = {}


def simulate_population(rows: int | None = None, *, seed: int | None = None, rules: str | None = None,
                        as_of: dt.date | None = None, params: PopulationParams | None = None,
                        rule_book: RuleBook | None = None) -> Population:
    """Simulate firms across the ladder with outcomes per tier.

    Parameters
    ----------
    rows : int, optional
        Number of firms (default ``[meta].default_rows`` of population.toml).
    seed : int, optional
        Seed of every random draw (default ``[meta].default_seed``); the same seed, parameters, rule
        tables and library versions give the same population.
    rules : {"SME-2022", "SME-2026"}, optional
        SME rule set of the outcomes (default: the one in force on ``as_of``).
    as_of : datetime.date, optional
        Date choosing the rule set when ``rules`` is not given (default today).
    params : PopulationParams, optional
        Parameters (default: :func:`load_population_params`).
    rule_book : RuleBook, optional
        Rule tables (default: those of the rules folder in force).

    Returns
    -------
    Population
        ``profiles`` (clean frame of every registry field), ``labels`` (``<tier>_certified``),
        ``stratum`` and ``info`` (seed, rows, rules, parameter version and hash, calibration table,
        population hash).
    """
    params = params or load_population_params()
    rows = int(rows if rows is not None else params.default_rows)
    seed = int(seed if seed is not None else params.default_seed)
    if rows < 100:
        raise ValueError("a population needs at least 100 rows")
    ruleset = (rule_book or load_rule_book()).select(rules, as_of)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(params.shares) + 3)]
    params = fitted_params(params, ruleset)
    frames, standing, strata, legacy = [], [], [], []
    for (stratum, n), rng in zip(_counts(rows, params.shares).items(), streams, strict=False):
        frame, latent, old = _draw_stratum(params, stratum, n, rng, ruleset)
        frames.append(frame)
        standing.append(latent)
        strata.append(np.full(n, stratum, dtype=object))
        legacy.append(old)
    order = streams[-2].permutation(rows)
    profiles = pd.concat(frames, ignore_index=True).iloc[order].reset_index(drop=True)
    profiles["firm_name"] = np.array([f"模拟企业{i:06d}" for i in range(rows)], dtype=object)
    stratum = np.concatenate(strata)[order]
    labels, calibration = label_population(profiles, stratum, np.concatenate(legacy)[order],
                                           np.concatenate(standing)[order], params, ruleset, streams[-1])
    info = {"rows": rows, "seed": seed, "rules": ruleset.versions(), "rule_versions": ruleset.table_versions(),
            "params_version": params.version, "params_sha256": params.sha256, "calibration": calibration,
            "strata": {s: int((stratum == s).sum()) for s in params.shares},
            "legacy_little_giants": int(np.concatenate(legacy).sum()),
            "cohort_check": cohort_check(params, profiles, stratum, [s for s in STRATA if s != "none"]),
            "sha256": population_hash(profiles, labels)}
    reviews = {s for s, spec in params.strata.items() if spec["titles"] != "none" and spec["profile"] == spec["titles"]}
    mode = np.where(np.isin(stratum, sorted(reviews)), "review", "new").astype(object)
    return Population(profiles, labels, stratum, info, mode)
