// Swagger UI on the API's own document. Calls go out with the page's session; writes carry its CSRF token.
(function () {
  var root = document.getElementById("swagger-ui");
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    validatorUrl: null,            // the default badge asks a server outside the site
    deepLinking: true,
    requestInterceptor: function (request) {
      if (request.method && request.method.toUpperCase() !== "GET") {
        request.headers["X-CSRFToken"] = token;
      }
      return request;
    }
  });
})();
