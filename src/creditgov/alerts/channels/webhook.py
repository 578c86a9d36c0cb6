"""Webhook: POST the notification as JSON to a URL (a bank's or a department's system).

Signed with HMAC-SHA256 over the timestamp and the body (`X-CreditGov-Signature`,
Stripe's scheme), so the receiver can tell the message is ours and fresh, and carries
`Idempotency-Key` so it can drop a retry it has already processed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from pydantic import Field

from creditgov.alerts.channels import Channel, ChannelSettings, Message, PermanentFailure, secret
from creditgov.alerts.channels._http import post


class WebhookSettings(ChannelSettings):
    secret_env: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    url: str | None = Field(default=None, description="fixed URL; else the contact's webhook_url")


def signature(secret_value: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret_value.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "t=" + timestamp + ",v1=" + mac.hexdigest()


class WebhookChannel(Channel):
    address_field = "webhook_url"
    Settings = WebhookSettings

    def send(self, message: Message) -> str | None:
        st: WebhookSettings = self.settings  # type: ignore[assignment]  # built by this class's own Settings in Channel.__init__
        url = st.url or message.address
        if not url:
            raise PermanentFailure("no webhook URL")
        body = json.dumps({"event": "creditgov.notification", "idempotency_key": message.idempotency_key,
                           "recipient": message.recipient, "alert_id": message.alert_id,
                           "subject_id": message.subject_id, "title": message.title, "body": message.body,
                           "payload": message.payload}, ensure_ascii=False, sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.idempotency_key}
        key = secret(st.secret_env, f"channel {self.name} signing secret")
        if key:
            headers["X-CreditGov-Signature"] = signature(key, str(int(time.time())), body)
        status, _ = post(url, body, headers, timeout=st.timeout_seconds, what=f"webhook {self.name}")
        return f"http:{status}"
