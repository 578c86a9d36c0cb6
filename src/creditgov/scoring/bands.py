"""The shared bands every model's grades map to (excellent / good / fair / poor).

Grade labels mean different things in different models: an A resident of the
community model scores no more than the base every resident starts from, an A
enterprise of the public credit evaluation is in SAMR's low-risk class, and a
homestay's best grade is 优. A measure that fired on a label letter for letter missed
whole groups of subjects, so measures read bands instead: "band at least good" holds
for every grade any model puts in excellent or good. The four bands follow SAMR's
four enterprise credit-risk classes (国市监信发〔2022〕6号: A low, B average, C fairly
high, D high risk); each model says which band each of its grades is in and on what
basis (`bands_basis`: a citation, or the local choice stated as such).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

BandName = Literal["excellent", "good", "fair", "poor"]

#: Best first: a band's rank is its index.
BANDS: tuple[BandName, ...] = ("excellent", "good", "fair", "poor")

#: Words for people, Chinese and English (a band's name, capitalised like every label).
LABELS: dict[str, tuple[str, str]] = {
    "excellent": ("优秀(守信)", "Excellent"),
    "good": ("良好(基本守信)", "Good"),
    "fair": ("一般(警示)", "Fair"),
    "poor": ("较差(失信)", "Poor"),
}

CITATION = ("国家市场监督管理总局 国市监信发〔2022〕6号: 企业信用风险分为 A 类(低)、B 类(一般)、"
            "C 类(较高)、D 类(高)四类 — the four shared bands")


def rank(band: str) -> int:
    """0 for excellent … 3 for poor."""
    return BANDS.index(band)  # an unknown name raises ValueError


def at_least(band: str, floor: str) -> bool:
    """`band` is `floor` or better."""
    return rank(band) <= rank(floor)


def at_most(band: str, ceiling: str) -> bool:
    """`band` is `ceiling` or worse."""
    return rank(band) >= rank(ceiling)


class _Graded(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def band(self) -> str | None: ...


def check_grade_bands(grades: Sequence[_Graded], basis: str | None) -> None:
    """Either every grade names its band or none does; bands never get better as the
    grades get worse; bands need their basis. Raises ValueError (the model's validator
    turns it into file:line: field)."""
    named = [g for g in grades if g.band is not None]
    if not named:
        if basis is not None:
            raise ValueError("bands_basis is given but no grade names its band")
        return
    missing = [g.label for g in grades if g.band is None]
    if missing:
        raise ValueError(f"every grade names its band, or none does: {missing} do not")
    if not (basis and basis.strip()):
        raise ValueError("grades mapped to bands need `bands_basis`: the citation, or the local choice stated as such")
    for better, worse in zip(grades, grades[1:], strict=False):
        if rank(worse.band or "") < rank(better.band or ""):
            raise ValueError(f"grade {worse.label} ({worse.band}) is below {better.label} ({better.band}) "
                             "but in a better band")
