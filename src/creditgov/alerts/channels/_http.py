"""A small HTTP POST shared by the HTTP channels (standard library only), and the
one place that says which answers are worth retrying."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from creditgov.alerts.channels import PermanentFailure, TemporaryFailure

RETRYABLE = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, what: str) -> tuple[int, bytes]:
    """POST and return (status, body) for 2xx; raise Temporary/PermanentFailure otherwise."""
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - configured URL
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        if exc.code in RETRYABLE:
            raise TemporaryFailure(f"{what}: HTTP {exc.code} {detail}") from None
        raise PermanentFailure(f"{what}: HTTP {exc.code} {detail}") from None
    except (TimeoutError, urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise TemporaryFailure(f"{what}: {exc}") from None


def json_of(raw: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8") or "{}")
    except ValueError:
        raise TemporaryFailure(f"{what}: the answer is not JSON: {raw[:200]!r}") from None
    return data if isinstance(data, dict) else {"value": data}
