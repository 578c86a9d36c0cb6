"""A form the pages could not take, said in the reader's language.

Pydantic reports a form's faults in English with the field's path ("content: String
should have at least 5 characters"); a resident filing a complaint or an inspector
recording a result reads them on a Chinese page. `invalid_form` says each fault as a
sentence naming the field by the label the form shows it under, in the page's language
(the sentences are page messages: `web/locale/en/LC_MESSAGES/messages.po`). A fault of
a kind not listed here keeps Pydantic's words after the sentence, as an uncoded
refusal keeps the service's (`i18n.refusal`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from creditgov.web.render import _


def _number(value: Any) -> str:
    """A limit as people write it: 1,000,000 and 0.5, not 1E+6 or 0.50."""
    if isinstance(value, int | Decimal | float):
        d = Decimal(str(value)).normalize()
        return f"{d:,f}" if d == d.to_integral_value() else f"{d:f}"
    return str(value)


def _fault(kind: str, field: str, ctx: Mapping[str, Any]) -> str | None:
    """One fault in the page's language, or None for a kind not worded here."""
    n = {k: _number(v) for k, v in ctx.items() if k in ("min_length", "max_length", "ge", "gt", "le", "lt",
                                                         "decimal_places", "max_digits")}
    if kind == "missing" or (kind == "string_too_short" and n.get("min_length") == "1"):
        return _("请填写“%(field)s”。", field=field)
    if kind == "string_too_short":
        return _("“%(field)s”至少要有 %(n)s 个字符。", field=field, n=n["min_length"])
    if kind == "string_too_long":
        return _("“%(field)s”最多 %(n)s 个字符。", field=field, n=n["max_length"])
    dated = [v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt") and isinstance(v, dt.date)]
    if dated and kind in ("greater_than_equal", "greater_than"):
        return _("“%(field)s”不能早于 %(d)s。", field=field, d=dated[0].isoformat())
    if dated and kind in ("less_than_equal", "less_than"):
        return _("“%(field)s”不能晚于 %(d)s。", field=field, d=dated[0].isoformat())
    if kind in ("greater_than_equal", "greater_than"):
        bound = n.get("ge", n.get("gt", ""))
        return (_("“%(field)s”不能小于 %(n)s。", field=field, n=bound) if kind == "greater_than_equal"
                else _("“%(field)s”必须大于 %(n)s。", field=field, n=bound))
    if kind in ("less_than_equal", "less_than"):
        bound = n.get("le", n.get("lt", ""))
        return (_("“%(field)s”不能大于 %(n)s。", field=field, n=bound) if kind == "less_than_equal"
                else _("“%(field)s”必须小于 %(n)s。", field=field, n=bound))
    if kind in ("decimal_parsing", "decimal_type", "float_parsing", "float_type", "int_parsing", "int_type",
                "int_from_float", "finite_number"):
        return _("“%(field)s”应填写数字。", field=field)
    if kind == "decimal_max_places":
        return _("“%(field)s”最多保留 %(n)s 位小数。", field=field, n=n["decimal_places"])
    if kind in ("decimal_max_digits", "decimal_whole_digits"):
        return _("“%(field)s”的数字太长。", field=field)
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_type"):
        return _("“%(field)s”应填写日期，如 2026-12-05。", field=field)
    if kind in ("literal_error", "enum"):
        return _("请从列表中选择“%(field)s”。", field=field)
    if kind == "string_pattern_mismatch":
        return _("“%(field)s”的格式不对。", field=field)
    return None


def invalid_form(exc: ValidationError, fields: Mapping[str, str]) -> str:
    """Every fault of `exc` as a sentence; `fields` names each field by its label on the
    form (already in the page's language). A fault of a field the page does not name
    (it should not happen: the form sends only its fields) keeps Pydantic's words."""
    said: list[str] = []
    for e in exc.errors():
        name = str(e["loc"][0]) if e.get("loc") else ""
        field = fields.get(name)
        sentence = _fault(str(e.get("type", "")), field, e.get("ctx") or {}) if field else None
        if sentence is None and field:
            sentence = _("“%(field)s”不符合要求（%(why)s）。", field=field, why=str(e.get("msg", "")))
        if sentence is None:
            sentence = _("表单中有一项不符合要求（%(why)s）。", why=str(e.get("msg", "")))
        if sentence not in said:
            said.append(sentence)
    return " ".join(said)
