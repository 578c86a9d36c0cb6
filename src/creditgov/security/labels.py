"""Labels of roles and data scopes (security/scopes.py). Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.core.labels import Names
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
}

LABELS = {"role": {r.value: pair for r, pair in ROLE_LABELS.items()}, "scope": SCOPE_NAMES, "purpose": PURPOSES,
          "user_scope_field": SCOPE_FIELDS, "refusal": REFUSALS}
