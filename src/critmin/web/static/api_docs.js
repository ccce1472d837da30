// critmin API docs: Swagger UI over this server's OpenAPI schema, from files this server serves.
// A file rather than an inline script, so the content security policy can forbid inline scripts.
(function () {
  "use strict";

  var node = document.getElementById("swagger-ui");
  var csrfToken = node.getAttribute("data-csrf-token");

  window.SwaggerUIBundle({
    url: node.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
    // No badge from the public validator: the docs make no request beyond this server.
    validatorUrl: null,
    // "Try it out" on a POST or DELETE proves it comes from this origin, as the dashboard's forms do.
    requestInterceptor: function (request) {
      var method = (request.method || "GET").toUpperCase();
      if (csrfToken && method !== "GET" && method !== "HEAD" && method !== "OPTIONS") {
        request.headers["X-CSRF-Token"] = csrfToken;
      }
      return request;
    }
  });
})();
