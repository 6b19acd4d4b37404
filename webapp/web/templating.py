"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from flask import Flask, current_app, request
from markupsafe import Markup

from webapp import fields
from webapp.web import i18n, services

TIER_IDS = ("innovative_sme", "tech_sme", "srdi_sme", "little_giant", "single_champion")


def field_groups(quick: bool) -> list[dict]:
    """Registry fields grouped for the form: the quick check's (derived from the rule tables), or every field
    in its section."""
    asked = services.get_services().quick_fields if quick else None
    out = []
    for gid, zh, en in fields.GROUPS:
        specs = [s for s in fields.REGISTRY if s.group == gid and (asked is None or s.name in asked)]
        if specs:
            out.append({"id": gid, "label_zh": zh, "label_en": en, "specs": specs})
    return out


def spec_text(spec: fields.FieldSpec, key: str, lang: str) -> str:
    """``spec.<key>_zh`` or ``spec.<key>_en``."""
    return getattr(spec, f"{key}_{'zh' if lang == 'zh' else 'en'}")


_PRISTINE_FIELDS: dict[tuple, Markup] = {}


def spec_field(form, spec: fields.FieldSpec, lang: str) -> Markup:
    """A registry field of the profile form as ``render_spec_field`` of ``_formhelpers.html`` writes it.

    An empty field without errors (every field of a new form) looks the same for every visitor: its markup is
    made once per form class, field and language and reused; a field holding a value or an error is rendered
    each time.
    """
    field = form[spec.name]
    key = (type(form), spec.name, field.id, field.data, lang)
    pristine = not field.errors and field.data in (None, "")
    if pristine and key in _PRISTINE_FIELDS:
        return _PRISTINE_FIELDS[key]
    html = current_app.jinja_env.get_template("_formhelpers.html").module.render_spec_field(form, spec, lang)
    if pristine:
        _PRISTINE_FIELDS[key] = html
    return html


def tier_name(tid: str, lang: str) -> str:
    """Display name of a tier id from the rule tables."""
    for table in services.get_services().rule_book.tables.values():
        if tid in table.tiers:
            tier = table.tiers[tid]
            return tier.name_zh if lang == "zh" else tier.name_en
    if tid == "none":
        return "尚未达到任何层级" if lang == "zh" else "No tier reached yet"
    return tid


def init_app(app: Flask) -> None:
    """Register the filters and globals."""
    app.jinja_env.filters.update(num=i18n.fmt_number, value=i18n.fmt_value)
    app.jinja_env.globals.update(
        get_lang=i18n.get_lang, field_spec=fields.FIELDS.__getitem__, field_groups=field_groups,
        spec_text=spec_text, spec_field=spec_field, tier_name=tier_name, localized=i18n.localized,
        quick_fields=_quick_fields,
        languages=app.config["LANGUAGES"],
        current_path=_current_path,
    )


def _quick_fields() -> tuple[str, ...]:
    """The quick check's fields (derived from the rule tables)."""
    return services.get_services().quick_fields


def _current_path() -> str:
    """This page's path and query, for "switch language and come back"."""
    return request.full_path.rstrip("?") if request.query_string else request.path
