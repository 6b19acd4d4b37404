"""Load and check the advice engine's data: planning constants, action texts, themes and documents."""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field
from pathlib import Path

from webapp import fields, paths
from webapp.engine.rules.parts import read_toml

STATUSES = ("verified", "secondary", "recalled", "assumption")
SPECIAL_LEADS = ("fiscal", "fiscal2", "years", "title", "platform", "ip_file", "growth")
_TEXT_KEYS = ("title_zh", "title_en", "detail_zh", "detail_en")


class AdviceDataError(ValueError):
    """An advice data file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Constant:
    """One planning constant with where it comes from."""

    name: str
    value: float
    unit: str
    name_zh: str
    name_en: str
    source_zh: str
    source_en: str
    status: str

    def to_dict(self) -> dict:
        """JSON-ready form, for the ``basis`` of an advice result."""
        return {"value": self.value, "unit": self.unit, "name_zh": self.name_zh, "name_en": self.name_en,
                "source_zh": self.source_zh, "source_en": self.source_en, "status": self.status}


@dataclass(frozen=True)
class AdviceData:
    """Everything the advice engine reads from ``data/advice``."""

    constants: dict[str, Constant]
    kinds: dict[str, dict]
    levers: dict[str, str]
    ops: dict[str, tuple[str, str]]
    themes: tuple[dict, ...]
    theme_texts: dict[str, str]
    theme_source: dict[str, str]
    documents: dict[str, dict[str, str]]
    doc_groups: dict[str, str]
    doc_fields: dict[str, str]
    versions: dict[str, str]
    texts: dict[str, str]
    metric_labels: dict[str, dict[str, str]]
    briefs: dict[str, dict[str, str]] = field(default_factory=dict)

    def value(self, name: str) -> float:
        """The value of planning constant ``name``."""
        return self.constants[name].value

    def metric_label(self, metric: str, lang: str) -> str:
        """Label of a benchmark metric or field in ``lang`` (the name itself when unknown)."""
        if metric in self.metric_labels:
            return self.metric_labels[metric][lang]
        return fields.label(metric, lang) if metric in fields.FIELDS else metric

    def document_of(self, field: str) -> str | None:
        """Document key an input field is taken from (None for a name that is not a field)."""
        spec = fields.FIELDS.get(field)
        if spec is None:
            return None
        return self.doc_fields.get(field) or self.doc_groups.get(spec.group)

    def documents_for(self, names, lang: str) -> list[str]:
        """Distinct document names, in ``lang``, for the input fields ``names`` (first-seen order)."""
        out: list[str] = []
        for name in names:
            key = self.document_of(name)
            text = self.documents[key][lang] if key in self.documents else None
            if text and text not in out:
                out.append(text)
        return out


def _read(path: Path) -> dict:
    return read_toml(path, AdviceDataError)


def _constants(doc: dict, where: str) -> dict[str, Constant]:
    out = {}
    for name, spec in doc.get("constants", {}).items():
        missing = [k for k in ("value", "unit", "name_zh", "name_en", "source_zh", "source_en", "status")
                   if not spec.get(k) and spec.get(k) != 0]
        if missing:
            raise AdviceDataError(f"{where}: constants.{name}: missing {', '.join(missing)}")
        if spec["status"] not in STATUSES:
            raise AdviceDataError(f"{where}: constants.{name}: status must be one of {', '.join(STATUSES)}")
        out[name] = Constant(name, float(spec["value"]), spec["unit"], spec["name_zh"], spec["name_en"],
                             spec["source_zh"], spec["source_en"], spec["status"])
    return out


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _kinds(doc: dict, constants: dict, where: str) -> dict[str, dict]:
    kinds = doc.get("kinds", {})
    for name, spec in kinds.items():
        missing = [k for k in ("lead", *_TEXT_KEYS) if k not in spec]
        if missing:
            raise AdviceDataError(f"{where}: kinds.{name}: missing {', '.join(missing)}")
        if spec["lead"] not in SPECIAL_LEADS and spec["lead"] not in constants:
            raise AdviceDataError(f"{where}: kinds.{name}: lead {spec['lead']!r} is neither a planning "
                                  f"constant nor one of {', '.join(SPECIAL_LEADS)}")
        for key in _TEXT_KEYS:
            try:
                _placeholders(spec[key])
            except ValueError as exc:
                raise AdviceDataError(f"{where}: kinds.{name}.{key}: {exc}") from None
    for needed in ("generic", "gather", "manual", "renew", "title"):
        if needed not in kinds:
            raise AdviceDataError(f"{where}: kinds.{needed} is required")
    return kinds


def _briefs(doc: dict, where: str) -> dict[str, dict[str, str]]:
    """The consultant's briefs on qualifications beside the ladder (``[briefs.<tier>]``): texts by key."""
    out = {}
    for name, texts in doc.get("briefs", {}).items():
        for key, text in texts.items():
            try:
                _placeholders(text)
            except ValueError as exc:
                raise AdviceDataError(f"{where}: briefs.{name}.{key}: {exc}") from None
        out[name] = dict(texts)
    return out


def load_advice_data(directory: str | Path | None = None) -> AdviceData:
    """Load the advice data files from ``directory`` (default ``data/advice``), once per process.

    Raises
    ------
    AdviceDataError
        When a file is missing or an entry malformed; the message names the file and the entry.
    """
    return _load(Path(directory).resolve() if directory else paths.resolve().advice)


@functools.cache
def _load(base: Path) -> AdviceData:
    """Parse the advice files of one folder (memoised by folder: the files are read once per process)."""
    planning, actions = _read(base / "planning.toml"), _read(base / "actions.toml")
    themes, docs = _read(base / "themes.toml"), _read(base / "documents.toml")
    constants = _constants(planning, "planning.toml")
    kinds = _kinds(actions, constants, "actions.toml")
    levers = dict(actions.get("levers", {}))
    bad = sorted(k for k, v in levers.items() if v not in kinds)
    if bad:
        raise AdviceDataError(f"actions.toml: levers {bad} map to unknown kinds")
    for theme in themes.get("themes", []):
        missing = [k for k in ("id", "dimension", "metrics", *_TEXT_KEYS) if k not in theme]
        if missing:
            raise AdviceDataError(f"themes.toml: theme {theme.get('id', '?')}: missing {', '.join(missing)}")
    documents = docs.get("documents", {})
    unknown = sorted({*docs.get("groups", {}).values(), *docs.get("fields", {}).values()} - set(documents))
    if unknown:
        raise AdviceDataError(f"documents.toml: unknown documents {unknown}")
    return AdviceData(
        constants=constants, kinds=kinds, levers=levers,
        ops={k: (v[0], v[1]) for k, v in actions.get("ops", {}).items()},
        themes=tuple(themes.get("themes", [])), theme_texts=dict(themes.get("texts", {})),
        theme_source={"zh": themes["table"].get("source_zh", ""), "en": themes["table"].get("source_en", "")},
        documents=documents, doc_groups=dict(docs.get("groups", {})), doc_fields=dict(docs.get("fields", {})),
        versions={d["table"]["id"]: str(d["table"]["version"]) for d in (planning, actions, themes, docs)},
        texts=dict(planning.get("texts", {})),
        metric_labels={k: dict(v) for k, v in themes.get("metrics", {}).items()},
        briefs=_briefs(actions, "actions.toml"),
    )

