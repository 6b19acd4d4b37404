"""The XLSX export a client can open: numbers as numbers with formats, labels instead of codes, every part."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from tests.factories import make_profile
from tests.web.helpers import add_client, register, save_assessment
from webapp import fields

SHEETS = {"zh": ["概要", "输入", "评估结果", "对标", "就绪度", "行动建议", "路线图", "里程碑"],
          "en": ["Summary", "Inputs", "Criteria", "Benchmarks", "Readiness", "Actions", "Roadmap", "Milestones"]}


@pytest.fixture
def saved(client):
    register(client)
    cid = add_client(client)
    return save_assessment(client, cid)


def _book(client, aid, lang):
    client.get(f"/lang/{lang}")
    response = client.get(f"/assessments/{aid}/export.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def _rows(sheet):
    return [[c for c in row] for row in sheet.iter_rows(min_row=2)]


def _by_label(sheet, label):
    return next(row for row in _rows(sheet) if row[1].value == label)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_part_as_numbers_and_labels(client, saved, lang):
    """Inputs, criteria, benchmarks, readiness, actions and roadmap; no number stored as text; no code."""
    book = _book(client, saved, lang)
    assert book.sheetnames == SHEETS[lang]
    inputs = book[SHEETS[lang][1]]
    revenue = _by_label(inputs, fields.label("revenue", lang))[2]
    assert revenue.value == 8000 and ("万元" if lang == "zh" else "10k CNY") in revenue.number_format
    debt = _by_label(inputs, fields.label("debt_ratio_pct", lang))[2]
    assert debt.value == pytest.approx(0.45) and debt.number_format.endswith("%")
    sector = _by_label(inputs, fields.label("sector", lang))[2]
    assert sector.value == ("高档数控机床和机器人" if lang == "zh" else "High-end CNC machine tools and robotics")
    assert _by_label(inputs, fields.label("hnte", lang))[2].value == ("是" if lang == "zh" else "yes")

    criteria = _rows(book[SHEETS[lang][2]])
    i2 = next(r for r in criteria if r[1].value == "I2")  # R&D 600 / revenue 8000 = 7.5%, 20 points of 20
    assert i2[4].value == pytest.approx(0.075) and i2[4].number_format == "0.00%"
    assert (i2[5].value, i2[6].value, i2[7].value) == (20, 20, 20)
    assert {r[3].value for r in criteria} <= ({"符合", "不符合", "待定"} if lang == "zh" else
                                              {"met", "not met", "unknown"})
    bench = _rows(book[SHEETS[lang][3]])
    assert bench and all(isinstance(r[4].value, float) and 0 <= r[4].value <= 100 for r in bench)
    ready = _rows(book[SHEETS[lang][4]])
    assert ready and all(0 <= r[1].value <= 1 and r[1].number_format == "0%" for r in ready)
    actions = _rows(book[SHEETS[lang][5]])
    assert actions and any(isinstance(r[6].value, dt.datetime) for r in actions)
    roadmap = _rows(book[SHEETS[lang][6]])
    assert any(isinstance(r[3].value, int | float) and isinstance(r[4].value, int | float) for r in roadmap)

    codes = {v for v in make_profile().values() if isinstance(v, str) and not re.search(r"[\u4e00-\u9fff]", v)}
    codes |= {s.name for s in fields.REGISTRY} | {"met", "not_met", "srdi_sme", "little_giant", "True", "False"}
    if lang == "en":
        codes -= {"met"}
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.value not in codes, (sheet.title, cell.coordinate, cell.value)
                    assert not re.fullmatch(r"-?[\d,]+(\.\d+)?%?", cell.value), (sheet.title, cell.coordinate)


def test_summary_names_the_client_date_and_tier(client, saved):
    book = _book(client, saved, "zh")
    summary = {row[0].value: row[1] for row in book["概要"].iter_rows() if row[0].value}
    assert summary["委托方"].value == "宁波示例精密传动有限公司" and summary["当前层级"].value == "专精特新中小企业"
    assert summary["评估日期"].value.date() == dt.date.today() and summary["编制"].value == "顾问甲"
    assert summary["下一层级认定概率"].number_format == "0%"
