"""A real local HTTP gateway for the channel tests, run as its own process.

It plays three receivers: a generic SMS gateway (POST /sms, JSON), an SMS API shaped
like Alibaba Cloud's SendSms (POST /aliyun, form, HMAC-SHA1 signature checked), and a
webhook receiver (POST /hook, HMAC-SHA256 signature checked). Like the real ones it
honours idempotency keys (the `Idempotency-Key` header; `OutId` for the cloud API):
a repeat gets the first answer and is not stored again, only counted.

    python gateway.py --state FILE [--fail-first N] [--aliyun-secret S] [--hook-secret S]

Prints `PORT <n>` when listening (loopback only). GET /received returns the state.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def percent_encode(value: str) -> str:
    return urllib.parse.quote(value, safe="~")


def aliyun_signature(params: dict[str, str], secret: str) -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))
    to_sign = "POST&" + percent_encode("/") + "&" + percent_encode(canonical)
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


class State:
    def __init__(self, path: Path, fail_first: int) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.answers: dict[str, tuple[int, dict]] = {}
        self.duplicates = 0
        self.requests = 0
        self.rejected = 0
        self.fail_left = fail_first

    def save(self) -> None:
        data = {"messages": self.messages, "duplicates": self.duplicates, "requests": self.requests,
                "rejected": self.rejected}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path)

    def snapshot(self) -> dict:
        return {"messages": self.messages, "duplicates": self.duplicates, "requests": self.requests,
                "rejected": self.rejected}


def make_handler(state: State, aliyun_secret: str | None, hook_secret: str | None):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, code: int, body: dict) -> None:
            raw = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            if self.path == "/received":
                with state.lock:
                    self._send(200, state.snapshot())
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests += 1
                if state.fail_left > 0:
                    state.fail_left -= 1
                    state.save()
                    self._send(503, {"error": "try again"})
                    return
                try:
                    code, body = self._handle(raw)
                except ValueError as exc:
                    state.rejected += 1
                    state.save()
                    self._send(400, {"error": str(exc)})
                    return
                state.save()
            self._send(code, body)

        def _remember(self, kind: str, key: str, entry: dict, answer: dict) -> tuple[int, dict]:
            k = f"{kind}|{key}"
            if k in state.answers:
                state.duplicates += 1
                return state.answers[k]
            entry = {"kind": kind, "key": key, **entry}
            state.messages.append(entry)
            state.answers[k] = (200, answer)
            return 200, answer

        def _handle(self, raw: bytes) -> tuple[int, dict]:
            n = len(state.messages) + 1
            if self.path == "/sms":
                data = json.loads(raw)
                key = self.headers.get("Idempotency-Key") or data.get("idempotency_key")
                if not key:
                    raise ValueError("no idempotency key")
                if str(data.get("to", "")).startswith("000"):
                    raise ValueError(f"invalid number {data['to']}")
                return self._remember("sms", key, {"to": data["to"], "text": data["text"]}, {"id": f"sms-{n}"})
            if self.path == "/aliyun":
                params = dict(urllib.parse.parse_qsl(raw.decode("ascii"), keep_blank_values=True))
                sig = params.pop("Signature", "")
                if aliyun_secret is None or aliyun_signature(params, aliyun_secret) != sig:
                    return 200, {"Code": "SignatureDoesNotMatch", "Message": "bad signature"}
                for p in ("AccessKeyId", "Action", "PhoneNumbers", "SignName", "TemplateCode", "TemplateParam",
                          "SignatureNonce", "Timestamp", "Version", "OutId"):
                    if not params.get(p):
                        return 200, {"Code": "MissingParameter", "Message": p}
                return self._remember("aliyun", params["OutId"],
                                      {"to": params["PhoneNumbers"], "sign": params["SignName"],
                                       "template": params["TemplateCode"],
                                       "params": json.loads(params["TemplateParam"])},
                                      {"Code": "OK", "Message": "OK", "BizId": f"biz-{n}", "RequestId": f"r{n}"})
            if self.path == "/hook":
                key = self.headers.get("Idempotency-Key", "")
                if hook_secret is not None:
                    sig = self.headers.get("X-CreditGov-Signature", "")
                    parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
                    mac = hmac.new(hook_secret.encode(), parts.get("t", "").encode() + b"." + raw, hashlib.sha256)
                    if not hmac.compare_digest(mac.hexdigest(), parts.get("v1", "")):
                        raise ValueError("bad webhook signature")
                return self._remember("hook", key, {"body": json.loads(raw)}, {"ok": True})
            raise ValueError(f"unknown path {self.path}")

    return Handler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--aliyun-secret")
    ap.add_argument("--hook-secret")
    args = ap.parse_args()
    state = State(Path(args.state), args.fail_first)
    state.save()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state, args.aliyun_secret, args.hook_secret))
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
