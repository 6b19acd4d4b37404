"""The API's answer path: the schema dump skipped when it would change nothing, JSON written by orjson.

Both are compared with what they replace (marshmallow's dump, Flask's standard-library provider) on real
answers of generated firms, and the cases they must leave to them are checked to reach them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import marshmallow as ma
import numpy as np
import pytest

from tests.factories import make_profiles
from webapp.web import api_schemas, services
from webapp.web.api_dump import dump_is_identity

AS_OF = dt.date(2026, 5, 20)
HOOKS = frozenset({"_keep_the_rest"})


def _marshmallow_dump(schema, obj):
    return ma.Schema.dump(schema, obj)


def _stdlib_json(app, obj) -> str:
    return json.dumps(obj, default=app.json.default, ensure_ascii=True, sort_keys=True, separators=(",", ":"))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Real results (with advice) of a few generated firms, some with unknown fields, under both rule sets."""
    from webapp.web import create_app

    tmp = tmp_path_factory.mktemp("dump")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/t.sqlite"},
                     instance_path=str(tmp))
    records = json.loads(make_profiles(8, seed=21).to_json(orient="records", force_ascii=False))
    out = []
    with app.app_context():
        for i, record in enumerate(records):
            if i % 2:
                record = {k: v for j, (k, v) in enumerate(record.items()) if j % 3}
            rules = ("SME-2026", "SME-2022")[i % 2]
            outcome = services.assess_profile(record, rules=rules, as_of=AS_OF)
            assert outcome.result is not None
            out.append((outcome.result, services.summarise(outcome.result)))
    return app, out


def test_identity_dump_equals_marshmallow_on_real_answers(results):
    app, found = results
    for result, summary in found:
        for schema, body in ((api_schemas.AssessResult(), result), (api_schemas.WhatIfResult(), summary)):
            assert dump_is_identity(schema, body, allowed_hooks=HOOKS)
            fast = schema.dump(body)
            assert fast is not body
            assert _stdlib_json(app, fast) == _stdlib_json(app, _marshmallow_dump(schema, body))


def test_a_value_the_dump_would_change_goes_through_marshmallow(results):
    app, found = results
    schema = api_schemas.AssessResult()
    changed = []
    for path, value in ((("tiers", "innovative_sme", "level"), 2.0), (("tiers", "innovative_sme", "conditional"), 1),
                        (("tier",), np.str_("none")), (("rules",), {"sme": 2026}),
                        (("to_confirm",), ({"id": "x", "missing": ("a",)},)), (("warnings",), [3])):
        body = json.loads(json.dumps(found[0][0]))
        body["to_confirm"] = body.get("to_confirm") or []
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert not dump_is_identity(schema, body, allowed_hooks=HOOKS), path
        dumped = schema.dump(body)
        assert dumped == _marshmallow_dump(schema, body)
        changed.append(dumped)
    level = changed[0]["tiers"]["innovative_sme"]["level"]
    assert level == 2 and type(level) is int
    assert changed[3]["rules"] == {"sme": "2026"}
    assert changed[5]["warnings"] == ["3"]


def test_orjson_answers_read_back_as_the_standard_librarys(results):
    app, found = results
    with app.test_request_context():
        for result, _ in found:
            response = app.json.response(result)
            assert response.mimetype == "application/json"
            assert json.loads(response.get_data()) == json.loads(_stdlib_json(app, result))
            assert response.get_data().endswith(b"\n")


@dataclasses.dataclass
class _Point:
    x: int
    when: dt.date


@pytest.mark.parametrize("obj", [
    {"big": 2**70}, {1: "int key"}, {"deep": json.loads("[" * 300 + "]" * 300)}, {"surrogate": "\ud800"},
    {"date": dt.date(2026, 5, 20), "time": dt.datetime(2026, 5, 20, 8, 30)}, {"point": _Point(3, dt.date(2026, 1, 2))},
    {"b": "é", "a": "中文", "A": "\u2028"}, {"float": 0.1 + 0.2, "tiny": 5e-324, "neg": -0.0},
])
def test_what_orjson_does_not_write_like_flask_is_left_to_flask(app, obj):
    with app.test_request_context():
        body = app.json.response(obj).get_data()
    assert json.loads(body) == json.loads(_stdlib_json(app, obj))


def test_debug_answers_stay_indented(app):
    app.debug = True
    with app.test_request_context():
        assert app.json.response({"a": 1}).get_data() == b'{\n  "a": 1\n}\n'
