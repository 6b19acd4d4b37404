// What-if panel: send the profile with a few changed figures to /api/v1/whatif and show the new tier and
// scores. Served from the app's own static files (the CSP allows no inline script); builds the DOM with
// textContent only, so nothing from the server is ever parsed as HTML.
(function () {
  "use strict";
  var panel = document.getElementById("what-if");
  if (!panel) { return; }
  var base = JSON.parse(panel.dataset.base);
  var words = JSON.parse(panel.dataset.words);
  var lang = panel.dataset.lang;
  var form = panel.querySelector("form");
  var out = panel.querySelector(".what-if-result");
  var marks = { met: "\u2713", not_met: "\u2717", unknown: "?" };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function name(tier) { return lang === "zh" ? tier.name_zh : tier.name_en; }

  function score(t) {
    if (t.score_min === null || t.score_min === undefined) { return ""; }
    return t.score_min === t.score_max ? String(t.score_min) : t.score_min + "\u2013" + t.score_max;
  }

  function show(summary) {
    out.replaceChildren();
    var head = el("p", "what-if-tier");
    head.appendChild(el("span", "muted", words.tier + ": "));
    var top = summary.tiers[summary.tier];
    head.appendChild(el("strong", null, top ? name(top) : words.none));
    out.appendChild(head);
    var list = el("ul", "what-if-tiers");
    var beside = summary.beside || [];  // qualifications beside the ladder (HNTE) come after its rungs
    var ids = Object.keys(summary.tiers).sort(function (a, b) {
      return (beside.indexOf(a) >= 0) - (beside.indexOf(b) >= 0) ||
        (summary.tiers[a].level - summary.tiers[b].level) || (a < b ? -1 : 1);
    });
    ids.forEach(function (id) {
      var t = summary.tiers[id];
      var before = base.summary.tiers[id];
      var item = el("li", "row-" + t.status);
      item.appendChild(el("span", "mark mark-" + t.status, marks[t.status]));
      item.appendChild(el("span", null, " " + name(t) + " \u00b7 " + words[t.status]));
      var s = score(t);
      if (s) { item.appendChild(el("span", "score", words.score + " " + s)); }
      if (before && (before.status !== t.status || score(before) !== s)) {
        var old = words[before.status] + (score(before) ? " \u00b7 " + score(before) : "");
        item.appendChild(el("span", "was", "(" + words.was + " " + old + ")"));
        item.classList.add("changed");
      }
      var r = summary.readiness && summary.readiness[id];
      if (r && typeof r.probability === "number") {
        item.appendChild(el("span", "score", words.readiness + " " + Math.round(r.probability * 100) + "%"));
      }
      list.appendChild(item);
    });
    out.appendChild(list);
  }

  function changes() {
    var out = {};
    form.querySelectorAll("input").forEach(function (input) {
      var value = input.value.trim();
      if (value !== String(base.profile[input.name] === undefined ? "" : base.profile[input.name])) {
        out[input.name] = value === "" ? null : value;
      }
    });
    return out;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    out.hidden = false;
    out.replaceChildren(el("p", "muted", words.working));
    var body = { profile: base.profile, rules: base.rules, as_of: base.as_of, mode: base.mode, changes: changes() };
    fetch(panel.dataset.endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (reply) {
      if (!reply.ok) {
        out.replaceChildren(el("p", "error", words.error));
        var errs = (reply.data.error && reply.data.error.errors) || [];
        errs.forEach(function (e) { out.appendChild(el("p", "error", lang === "zh" ? e.message_zh : e.message_en)); });
        return;
      }
      show(reply.data);
    }).catch(function () { out.replaceChildren(el("p", "error", words.error)); });
  });

  form.addEventListener("reset", function () { out.hidden = true; out.replaceChildren(); });
}());
