"""The refusals of the credit code's pages (a subject's own code, this region's
revocation list), by the code the services give them. Registered by `bootstrap.wire()`."""

from __future__ import annotations

from creditgov.codes.service import REASONS
from creditgov.core.labels import Names

REFUSALS: Names = {
    "codes.key.no_region": ("系统还没有设置发放信用码的地区，暂时不能生成信用码，请联系管理员。",
                            "No region is set up to issue credit codes yet, so no code can be made; "
                            "ask the administrator."),
    "codes.key.mismatch": ("本地区的信用码签名密钥与登记的公钥不一致，暂时不能生成信用码，请联系管理员。",
                           "This region's code signing key does not match its registered public key, so no "
                           "code can be made; ask the administrator."),
    "codes.revocations.no_key": ("本地区还没有信用码签名密钥，尚未发放过信用码，因此没有撤销清单。",
                                 "This region has no code signing key yet: it has issued no credit codes, so it "
                                 "has no revocation list."),
}

# A signing key's state (`models.CodeSigningKey.status`) and where a trusted key came
# from (`models.TrustedKey.origin`), as `creditgov code keys` and `code trust show` say them.
KEY_STATUS: Names = {"active": ("使用中", "active"), "retired": ("已停用（签发的码仍有效）", "retired (its codes stay valid)")}
KEY_ORIGIN: Names = {"own": ("本地区", "this region"), "imported": ("省级信任列表导入", "from the province's trust list")}

LABELS = {"refusal": REFUSALS, "code_revoke_reason": REASONS, "code_key_status": KEY_STATUS,
          "code_key_origin": KEY_ORIGIN}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "code.key.create": ("创建信用码签名密钥", "Code signing key created"),
    "code.key.rotate": ("更换信用码签名密钥", "Code signing key rotated"),
    "code.issue": ("签发信用码", "Credit code issued"),
    "code.revoke": ("撤销信用码", "Credit code revoked"),
    "code.revocations.import": ("导入其他地区的撤销清单", "Revocation list imported"),
    "code.trust.export": ("导出信任列表", "Trust list exported"),
    "code.trust.import": ("导入信任列表", "Trust list imported"),
}
