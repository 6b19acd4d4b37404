"""reportlab's SVG renderer writing into a light element tree instead of ``xml.dom.minidom``: the same text.

``renderSVG`` builds a minidom document: every attribute is an ``Attr`` node whose ``localName`` lookup goes
through a caught ``AttributeError``, which made building the DOM about 60% of drawing a chart for the result
page (some 3.5 ms a chart, seven charts a page, redrawn for every new firm). Here the canvas is reportlab's own
(:class:`reportlab.graphics.renderSVG.SVGCanvas`, every shape and style worked out by reportlab); only the tree
it appends to is lighter, and it is written out as minidom writes it, byte for byte
(``tests/reports/test_svgdom.py`` compares both on every chart).
"""

from __future__ import annotations

from io import StringIO

from reportlab.graphics import renderSVG
from reportlab.graphics.renderbase import renderScaledDrawing

_ELEMENT, _TEXT = 1, 3


def _escaped(data: str) -> str:
    """As ``xml.dom.minidom._write_data`` escapes text and attribute values."""
    return data.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;").replace(">", "&gt;")


class _Text:
    nodeType = _TEXT

    def __init__(self, data: str):
        self.data = data

    def writexml(self, writer, indent="", addindent="", newl=""):
        writer.write(_escaped(f"{indent}{self.data}{newl}"))


class _Element:
    """The part of a minidom ``Element`` the SVG canvas uses: attributes, children, ``writexml``."""

    nodeType = _ELEMENT

    def __init__(self, tag: str):
        self.tagName, self.attrs, self.childNodes = tag, {}, []

    def setAttribute(self, name: str, value: str) -> None:  # noqa: N802 (the DOM's method names)
        self.attrs[name] = value

    def getAttribute(self, name: str) -> str:  # noqa: N802
        return self.attrs.get(name, "")

    def appendChild(self, node):  # noqa: N802
        self.childNodes.append(node)
        return node

    def writexml(self, writer, indent="", addindent="", newl=""):
        writer.write(f"{indent}<{self.tagName}")
        for name, value in self.attrs.items():
            writer.write(f' {name}="{_escaped(value)}"')
        if not self.childNodes:
            writer.write(f"/>{newl}")
            return
        writer.write(">")
        if len(self.childNodes) == 1 and self.childNodes[0].nodeType == _TEXT:
            self.childNodes[0].writexml(writer, "", "", "")
        else:
            writer.write(newl)
            for node in self.childNodes:
                node.writexml(writer, indent + addindent, addindent, newl)
            writer.write(indent)
        writer.write(f"</{self.tagName}>{newl}")


class _Document:
    """The document the canvas writes into: minidom's prologue and doctype, then the light tree."""

    def __init__(self, minidom_doc):
        self._doctype = minidom_doc.doctype
        self.converted: dict[int, _Element] = {}
        self.documentElement = self._convert(minidom_doc.documentElement)

    def _convert(self, node):
        if node.nodeType == _TEXT:
            return _Text(node.data)
        element = _Element(node.tagName)
        for name, value in node.attributes.items():
            element.setAttribute(name, value)
        for child in node.childNodes:
            element.appendChild(self._convert(child))
        self.converted[id(node)] = element
        return element

    def createElement(self, tag: str) -> _Element:  # noqa: N802
        return _Element(tag)

    def createTextNode(self, data: str) -> _Text:  # noqa: N802
        return _Text(data)

    def createComment(self, data: str) -> _Text:  # noqa: N802 (the canvas makes comments it never appends)
        return _Text(data)

    def writexml(self, writer, indent="", addindent="", newl="", encoding=None):
        declaration = f'encoding="{encoding}"' if encoding else ""
        writer.write(f'<?xml version="1.0" {declaration}?>{newl}')
        self._doctype.writexml(writer, indent, addindent, newl)
        self.documentElement.writexml(writer, indent, addindent, newl)


class LightSVGCanvas(renderSVG.SVGCanvas):
    """reportlab's SVG canvas on the light tree (the few nodes it starts with are carried over)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.doc = _Document(self.doc)
        self.svg = self.doc.documentElement
        self.groupTree = self.doc.converted[id(self.groupTree)]
        if hasattr(self, "scaleTree"):
            self.scaleTree = self.doc.converted[id(self.scaleTree)]
        self.currGroup = self.groupTree


def draw_to_string(drawing, **kwargs) -> str:
    """``renderSVG.drawToString(drawing, **kwargs)``, the same text, drawn on :class:`LightSVGCanvas`."""
    drawing = renderScaledDrawing(drawing)
    canvas = LightSVGCanvas((drawing.width, drawing.height), **kwargs)
    renderSVG.draw(drawing, canvas, 0, 0)
    out = StringIO()
    canvas.save(out)
    return out.getvalue()
