"""The operator dashboard (``/ui``): server-rendered pages (Jinja2 + htmx, no front-end build) on the
API's own FastAPI app, with the vendored htmx, ECharts and Mermaid (``static/VENDORED.md``).

``install(app, runtime)`` adds the login, the core screens (``pages/``) and each flow plug-in's own
pages (``FlowPlugin.pages``, templates in ``FlowPlugin.templates``). An operator logs in with an
operator token, held in an HttpOnly, SameSite=Strict session cookie; every form carries a CSRF token
derived from it. A department-scoped token sees and acts on only its department's work, as in the
JSON API.
"""
