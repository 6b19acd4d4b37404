"""Which cohorts a firm is compared with: its region, province and city cohorts, and the cohort that
portrays each tier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# The cohort that portrays each tier, for comparing a firm with the rung it aims at.
TIER_COHORTS = {"innovative_sme": "tier_innovative_sme", "tech_sme": "tier_innovative_sme",
                "srdi_sme": "tier_srdi_sme", "little_giant": "little_giant",
                "single_champion": "tier_single_champion"}

REGION_PROVINCES = {"region_jjj": ("北京", "天津", "河北"), "region_yrd": ("上海", "江苏", "浙江", "安徽")}
GBA_CITIES = ("广州", "深圳", "珠海", "佛山", "惠州", "东莞", "中山", "江门", "肇庆")
PROVINCE_COHORTS = {"北京": "province_beijing", "江苏": "province_jiangsu", "广东": "province_guangdong"}
CITY_COHORTS = {"北京": "city_beijing", "深圳": "city_shenzhen", "上海": "city_shanghai",
                "宁波": "city_ningbo", "重庆": "city_chongqing"}
_MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
_CITY_PROVINCE = {**{c: "广东" for c in GBA_CITIES}, "宁波": "浙江", **{m: m for m in _MUNICIPALITIES}}
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def _short_name(name) -> str:
    """Short Chinese place name: '广东省' -> '广东', '深圳市' -> '深圳'; None/NaN -> ''."""
    if name is None or (isinstance(name, float) and np.isnan(name)) or name is pd.NA:
        return ""
    s = str(name).strip()
    for suffix in _SUFFIXES:
        if s.endswith(suffix) and len(s) - len(suffix) >= 2:
            return s[: -len(suffix)]
    return s


def cohorts_for(province, city, *, available=None) -> list[str]:
    """Cohorts to compare a firm with: little giants plus its own region, province and city cohorts.

    Parameters
    ----------
    province, city : str or None
        Short Chinese names (广东, 深圳); suffixes 省/市/自治区 are ignored, a missing province is
        inferred from the city where unambiguous (深圳 -> 广东, 宁波 -> 浙江, municipalities).
    available : iterable of str, optional
        Keep only these ids (e.g. ``CohortSet.ids``).

    Returns
    -------
    list of str
        ``["little_giant", region?, province?, city?]``.
    """
    prov, cty = _short_name(province), _short_name(city)
    prov = prov or _CITY_PROVINCE.get(cty, "")
    if not cty and prov in _MUNICIPALITIES:
        cty = prov
    ids = ["little_giant"]
    ids += [cid for cid, provs in REGION_PROVINCES.items() if prov in provs]
    if cty in GBA_CITIES and prov in ("", "广东"):
        ids.append("region_gba")
    ids += [PROVINCE_COHORTS[prov]] if prov in PROVINCE_COHORTS else []
    ids += [CITY_COHORTS[cty]] if cty in CITY_COHORTS and _CITY_PROVINCE.get(cty, prov) == prov else []
    return [i for i in ids if available is None or i in set(available)]


def cohort_membership(profiles: pd.DataFrame, *, available=None) -> pd.DataFrame:
    """Which of its own cohorts each firm belongs to: a boolean frame, firms x cohort ids.

    Looks up each distinct (province, city) pair once, so it stays fast for a million rows.
    """
    n = len(profiles)
    prov = profiles["province"] if "province" in profiles else pd.Series([None] * n, index=profiles.index)
    city = profiles["city"] if "city" in profiles else pd.Series([None] * n, index=profiles.index)
    keys = pd.MultiIndex.from_arrays([prov.map(_short_name), city.map(_short_name)])
    codes, uniques = pd.factorize(keys)
    chosen = [cohorts_for(p, c, available=available) for p, c in uniques]
    ids = list(dict.fromkeys(cid for own in chosen for cid in own))
    table = np.zeros((len(chosen), len(ids)), dtype=bool)
    for row, own in enumerate(chosen):
        table[row, [ids.index(cid) for cid in own]] = True
    return pd.DataFrame(table[codes], index=profiles.index, columns=ids)
