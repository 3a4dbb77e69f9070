// Our own behaviour on top of htmx. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  // htmx requests carry the CSRF token from the page's meta tag, like forms carry it in a field.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });
})();

// The case form keeps what the customer typed in sessionStorage, so opening a suggested article
// and coming back ("I still need help") never loses it; sending the case or a deflection clears it.
(function () {
  "use strict";
  var KEY = "helpdesk.caseDraft";
  function clearDraft() { try { window.sessionStorage.removeItem(KEY); } catch (e) { /* storage off */ } }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".kb-deflect form").forEach(function (form) {
      form.addEventListener("submit", clearDraft);
    });
    var form = document.getElementById("case-form");
    if (!form) { return; }
    var fields = form.querySelectorAll(".suggest-source");
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(KEY) || "null"); } catch (e) { saved = null; }
    if (saved) {
      fields.forEach(function (field) {
        if (saved[field.name] && saved[field.name].length > field.value.length) { field.value = saved[field.name]; }
      });
    }
    form.addEventListener("input", function () {
      var draft = {};
      fields.forEach(function (field) { draft[field.name] = field.value; });
      try { window.sessionStorage.setItem(KEY, JSON.stringify(draft)); } catch (e) { /* storage off */ }
    });
    form.addEventListener("submit", clearDraft);
  });
})();

// Disclosures marked data-collapse-on-phone start closed on a narrow screen (the agent queue shows
// its tickets before its views and filters there); wider screens show their content, summary hidden.
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 760px)");
  function apply() {
    document.querySelectorAll("details[data-collapse-on-phone]").forEach(function (details) {
      details.open = !narrow.matches;
    });
  }
  document.addEventListener("DOMContentLoaded", apply);
  narrow.addEventListener("change", apply);
})();

// Fallback controls for pages without JavaScript (class "no-htmx") step aside once htmx is loaded.
(function () {
  "use strict";
  if (window.htmx) { document.documentElement.classList.add("htmx-on"); }
})();
