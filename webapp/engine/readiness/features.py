"""Features of the readiness classifier and the direction each one may move the probability.

Monotonicity has to hold on the raw fields a user changes, so every feature is either a registry field
constrained in its own direction, or a derived value that is monotone in each constrained field it uses,
in the same direction, and uses unconstrained fields only otherwise. rd_ratio = rd_expense / revenue is
constrained +1: it rises with rd_expense (+1) and falls with revenue, which is left free because raising
revenue at fixed R&D lowers R&D intensity (and can fail the SME size test). The engine's tier statuses
(not met < unknown < met) and score ranges are monotone in every field constrained here, in the same
direction (tests/engine/test_properties.py and tests/engine/test_readiness.py sweep them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from webapp.engine.readiness.population.draw import UNDRAWN_GROUPS
from webapp.engine.rules.criteria import MET, NOT_MET, Judge
from webapp.engine.rules.rulebook import RuleSet
from webapp.fields import FIELDS, REGISTRY

# More is never worse: R&D, IP, growth, years, share, titles, quality and standing.
INCREASING = (
    "strategic_emerging", "industrial_foundation", "chain_breakthrough", "years_in_niche", "years_in_field",
    "new_product", "main_revenue", "net_profit", "equity_financing_2y", "equity_financing_3y", "rd_expense",
    "rd_expense_prev", "rd_expense_prev2", "rd_staff", "digital_level", "core_business_it", "quality_award",
    "quality_certified", "own_brand", "standards_count", "standards_led", "local_points", "niche_share_pct",
    "niche_share_intl_pct", "niche_share_high", "patent_applications", "invention_applications",
    "invention_grants", "valid_inventions", "valid_utility_models", "valid_designs", "software_copyrights",
    "pct_applications", "overseas_markets", "citations", "licenses_out", "applications_last", "applications_prev",
    "applications_prev2", "class1_ip", "class1_ip_self", "class1_ip_high_value", "class1_ip_applied", "class2_ip",
    "hnte", "tech_innovation_demo", "ip_advantage", "platform_score", "platform_score_prev", "title_innovative",
    "title_tech_sme", "title_srdi", "title_little_giant", "clean_record",
)
# Less is never worse: debt, and ranks (1 is the leader).
DECREASING = ("debt_ratio_pct", "niche_rank_domestic", "global_rank", "award_rank")
# Left free: the rules pull both ways (scale helps some tiers, the SME size test and intensity ratios
# punish it; last year's main revenue raises one growth rate and lowers the next).
FREE = ("revenue", "revenue_prev", "revenue_prev2", "main_revenue_prev", "main_revenue_prev2", "total_assets",
        "total_costs", "employees")
ORDINAL = ("rd_institution", "award_level", "makers_china")   # codes in registry order, increasing
# Nominal enums enter as their codes, free: native categorical support would put an OrdinalEncoder in front
# of every prediction call (a copy of the whole feature block), and trees split codes well enough.
NOMINAL = ("sector", "sme_industry")
# Derived: name -> (numerator, denominator, form); all constrained +1 (see the module docstring).
DERIVED = {
    "rd_ratio": ("rd_expense", "revenue", "ratio"),
    "rd_ratio_prev": ("rd_expense_prev", "revenue_prev", "ratio"),
    "rd_2y": ("rd_expense", "rd_expense_prev", "sum"),
    "rd_cost_ratio": ("rd_expense", "total_costs", "ratio"),
    "rd_staff_share": ("rd_staff", "employees", "ratio"),
    "main_share": ("main_revenue", "revenue", "ratio"),
    "main_growth": ("main_revenue", "main_revenue_prev", "growth"),
    "main_growth_prev": ("main_revenue_prev", "main_revenue_prev2", "growth"),
    "revenue_growth": ("revenue", "revenue_prev", "growth"),
    "revenue_cagr2": ("revenue", "revenue_prev2", "cagr2"),
    "net_margin": ("net_profit", "revenue", "ratio"),
    "invention_density": ("valid_inventions", "employees", "per_1000"),
}
# The title a tier's holders hold: they are judged as a re-review, so a new-application "not met" does not
# rule them out. (tech_sme is registered yearly; single champions have no title field.)
HOLDER_TITLES = {"innovative_sme": "title_innovative", "srdi_sme": "title_srdi", "little_giant": "title_little_giant"}


def complete_profiles(clean: pd.DataFrame) -> pd.DataFrame:
    """``clean`` with every registry field present (a missing column is an unknown field) and enums categorical."""
    loose = [s.name for s in REGISTRY if s.kind == "enum" and s.name in clean.columns
             and not isinstance(clean[s.name].dtype, pd.CategoricalDtype)]
    if loose:
        clean = clean.assign(**{n: pd.Categorical(clean[n], categories=FIELDS[n].choices) for n in loose})
    missing = [s for s in REGISTRY if s.name not in clean.columns]
    if not missing:
        return clean
    extra = {}
    for spec in missing:
        if spec.kind == "enum":
            extra[spec.name] = pd.Categorical([None] * len(clean), categories=spec.choices)
        elif spec.kind == "text":
            extra[spec.name] = np.full(len(clean), None, dtype=object)
        else:
            extra[spec.name] = np.full(len(clean), np.nan)
    return pd.concat([clean, pd.DataFrame(extra, index=clean.index)], axis=1)


def raw_directions() -> dict[str, int]:
    """Direction of every non-text registry field: +1, -1 or 0 (free; nominal enums too)."""
    out = {n: 1 for n in INCREASING + ORDINAL}
    out.update({n: -1 for n in DECREASING})
    out.update({n: 0 for n in FREE + NOMINAL})
    return out


def _derive(num: np.ndarray, den: np.ndarray, form: str) -> np.ndarray:
    """A derived feature (see ``DERIVED``); call it under ``np.errstate(divide="ignore", invalid="ignore")``."""
    if form == "sum":
        return num + den
    safe = np.where(den > 0, den, np.nan)
    if form == "ratio":
        return num / safe
    if form == "per_1000":
        return 1000.0 * num / safe
    if form == "growth":
        return num / safe - 1.0
    return np.sqrt(num / safe) - 1.0  # cagr2


def column(clean: pd.DataFrame, name: str) -> np.ndarray:
    """A registry column as float64: numbers as they are, enums as codes, NaN for unknown."""
    col = clean[name]
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy().astype(np.float64)
        return np.where(codes < 0, np.nan, codes)
    return col.to_numpy(dtype=np.float64, na_value=np.nan)


class ReadinessFeatures(TransformerMixin, BaseEstimator):
    """Turn a clean profiles frame into the classifier's feature matrix (float64, NaN for unknown).

    Parameters
    ----------
    rules : str
        SME rule set whose tier statuses and score ranges become features (e.g. ``"SME-2026"``); the
        tech and champion tables come with it.

    Attributes
    ----------
    feature_names_out_ : numpy.ndarray of str
        Feature names, in column order.
    monotonic_cst_ : numpy.ndarray of int
        +1, -1 or 0 per feature, for ``HistGradientBoostingClassifier(monotonic_cst=...)``.
    tiers_ : tuple of str
        Tiers whose status is a feature; ``scored_`` those whose score range is too.
    rule_versions_ : dict
        Version of each rule table the features were built with.
    """

    def __init__(self, rules: str = "SME-2026"):
        self.rules = rules

    def bind(self, ruleset: RuleSet) -> ReadinessFeatures:
        """Judge with ``ruleset`` (its SME table must be ``rules``); the rule set is not saved with the model."""
        if ruleset.sme.id != self.rules:
            raise ValueError(f"the readiness features read {self.rules}, not {ruleset.sme.id}")
        self._ruleset = ruleset
        return self

    @property
    def ruleset(self) -> RuleSet:
        """The rule set bound with :meth:`bind`."""
        ruleset = self.__dict__.get("_ruleset")
        if ruleset is None:
            raise RuntimeError("readiness features are not bound to a rule set; load the model with "
                               "load_model(rule_book=...) or call bind()")
        return ruleset

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object.__getstate__ may return __dict__ itself
        state.pop("_ruleset", None)
        state.pop("_gates", None)
        return state

    def fit(self, X=None, y=None):
        """Fix the feature list for the bound rule set (no data is learnt)."""
        ruleset = self.ruleset
        self.__dict__.pop("_gates", None)
        directions = raw_directions()
        raw = [s.name for s in REGISTRY if s.kind != "text" and s.group not in UNDRAWN_GROUPS]
        self.tiers_ = tuple(ruleset.tiers)
        self.scored_ = tuple(t for t in self.tiers_ if ruleset.tiers[t].score)
        engine = [f"status_{t}" for t in self.tiers_]
        engine += [f"score_{edge}_{t}" for t in self.scored_ for edge in ("min", "max")]
        names = raw + list(DERIVED) + engine + ["known_fields"]
        cst = [directions[n] for n in raw] + [1] * (len(DERIVED) + len(engine)) + [0]
        self.feature_names_out_ = np.asarray(names, dtype=object)
        self.monotonic_cst_ = np.asarray(cst, dtype=np.int64)
        self.raw_fields_ = tuple(raw)
        self.rule_versions_ = {**ruleset.table_versions(), "METRICS": ruleset.metrics_version}
        return self

    def transform(self, X):
        """Features of the clean frame ``X``, judging it with the engine first."""
        return self.features(X)

    def gated(self, feats: np.ndarray, tier: str) -> np.ndarray:
        """Rows of ``feats`` whose ``tier`` rules are certainly not met and that are known not to hold its title."""
        status, title = self._gate_columns(tier)
        off = feats[:, status] == 0.0
        return off & (feats[:, title] == 0.0) if title is not None else off

    def _gate_columns(self, tier: str) -> tuple[int, int | None]:
        """Columns of ``tier``'s status and of its title held (None when it has none), worked out once."""
        cached = self.__dict__.get("_gates", {}).get(tier)
        if cached is None:
            names = list(self.feature_names_out_)
            title = HOLDER_TITLES.get(tier)
            cached = (names.index(f"status_{tier}"), names.index(title) if title else None)
            self.__dict__.setdefault("_gates", {})[tier] = cached
        return cached

    def get_feature_names_out(self, input_features=None):
        """Feature names, in column order."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def judge(self, clean: pd.DataFrame) -> Judge:
        """The engine's verdict on ``clean`` under this rule set (new applications)."""
        return Judge(clean, self.ruleset).run()

    def features(self, clean: pd.DataFrame, judge: Judge | None = None) -> np.ndarray:
        """Feature matrix of ``clean``; ``judge`` is the engine's verdict on the same rows (new mode) if known.

        Parameters
        ----------
        clean : pandas.DataFrame
            As returned by :func:`webapp.engine.io.inputs.validate_profiles`.
        judge : Judge, optional
            Engine results for these rows under this rule set; computed when not given.

        Returns
        -------
        numpy.ndarray of float64, shape (n_firms, n_features)
        """
        check_is_fitted(self, "feature_names_out_")
        judge = judge if judge is not None else self.judge(clean)
        return self.assemble({name: column(clean, name) for name in self.raw_fields_}, judge, len(clean))

    def assemble(self, cols, judge, n: int) -> np.ndarray:
        """Feature matrix from the input fields' values and the engine's verdict on the same ``n`` rows.

        Parameters
        ----------
        cols : mapping of str to numpy.ndarray
            Every field of ``raw_fields_`` as :func:`column` reads it (float64; enum codes; NaN unknown).
        judge : Judge or an object with the same ``tiers``
            Tier statuses and score ranges of the same rows, judged as new applications.
        n : int
            Rows.

        Returns
        -------
        numpy.ndarray of float64, shape (n, n_features)
        """
        if "feature_names_out_" not in self.__dict__:
            check_is_fitted(self, "feature_names_out_")
        out = np.empty((n, len(self.feature_names_out_)), dtype=np.float64)
        for j, name in enumerate(self.raw_fields_):
            out[:, j] = cols[name]
        j = len(self.raw_fields_)
        with np.errstate(divide="ignore", invalid="ignore"):
            for num, den, form in DERIVED.values():
                out[:, j] = _derive(cols[num], cols[den], form)
                j += 1
        for tier in self.tiers_:
            status = judge.tiers[tier].status
            out[:, j] = np.where(status == MET, 2.0, np.where(status == NOT_MET, 0.0, 1.0))
            j += 1
        for tier in self.scored_:
            res = judge.tiers[tier]
            out[:, j], out[:, j + 1] = res.score_lo, res.score_hi
            j += 2
        # How much the firm entered: lets the trees tell a full profile from a quick check with the same
        # statuses. A value sweep never changes it, so it needs no constraint.
        out[:, j] = np.count_nonzero(~np.isnan(out[:, :len(self.raw_fields_)]), axis=1)
        return out
