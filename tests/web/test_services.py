"""Services, forms and SVG helpers: one validation path, typed frames, seams for the parts still to come."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing, Rect, String

from tests.factories import make_profile, make_profiles
from webapp import fields
from webapp.engine.assess import assess
from webapp.engine.io.inputs import validate_columns
from webapp.web import forms, insights, services
from webapp.web.svg import inline_svg, line_chart


def test_typed_frame_gives_the_same_result_as_raw_values(app):
    """The fast typed path and the raw-record path judge a profile identically."""
    profile = make_profile(rd_expense=None, award_level="national")
    with app.app_context():
        typed = services.assess_profile(profile).result
    raw = assess(pd.DataFrame([profile], dtype=object), first_line=1).to_dict(0)
    for key in ("as_of", "tiers", "tier", "rules"):
        assert typed[key] == raw[key]


def test_validate_returns_clean_profile_and_errors(app):
    """Form text becomes typed values; bad values come back as errors."""
    with app.app_context():
        clean, errors = services.validate({"revenue": "8,000", "hnte": "true", "sector": "nev", "city": " "})
        assert clean == {"revenue": 8000, "hnte": True, "sector": "nev"} and errors.empty
        _, errors = services.validate({"revenue": "abc"})
        assert list(errors["field"]) == ["revenue"]


def test_clean_profile_from_columns_is_the_one_from_the_frame():
    """The validator's column arrays give the clean profile the frame gives, value for value and type for type,
    for firms with unknown numbers, enums, titles and text."""
    frame = make_profiles(60, seed=9).astype(object)
    frame = frame.mask(np.random.default_rng(9).random(frame.shape) < 0.25)
    clean, errors, columns = validate_columns(frame)
    assert errors.empty
    for i in range(len(frame)):
        from_frame = services.clean_profile(clean, i)
        from_columns = services.clean_profile(clean, i, columns=columns)
        assert from_columns == from_frame
        assert [type(v) for v in from_columns.values()] == [type(v) for v in from_frame.values()]
    assert any(isinstance(v, str) for v in from_frame.values()) and len(from_frame) < len(fields.REGISTRY)


def _registry_frame(profile: dict) -> pd.DataFrame:
    """The earlier profile_frame, kept as the reference: one column per registry field, in registry order."""
    cols = {}
    for spec in fields.REGISTRY:
        value = profile.get(spec.name)
        if spec.kind in fields.NUMERIC_KINDS | {"bool"}:
            number = np.nan if value is None or value == "" else services._to_float(value)
            cols[spec.name] = np.array([number], dtype="float64") if not isinstance(number, str) else \
                np.array([number], dtype=object)
        else:
            cell = np.empty(1, dtype=object)
            cell[0] = None if isinstance(value, str | type(None)) and not value else value
            cols[spec.name] = cell
    return pd.DataFrame(cols)


def test_profile_frame_validates_as_one_column_per_field_does():
    """Two blocks (floats, then the rest) validate to the same clean frame, errors and columns as a frame with
    one column per field in registry order, for valid firms and for numbers given as text, bad or not."""
    records = [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
               for row in make_profiles(30, seed=12).to_dict("records")]
    odd = ["8,000", "abc", float("nan"), float("inf"), 10 ** 400, True, "", None, ["x"], "１２", -5, 2.5]
    for i, record in enumerate(records):
        record["revenue"] = odd[i % len(odd)]
        record["hnte"] = odd[(i + 3) % len(odd)]
        record["firm_name"] = odd[(i + 5) % len(odd)]
    for record in [*records, {}, {"revenue": "1,234.5", "sector": "nev"}]:
        got = validate_columns(services.profile_frame(record), first_line=1)
        want = validate_columns(_registry_frame(record), first_line=1)
        pd.testing.assert_frame_equal(got[0], want[0])
        pd.testing.assert_frame_equal(got[1], want[1])
        assert got[2].keys() == want[2].keys()
        for name in got[2]:
            np.testing.assert_array_equal(got[2][name], want[2][name])
    assert sum(len(validate_columns(services.profile_frame(r), first_line=1)[1]) > 0 for r in records) >= 10


def test_profile_form_built_from_the_registry(app):
    """One form field per registry field, labels in the form's language, cached per language."""
    with app.test_request_context():
        zh = forms.profile_form_class("zh")
        assert forms.profile_form_class("zh") is zh
        form = zh(meta={"csrf": False})
        for spec in fields.REGISTRY:
            assert form[spec.name].label.text == spec.label_zh
        assert forms.profile_form_class("en")(meta={"csrf": False})["revenue"].label.text == "Operating revenue, year t"


def test_form_module_holds_no_thresholds():
    """Bounds and thresholds come from fields.py and the rule tables, never from forms.py."""
    with open(forms.__file__, encoding="utf-8") as fh:
        source = fh.read()
    assert "NumberRange" not in source and "spec.lo" not in source and "spec.hi" not in source


def test_insights_hidden_without_their_keys(app):
    """No benchmarks, readiness or advice key: each part is None, so the page shows a note instead."""
    with app.app_context():
        result = services.assess_profile(make_profile()).result
    bare = {k: v for k, v in result.items() if k not in ("benchmarks", "dimensions", "readiness", "advice")}
    assert insights.benchmarks(bare, "zh") is None and insights.readiness(bare, "zh") is None
    assert insights.advice(bare, "zh") is None


def test_insights_drawn_with_the_pdf_chart_code(app):
    """Benchmarks, dimensions and advice become CSP-safe SVG charts and tables."""
    with app.app_context():
        result = services.assess_profile(make_profile()).result
        bench = insights.benchmarks(result, "zh")
        plan = insights.advice(result, "en")
    assert bench is not None, "the engine's cohorts are part of the engine: benchmarks must be drawn"
    assert bench["cohorts"] and bench["cohorts"][0]["chart"] and " style=" not in bench["cohorts"][0]["chart"]
    assert bench["radar"]["chart"] and len(bench["radar"]["rows"]) == 4
    assert plan["actions"] and plan["actions"][0]["title"]


def test_readiness_view_from_the_engine(app):
    """The page's readiness rows are the engine's probabilities, and it says what the model rests on."""
    with app.app_context():
        result = services.assess_profile(make_profile()).result
        view = insights.readiness(result, "en")
        zh = insights.readiness(result, "zh")
    probs = {tid: entry["probability"] for tid, entry in result["readiness"].items() if tid != "_model"}
    assert [row["percent"] for row in view["rows"]] == [round(100 * p) for p in probs.values()]
    assert "simulated population" in view["model"] and "模拟总体" in zh["model"]


def test_inline_svg_moves_styles_to_attributes_and_prefixes_ids():
    """reportlab's style attributes become presentation attributes; two charts never share an id."""
    drawing = Drawing(100, 50)
    drawing.add(Rect(0, 0, 50, 20, fillColor=None, strokeColor=None))
    drawing.add(String(10, 10, "中文", fontName="Helvetica", fontSize=8))
    svg = renderSVG.drawToString(drawing)
    a, b = inline_svg(svg, label="a"), inline_svg(svg)
    assert "style=" not in a and "<?xml" not in a and "DOCTYPE" not in a
    assert 'font-size="8px"' in a and 'fill="none"' in a and "中文" in a
    ids_a, ids_b = set(re.findall(r'id="([^"]+)"', a)), set(re.findall(r'id="([^"]+)"', b))
    assert ids_a and not ids_a & ids_b
    assert 'aria-label="a"' in a
    assert "<script" not in inline_svg('<svg><script>alert(1)</script><rect onload="x()"/></svg>')


def test_line_chart_escapes_labels():
    """Names in the trend chart are escaped."""
    svg = line_chart([{"name": "<b>", "values": [10, None, 30], "css": "s1"}], ["a", "b", "<c>"])
    assert "<b>" not in svg and "&lt;c&gt;" in svg and "polyline" in svg
