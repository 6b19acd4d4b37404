"""Consultant branding: a practice name and a checked logo on the account, printed on PDF covers and XLSX."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from PIL import Image

from tests.web.helpers import add_client, logout, register, save_assessment


def _image(fmt: str, size=(300, 100), colour="navy") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def _upload(client, data: bytes, name="logo.png", practice="甬信知识产权咨询"):
    return client.post("/account/branding", data={"practice_name": practice, "logo": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_logo_and_practice_name_are_saved_and_shown(client):
    register(client)
    assert client.get("/account/logo.png").status_code == 404
    response = _upload(client, _image("JPEG", (2400, 800)))
    assert response.status_code == 302
    page = client.get("/account/branding").text
    assert "甬信知识产权咨询" in page and "/account/logo.png" in page
    logo = client.get("/account/logo.png")
    assert logo.mimetype == "image/png"
    stored = Image.open(io.BytesIO(logo.data))
    assert stored.format == "PNG" and stored.size == (1200, 400)  # re-encoded, at most 1200 px a side
    # the practice name changes alone; the logo stays until removed
    client.post("/account/branding", data={"practice_name": "甬信咨询"})
    assert client.get("/account/logo.png").status_code == 200
    client.post("/account/branding", data={"practice_name": "甬信咨询", "remove_logo": "y"})
    assert client.get("/account/logo.png").status_code == 404
    logout(client)
    assert client.get("/account/branding").status_code == 302


@pytest.mark.parametrize(("data", "name", "words"), [
    (b"not an image at all", "logo.png", "不是"),
    (_image("GIF"), "logo.gif", "GIF"),
    (_image("PNG", (8, 8)), "logo.png", "8 × 8"),
    (_image("PNG")[:200], "cut.png", "损坏"),
])
def test_bad_logos_are_refused_saying_why(client, data, name, words):
    register(client)
    response = _upload(client, data, name)
    assert response.status_code == 400 and words in response.text
    assert client.get("/account/logo.png").status_code == 404


def test_oversized_logo_is_refused_before_decoding(app):
    """Checked on the function: the test client spools a body this large to a file it never closes."""
    from webapp.web.branding import LogoError, clean_logo

    with app.test_request_context(), pytest.raises(LogoError, match="1,024 KB"):
        clean_logo(b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024 + 10))


def test_branding_on_pdf_cover_and_xlsx(client, monkeypatch):
    """The PDF export gets the logo, practice and consultant names and the edition asked for; the XLSX
    summary names the practice and carries the logo."""
    from webapp.web import services

    register(client)
    _upload(client, _image("PNG"))
    aid = save_assessment(client, add_client(client))
    seen = {}

    def fake(result, fp, *, lang, **cover):
        seen.update(cover)
        fp.write(b"%PDF-fake")

    monkeypatch.setattr(services, "render_pdf", fake)
    client.get(f"/assessments/{aid}/export.pdf?edition=client")
    assert seen["practice"] == "甬信知识产权咨询" and seen["consultant"] == "顾问甲" and seen["edition"] == "client"
    assert Image.open(io.BytesIO(seen["logo"])).format == "PNG"
    client.get(f"/assessments/{aid}/export.pdf?edition=bogus")
    assert seen["edition"] == "full"
    book = load_workbook(io.BytesIO(client.get(f"/assessments/{aid}/export.xlsx").data))
    summary = {row[0].value: row[1].value for row in book["概要"].iter_rows() if row[0].value}
    assert summary["咨询机构"] == "甬信知识产权咨询" and len(book["概要"]._images) == 1


def test_real_pdf_with_logo_and_client_edition(client):
    """The real report: the logo is the one image, and the client edition is shorter (no method appendix)."""
    register(client)
    _upload(client, _image("PNG"))
    aid = save_assessment(client, add_client(client))
    full = client.get(f"/assessments/{aid}/export.pdf").data
    short = client.get(f"/assessments/{aid}/export.pdf?edition=client").data
    assert full.startswith(b"%PDF") and full.count(b"/Subtype /Image") == 1
    assert short.count(b"/Type /Page\n") < full.count(b"/Type /Page\n") or len(short) < len(full)
