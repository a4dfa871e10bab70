// Starts Swagger UI on the page's schema URL. A file of our own, not an inline script, so
// the page runs under the site's Content-Security-Policy (script-src 'self').
(function () {
  "use strict";
  var box = document.getElementById("swagger-ui");
  if (!box || !window.SwaggerUIBundle) return;
  var csrf = document.cookie.split("; ").find(function (c) { return c.indexOf("csrftoken=") === 0; });
  window.ui = window.SwaggerUIBundle({
    url: box.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    // No deep links: Swagger UI puts them inside the operation's toggle button, a link
    // nested in a button that screen readers do not announce.
    deepLinking: false,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: function (request) {
      if (csrf) request.headers["X-CSRFToken"] = csrf.split("=")[1];
      return request;
    },
  });
})();
