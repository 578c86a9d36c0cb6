// The API's Swagger UI (/api/v1/docs), started from this file rather than an inline
// script: the Content-Security-Policy allows scripts from the platform's own files only.
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: el.dataset.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,  // never send the API description to an outside validator
    presets: [window.SwaggerUIBundle.presets.apis]
  });
})();
