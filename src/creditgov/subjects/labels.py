"""Labels of the subjects domain's codes: kinds (data/kinds.yaml), industries
(data/industries.yaml), the roles of people linked to a firm, a subject's status, and
regions by name (the regions table a deployment loaded). Registered by
`bootstrap.wire()` into `core.labels`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.engine import Connection

from creditgov.core.config import PolicyFile
from creditgov.core.labels import Names, Table
from creditgov.subjects.schemas import kinds


class Industry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str
    name_en: str


class IndustriesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    citation: str
    industries: list[Industry]


INDUSTRIES = PolicyFile(IndustriesFile, "creditgov.subjects", "data/industries.yaml")


def _kinds() -> Names:
    return {k.code: (k.name_zh, k.name_en) for k in kinds().values()}


def _industries() -> Names:
    return {i.code: (i.name_zh, i.name_en) for i in INDUSTRIES.shipped().industries}


def _regions(conn: Connection) -> Names:
    # A region has one name (a place name is data, the same in both languages).
    return {code: (name, name) for code, name in conn.execute(text("SELECT code, name FROM regions"))}


LINK_ROLE_NAMES: Names = {"legal_representative": ("法定代表人", "Legal representative"),
                          "principal": ("负责人", "Principal"), "employee": ("从业人员", "Employee")}
SUBJECT_STATUS: Names = {"confirmed": ("已确认", "Confirmed"), "provisional": ("待确认", "Provisional"),
                          "merged": ("已合并", "Merged into another")}

# The refusals of looking a subject up (the key typed is not repeated: it may be an ID number)
# and of the subject list's filters.
REFUSALS: Names = {
    "subjects.no_match": ("没有找到与所填统一社会信用代码、身份证号码、编号或名称相符的主体，请核对后重试。",
                          "No subject matches what was given (credit code, ID number, id or exact name); check it "
                          "and try again."),
    "subjects.same_name": ("有多个主体名为“{name}”：请改用统一社会信用代码、身份证号码或编号查找。",
                           "Several subjects are named “{name}”: use a credit code, ID number or id."),
    # The subject list's colour filter (`subjects.access.find`, the page and the API).
    "subjects.colour_unknown": ("三色码只有绿码、黄码、红码三种，“{colour}”不是其中之一。",
                                "A colour code is green, yellow or red; “{colour}” is none of them."),
}

LABELS = {"refusal": REFUSALS, "subject_kind": _kinds, "industry": _industries, "link_role": LINK_ROLE_NAMES,
          "subject_status": SUBJECT_STATUS, "region": Table(_regions)}

# What this domain writes to the audit chain (`append(action=…)`), in words: the audit log
# names an entry's action by these (label kind `audit_action`, gathered from every
# domain by `bootstrap.audit_actions`); an action written from a variable lists every
# value it takes. `tests/security/test_audit_action_words.py` holds them to the source.
AUDIT_ACTIONS: Names = {
    "regions.load": ("载入行政区划与网格", "Regions and grids loaded"),
    "subject.read": ("查阅信用档案", "Credit file read"),
    "subject.correction.propose": ("提出主体信息更正", "Subject correction proposed"),
    "subject.correction.approved": ("批准主体信息更正", "Subject correction approved"),
    "subject.correction.rejected": ("驳回主体信息更正", "Subject correction rejected"),
    "subject.merge.propose": ("提出主体合并", "Subject merge proposed"),
    "subject.merge.approved": ("批准主体合并", "Subject merge approved"),
    "subject.merge.rejected": ("驳回主体合并", "Subject merge rejected"),
    "subject.merge.undone": ("撤销主体合并", "Subject merge undone"),
}
