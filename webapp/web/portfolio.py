"""A batch job's firms judged for their reports, and the portfolio view built from them.

:class:`Judged` assesses an uploaded table with the app's rule book, cohorts and model (a ``mode`` column,
where the table has one, sets each row's mode); :meth:`Judged.firms` yields each valid firm's result contract
with its advice, from which a job writes one PDF per firm and collects the facts the portfolio summary counts:
firms by tier and likely tier, the readiness spread for the next tier, where the portfolio sits against the
little-giant cohort, the firms closest to their next tier with the action that matters most, and the
re-review dates due (from optional ``<tier>_granted`` columns: the date a held title was granted).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from webapp.engine.advice.advise import advise
from webapp.engine.assess import assess
from webapp.engine.batch import _row_modes as _engine_row_modes
from webapp.engine.io.inputs import normalise_columns
from webapp.engine.io.tables import mode_column
from webapp.web import services
from webapp.web.insights import _metric_label
from webapp.web.records import add_years

COHORT = "little_giant"
CLOSEST = 20
RE_REVIEW_WINDOW_DAYS = 365
BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0000001)
DIMENSIONS = ("scale", "quality", "influence", "globalisation")
_UNSAFE = re.compile(r"[^\w\u3400-\u9fff.-]+")


@dataclass
class Firm:
    """One valid firm of a job: its data row number (1 = first firm), name and result contract."""

    row: int
    name: str
    result: dict
    granted: dict


class Judged:
    """An uploaded table judged in one vectorised pass per mode, rows kept in their order."""

    def __init__(self, raw: pd.DataFrame, *, rules: str | None, as_of: dt.date | None, mode: str,
                 engine_errors: np.ndarray | None = None):
        svc = services.get_services()
        self.rule_book, self.advice_data = svc.rule_book, svc.advice_data
        raw = raw.reset_index(drop=True)
        canonical, _ = normalise_columns(raw)
        self.n = len(raw)
        self.names = (canonical["firm_name"].fillna("").astype(str) if "firm_name" in canonical
                      else pd.Series([""] * self.n)).to_numpy()
        self.granted = _granted_columns(raw)
        modes = _row_modes(raw, mode)
        self.errors_zh = np.full(self.n, "", dtype=object)
        self.errors_en = np.full(self.n, "", dtype=object)
        self.parts: list[tuple[np.ndarray, object]] = []
        for value in ("new", "review"):
            positions = np.flatnonzero(modes == value)
            if not len(positions):
                continue
            part = canonical.iloc[positions].reset_index(drop=True)
            result = assess(part, rules=rules, as_of=as_of, mode=value, rule_book=svc.rule_book, first_line=2,
                            cohorts=svc.cohorts, model=svc.model)
            self.parts.append((positions, result))
            if len(result.errors):
                for col, target in (("message_zh", self.errors_zh), ("message_en", self.errors_en)):
                    joined = (result.errors["field"] + ": " + result.errors[col]).groupby(
                        result.errors["index"]).agg("; ".join)
                    target[positions[joined.index.to_numpy()]] = joined.to_numpy()
        self.valid = np.zeros(self.n, dtype=bool)
        self.tier = np.full(self.n, "", dtype=object)
        self.likely = np.full(self.n, "", dtype=object)
        for positions, result in self.parts:
            self.valid[positions] = result.valid
        if engine_errors is not None:  # the engine's errors column (e.g. a mode cell it refused) decides too
            refused = (engine_errors != "") & self.valid
            self.errors_zh[refused] = self.errors_en[refused] = engine_errors[refused]
            self.valid &= engine_errors == ""
            for positions, result in self.parts:
                result_valid = result.valid & self.valid[positions]
                self.tier[positions] = np.where(result_valid, result.tier.astype(str), "")
                self.likely[positions] = np.where(result_valid, result.likely_tier().astype(str), "")
            return
        for positions, result in self.parts:
            self.tier[positions] = np.where(result.valid, result.tier.astype(str), "")
            self.likely[positions] = np.where(result.valid, result.likely_tier().astype(str), "")

    @property
    def valid_count(self) -> int:
        """Rows without input errors."""
        return int(self.valid.sum())

    def firms(self, start: int, stop: int):
        """Yield :class:`Firm` for the valid rows among positions ``start`` to ``stop``."""
        for positions, result in self.parts:
            for j in np.flatnonzero((positions >= start) & (positions < stop) & self.valid[positions]):
                i = int(positions[j])
                contract = result.to_dict(int(j))
                contract["advice"] = advise(contract, services.clean_profile(result.profiles, int(j)),
                                            rule_book=self.rule_book, data=self.advice_data)
                yield Firm(i + 1, str(self.names[i]), contract, {t: d[i] for t, d in self.granted.items()})


def _row_modes(raw: pd.DataFrame, default: str) -> np.ndarray:
    """Each row's mode, read from its ``mode`` cell as the batch engine reads it (the default elsewhere)."""
    position = mode_column([str(c) for c in raw.columns])
    if position is None:
        return np.full(len(raw), default, dtype=object)
    cells = [None if pd.isna(v) else str(v) for v in raw.iloc[:, position]]
    return _engine_row_modes(pa.table({str(raw.columns[position]): pa.array(cells, pa.string())}), default)[0]


def _granted_columns(raw: pd.DataFrame) -> dict[str, list]:
    """``<tier>_granted`` columns parsed as dates (a bare year counts as its 1 January); others None."""
    out = {}
    for column in raw.columns:
        name = str(column).strip().lower()
        if not name.endswith("_granted"):
            continue
        cells = raw[column].astype(str).str.strip()
        years = cells.str.fullmatch(r"\d{4}")
        dates = pd.to_datetime(cells.where(~years, cells + "-01-01"), errors="coerce", format="mixed")
        out[name.removesuffix("_granted")] = [None if pd.isna(d) else d.date() for d in dates]
    return out


# --------------------------------------------------------------------------------------- one firm


def report_name(row: int, name: str) -> str:
    """The report's file name in the ZIP: row number and firm name, safe on every file system."""
    safe = _UNSAFE.sub("_", name).strip("._")[:60]
    return f"{row:05d}-{safe or 'firm'}.pdf"


def pdf_bytes(result: dict, lang: str) -> bytes:
    """The PDF report of one firm."""
    buffer = io.BytesIO()
    services.render_pdf(result, buffer, lang=lang)
    return buffer.getvalue()


def firm_facts(firm: Firm) -> dict:
    """What the portfolio summary needs of one firm (JSON-ready)."""
    result = firm.result
    nxt = result.get("next_tier")
    ready = result.get("readiness") or {}
    prob = (ready.get(nxt) or {}).get("probability") if nxt else None
    actions = (result.get("advice") or {}).get("actions") or []
    top = actions[0] if actions else None
    bench = (result.get("benchmarks") or {}).get(COHORT) or {}
    dims = (result.get("dimensions") or {}).get(COHORT) or {}
    validity = {tid: t.get("validity_years", 3) for tid, t in _tier_validity().items()}
    reviews = [{"tier": tid, "granted": day.isoformat(), "due": add_years(day, validity.get(tid, 3)).isoformat()}
               for tid, day in firm.granted.items() if day is not None and tid in validity]
    return {
        "row": firm.row, "name": firm.name, "tier": result["tier"], "likely_tier": result.get("likely_tier"),
        "next_tier": nxt, "readiness": prob,
        "action": None if top is None else {k: top.get(k) for k in ("title_zh", "title_en", "criterion", "tier")},
        "pct": {m: e.get("percentile") for m, e in bench.items() if isinstance(e, dict)},
        "dims": {d: (dims.get(d) or {}).get("score") for d in DIMENSIONS},
        "reviews": reviews,
    }


def _tier_validity() -> dict:
    out = {}
    for table in services.get_services().rule_book.tables.values():
        for tid, tier in table.tiers.items():
            out.setdefault(tid, {"validity_years": tier.validity_years, "level": getattr(tier, "level", 0)})
    return out


# ------------------------------------------------------------------------------------- portfolio


def summarise(facts: list[dict], judged: Judged, today: dt.date | None = None) -> dict:
    """The portfolio summary of a job (JSON-ready; labels in both languages)."""
    today = today or dt.date.today()
    by_tier = pd.Series([f["tier"] for f in facts], dtype=object).value_counts().to_dict()
    by_likely = pd.Series([f["likely_tier"] for f in facts], dtype=object).value_counts().to_dict()
    spread = {}
    for f in facts:
        if f["next_tier"] and f["readiness"] is not None:
            spread.setdefault(f["next_tier"], []).append(f["readiness"])
    readiness = {tid: {"n": len(v), "median": statistics.median(v),
                       "bins": np.histogram(v, bins=BINS)[0].tolist()} for tid, v in spread.items()}
    metrics = {}
    for f in facts:
        for m, p in f["pct"].items():
            if p is not None:
                metrics.setdefault(m, []).append(p)
    cohort = [{"metric": m, "label_zh": _metric_label(m, "zh")[0], "label_en": _metric_label(m, "en")[0],
               "n": len(v), "median_pct": statistics.median(v), "above_median": sum(p > 50 for p in v) / len(v)}
              for m, v in metrics.items()]
    dims = {d: statistics.median(v) for d in DIMENSIONS
            if (v := [f["dims"][d] for f in facts if f["dims"].get(d) is not None])}
    ranked = sorted((f for f in facts if f["next_tier"] and f["readiness"] is not None),
                    key=lambda f: (-f["readiness"], f["row"]))
    closest = [{k: f[k] for k in ("row", "name", "tier", "next_tier", "readiness", "action")}
               for f in ranked[:CLOSEST]]
    horizon = today + dt.timedelta(days=RE_REVIEW_WINDOW_DAYS)
    reviews = sorted(({"row": f["row"], "name": f["name"], **r} for f in facts for r in f["reviews"]
                      if dt.date.fromisoformat(r["due"]) <= horizon), key=lambda r: (r["due"], r["row"]))
    levels = {tid: v["level"] for tid, v in _tier_validity().items()}
    order = sorted(set(by_tier) | set(by_likely), key=lambda t: (levels.get(t, 0), t))
    return {"rows": judged.n, "valid": judged.valid_count, "errors": judged.n - judged.valid_count,
            "tiers": order, "by_tier": by_tier, "by_likely": by_likely, "readiness": readiness,
            "cohort": {"id": COHORT, "metrics": cohort, "dimensions": dims},
            "closest": closest, "re_reviews": reviews, "as_of": today.isoformat()}


# -------------------------------------------------------------------------------------- the table


TABLE_COLUMNS = ("row", "name", "tier", "likely_tier", "next_tier", "readiness", "errors_zh", "errors_en")


def write_table_view(judged: Judged, facts: list[dict], path: Path) -> None:
    """The job page's results table: one line per input row, errors in both languages."""
    by_row = {f["row"]: f for f in facts}
    rows = []
    for i in range(judged.n):
        f = by_row.get(i + 1, {})
        rows.append({"row": i + 1, "name": str(judged.names[i]), "tier": judged.tier[i] or "",
                     "likely_tier": judged.likely[i] or "", "next_tier": f.get("next_tier") or "",
                     "readiness": f.get("readiness"), "errors_zh": judged.errors_zh[i],
                     "errors_en": judged.errors_en[i]})
    frame = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    frame["readiness"] = frame["readiness"].astype("float64")
    partial = path.with_name(f".{path.name}.part")
    frame.to_parquet(partial, index=False)
    partial.replace(path)


SORTS = ("row", "name", "tier", "readiness")
PAGE_SIZE = 100


def table_page(path: Path, *, tier: str = "", status: str = "", sort: str = "row", desc: bool = False,
               page: int = 1, levels: dict | None = None) -> dict:
    """One page of the results table, filtered by tier (``error`` for rows with input errors) and status."""
    frame = pd.read_parquet(path)
    has_error = frame["errors_en"] != ""
    if status == "ok":
        frame = frame[~has_error]
    elif status == "error":
        frame = frame[has_error]
    if tier:
        frame = frame[frame["tier"] == tier]
    sort = sort if sort in SORTS else "row"
    if sort == "tier":
        key = frame["tier"].map(lambda t: (levels or {}).get(t, -1))
        frame = frame.assign(_key=key).sort_values(["_key", "row"], ascending=[not desc, True])
    else:
        frame = frame.sort_values([sort, "row"], ascending=[not desc, True], na_position="last")
    total = len(frame)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    chunk = frame.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    records = chunk.drop(columns=[c for c in chunk.columns if c == "_key"]).to_dict("records")
    for r in records:
        if r["readiness"] is not None and np.isnan(r["readiness"]):
            r["readiness"] = None
    return {"rows": records, "total": total, "page": page, "pages": pages}
