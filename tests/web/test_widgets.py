"""The fast widgets write exactly what WTForms' own widgets write, for every field of the profile form."""

from __future__ import annotations

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import Select, TextInput

from tests.factories import make_profile
from webapp.web.forms import form_data, profile_form_class
from webapp.web.widgets import FastSelect, FastTextInput, html_params

ODD = 'a "quoted" <b>&amp; \'x\' 万元'


class Sample(Form):
    plain = StringField("Plain")
    bounded = StringField("Bounded", validators=[InputRequired(), Length(min=2, max=40)],
                          render_kw={"inputmode": "decimal", "autocomplete": "off"})
    optional = StringField("Optional", validators=[Optional(), Length(max=100)])
    choice = SelectField("Choice", choices=[SelectChoice("", "— 未知 —"), SelectChoice("a", ODD),
                                            SelectChoice("b", "B", render_kw={"data_x": "1", "disabled": True}),
                                            SelectChoice(True, "yes")])
    required_choice = SelectField("Required", choices=[SelectChoice("x", "X"), SelectChoice("y", "")],
                                  validators=[InputRequired()])


@pytest.mark.parametrize("data", [{}, {"plain": ODD, "bounded": "8,000", "optional": "", "choice": "a"},
                                  {"choice": "b", "required_choice": "y"}, {"choice": "True", "plain": "  x "}])
@pytest.mark.parametrize("kwargs", [{}, {"aria_describedby": "h", "aria-invalid": "true", "class_": "w"},
                                    {"data_draft_key": ODD, "readonly": True, "disabled": False},
                                    {"value": Markup('<i>"m"</i>'), "id": "other", "title": 12}])
def test_same_markup_as_wtforms(data, kwargs):
    form = Sample(MultiDict(data))
    for name in ("plain", "bounded", "optional"):
        assert FastTextInput()(form[name], **kwargs) == TextInput()(form[name], **kwargs)
    for name in ("choice", "required_choice"):
        kw = {k: v for k, v in kwargs.items() if k != "value"}
        assert FastSelect()(form[name], **kw) == Select()(form[name], **kw)


def test_html_params_as_wtforms():
    from wtforms.widgets import html_params as reference

    values = {"class_": "a b", "data_x_y": ODD, "aria_z": 3, "checked": True, "hidden": False,
              "value": Markup('"q"'), "for_": "f", "weird<key": "v"}
    assert html_params(**values) == reference(**values)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_profile_form_renders_as_with_wtforms_widgets(app, lang):
    """Every registry field of the form, empty and filled (choices selected, odd text), renders as before."""
    filled = {**form_data(make_profile()), "firm_name": ODD}
    with app.test_request_context("/"):
        for data in (None, filled):
            form_class = profile_form_class(lang)
            form = form_class() if data is None else form_class(formdata=None, data=data)
            fast = 0
            for field in form:
                widget = field.widget
                if not isinstance(widget, FastTextInput | FastSelect):
                    continue
                fast += 1
                stock = Select() if isinstance(widget, FastSelect) else TextInput()
                kw = {"aria-describedby": f"{field.id}-help", "aria-invalid": "false"}
                assert widget(field, **kw) == stock(field, **kw), field.name
            assert fast > 60


def _uncached(form, spec, lang):
    from flask import current_app

    return current_app.jinja_env.get_template("_formhelpers.html").module.render_spec_field(form, spec, lang)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reused_empty_fields_render_as_the_macro(app, client, lang):
    """The form pages with empty fields reused are the pages the macro writes, and a field holding a value or an
    error is never taken from what an empty one looked like."""
    from webapp.web import templating

    client.get(f"/lang/{lang}?next=/")
    bad = {**{k: str(v) for k, v in make_profile().items() if not isinstance(v, bool)}, "revenue": "lots",
           "variant": "full", "mode": "new"}
    pages = ["/", "/assess?full=1", "/assess?full=1"]
    templating._PRISTINE_FIELDS.clear()
    reused = [client.get(path).data for path in pages] + [client.post("/assess", data=bad).data]
    assert templating._PRISTINE_FIELDS
    assert all(key[3] in (None, "") for key in templating._PRISTINE_FIELDS)  # no visitor's value is kept
    app.jinja_env.globals["spec_field"] = _uncached
    every_time = [client.get(path).data for path in pages] + [client.post("/assess", data=bad).data]
    assert reused == every_time
    assert b'value="lots"' in reused[-1] and b'name="employees" type="text" value="300"' in reused[-1]


def test_wtforms_messages_follow_each_requests_language(client):
    """WTForms' own catalogue, read once per language, still answers in the language of each request."""
    for lang, says in (("zh", "不是有效的选择"), ("en", "Not a valid choice"), ("zh", "不是有效的选择")):
        client.get(f"/lang/{lang}?next=/")
        response = client.post("/assess", data={"variant": "full", "mode": "bogus"})
        assert response.status_code == 400 and says in response.get_data(as_text=True)
