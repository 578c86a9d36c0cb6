"""The REST API's shapes for regional analysis (analysis/views.py), as the service's
dicts give them: dates are ISO strings, amounts decimal strings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

What = Literal["grade", "colour", "alerts", "inspections"]
By = Literal["street", "grid", "industry", "kind"]


class GroupRow(BaseModel):
    group: str = Field(description="The street's or grid's code, the industry or the kind.")
    name: str
    counts: dict[str, int] = Field(description="Subjects (or alerts, inspections) per category.")
    total: int


class RecordsRead(BaseModel):
    """What read the records or scores: `store` (its SQL), or `duckdb`/`spark` over the
    record segments (how many, their rows, and the rows newer than them read from the
    store) or over the runs' score copies (`score_runs`)."""
    engine: str
    segments: int = 0
    segment_rows: int = 0
    fresh_rows: int = 0
    secret_items: list[str] = []
    score_runs: int = 0
    reason: str | None = None    # why the store answered although the segments were asked


class DistributionOut(BaseModel):
    what: What
    by: By
    model: str | None = None
    run_id: int | None = None
    as_of: str | None = None
    since: str | None = None
    categories: list[str]
    rows: list[GroupRow]
    totals: dict[str, int]
    total: int
    read: RecordsRead | None = Field(None, description="What read the grades (colours, alerts and inspections "
                                     "are always the store's).")


class GroupMean(BaseModel):
    name: str
    mean_score: float


class TrendPoint(BaseModel):
    run_id: int
    as_of: str
    subjects: int = Field(description="Subjects in your scope scored by the run.")
    grades: dict[str, int]
    shares: dict[str, float]
    mean_score: float | None
    groups: dict[str, GroupMean] | None = None


class TrendOut(BaseModel):
    model: str
    by: By | None
    grades: list[str]
    runs: list[TrendPoint] = Field(description="Published runs, oldest first; empty when none is published yet.")
    read: RecordsRead | None = None


class GridRiskRow(BaseModel):
    grid: str
    name: str
    street: str
    subjects: int
    loans: int
    loan_amount: str
    overdue_loans: int
    overdue_subjects: int
    arrears_records: int
    arrears_subjects: int
    bills: int
    late_bills: int
    red: int
    open_alerts: int
    arrears_share: float
    late_bill_share: float
    overdue_loan_share: float
    red_share: float
    risk_index: float = Field(description="0–100: the weighted shares in `weights`.")


class GridRiskOut(BaseModel):
    on: str
    months: int
    weights: dict[str, float]
    rows: list[GridRiskRow]
    read: RecordsRead
