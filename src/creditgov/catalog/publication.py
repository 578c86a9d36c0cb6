"""Publication (公示) of each catalogue item, resolved from the publication rules.

Two national rules speak on the publication of market-supervision penalties and
disagree: SAMR Order 45 (2021) keeps most penalties public for 3 years and names its
own deadlines; NDRC Order 36 (2026) ends a general record's publication after 1 year
and says minor ones are normally not published. The catalogue states, per aspect
(whether an item is published at all, its period, its deadlines), which rule wins
(`publication.precedence`), and this module applies it item by item, keeping who
decided each aspect and who was overruled, so the answer is explainable and a
deployment that reads the rules differently changes data, not code.

An item's own `min/max_publication_months` in the catalogue are a local decision and
win over every rule for the period. With no `publication` section the catalogue's
severity tiers alone decide, as before the rules were data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from creditgov.catalog.schemas import (
    ASPECT_FIELDS,
    CatalogFile,
    CatalogItemIn,
    PublicationRule,
    PublicationTerms,
)


@dataclass
class Resolved:
    published: bool
    min_months: int
    max_months: int | None
    publish_within_working_days: int | None = None
    withdraw_within_working_days: int | None = None
    decided_by: dict[str, str] = field(default_factory=dict)  # aspect -> rule code (or catalogue / default)
    overruled: list[dict[str, Any]] = field(default_factory=list)  # rules that spoke and lost
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"published": self.published, "min_months": self.min_months, "max_months": self.max_months,
                "publish_within_working_days": self.publish_within_working_days,
                "withdraw_within_working_days": self.withdraw_within_working_days,
                "decided_by": self.decided_by, "overruled": self.overruled, "notes": self.notes}


def terms_of(rule: PublicationRule, item: CatalogItemIn, cat: CatalogFile) -> PublicationTerms:
    """What `rule` says of `item`: its severity tier's periods (when the rule is the
    tiers'), its general terms, its severity refinement, its item refinement — each
    later one winning for the terms it gives."""
    said: dict[str, Any] = {}
    if rule.severity_periods and item.polarity == "negative" and item.severity:
        tier = cat.severity_periods[item.severity]
        said.update(min_months=tier.min_publication_months, max_months=tier.max_publication_months)
    layers = [rule.terms]
    if item.severity and item.severity in rule.by_severity:
        layers.append(rule.by_severity[item.severity])
    if item.code in rule.by_item:
        layers.append(rule.by_item[item.code])
    for t in layers:
        said.update({k: v for k, v in t.model_dump().items() if v is not None})
    return PublicationTerms(**said)


def resolve(cat: CatalogFile, item: CatalogItemIn) -> Resolved:
    lo, hi = cat.periods(item)
    out = Resolved(published=True, min_months=lo, max_months=hi,
                   decided_by={"publish": "default", "period": "catalogue", "deadlines": "none"})
    policy = cat.publication
    if policy is None:
        return out
    rules = {r.code: r for r in policy.rules}
    for p in policy.precedence:
        winner: tuple[str, PublicationTerms] | None = None
        for code in p.order:
            rule = rules[code]
            if not rule.governs(item):
                continue
            t = terms_of(rule, item, cat)
            if not t.speaks_on(p.aspect):
                continue
            said = {f: getattr(t, f) for f in ASPECT_FIELDS[p.aspect] if getattr(t, f) is not None}
            if winner is None:
                winner = (code, t)
                if t.note and f"{code}: {t.note}" not in out.notes:
                    out.notes.append(f"{code}: {t.note}")
            else:
                out.overruled.append({"aspect": p.aspect, "rule": code, "said": said, "by": winner[0],
                                      "why": p.why.strip()})
        if winner is None:
            continue
        code, t = winner
        out.decided_by[p.aspect] = code
        if p.aspect == "publish" and t.publish is not None:
            out.published = t.publish
        elif p.aspect == "period":
            out.min_months = t.min_months if t.min_months is not None else out.min_months
            out.max_months = t.max_months if t.max_months is not None else out.max_months
        elif p.aspect == "deadlines":
            out.publish_within_working_days = t.publish_within_working_days
            out.withdraw_within_working_days = t.withdraw_within_working_days
    if item.min_publication_months is not None or item.max_publication_months is not None:
        out.min_months, out.max_months = lo, hi  # the item's own periods: a local decision, it wins
        out.decided_by["period"] = "catalogue item"
    if item.rating is not None:
        # A rating is in force while valid: its validity is the record's period.
        out.min_months, out.max_months = 0, item.rating.validity_months
        out.decided_by["period"] = "rating validity"
    return out


def resolve_all(cat: CatalogFile) -> dict[str, Resolved]:
    """Every item's publication; a period whose minimum exceeds its maximum is an
    error (ValueError naming the item and the rules)."""
    out = {}
    for it in cat.items:
        r = resolve(cat, it)
        if r.max_months is not None and r.min_months > r.max_months:
            raise ValueError(f"{it.code}: publication minimum {r.min_months} exceeds maximum {r.max_months} "
                             f"(period decided by {r.decided_by['period']})")
        out[it.code] = r
    return out
