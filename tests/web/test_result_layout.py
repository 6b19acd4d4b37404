"""The result page as a client sees it, at desktop and phone width: tier names on the ladder never leave one
character alone on a line ("专精特新“小巨人”企" / "业"), a score stays whole ("70–80 分"), and the phone
layout prints no bare "得分：" under a criterion that scores nothing."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_profile

pytestmark = pytest.mark.browser

_FILL = """(values) => { const form = document.querySelector('form.profile-form');
  for (const [name, value] of Object.entries(values)) {
    const el = form.querySelector(`[name="${name}"]`); if (!el) continue;
    if (el.type === 'checkbox') { el.checked = value === 'true'; } else { el.value = value; } } }"""

# For each ladder entry: is its last character on the line of the one before it, and its score on one line?
_LADDER = """() => [...document.querySelectorAll('.rung-tier')].map(el => {
  const text = [...el.childNodes].filter(c => c.nodeType === 3 && c.textContent.trim()).pop();
  const n = text.textContent.trimEnd().length;
  const top = i => { const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
                     return r.getBoundingClientRect().top; };
  const small = el.querySelector('small');
  const rects = small ? small.getClientRects().length : 1;
  return {name: text.textContent.trim(), orphan: Math.abs(top(n - 1) - top(n - 2)) > 2, scoreLines: rects}; })"""

_EMPTY_LABELS = """() => [...document.querySelectorAll('.checklist td.num[data-label]')]
  .filter(td => td.offsetParent !== null && td.textContent.trim() === '').length"""


@pytest.mark.parametrize("width", [1280, 390])
def test_ladder_names_and_scores_wrap_cleanly(browser, live_server, screenshots, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/assess?full=1")
    profile = make_profile(employees=640, revenue=26000, total_assets=20000.0001, title_srdi=False)
    page.evaluate(_FILL, {k: "true" if v is True else "false" if v is False else str(v) for k, v in profile.items()})
    page.click("form.profile-form button[type=submit]")
    page.wait_for_url(re.compile(r"/assess/result$"))
    rungs = page.evaluate(_LADDER)
    assert any("小巨人" in r["name"] for r in rungs)
    assert [r["name"] for r in rungs if r["orphan"]] == []
    assert all(r["scoreLines"] == 1 for r in rungs), rungs
    if width < 860:  # the phone layout labels each cell ("得分：")
        assert page.evaluate(_EMPTY_LABELS) == 0
    page.screenshot(path=screenshots / f"11-result-ladder-{width}.png")
    context.close()
