"""The bilingual input template: one example row under zh/en headers, and a help sheet in .xlsx."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from webapp.engine.io.tables import table_format
from webapp.fields import REGISTRY, FieldSpec, template_header

# A plausible Zhejiang machinery firm holding the provincial SRDI title: the template's example row.
EXAMPLE: dict[str, object] = {
    "firm_name": "宁波示例精密传动有限公司", "province": "浙江", "city": "宁波",
    "sme_industry": "industrial", "sector": "cnc_robotics", "strategic_emerging": True,
    "industrial_foundation": True, "chain_breakthrough": False, "years_in_niche": 9, "years_in_field": 12,
    "new_product": False,
    "revenue": 12800, "revenue_prev": 11200, "revenue_prev2": 9800,
    "main_revenue": 11900, "main_revenue_prev": 10300, "main_revenue_prev2": 8900,
    "net_profit": 1150, "total_assets": 15600, "total_costs": 11400, "debt_ratio_pct": 42.5,
    "equity_financing_2y": 0, "equity_financing_3y": 1500,
    "rd_expense": 720, "rd_expense_prev": 610, "rd_expense_prev2": 530,
    "employees": 236, "rd_staff": 48,
    "rd_institution": "provincial", "digital_level": 3, "core_business_it": True, "quality_award": False,
    "quality_certified": True, "own_brand": True, "standards_count": 4, "standards_led": 1,
    "local_points": 10, "niche_share_pct": 11.5, "niche_share_intl_pct": 2.8, "niche_rank_domestic": 3,
    "niche_share_high": True, "global_rank": 12,
    "patent_applications": 86, "invention_applications": 34, "invention_grants": 17, "valid_inventions": 15,
    "valid_utility_models": 41, "valid_designs": 6, "software_copyrights": 5, "pct_applications": 2,
    "overseas_markets": 2, "citations": 57, "licenses_out": 1,
    "applications_last": 12, "applications_prev": 10, "applications_prev2": 9,
    "class1_ip": 14, "class1_ip_self": 12, "class1_ip_high_value": 1, "class1_ip_applied": 8, "class2_ip": 26,
    "hnte": True, "tech_innovation_demo": False, "ip_advantage": False, "award_level": "provincial",
    "award_rank": 2, "makers_china": "none", "platform_score": 63.5, "platform_score_prev": 58,
    "title_innovative": True, "title_tech_sme": True, "title_srdi": True, "title_little_giant": False,
    "clean_record": True,
    "years_registered": 11, "sci_staff": 52, "tech_field": "advanced_manufacturing", "hitech_revenue_share_pct": 72,
    "rd_domestic_share_pct": 100, "net_assets": 8900, "net_assets_prev": 7800, "net_assets_prev2": 6900,
    "tech_transfers_3y": 11, "tech_level": "b", "core_support": "b", "ip_self_developed": True,
    "standards_participation": True, "rdm_system": 5, "rdm_institution": 5, "rdm_transfer": 3, "rdm_talent": 3,
}


def _example_cell(spec: FieldSpec, value, lang: str):
    """Example value as a user would type it: labels for enums, 是/否 or yes/no for booleans."""
    if spec.kind == "bool":
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if spec.kind == "enum":
        labels = spec.choice_labels_zh if lang == "zh" else spec.choice_labels_en
        return labels[spec.choices.index(value)]
    return value


def template_frame(*, lang: str = "zh") -> pd.DataFrame:
    """One example row under bilingual headers (``zh label（unit） / en label (unit) [name]``)."""
    row = {template_header(spec): _example_cell(spec, EXAMPLE[spec.name], lang) for spec in REGISTRY}
    return pd.DataFrame([row], dtype=object)


def _help_frame() -> pd.DataFrame:
    """One line per field: name, labels, unit, allowed values and help, for the template's second sheet."""
    def allowed(spec: FieldSpec) -> str:
        if spec.kind == "enum":
            return "; ".join(f"{c} = {z} / {e}" for c, z, e in
                             zip(spec.choices, spec.choice_labels_zh, spec.choice_labels_en, strict=True))
        if spec.kind == "bool":
            return "是/否, true/false, yes/no, 1/0"
        if spec.kind == "text":
            return ""
        lo, hi = ("" if bound is None else f"{bound:,.0f}" if float(bound).is_integer() else f"{bound:g}"
                  for bound in (spec.lo, spec.hi))
        return f"{lo} – {hi}" + ("（整数 / whole number）" if spec.integer else "")

    return pd.DataFrame({
        "字段 field": [s.name for s in REGISTRY], "中文名称": [s.label_zh for s in REGISTRY],
        "English label": [s.label_en for s in REGISTRY],
        "单位 unit": [f"{s.unit_zh} / {s.unit_en}" if s.unit_zh else "" for s in REGISTRY],
        "取值 allowed": [allowed(s) for s in REGISTRY],
        "说明": [s.help_zh for s in REGISTRY], "Help": [s.help_en for s in REGISTRY],
    })


def write_template(path, *, lang: str = "zh") -> Path:
    """Write the input template (.csv or .xlsx; .xlsx adds a help sheet) and return its path.

    Parameters
    ----------
    path : str or pathlib.Path
        Target file; the extension picks the format.
    lang : {"zh", "en"}, default "zh"
        Language of the example row's enum and yes/no values (headers are always bilingual).
    """
    path = Path(path)
    fmt = table_format(path)
    if fmt == ".parquet":
        raise ValueError("the input template is written as .csv or .xlsx, not .parquet")
    frame = template_frame(lang=lang)
    if fmt == ".csv":
        frame.to_csv(path, index=False, encoding="utf-8-sig")
        return path
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="profiles", index=False)
        _help_frame().to_excel(writer, sheet_name="说明 help", index=False)
        sheet = writer.sheets["profiles"]
        sheet.freeze_panes = "B2"
        for cells in sheet.iter_cols(min_row=1, max_row=1):
            sheet.column_dimensions[cells[0].column_letter].width = 24
    return path
