"""Security headers and assets: every page and the API's docs answer with the
Content-Security-Policy and HSTS, load nothing from another origin, and carry no
inline script or style; Swagger UI is the copy checked in under web/static/vendor."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

from fastapi.testclient import TestClient

from creditgov import bootstrap
from creditgov.api.app import CSP, HSTS
from creditgov.api.docs import SWAGGER_UI
from tests.api.county import County

VENDOR = Path(str(resources.files("creditgov.web").joinpath("static"))) / "vendor"
# Checked-in copies, byte for byte the npm package's files (swagger-ui-dist 5.35.0).
SWAGGER_SHA256 = {f"swagger-ui-bundle-{SWAGGER_UI}.js":
                  "e6a898692f2d768e807c3ba4626068a69a2c5dd960dd6c76f3e4d3a3de180af2",
                  f"swagger-ui-{SWAGGER_UI}.css": "5ed08757e53da3e026d6cbecc61fe5d43585c9560b302d534ad56692519a273d"}
# Attributes by which a page makes the browser load or send something.
LOADS = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"), ("source", "src"),
         ("video", "src"), ("audio", "src"), ("object", "data"), ("embed", "src"), ("form", "action")}


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline_scripts: int = 0
        self.style_attrs: int = 0
        self.handlers: list[str] = []
        self.style_elements = 0
        self._script_type: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name, value in attrs:
            if (tag, name) in LOADS and value:
                self.loads.append(value)
            if name.startswith("on"):
                self.handlers.append(f"<{tag} {name}>")
            if name == "style":
                self.style_attrs += 1
            if value and value.strip().lower().startswith("javascript:"):
                self.handlers.append(f"<{tag} {name}=javascript:>")
        if tag == "script" and not a.get("src"):
            self._script_type = a.get("type") or "text/javascript"
        if tag == "style":
            self.style_elements += 1

    def handle_data(self, data: str) -> None:
        if self._script_type is not None and data.strip() and self._script_type != "application/json":
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script_type = None


def _paths(c: County) -> list[str]:
    """Every page of the composition root's page routers, its ids filled from the county."""
    ids = {"subject_id": "1", "entry_id": str(c.entry_id), "serial": c.report_serial, "alert_id": str(c.alert_id),
           "draw_id": str(c.draw_id), "task_id": str(c.task_id), "objection_id": str(c.objection_id),
           "application_id": str(c.repair_id), "ref": "public-credit-enterprise", "locale": "en"}
    out = []
    for router in bootstrap.page_routers():
        for r in router.routes:
            if "GET" in getattr(r, "methods", set()):
                out.append(re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "1"), r.path))
    assert len(out) > 35
    return out


def _check(r, where: str) -> list[str]:  # type: ignore[no-untyped-def]
    bad = []
    if r.headers.get("content-security-policy") != CSP:
        bad.append(f"{where}: CSP {r.headers.get('content-security-policy')!r}")
    if r.headers.get("strict-transport-security") != HSTS:
        bad.append(f"{where}: HSTS {r.headers.get('strict-transport-security')!r}")
    if r.headers.get("content-type", "").startswith("text/html"):
        p = Assets()
        p.feed(r.text)
        external = [u for u in p.loads if re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", u, re.I)
                    or (":" in u.split("/")[0] and not u.startswith("data:"))]
        if external:
            bad.append(f"{where}: loads from another origin: {external}")
        if p.inline_scripts or p.handlers or p.style_attrs or p.style_elements:
            bad.append(f"{where}: inline script {p.inline_scripts}, handlers {p.handlers}, "
                       f"style attributes {p.style_attrs}, style elements {p.style_elements}")
    return bad


def test_every_page_has_the_csp_and_loads_only_its_own_assets(sclient: TestClient, sqlite_county: County) -> None:
    bad: list[str] = []
    seen = 0
    for who in ("public", "admin", "credit_office", "subject"):
        headers = {"accept": "text/html"}
        if who != "public":
            headers["Authorization"] = f"Bearer {sqlite_county.tokens[who]}"
        for path in _paths(sqlite_county):
            r = sclient.get(path, headers=headers)
            assert r.status_code < 500, (who, path, r.status_code)
            seen += r.headers.get("content-type", "").startswith("text/html")
            bad += _check(r, f"{who} {path} ({r.status_code})")
    assert seen > 60  # pages rendered, not only redirects
    assert not bad, "\n".join(bad)


def test_api_docs_are_swagger_ui_from_the_package(sclient: TestClient) -> None:
    r = sclient.get("/api/v1/docs")
    assert r.status_code == 200 and not _check(r, "/api/v1/docs")
    p = Assets()
    p.feed(r.text)
    assert p.loads == ["data:,", f"/static/vendor/swagger-ui-{SWAGGER_UI}.css",  # no favicon request
                       f"/static/vendor/swagger-ui-bundle-{SWAGGER_UI}.js", "/static/js/api-docs.js"]
    assert 'data-openapi="/api/v1/openapi.json"' in r.text
    for src in p.loads[1:]:  # each asset is served, with the same headers
        a = sclient.get(src)
        assert a.status_code == 200 and a.headers["content-security-policy"] == CSP, src
    for name, digest in SWAGGER_SHA256.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert (VENDOR / "LICENSE.swagger-ui").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    assert "validatorUrl: null" in sclient.get("/static/js/api-docs.js").text
    # The API's answers and its errors carry the headers too.
    for path in ("/api/v1/openapi.json", "/api/v1/subjects", "/api/v1/no-such-thing", "/static/no-such-file"):
        assert not _check(sclient.get(path), path)


def test_templates_and_static_js_have_no_inline_code() -> None:
    """The source itself, so a page not reached above cannot bring one back."""
    root = Path(str(resources.files("creditgov")))
    bad = []
    for f in root.rglob("*.html"):
        text = f.read_text(encoding="utf-8")
        for m in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|"
                             r"<style\b|javascript:", text):
            bad.append(f"{f.relative_to(root)}: {m.group(0).strip()}")
    assert not bad, "\n".join(bad)


def test_every_page_names_its_icon_and_favicon_ico_finds_it(sclient: TestClient) -> None:
    """Browsers ask for /favicon.ico wherever a page names no icon (PDFs, JSON): no 404."""
    page = sclient.get("/login", headers={"accept": "text/html"})
    p = Assets()
    p.feed(page.text)
    assert "/static/img/favicon.svg" in p.loads
    r = sclient.get("/favicon.ico", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/static/img/favicon.svg"
    icon = sclient.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.lstrip().startswith("<svg") and not _check(icon, "/favicon.ico")
