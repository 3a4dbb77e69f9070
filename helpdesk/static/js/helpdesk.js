// Our own behaviour on top of htmx. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";
  // htmx requests carry the CSRF token from the page's meta tag, like forms carry it in a field.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });
})();
