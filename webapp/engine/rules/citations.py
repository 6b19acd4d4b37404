"""Official citations: the documents the rule tables cite (``documents.toml``) and the citation of a criterion
or a table as a client reads it — issuing body, title, document number, annex and item.

A table's ``source`` keys are research provenance (where a wording was read, often a reprint); they stay in the
tables for maintainers and never reach a report, page, export or API answer. What clients see is built here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from webapp.engine.rules.parts import RuleTableError, read_toml

DOCUMENTS_FILE = "documents.toml"
GOVERNMENT_SUFFIX = ".gov.cn"


@dataclass(frozen=True)
class Document:
    """An official document: who issued it, its title and number, its annexes and a government address."""

    key: str
    issuer_zh: str
    issuer_en: str
    title_zh: str = ""
    title_en: str = ""
    number_zh: str = ""
    number_en: str = ""
    date_zh: str = ""
    date_en: str = ""
    url: str = ""
    annexes_zh: tuple[str, ...] = ()
    annexes_en: tuple[str, ...] = ()


@dataclass(frozen=True)
class Citation:
    """One citation: a document, optionally an annex (1-based) and an item within it."""

    document: Document
    annex: int | None = None
    part_zh: str = ""
    part_en: str = ""

    def text(self, lang: str, *, full: bool = False) -> str:
        """The citation in ``lang`` (zh or en). Short (the default): document number, annex and item, e.g.
        工信部企业〔2026〕2号 附件1; ``full`` adds the issuing body, the title and the annex title, e.g.
        工业和信息化部《优质中小企业梯度培育管理办法》（工信部企业〔2026〕2号）附件1《专精特新中小企业认定标准》."""
        d = self.document
        if lang == "zh":
            number = d.number_zh or f"《{d.title_zh}》（{d.date_zh}）"
            head = f"{d.issuer_zh}{self.title(lang)}" if full else number
            annex = f"附件{self.annex}" + (f"《{d.annexes_zh[self.annex - 1]}》" if full else "") if self.annex else ""
            return " ".join(x for x in (head + annex, self.part_zh) if x)
        number = d.number_en or f"{d.title_en} ({d.date_en})"
        head = f"{d.issuer_en}, {self.title(lang)}" if full else number
        annex = f"Annex {self.annex}" + (f" ({d.annexes_en[self.annex - 1]})" if full else "") if self.annex else ""
        return ", ".join(x for x in (head, annex, self.part_en) if x)

    def title(self, lang: str) -> str:
        """The document's title and number, e.g. 《优质中小企业梯度培育管理办法》（工信部企业〔2026〕2号）."""
        d = self.document
        if lang == "zh":
            return f"《{d.title_zh}》（{d.number_zh or d.date_zh}）" if d.title_zh else d.number_zh
        return f"{d.title_en} ({d.number_en or d.date_en})" if d.title_en else d.number_en

    def as_dict(self, lang: str) -> dict:
        """The citation as the result contract gives it: text, document number and government address."""
        d = self.document
        return {"text": self.text(lang, full=True), "number": d.number_zh if lang == "zh" else d.number_en,
                "url": d.url or None}


def join(citations: tuple[Citation, ...], lang: str, *, full: bool = False) -> str:
    """Several citations in one line."""
    return ("；" if lang == "zh" else "; ").join(c.text(lang, full=full) for c in citations)


def documents_of(rules, lang: str) -> str:
    """The documents a group of criteria cites (what a tier rests on), each once in order of first citation,
    with the annexes cited: 工业和信息化部《…》（工信部企业〔2022〕63号）附件1《…》."""
    docs: dict[str, tuple[Document, list[int]]] = {}
    for rule in rules:
        for c in rule.cite:
            annexes = docs.setdefault(c.document.key, (c.document, []))[1]
            if c.annex and c.annex not in annexes:
                annexes.append(c.annex)
    parts = []
    for document, annexes in docs.values():
        head = Citation(document).text(lang, full=True)
        names = [(f"附件{a}《{document.annexes_zh[a - 1]}》" if lang == "zh"
                  else f"Annex {a} ({document.annexes_en[a - 1]})") for a in sorted(annexes)]
        if names:
            head += "及" + "、".join(names) if lang == "zh" else ", with " + ", ".join(names)
        parts.append(head)
    return ("；" if lang == "zh" else "; ").join(parts)


def load_documents(directory: Path) -> dict[str, Document]:
    """The documents of ``directory/documents.toml``, checked: required keys, annex lists, government hosts."""
    path = directory / DOCUMENTS_FILE
    doc = read_toml(path, RuleTableError)
    out = {}
    for key, spec in doc.get("documents", {}).items():
        where = f"{path.name}: documents.{key}"
        missing = [k for k in ("issuer_zh", "issuer_en") if not spec.get(k)]
        if not (spec.get("number_zh") and spec.get("number_en")):
            if not all(spec.get(k) for k in ("title_zh", "title_en", "date_zh", "date_en")):
                missing.append("number_zh and number_en (or title_zh, title_en, date_zh and date_en)")
        elif bool(spec.get("title_zh")) != bool(spec.get("title_en")):
            missing.append("title_zh and title_en (both or neither)")
        if missing:
            raise RuleTableError(f"{where}: missing {', '.join(missing)}")
        url = spec.get("url", "")
        host = urlsplit(url).hostname or ""
        if url and not host.endswith(GOVERNMENT_SUFFIX):
            raise RuleTableError(f"{where}: url must be on a government host (*{GOVERNMENT_SUFFIX}), not {host!r}")
        zh, en = tuple(spec.get("annexes_zh", ())), tuple(spec.get("annexes_en", ()))
        if len(zh) != len(en):
            raise RuleTableError(f"{where}: annexes_zh and annexes_en differ in length")
        fields_ = {k: spec[k] for k in ("issuer_zh", "issuer_en", "title_zh", "title_en", "number_zh",
                                        "number_en", "date_zh", "date_en", "url") if k in spec}
        out[key] = Document(key=key, annexes_zh=zh, annexes_en=en, **fields_)
    return out


def parse_cite(value, documents: dict[str, Document], where: str) -> tuple[Citation, ...]:
    """A row's ``cite`` (an inline table or a list of them) as citations; every row must carry one."""
    if value is None:
        raise RuleTableError(f"{where}: missing cite (the official document, annex and item clients see)")
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, dict) or "doc" not in item:
            raise RuleTableError(f"{where}: cite needs doc = \"<key of {DOCUMENTS_FILE}>\"")
        document = documents.get(item["doc"])
        if document is None:
            raise RuleTableError(f"{where}: cite names unknown document {item['doc']!r}")
        annex = item.get("annex")
        if annex is not None and not (isinstance(annex, int) and 1 <= annex <= len(document.annexes_zh)):
            raise RuleTableError(f"{where}: {item['doc']} has no annex {annex!r}")
        if bool(item.get("part_zh")) != bool(item.get("part_en")):
            raise RuleTableError(f"{where}: cite needs both part_zh and part_en, or neither")
        out.append(Citation(document, annex, item.get("part_zh", ""), item.get("part_en", "")))
    return tuple(out)
