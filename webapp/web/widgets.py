"""WTForms' text input and select widgets with the same HTML, made cheaper to render.

The profile form has some 90 fields; WTForms builds every attribute through ``Markup.format`` and lists the
field's flags with ``dir()``, which made rendering the empty full form cost more CPU than judging a firm. These
subclasses produce byte-identical markup (``tests/web/test_widgets.py`` compares them with WTForms') with plain
string operations on values escaped by markupsafe.
"""

from __future__ import annotations

import functools

from markupsafe import Markup, escape
from wtforms.widgets import Select, TextInput


@functools.lru_cache(maxsize=256)
def _key(key: str) -> str:
    """An attribute name as WTForms writes it (``class_`` -> ``class``, ``aria_x`` -> ``aria-x``), escaped."""
    key = key.rstrip("_")
    if key.startswith(("data_", "aria_")):
        key = key.replace("_", "-")
    return str(escape(key))


def html_params(**kwargs) -> Markup:
    """``wtforms.widgets.html_params``: attributes sorted by name, True as a bare name, False left out."""
    params = []
    for k, v in sorted(kwargs.items()):
        if v is True:
            params.append(_key(k))
        elif v is not False:
            params.append(f'{_key(k)}="{str(escape(v)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


def _flag_attrs(widget, field, kwargs: dict) -> None:
    """The field's flags that the widget writes as attributes (maxlength, required ...), unless given."""
    flags = getattr(field, "flags", None)
    for k in (vars(flags) if flags is not None else ()):
        if k in widget.validation_attrs and k not in kwargs:
            value = getattr(flags, k)
            kwargs[k] = value() if callable(value) and isinstance(widget, TextInput) else value


class FastTextInput(TextInput):
    """``<input type="text">`` as :class:`wtforms.widgets.TextInput` writes it."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("type", self.input_type)
        if "value" not in kwargs:
            kwargs["value"] = field._value()
        datalist = getattr(field, "_datalist", None)
        if datalist is not None and "list" not in kwargs:
            kwargs["list"] = datalist if isinstance(datalist, str) else datalist.id
        _flag_attrs(self, field, kwargs)
        return Markup(f"<input {html_params(name=field.name, **kwargs)}>")


class FastSelect(Select):
    """``<select>`` as :class:`wtforms.widgets.Select` writes it (single choice, no option groups)."""

    def __init__(self):
        super().__init__(multiple=False)

    def __call__(self, field, **kwargs):
        if field.has_groups():
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        _flag_attrs(self, field, kwargs)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for choice in field.iter_choices():
            html.append(self._option(choice))
        html.append("</select>")
        return Markup("".join(html))

    @staticmethod
    def _option(choice) -> str:
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        options = {"value": value, **(choice.render_kw or {})}
        if choice.selected:
            options["selected"] = True
        return f"<option {html_params(**options)}>{escape(choice.label or choice.value)}</option>"
