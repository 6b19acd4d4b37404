"""Batch assessment of a spreadsheet: read, validate, judge, and write the input with results beside it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from webapp.engine.assess import assess
from webapp.engine.io.inputs import normalise_columns
from webapp.engine.io.tables import read_table, write_table


@dataclass
class BatchSummary:
    """What a batch run did, for the command line and the web page."""

    rows: int
    rows_with_errors: int
    tiers: dict[str, int]
    rules: dict[str, str]
    output: str

    def text(self, lang: str = "zh") -> str:
        """One-paragraph summary in ``lang``."""
        counts = ", ".join(f"{k}: {v}" for k, v in self.tiers.items())
        if lang == "zh":
            return (f"共 {self.rows} 行，其中 {self.rows_with_errors} 行输入有误（见 errors 列）；"
                    f"层级分布：{counts}；规则：{', '.join(self.rules.values())}；已写入 {self.output}")
        return (f"{self.rows} rows, {self.rows_with_errors} with input errors (see the errors column); "
                f"tiers: {counts}; rules: {', '.join(self.rules.values())}; wrote {self.output}")


TOP_ACTIONS_AUTO_ROWS = 10_000


def assess_table(raw: pd.DataFrame, *, rules: str | None = None, as_of: dt.date | None = None,
                 mode: str = "new", lang: str = "zh", cohort_ids=(), top_actions: str = "auto"
                 ) -> tuple[pd.DataFrame, object]:
    """Assess a raw table (any supported headers); return the input with result columns and the assessment.

    Parameters
    ----------
    raw : pandas.DataFrame
        As read from the file: canonical, zh or en headers; cells as text.
    rules, as_of, mode : see :func:`webapp.engine.assess.assess`.
    lang : {"zh", "en"}
        Language of the ``errors`` column.
    cohort_ids : sequence of str
        Cohorts whose percentiles to add as ``pct_<cohort>_<metric>`` columns.
    top_actions : {"auto", "yes", "no"}
        Add a ``top_actions`` column (the three best next actions per firm). It explains each firm in
        turn (a few ms a firm), so ``auto`` adds it only up to 10,000 rows.

    Returns
    -------
    out : pandas.DataFrame
        The input columns unchanged, then ``tier``, ``<tier>_status``, ``<tier>_score_min``,
        ``<tier>_score_max`` and ``errors`` (empty results where the row had an input error).
    assessment : Assessment
    """
    raw = raw.reset_index(drop=True)
    canonical, _ = normalise_columns(raw)
    result = assess(canonical, rules=rules, as_of=as_of, mode=mode, first_line=2, extra_cohorts=cohort_ids)
    results = pd.concat([result.frame(), result.readiness_frame()], axis=1)
    if cohort_ids:
        results = pd.concat([results, result.percentile_frame(cohort_ids)], axis=1)
    col = "message_zh" if lang == "zh" else "message_en"
    errors = pd.Series("", index=raw.index, dtype=object)
    if len(result.errors):
        joined = (result.errors["field"] + ": " + result.errors[col]).groupby(result.errors["index"]).agg("; ".join)
        errors.loc[joined.index] = joined.to_numpy()
    out = pd.concat([raw, results.set_axis(raw.index)], axis=1)
    if top_actions == "yes" or (top_actions == "auto" and len(raw) <= TOP_ACTIONS_AUTO_ROWS):
        out["top_actions"] = _top_actions(result, lang)
    out["errors"] = errors
    return out, result


def _top_actions(result, lang: str) -> list[str]:
    """The three best next actions of each valid firm, as one text cell."""
    from webapp.engine.advice.advise import top_actions

    ok = result.valid
    rows = range(len(ok))
    return top_actions([result.to_dict(i, benchmarks=False) if ok[i] else None for i in rows], n=3, lang=lang,
                       profiles=[result.profiles.iloc[i].to_dict() if ok[i] else None for i in rows],
                       rule_book=result.rule_book)


def run_batch(source: str | Path, output: str | Path, *, rules: str | None = None, as_of: dt.date | None = None,
              mode: str = "new", lang: str = "zh", cohort_ids=(), top_actions: str = "auto") -> BatchSummary:
    """Read ``source`` (.csv/.xlsx/.parquet), assess every row, write ``output``; return a summary."""
    output = Path(output)
    if output.suffix.lower() not in (".csv", ".xlsx", ".parquet"):
        raise ValueError(f"unsupported output type {output.suffix!r}; use .csv, .xlsx or .parquet")
    raw = read_table(source, normalise=False)
    out, result = assess_table(raw, rules=rules, as_of=as_of, mode=mode, lang=lang, cohort_ids=cohort_ids,
                               top_actions=top_actions)
    write_table(out, output)
    valid = result.valid
    tiers, counts = np.unique(result.tier[valid].astype(str), return_counts=True)
    return BatchSummary(rows=len(out), rows_with_errors=int((~valid).sum()),
                        tiers=dict(zip(tiers.tolist(), counts.tolist())), rules=result.ruleset.versions(),
                        output=str(output))
