"""The credit report's own words in Chinese and English (the codes it shows are named
by the label catalogue, `core.labels`; the score explanation by `scoring.narrative`).

The sections keep their national names and order (信用中国's public credit report);
`SECTION_EN` gives each its English title. Chinese is the report's default language.
"""

from __future__ import annotations

LANGS = ("zh", "en")

SECTION_EN = {
    "行政管理": "Administrative management",
    "诚实守信": "Honesty and trustworthiness",
    "严重失信主体名单": "List of seriously dishonest entities",
    "经营异常": "Abnormal business operations",
    "信用承诺": "Credit commitments",
    "信用评价": "Credit evaluations",
    "司法判决": "Court judgements",
    "其他信息": "Other information",
    "信用状况提升建议": "Advice on improving the credit standing",
    "地方补充内容": "Local supplementary content",
}

WORDS: dict[str, tuple[str, str]] = {
    "title": ("信用报告", "Credit report"),
    "platform": ("基层信用智治平台", "County credit governance platform"),
    "serial": ("报告编号", "Report number"),
    "issued": ("出具时间", "Issued"),
    "as_of": ("报告日期", "Report date"),
    "scan": ("扫码验证：", "Scan to verify: "),
    "name": ("名称", "Name"),
    "kind": ("主体类型", "Type of subject"),
    "ident": ("统一社会信用代码/证件号", "Unified social credit code / ID number"),
    "region": ("所属区域", "Region"),
    "industry": ("行业", "Industry"),
    "established": ("成立日期", "Established"),
    "address": ("地址", "Address"),
    "none": ("无", "None"),
    "open_ended": ("长期", "Open-ended"),
    "date": ("日期", "Date"),
    "item": ("事项", "Item"),
    "department": ("认定部门", "Department"),
    "document": ("文号/说明", "Document no. / details"),
    "status": ("状态", "Status"),
    "published_until": ("公示截止", "Published until"),
    "list": ("名单", "List"),
    "listed_on": ("列入日期", "Listed on"),
    "decision_no": ("文号", "Document no."),
    "commitment": ("承诺 {template}，签署于 {signed}，状态 {status}",
                   "Commitment {template}, signed on {signed}, status {status}"),
    "score": ("平台评价「{model}」（评价日 {as_of}）：得分 {score}，等级 {grade}，{colour}",
              "Platform evaluation \u201c{model}\u201d (as of {as_of}): {score} points, grade {grade}, {colour}"),
    "explanation": ("评分说明：", "Why this score: "),
    # Evaluations other platforms sent by the exchange (records/received.py), as received.
    "received_heading": ("上级平台评价（经数据交换接收，按原样载明）",
                         "Evaluations from the upper platform (received by exchange, as stated there)"),
    "evaluated_by": ("评价平台", "Evaluated by"),
    "evaluated_on": ("评价日", "Evaluation date"),
    "model": ("评价模型", "Model"),
    "grade": ("等级（档次）", "Grade (band)"),
    "score_col": ("得分", "Score"),
    "received_at": ("接收时间", "Received"),
    "upper_platform": ("上级平台 {node}", "Upper platform {node}"),
    "other_platform": ("下级平台 {node}", "Lower platform {node}"),
    "indicator": ("指标", "Indicator"),
    "points": ("得分", "Points"),
    "sentence": ("说明", "Explanation"),
    "note": ("说明：", "Note: "),
    "region_line": ("所属区域：{region}", "Region: {region}"),
    "list_line": ("名单：{name}（{status}，列入日期 {on}）", "List: {name} ({status}, listed on {on})"),
    "footer": ("说明：本报告依据平台归集的公开类与共享类信用信息生成，受限类、涉密类信息不予载明。"
               "报告内容以出具时平台数据为准；扫描二维码或访问验证地址可核验本报告真伪。",
               "Note: this report is drawn from the public- and shared-class credit information the platform "
               "holds; restricted and secret information is not shown. It states the platform's data at the "
               "time of issue; scan the QR code or open the verification address to check that it is genuine."),
    "advice_negative": ("存在 {n} 条有效失信记录：履行相关义务、纠正失信行为后，可在最短公示期满后"
                        "向认定部门申请信用修复（《信用修复管理办法》）。",
                        "{n} negative record(s) in force: once the obligations are met and the conduct corrected, "
                        "credit repair may be requested from the deciding department after the shortest "
                        "publication period (Measures for Credit Repair)."),
    "advice_serious": ("已列入严重失信主体名单：按名单认定文书履行义务，满足移出条件后申请移出。",
                       "On the list of seriously dishonest entities: meet the obligations the listing decision "
                       "names, then apply for removal once the conditions are met."),
    "advice_colour": ("综合评价为黄码或红码：建议签署并履行信用承诺，参与志愿服务等守信活动以提升评价。",
                      "The overall evaluation is a yellow or red code: signing and keeping a credit commitment, "
                      "and trustworthy activities such as volunteering, improve it."),
    "advice_good": ("信用状况良好，请继续保持依法诚信经营。", "The credit standing is good: keep it so."),
}


def lang_of(value: str | None) -> str:
    """A report language: English when asked for, else Chinese (the default)."""
    return "en" if value == "en" else "zh"


def t(key: str, lang: str, **values: object) -> str:
    zh, en = WORDS[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def section_title(section: str, lang: str) -> str:
    return SECTION_EN[section] if lang == "en" else section
