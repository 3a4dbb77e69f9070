// Swagger UI for the API documentation page (assets from npm, served by us: the CSP allows no CDN).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("swagger-ui");
    if (!root || !window.SwaggerUIBundle) { return; }
    window.SwaggerUIBundle({
      url: root.dataset.specUrl,
      domNode: root,
      deepLinking: true,
      persistAuthorization: false,
      tryItOutEnabled: false
    });
  });
})();
