"""The result page's HNTE section: a qualification beside the ladder, with its score and the consultant's message."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_profile
from tests.web.helpers import form_data
from webapp import fields

STRONG = {"tech_level": "a", "core_support": "a", "tech_transfers_3y": 15}
ROUTES = {"zh": "持证即满足创新型中小企业（I-D2）和科技型中小企业（T-D）的直通条件",
          "en": "a valid certificate is a direct route to Innovative SME (I-D2) and Tech-based SME (T-D)"}


def result_page(client, lang: str, **overrides) -> str:
    """The result page, in ``lang``, of the factory firm with ``overrides``."""
    client.get(f"/lang/{lang}")
    assert client.post("/assess", data=form_data(make_profile(**overrides))).status_code == 302
    return client.get("/assess/result").text


def section(html: str, element: str, marker: str) -> str:
    """The HTML of the first ``element`` whose opening tag contains ``marker``."""
    start = html.index(marker)
    start = html.rindex(f"<{element}", 0, start)
    return html[start:html.index(f"</{element}>", start)]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hnte_has_its_own_section_with_status_score_conditions_and_message(client, lang):
    """Unknown score range across the pass mark: status, range, pass mark, H1-H8 and the message, zh and en."""
    html = result_page(client, lang, hnte=False)
    hnte = section(html, "section", 'id="hnte"')
    assert ("与梯度培育阶梯并行的资质" if lang == "zh" else "A qualification beside the ladder") in hnte
    assert "58–74" in hnte and ("70分以上" if lang == "zh" else "above 70") in hnte
    for cid in ("H1", "H2", "H3", "H4", "H5", "H6", "H7-IP", "H7-T", "H7-M", "H7-G", "H7", "H8"):
        assert re.search(rf'class="cid">{re.escape(cid)}<', hnte), cid
    h4 = "国科发火〔2016〕32号 第十一条（四）" if lang == "zh" else "MOST Torch [2016] No. 32, Article 11 (4)"
    assert h4 in hnte
    assert ("跨过合格线" if lang == "zh" else "spans the pass mark") in hnte
    assert ROUTES[lang] in hnte
    assert "<svg" in hnte  # the score against the pass mark, drawn by the PDF's chart code


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_ladder_and_its_checklist_do_not_show_hnte_as_a_rung(client, lang):
    """The ladder's rungs and the criterion-by-criterion panel list the SME tiers only."""
    html = result_page(client, lang, hnte=False, **STRONG)
    ladder = section(html, "ol", 'class="ladder"')
    name = "高新技术企业" if lang == "zh" else "High and New Technology"
    assert name not in ladder and ("创新型中小企业" if lang == "zh" else "Innovative SME") in ladder
    assert 'id="tier-hnte"' not in html and 'id="tier-srdi_sme"' in html
    assert ("您的数据满足高企认定条件" if lang == "zh" else "Your figures meet the HNTE conditions") in \
        section(html, "section", 'id="hnte"')


def test_a_certificate_holder_reads_that_it_holds_one(client):
    """Holding a valid certificate, the message says so and names what it opens."""
    hnte = section(result_page(client, "zh", hnte=True), "section", 'id="hnte"')
    assert "您已持有有效的高企证书" in hnte and "I-D2" in hnte


def test_the_route_action_is_recommended_on_the_page(client):
    """Within reach and not held: the recommendations name HNTE as the route to the innovative and tech SME."""
    html = result_page(client, "zh", hnte=False, **STRONG)
    advice = section(html, "section", 'id="advice"')
    assert "申请高新技术企业认定" in advice and "国科发火〔2016〕32号" in advice


def test_full_form_shows_the_hnte_group(client):
    """The full form has the HNTE group with its fields, labels and units from the registry."""
    html = client.get("/assess?full=1").text
    label = next(zh for gid, zh, _ in fields.GROUPS if gid == "hnte")
    assert label in html
    for spec in fields.REGISTRY:
        if spec.group == "hnte":
            assert f'name="{spec.name}"' in html and spec.label_zh in html


def test_what_if_summary_marks_hnte_as_beside_the_ladder(client):
    """The what-if answer lists HNTE as beside the ladder, so the panel shows it after the rungs."""
    response = client.post("/api/v1/whatif", json={"profile": make_profile(hnte=False), "changes": {}})
    assert response.status_code == 200
    assert response.get_json()["beside"] == ["hnte"] and "hnte" in response.get_json()["tiers"]
