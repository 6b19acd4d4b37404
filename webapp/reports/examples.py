"""Example reports: ``python -m webapp.reports.examples OUTDIR [--png]`` writes zh and en PDFs for three firms."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pandas as pd

from webapp.engine.advice.advise import advise
from webapp.engine.assess import assess
from webapp.reports.pdf import render_pdf

AS_OF = dt.date(2026, 11, 20)

# A Shenzhen sensor maker that holds the little-giant title: every field known.
STRONG = {
    "firm_name": "深圳微纳精密传感科技股份有限公司", "province": "广东", "city": "深圳", "sme_industry": "industrial",
    "sector": "next_gen_it", "strategic_emerging": True, "industrial_foundation": True, "chain_breakthrough": True,
    "years_in_niche": 11, "years_in_field": 12, "new_product": False,
    "revenue": 32000, "revenue_prev": 27500, "revenue_prev2": 23000,
    "main_revenue": 30400, "main_revenue_prev": 26000, "main_revenue_prev2": 21500,
    "net_profit": 3900, "total_assets": 41000, "total_costs": 27000, "debt_ratio_pct": 38,
    "equity_financing_2y": 6000, "equity_financing_3y": 9000,
    "rd_expense": 2600, "rd_expense_prev": 2150, "rd_expense_prev2": 1800,
    "employees": 620, "rd_staff": 180, "rd_institution": "provincial", "digital_level": 3, "core_business_it": True,
    "quality_award": True, "quality_certified": True, "own_brand": True, "standards_count": 6, "standards_led": 2,
    "local_points": 12, "niche_share_pct": 24, "niche_share_intl_pct": 9, "niche_rank_domestic": 1,
    "niche_share_high": True, "global_rank": 5,
    "patent_applications": 310, "invention_applications": 170, "invention_grants": 82, "valid_inventions": 78,
    "valid_utility_models": 90, "valid_designs": 12, "software_copyrights": 40, "pct_applications": 9,
    "overseas_markets": 4, "citations": 520, "licenses_out": 2,
    "applications_last": 52, "applications_prev": 44, "applications_prev2": 37,
    "class1_ip": 70, "class1_ip_self": 66, "class1_ip_high_value": 6, "class1_ip_applied": 48, "class2_ip": 60,
    "hnte": True, "tech_innovation_demo": False, "ip_advantage": True, "award_level": "provincial", "award_rank": 1,
    "makers_china": "top500", "platform_score": 78, "platform_score_prev": 74,
    "title_innovative": True, "title_tech_sme": False, "title_srdi": True, "title_little_giant": True,
    "clean_record": True,
}
# A small Chengdu software firm with little R&D and no title yet.
WEAK = {
    "firm_name": "成都云栖数据软件有限公司", "province": "四川", "city": "成都", "sme_industry": "software_it",
    "sector": "next_gen_it", "strategic_emerging": False, "industrial_foundation": False, "chain_breakthrough": False,
    "years_in_niche": 2,
    "revenue": 900, "revenue_prev": 820, "revenue_prev2": 760,
    "main_revenue": 830, "main_revenue_prev": 760, "main_revenue_prev2": 700,
    "net_profit": 25, "total_assets": 1100, "total_costs": 860, "debt_ratio_pct": 62,
    "equity_financing_2y": 0, "equity_financing_3y": 0,
    "rd_expense": 15, "rd_expense_prev": 12, "rd_expense_prev2": 10,
    "employees": 35, "rd_staff": 8, "rd_institution": "none", "digital_level": 2, "core_business_it": True,
    "quality_award": False, "quality_certified": False, "own_brand": True, "standards_count": 0, "standards_led": 0,
    "niche_share_pct": 1, "niche_share_high": False,
    "patent_applications": 6, "invention_applications": 2, "invention_grants": 0, "valid_inventions": 0,
    "valid_utility_models": 2, "valid_designs": 0, "software_copyrights": 9, "pct_applications": 0,
    "overseas_markets": 0, "citations": 1, "licenses_out": 0,
    "applications_last": 3, "applications_prev": 2, "applications_prev2": 1,
    "class1_ip": 0, "class1_ip_self": 0, "class1_ip_high_value": 0, "class1_ip_applied": 0, "class2_ip": 3,
    "hnte": False, "tech_innovation_demo": False, "ip_advantage": False, "award_level": "none",
    "makers_china": "none", "title_innovative": False, "title_tech_sme": False, "title_srdi": False,
    "title_little_giant": False, "clean_record": True,
}
# The quick check: a dozen fields, and a name that tests escaping and wrapping.
SPARSE = {
    "firm_name": "杭州<b>启明</b> & 星辰智能装备有限公司（测试用超长企业名称以检验换行是否正确处理）",
    "province": "浙江", "sector": "cnc_robotics", "revenue": 4200, "revenue_prev": 3600,
    "rd_expense": 210, "rd_expense_prev": 160, "employees": 140, "rd_staff": 30,
    "patent_applications": 38, "invention_applications": 12, "class1_ip": 4,
}
PROFILES = {"strong": STRONG, "weak": WEAK, "sparse": SPARSE}


def example_result(name: str, *, as_of: dt.date = AS_OF) -> dict:
    """The assessment contract of one example firm, with its advice."""
    profile = PROFILES[name]
    result = assess(pd.DataFrame([profile], dtype=object), as_of=as_of).to_dict(0)
    result["advice"] = advise(result, profile)
    return result


def write_examples(outdir: Path, *, png: bool = False) -> list[Path]:
    """Write ``<firm>_<lang>.pdf`` for every example firm (and page PNGs at 60 dpi when asked)."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in PROFILES:
        result = example_result(name)
        for lang in ("zh", "en"):
            path = outdir / f"{name}_{lang}.pdf"
            with open(path, "wb") as fh:
                render_pdf(result, fh, lang=lang, consultant="示例咨询 Example Consulting" if name == "strong"
                           else None, client=result.get("firm_name") if name == "strong" else None)
            written.append(path)
            if png and shutil.which("pdftoppm"):
                subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(outdir / f"{name}_{lang}")],
                               check=True)
    return written


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("outdir", type=Path, help="folder to write the PDFs into (keep it out of git)")
    parser.add_argument("--png", action="store_true", help="also render every page to PNG with pdftoppm")
    args = parser.parse_args(argv)
    for path in write_examples(args.outdir, png=args.png):
        print(path)


if __name__ == "__main__":  # pragma: no cover
    main()
