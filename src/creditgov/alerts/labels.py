"""Labels of the alerts domain's codes: warning rules (data/warning_rules.yaml),
severities, alert and notification statuses, colour codes. Registered by
`bootstrap.wire()`."""

from __future__ import annotations

from creditgov.alerts.service import WARNING_RULES
from creditgov.core.labels import Names


def _rules() -> Names:
    return {r.code: (r.name_zh, r.name_en or r.name_zh) for r in WARNING_RULES.shipped().rules}


LABELS = {
    "warning_rule": _rules,
    "alert_severity": {"info": ("提示", "Info"), "low": ("低", "Low"), "medium": ("中", "Medium"),
                       "high": ("高", "High"), "critical": ("严重", "Critical")},
    "alert_status": {"open": ("待签收", "Open"), "acknowledged": ("已签收", "Acknowledged"),
                     "resolved": ("已办结", "Resolved"), "unresolved": ("未办结", "Unresolved")},
    "notification_status": {"pending": ("待发送", "Pending"), "sending": ("发送中", "Sending"), "sent": ("已送达", "Sent"),
                            "dead": ("投递失败", "Delivery failed"), "cancelled": ("已取消", "Cancelled")},
    "channel": {"inbox": ("站内消息", "Inbox"), "email": ("电子邮件", "E-mail"), "sms": ("短信", "SMS"),
                "webhook": ("接口推送", "Webhook")},
    "colour": {"green": ("绿码", "Green"), "yellow": ("黄码", "Yellow"), "red": ("红码", "Red")},
}
