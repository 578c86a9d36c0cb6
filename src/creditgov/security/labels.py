"""Labels of roles and data scopes (security/scopes.py), and actors in words (`actor_label`,
the one way every page shows who did something). Registered by `bootstrap.wire()`."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from creditgov.core import labels
from creditgov.core.labels import Names, Table
from creditgov.security.scopes import ROLE_LABELS, Scope

SCOPE_NAMES: Names = {Scope.ALL.value: ("全域", "whole county"), Scope.REGION.value: ("本网格及下级", "own grid subtree"),
                      Scope.DEPARTMENT.value: ("本部门", "own department"),
                      Scope.CONSENTED.value: ("已授权主体", "consented subjects"), Scope.SELF.value: ("本主体", "self"),
                      Scope.PUBLISHED.value: ("仅公示信息", "published only")}

# The purposes written to the audit chain when a reader gives none (scopes.default_purpose).
PURPOSES: Names = {"administration": ("系统管理", "administration"), "credit supervision": ("信用监管", "credit supervision"),
                   "department business": ("部门业务", "department business"), "grid service": ("网格服务", "grid service"),
                   "inspection": ("检查", "inspection"), "credit lending (consented)": ("授权信贷查询", "credit lending (consented)"),
                   "own file": ("本人查阅", "own file"), "public query": ("公示查询", "public query"),
                   "public supervision": ("特约监督", "public supervision"),
                   "service-hall window": ("办事大厅窗口", "service-hall window")}

# What an account's scope names, by the role (users.create_user).
SCOPE_FIELDS: Names = {"region": ("所属区域", "a region"), "department": ("所属部门", "a department"),
                       "organisation": ("所属机构", "an organisation"), "subject": ("对应主体", "a subject")}
# The refusals of the administrator's account form.
REFUSALS: Names = {
    "security.permission.lacking": ("“{role:role}”角色没有此项权限。如需办理，请联系信用办。",
                                    "The role “{role:role}” does not have this permission. "
                                    "Ask the credit office if you need it done."),
    "users.role.unknown": ("请从所列角色中选择一项。", "Choose one of the listed roles."),
    "users.role.public": ("公众无需账号。", "The public role needs no account."),
    "users.exists": ("用户名“{username}”已被使用。", "User name “{username}” is already taken."),
    "users.needs_scope": ("“{role:role}”角色的账号须指定{what:user_scope_field}。",
                          "An account of the role “{role:role}” needs {what:user_scope_field}."),
    "users.region.unknown": ("没有编码为“{region}”的区域。", "There is no region with the code “{region}”."),
    "users.subject.unknown": ("没有编号为 #{id} 的主体。", "There is no subject #{id}."),
    # A password's rules (passwords.check_strength, the sign-in policy's `passwords`).
    "security.password.too_short": ("“{role:role}”账号的密码至少需要 {n} 个字符。",
                                    "A password for a “{role:role}” account needs at least {n} characters."),
    "security.password.too_long": ("密码最多 {n} 个字符。", "A password may have at most {n} characters."),
    "security.password.blank": ("密码不能只有空格。", "A password cannot be only spaces."),
    "security.password.not_text": ("密码含有无法识别的字符，请重新输入。",
                                   "The password holds characters that are not text: type it again."),
    "security.password.weak": ("密码太容易被猜到（强度 {score}/4，“{role:role}”账号至少需要 {need}）。"
                               "请用更长、不常见的词语组合，避开姓名、用户名、生日和常见密码。",
                               "The password is too easy to guess (strength {score} of 4; a “{role:role}” "
                               "account needs {need}).{hint}"),
    "security.password.reused": ("新密码不能与当前密码或最近 {n} 次使用过的密码相同。",
                                 "Choose a password that is not the current one nor one of the last {n}."),
    "security.password.token_only": ("此账号只通过 API 令牌登录，没有可修改的密码。",
                                     "This account signs in with an API token only and has no password to change."),
    # A request sent again (request_keys.py): an API Idempotency-Key or a page form's key.
    "security.request.key_invalid": ("请求标识（Idempotency-Key）须为 1–100 个可见 ASCII 字符，未登录时至少 16 个。",
                                     "The request key (Idempotency-Key) must be 1–100 visible ASCII characters, "
                                     "at least 16 without signing in."),
    "security.request.key_reused": ("这个请求标识已用于另一项请求。请刷新页面后重新填写提交，或为新的请求换一个标识。",
                                    "This request key was already used for another request. Reload the page and "
                                    "send the form again, or use a new key for a new request."),
    "security.request.in_progress": ("同一请求的第一次提交仍在处理中，请稍候刷新页面查看结果。",
                                     "The first submission of this request is still being processed: wait a "
                                     "moment, then reload the page to see its result."),
}


def _accounts(conn: Connection) -> Names:
    """An account's display name by its user name (the same in both languages)."""
    return {u: (d, d) for u, d in conn.execute(text("SELECT username, display_name FROM users")) if d}


# Who did something, as the audit chain and every `actor` column write it: "<kind>:<name>"
# (scopes.Principal.actor, service.default_actor, the worker's jobs, the system's parts).
# An account reads as its display name; the others as their kind in words with the name.
ACTOR_KINDS: dict[str, tuple[str, str]] = {
    "user": ("账户 {name}", "account {name}"), "cli": ("命令行（{name}）", "command line ({name})"),
    "worker": ("定时任务（{name}）", "scheduled job ({name})"), "system": ("系统（{name}）", "system ({name})"),
    "token": ("API 令牌（{name}）", "API token ({name})"), "session": ("账户 {name}", "account {name}"),
    "anonymous": ("公众", "the public"), "rule": ("预警规则（{name}）", "warning rule ({name})"),
    "scanner": ("预警扫描（{name}）", "warning scan ({name})"), "web": ("网页（{name}）", "web page ({name})"),
    "demo": ("演示数据", "demo data")}
ACTOR_WORDS: dict[str, tuple[str, str]] = {"public": ("公众", "the public"), "exchange": ("数据交换", "data exchange"),
                                           # a repair refused on filing (`workflows.repair`)
                                           "automatic eligibility check": ("系统自动核验", "automatic eligibility check")}


def actor_label(actor: str | None, lang: str = "zh") -> str:
    """An actor in words in `lang`: `user:office` as the account's display name (else
    "账户 office" / "account office"), `cli:root` as "命令行（root）" / "command line
    (root)", a warning rule by its name; anything else as written."""
    if not actor:
        return ""
    en = lang == "en"
    if actor in ACTOR_WORDS:
        return ACTOR_WORDS[actor][int(en)]
    kind, sep, name = actor.partition(":")
    if not sep or kind not in ACTOR_KINDS or not name:
        return actor
    if kind in ("user", "session"):
        shown = labels.names("account").get(name)
        if shown:
            return shown[int(en)]
    if kind == "rule":
        name = labels.label("warning_rule", name, lang)
    return ACTOR_KINDS[kind][int(en)].format(name=name)


#: A consent to read a subject's file, as `users.consent_status` says it.
CONSENT_STATUS = {"in_force": ("有效", "In force"), "expired": ("已到期", "Expired"), "revoked": ("已撤销", "Revoked"),
                  "not_yet": ("尚未生效", "Not yet in force")}
# A key rotation's state (`models.KeyRotation.state`, as `creditgov keys status` says it).
KEY_ROTATION_STATE: Names = {"rekeying": ("重新加密中", "Re-keying"), "retiring": ("停用旧密钥中", "Retiring the old key"),
                             "done": ("已完成", "Done")}

LABELS = {"role": {r.value: pair for r, pair in ROLE_LABELS.items()}, "scope": SCOPE_NAMES, "purpose": PURPOSES,
          "user_scope_field": SCOPE_FIELDS, "refusal": REFUSALS, "account": Table(_accounts),
          "consent_status": CONSENT_STATUS, "key_rotation_state": KEY_ROTATION_STATE}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "auth.login": ("登录", "Signed in"),
    "auth.second_factor": ("通过二次验证", "Second factor passed"),
    "auth.failed": ("登录失败", "Sign-in failed"),
    "auth.refused": ("拒绝登录", "Sign-in refused"),
    "auth.locked": ("账号暂时锁定", "Account locked for a while"),
    "auth.unlock": ("解除账号锁定", "Account unlocked"),
    "password.change": ("修改密码", "Password changed"),
    "password.reset": ("重置密码", "Password reset"),
    "totp.enrol": ("启用动态口令", "Authenticator enrolled"),
    "totp.enrol_failed": ("启用动态口令失败", "Authenticator enrolment failed"),
    "totp.recovery_used": ("使用恢复码登录", "Recovery code used"),
    "totp.reset": ("重置动态口令", "Authenticator reset"),
    "user.create": ("创建账号", "Account created"),
    "user.activate": ("启用账号", "Account enabled"),
    "user.deactivate": ("停用账号", "Account disabled"),
    "token.issue": ("签发 API 令牌", "API token issued"),
    "token.revoke": ("吊销 API 令牌", "API token revoked"),
    "token.rotate": ("更换 API 令牌", "API token replaced"),
    "consent.grant": ("授权查询信用档案", "Consent granted"),
    "consent.revoke": ("撤销查询授权", "Consent revoked"),
    "audit.purge": ("清理超过保存期限的审计记录", "Audit entries past retention purged"),
    "store.key_recorded": ("登记数据密钥", "Store key recorded"),
    "store.key_rotation_started": ("开始更换数据密钥", "Key rotation started"),
    "store.key_rotated": ("完成更换数据密钥", "Key rotated"),
    "store.backup": ("备份数据", "Store backed up"),
    "store.restored": ("恢复备份", "Store restored from a backup"),
}
