"""The roadmap's arithmetic: a firm's own growth rates, its figures projected year by year, and dates."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping

import numpy as np

from webapp.engine.advice.data import AdviceData
from webapp.engine.rules.expressions import REL_TOL, Evaluator, Interval
from webapp.engine.rules.rulebook import Metric

# Three-year series: (year t, t-1, t-2) field names, by the stem the growth rate is named after.
SERIES = {
    "revenue": ("revenue", "revenue_prev", "revenue_prev2"),
    "main_revenue": ("main_revenue", "main_revenue_prev", "main_revenue_prev2"),
    "rd_expense": ("rd_expense", "rd_expense_prev", "rd_expense_prev2"),
    "applications": ("applications_last", "applications_prev", "applications_prev2"),
}
SCALED_WITH_REVENUE = ("net_profit", "total_assets", "total_costs")
COUNTED_YEARS = ("years_in_niche", "years_in_field")
IP_STOCKS = ("class1_ip", "class1_ip_self", "class1_ip_applied", "valid_inventions", "invention_grants")


def number(value) -> float | None:
    """A finite float, or None for unknown, text or NaN (booleans become 1.0 / 0.0)."""
    if value is None or isinstance(value, str):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def growth_rates(profile: Mapping, *, cap: float) -> dict[str, dict]:
    """Yearly growth of each three-year series, from the firm's own figures.

    Parameters
    ----------
    profile : Mapping
        Canonical fields; money in 万元, applications as counts per year.
    cap : float
        Largest rate extrapolated (0.5 = 50% a year); a faster rate is capped and flagged.

    Returns
    -------
    dict
        ``{stem: {"rate": float | None, "years": 2 | 1 | 0, "capped": bool}}``: the compound rate over
        t-2..t (``years`` 2), else t-1..t (1); None when fewer than two positive figures are known.
    """
    out = {}
    for stem, names in SERIES.items():
        t, t1, t2 = (number(profile.get(n)) for n in names)
        rate, years = None, 0
        if t is not None and t2 is not None and t > 0 and t2 > 0:
            rate, years = (t / t2) ** 0.5 - 1, 2
        elif t is not None and t1 is not None and t > 0 and t1 > 0:
            rate, years = t / t1 - 1, 1
        capped = rate is not None and rate > cap
        out[stem] = {"rate": None if rate is None else round(min(rate, cap), 6), "years": years,
                     "capped": capped}
    return out


def fiscal_year(as_of: dt.date) -> int:
    """Year t of the rules: the last completed fiscal year before the assessment date."""
    return as_of.year - 1


def figures_date(year: int, data: AdviceData) -> dt.date:
    """When the audited figures of fiscal ``year`` can be used: the end of the month after year end."""
    month = int(data.value("figures_available_month"))
    return dt.date(year + 1, month, _month_days(year + 1, month))


def add_months(day: dt.date, months: float) -> dt.date:
    """``day`` plus a whole number of months (rounded up), clamped to the month's last day."""
    m = int(math.ceil(months - 1e-9))
    y, mo = divmod(day.month - 1 + m, 12)
    year, month = day.year + y, mo + 1
    return dt.date(year, month, min(day.day, _month_days(year, month)))


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _month_days(year: int, month: int) -> int:
    """Days in ``month`` of ``year`` (``calendar.monthrange(year, month)[1]`` without the weekday)."""
    return 29 if month == 2 and calendar.isleap(year) else _DAYS[month - 1]


def months_between(a: dt.date, b: dt.date) -> int:
    """Whole months from ``a`` to ``b`` (0 when ``b`` is not later), rounded up."""
    if b <= a:
        return 0
    months = (b.year - a.year) * 12 + b.month - a.month
    return months + (1 if b.day > a.day else 0)


class Projection:
    """The firm's figures for fiscal years t+1 .. t+horizon at its own growth rates.

    Money series grow at their own compound rate (main revenue at revenue's when its own is unknown);
    net profit, total assets and total costs move with revenue; staff, shares and counts not listed
    below stay as they are; years in the niche and field add one a year. Class I IP and valid inventions
    grow by the inventions granted each year: applications filed ``lag`` years earlier times the firm's
    invention share and grant rate (the cohort's when the firm's own cannot be computed).
    """

    def __init__(self, profile: Mapping, data: AdviceData, metrics: Mapping[str, Metric]):
        self.data = data
        self.metrics = metrics
        self.horizon = int(data.value("horizon_years"))
        self.k = np.arange(1, self.horizon + 1)
        self.growth = growth_rates(profile, cap=data.value("growth_cap"))
        self.fallbacks: list[str] = []
        self.values: dict[str, np.ndarray] = {}   # projected fields; any other stays at its value
        self._profile = profile  # a field's level is read when asked for (a roadmap asks for a few)
        self._metrics: dict[str, np.ndarray] = {}
        nan = np.full(self.horizon, np.nan)
        rev = self.growth["revenue"]["rate"]
        if self.growth["main_revenue"]["rate"] is None and rev is not None:
            self.growth["main_revenue"] = {**self.growth["revenue"], "from": "revenue"}
        self._paths: dict[str, np.ndarray] = {}
        for stem, names in SERIES.items():
            self._series(stem, names, profile)
        for name in SCALED_WITH_REVENUE:
            base = number(profile.get(name))
            factor = nan if rev is None else (1 + rev) ** self.k
            self.values[name] = nan.copy() if base is None else base * factor
        for name in COUNTED_YEARS:
            base = number(profile.get(name))
            self.values[name] = nan.copy() if base is None else base + self.k
        self._ip_flow(profile)

    def _series(self, stem: str, names: tuple[str, str, str], profile: Mapping) -> None:
        """Project one three-year series and shift its t-1, t-2 fields along."""
        actual = [number(profile.get(n)) for n in names]
        rate = self.growth[stem]["rate"]
        # index j of `path`: fiscal year t + j - 2 (j = 0, 1, 2 are t-2, t-1, t; then projections)
        path = np.full(self.horizon + 3, np.nan)
        for j, v in zip((2, 1, 0), actual, strict=True):
            path[j] = np.nan if v is None else v
        if rate is not None and actual[0] is not None:
            path[3:] = actual[0] * (1 + rate) ** self.k
        for lag, name in enumerate(names):
            self.values[name] = path[3 - lag: 3 - lag + self.horizon]
        self._paths[stem] = path

    def _ip_flow(self, profile: Mapping) -> None:
        apps = number(profile.get("patent_applications"))
        inv = number(profile.get("invention_applications"))
        grants = number(profile.get("invention_grants"))
        share = inv / apps if apps and inv is not None else None
        rate = grants / inv if inv and grants is not None else None
        if share is None:
            share = self.data.value("fallback_invention_share")
            self.fallbacks.append("fallback_invention_share")
        if rate is None:
            rate = self.data.value("fallback_grant_rate")
            self.fallbacks.append("fallback_grant_rate")
        lag = int(math.ceil(self.data.value("invention_grant_months") / 12))
        path = self._paths["applications"]
        # inventions granted in fiscal year t + k were filed in t + k - lag (path index k - lag + 2)
        filed = np.array([path[k - lag + 2] if k - lag + 2 >= 0 else np.nan for k in self.k])
        added = np.cumsum(filed * share * rate)
        for name in IP_STOCKS:
            base = number(profile.get(name))
            self.values[name] = np.full(self.horizon, np.nan) if base is None else base + added

    def field(self, name: str) -> np.ndarray:
        """A field over the horizon: its projection, or its value every year (NaN when unknown)."""
        if name in self.values:
            return self.values[name]
        v = number(self._profile.get(name))
        return np.full(self.horizon, np.nan if v is None else v)

    def metric(self, name: str) -> np.ndarray:
        """A field or derived metric over the horizon (NaN where an input is unknown)."""
        if name not in self.metrics:
            return self.field(name)
        if name not in self._metrics:
            def resolve(n: str) -> Interval:
                if n in self.metrics:
                    return ev.evaluate(self.metrics[n].expr)
                arr = self.field(n)
                return Interval(arr, arr)

            ev = Evaluator(self.horizon, resolve, {})
            with np.errstate(all="ignore"):
                out = ev.evaluate(self.metrics[name].expr)
            self._metrics[name] = np.where(out.lo == out.hi, out.lo, np.nan)
        return self._metrics[name]

    def first_year(self, name: str, op: str, threshold: float) -> int | None:
        """The first k (fiscal year t + k) where ``name op threshold`` holds, or None within the horizon."""
        values = self.metric(name)
        tol = REL_TOL * max(1.0, abs(threshold))
        with np.errstate(invalid="ignore"):
            hit = {">=": values >= threshold - tol, ">": values > threshold + tol,
                   "<=": values <= threshold + tol, "<": values < threshold - tol}.get(op)
        if hit is None:
            return None
        hit &= ~np.isnan(values)
        return int(self.k[np.argmax(hit)]) if hit.any() else None
