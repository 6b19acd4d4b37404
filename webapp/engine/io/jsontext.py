"""JSON text to Python values for profiles, with limits that name the problem instead of ending in a traceback.

Python's ``json`` module stops a document nested about a thousand levels deep with ``RecursionError`` and an
integer of more than 4,300 digits with a bare ``ValueError``. A profile is one flat object of scalars, so
:func:`loads` allows little nesting (:data:`MAX_DEPTH`) and refuses an integer of more than
:data:`MAX_INT_DIGITS` digits (far beyond any field's bounds), naming where it is (``profile.revenue``).
"""

from __future__ import annotations

import json

MAX_DEPTH = 32
MAX_INT_DIGITS = 30


class JSONInputError(ValueError):
    """JSON text that cannot be read; the message is one line saying why (and where, for syntax errors)."""


def loads(text: str | bytes):
    """Parse ``text`` as JSON, nested at most :data:`MAX_DEPTH` levels.

    Raises
    ------
    JSONInputError
        Not valid JSON (line and column named), nested deeper than :data:`MAX_DEPTH` levels, or an integer
        of more than :data:`MAX_INT_DIGITS` digits (its key path named).
    """
    try:
        doc = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise JSONInputError(f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    except RecursionError:
        raise JSONInputError(f"JSON nested too deeply (more than {MAX_DEPTH} levels)") from None
    except UnicodeDecodeError:
        raise JSONInputError("not UTF-8 text") from None
    _check(doc)
    return doc


class _LongInteger(str):
    """The digits of an integer too long to read (kept as text until its place is known)."""


def _parse_int(digits: str):
    """An int, or the marker of one with more than :data:`MAX_INT_DIGITS` digits."""
    return int(digits) if len(digits.lstrip("-")) <= MAX_INT_DIGITS else _LongInteger(digits)


def _check(doc) -> None:
    """Walk ``doc`` without recursion: refuse deep nesting and over-long integers, naming the key path."""
    stack = [(doc, 0, "")]
    while stack:
        value, level, where = stack.pop()
        if isinstance(value, _LongInteger):
            digits = len(value.lstrip("-"))
            raise JSONInputError(f"{where or 'the document'}: an integer of {digits} digits "
                                 f"(at most {MAX_INT_DIGITS} digits are read)")
        if isinstance(value, dict):
            children = ((f"{where}.{key}" if where else str(key), child) for key, child in value.items())
        elif isinstance(value, list):
            children = ((f"{where}[{i}]", child) for i, child in enumerate(value))
        else:
            continue
        if level >= MAX_DEPTH:
            raise JSONInputError(f"JSON nested too deeply (more than {MAX_DEPTH} levels)")
        stack.extend((child, level + 1, path) for path, child in children)
