"""The one-row fast path of validate_profiles gives what the vectorised path gives, over many generated
profiles, bad ones included, in the three shapes a row arrives in (JSON records, typed web frames, CSV text)."""

from __future__ import annotations

import decimal

import numpy as np
import pandas as pd
import pytest

from tests.factories import make_profiles
from webapp.engine.io import inputs
from webapp.engine.io.inputs import profiles_from_records, validate_profiles
from webapp.engine.io.single_row import clean_single_row
from webapp.fields import CROSS_RULES, REGISTRY

NUMBERS = ["1,234.5", "1 234", "1,23", "1,2345", "1,234,567", "1 234 567.8", "１２３４", "１２．５", "12%", "12 %",
           "１２％", "%", " 42 ", "\t7\n", "7\x1c", "NA", "n/a", "#N/A", "None", "null", "未知", "不详", "", "   ",
           "abc", "nan", "NaN", "inf", "-inf", "Infinity", "1e3", "1E+2", "1e400", "+5", ".5", "5.", "-3", "0", "-0",
           "0.5", "3.7", "1e-3", "1_000", "0x10", "12.5万", "true", "是", True, False, 3.7, -1, -1e9, 1e9, 2e8,
           float("nan"), None, float("inf"), np.float64(5.5), np.int64(7), 10 ** 120, decimal.Decimal("5"),
           2, 0, 1, 0.1 + 0.2, 123456789.123]
BOOLS = ["是", "否", "yes", "No", "Y", "n", "1", "0", "1.0", "0.0", "有", "无", "maybe", " true ", "TRUE", "T", "f",
         "", "未知", 2, 1, 0, 1.0, True, False, None, float("nan"), "2", -1]
TEXTS = ["  宁波某公司  ", "", "   ", ["a"], {"a": 1}, ("x",), 5, 5.5, None, "NA", "Ｆｕｌｌ"]


def _enum_values(spec) -> list:
    return [spec.choices[0], spec.choices[-1], spec.choice_labels_zh[0], f"  {spec.choice_labels_en[-1].upper()} ",
            "bogus", "", "NA", "未知", None, 3, float("nan")]


def _records(n: int, seed: int) -> list[dict]:
    """Valid generated firms, then per firm a few cells replaced by tricky or bad values, some dropped."""
    rng = np.random.default_rng(seed)
    frame = make_profiles(n, seed=seed)
    specs = {spec.name: spec for spec in REGISTRY}
    out = []
    for i in range(n):
        record = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in frame.iloc[i].to_dict().items()}
        for name in rng.choice(list(specs), size=rng.integers(0, 5), replace=False):
            spec = specs[name]
            pool = BOOLS if spec.kind == "bool" else TEXTS if spec.kind == "text" else \
                _enum_values(spec) if spec.kind == "enum" else NUMBERS
            record[name] = pool[rng.integers(len(pool))]
        if rng.random() < 0.1:
            rule = CROSS_RULES[rng.integers(len(CROSS_RULES))]
            if isinstance(record.get(rule.rhs), float | int):
                record[rule.lhs] = record[rule.rhs] + 1
        for name in rng.choice(list(specs), size=rng.integers(0, 30), replace=False):
            record.pop(name, None)
        out.append(record)
    return out


def _typed(record: dict) -> pd.DataFrame:
    """A frame as the web builds it: numbers (and booleans) in float columns, anything else as objects."""
    cols = {}
    for k, v in record.items():
        numeric = isinstance(v, bool | int | float | np.number) and not isinstance(v, decimal.Decimal) \
            and (not isinstance(v, int) or abs(v) < 2 ** 53)
        cols[k] = np.array([float(v)], dtype="float64") if numeric else np.array([v], dtype=object)
    return pd.DataFrame(cols)


def _text(records: list[dict]) -> pd.DataFrame:
    """A frame as a CSV gives it: every cell text, empty for missing (or absent)."""
    names = list(dict.fromkeys(k for r in records for k in r))
    return pd.DataFrame({k: ["" if r.get(k) is None else str(r[k]) for r in records] for k in names}, dtype="str")


def _vectorised(frame, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(inputs, "clean_single_row", lambda frame: None)
        return validate_profiles(frame, first_line=1)


def _fast(frame: pd.DataFrame) -> pd.DataFrame | None:
    """The fast path's clean frame, after checking that its columns hold the frame's values (as the
    vectorised path's columns hold its frame's)."""
    answer = clean_single_row(frame)
    if answer is None:
        return None
    clean, columns = answer
    _check_columns(clean, columns)
    return clean


def _check_columns(clean: pd.DataFrame, columns: dict) -> None:
    """One array per registry field with the clean frame's values: floats, enum codes, text objects."""
    assert list(columns) == [spec.name for spec in REGISTRY]
    for spec in REGISTRY:
        values = columns[spec.name]
        if spec.kind == "enum":
            assert values.dtype == np.int16
            np.testing.assert_array_equal(values, clean[spec.name].cat.codes.to_numpy())
        elif spec.kind == "text":
            assert values.dtype == object and values.tolist() == clean[spec.name].tolist()
        else:
            assert values.dtype == np.float64
            np.testing.assert_array_equal(values, clean[spec.name].to_numpy(dtype=float, na_value=np.nan))


def _compare(frame: pd.DataFrame, monkeypatch) -> tuple[int, int, int]:
    """Validate ``frame`` on the vectorised path, then each of its rows alone on the fast path; return
    (rows the fast path answered, rows without error, rows with errors)."""
    clean_v, errors_v = _vectorised(frame, monkeypatch)
    with monkeypatch.context() as m:
        m.setattr(inputs, "clean_single_row", lambda frame: None)
        clean_c, errors_c, columns = inputs.validate_columns(frame, first_line=1)
    pd.testing.assert_frame_equal(clean_c, clean_v)
    pd.testing.assert_frame_equal(errors_c, errors_v)
    _check_columns(clean_v, columns)
    bad_rows = set(errors_v["index"])
    answered = {}
    for i in range(len(frame)):
        fast = _fast(frame.iloc[[i]])
        if i in bad_rows:
            assert fast is None, errors_v[errors_v["index"] == i][["field", "value"]].to_dict("records")
        elif fast is not None:
            answered[i] = fast
    if answered:  # one comparison of every answered row; row by row only to name a difference
        try:
            pd.testing.assert_frame_equal(pd.concat(answered.values()), clean_v.loc[list(answered)])
        except AssertionError:
            for i, fast in answered.items():
                pd.testing.assert_frame_equal(fast, clean_v.iloc[[i]], obj=f"row {i}: {frame.iloc[i].to_dict()}")
            raise
    return len(answered), len(frame) - len(bad_rows), len(bad_rows)


@pytest.mark.parametrize("shape", ["records", "text"])
def test_fast_path_matches_the_vectorised_path(shape, monkeypatch):
    records = _records(300, seed={"records": 1, "text": 3}[shape])
    frame = profiles_from_records(records) if shape == "records" else _text(records)
    answered, valid, bad = _compare(frame, monkeypatch)
    assert bad >= 60 and valid >= 60
    assert answered >= valid - 8  # only a Decimal or a 120-digit integer leaves the fast path


def test_fast_path_matches_on_typed_web_frames(monkeypatch):
    """Typed columns differ row by row (a float column or an object one), so each row is validated alone."""
    answered = valid = 0
    for record in _records(25, seed=2):
        frame = _typed(record)
        clean_v, errors_v = _vectorised(frame, monkeypatch)
        clean, errors = validate_profiles(frame, first_line=1)
        pd.testing.assert_frame_equal(clean, clean_v)
        pd.testing.assert_frame_equal(errors, errors_v)
        fast = _fast(frame)
        if len(errors_v):
            assert fast is None
            continue
        valid += 1
        answered += fast is not None
    assert valid >= 6 and answered >= valid - 2


def test_fast_path_takes_the_web_request():
    """A complete valid profile and an empty one are both answered without the vectorised path."""
    full = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in make_profiles(1).iloc[0].to_dict().items()}
    assert clean_single_row(_typed(full)) is not None
    assert clean_single_row(pd.DataFrame(index=pd.RangeIndex(1))) is not None
    assert clean_single_row(_typed({**full, "revenue": -5.0})) is None


@pytest.mark.parametrize("shape", ["records", "text"])
def test_every_tricky_value_alone(shape, monkeypatch):
    """Each value of the vocabularies in a money, a pct, a count, a bool, an enum and a text field of a valid
    firm: the fast path answers exactly when the vectorised path finds no error, with the same frame."""
    base = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in make_profiles(1, seed=4).iloc[0].items()}
    enum = next(spec for spec in REGISTRY if spec.kind == "enum")
    cases = [(name, v) for name in ("revenue", "niche_share_pct", "employees") for v in NUMBERS] + \
        [("hnte", v) for v in BOOLS] + [(enum.name, v) for v in _enum_values(enum)] + \
        [("firm_name", v) for v in TEXTS]
    records = [{**base, name: value} for name, value in cases]
    frame = profiles_from_records(records) if shape == "records" else _text(records)
    answered, valid, bad = _compare(frame, monkeypatch)
    assert answered >= valid - 3 and answered >= len(cases) // 3 and bad >= len(cases) // 4
