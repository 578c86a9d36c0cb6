"""SMS shaped like Alibaba Cloud's SendSms API (Dysmsapi 2017-05-25, RPC style).

Why this shape: it is the most common cloud SMS API among Chinese county platforms.
The request is the documented RPC form — a POST of sorted, percent-encoded
parameters signed with HMAC-SHA1 over `POST&%2F&<canonical query>` using the secret
plus "&" — and the reply's `Code` says what happened ("OK", throttling codes that are
worth retrying, anything else final). The idempotency key goes in `OutId`, the API's
caller serial number, which the platform echoes in delivery receipts.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import string
import urllib.parse
import uuid

from pydantic import Field, field_validator

from creditgov.alerts.channels import (
    Channel,
    ChannelSettings,
    Message,
    PermanentFailure,
    TemporaryFailure,
    one_line,
    secret,
)
from creditgov.alerts.channels._http import json_of, post

PLACEHOLDERS = frozenset({"title", "body", "recipient"})
RETRY_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "Throttling", "ServiceUnavailable",
                         "InternalError"})


class AliyunSmsSettings(ChannelSettings):
    endpoint: str = "https://dysmsapi.aliyuncs.com/"
    access_key_id: str
    access_key_secret_env: str
    sign_name: str
    template_code: str
    template_params: dict[str, str] = Field(default_factory=lambda: {"title": "{title}", "content": "{body}"})
    param_max_chars: int = Field(default=60, ge=10)
    region_id: str = "cn-hangzhou"
    timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("template_params")
    @classmethod
    def _placeholders(cls, v: dict[str, str]) -> dict[str, str]:
        """Checked when the channel is configured, not at the first message: a
        pattern names only {title}, {body} and {recipient}."""
        for name, pattern in v.items():
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            for f in fields:
                if f not in PLACEHOLDERS:
                    raise ValueError(f"{name}: unknown placeholder {{{f}}} (use {{title}}, {{body}}, {{recipient}})")
        return v


def percent_encode(value: str) -> str:
    """Alibaba Cloud's encoding: RFC 3986, space as %20, `*` as %2A, `~` kept."""
    return urllib.parse.quote(value, safe="~")


def sign(params: dict[str, str], secret_value: str, method: str = "POST") -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    mac = hmac.new((secret_value + "&").encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


class AliyunSmsChannel(Channel):
    address_field = "phone"
    Settings = AliyunSmsSettings

    def send(self, message: Message) -> str | None:
        st: AliyunSmsSettings = self.settings  # type: ignore[assignment]  # built by this class's own Settings in Channel.__init__
        if not message.address:
            raise PermanentFailure("no phone number")
        # Template variables are one line each; the configured patterns are formatted
        # with the data as values, so braces in a name are never read as placeholders.
        values = {"title": one_line(message.title), "body": one_line(message.body),
                  "recipient": one_line(message.recipient)}
        tparams = {k: v.format_map(values)[: st.param_max_chars] for k, v in st.template_params.items()}
        params = {
            "AccessKeyId": st.access_key_id, "Action": "SendSms", "Format": "JSON",
            "OutId": message.idempotency_key, "PhoneNumbers": message.address, "RegionId": st.region_id,
            "SignName": st.sign_name, "SignatureMethod": "HMAC-SHA1", "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0", "TemplateCode": st.template_code,
            "TemplateParam": json.dumps(tparams, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2017-05-25",
        }
        key = secret(st.access_key_secret_env, f"channel {self.name} access key secret") or ""
        params["Signature"] = sign(params, key)
        body = urllib.parse.urlencode(params, quote_via=urllib.parse.quote).encode("ascii")
        what = f"cloud SMS {self.name}"
        _, raw = post(st.endpoint, body, {"Content-Type": "application/x-www-form-urlencoded"},
                      timeout=st.timeout_seconds, what=what)
        data = json_of(raw, what)
        code = str(data.get("Code", ""))
        if code == "OK":
            return str(data.get("BizId") or "")
        if code in RETRY_CODES:
            raise TemporaryFailure(f"{what}: {code} {data.get('Message', '')}")
        raise PermanentFailure(f"{what}: {code or 'no Code'} {data.get('Message', '')}")
