"""Tests for engine.inputs (validation, headers, records) and engine.template (template and table I/O)."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import INVALID_CELLS, make_profile, make_profiles
from webapp.engine.io.inputs import ERROR_COLUMNS, normalise_columns, profiles_from_records, validate_profiles
from webapp.engine.io.tables import read_table, write_table
from webapp.engine.io.template import EXAMPLE, template_frame, write_template
from webapp.fields import CROSS_RULES, FIELDS, NUMERIC_KINDS, REGISTRY, template_header

NAMES = [spec.name for spec in REGISTRY]
FLOAT_KINDS = NUMERIC_KINDS | {"bool"}


def as_cells(profile: dict) -> dict:
    """A profile as CSV cells: every value a string, unknown as ""."""
    def cell(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return {name: cell(value) for name, value in profile.items()}


def one_row(**overrides) -> pd.DataFrame:
    """One valid profile as a frame of strings, with some cells replaced."""
    return pd.DataFrame([{**as_cells(make_profile()), **overrides}])


def expected_value(spec, value):
    """What clean should hold for a profile value."""
    if spec.kind in FLOAT_KINDS:
        return float(value)
    return value


# --- the clean frame ---------------------------------------------------------------------------------


def test_valid_strings_give_no_errors_and_registry_dtypes():
    """A valid CSV row comes out clean, with one column per field, in registry order and dtype."""
    clean, errors = validate_profiles(one_row())
    assert errors.empty and list(errors.columns) == list(ERROR_COLUMNS)
    assert list(clean.columns) == NAMES
    for spec in REGISTRY:
        dtype = clean[spec.name].dtype
        if spec.kind in FLOAT_KINDS:
            assert dtype == np.float64, spec.name
        elif spec.kind == "enum":
            assert list(dtype.categories) == list(spec.choices), spec.name
        else:
            assert pd.api.types.is_object_dtype(dtype), spec.name
        assert clean.loc[0, spec.name] == expected_value(spec, make_profile()[spec.name]), spec.name


def test_python_values_and_strings_agree():
    """JSON-like Python values and CSV strings give the same clean frame."""
    from_records, errors = validate_profiles(profiles_from_records([make_profile()]))
    assert errors.empty
    pd.testing.assert_frame_equal(from_records, validate_profiles(one_row())[0])


def test_numeric_dtypes_take_the_fast_path_unchanged():
    """Already-numeric columns (ints, floats, bools) are kept, and the input is not modified."""
    frame = make_profiles(300, seed=1)
    before = frame.copy()
    clean, errors = validate_profiles(frame)
    assert errors.empty
    pd.testing.assert_frame_equal(frame, before)
    for spec in REGISTRY:
        if spec.kind in FLOAT_KINDS:
            np.testing.assert_array_equal(clean[spec.name].to_numpy(), frame[spec.name].to_numpy(dtype=float))
        elif spec.kind == "enum":
            assert (clean[spec.name].astype(str) == frame[spec.name].astype(str)).all()


def test_same_index_and_empty_frames():
    """The clean frame keeps the input index; an empty frame validates to an empty result."""
    frame = pd.concat([one_row(), one_row()], ignore_index=True)
    frame.index = ["x", "y"]
    clean, _ = validate_profiles(frame)
    assert list(clean.index) == ["x", "y"]
    clean, errors = validate_profiles(pd.DataFrame())
    assert clean.shape == (0, len(REGISTRY)) and errors.empty


@pytest.mark.parametrize("cell", ["", "   ", None, np.nan, "NULL", "N/A", "未知", "\u3000"])
@pytest.mark.parametrize("name", ["revenue", "net_profit", "employees", "debt_ratio_pct", "hnte", "sector"])
def test_unknown_cells(name, cell):
    """Empty, whitespace, None, a missing (NaN) cell and null words mean unknown: no error, NaN in clean. The
    text "nan" is not among them (see INVALID_CELLS)."""
    frame = one_row()
    frame[name] = pd.Series([cell], dtype=object)
    clean, errors = validate_profiles(frame)
    assert errors.empty
    assert pd.isna(clean.loc[0, name])


@pytest.mark.parametrize("cell", ["", "  ", None])
def test_unknown_text(cell):
    """Empty text is None; other text is stripped."""
    clean, _ = validate_profiles(one_row(firm_name=cell, city="  宁波 "))
    assert clean.loc[0, "firm_name"] is None and clean.loc[0, "city"] == "宁波"


def test_absent_fields_are_unknown_and_extra_columns_ignored():
    """Fields missing from the input are all unknown; columns outside the registry are dropped."""
    clean, errors = validate_profiles(pd.DataFrame({"firm_name": ["甲"], "notes": ["x"], 7: [1]}))
    assert errors.empty and list(clean.columns) == NAMES
    assert clean.drop(columns="firm_name").isna().all().all()


def test_duplicate_columns_first_wins():
    """With two columns of one name, the first is used."""
    frame = pd.DataFrame([["100", "abc"]], columns=["revenue", "revenue"])
    clean, errors = validate_profiles(frame)
    assert clean.loc[0, "revenue"] == 100 and errors.empty


# --- accepted spellings ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "cell", "expected"), [
    ("total_assets", "1,234.5", 1234.5),
    ("total_assets", "1 234", 1234.0),
    ("total_assets", "12,345,678", 12345678.0),
    ("total_assets", "１２３４", 1234.0),
    ("total_assets", "１，２３４．５", 1234.5),
    ("total_assets", " 8000 ", 8000.0),
    ("total_assets", "1e3", 1000.0),
    ("total_assets", 8000, 8000.0),
    ("total_assets", 12.5, 12.5),
    ("net_profit", "-120.5", -120.5),
    ("net_profit", "－120", -120.0),
    ("debt_ratio_pct", "12.5%", 12.5),
    ("debt_ratio_pct", "45 ％", 45.0),
    ("employees", "300.0", 300.0),
    ("digital_level", "4", 4.0),
])
def test_number_spellings(name, cell, expected):
    """Thousands separators, full-width digits, padding and % (pct fields) are accepted."""
    frame = one_row()
    frame[name] = pd.Series([cell], dtype=object)
    clean, errors = validate_profiles(frame)
    assert errors.empty, errors.message_en.tolist()
    assert clean.loc[0, name] == expected


@pytest.mark.parametrize(("cell", "expected"), [
    ("true", 1.0), ("FALSE", 0.0), ("是", 1.0), ("否", 0.0), ("yes", 1.0), ("No", 0.0), ("Y", 1.0),
    ("n", 0.0), ("1", 1.0), ("0", 0.0), ("有", 1.0), ("无", 0.0), (" True ", 1.0), ("1.0", 1.0),
    (True, 1.0), (False, 0.0), (1, 1.0), (0, 0.0),
])
def test_bool_spellings(cell, expected):
    """Yes/no in Chinese and English, 1/0 and Python bools."""
    frame = one_row()
    frame["hnte"] = pd.Series([cell], dtype=object)
    clean, errors = validate_profiles(frame)
    assert errors.empty and clean.loc[0, "hnte"] == expected


@pytest.mark.parametrize(("name", "cell", "code"), [
    ("sector", "new_materials", "new_materials"),
    ("sector", "NEW_MATERIALS", "new_materials"),
    ("sector", "新材料", "new_materials"),
    ("sector", "new materials", "new_materials"),
    ("sector", "High-end CNC machine tools and robotics", "cnc_robotics"),
    ("rd_institution", "省级（省部级）", "provincial"),
    ("rd_institution", "国家级", "national"),
    ("makers_china", "全国50强", "top50"),
    ("sme_industry", " software_it ", "software_it"),
])
def test_enum_spellings(name, cell, code):
    """Enum cells accept the code or the zh/en label, in any case."""
    clean, errors = validate_profiles(one_row(**{name: cell}))
    assert errors.empty and clean.loc[0, name] == code


# --- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "cell", "rule"), INVALID_CELLS)
def test_each_cell_rule(name, cell, rule):
    """One error per invalid cell, naming the field (label and name) and rule; the cell becomes unknown."""
    clean, errors = validate_profiles(one_row(**{name: cell}))
    assert len(errors) == 1, errors.message_en.tolist()
    error = errors.iloc[0]
    spec = FIELDS[name]
    assert error[["field", "rule", "value", "row", "index"]].tolist() == [name, rule, cell, 2, 0]
    for text in (spec.label_zh, name, cell):
        assert text in error["message_zh"]
    for text in (spec.label_en, name, cell):
        assert text in error["message_en"]
    assert pd.isna(clean.loc[0, name])
    assert clean.loc[0, "total_assets"] == make_profile()["total_assets"]


@pytest.mark.parametrize(("name", "cell", "words_zh", "words_en"), [
    ("revenue", "-5", "不能小于 0 万元", "at least 0 (10k CNY)"),
    ("debt_ratio_pct", "120", "不能大于 100%", "at most 100%"),
    ("digital_level", "5", "不能大于 4", "at most 4"),
    ("employees", "1.5", "应为整数", "whole number"),
    ("revenue", "abc", "应为数字", "expected a number, got 'abc'"),
    ("sector", "x", "next_gen_it, cnc_robotics", "next_gen_it, cnc_robotics"),
    ("hnte", "maybe", "是/否", "yes/no"),
])
def test_messages_state_the_rule(name, cell, words_zh, words_en):
    """Messages say the bound or the allowed values."""
    _, errors = validate_profiles(one_row(**{name: cell}))
    assert words_zh in errors.loc[0, "message_zh"] and words_en in errors.loc[0, "message_en"]


@pytest.mark.parametrize("rule", CROSS_RULES, ids=lambda rule: rule.id)
def test_each_cross_rule(rule):
    """A part larger than its whole is reported on the row; both cells become unknown."""
    whole = make_profile()[rule.rhs]
    clean, errors = validate_profiles(one_row(**{rule.lhs: str(whole + 1)}))
    assert errors[["field", "rule"]].values.tolist() == [[rule.lhs, rule.id]]
    error = errors.iloc[0]
    assert error["value"] == f"{whole + 1:g} > {whole:g}"
    for name in (rule.lhs, rule.rhs):
        assert name in error["message_zh"] and name in error["message_en"]
        assert pd.isna(clean.loc[0, name])
    assert FIELDS[rule.rhs].label_zh in error["message_zh"]
    assert FIELDS[rule.rhs].label_en in error["message_en"]


def test_cross_rule_equal_or_unknown_is_fine():
    """Equal values pass; a rule with an unknown side is not judged."""
    _, errors = validate_profiles(one_row(main_revenue="8000", rd_staff="", invention_grants="999",
                                          invention_applications=""))
    assert errors.empty


@pytest.mark.parametrize(("values", "name", "rule"), [
    ([math.inf], "revenue", "number"),
    ([-math.inf], "net_profit", "number"),
    ([-1.0], "revenue", "min"),
    ([2.5], "employees", "integer"),
    ([150.0], "debt_ratio_pct", "max"),
    ([2.0], "hnte", "bool"),
    ([np.inf], "hnte", "bool"),
])
def test_numeric_dtype_errors(values, name, rule):
    """The fast path for numeric dtypes applies the same rules."""
    frame = make_profiles(1)
    frame[name] = np.array(values, dtype=float)
    clean, errors = validate_profiles(frame)
    assert errors[["field", "rule"]].values.tolist() == [[name, rule]]
    assert pd.isna(clean.loc[0, name])


def test_nullable_and_bool_dtypes():
    """Nullable integers, nullable booleans and numpy bools are read without parsing."""
    frame = pd.DataFrame({"employees": pd.array([300, None], dtype="Int64"),
                          "hnte": pd.array([True, None], dtype="boolean"),
                          "own_brand": np.array([True, False])})
    clean, errors = validate_profiles(frame)
    assert errors.empty
    assert clean["employees"].tolist()[0] == 300 and pd.isna(clean.loc[1, "employees"])
    assert clean.loc[0, "hnte"] == 1 and pd.isna(clean.loc[1, "hnte"])
    assert clean["own_brand"].tolist() == [1.0, 0.0]


def test_rows_index_labels_and_order():
    """Errors carry the input's index label and spreadsheet line; sorted by row, then registry order."""
    frame = pd.concat([one_row(hnte="maybe", revenue="abc"), one_row(), one_row(employees="-3", sector="x")])
    frame.index = ["a", "b", "c"]
    _, errors = validate_profiles(frame, first_line=5)
    assert errors[["index", "row", "field", "rule"]].values.tolist() == [
        ["a", 5, "revenue", "number"], ["a", 5, "hnte", "bool"],
        ["c", 7, "sector", "enum"], ["c", 7, "employees", "min"],
    ]


def test_long_values_are_truncated():
    """A huge cell does not blow up the messages."""
    _, errors = validate_profiles(one_row(revenue="x" * 10_000))
    assert len(errors.loc[0, "value"]) == 100 and len(errors.loc[0, "message_en"]) < 300


def test_odd_objects_in_cells():
    """Lists, dicts and huge integers in cells are errors, never exceptions."""
    frame = profiles_from_records([{"revenue": [1, 2], "sector": {"a": 1}, "employees": 10**30,
                                    "hnte": object(), "firm_name": 42}])
    clean, errors = validate_profiles(frame)
    assert errors[["field", "rule"]].values.tolist() == [
        ["sector", "enum"], ["revenue", "number"], ["employees", "max"], ["hnte", "bool"]]
    assert pd.isna(clean.loc[0, "employees"]) and clean.loc[0, "firm_name"] == "42"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), np.float64("nan"), "NaN",
                                   "Infinity", "-inf"])
def test_records_refuse_nan_and_infinity(value):
    """A JSON NaN or Infinity (Python's json reads the bare tokens as floats) is refused like the text "inf",
    never read as a missing value; only None or an absent key is unknown."""
    frame = profiles_from_records([make_profile(revenue=value, net_profit=None),
                                   {k: v for k, v in make_profile().items() if k != "revenue"}])
    clean, errors = validate_profiles(frame)
    assert errors[["row", "field", "rule"]].values.tolist() == [[2, "revenue", "number"]]
    assert "revenue" in errors.loc[0, "message_zh"] and "revenue" in errors.loc[0, "message_en"]
    assert clean["revenue"].isna().all() and pd.isna(clean.loc[0, "net_profit"])
    assert clean.loc[1, "net_profit"] == make_profile()["net_profit"]


@pytest.mark.parametrize("dtype", ["str", "string[python]", "string[pyarrow]", "category", object])
def test_string_storages(dtype):
    """Every pandas text storage gives the same result as plain strings."""
    frame = one_row(revenue="abc", employees="12.5").astype(dtype)
    clean, errors = validate_profiles(frame)
    expected_clean, expected_errors = validate_profiles(one_row(revenue="abc", employees="12.5"))
    pd.testing.assert_frame_equal(clean, expected_clean)
    pd.testing.assert_frame_equal(errors, expected_errors, check_dtype=False)


def test_large_text_frame_reports_raw_cells():
    """Many rows of mostly distinct text: errors still quote the raw cell and the right line."""
    frame = make_profiles(400, seed=5).astype(str)
    frame.loc[150, "revenue"] = "abc"
    frame.loc[7, "total_assets"] = "1,2"
    frame.loc[399, "net_profit"] = "5%"
    frame.loc[3, "debt_ratio_pct"] = "150%"
    frame.loc[20, "hnte"] = "perhaps"
    _, errors = validate_profiles(frame)
    assert errors[["row", "field", "rule", "value"]].values.tolist() == [
        [5, "debt_ratio_pct", "max", "150%"], [9, "total_assets", "number", "1,2"],
        [22, "hnte", "bool", "perhaps"], [152, "revenue", "number", "abc"], [401, "net_profit", "number", "5%"],
    ]


# --- headers and records -----------------------------------------------------------------------------


def test_normalise_columns():
    """zh, en, canonical and template headers become canonical names; others are reported."""
    frame = pd.DataFrame(columns=["上年度营业收入（万元）", "Total staff (persons)", "rd_staff",
                                  template_header(FIELDS["hnte"]), "备注", "revenue", "Foo [sector]"])
    renamed, unrecognised = normalise_columns(frame)
    assert list(renamed.columns) == ["revenue", "employees", "rd_staff", "hnte", "备注", "sector"]
    assert unrecognised == ["备注", "revenue"]


def test_profiles_from_records_keeps_values():
    """Records become an object frame with the values exactly as given."""
    frame = profiles_from_records([{"revenue": 1, "hnte": True}, {"revenue": None, "city": "宁波"}])
    assert frame.loc[0, "revenue"] == 1 and isinstance(frame.loc[0, "revenue"], int)
    assert frame.loc[0, "hnte"] is True and pd.isna(frame.loc[0, "city"])
    assert profiles_from_records([]).empty


# --- template and tables -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_template_round_trip(tmp_path, suffix, lang):
    """The template's example row reads back, validates clean and equals the example."""
    path = write_template(tmp_path / f"template{suffix}", lang=lang)
    frame = read_table(path)
    assert frame.attrs["unrecognised_columns"] == []
    clean, errors = validate_profiles(frame)
    assert errors.empty, errors.message_en.tolist()
    for spec in REGISTRY:
        assert clean.loc[0, spec.name] == expected_value(spec, EXAMPLE[spec.name]), spec.name


def test_template_headers_are_bilingual():
    """Each template header holds the zh label, the en label and the canonical name."""
    columns = template_frame().columns
    assert columns[0] == "企业名称 / Company name [firm_name]"
    assert "上年度营业收入（万元） / Operating revenue, year t (10k CNY) [revenue]" in columns


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_table_round_trip(tmp_path, suffix):
    """write_table then read_table then validate gives back the same clean profiles."""
    clean, _ = validate_profiles(make_profiles(20, seed=2))
    write_table(clean, tmp_path / f"profiles{suffix}")
    again, errors = validate_profiles(read_table(tmp_path / f"profiles{suffix}"))
    assert errors.empty
    pd.testing.assert_frame_equal(again, clean, check_dtype=False, check_categorical=False)


def test_read_table_from_a_stream(tmp_path):
    """An upload stream without a file name needs fmt, and reads what the same file read by name gives."""
    path = write_template(tmp_path / "t.csv")
    with path.open("rb") as stream:
        from_stream = read_table(stream, fmt="csv")
    assert from_stream.shape == (1, len(REGISTRY))
    pd.testing.assert_frame_equal(from_stream, read_table(path))


@pytest.mark.parametrize("call", [
    lambda p: read_table(p / "a.xls"),
    lambda p: write_table(pd.DataFrame(), p / "a.json"),
    lambda p: write_template(p / "a.txt"),
    lambda p: write_template(p / "a.parquet"),
])
def test_unsupported_formats(tmp_path, call):
    """Unsupported extensions fail with a clear ValueError."""
    with pytest.raises(ValueError, match=r"\.csv"):
        call(tmp_path)


# --- factories and properties ------------------------------------------------------------------------


def test_make_profiles_respects_every_rule():
    """Random factory profiles are valid: no errors, so every bound and cross rule holds."""
    frame = make_profiles(2000, seed=3)
    clean, errors = validate_profiles(frame)
    assert errors.empty and not clean.isna().any().any()
    assert make_profiles(3, seed=3, revenue=1.0)["revenue"].tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(TypeError):
        make_profiles(1, revnue=1)


CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["", " ", "1,234", "１２", "12%", "是", "yes", "nan", "inf", "-0", "1e400", "新材料"]),
    st.lists(st.integers(), max_size=2),
)
COLUMNS = st.lists(st.sampled_from([*NAMES, "extra"]), min_size=1, max_size=10, unique=True)


def _check_result(frame, clean, errors):
    """Invariants of any validation result."""
    assert list(errors.columns) == list(ERROR_COLUMNS)
    assert list(clean.columns) == NAMES and len(clean) == len(frame)
    assert set(errors["field"]) <= set(NAMES)
    assert errors["row"].between(2, len(frame) + 1).all()
    for spec in REGISTRY:
        if spec.kind in NUMERIC_KINDS:
            values = clean[spec.name].dropna()
            assert np.isfinite(values).all()
            assert spec.lo is None or (values >= spec.lo).all()
            assert spec.hi is None or (values <= spec.hi).all()
    for rule in CROSS_RULES:
        assert not (clean[rule.lhs] > clean[rule.rhs]).any()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), columns=COLUMNS, n=st.integers(0, 4))
def test_never_raises_on_arbitrary_cells(data, columns, n):
    """Whatever the cells hold, validation returns frames of the declared shape."""
    frame = pd.DataFrame({name: pd.Series(data.draw(st.lists(CELLS, min_size=n, max_size=n)), dtype=object)
                          for name in columns}, index=pd.RangeIndex(n))
    _check_result(frame, *validate_profiles(frame))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), columns=COLUMNS, n=st.integers(1, 4))
def test_never_raises_on_arbitrary_floats(data, columns, n):
    """Float columns (with NaN, inf and huge values) take the fast path safely."""
    floats = st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n)
    frame = pd.DataFrame({name: np.array(data.draw(floats), dtype=float) for name in columns})
    _check_result(frame, *validate_profiles(frame))
