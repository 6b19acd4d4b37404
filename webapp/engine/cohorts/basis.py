"""The zh/en sentences saying what a fitted cohort metric rests on (``basis_zh``, ``basis_en`` in fitted.json),
with each source named as clients read it (``publications.toml``: the publication, never a web address)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from webapp.engine.cohorts.metrics import METRIC_LABELS

PUBLICATIONS_FILE = "publications.toml"
_ADDRESS = re.compile(r"\b(?:[a-z0-9-]+\.)+(?:com|cn|net|org|edu|html?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Publication:
    """How clients read one source of aggregates.csv."""

    match: str
    zh: str
    en: str
    keep_rest: bool = False


def load_publications(directory: Path) -> list[Publication]:
    """The entries of ``directory/publications.toml``, longest match first."""
    path = Path(directory) / PUBLICATIONS_FILE
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        pubs = [Publication(p["match"], p["zh"], p["en"], bool(p.get("keep_rest", False)))
                for p in doc.get("publications", [])]
    except FileNotFoundError:
        raise ValueError(f"{path.name}: file not found in {path.parent}") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path.name}: not a valid publications table ({type(exc).__name__}: {exc})") from None
    return sorted(pubs, key=lambda p: -len(p.match))


# Words of a publication's locator (after its name in aggregates.csv) in Chinese: "§3.3 city pages (national
# mean)" -> "§3.3 城市页（全国均值）".
_REST_ZH = (("city pages", "城市页"), (" (national mean)", "（全国均值）"), ("chart", "图表"))


def cite_source(text: str, publications: list[Publication], lang: int) -> str:
    """The client's name for a provenance ``text`` of aggregates.csv (lang 0 = zh, 1 = en).

    Raises
    ------
    ValueError
        When no publication matches, or the name would still hold a web address.
    """
    for pub in publications:
        if text.startswith(pub.match):
            out = pub.zh if lang == 0 else pub.en
            if pub.keep_rest:
                rest = text[len(pub.match):].strip()
                if lang == 0:
                    for en, zh in _REST_ZH:
                        rest = rest.replace(en, zh)
                out = f"{out} {rest}".strip()
            if _ADDRESS.search(out):
                raise ValueError(f"{PUBLICATIONS_FILE}: the name for {text!r} holds a web address")
            return out
    raise ValueError(f"{PUBLICATIONS_FILE}: no entry matches the source {text!r} of aggregates.csv")

_FAMILY_NAMES = {"zi_dlognorm": ("零膨胀离散对数正态分布", "zero-inflated discretised lognormal"),
                 "zi_lognorm": ("含零点的对数正态分布", "lognormal with a mass at zero"),
                 "logitnorm": ("logit正态分布", "logit-normal"),
                 "growth_lognorm": ("增长因子对数正态分布", "lognormal growth factor")}
_STAT_NAMES = {"mean": ("均值", "mean"), "typical": ("典型值（按均值）", "typical value (as a mean)"),
               "ratio_of_totals": ("合计比值", "pooled ratio"), "total": ("合计", "total"),
               "median": ("中位数", "median"), "cagr_of_mean": ("均值年复合增长率", "growth of the mean"),
               "share": ("占比", "share"), "count": ("企业数", "firms"), "share_below": ("占比", "share")}


def _figure(row: dict, lang: int) -> str:
    """One figure in words, e.g. 'share at 1-9: 19.7%' / '1-9区间占比19.7%'."""
    kind, _, arg = row["statistic"].partition(":")
    name = _STAT_NAMES.get(kind, (kind, kind))[lang]
    value = float(row["value"])
    shown = f"{100 * value:.4g}%" if kind in ("share", "share_below") else row["value"]
    if kind == "share_below":
        arg = f"{'低于' if lang == 0 else 'below '}{arg}"
    flag = ("（假设）" if lang == 0 else " (assumption)") if row["is_assumption"] == "1" else ""
    if lang == 0:
        return f"{arg}{'区间' if arg and kind != 'share_below' else ''}{name}{shown}{flag}"
    if not arg:
        return f"{name} {shown}{flag}"
    return f"{name} {'' if kind == 'share_below' else 'at '}{arg}: {shown}{flag}"


def _figures(rows: list[dict], lang: int, publications: list[Publication]) -> str:
    """Figures grouped by source: 'mean 1.65, share at 0: 76.7% (PatSnap 2023 ... chart 2.8)'."""
    by_source: dict[str, list[str]] = {}
    for r in rows:
        by_source.setdefault(r["source"], []).append(_figure(r, lang))
    sep, open_, close = ("、", "（", "）") if lang == 0 else (", ", " (", ")")
    return ("；" if lang == 0 else "; ").join(f"{sep.join(f)}{open_}{cite_source(src, publications, lang)}{close}"
                                             for src, f in by_source.items())


def _borrowed_from(names: list[str], meta: pd.DataFrame, lang: int) -> str:
    """'little_giant/pct_applications' -> '专精特新“小巨人”企业（五批）的PCT专利申请量'."""
    parts = []
    for name in names:
        cid, metric = name.split("/")
        cohort = meta.loc[cid, "name_zh" if lang == 0 else "name_en"]
        label = METRIC_LABELS[metric][lang]
        parts.append(f"{cohort}的{label}" if lang == 0 else f"{label} of {cohort}")
    return ("、" if lang == 0 else " and ").join(parts)


_SPREAD_TEXT = {"published": ("离散度按公开分布拟合", "spread fitted to the published distribution"),
                "assumed": ("离散度依据明示假设", "spread set by stated assumptions")}


def basis_text(entry: dict, rows: list[dict], meta: pd.DataFrame, cid: str,
               publications: list[Publication]) -> dict:
    """The zh/en sentences a report prints under a percentile.

    Parameters
    ----------
    entry : dict
        A fitted (cohort, metric) entry: family, dispersion, assumption flag and as_of.
    rows : list of dict
        The aggregates.csv rows it was fitted to.
    meta : pandas.DataFrame
        cohorts.csv indexed by cohort id (display names).
    cid : str
        The cohort id.
    publications : list of Publication
        How clients read each source (:func:`load_publications`).

    Returns
    -------
    dict
        ``{"basis_zh": str, "basis_en": str, "references_zh": list, "references_en": list}``: the sentences
        and the sources by their client-facing names.
    """
    disp, (fam_zh, fam_en) = entry["dispersion"], _FAMILY_NAMES[entry["family"]]
    if disp["origin"] == "borrowed":
        zh_spread = f"该群体未公布分布，离散度借用{_borrowed_from(disp['from'], meta, 0)}的公开分布"
        en_spread = f"no spread is published for it, so the spread is borrowed from the published " \
                    f"distribution of {_borrowed_from(disp['from'], meta, 1)}"
    else:
        zh_spread, en_spread = _SPREAD_TEXT[disp["origin"]]
    extra_zh, extra_en = ("；含明示假设", "; includes stated assumptions") if entry["assumption"] \
        else ("", "")
    name_zh, name_en = meta.loc[cid, "name_zh"], meta.loc[cid, "name_en"]
    return {"basis_zh": f"{name_zh}：按公开汇总数据拟合的{fam_zh}（{_figures(rows, 0, publications)}）；"
                        f"{zh_spread}{extra_zh}；数据截至{entry['as_of']}。",
            "basis_en": f"{name_en}: {fam_en} fitted to published aggregates ({_figures(rows, 1, publications)}); "
                        f"{en_spread}{extra_en}; data as of {entry['as_of']}.",
            "references_zh": sorted({cite_source(r["source"], publications, 0) for r in rows}),
            "references_en": sorted({cite_source(r["source"], publications, 1) for r in rows})}
