"""Ratings in plain words: the rating behind an indicator or an override, named by its
issuer, level, date and validity (docs/ratings.md).

A rating is a credit record of an item the catalogue marks as a rating (its scheme:
levels best first, validity, basis). Evaluation needs nothing special — the record is
in force while valid, and grade items and `latest` overrides take the latest one —
so only the words live here, beside `narrative.py`, which calls them.
"""

from __future__ import annotations

from typing import Any, Protocol


class RatingNames(Protocol):
    """What the words need from `narrative.Names`."""

    lang: str
    ratings: dict[str, dict[str, Any]]
    records: dict[int, tuple[str, str | None]]
    validity: dict[int, tuple[str | None, str | None]]

    def item(self, code: str) -> str: ...

    def department(self, code: str | None) -> str: ...


def is_rating(item: str, names: RatingNames) -> bool:
    return item in names.ratings


def level_name(item: str, grade: str | None, names: RatingNames) -> str:
    """The level as the issuer names it, in the reader's language (the code if unknown)."""
    for lv in names.ratings.get(item, {}).get("levels", []):
        if lv["code"] == grade:
            return str(lv["name_en"] if names.lang == "en" else lv["name_zh"])
    return grade or "—"


def latest(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The latest rating among an item's records (the one that counted)."""
    graded = [r for r in records if r.get("grade") is not None or r.get("value") is not None]
    return max(graded, key=lambda r: (r["occurred_on"], int(r["id"])), default=None)


def phrase(r: dict[str, Any], names: RatingNames) -> str:
    """One rating: who issued it, the level (and score), when, and how long it is valid."""
    en = names.lang == "en"
    dept, _doc = names.records.get(int(r["id"]), (None, None))
    issuer = names.department(dept)
    start, until = names.validity.get(int(r["id"]), (None, None))
    level = level_name(r["item"], r.get("grade"), names)
    grade = r.get("grade")
    score = r.get("value")
    if en:
        what = f"“{level}”" + (f" ({grade})" if grade and grade != level else "")
        if score is not None:
            what = f"{_number(score)} points, {what}"
        valid = f", valid {start or r['occurred_on']} to {until}" if until else ""
        return f"{names.item(r['item'])} {what} by {issuer or 'the issuer'} on {r['occurred_on']}{valid}"
    what = f"「{level}」" + (f"（{grade}）" if grade and grade != level else "")
    if score is not None:
        what = f" {_number(score)} 分，等级{what}"
    valid = f"，有效期 {start or r['occurred_on']} 至 {until}" if until else ""
    return f"{issuer}于 {r['occurred_on']} 评定{names.item(r['item'])}为{what}{valid}"


def reason(r: dict[str, Any], text: str, names: RatingNames) -> str:
    """Why a record was left out, said of a rating: its validity, not a publication, ended."""
    if r.get("reason") == "publication period ended" and is_rating(r["item"], names):
        return "rating validity ended" if names.lang == "en" else "评价结果已过有效期"
    return text


def sentence(name: str, it: dict[str, Any], pts: str, names: RatingNames) -> str | None:
    """An indicator fed by a rating, in words; None when its records are no rating."""
    r = latest(it["records"])
    if r is None or not is_rating(r["item"], names):
        return None
    if names.lang == "en":
        return f"{name}: {phrase(r, names)}; {pts} points."
    return f"{name}：{phrase(r, names)}，得 {pts} 分。"


def behind(items: list[dict[str, Any]], overrides: list[dict[str, Any]], names: RatingNames) -> list[dict[str, Any]]:
    """Every rating behind the grade: the latest of each rated indicator and each
    rating an override fired on, once each, with the indicators and overrides it fed."""
    out: dict[int, dict[str, Any]] = {}

    def add(r: dict[str, Any], used: str) -> None:
        if not is_rating(r["item"], names):
            return
        row = out.get(int(r["id"]))
        if row is None:
            dept, _doc = names.records.get(int(r["id"]), (None, None))
            start, until = names.validity.get(int(r["id"]), (None, None))
            row = out[int(r["id"])] = {
                "record": int(r["id"]), "item": r["item"], "label": names.item(r["item"]),
                "issuer": dept, "issuer_name": names.department(dept), "level": r.get("grade"),
                "level_name": level_name(r["item"], r.get("grade"), names), "value": r.get("value"),
                "rated_on": r["occurred_on"], "valid_from": start, "valid_until": until,
                "description": phrase(r, names), "used_in": []}
        row["used_in"].append(used)

    for it in items:
        r = latest(it["records"])
        if r is not None:
            add(r, it["label"])
    for o in overrides:
        if o["triggered"]:
            for r in o["evidence"]:
                if "item" in r:
                    add(r, o["label"])
    return sorted(out.values(), key=lambda x: (x["item"], x["rated_on"]))


def _number(v: Any) -> str:
    text = str(v)
    return text[:-3] if text.endswith(".00") else text
