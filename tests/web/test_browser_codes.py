"""The credit code in the browser (issue 17): a code issued by one real server
verifies in another server's page with the network to the issuer blocked and the
page offline after loading; it is refused once revoked (after the verifying region
imports the issuer's signed revocation list) and refused when its issuer is not in the
trust list. Also the subject's own page shows its code as a QR and refreshes it."""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from creditgov.codes import service as code_service
from creditgov.codes import trust
from creditgov.core import db
from creditgov.security import users as user_service
from creditgov.security.crypto import KeyRing, create_key_file
from creditgov.web.i18n import LANG_COOKIE
from tests import store_template
from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.codes.helpers import graded_firm, region_key, share_trust
from tests.lists.helpers import load_domain_data
from tests.web.conftest import Server, serving, sign_in

DECODE_MS = 180_000  # a picture's decoding, waited for (see _decoded)
ISSUER_NAME = "长兴县<b>\"'&"  # hostile text in the region's name passes through as text


@dataclass
class Region:
    url: str
    key_file: Path
    ring: KeyRing
    base: str = ""


def _store(tmp: Path, name: str, issuer: str, issuer_name: str) -> Region:
    url = f"sqlite:///{tmp / (name + '.db')}"
    store_template.fill(url)
    with db.session_scope(url) as s:
        load_domain_data(s)
    r = Region(url, tmp / f"{name}.key", create_key_file(tmp / f"{name}.key"))
    region_key(url, r.ring, issuer, issuer_name)
    return r


@contextmanager
def _serve(r: Region, tmp: Path, name: str) -> Iterator[str]:
    """`creditgov serve` on its own store, with the real clock (codes are checked
    against the browser's clock)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CREDITGOV_TODAY", "CREDITGOV_NOW")}
    env.update({"CREDITGOV_KEY_FILE": str(r.key_file), "CREDITGOV_PUBLIC_RATE": "100000/60"})
    with serving(r.url, env, tmp / f"{name}.log", ready="/codes/verify") as base:
        yield base


@dataclass
class Pair:
    issuer: Region
    verifier: Region
    stranger: Region
    subject_id: int
    token: str


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    saved = {k: os.environ.pop(k) for k in ("CREDITGOV_TODAY", "CREDITGOV_NOW") if k in os.environ}
    tmp = tmp_path_factory.mktemp("codes-two-servers")
    a = _store(tmp, "county-a", "330522", ISSUER_NAME)
    b = _store(tmp, "county-b", "330501", "吴兴区")
    c = _store(tmp, "county-c", "330900", "未受信任地区")  # never in the province's list
    sid, _ = graded_firm(a.url, "A", name="诚信<i>企业</i>有限公司")
    with db.session_scope(a.url) as s:
        u = user_service.create_user(s, username="office", password=None, role="credit_office", actor="test")
        token, _ = user_service.issue_token(s, user_id=u.id, name="test", actor="test")
    trust.root_create(tmp / "root.key")
    share_trust(tmp / "root.key", [a.url, b.url], [a.url, b.url])
    try:
        with _serve(a, tmp, "a") as a.base, _serve(b, tmp, "b") as b.base:
            yield Pair(a, b, c, sid, token)
    finally:
        os.environ.update(saved)


def _post(url: str, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    req = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        out: dict[str, Any] = json.loads(r.read())
    return out


def _verify_in_page(browser: Any, base: str, blocked: str, text: str) -> tuple[str, dict[str, str], list[str]]:
    """Open the verification page with every request to `blocked` refused, go offline
    once the bundle is loaded, paste `text`: (status, fields shown, requests after load)."""
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.route(f"{blocked}/**", lambda route: route.abort())
        page.goto(base + "/codes/verify")
        page.wait_for_selector("[data-testid=bundle-state][data-ready='1']", timeout=15000)
        later: list[str] = []
        page.on("request", lambda r: later.append(r.url))
        ctx.set_offline(True)
        page.fill("[data-testid=code-input]", text)
        page.click("[data-testid=verify-button]")
        status = page.wait_for_selector("[data-testid=verify-status][data-status]", timeout=15000)
        assert status is not None
        fields = {el.get_attribute("data-field") or "": el.inner_text()
                  for el in page.query_selector_all("[data-testid=verify-states] dd")}
        return str(status.get_attribute("data-status")), fields, later
    finally:
        ctx.close()


def test_code_verifies_offline_in_another_region(pair: Pair, browser: Any) -> None:
    issued = _post(f"{pair.issuer.base}/api/v1/codes", pair.token, {"subject_id": pair.subject_id})
    text = issued["code"]
    assert text.startswith("CGV1:") and "<svg" in issued["svg"]
    status, fields, later = _verify_in_page(browser, pair.verifier.base, pair.issuer.base, text)
    assert status == "valid", fields
    assert later == []  # nothing fetched after loading: verified in the browser
    assert fields["grade"] == "A" and fields["name"] == "诚信<i>企业</i>有限公司"
    assert fields["issuer"] == f"{ISSUER_NAME} (330522)" and fields["code_id"] == issued["code_id"]
    assert fields["band"] == "优秀(守信)" and fields["expires_at"].endswith(" 北京时间")

    # An issuer outside the verifier's trust list: refused.
    with db.session_scope(pair.stranger.url) as s:
        sid = graded_firm(pair.stranger.url, "A")[0]
        foreign = code_service.issue(s, pair.stranger.ring, subject_id=sid, actor="test").text
    status, _fields, _ = _verify_in_page(browser, pair.verifier.base, pair.issuer.base, foreign)
    assert status == "unknown_issuer"

    # Revoked at the issuer; the verifier imports the issuer's signed list from its
    # public URL; the page (still cut off from the issuer) refuses the code.
    _post(f"{pair.issuer.base}/api/v1/codes/{issued['code_id']}/revoke", pair.token, {"reason": "manual"})
    from typer.testing import CliRunner

    from creditgov.cli.main import app

    run = CliRunner().invoke(app, ["--db", pair.verifier.url, "--key-file", str(pair.verifier.key_file), "code",
                                   "revocations", "--import", f"{pair.issuer.base}/codes/revocations.json", "--json"],
                             catch_exceptions=False)
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["revoked"] == 1
    status, _fields, later = _verify_in_page(browser, pair.verifier.base, pair.issuer.base, text)
    assert status == "revoked" and later == []
    # The page in English says the same in English.
    ctx = browser.new_context()
    try:
        ctx.add_cookies([{"name": "cg_lang", "value": "en", "url": pair.verifier.base}])
        page = ctx.new_page()
        page.goto(pair.verifier.base + "/codes/verify")
        assert page.inner_text("h1") == "Verify a credit code"
        page.wait_for_selector("[data-testid=bundle-state][data-ready='1']")
        page.fill("[data-testid=code-input]", text)
        page.click("[data-testid=verify-button]")
        el = page.wait_for_selector("[data-testid=verify-status][data-status]")
        assert el is not None and el.inner_text() == "revoked"
        assert page.inner_text("[data-testid=verify-states] dd[data-field=band]") == "Excellent"
    finally:
        ctx.close()


def _tampered(bundle: dict[str, Any], rogue: list[dict[str, Any]], *, unsigned: bool) -> dict[str, Any]:
    """The verifier's real bundle with a rogue region's key slipped into its trust list
    (and its plain key list), the province's signature kept — or the list unsigned."""
    doc = dict(bundle["trust_list"])
    payload = json.loads(base64.b64decode(doc["payload"]))
    payload["keys"] = payload["keys"] + rogue
    doc["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    if unsigned:
        doc["signature"] = None
    return {**bundle, "trust_list": doc, "keys": bundle["keys"] + [{**k, "origin": "imported"} for k in rogue]}


def test_a_tampered_or_unsigned_key_bundle_is_refused(pair: Pair, browser: Any) -> None:
    """The page pins the province root in its own markup and takes other regions' keys
    only from a trust list whose signature verifies against it: a bundle whose list
    was altered or carries no signature is refused with a sentence saying so, and the
    key slipped into it verifies nothing."""
    with urllib.request.urlopen(pair.verifier.base + "/codes/bundle.json", timeout=30) as r:  # noqa: S310 - loopback
        real = json.loads(r.read())
    with db.session_scope(pair.verifier.url) as s:
        root = trust.pinned_root(s)
        assert root is not None and real["trust_list"] is not None
    sid = graded_firm(pair.stranger.url, "A")[0]
    with db.session_scope(pair.stranger.url) as s:
        rogue = [{k: e[k] for k in ("kid", "issuer", "issuer_name", "public_key", "trust_until")}
                 for e in trust.entries(s)]
        rogue_code = code_service.issue(s, pair.stranger.ring, subject_id=sid, actor="test").text
    issued = _post(f"{pair.issuer.base}/api/v1/codes", pair.token, {"subject_id": pair.subject_id})["code"]

    def opened(bundle: dict[str, Any] | None, lang: str, text: str) -> tuple[str, str, str]:
        ctx = browser.new_context()
        try:
            ctx.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": pair.verifier.base}])
            page = ctx.new_page()
            if bundle is not None:
                page.route(f"{pair.verifier.base}/codes/bundle.json",
                           lambda route: route.fulfill(status=200, content_type="application/json",
                                                       body=json.dumps(bundle)))
            page.goto(pair.verifier.base + "/codes/verify")
            assert page.locator("[data-testid=bundle-state]").get_attribute("data-root") == root.public_key
            state = page.wait_for_selector("[data-testid=bundle-state][data-ready='1']", timeout=15000)
            assert state is not None
            page.fill("[data-testid=code-input]", text)
            page.click("[data-testid=verify-button]")
            status = page.wait_for_selector("[data-testid=verify-status][data-status]", timeout=15000)
            assert status is not None
            return (str(state.get_attribute("data-trust")), state.inner_text(),
                    str(status.get_attribute("data-status")))
        finally:
            ctx.close()

    # The real bundle: the list verifies; the issuer's code is valid, the stranger's unknown.
    assert opened(None, "zh", issued)[::2] == ("verified", "valid")
    assert opened(None, "zh", rogue_code)[::2] == ("verified", "unknown_issuer")
    for unsigned in (False, True):
        bad = _tampered(real, rogue, unsigned=unsigned)
        trust_state, said, status = opened(bad, "zh", rogue_code)
        assert (trust_state, status) == ("refused", "unknown_issuer"), said
        assert "信任列表未通过省级根密钥验证，已拒绝" in said
        assert ("未签名" if unsigned else "签名与省级根密钥不符") in said
        # Nothing of the refused list is believed, the real issuer's key included.
        assert opened(bad, "zh", issued)[2] == "unknown_issuer"
    trust_state, said, _status = opened(_tampered(real, rogue, unsigned=False), "en", rogue_code)
    assert trust_state == "refused" and "The trust list was refused" in said and "province root" in said


def _said_in_page(browser: Any, base: str, lang: str, text: str) -> tuple[str, str, str, dict[str, str]]:
    """The verification page in `lang` with `text` pasted: (status, why, its reason, fields)."""
    ctx = browser.new_context()
    try:
        ctx.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": base}])
        page = ctx.new_page()
        page.goto(base + "/codes/verify")
        page.wait_for_selector("[data-testid=bundle-state][data-ready='1']", timeout=15000)
        page.fill("[data-testid=code-input]", text)
        page.click("[data-testid=verify-button]")
        status = page.wait_for_selector("[data-testid=verify-status][data-status]", timeout=15000)
        assert status is not None
        why = page.locator("[data-testid=verify-why]")
        fields = {el.get_attribute("data-field") or "": el.inner_text()
                  for el in page.query_selector_all("[data-testid=verify-states] dd")}
        return str(status.get_attribute("data-status")), why.inner_text(), why.get_attribute("data-reason") or "", \
            fields
    finally:
        ctx.close()


def test_the_page_names_the_model_and_says_a_refusal_in_its_language(pair: Pair, browser: Any) -> None:
    """A valid code's model by its title (the bundle's words, offline), and a tampered
    code's reason in the page's language — never the decoder's English detail."""
    text = _post(f"{pair.issuer.base}/api/v1/codes", pair.token, {"subject_id": pair.subject_id})["code"]
    body = text.removeprefix("CGV1:")
    tampered = {
        "base45": "CGV1:" + body[:10] + "a" + body[11:],  # a character no code has
        "inflate": "CGV1:" + body[:-6],  # cut short: the content no longer unpacks
        "prefix": body,
    }
    titles = {"zh": "企业公共信用综合评价", "en": "Enterprise public credit evaluation"}
    for lang in ("zh", "en"):
        status, why, _reason, fields = _said_in_page(browser, pair.verifier.base, lang, text)
        assert status == "valid" and fields["model"] == titles[lang], fields
        assert "public-credit-enterprise" not in fields.values()
        for kind, bad in tampered.items():
            status, why, reason, fields = _said_in_page(browser, pair.verifier.base, lang, bad)
            assert status == "invalid" and fields == {}, (kind, status)
            assert why and "base45" not in why and "CBOR" not in why, (kind, why)
            if lang == "zh":
                assert not re.search(r"[A-Za-z]{3,}", why.replace("CGV1:", "")), (kind, why)  # no English
                assert re.search(r"[\u4e00-\u9fff]", why), (kind, why)
            else:
                assert not re.search(r"[\u4e00-\u9fff]", why), (kind, why)
        status, why, reason, _ = _said_in_page(browser, pair.verifier.base, lang, tampered["base45"])
        assert reason == "base45" and why == {"zh": "内容不是有效的信用码编码，可能输入有误或被改动",
                                              "en": "the text is not a valid code encoding: mistyped or altered"}[lang]


def test_my_code_page_shows_and_refreshes_the_qr(server: Server, browser: Any) -> None:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        sign_in(page, server.base, "subject")
        page.goto(server.base + "/me/code")
        assert page.locator("a[href='/me/code']").count() >= 1  # the menu entry
        page.click("[data-testid=refresh-code]")
        page.wait_for_selector("[data-testid=code-text]")
        first = page.inner_text("[data-testid=code-text]")
        assert first.startswith("CGV1:") and page.locator("[data-testid=my-code] .qr svg").count() == 1
        assert page.inner_text("[data-testid=code-status]") in ("有效", "valid")
        page.click("[data-testid=refresh-code]")
        page.wait_for_selector("[data-testid=flash]")
        assert page.inner_text("[data-testid=code-text]") != first
    finally:
        ctx.close()


# --- Reading the code's QR (a photo or the camera) on the verification page ---------

def _issue_png(pair: Pair, png: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The office issues a code at its counter with `creditgov code issue --png`, on the
    real clock (the page checks the code against the browser's clock)."""
    from typer.testing import CliRunner

    from creditgov.cli.main import app

    for name in ("CREDITGOV_TODAY", "CREDITGOV_NOW"):
        monkeypatch.delenv(name, raising=False)
    run = CliRunner().invoke(app, ["--db", pair.issuer.url, "--key-file", str(pair.issuer.key_file), "code",
                                   "issue", str(pair.subject_id), "--png", str(png), "--json"],
                             catch_exceptions=False)
    assert run.exit_code == 0, run.output
    out: dict[str, Any] = json.loads(run.output)
    return out


def _photo_of(qr_png: Path, out: Path) -> None:
    """A large "photo" in which the code is a small, slightly grey part of a busy scene
    (shapes, lines of text-like marks), saved as JPEG: the reader must find it, which
    takes a larger pass (2048 pixels, or the photo's own size where the code's modules
    fall across pixels at 2048 — about one code in a hundred)."""
    from PIL import Image, ImageDraw

    scene = Image.new("RGB", (3000, 2200), (214, 205, 190))
    d = ImageDraw.Draw(scene)
    for i in range(40):
        d.rectangle((37 * i % 2800, 53 * i % 2000, 37 * i % 2800 + 180, 53 * i % 2000 + 90),
                    fill=(120 + i * 3 % 100, 90, 60 + i * 5 % 120))
        d.line((0, 55 * i, 3000, 55 * i + 200), fill=(90, 90, 90), width=3)
    code = Image.open(qr_png).convert("RGB")
    scene.paste(code, (1900, 1100))
    scene.save(out, "JPEG", quality=88)


def _no_code_png(out: Path) -> None:
    """A picture with squares, stripes and text but no QR symbol."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (800, 600), "white")
    d = ImageDraw.Draw(img)
    for i in range(12):
        d.rectangle((40 + 60 * i, 40 + 30 * (i % 5), 80 + 60 * i, 80 + 30 * (i % 5)), fill="black")
        d.line((0, 300 + 20 * i, 800, 320 + 20 * i), fill="black", width=4)
    d.text((40, 540), "CGV1: not a code", fill="black")
    img.save(out, "PNG")


def _open_verify(ctx: Any, base: str) -> Any:
    page = ctx.new_page()
    page.goto(base + "/codes/verify")
    page.wait_for_selector("[data-testid=bundle-state][data-ready='1']", timeout=15000)
    page.wait_for_selector("[data-testid=scan][data-ready='1']", timeout=15000)
    native = page.evaluate("'BarcodeDetector' in window")
    decoder = page.get_attribute("[data-testid=scan]", "data-decoder")
    assert decoder in (("native", "jsqr") if native else ("jsqr",)), decoder
    return page


def _decoded(page: Any) -> str:
    """How the reader ended (found, none, unreadable). A photo's larger passes (jsQR over
    2048 pixels and then the photo's own size, both polarities) take seconds of one core
    here, and many times that when the suite loads every core: the reader is given time
    to finish."""
    ended = page.wait_for_selector("[data-testid=scan-state]:is([data-status=found], [data-status=none], "
                                   "[data-status=unreadable])", timeout=DECODE_MS)
    assert ended is not None
    return str(ended.get_attribute("data-status"))


def _result(page: Any) -> tuple[str, dict[str, str]]:
    status = page.wait_for_selector("[data-testid=verify-status][data-status]", timeout=30000)
    assert status is not None
    fields = {el.get_attribute("data-field") or "": el.inner_text()
              for el in page.query_selector_all("[data-testid=verify-states] dd")}
    return str(status.get_attribute("data-status")), fields


def test_a_photo_of_the_code_verifies(pair: Pair, browser: Any, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    issued = _issue_png(pair, tmp_path / "code.png", monkeypatch)
    photo = tmp_path / "photo.jpg"
    _photo_of(tmp_path / "code.png", photo)
    for picture in (tmp_path / "code.png", photo):
        ctx = browser.new_context()
        try:
            page = _open_verify(ctx, pair.verifier.base)
            assert page.is_visible("[data-testid=scan-camera]")  # on this machine's address: a secure context
            page.set_input_files("[data-testid=scan-file]", str(picture))
            assert _decoded(page) == "found", picture.name
            status, fields = _result(page)
            assert status == "valid", (picture.name, fields)
            assert page.input_value("[data-testid=code-input]") == issued["code"]
            assert fields["code_id"] == issued["code_id"] and fields["name"] == "诚信<i>企业</i>有限公司"
            assert page.get_attribute("[data-testid=scan-state]", "data-status") == "found"
        finally:
            ctx.close()


def test_a_picture_without_a_code_says_so(pair: Pair, browser: Any, tmp_path: Path) -> None:
    picture = tmp_path / "no-code.png"
    _no_code_png(picture)
    said = {"zh": "这张图片中没有找到二维码", "en": "No QR code was found in this picture"}
    for lang, words in said.items():
        ctx = browser.new_context()
        try:
            ctx.add_cookies([{"name": "cg_lang", "value": lang, "url": pair.verifier.base}])
            page = _open_verify(ctx, pair.verifier.base)
            page.set_input_files("[data-testid=scan-file]", str(picture))
            assert _decoded(page) == "none"
            assert page.inner_text("[data-testid=scan-state]").startswith(words)
            assert page.input_value("[data-testid=code-input]") == ""
            assert page.is_hidden("[data-testid=verify-result]")
            # A file that is no picture at all.
            page.set_input_files("[data-testid=scan-file]", files=[
                {"name": "code.png", "mimeType": "image/png", "buffer": b"not a picture"}])
            page.wait_for_selector("[data-testid=scan-state][data-status=unreadable]", timeout=15000)
        finally:
            ctx.close()
    # Without JavaScript the reader is not offered and the paste field stays.
    ctx = browser.new_context(java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(pair.verifier.base + "/codes/verify")
        assert page.is_visible("[data-testid=code-input]") and page.is_visible("[data-testid=verify-button]")
        assert page.is_hidden("[data-testid=scan]") and page.is_hidden("[data-testid=scan-file]")
    finally:
        ctx.close()


def _y4m(picture: Path, out: Path, frames: int = 10) -> None:
    """A camera's view of the code, as the Y4M file chromium's fake camera plays in a loop:
    the picture centred on grey in 640x480, grey scale (4:2:0, neutral chroma)."""
    from PIL import Image

    w, h = 640, 480
    view = Image.new("L", (w, h), 200)
    code = Image.open(picture).convert("L")
    code.thumbnail((440, 440), Image.Resampling.LANCZOS)
    view.paste(code, ((w - code.width) // 2, (h - code.height) // 2))
    frame = b"FRAME\n" + view.tobytes() + bytes([128]) * (w * h // 2)
    out.write_bytes(f"YUV4MPEG2 W{w} H{h} F15:1 Ip A1:1 C420jpeg\n".encode() + frame * frames)


def test_the_camera_reads_the_code_and_stops(pair: Pair, browser: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    issued = _issue_png(pair, tmp_path / "code.png", monkeypatch)
    _y4m(tmp_path / "code.png", tmp_path / "camera.y4m")
    camera = browser.browser_type.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={tmp_path / 'camera.y4m'}"])
    try:
        ctx = camera.new_context()
        ctx.grant_permissions(["camera"], origin=pair.verifier.base)
        page = _open_verify(ctx, pair.verifier.base)
        assert page.get_attribute("[data-testid=scan]", "data-camera") == "off"
        page.click("[data-testid=scan-camera]")
        assert _decoded(page) == "found"
        status, fields = _result(page)
        assert status == "valid" and fields["code_id"] == issued["code_id"]
        assert page.input_value("[data-testid=code-input]") == issued["code"]
        # The camera is off once the code is read: no stream, the view hidden, the button back.
        assert page.get_attribute("[data-testid=scan]", "data-camera") == "off"
        assert page.evaluate("document.getElementById('scan-video').srcObject === null")
        assert page.is_hidden("[data-testid=scan-video]") and page.is_visible("[data-testid=scan-camera]")
        ctx.close()
    finally:
        camera.close()
