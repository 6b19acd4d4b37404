"""Action texts fill only the placeholders they use: the same values as all of them, on real action records."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from tests.factories import make_profiles
from webapp.engine.advice.actions import ActionPlanner
from webapp.engine.advice.data import load_advice_data
from webapp.engine.advice.format import _ALL_KEYS, placeholders, text_values
from webapp.engine.assess import assess
from webapp.engine.rules.rulebook import load_rule_book

AS_OF = dt.date(2026, 5, 20)


def test_placeholders_names_the_fields_a_template_fills():
    assert placeholders("{a} and {b[0]} or {c.d:>4}", "{{literal}} {a}") == {"a", "b", "c"}
    assert placeholders("no field") == frozenset()


def test_every_template_uses_only_known_placeholders():
    data = load_advice_data()
    for kind, texts in data.kinds.items():
        for key in ("title_zh", "title_en", "detail_zh", "detail_en"):
            assert placeholders(texts[key]) <= _ALL_KEYS, (kind, key)


def test_values_of_the_placeholders_used_are_those_of_all_placeholders():
    data, book = load_advice_data(), load_rule_book()
    frame = make_profiles(12, seed=4)
    records = json.loads(frame.to_json(orient="records", force_ascii=False))
    for i, record in enumerate(records):
        if i % 2:  # unknown inputs: gather actions and open criteria
            record = {k: v for j, (k, v) in enumerate(record.items()) if j % 3}
        one = assess(pd.DataFrame([record], dtype=object), as_of=AS_OF, rules=("SME-2026", "SME-2022")[i % 3 == 0])
        result = one.to_dict(0)
        actions = ActionPlanner(result, record, data, book).plan()
        assert actions
        for action in actions:
            kind = data.kinds[action["kind"]]
            documents = {lang: data.documents_for(action.get("missing") or [], lang) for lang in ("zh", "en")}
            for lang in ("zh", "en"):
                every = text_values(action, result, data, lang)
                used = placeholders(kind[f"title_{lang}"], kind[f"detail_{lang}"])
                assert text_values(action, result, data, lang, used) == {k: every[k] for k in used}
                assert text_values(action, result, data, lang, used, documents=documents[lang]) == \
                    {k: every[k] for k in used}
