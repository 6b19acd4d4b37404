// The assessment form loses nothing: what is typed is kept in this browser (localStorage) and put back after
// Back, a reload or a crash; once the form has been accepted (a result page follows the submit) the draft is
// removed, and a copy for this tab only (sessionStorage) still refills the form when the user comes Back to it.
// After a refused submit, focus moves to the error summary. Served from the app's own static files (the CSP
// allows no inline script); values are only ever written into form fields, never parsed as HTML.
(function () {
  "use strict";
  var DRAFT = "giantstep:draft:", SENT = "giantstep:sent:", PENDING = "giantstep:pending";
  var ACCEPTED = ["assess.result", "history.assessment"];

  function storage(kind) {
    try {
      var s = window[kind], probe = "giantstep:probe";
      s.setItem(probe, probe);
      s.removeItem(probe);
      return s;
    } catch (e) {
      return null;  // storage disabled (private mode, policy): the form still works, without drafts
    }
  }
  var local = storage("localStorage"), tab = storage("sessionStorage");

  function read(store, key) {
    if (!store) { return null; }
    try { return JSON.parse(store.getItem(key) || "null"); } catch (e) { return null; }
  }

  function forget(key) {
    if (local) { local.removeItem(DRAFT + key); }
    if (tab) { tab.removeItem(SENT + key); }
  }

  // A result page after a submit from this tab: the assessment was accepted, so its draft goes.
  var endpoint = document.body.getAttribute("data-endpoint") || "";
  var pending = tab && tab.getItem(PENDING);
  if (pending !== null && ACCEPTED.indexOf(endpoint) >= 0) {
    if (local) { local.removeItem(DRAFT + pending); }
    tab.removeItem(PENDING);
  }

  // Logging out on a shared computer leaves no firm's figures behind.
  var logout = document.querySelector("form[action$='/auth/logout']");
  if (logout && local) {
    logout.addEventListener("submit", function () {
      for (var i = local.length - 1; i >= 0; i--) {
        var k = local.key(i);
        if (k && k.indexOf(DRAFT) === 0) { local.removeItem(k); }
      }
    });
  }

  var form = document.querySelector("form[data-draft-key]");
  if (!form) { return; }
  var key = form.getAttribute("data-draft-key");
  var summary = form.querySelector(".form-errors");

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && el.name !== "variant" && el.type !== "submit" &&
        el.type !== "button" && el.type !== "file";
    });
  }

  function values() {
    var out = {};
    fields().forEach(function (el) { out[el.name] = el.value; });
    return out;
  }

  function apply(saved) {
    var changed = 0;
    fields().forEach(function (el) {
      if (!Object.prototype.hasOwnProperty.call(saved, el.name) || el.value === saved[el.name]) { return; }
      if (el.tagName === "SELECT" &&
          !Array.prototype.some.call(el.options, function (o) { return o.value === saved[el.name]; })) { return; }
      el.value = saved[el.name];
      changed += 1;
      var section = el.closest("details");
      if (section && saved[el.name] !== "") { section.open = true; }
    });
    return changed;
  }

  function notice(text, button) {
    var bar = document.createElement("div");
    bar.className = "flash flash-info draft-notice";
    bar.setAttribute("role", "status");
    bar.appendChild(document.createTextNode(text + " "));
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link-button";
    discard.textContent = button;
    discard.addEventListener("click", function () {
      forget(key);
      window.location.replace(window.location.href);
    });
    bar.appendChild(discard);
    form.insertBefore(bar, form.firstChild);
  }

  if (summary) {
    // A refused submit: the server sent back what was posted; the summary takes the focus.
    if (tab) { tab.removeItem(PENDING); }
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  } else {
    var nav = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    var how = nav ? nav.type : "navigate";
    var saved = read(local, DRAFT + key);
    if (!saved && (how === "back_forward" || how === "reload")) { saved = read(tab, SENT + key); }
    if (saved && apply(saved)) {
      notice(form.getAttribute("data-draft-restored"), form.getAttribute("data-draft-discard"));
    }
  }

  var timer = null;
  function save() {
    timer = null;
    if (local) {
      try { local.setItem(DRAFT + key, JSON.stringify(values())); } catch (e) { /* storage full: no draft */ }
    }
  }
  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, 250);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("submit", function () {
    save();
    if (tab) {
      try {
        tab.setItem(SENT + key, JSON.stringify(values()));
        tab.setItem(PENDING, key);
      } catch (e) { /* storage full */ }
    }
  });
})();
