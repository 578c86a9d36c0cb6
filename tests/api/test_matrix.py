"""The role-and-scope matrix: every API endpoint called as every role, on SQLite and
PostgreSQL. A role without the permission is refused (401 for the public, 403 for
a signed-in role); a role with it is served; and for endpoints about one subject,
a subject outside the role's data scope answers 404 exactly like a missing one.

The expectations come from `security.scopes.PERMISSIONS`, the one table the
application enforces, and a test below fails when an endpoint has no row here."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from creditgov.security.scopes import PERMISSIONS, Role, Scope
from tests.api.county import IN_SCOPE, MODEL_FOR, OUT_OF_SCOPE, ROLES, County

_n = itertools.count()
# Who sees which of the mini county's subjects (1–8), by the accounts in county.py.
SCOPE = {"admin": set(range(1, 9)), "credit_office": set(range(1, 9)), "department_officer": {1, 2},
         "grid_worker": {3, 4, 7}, "inspector": {1, 2, 5, 6}, "bank_officer": {1, 2}, "subject": {1},
         "public": {1, 2, 3, 4}}


@dataclass(frozen=True)
class Endpoint:
    op: str
    method: str
    path: str  # {sid} = a subject, {uid}/{entry}/{check}/{serial} from the county
    permission: str | None  # None: open to anyone
    bound: bool = False  # about one subject: scope applies
    body: str | None = None  # name of a body builder below
    fixed: int | None = None  # about one fixed subject (the county's entry, check): 404 outside the scope
    names: bool = False  # the answer names subjects: every one must be in the role's reach


ENDPOINTS = [
    Endpoint("auth_me", "GET", "/auth/me", None),
    Endpoint("roles_list", "GET", "/roles", "users.manage"),
    Endpoint("users_list", "GET", "/users", "users.manage"),
    Endpoint("users_create", "POST", "/users", "users.manage", body="user"),
    Endpoint("tokens_list", "GET", "/users/{uid}/tokens", "users.manage"),
    Endpoint("tokens_create", "POST", "/users/{uid}/tokens", "users.manage", body="token"),
    Endpoint("tokens_revoke", "DELETE", "/tokens/999999", "users.manage"),
    # A missing account and consent: allowed callers get 404, the rest 401/403 (the real
    # effects are tested in test_consents_and_accounts.py, on accounts of their own).
    Endpoint("users_deactivate", "POST", "/users/999999/deactivate", "users.manage"),
    Endpoint("users_activate", "POST", "/users/999999/activate", "users.manage"),
    # Sign-in administration (issue 18) on a missing account and token: allowed callers get 404.
    Endpoint("users_password_reset", "POST", "/users/999999/password", "users.manage", body="reset"),
    Endpoint("users_unlock", "POST", "/users/999999/unlock", "users.manage"),
    Endpoint("users_totp_reset", "POST", "/users/999999/second-factor/reset", "users.manage"),
    Endpoint("tokens_rotate", "POST", "/tokens/999999/rotate", "users.manage"),
    Endpoint("consents_revoke", "DELETE", "/consents/999999", "consents.grant"),
    Endpoint("consents_list", "GET", "/consents", "consents.grant"),
    Endpoint("consents_grant", "POST", "/consents", "consents.grant", bound=True, body="consent"),
    Endpoint("audit_entries", "GET", "/audit/entries", "audit.read"),
    Endpoint("audit_verify", "GET", "/audit/verify", "audit.read"),
    Endpoint("subjects_search", "GET", "/subjects?q=长兴", "subjects.search"),
    Endpoint("subjects_file", "GET", "/subjects/{sid}?purpose=matrix", "subjects.read", bound=True),
    Endpoint("subjects_scores", "GET", "/subjects/{sid}/scores", "subjects.read", bound=True),
    Endpoint("subjects_explanation", "GET", "/subjects/{sid}/explanation?model={model}", "subjects.read",
             bound=True),
    Endpoint("regions_list", "GET", "/regions", "regions.read"),
    Endpoint("models_list", "GET", "/models", "models.read"),
    Endpoint("models_get", "GET", "/models/public-credit-enterprise", "models.read"),
    Endpoint("runs_list", "GET", "/runs", "runs.read"),
    Endpoint("catalog_items", "GET", "/catalog/items", "catalog.read"),
    Endpoint("catalog_item", "GET", "/catalog/items/market.penalty", "catalog.read"),
    Endpoint("catalog_requests", "GET", "/catalog/requests", "catalog.read"),
    # Data requests as a workflow (issue 19): an unknown item and a blank reason are refused
    # (422) before anything is filed or decided; a missing form answers 404 to its readers.
    Endpoint("data_request_forms", "GET", "/data-requests", "data_requests.read"),
    Endpoint("data_request_form", "GET", "/data-requests/999999", "data_requests.read"),
    Endpoint("data_request_file", "POST", "/data-requests", "data_requests.file", body="data_request"),
    Endpoint("data_request_decide", "POST", "/data-requests/items/999999/decision", "data_requests.decide",
             body="request_decision"),
    Endpoint("data_request_history", "GET", "/data-requests/items/999999/history", "data_requests.read"),
    # Manual entry: a bad check digit is refused (422) before anything is stored; a missing
    # entry answers 404 to those who may decide.
    Endpoint("manual_entries", "GET", "/manual-entries", "manual.read"),
    Endpoint("manual_entry_propose", "POST", "/manual-entries", "manual.propose", body="manual_entry"),
    Endpoint("manual_entry_decide", "POST", "/manual-entries/999999/decision", "manual.approve",
             body="manual_decision"),
    # Subject correction and merging: a self-merge and an unknown field are refused (422)
    # before anything is stored; a missing change answers 404 to those who may decide.
    Endpoint("subject_changes", "GET", "/subject-changes", "subject_changes.read"),
    Endpoint("subject_merge_propose", "POST", "/subject-changes/merges", "subject_changes.propose",
             body="subject_merge"),
    Endpoint("subject_correction_propose", "POST", "/subject-changes/corrections", "subject_changes.propose",
             body="subject_correction"),
    Endpoint("subject_change_decide", "POST", "/subject-changes/999999/decision", "subject_changes.approve",
             body="manual_decision"),
    Endpoint("subject_merge_undo", "POST", "/subject-changes/999999/undo", "subject_changes.approve",
             body="subject_undo"),
    Endpoint("ingest_batches", "GET", "/ingest/batches", "ingest.read"),
    Endpoint("ingest_quarantine", "GET", "/ingest/quarantine", "quarantine.read"),
    # A department's file sent in: without the form's spec and file, refused (422) before anything is kept.
    Endpoint("ingest_upload", "POST", "/ingest/files", "ingest.upload"),
    Endpoint("lists_list", "GET", "/lists", "lists.read"),
    Endpoint("lists_entries", "GET", "/lists/entries", "lists.read"),
    Endpoint("lists_entry", "GET", "/lists/entries/{entry}", "lists.read", fixed=1),
    Endpoint("measures_list", "GET", "/measures", "measures.read"),
    Endpoint("scenarios_list", "GET", "/scenarios", "measures.read"),
    Endpoint("checks_run", "POST", "/checks", "check.run", bound=True, body="check"),
    Endpoint("checks_get", "GET", "/checks/{check}", "check.run", fixed=1),
    Endpoint("checks_feedback", "POST", "/checks/{check}/feedback", "check.run", body="feedback", fixed=1),
    # Alerts and the inbox: the county's alert is about subject 1; message 999999 is nobody's.
    Endpoint("alerts_list", "GET", "/alerts?status=unresolved", "alerts.read"),
    Endpoint("alerts_get", "GET", "/alerts/{alert}", "alerts.read", fixed=1),
    Endpoint("alerts_acknowledge", "POST", "/alerts/{alert}/acknowledge", "alerts.handle", body="ack", fixed=1),
    Endpoint("alerts_comment", "POST", "/alerts/{alert}/comment", "alerts.handle", body="comment", fixed=1),
    Endpoint("alerts_resolve", "POST", "/alerts/{alert}/resolve", "alerts.handle", body="resolve", fixed=1),
    Endpoint("inbox_list", "GET", "/inbox", "inbox.read"),
    Endpoint("inbox_read", "POST", "/inbox/999999/read", "inbox.read"),
    # Supervision: the county's draw (of subject 1, the one enterprise) is seen by every reader of
    # supervision, its drawn subjects only in the reader's reach; its task is about subject 1.
    Endpoint("supervision_policies", "GET", "/supervision/policies", "supervision.read"),
    Endpoint("draws_list", "GET", "/supervision/draws", "supervision.read"),
    Endpoint("draws_create", "POST", "/supervision/draws", "supervision.draw", body="draw"),
    Endpoint("draws_get", "GET", "/supervision/draws/{draw}", "supervision.read", names=True),
    Endpoint("draws_verify", "GET", "/supervision/draws/{draw}/verify", "supervision.read"),
    Endpoint("tasks_list", "GET", "/supervision/tasks", "supervision.read", names=True),
    Endpoint("tasks_get", "GET", "/supervision/tasks/{task}", "supervision.read", fixed=1),
    Endpoint("tasks_result", "POST", "/supervision/tasks/{task}/result", "inspections.record", body="result", fixed=1),
    Endpoint("tasks_cancel", "POST", "/supervision/tasks/{task}/cancel", "supervision.draw", body="cancel", fixed=1),
    Endpoint("tasks_reassign", "POST", "/supervision/tasks/{task}/reassign", "supervision.draw", body="reassign",
             fixed=1),
    Endpoint("patrols_list", "GET", "/supervision/patrols", "supervision.read", names=True),
    Endpoint("patrols_assign", "POST", "/supervision/patrols/assign", "patrols.assign", body="patrol"),
    # Objection and repair: the county's objection (decided) and repair application (refused)
    # are about subject 1 and past every stage a call could move; {record} is the repair's
    # record, {material} the evidence file both cases carry.
    Endpoint("objections_list", "GET", "/objections", "objections.read"),
    Endpoint("objections_file", "POST", "/subjects/{sid}/objections", "objections.file", bound=True,
             body="objection"),
    Endpoint("objections_get", "GET", "/objections/{objection}", "objections.read", fixed=1),
    Endpoint("objections_materials", "POST", "/objections/{objection}/materials", "objections.file", fixed=1),
    Endpoint("objections_material", "GET", "/objections/{objection}/materials/{material}", "objections.read",
             fixed=1),
    Endpoint("objections_extend", "POST", "/objections/{objection}/extend", "objections.decide", body="blank",
             fixed=1),
    Endpoint("objections_decide", "POST", "/objections/{objection}/decision", "objections.decide",
             body="decision", fixed=1),
    Endpoint("objections_review", "POST", "/objections/{objection}/review", "objections.file", body="blank",
             fixed=1),
    Endpoint("objections_review_decide", "POST", "/objections/{objection}/review/decision", "objections.decide",
             body="decision", fixed=1),
    Endpoint("objections_withdraw", "POST", "/objections/{objection}/withdraw", "objections.file", body="blank",
             fixed=1),
    Endpoint("repairs_schedule", "GET", "/subjects/{sid}/repair-schedule", "repairs.read", bound=True),
    Endpoint("repairs_eligibility", "GET", "/records/{record}/repair-eligibility", "repairs.read", fixed=1),
    Endpoint("repairs_conditions_list", "GET", "/records/{record}/repair-conditions", "repairs.read", fixed=1),
    Endpoint("repairs_condition_record", "POST", "/records/{record}/repair-conditions", "repairs.conditions",
             body="condition", fixed=1),
    Endpoint("repairs_list", "GET", "/repairs?status=all", "repairs.read"),
    Endpoint("repairs_apply", "POST", "/records/{record}/repairs", "repairs.apply", body="repair", fixed=1),
    Endpoint("repairs_get", "GET", "/repairs/{repair}", "repairs.read", fixed=1),
    Endpoint("repairs_materials", "POST", "/repairs/{repair}/materials", "repairs.apply", fixed=1),
    Endpoint("repairs_material", "GET", "/repairs/{repair}/materials/{material}", "repairs.read", fixed=1),
    Endpoint("repairs_forward", "POST", "/repairs/{repair}/forward", "repairs.decide", fixed=1),
    Endpoint("repairs_reject", "POST", "/repairs/{repair}/reject", "repairs.decide", body="blank", fixed=1),
    Endpoint("repairs_approve", "POST", "/repairs/{repair}/approve", "repairs.decide", body="approve", fixed=1),
    Endpoint("own_view", "GET", "/me/credit", "own.view"),
    Endpoint("exchange_outbox", "GET", "/exchange/outbox?status=all", "exchange.read"),
    # The exchange (issue 17): the inbox is open (a package's signature authenticates its
    # sender; an empty body is refused with 422), and so are the pull feed and its
    # acknowledgements (unsigned: 422); the county has no peers, so a run is empty.
    Endpoint("exchange_inbox", "POST", "/exchange/inbox", None, body="blank"),
    Endpoint("exchange_feed", "GET", "/exchange/feed", None),
    Endpoint("exchange_ack", "POST", "/exchange/acks", None, body="blank"),
    Endpoint("exchange_status", "GET", "/exchange/status", "exchange.read"),
    Endpoint("exchange_identity", "GET", "/exchange/identity", "exchange.read"),
    Endpoint("exchange_packages", "GET", "/exchange/packages", "exchange.read"),
    Endpoint("exchange_package", "GET", "/exchange/packages/1", "exchange.read"),
    Endpoint("exchange_peers", "GET", "/exchange/peers", "exchange.read"),
    Endpoint("exchange_peer_add", "POST", "/exchange/peers", "exchange.manage", body="blank"),
    Endpoint("exchange_run", "POST", "/exchange/run", "exchange.manage"),
    Endpoint("bureau_runs", "GET", "/bureaus/runs", "bureaus.read"),
    # An unknown bureau: the permission is checked first, then the service refuses (422),
    # so the matrix writes no export file.
    Endpoint("bureau_run_start", "POST", "/bureaus/no-such/runs", "bureaus.manage"),
    Endpoint("bureau_run_ack", "POST", "/bureaus/no-such/runs/1/ack", "bureaus.manage"),
    # Commitments: the county's is subject 1's signed self-commitment, verified by market; signing
    # without agreeing and a breach without a note are refused (422) before anything changes.
    Endpoint("commitment_templates", "GET", "/commitment-templates", "commitments.read"),
    Endpoint("commitments_list", "GET", "/commitments?status=all", "commitments.read"),
    Endpoint("commitments_get", "GET", "/commitments/{commitment}", "commitments.read", fixed=1),
    Endpoint("commitments_sign", "POST", "/subjects/{sid}/commitments", "commitments.sign", bound=True,
             body="sign"),
    Endpoint("commitments_verify", "POST", "/commitments/{commitment}/verification", "commitments.verify",
             body="verify", fixed=1),
    Endpoint("analysis_distribution", "GET", "/analysis/distribution?what=colour&by=grid", "analysis.read"),
    Endpoint("analysis_trend", "GET", "/analysis/trend?model=public-credit-enterprise", "analysis.read"),
    Endpoint("analysis_grid_risk", "GET", "/analysis/grid-risk?months=12", "analysis.read"),
    Endpoint("analysis_clusters", "GET", "/analysis/clusters?hops=2", "analysis.read"),
    Endpoint("statistics_form", "GET", "/statistics/form?period=2026-10", "statistics.read"),
    Endpoint("statistics_form_xlsx", "GET", "/statistics/form.xlsx?period=2026Q4", "statistics.read"),
    Endpoint("statistics_form_pdf", "GET", "/statistics/form.pdf?period=2026-10&lang=en", "statistics.read"),
    # Campaigns: a period that ends before it starts is refused (422) before anything is stored;
    # a missing campaign answers 404 to those who may read or manage campaigns.
    Endpoint("campaigns_list", "GET", "/supervision/campaigns", "campaigns.read"),
    Endpoint("campaigns_create", "POST", "/supervision/campaigns", "campaigns.manage", body="campaign"),
    Endpoint("campaigns_get", "GET", "/supervision/campaigns/999999", "campaigns.read"),
    Endpoint("campaigns_summary_xlsx", "GET", "/supervision/campaigns/999999/summary.xlsx", "campaigns.read"),
    Endpoint("campaigns_targets", "POST", "/supervision/campaigns/999999/targets", "campaigns.manage",
             body="campaign_targets"),
    Endpoint("campaigns_tasks", "POST", "/supervision/campaigns/999999/tasks", "campaigns.manage",
             body="campaign_tasks"),
    Endpoint("campaigns_close", "POST", "/supervision/campaigns/999999/close", "campaigns.manage",
             body="campaign_close"),
    Endpoint("reports_download", "GET", "/subjects/{sid}/report.pdf", "report.download", bound=True),
    Endpoint("reports_verify", "GET", "/reports/{serial}", None),
    Endpoint("overview_get", "GET", "/overview", "dashboard.view"),
    Endpoint("public_firms", "GET", "/public/firms?q=长兴", "public.query"),
    Endpoint("public_firm", "GET", "/public/firms/{sid}", "public.query", bound=True, fixed=1),
    Endpoint("public_lists", "GET", "/public/lists", "public.query"),
    Endpoint("public_boards", "GET", "/public/boards", "public.query"),
    Endpoint("public_recommended", "GET", "/public/recommended/recommended-homestays", "public.query"),
    # Credit points (issue 15): a proposed award is harmless (credited only when approved);
    # the rest are refused before anything changes (a redemption without its
    # Idempotency-Key header, an offer ending before it starts, a malformed code: 422;
    # a missing redemption or award: 404).
    Endpoint("points_balance", "GET", "/points/subjects/{sid}", "points.read", bound=True),
    Endpoint("points_offers", "GET", "/points/offers", "offers.read"),
    Endpoint("points_shops", "GET", "/points/shops", "offers.read"),
    Endpoint("points_shop_add", "POST", "/points/shops", "shops.manage", body="shop"),
    Endpoint("points_offer_add", "POST", "/points/offers", "shops.manage", body="offer"),
    Endpoint("points_settlement", "GET", "/points/settlement?month=2026-11", "shops.manage"),
    Endpoint("points_redeem", "POST", "/points/redemptions", "points.redeem", body="redeem"),
    Endpoint("points_confirm", "POST", "/points/redemptions/confirm", "points.confirm", body="code"),
    Endpoint("points_cancel", "POST", "/points/redemptions/999999/cancel", "points.redeem"),
    Endpoint("points_award", "POST", "/points/awards", "points.award", bound=True, body="award"),
    Endpoint("points_award_approve", "POST", "/points/awards/999999/approve", "points.approve"),
    Endpoint("points_award_reject", "POST", "/points/awards/999999/reject", "points.approve"),
    # The public boards' opt-in is a resident's own choice (opting out is the default state);
    # the credit-merchant selections: opening one without a title is refused (422) before a
    # round is drawn, and a missing round answers 404 to those who may read it.
    Endpoint("points_board_opt_in", "PUT", "/points/board-opt-in", "points.own", body="opt_out"),
    Endpoint("points_selections", "GET", "/points/selections", "awards.comment"),
    Endpoint("points_selection_open", "POST", "/points/selections", "awards.manage", body="selection"),
    Endpoint("points_selection", "GET", "/points/selections/no-such-selection", "awards.comment"),
    Endpoint("points_selection_nominate", "POST", "/points/selections/no-such-selection/nominations",
             "awards.comment", body="candidate_note"),
    Endpoint("points_selection_object", "POST", "/points/selections/no-such-selection/objections",
             "awards.comment", body="candidate_note"),
    Endpoint("points_selection_decide", "POST", "/points/selections/no-such-selection/decision", "awards.manage",
             body="selection_decision"),
    Endpoint("public_screen", "GET", "/public/screen", "public.query"),
    Endpoint("public_selection", "GET", "/public/selections/no-such-selection", "public.query"),
    # The credit code: issued for the subject (scope applies); verification is open to anyone
    # (a malformed code is answered, not refused); a code id issued nowhere answers 404.
    Endpoint("codes_issue", "POST", "/codes", "code.issue", bound=True, body="code_issue"),
    Endpoint("codes_verify", "POST", "/codes/verify", None, body="code_verify"),
    Endpoint("codes_revoke", "POST", "/codes/0000000000999999/revoke", "code.manage", body="code_revoke"),
    Endpoint("codes_sweep", "POST", "/codes/revocations/sweep", "code.manage"),
    # Complaints: an unknown category is refused (422) before anything is filed, from the
    # public page (open to anyone) or the office; a missing complaint answers 404.
    Endpoint("complaints_file_public", "POST", "/public/complaints", None, body="complaint"),
    Endpoint("complaints_status", "GET", "/public/complaints/TS20260101-99999?code=matrix", None),
    Endpoint("complaints_file_office", "POST", "/complaints", "complaints.file", body="complaint"),
    Endpoint("complaints_list", "GET", "/complaints", "complaints.read"),
    Endpoint("complaints_stats", "GET", "/complaints/stats", "complaints.read"),
    Endpoint("complaints_get", "GET", "/complaints/999999", "complaints.read"),
    Endpoint("complaints_assign", "POST", "/complaints/999999/assign", "complaints.assign",
             body="complaint_assign"),
    Endpoint("complaints_reply", "POST", "/complaints/999999/reply", "complaints.reply", body="complaint_reply"),
    # A special supervisor's observations (no role of the matrix county is one: refused to all).
    Endpoint("complaints_observe", "POST", "/supervisor/observations", "complaints.observe", body="complaint"),
    Endpoint("complaints_observations", "GET", "/supervisor/observations", "complaints.observe"),
    # 信易贷: the county's bank officer's organisation is no registered bank (404 from the
    # service), and the ids below exist nowhere (404), so nothing is created but a bank.
    Endpoint("finance_bank_add", "POST", "/finance/banks", "finance.banks.manage", body="fin_bank"),
    Endpoint("finance_banks", "GET", "/finance/banks", "finance.products.read"),
    Endpoint("finance_products", "GET", "/finance/products", "finance.products.read"),
    Endpoint("finance_product_add", "POST", "/finance/products", "finance.bank", body="fin_product"),
    Endpoint("finance_product_submit", "POST", "/finance/products/999999/submit", "finance.bank"),
    Endpoint("finance_product_withdraw", "POST", "/finance/products/999999/withdraw", "finance.bank"),
    Endpoint("finance_product_decide", "POST", "/finance/products/999999/decision", "finance.approve",
             body="fin_decide"),
    Endpoint("finance_need_post", "POST", "/finance/needs", "finance.need", body="fin_need"),
    Endpoint("finance_needs", "GET", "/finance/needs", "finance.need"),
    Endpoint("finance_need_withdraw", "POST", "/finance/needs/999999/withdraw", "finance.need"),
    Endpoint("finance_need_matches", "GET", "/finance/needs/999999/matches", "finance.need"),
    Endpoint("finance_consent_grant", "POST", "/finance/needs/999999/consents", "finance.need",
             body="fin_consent"),
    Endpoint("finance_consent_revoke", "DELETE", "/finance/consents/999999", "finance.need"),
    Endpoint("finance_apply", "POST", "/finance/needs/999999/applications", "finance.need", body="fin_apply"),
    Endpoint("finance_my_loans", "GET", "/finance/loans/mine", "finance.need"),
    Endpoint("finance_bank_matches", "GET", "/finance/matches", "finance.bank"),
    Endpoint("finance_need_file", "GET", "/finance/needs/999999/file", "finance.bank"),
    Endpoint("finance_applications", "GET", "/finance/applications", "finance.bank"),
    Endpoint("finance_application_decide", "POST", "/finance/applications/999999/decision", "finance.bank",
             body="fin_decline"),
    Endpoint("finance_bank_loans", "GET", "/finance/loans", "finance.bank"),
    Endpoint("finance_repay", "POST", "/finance/loans/999999/repayments", "finance.bank", body="fin_repay"),
    Endpoint("finance_loan_status", "POST", "/finance/loans/999999/status", "finance.bank", body="fin_status"),
    Endpoint("finance_fund_claim", "POST", "/finance/loans/999999/claim", "finance.bank"),
    Endpoint("finance_fund_review", "POST", "/finance/fund/claims/999999/review", "finance.approve",
             body="fin_decide"),
    Endpoint("finance_fund_pay", "POST", "/finance/fund/claims/999999/pay", "finance.approve"),
    Endpoint("finance_fund_deposit", "POST", "/finance/fund/deposits", "finance.approve", body="fin_deposit"),
    Endpoint("finance_fund", "GET", "/finance/fund", "finance.read"),
    Endpoint("finance_statistics", "GET", "/finance/statistics", "finance.read"),
]
# Sign-in and sign-out are exercised in test_auth.py, not per role; the steps of a
# password sign-in (second factor, enrolment, own password) belong to a browser session,
# not a role, and are exercised in tests/security/.
# 信易贷 endpoints called with ids that exist nowhere, or as a bank officer whose
# organisation is no registered bank: 404 from the service after the permission passed.
FINANCE_MISSING = {"finance_product_add", "finance_product_submit", "finance_product_withdraw",
                   "finance_product_decide", "finance_need_withdraw", "finance_need_matches",
                   "finance_consent_grant", "finance_consent_revoke", "finance_apply", "finance_need_file",
                   "finance_application_decide", "finance_repay", "finance_loan_status", "finance_fund_claim",
                   "finance_fund_review", "finance_fund_pay"}
NOT_IN_MATRIX = {"auth_login", "auth_logout", "auth_second_factor", "auth_totp_enrol", "auth_totp_confirm",
                 "auth_password_change"}


def _body(kind: str | None, sid: int) -> dict | None:
    n = next(_n)
    return {
        None: None,
        "user": {"username": f"m-{n}", "password": "long enough pw", "role": "credit_office"},
        "token": {"name": f"m-{n}"},
        "reset": {},
        "consent": {"subject_id": sid, "organisation": "other-bank", "purpose": "matrix"},
        "check": {"scenario": "administrative-approval", "subject_id": sid},
        "feedback": {"measure": "no-such-measure", "applied": True},
        "ack": {"note": "matrix"},
        "comment": {"note": "matrix"},
        "resolve": {"resolution": "matrix"},
        "draw": {"policy": "lindian-enterprise", "create_tasks": False},
        "result": {"outcome": "passed"},
        "cancel": {"reason": "matrix"},
        "reassign": {"assignees": [" "], "reason": "matrix"},  # nobody named: refused (422), nothing moves
        "patrol": {"grid": "CX-S01-G01"},
        # A blank reason or no record: the workflow services refuse (422) before moving anything.
        "objection": {"record_ids": [], "reason": "matrix"},
        "blank": {"reason": " "},
        "decision": {"outcome": "upheld", "reason": " "},
        "repair": {"applicant": "matrix"},
        # A training needs its name: refused (422) for every role before anything is recorded,
        # so subject 1's serious penalty keeps its missing conditions.
        "condition": {"kind": "training", "note": " "},
        "approve": {"reason": "matrix"},
        "sign": {"template": "industry-self-discipline", "agree": False},
        "verify": {"outcome": "breached", "note": " "},
        "shop": {"code": f"matrix-{n}", "name": "matrix shop"},
        "offer": {"shop": "matrix-0", "title": "matrix", "price": 1, "stock": 1, "valid_from": "2026-11-02",
                  "valid_until": "2026-11-01"},
        "redeem": {"offer_id": 999999},
        "data_request": {"department": "market", "items": ["market.no-such-item"], "legal_basis": "matrix",
                         "purpose": "matrix", "frequency": "monthly"},
        "request_decision": {"decision": "approved", "reason": ""},
        "manual_entry": {"department": "market", "fields": {"identifier": "91330522MA2B000100", "item":
                                                            "market.penalty", "occurred_on": "2026-01-01"},
                         "reason": "matrix"},
        "manual_decision": {"approve": True},
        "subject_merge": {"survivor_id": 1, "duplicate_id": 1, "reason": "matrix"},
        "subject_correction": {"subject_id": 1, "fields": {"status": "matrix"}, "reason": "matrix"},
        "subject_undo": {"reason": "matrix"},
        "code": {"code": "x"},
        "award": {"subject_id": sid, "points": 10, "reason": "matrix"},
        "opt_out": {"opted_in": False},
        "selection": {"code": f"matrix-{n}", "title": " "},
        "candidate_note": {"subject_id": sid, "text": "matrix"},
        "selection_decision": {"decision_no": "matrix"},
        "code_issue": {"subject_id": sid},
        "code_verify": {"text": "matrix"},
        "code_revoke": {"reason": "manual"},
        "complaint": {"category": "no-such-category", "respondent_name": "matrix", "content": "matrix complaint"},
        "complaint_assign": {"department": "market", "note": "matrix"},
        "complaint_reply": {"outcome": "unsubstantiated", "reply": "matrix"},
        "fin_bank": {"code": f"m-bank-{n}", "name": "matrix bank"},
        "fin_product": {"code": f"m-{n}", "name": "matrix", "kinds": ["enterprise"], "amount_min": "1",
                        "amount_max": "2", "term_min": 1, "term_max": 2, "rate_min": "1", "rate_max": "2"},
        "fin_decide": {"approve": True},
        # A term of 0 months: refused (422) before a need is made.
        "fin_need": {"amount": "1", "term_months": 0, "purpose": "matrix", "contact_name": "m",
                     "contact_phone": "13800000000"},
        "fin_consent": {"bank": "test-bank"},
        "fin_apply": {"product_id": 999999},
        "fin_decline": {"approve": False, "decline_code": "outside_policy"},
        "fin_repay": {"ref": "m", "paid_on": "2026-11-01", "amount": "1"},
        "fin_status": {"on": "2026-11-01", "overdue_days": 0},
        "fin_deposit": {"amount": "0", "note": "matrix"},
        "campaign": {"code": f"matrix-{n}", "title": "matrix", "policy": "lindian-enterprise", "basis": "matrix",
                     "starts_on": "2026-11-30", "ends_on": "2026-11-01"},
        "campaign_targets": {"source": "list", "lists": ["serious-dishonesty"]},
        "campaign_tasks": {"assignees": []},
        "campaign_close": {"cancel_open": False},
    }[kind]


def _call(client: TestClient, county: County, role: str, ep: Endpoint, sid: int) -> int:
    return _response(client, county, role, ep, sid).status_code


def _response(client: TestClient, county: County, role: str, ep: Endpoint, sid: int) -> Response:
    path = ep.path.format(sid=sid, uid=county.user_ids["admin"], entry=county.entry_id, check=county.check_id,
                          serial=county.report_serial, model=MODEL_FOR.get(sid, "public-credit-enterprise"),
                          alert=county.alert_id, draw=county.draw_id, task=county.task_id,
                          objection=county.objection_id, repair=county.repair_id, record=county.repair_record_id,
                          material=county.material_sha256, commitment=county.commitment_id)
    headers = {"Authorization": f"Bearer {county.tokens[role]}"} if role != "public" else {}
    r = client.request(ep.method, "/api/v1" + path, headers=headers, json=_body(ep.body, sid))
    assert r.status_code < 500, f"{role} {ep.method} {path}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    return r


def _reach(role: str, ep: Endpoint) -> set[int]:
    """The subjects `role` reaches through this endpoint's permission."""
    if ep.permission == "public.query":
        return SCOPE["public"]
    if ep.permission and PERMISSIONS[ep.permission].get(Role(role)) is Scope.ALL:
        return SCOPE["admin"]
    return SCOPE[role]


def _allowed(role: str, ep: Endpoint) -> bool:
    return ep.permission is None or Role(role) in PERMISSIONS[ep.permission]


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_as_every_role(client: TestClient, county: County, role: str) -> None:
    failures = []
    for ep in ENDPOINTS:
        sid = ep.fixed or IN_SCOPE[role]
        status = _call(client, county, role, ep, sid)
        reach = _reach(role, ep)
        if _allowed(role, ep) and ep.fixed and ep.fixed not in reach:
            if status != 404:
                failures.append(f"{ep.op}: subject {ep.fixed} is outside {role}'s scope, got {status}")
        elif _allowed(role, ep):
            if status in (401, 403):
                failures.append(f"{ep.op}: allowed for {role} but got {status}")
            # A store-specific refusal (e.g. feedback on a measure the check did not return)
            # is a 422 from the service, never a scope or permission answer.
            elif status == 404 and ep.op not in FINANCE_MISSING and ep.op not in ("tokens_revoke", "inbox_read", "users_deactivate", "users_activate",
                                                 "consents_revoke", "users_password_reset", "users_unlock",
                                                 "users_totp_reset", "tokens_rotate", "points_cancel",
                                                 "points_award_approve", "points_award_reject",
                                                 "exchange_package", "data_request_form",
                                                 "data_request_history", "manual_entry_decide",
                                                 "subject_change_decide", "subject_merge_undo",
                                                 "points_selection", "points_selection_nominate",
                                                 "points_selection_object", "points_selection_decide",
                                                 "public_selection", "codes_revoke", "complaints_status",
                                                 "complaints_get", "complaints_assign", "complaints_reply",
                                                 "campaigns_get", "campaigns_summary_xlsx", "campaigns_targets",
                                                 "campaigns_tasks", "campaigns_close"):
                failures.append(f"{ep.op}: in-scope subject {sid} answered 404 for {role}")
        else:
            want = 401 if role == "public" else 403
            if status != want:
                failures.append(f"{ep.op}: refused for {role} should be {want}, got {status}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", [r for r in ROLES if OUT_OF_SCOPE[r] is not None])
def test_subjects_outside_the_scope_are_not_found(client: TestClient, county: County, role: str) -> None:
    failures = []
    for ep in ENDPOINTS:
        if not ep.bound or ep.fixed or not _allowed(role, ep):
            continue
        sid = OUT_OF_SCOPE[role]
        assert sid is not None
        status = _call(client, county, role, ep, sid)
        if sid in _reach(role, ep):
            if status in (401, 403, 404):  # e.g. a department checks any subject
                failures.append(f"{ep.op}: subject {sid} is in {role}'s reach here, got {status}")
        elif status != 404:
            failures.append(f"{ep.op}: subject {OUT_OF_SCOPE[role]} is outside {role}'s scope, got {status}")
    assert not failures, "\n".join(failures)


def _subject_ids(doc: object) -> set[int]:
    """Every `subject_id` anywhere in a JSON answer."""
    if isinstance(doc, dict):
        own = {doc["subject_id"]} if isinstance(doc.get("subject_id"), int) else set()
        return own.union(*(_subject_ids(v) for v in doc.values()))
    if isinstance(doc, list):
        return set().union(*(_subject_ids(v) for v in doc))
    return set()


@pytest.mark.parametrize("role", ROLES)
def test_answers_name_only_subjects_in_reach(client: TestClient, county: County, role: str) -> None:
    """An answer that lists subjects lists only those in the role's reach: a grid worker
    once read a supervision draw naming subjects outside the grid (allowed endpoint,
    wrong content), which the status checks above cannot see."""
    failures = []
    for ep in ENDPOINTS:
        if not ep.names or not _allowed(role, ep):
            continue
        r = _response(client, county, role, ep, IN_SCOPE[role])
        assert r.status_code == 200, f"{ep.op} as {role}: {r.status_code}"
        leaked = _subject_ids(r.json()) - _reach(role, ep)
        if leaked:
            failures.append(f"{ep.op}: names subjects {sorted(leaked)} outside {role}'s reach")
    assert not failures, "\n".join(failures)


# Pages that list subjects, with the permission that opens them: called as every role with
# its token, they name no subject outside the role's reach (by name, credit code or link).
PAGES = [("/supervision/draws/{draw}", "supervision.read"), ("/supervision", "supervision.read")]


@pytest.mark.parametrize("role", ROLES)
def test_pages_name_only_subjects_in_reach(client: TestClient, county: County, role: str) -> None:
    from sqlalchemy import select

    from creditgov.core import db
    from creditgov.subjects.models import Subject

    with db.session_scope(county.url) as s:
        marks = {i: [n, u] for i, n, u in s.execute(select(Subject.id, Subject.name, Subject.uscc))}
    headers = {"accept": "text/html"} | ({"Authorization": f"Bearer {county.tokens[role]}"} if role != "public" else {})
    failures = []
    for path, permission in PAGES:
        r = client.get(path.format(draw=county.draw_id), headers=headers)
        if Role(role) not in PERMISSIONS[permission]:
            want = 303 if role == "public" else 403  # the public is sent to sign in
            if r.status_code != want:
                failures.append(f"{path}: refused for {role} should be {want}, got {r.status_code}")
            continue
        if r.status_code != 200:
            failures.append(f"{path}: allowed for {role} but got {r.status_code}")
            continue
        reach = SCOPE["admin"] if PERMISSIONS[permission][Role(role)] is Scope.ALL else SCOPE[role]
        for sid, (name, uscc) in marks.items():
            shown = [m for m in (name, uscc, f'href="/subjects/{sid}"') if m and m in r.text]
            if sid not in reach and shown:
                failures.append(f"{path}: {role} sees subject {sid} outside the scope ({shown[0]})")
    assert not failures, "\n".join(failures)


def test_search_returns_only_the_scope(client: TestClient, county: County) -> None:
    """The same query, different answers: each role's search is its scope."""
    seen = {}
    for role in ROLES[:-1]:
        r = client.get("/api/v1/subjects?limit=100", headers={"Authorization": f"Bearer {county.tokens[role]}"})
        seen[role] = {s["id"] for s in r.json()["items"]}
    # department: the market department's records; grid: CX-S02-G01 and below;
    # inspector: CX-S01 and below; bank: consented to test-bank; subject: itself.
    assert seen == {r: SCOPE[r] for r in ROLES[:-1]}
    r = client.get("/api/v1/public/firms?q=长兴")
    assert {s["id"] for s in r.json()["items"]} == SCOPE["public"]  # firms only, never residents


def test_every_api_route_is_in_the_matrix(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    ops = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    covered = {e.op for e in ENDPOINTS} | NOT_IN_MATRIX
    assert ops == covered, f"missing from the matrix: {ops - covered}; stale: {covered - ops}"
