"""The county's data requests: which items it asked each department for and what was decided."""

from __future__ import annotations

import datetime as dt
from typing import Any

from creditgov.catalog.schemas import DataRequestFile
from creditgov.demo.context import _Ctx

# 40 requests: 34 approved, 6 rejected. Every item a source above produces is approved for
# its department (one approval per produced item), except police.traffic_violation (the
# deliberate unapproved source). The paper's example — 32 requested, 26 approved — cannot
# hold with one approval per produced item once loans, overdue loans, lawsuits and
# neighbourhood disputes are produced too: 30 items need 30 approvals (34 with the ratings). The rejections are
# those the paper's kind of county meets (secret police data; housing-fund, agricultural
# and honours data kept by the higher-level owner). Not requested: social.arrears,
# safety.accident, and the commitment.* items the commitments domain creates itself.
REQUESTS: tuple[tuple[str, str, str], ...] = (
    ("market.penalty_minor", "approved", "行政处罚信息依法公示"),
    ("market.penalty", "approved", "行政处罚信息依法公示"),
    ("market.penalty_serious", "approved", "行政处罚信息依法公示"),
    ("market.abnormal_operation", "approved", "经营异常名录依法公示"),
    ("market.complaint", "approved", "12315 投诉数据共享"),
    ("market.quality_fail", "approved", "抽检结果依法公示"),
    ("market.annual_report", "approved", "年报公示信息"),
    ("market.credit_merchant", "approved", "守信激励名单"),
    ("tax.credit_grade", "approved", "纳税信用 A 级公开, 其余等级按协议共享"),
    ("tax.arrears", "approved", "欠税公告信息"),
    ("court.dishonest_debtor", "approved", "失信被执行人名单公开"),
    ("court.judgement", "approved", "执行信息共享协议"),
    ("court.lawsuit", "approved", "涉诉信息共享协议: 仅用于风险预警, 涉诉不等于失信, 不作公示"),
    ("environment.penalty", "approved", "行政处罚信息依法公示"),
    ("environment.penalty_serious", "approved", "行政处罚信息依法公示"),
    ("safety.penalty", "approved", "行政处罚信息依法公示"),
    ("utility.bill", "approved", "县信用办与供水供电公司数据共享协议 (2025)"),
    ("utility.arrears", "approved", "县信用办与供水供电公司数据共享协议 (2025)"),
    ("finance.loan", "approved", "县金融服务中心信贷数据共享协议 (经主体授权), 用于信易贷与区域风险研判"),
    ("finance.overdue", "approved", "县金融服务中心信贷数据共享协议 (经主体授权), 用于风险预警"),
    ("social.insured_staff", "approved", "参保单位人数共享"),
    ("grid.garbage_rectification", "approved", "基层治理四平台事件共享"),
    ("grid.family_virtue", "approved", "文明家庭评选结果"),
    ("grid.dispute", "approved", "基层治理四平台事件共享: 邻里纠纷调解, 仅用于风险研判, 不作公示"),
    ("opinion.negative", "approved", "舆情线索, 仅用于预警与核查"),
    ("opinion.positive", "approved", "正面报道"),
    ("civility.honour", "approved", "表彰奖励信息公开"),
    ("civility.volunteer", "approved", "志愿服务记录 (志愿汇平台)"),
    ("tourism.homestay_check", "approved", "民宿检查评分共享"),
    ("credit.public_grade", "approved", "公共信用综合评价结果"),
    ("environment.credit_rating", "approved", "企业环境信用评价结果依法公开 (环发〔2013〕150号)"),
    ("safety.credit_rating", "approved", "企业安全生产诚信等级共享"),
    ("agriculture.quality_rating", "approved", "农产品质量安全信用等级共享"),
    ("city_credit.score", "approved", "城市信用分共享协议 (2025)"),
    ("police.case", "rejected", "涉密数据, 不得用于信用评价与公示"),
    ("police.traffic_violation", "rejected", "交通违法不属于本县公共信用信息补充目录范围"),
    ("housing.fund_arrears", "rejected", "欠缴单位名单涉及职工个人缴存信息, 市住房公积金中心暂不向县级批量共享"),
    ("agriculture.quality_fail", "rejected", "农产品质量安全抽检结果由省级平台统一发布, 不另行向县级共享"),
    ("civility.model_worker", "rejected", "劳动模范、道德模范名单由上级文明委和总工会统一发布, 县级不另行归集"),
    ("civility.charity", "rejected", "慈善捐赠信息涉及捐赠人意愿, 未经本人同意不予共享"),
)


def _requests(ctx: _Ctx) -> dict[str, Any]:
    rng = ctx.rng("requests")
    base = dt.date(ctx.as_of.year - 1, 3, 2)
    out = []
    for n, (item, status, note) in enumerate(REQUESTS):
        asked = base + dt.timedelta(days=3 * (n // 4))
        out.append({"item": item, "department": item.split(".")[0], "status": status,
                    "requested_on": asked, "decided_on": asked + dt.timedelta(days=rng.randint(10, 45)),
                    "note": note})
    doc = {"requests": out}
    DataRequestFile.model_validate(doc)
    return doc
