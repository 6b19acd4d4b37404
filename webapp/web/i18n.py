"""Language choice (zh first, en), remembered in a cookie, and number formatting for both languages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, g, redirect, request, url_for
from flask_babel import get_locale, get_translations

from webapp import fields

bp = Blueprint("i18n", __name__)

_UNIT_WORDS = {"wan": ("万元", "(10k CNY)")}
_BOOL_WORDS = {"zh": ("否", "是"), "en": ("no", "yes")}


def select_locale() -> str:
    """The language of this request: ?lang=, then the remembered cookie, then Chinese."""
    languages = current_app.config["LANGUAGES"]
    for candidate in (request.args.get("lang"), request.cookies.get(current_app.config["LANG_COOKIE_NAME"])):
        if candidate in languages:
            return candidate
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def install_template_gettext(app: Flask) -> None:
    """Jinja's ``_``/``gettext``/``ngettext`` through this request's translations, looked up once per request.

    Flask-Babel's own callables find the locale, the domain and the translations again on every call (a result
    page makes some 500 calls); the catalogue is the same one, so the text is too. Nothing here switches the
    locale within a request (no ``force_locale``/``refresh``), which would need this lookup to be repeated.
    """
    def translations():
        try:
            return g._giantstep_translations
        except AttributeError:
            g._giantstep_translations = found = get_translations()
            return found

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)


def get_lang() -> str:
    """The current language code, "zh" or "en"."""
    return str(get_locale() or "zh")[:2]


def safe_next(target: str | None, fallback: str = "assess.index") -> str:
    """``target`` if it is a path on this site, otherwise the fallback page (no open redirects).

    A control character (CR, LF, ...) in ``target`` is a bad request (400): it can only be an attempt to
    split the redirect's header.
    """
    if target and any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        abort(400, "next: control characters are not allowed")
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
                and "\\" not in target:
            return target
    return url_for(fallback)


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the language and return to the page the user came from."""
    target = safe_next(request.args.get("next"))
    response = redirect(target)
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(current_app.config["LANG_COOKIE_NAME"], code,
                            max_age=current_app.config["LANG_COOKIE_MAX_AGE"], secure=request.is_secure,
                            httponly=True, samesite="Lax")
    return response


# ----------------------------------------------------------------------------------------- numbers


def fmt_number(value, digits: int = 2) -> str:
    """Thousands separators, at most ``digits`` decimals, no trailing zeros: 8000 -> "8,000"."""
    if value is None or value == "":
        return "—"
    number = float(value)
    text = f"{number:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_value(value, unit: str | None, lang: str, field_name: str | None = None) -> str:
    """A value for display: money in 万元 with separators, ratios and shares in percent, booleans as words."""
    if value is None:
        return "—" if lang == "en" else "未知"
    if isinstance(value, bool) or unit == "bool":
        return _BOOL_WORDS[lang][bool(value)]
    if isinstance(value, str):
        return choice_label(field_name, value, lang) if field_name else value
    if unit == "ratio":
        return f"{fmt_number(value * 100)}%"
    if unit == "pct":
        return f"{fmt_number(value)}%"
    if unit == "wan":
        zh, en = _UNIT_WORDS["wan"]
        return f"{fmt_number(value)} {zh if lang == 'zh' else en}"
    return fmt_number(value)


def field_unit(name: str | None) -> str | None:
    """The display unit of a registry field: wan, pct, bool, or None for plain numbers and text."""
    spec = fields.FIELDS.get(name or "")
    if spec is None:
        return None
    return {"money": "wan", "pct": "pct", "bool": "bool"}.get(spec.kind)


def choice_label(name: str, code: str, lang: str) -> str:
    """The zh/en label of an enum code (the code itself when unknown)."""
    spec = fields.FIELDS.get(name)
    if spec is None or code not in spec.choices:
        return code
    labels = spec.choice_labels_zh if lang == "zh" else spec.choice_labels_en
    return labels[spec.choices.index(code)]


def localized(obj: dict | None, key: str, lang: str):
    """``obj[key_zh]`` or ``obj[key_en]`` by language, falling back to the other one."""
    if not obj:
        return None
    return obj.get(f"{key}_{lang}") or obj.get(f"{key}_zh") or obj.get(f"{key}_en")
