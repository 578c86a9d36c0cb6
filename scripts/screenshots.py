"""Retake the documentation's screenshots of the demo county: the credit file, its score
explanation, its credit report and the dashboard, in Chinese and in English
(docs/screenshots/{credit-file,explanation,report,dashboard}-{zh,en}.png, shown in
docs/web.md).

It drives Debian's chromium with Playwright (as the browser tests do, tests/browser.py)
against a server that is already running on a county built by `make demo`:

    .venv/bin/creditgov users demo --json > /tmp/accounts.json    # same env as the server
    .venv/bin/python scripts/screenshots.py --accounts /tmp/accounts.json \
        [--base http://127.0.0.1:8000] [--subject ID] [--out docs/screenshots]

- The credit file, the explanation and the report are read by the demo grid worker
  (`grid`, no second factor), who reads why a firm of its grid lost points; the firm is
  the one of its grid with the lowest current enterprise public-credit score, unless
  `--subject` names one.
- The dashboard is the credit office's (`office`, the whole county) when its TOTP key is
  known (`--accounts`, from `creditgov users demo --json`, or `--office-totp KEY`; the
  code is computed with pyotp), else the grid worker's (its grid only).
- The language is switched as a visitor does, through /lang/{zh,en} (the `cg_lang`
  cookie), which also chooses the report's language.
- The report is downloaded as the reader downloads it (it is issued, stored and
  audited), opened in chromium's PDF viewer and its first page photographed. Serve with
  `CREDITGOV_PUBLIC_URL` set (e.g. https://credit.example.gov.cn) so that its QR code
  carries a public address: the script warns when the report names a loopback address.

Without `--accounts` the demo passwords (`demo-<username>-2026`) are assumed.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (the browser tests' chromium)

LANGS = ("zh", "en")
MODEL = "public-credit-enterprise"
WIDTH = 1366
REPORT_VIEW = {"width": 920, "height": 1300}  # one A4 page, fitted to the window


def _accounts(path: Path | None, office_totp: str | None) -> dict[str, dict[str, Any]]:
    """username -> {password, totp_secret} from `creditgov users demo --json`, else the
    demo's passwords."""
    if path is not None:
        rows = json.loads(path.read_text("utf-8"))
        out = {r["username"]: r for r in rows}
    else:
        out = {u: {"username": u, "password": f"demo-{u}-2026", "totp_secret": None} for u in ("grid", "office")}
    if office_totp:
        out["office"]["totp_secret"] = office_totp
    return out


def sign_in(page: Any, base: str, account: dict[str, Any]) -> None:
    """The real sign-in form, then — for an account with a second factor — the code its
    authenticator would show (a step already used is refused: then wait for the next)."""
    page.goto(base + "/login")
    page.fill("input[name=username]", account["username"])
    page.fill("input[name=password]", account["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    if "/login/code" in page.url:
        if not account.get("totp_secret"):
            raise SystemExit(f"{account['username']} needs a second factor: pass --accounts or --office-totp")
        import pyotp

        totp = pyotp.TOTP(account["totp_secret"])
        for attempt in range(2):
            page.fill("input[name=code]", totp.now())
            page.click("form[data-testid=code-form] button[type=submit]")
            page.wait_for_load_state("domcontentloaded")
            if "/login" not in page.url or attempt:
                break
            time.sleep(31 - time.time() % 30)  # this step's code was used: the next one
    if "/login" in page.url:
        raise SystemExit(f"{account['username']} could not sign in at {base} (see {page.url})")


def set_language(page: Any, base: str, lang: str, path: str) -> None:
    """The language switch, as a visitor uses it: /lang/<lang>?next=<path>."""
    page.goto(f"{base}/lang/{lang}?next={quote(path, safe='/')}", wait_until="networkidle")


def settle(page: Any) -> None:
    """Wait until the page's charts are drawn and their animation is over."""
    page.wait_for_load_state("networkidle")
    charts = page.locator("[data-chart]")
    for i in range(charts.count()):
        charts.nth(i).locator("canvas").first.wait_for(timeout=15_000)
    page.wait_for_timeout(1500)


def pick_firm(ctx: Any, base: str) -> int:
    """The firm of the grid with the lowest current public-credit score: the one that
    lost the most points, so its explanation has the most to say."""
    best: tuple[float, int] | None = None
    offset, total = 0, 1
    while offset < total:
        r = ctx.request.get(f"{base}/api/v1/subjects", params={"kind": "enterprise", "limit": 100, "offset": offset})
        if not r.ok:
            raise SystemExit(f"subject search refused: {r.status} {r.text()[:200]}")
        body = r.json()
        total, offset = body["total"], offset + 100
        for item in body["items"]:
            scores = ctx.request.get(f"{base}/api/v1/subjects/{item['id']}/scores").json()
            score = next((float(s["score"]) for s in scores if s["model"] == MODEL), None)
            if score is not None and (best is None or (score, item["id"]) < best):
                best = (score, item["id"])
    if best is None:
        raise SystemExit(f"no firm with a {MODEL} score in the grid worker's scope: pass --subject")
    return best[1]


def model_ref(ctx: Any, base: str, subject: int) -> str:
    """NAME@VERSION of the firm's current public-credit evaluation."""
    scores = ctx.request.get(f"{base}/api/v1/subjects/{subject}/scores").json()
    ref = next((s["ref"] for s in scores if s["model"] == MODEL), None)
    if ref is None:
        raise SystemExit(f"subject {subject} has no {MODEL} score")
    return str(ref)


def shoot_file(page: Any, base: str, subject: int, ref: str, lang: str, out: Path) -> None:
    """The whole credit file, opened on the public-credit evaluation's explanation (the
    link of its score), and that explanation's card alone."""
    set_language(page, base, lang, f"/subjects/{subject}?model={ref}")
    page.wait_for_selector("[data-testid=file-name]")
    page.wait_for_selector("[data-testid=waterfall] canvas")
    settle(page)
    page.screenshot(path=str(out / f"credit-file-{lang}.png"), full_page=True)
    page.locator("#explain").screenshot(path=str(out / f"explanation-{lang}.png"))


def shoot_report(ctx: Any, browser: Any, base: str, subject: int, lang: str, out: Path) -> None:
    """The report as the reader downloads it (the page language picks its language),
    its first page in chromium's PDF viewer."""
    r = ctx.request.get(f"{base}/api/v1/subjects/{subject}/report.pdf")
    if not r.ok or not r.body().startswith(b"%PDF-"):
        raise SystemExit(f"report download refused: {r.status}")
    pdf = r.body()
    _warn_loopback(pdf)
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / f"{r.headers.get('x-report-serial', 'report')}.pdf"
        f.write_bytes(pdf)
        viewer = browser.new_page(viewport=REPORT_VIEW)
        try:
            viewer.goto(f.as_uri() + "#page=1&toolbar=0&view=Fit")
            viewer.wait_for_timeout(3000)  # the viewer lays out and paints the page
            viewer.screenshot(path=str(out / f"report-{lang}.png"))
        finally:
            viewer.close()


def _warn_loopback(pdf: bytes) -> None:
    try:
        from pypdf import PdfReader
    except ImportError:  # pypdf is a development dependency; the check is a courtesy
        return
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    if "127.0.0.1" in text or "localhost" in text:
        print("warning: the report's QR names a loopback address; serve with CREDITGOV_PUBLIC_URL set",
              file=sys.stderr)


def shoot_dashboard(page: Any, base: str, lang: str, out: Path) -> None:
    set_language(page, base, lang, "/")
    page.wait_for_selector("[data-chart=regions] canvas")
    settle(page)
    page.screenshot(path=str(out / f"dashboard-{lang}.png"), full_page=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="http://127.0.0.1:8000", help="the running demo server")
    ap.add_argument("--accounts", type=Path, help="the output of `creditgov users demo --json`")
    ap.add_argument("--office-totp", help="the credit office's TOTP key (else from --accounts)")
    ap.add_argument("--subject", type=int, help="the firm to show (default: chosen in the grid)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = ap.parse_args(argv)
    base = args.base.rstrip("/")
    accounts = _accounts(args.accounts, args.office_totp)
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": WIDTH, "height": 900})
            page = ctx.new_page()
            sign_in(page, base, accounts["grid"])
            subject = args.subject or pick_firm(ctx, base)
            ref = model_ref(ctx, base, subject)
            print(f"firm: {base}/subjects/{subject}?model={ref}")
            for lang in LANGS:
                shoot_file(page, base, subject, ref, lang, args.out)
                shoot_report(ctx, browser, base, subject, lang, args.out)
            office = accounts.get("office", {})
            if office.get("totp_secret"):
                ctx.close()
                ctx = browser.new_context(viewport={"width": WIDTH, "height": 900})
                page = ctx.new_page()
                sign_in(page, base, office)
                print("dashboard: the credit office's (whole county)")
            else:
                print("dashboard: the grid worker's (its grid; give --accounts for the county's)")
            for lang in LANGS:
                shoot_dashboard(page, base, lang, args.out)
            ctx.close()
        finally:
            browser.close()
    for kind in ("credit-file", "explanation", "report", "dashboard"):
        for lang in LANGS:
            print(args.out / f"{kind}-{lang}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
