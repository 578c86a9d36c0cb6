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

LABELS = {"role": {r.value: pair for r, pair in ROLE_LABELS.items()}, "scope": SCOPE_NAMES, "purpose": PURPOSES}
