"""Labels of the alerts domain's codes: warning rules (data/warning_rules.yaml),
severities, alert and notification statuses, colour codes. Registered by
`bootstrap.wire()`."""

from __future__ import annotations

from creditgov.alerts.service import WARNING_RULES
from creditgov.core.labels import Names


def _rules() -> Names:
    return {r.code: (r.name_zh, r.name_en or r.name_zh) for r in WARNING_RULES.shipped().rules}


# The refusals a worker meets handling an alert or reading the inbox, by the code the
# services give them.
REFUSALS: Names = {
    "alerts.alert.not_found": ("找不到预警 #{id}，或它不在您的数据范围内。",
                               "Alert #{id} was not found, or is outside your data scope."),
    "alerts.alert.not_open": ("预警 #{id} 已是“{status:alert_status}”状态，只有待签收的预警才能签收。",
                              "Alert #{id} is already “{status:alert_status}”; only an open alert can be acknowledged."),
    "alerts.alert.no_comment": ("请填写批注内容。", "A comment needs text."),
    "alerts.alert.no_resolution": ("办结预警须写明处理情况。", "Resolving an alert needs what was done."),
    "alerts.alert.resolved": ("预警 #{id} 已办结。", "Alert #{id} is already resolved."),
    "alerts.alert.not_addressed": ("预警 #{id} 不是发给{department:department}的，只能查看，由收到它的单位签收和办结。",
                                   "Alert #{id} was not sent to {department:department}: you may read it; the units it "
                                   "was sent to acknowledge and resolve it."),
    "alerts.inbox.not_found": ("您的消息中没有消息 #{id}。", "Message #{id} is not in your inbox."),
}

LABELS = {
    "refusal": REFUSALS,
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
    # What happened to an alert (`models.AlertEvent.action`, an alert's history).
    "alert_event": {"raised": ("触发", "Raised"), "repeated": ("再次出现", "Repeated"),
                    "acknowledged": ("签收", "Acknowledged"), "commented": ("批注", "Commented"),
                    "escalated": ("升级", "Escalated"), "resolved": ("办结", "Resolved"),
                    "delivery_failed": ("投递失败", "Delivery failed")},
    # Whom a rule tells (`schemas.Recipient.who`).
    "alert_recipient_kind": {"grid_worker": ("网格员", "Grid worker"), "department": ("部门", "Department"),
                             "bank": ("授权银行", "Consented bank"), "principal": ("负责人", "Principal"),
                             "subject": ("主体本身", "The subject"), "user": ("指定用户", "A named user"),
                             "principal_id": ("指定收件人", "A named inbox")},
    # What a rule watches (`schemas.RuleDef` kinds).
    "warning_rule_kind": {"new_record": ("新增信用记录", "New credit record"),
                          "record_count": ("记录数量", "Number of records"),
                          "consecutive_months": ("连续月份", "Consecutive months"),
                          "score_drop": ("评分下降", "Score drop"), "grade_change": ("等级变化", "Grade change"),
                          "list_entry": ("列入名单", "List entry"), "source_late": ("数据迟报", "Source late"),
                          "volume_change": ("数据量突变", "Volume change"),
                          "rejection_rate": ("拒收率", "Rejection rate"),
                          "rejection_jump": ("拒收率突增", "Rejection spike")},
}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "alert.raise": ("发出预警", "Alert raised"),
    "alert.acknowledge": ("签收预警", "Alert acknowledged"),
    "alert.comment": ("批注预警", "Alert commented on"),
    "alert.escalate": ("预警升级", "Alert escalated"),
    "alert.resolve": ("办结预警", "Alert resolved"),
    "alerts.rules.load": ("载入预警规则", "Warning rules loaded"),
    "alerts.rule.enable": ("启用预警规则", "Warning rule enabled"),
    "alerts.rule.disable": ("停用预警规则", "Warning rule disabled"),
    "alerts.channels.load": ("载入通知渠道", "Notification channels loaded"),
    "alerts.contacts.load": ("载入通讯录", "Contacts loaded"),
    "alerts.colours.regenerate": ("重新生成三色码", "Colour codes regenerated"),
    "alerts.export": ("导出风险预警", "Alerts exported"),
    "inbox.read": ("阅读消息", "Message read"),
}
