"""Whether marshmallow's dump of an answer would change anything, found without dumping it.

An assessment's answer is a few thousand values the engine already made JSON-ready; dumping it through the
response schemas (:mod:`webapp.web.api_schemas`) walks every one of them to copy it unchanged, about a third
of the API's own time per request. :func:`dump_is_identity` walks the same declared fields, only checking
that each value already has the type the field would turn it into (a ``String`` field's value is a ``str``
or None, an ``Integer``'s an ``int``, ...); when every value does, the dump would give the same JSON as the
answer itself, and the schema sends the answer as it is. Anything else (a value of another type, a field
class or a hook not read here, a key renamed between the answer and the document) says no, and marshmallow
dumps the answer as before. tests/web/test_api_dump.py compares both on real answers.
"""

from __future__ import annotations

from collections.abc import Callable

from marshmallow import Schema, missing
from marshmallow import fields as mf

Check = Callable[[object], bool]
_NEVER: Check = lambda value: False  # noqa: E731
_CHECKS: dict[tuple, Check] = {}  # per schema class and field selection: the schemas are fixed at import


def dump_is_identity(schema: Schema, obj, *, allowed_hooks: frozenset[str]) -> bool:
    """True when ``schema.dump(obj)`` would equal ``obj`` once both are JSON (same keys, same values).

    ``allowed_hooks`` names the schema's dump hooks known to keep a dict's values as they are.
    """
    key = (type(schema), schema.only and frozenset(schema.only), frozenset(schema.exclude),
           frozenset(schema.dump_only), frozenset(schema.load_only), allowed_hooks)
    check = _CHECKS.get(key)
    if check is None:
        check = _CHECKS[key] = _schema_check(schema, allowed_hooks)
    return check(obj)


def _schema_check(schema: Schema, allowed_hooks: frozenset[str]) -> Check:
    """The check of a schema's dump: a dict whose every declared key holds a value its field keeps."""
    hooks = [name for tag, names in schema._hooks.items() if "dump" in str(tag) for name, *_ in names]
    if schema.many or any(name not in allowed_hooks for name in hooks):
        return _NEVER
    checks: list[tuple[str, Check]] = []
    for name, field in schema.dump_fields.items():
        if field.attribute not in (None, name) or field.data_key not in (None, name) \
                or field.dump_default is not missing or hasattr(dict, name):  # a dict's method, read when absent
            return _NEVER
        check = _field_check(field, allowed_hooks)
        if check is _NEVER:
            return _NEVER
        checks.append((name, check))

    def check(obj) -> bool:
        if type(obj) is not dict:
            return False
        for name, value_check in checks:
            if name in obj and not value_check(obj[name]):
                return False
        return True

    return check


def _field_check(field: mf.Field, allowed_hooks: frozenset[str]) -> Check:
    """A check of one value: True when the field's ``_serialize`` would give the value back unchanged."""
    kind = type(field)
    if kind is mf.Raw:
        return lambda value: True
    if kind is mf.String:
        return lambda value: value is None or type(value) is str
    if kind is mf.Boolean:
        return lambda value: value is None or type(value) is bool
    if kind is mf.Integer and not field.as_string:
        return lambda value: value is None or type(value) is int
    if kind is mf.Nested:
        if field.many or not isinstance(field.nested, type) or field.only is not None or field.exclude:
            return _NEVER
        nested = _schema_check(field.schema, allowed_hooks)
        return _NEVER if nested is _NEVER else (lambda value: value is None or nested(value))
    if kind is mf.List:
        inner = _field_check(field.inner, allowed_hooks)
        if inner is _NEVER:
            return _NEVER
        return lambda value: value is None or (type(value) is list and all(inner(each) for each in value))
    if kind is mf.Dict:
        keys = _field_check(field.key_field, allowed_hooks) if field.key_field is not None else None
        values = _field_check(field.value_field, allowed_hooks) if field.value_field is not None else None
        if keys is _NEVER or values is _NEVER:
            return _NEVER
        if keys is None and values is None:
            return lambda value: value is None or type(value) is dict

        def mapping(value) -> bool:
            if value is None:
                return True
            if type(value) is not dict:
                return False
            return all((keys is None or keys(k)) and (values is None or values(v)) for k, v in value.items())

        return mapping
    return _NEVER
