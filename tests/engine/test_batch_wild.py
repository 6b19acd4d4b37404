"""Files from the wild: XLSX bombs, GB18030 CSVs, formula-like text, line breaks in cells, unknown, duplicated
headers and unreadable Parquet columns; refused with one clear line each, never a traceback."""

from __future__ import annotations

import csv
import datetime as dt
import re
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tests.factories import make_profile
from webapp import fields
from webapp.cli import main
from webapp.engine.batch import run_batch
from webapp.engine.io.tables import TableError, read_table

AS_OF = dt.date(2026, 6, 1)
FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\tindented", "\rreturn"]


def _xlsx_bomb(path: Path) -> Path:
    """A small workbook whose sheet claims A1:XFD1048576 (16,384 x 1,048,576 cells)."""
    book = openpyxl.Workbook()
    book.active.append(["revenue", "employees"])
    book.active.append([100, 5])
    plain = path.with_name("plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', data)
                assert count == 1
            dst.writestr(item, data)
    return path


def test_xlsx_bomb_is_refused_quickly(tmp_path):
    bomb = _xlsx_bomb(tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < 10_000
    start = time.perf_counter()
    with pytest.raises(TableError) as caught:
        run_batch(bomb, tmp_path / "out.csv", as_of=AS_OF)
    assert time.perf_counter() - start < 5
    assert caught.value.problems[0][0] == "xlsx_size" and "16,384" in str(caught.value)
    res = CliRunner().invoke(main, ["batch", str(bomb), "-o", str(tmp_path / "out.csv"), "--lang", "en"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert res.stderr.strip().count("\n") == 0 and "16,384" in res.stderr
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("bom", [b"", b"\x84\x31\x95\x33"])
def test_csv_saved_by_chinese_excel_is_read(tmp_path, bom):
    """GBK/GB18030 text (as Excel saves "CSV" on a Chinese Windows), with or without its BOM."""
    rows = [make_profile(firm_name="宁波甲乙精密传动有限公司"), make_profile(firm_name="杭州丙丁科技", revenue="十万")]
    src = tmp_path / "gbk.csv"
    text = pd.DataFrame([{fields.label(k, "zh"): v for k, v in row.items()} for row in rows]).to_csv(index=False)
    src.write_bytes(bom + text.encode("gb18030"))
    out = tmp_path / "out.csv"
    summary = run_batch(src, out, rules="SME-2026", as_of=AS_OF, top_actions="no")
    got = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert summary.rows == 2 and summary.rows_with_errors == 1
    assert list(got[fields.label("firm_name", "zh")]) == ["宁波甲乙精密传动有限公司", "杭州丙丁科技"]
    assert got.columns[0] == fields.label(next(iter(rows[0])), "zh")  # no BOM left in the first header
    assert got.loc[0, "tier"] == "srdi_sme" and "营业收入" in got.loc[1, "errors"]


def _wild_rows(tmp_path: Path) -> Path:
    rows = [make_profile(firm_name=name) for name in FORMULAS]
    rows.append(make_profile(firm_name="第一行\n第二行, \"引号\"", net_profit=-5))
    frame = pd.DataFrame(rows)
    frame.insert(1, "备注", ["-5", "+1.5e3", "ok", "=1+1", "", "x", "7"])
    src = tmp_path / "wild.csv"
    frame.to_csv(src, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_ALL)  # a bare CR would end the line
    return src


def test_formulas_neutralised_and_line_breaks_kept_in_csv(tmp_path):
    out = tmp_path / "out.csv"
    run_batch(_wild_rows(tmp_path), out, rules="SME-2026", as_of=AS_OF, top_actions="no")
    got = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(got) == 7
    assert list(got["firm_name"][:6]) == ["'" + name for name in FORMULAS]
    assert got.loc[6, "firm_name"] == "第一行\n第二行, \"引号\"" and got.loc[6, "net_profit"] == "-5.0"
    assert list(got["备注"]) == ["-5", "+1.5e3", "ok", "'=1+1", "", "x", "7"]  # numbers stay numbers
    assert got["tier"].ne("").all()  # the firm names do not change the results


def test_formulas_neutralised_and_line_breaks_kept_in_xlsx(tmp_path):
    out = tmp_path / "out.xlsx"
    run_batch(_wild_rows(tmp_path), out, rules="SME-2026", as_of=AS_OF, top_actions="no")
    sheet = openpyxl.load_workbook(out).active
    header = [cell.value for cell in sheet[1]]
    names = [sheet.cell(row=r, column=header.index("firm_name") + 1) for r in range(2, 9)]
    assert all(cell.data_type == "s" for cell in names)
    # XML reads a carriage return back as a line feed
    assert [cell.value for cell in names[:6]] == ["'" + name.replace("\r", "\n") for name in FORMULAS]
    assert names[6].value == "第一行\n第二行, \"引号\""
    again = read_table(out)  # and it reads back through the streaming XLSX reader
    assert len(again) == 7 and again.loc[6, "firm_name"] == "第一行\n第二行, \"引号\""


def test_no_recognised_header_is_refused_listing_expected_ones(tmp_path):
    src = tmp_path / "odd.csv"
    src.write_text("公司,金额\n甲,1\n", encoding="utf-8")
    with pytest.raises(TableError) as caught:
        run_batch(src, tmp_path / "out.csv", as_of=AS_OF)
    assert caught.value.problems[0][0] == "no_known_header"
    assert "firm_name" in caught.value.message_en and "revenue" in caught.value.message_zh
    res = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "out.csv")])
    assert res.exit_code == 2 and "未找到可识别的表头" in res.stderr and "Traceback" not in res.output


def test_duplicated_headers_are_refused_naming_them(tmp_path):
    src = tmp_path / "dup.csv"
    src.write_text("revenue,上年度营业收入,备注,备注\n1,2,a,b\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "out.csv"), "--lang", "en"])
    lines = res.stderr.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 2
    assert "'备注'" in lines[0] and "'revenue'" in lines[1] and "'上年度营业收入'" in lines[1] and "revenue" in lines[1]


@pytest.mark.parametrize(("column", "kind"), [
    (pa.array([[1, 2], [3]]), "nested"),
    (pa.array([{"a": 1}, {"a": 2}]), "nested"),
    (pa.array([1, 2], type=pa.duration("s")), "duration"),
])
def test_parquet_nested_or_duration_columns_are_refused_naming_the_column(tmp_path, column, kind):
    src = tmp_path / "odd.parquet"
    pq.write_table(pa.table({"revenue": [100.0, 200.0], "extra": column}), src)
    with pytest.raises(TableError) as caught:
        run_batch(src, tmp_path / "out.csv", as_of=AS_OF)
    assert "'extra'" in caught.value.message_en and kind in caught.value.message_en
    assert "'extra'" in caught.value.message_zh


def test_malformed_csv_is_one_line_not_a_traceback(tmp_path):
    src = tmp_path / "ragged.csv"
    src.write_text("revenue,employees\n1,2\n3,4,5,6\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["batch", str(src), "-o", str(tmp_path / "out.csv"), "--lang", "en"])
    assert res.exit_code == 2 and "malformed CSV" in res.stderr and "Traceback" not in res.output
    assert not (tmp_path / "out.csv").exists() and list(tmp_path.iterdir()) == [src]


def test_formulas_neutralised_in_large_string_columns():
    """pandas hands Arrow large_string columns (e.g. a frame read back from Parquet): same neutralising."""
    import pyarrow as pa

    from webapp.engine.io.writers import neutralise

    for kind in (pa.string(), pa.large_string()):
        out = neutralise(pa.chunked_array([pa.array(["=1+1", "ok", "-5", "@x"], kind)]))
        assert out.to_pylist() == ["'=1+1", "ok", "-5", "'@x"]
