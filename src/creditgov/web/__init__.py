"""Server-rendered pages: templates, vendored static assets, page routes, languages."""
