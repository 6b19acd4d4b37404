"""Forms: the firm-profile form built from the field registry, and the account and client forms.

Bounds, units and messages about values all come from ``webapp.fields`` and the engine's validator;
nothing here knows a threshold.
"""

from __future__ import annotations

import datetime as dt
import functools

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import DateField, HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import EqualTo, InputRequired, Length, Optional, Regexp, ValidationError

from webapp import fields
from webapp.web import passwords, services
from webapp.web.widgets import FastSelect, FastTextInput

TITLE_TIERS = ("innovative_sme", "tech_sme", "srdi_sme", "little_giant", "single_champion", "hnte")


@functools.cache
def _wtforms_translations(locale: str) -> support.Translations:
    """WTForms' own messages ("Not a valid choice" ...) in ``locale``, read once per process."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class FlaskForm(_FlaskForm):
    """Flask-WTF's form with WTForms' message catalogue read once per language, not once per request."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_translations(str(get_locale()))


def _unknown(lang: str) -> str:
    return "— 未知 —" if lang == "zh" else "— unknown —"


def _wtforms_field(spec: fields.FieldSpec, lang: str):
    """One WTForms field for a registry field; empty always means unknown."""
    label = spec.label_zh if lang == "zh" else spec.label_en
    if spec.kind == "enum":
        labels = spec.choice_labels_zh if lang == "zh" else spec.choice_labels_en
        return SelectField(label, choices=_choices(("", _unknown(lang)), *zip(spec.choices, labels, strict=True)),
                           default="", widget=FastSelect())
    if spec.kind == "bool":
        yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
        return SelectField(label, choices=_choices(("", _unknown(lang)), ("true", yes), ("false", no)), default="",
                           widget=FastSelect())
    if spec.kind == "text":
        return StringField(label, validators=[Optional(), Length(max=100)], filters=[_strip], widget=FastTextInput())
    # Numbers stay text here so "8,000" or full-width digits reach the engine's parser, which knows the bounds.
    mode = "numeric" if spec.integer else "decimal"
    return StringField(label, validators=[Optional(), Length(max=40)], filters=[_strip], widget=FastTextInput(),
                       render_kw={"inputmode": mode, "autocomplete": "off"})


def form_data(values: dict) -> dict:
    """Stored values (JSON types) as the profile form's fields expect them on a prefilled GET."""
    out = {}
    for key, value in values.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, float):
            value = f"{value:.10f}".rstrip("0").rstrip(".")
        elif isinstance(value, int):
            value = str(value)
        out[key] = "" if value is None else value
    as_of = out.get("as_of")
    out["as_of"] = dt.date.fromisoformat(as_of) if isinstance(as_of, str) and as_of else as_of or None
    return out


def _choices(*pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ProfileFormBase(FlaskForm):
    """Options around the profile: rule set, date, mode, and (for consultants) the client to save to."""

    lang = "zh"
    variant = HiddenField(default="quick")
    rules = SelectField(_l("Rule set"), choices=_choices(("", _l("By assessment date"))), default="")
    as_of = DateField(_l("Assessment date"), validators=[Optional()])
    mode = SelectField(_l("Purpose"), choices=_choices(("new", _l("New application")),
                                                       ("review", _l("Re-review (复核)"))), default="new")
    client_id = SelectField(_l("Save to client"), choices=_choices(("", _l("Do not save"))), default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clean: dict = {}
        self.rules.choices = _choices(("", _l("By assessment date")),
                                      *((r, r) for r in services.get_services().rule_choices))
        if current_user.is_authenticated:
            self.client_id.choices = _choices(("", _l("Do not save")),
                                              *((str(c.id), c.name) for c in current_user.clients))

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the engine's validator on the one-row profile; its messages go beside the field."""
        ok = super().validate(extra_validators)
        raw = {spec.name: self[spec.name].data for spec in fields.REGISTRY}
        self.clean, errors = services.validate(raw)
        column = "message_zh" if self.lang == "zh" else "message_en"
        for problem in errors.itertuples():
            if problem.field in self:
                field = self[problem.field]
                field.errors = [*field.errors, getattr(problem, column)]
        return ok and not len(errors)

    def options(self) -> dict:
        """The assessment options as keyword arguments for services.assess_profile."""
        return {"rules": self.rules.data or None, "as_of": self.as_of.data, "mode": self.mode.data}


@functools.cache
def profile_form_class(lang: str) -> type[ProfileFormBase]:
    """Build the profile form from the field registry, once per language."""
    attrs = {spec.name: _wtforms_field(spec, lang) for spec in fields.REGISTRY}
    return type(f"ProfileForm_{lang}", (ProfileFormBase,), {"lang": lang, **attrs})


_EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid e-mail address."))


class LoginForm(FlaskForm):
    """Log in with e-mail and password."""

    email = StringField(_l("E-mail"), validators=[InputRequired(), Length(max=254), _EMAIL], filters=[_strip])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    next = HiddenField()


class RegisterForm(FlaskForm):
    """Create a consultant account."""

    name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=100)], filters=[_strip])
    email = StringField(_l("E-mail"), validators=[InputRequired(), Length(max=254), _EMAIL], filters=[_strip])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    confirm = PasswordField(_l("Repeat password"),
                            validators=[InputRequired(), EqualTo("password", message=_l("Passwords differ."))])

    def validate_password(self, field) -> None:
        """The password policy of :mod:`webapp.web.passwords` (length, not the e-mail, not a common one)."""
        found = passwords.problems(field.data or "", self.email.data or "", services.get_services().paths.data)
        if found:
            raise ValidationError(" ".join(found))


class ClientForm(FlaskForm):
    """Create or rename a client firm."""

    name = StringField(_l("Client name"), validators=[InputRequired(), Length(max=200)], filters=[_strip])
    province = StringField(_l("Province"), validators=[Optional(), Length(max=20)], filters=[_strip])
    city = StringField(_l("City"), validators=[Optional(), Length(max=50)], filters=[_strip])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


def title_form_class(lang: str) -> type[FlaskForm]:
    """A form to record a title a client holds and the date it was granted (for the re-review date)."""
    rule_book = services.get_services().rule_book
    names = {}
    for table in rule_book.tables.values():
        for tid, tier in table.tiers.items():
            names.setdefault(tid, tier.name_zh if lang == "zh" else tier.name_en)

    class TitleForm(FlaskForm):
        tier = SelectField(_l("Title"), choices=_choices(*((t, names[t]) for t in TITLE_TIERS if t in names)))
        granted_on = DateField(_l("Granted on"), validators=[InputRequired()])

    return TitleForm


class ConfirmForm(FlaskForm):
    """A button-only form for POST actions (delete, log out): CSRF token and nothing else."""
