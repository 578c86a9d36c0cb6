"""E-mail over SMTP (plain, STARTTLS or implicit TLS, optional login).

The Message-ID is derived from the idempotency key, so a message re-sent after a
crash is the same message to every mail client and archive that threads or
de-duplicates by Message-ID. SMTP has no other idempotency: a crash in the instant
between the server's acceptance and the outbox's bookkeeping can repeat a mail (the
same Message-ID), which the operator docs state plainly.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from pydantic import Field

from creditgov.alerts.channels import (
    Channel,
    ChannelSettings,
    Message,
    PermanentFailure,
    TemporaryFailure,
    one_line,
    plain,
    secret,
)


class SmtpSettings(ChannelSettings):
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    security: str = Field(default="none", pattern="^(none|starttls|tls)$")
    username: str | None = None
    password_env: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    message_id_domain: str = "creditgov.local"
    subject_prefix: str = "[信用预警] "


class SmtpChannel(Channel):
    address_field = "email"
    Settings = SmtpSettings

    def _connect(self) -> smtplib.SMTP:
        st: SmtpSettings = self.settings  # type: ignore[assignment]  # built by this class's own Settings in Channel.__init__
        if st.security == "tls":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(st.host, st.port, timeout=st.timeout_seconds,
                                                  context=ssl.create_default_context())
        else:
            conn = smtplib.SMTP(st.host, st.port, timeout=st.timeout_seconds)
            if st.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
        if st.username:
            conn.login(st.username, secret(st.password_env, f"channel {self.name} password") or "")
        return conn

    def send(self, message: Message) -> str | None:
        st: SmtpSettings = self.settings  # type: ignore[assignment]  # built by this class's own Settings in Channel.__init__
        if not message.address:
            raise PermanentFailure("no e-mail address")
        mail = EmailMessage()
        mail["From"] = st.sender
        mail["To"] = message.address
        mail["Subject"] = one_line(st.subject_prefix + message.title)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{message.idempotency_key}@{st.message_id_domain}>"
        mail["X-CreditGov-Idempotency-Key"] = message.idempotency_key
        if message.alert_id is not None:
            mail["X-CreditGov-Alert"] = str(message.alert_id)
        mail.set_content(plain(message.body))
        for att in message.payload.get("attachments") or []:
            # A document sent to its addressee (documents.sending): the PDF, base64 in the outbox row.
            maintype, _, subtype = str(att.get("content_type") or "application/octet-stream").partition("/")
            mail.add_attachment(base64.b64decode(att["data_b64"]), maintype=maintype, subtype=subtype or "octet-stream",
                                filename=one_line(str(att.get("filename") or "attachment")))
        try:
            conn = self._connect()
            try:
                refused = conn.send_message(mail)
            finally:
                try:
                    conn.quit()
                except smtplib.SMTPException:
                    pass
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            if all(500 <= c < 600 for c in codes):
                raise PermanentFailure(f"recipient refused: {exc.recipients}") from None
            raise TemporaryFailure(f"recipient deferred: {exc.recipients}") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from None
            raise TemporaryFailure(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"SMTP {st.host}:{st.port}: {exc}") from None
        if refused:
            raise PermanentFailure(f"recipient refused: {refused}")
        return mail["Message-ID"]
