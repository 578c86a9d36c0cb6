"""SMS through a generic HTTP gateway: POST JSON {to, text, sign, idempotency_key}.

Most county SMS platforms (运营商短信网关 behind an adapter) take a JSON POST with a
token; the idempotency key travels both in the `Idempotency-Key` header and in the
body, so a gateway that de-duplicates (as the test gateway does, and as the usual
platforms do with a client serial number) never sends the same SMS twice.
"""

from __future__ import annotations

import json

from pydantic import Field

from creditgov.alerts.channels import (
    Channel,
    ChannelSettings,
    Message,
    PermanentFailure,
    one_line,
    plain,
    secret,
)
from creditgov.alerts.channels._http import json_of, post


class HttpSmsSettings(ChannelSettings):
    url: str
    token_env: str | None = None
    sign: str = "信用办"
    timeout_seconds: float = Field(default=10.0, gt=0)
    max_chars: int = Field(default=300, ge=20)


class HttpSmsChannel(Channel):
    address_field = "phone"
    Settings = HttpSmsSettings

    def send(self, message: Message) -> str | None:
        st: HttpSmsSettings = self.settings  # type: ignore[assignment]  # built by this class's own Settings in Channel.__init__
        if not message.address:
            raise PermanentFailure("no phone number")
        text = f"【{st.sign}】{one_line(message.title)}：{plain(message.body)}"[: st.max_chars]
        body = json.dumps({"to": message.address, "text": text, "sign": st.sign,
                           "idempotency_key": message.idempotency_key}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.idempotency_key}
        token = secret(st.token_env, f"channel {self.name} token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        _, raw = post(st.url, body, headers, timeout=st.timeout_seconds, what=f"SMS gateway {self.name}")
        data = json_of(raw, f"SMS gateway {self.name}")
        return str(data.get("id") or data.get("message_id") or "")
