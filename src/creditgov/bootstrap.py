"""The composition root: the one place that knows every domain.

Each domain is one `Domain` entry below, naming by module path (imported only when
asked for) its tables, its API routers, its page routers, its CLI apps, the shipped
policy files `creditgov init` loads, its worker jobs and the seams it plugs into
another domain. The edges ask this module and nothing else: the application factory
(`api/app.py`) for routers and pages, the `creditgov` command (`cli/main.py`) for
commands, `init` for policies, the worker for jobs, Alembic for the tables. `core`
knows no domain, and no domain registers itself into another at import time: the one
cross-domain seam (alerts feeding the credit check its open warnings) is wired by
`wire()`, which every entry point calls.

Adding a domain means a folder of its own and one `Domain(...)` line here
(docs/architecture.md, "Adding a domain"). Names are strings so that a command such
as `creditgov --version` imports only what it runs; `tests/test_bootstrap.py` imports
every name and checks that nothing on disk is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Command:
    """What `creditgov` mounts: `ref` is `module:attribute` of a Typer app (under
    `name`, or with no `name` its commands merged into the root, as `creditgov
    evaluate`) or of one command function, registered as the command `name`."""

    ref: str
    name: str | None = None


@dataclass(frozen=True)
class Seam:
    """A function of one domain registered into another's hook at start-up:
    `register(provider)` with both given as `module:attribute`."""

    register: str
    provider: str


EDGE = 99  # the layer of the edges (commands, API, pages, worker, demo), above every domain


@dataclass(frozen=True)
class Domain:
    """One domain's contributions, each by module path (see the module docstring).

    `layer` places the domain's services in the import order the build enforces
    (`scripts/import_contracts.py` turns it into import-linter's contracts): a layer
    never imports a higher one, domains on the same layer never import each other, and
    `EDGE` is the edges' layer. The package is `creditgov.<name>`."""

    name: str
    layer: int
    models: tuple[str, ...] = ()
    api: tuple[str, ...] = ()          # `module:attribute` of an APIRouter
    pages: tuple[str, ...] = ()        # modules exposing `router`, mounted at the root
    commands: tuple[Command, ...] = ()
    policies: tuple[tuple[str, str], ...] = ()   # (key in `init`'s answer, `module:loader(session)`)
    jobs: tuple[tuple[str, str], ...] = ()       # (job name, `module:function(url) -> dict`)
    seams: tuple[Seam, ...] = ()
    # `module:attribute` of the domain's own permission rows (permission -> role ->
    # scope), added to `security.scopes.PERMISSIONS` by `wire()`.
    permissions: str | None = None
    # The domain's menu entries: (href, Chinese label, permission that shows it).
    nav: tuple[tuple[str, str, str], ...] = ()


# In dependency order: a domain's policies may name what an earlier one loaded (the
# lists name catalogue items), and API routers and pages are mounted in this order.
DOMAINS: tuple[Domain, ...] = (
    Domain("security", layer=1,
           models=("creditgov.security.models", "creditgov.security.accounts"),
           api=("creditgov.security.views:router",),
           jobs=(("request_keys", "creditgov.security.jobs:request_keys"),),
           commands=(Command("creditgov.security.cli:app", "audit"),
                     Command("creditgov.security.users_cli:app", "users"),
                     Command("creditgov.security.users_cli:consent_app", "consent"))),
    Domain("catalog", layer=2,
           models=("creditgov.catalog.models",),
           api=("creditgov.catalog.views:router",),
           pages=("creditgov.catalog.pages",),
           commands=(Command("creditgov.catalog.cli:app", "catalog"),),
           policies=(("catalog", "creditgov.catalog.service:load_catalog"),),
           permissions="creditgov.catalog.permissions:PERMISSIONS",
           nav=(("/data-requests", "数据申请", "data_requests.read"),)),
    Domain("subjects", layer=2,
           models=("creditgov.subjects.models",),
           api=("creditgov.subjects.views:router",),
           pages=("creditgov.subjects.pages",),
           commands=(Command("creditgov.subjects.cli:app", "subject"),),
           permissions="creditgov.subjects.permissions:PERMISSIONS",
           nav=(("/subject-changes", "主体纠错与合并", "subject_changes.read"),)),
    Domain("records", layer=2, models=("creditgov.records.models",)),
    Domain("ingest", layer=3,
           models=("creditgov.ingest.models",),
           api=("creditgov.ingest.views:router",),
           pages=("creditgov.ingest.pages",),
           permissions="creditgov.ingest.permissions:PERMISSIONS",
           nav=(("/entries", "人工录入", "manual.read"),),
           commands=(Command("creditgov.ingest.cli:app", "ingest"),
                     Command("creditgov.ingest.cli:quarantine_app", "quarantine"),
                     Command("creditgov.ingest.cli:entry_app", "entry"))),
    Domain("scoring", layer=3,
           models=("creditgov.scoring.models",),
           api=("creditgov.scoring.views:router",),
           pages=("creditgov.scoring.pages",),
           commands=(Command("creditgov.scoring.cli:app"), Command("creditgov.scoring.cli:model_app", "model")),
           jobs=(("record_segments", "creditgov.scoring.jobs:record_segments"),)),
    Domain("lists", layer=4,
           models=("creditgov.lists.models",),
           api=("creditgov.lists.views:router",),
           pages=("creditgov.lists.pages",),
           commands=(Command("creditgov.lists.cli:app", "lists"),),
           policies=(("lists", "creditgov.lists.service:load_lists"),),
           jobs=(("list_expiry", "creditgov.lists.jobs:list_expiry"),)),
    Domain("commitments", layer=4,
           models=("creditgov.commitments.models",),
           api=("creditgov.commitments.views:router",),
           commands=(Command("creditgov.commitments.cli:app", "commitment"),),
           policies=(("commitments", "creditgov.commitments.service:load_templates"),)),
    Domain("measures", layer=5,
           models=("creditgov.measures.models",),
           api=("creditgov.measures.views:router",),
           pages=("creditgov.measures.pages",),
           commands=(Command("creditgov.measures.cli:app", "measures"),
                     Command("creditgov.measures.cli:check_app", "check")),
           policies=(("measures", "creditgov.measures.service:load_measures"),)),
    Domain("reports", layer=5,
           models=("creditgov.reports.models",),
           api=("creditgov.reports.views:router", "creditgov.reports.views:public_router"),
           commands=(Command("creditgov.reports.cli:report", "report"),)),
    Domain("supervision", layer=5,
           models=("creditgov.supervision.models",),
           api=("creditgov.supervision.views:router",),
           pages=("creditgov.supervision.pages",),
           commands=(Command("creditgov.supervision.cli:app", "supervise"),
                     Command("creditgov.supervision.cli:campaign_app", "campaign")),
           policies=(("supervision_policies", "creditgov.supervision.service:load_policies"),),
           jobs=(("supervision_plans", "creditgov.supervision.jobs:supervision_plans"),),
           permissions="creditgov.supervision.permissions:PERMISSIONS",
           nav=(("/campaigns", "专项整治", "campaigns.read"),)),
    Domain("analysis", layer=5,
           api=("creditgov.analysis.views:router",),
           commands=(Command("creditgov.analysis.cli:app", "analyse"),),
           nav=(("/analysis/clusters", "关联分析", "analysis.read"),)),
    Domain("alerts", layer=6,
           models=("creditgov.alerts.models",),
           api=("creditgov.alerts.views:router",),
           commands=(Command("creditgov.alerts.cli:app", "alerts"),),
           policies=(("warning_rules", "creditgov.alerts.service:load_rules"),),
           jobs=(("escalations", "creditgov.alerts.jobs:escalations"),
                 ("rules_sweep", "creditgov.alerts.jobs:rules_sweep"),
                 ("colour_codes", "creditgov.alerts.jobs:colour_codes")),
           seams=(Seam("creditgov.measures.service:register_warning_source",
                       "creditgov.alerts.service:open_warnings"),
                  Seam("creditgov.points.counter:register_code_sender", "creditgov.alerts.onetime:send_code"))),
    Domain("workflows", layer=8,
           models=("creditgov.workflows.models",),
           api=("creditgov.workflows.views:router",),
           commands=(Command("creditgov.workflows.cli:objection_app", "objection"),
                     Command("creditgov.workflows.cli:repair_app", "repair"),
                     Command("creditgov.workflows.cli:workdays_app", "workdays"),
                     Command("creditgov.workflows.cli:own_view", "own-view"),
                     Command("creditgov.workflows.retention_cli:app", "retention")),
           jobs=(("publication_expiry", "creditgov.workflows.jobs:publication_expiry"),
                 ("workflow_deadlines", "creditgov.workflows.jobs:workflow_deadlines"),
                 ("retention", "creditgov.workflows.jobs:retention")),
           seams=(Seam("creditgov.commitments.service:register_repair_type_source",
                       "creditgov.workflows.rules:repair_commitment_type"),
                  Seam("creditgov.lists.service:register_working_days",
                       "creditgov.workflows.calendar:add_working_days"))),
    # Points read evaluations, records and lists and are read by nobody: beside alerts.
    Domain("points", layer=6,
           models=("creditgov.points.models",),
           api=("creditgov.points.views:router",),
           pages=("creditgov.points.pages",),
           commands=(Command("creditgov.points.cli:app", "points"),
                     Command("creditgov.points.cli:shop_app", "shop")),
           jobs=(("points_daily", "creditgov.points.jobs:points_daily"),),
           permissions="creditgov.points.permissions:PERMISSIONS",
           nav=(("/me/points", "我的积分", "points.own"), ("/points/counter", "积分柜台", "points.award"),
                ("/points/selections", "诚信商户评选", "awards.manage"),
                ("/points/settlement", "积分结算", "shops.manage"))),
    # 信易贷 reads evaluations, lists and records and raises post-loan warnings through the
    # alerts domain: above alerts, beside the exchange, below workflows.
    Domain("finance", layer=7,
           models=("creditgov.finance.models",),
           api=("creditgov.finance.views:router",),
           pages=("creditgov.finance.pages",),
           commands=(Command("creditgov.finance.cli:app", "finance"),),
           jobs=(("finance_matching", "creditgov.finance.jobs:finance_matching"),
                 ("finance_monitoring", "creditgov.finance.jobs:finance_monitoring")),
           seams=(Seam("creditgov.scoring.service:register_outcome_source",
                       "creditgov.finance.stats:OUTCOME_SOURCE"),
                  Seam("creditgov.ingest.handled:register_handler", "creditgov.finance.files:REPAYMENTS"),
                  Seam("creditgov.ingest.handled:register_handler", "creditgov.finance.files:OVERDUE")),
           permissions="creditgov.finance.permissions:PERMISSIONS",
           nav=(("/me/finance", "我的融资", "finance.need"), ("/finance/bank", "信易贷", "finance.bank"),
                ("/finance/office", "信易贷", "finance.approve"))),
    # The exchange reads records, lists, evaluations, inspections and repairs, applies
    # received packages through the records and lists services, and owns the change
    # queue the repair and objection procedures fill: just below workflows.
    Domain("exchange", layer=7,
           models=("creditgov.exchange.models",),
           api=("creditgov.exchange.views:router",),
           pages=("creditgov.exchange.pages",),
           commands=(Command("creditgov.exchange.cli:app", "exchange"),),
           jobs=(("exchange", "creditgov.exchange.jobs:exchange"),),
           permissions="creditgov.exchange.permissions:PERMISSIONS",
           nav=(("/exchange", "数据交换", "exchange.read"),)),
    # The bureau export (征信机构) reads the catalogue's bureau markers, records, subjects and
    # security's consents, and only the subject's own view reads it: beside the exchange.
    Domain("bureaus", layer=7,
           models=("creditgov.bureaus.models",),
           api=("creditgov.bureaus.views:router",),
           pages=("creditgov.bureaus.pages",),
           commands=(Command("creditgov.bureaus.cli:app", "bureau"),),
           jobs=(("bureau_exports", "creditgov.bureaus.jobs:bureau_exports"),),
           permissions="creditgov.bureaus.permissions:PERMISSIONS",
           nav=(("/bureaus", "征信机构报送", "bureaus.read"),)),
    # The credit code reads grades (measures' catalogue and check), lists and repairs, and
    # gives the credit check a foreign code's band as evidence through a seam: above measures.
    Domain("codes", layer=6,
           models=("creditgov.codes.models",),
           api=("creditgov.codes.views:router",),
           pages=("creditgov.codes.pages",),
           commands=(Command("creditgov.codes.cli:app", "code"),),
           jobs=(("code_revocations", "creditgov.codes.jobs:code_revocations"),),
           seams=(Seam("creditgov.measures.check:register_evidence_reader", "creditgov.codes.service:evidence"),
                  Seam("creditgov.reports.extras:register", "creditgov.codes.report:report_panel")),
           permissions="creditgov.codes.permissions:PERMISSIONS",
           nav=(("/me/code", "我的信用码", "code.own"),)),
    # Complaints count deadlines on the workflows' calendar, tell through its notices and
    # propose substantiated complaints as records through manual entry: above workflows.
    Domain("complaints", layer=9,
           models=("creditgov.complaints.models",),
           api=("creditgov.complaints.views:router",),
           pages=("creditgov.complaints.pages",),
           commands=(Command("creditgov.complaints.cli:app", "complaints"),),
           permissions="creditgov.complaints.permissions:PERMISSIONS",
           nav=(("/complaints", "投诉处理", "complaints.read"), ("/supervisor", "特约监督", "complaints.observe"))),
    # The service-hall windows serve a visitor signed in at the counter with the workflows'
    # own view and objection: above workflows, beside complaints.
    Domain("hall", layer=9,
           models=("creditgov.hall.models",),
           pages=("creditgov.hall.pages",),
           permissions="creditgov.hall.permissions:PERMISSIONS",
           nav=(("/hall", "办事大厅", "hall.serve"),)),
    # Printed list notices and decisions read the lists' documents, inspection notices
    # the supervision tasks, and register their serials with the reports' verification;
    # sending them to their addressees queues them in the alerts' outbox: above alerts.
    # The menu shows to whoever prints any kind (department officers print their own
    # inspection notices only).
    Domain("documents", layer=7,
           pages=("creditgov.documents.pages",),
           commands=(Command("creditgov.documents.cli:app", "documents"),),
           permissions="creditgov.documents.permissions:PERMISSIONS",
           nav=(("/documents", "文书打印", "documents.inspections"),)),
    # The data-quality view only reads the ingestion batches and the data requests.
    Domain("quality", layer=4,
           pages=("creditgov.quality.pages",),
           permissions="creditgov.quality.permissions:PERMISSIONS",
           nav=(("/quality", "数据质量", "quality.read"),)),
    # Statistics forms only read: subjects, records, lists, checks, objections and repairs
    # (and the analysis' street folding): beside documents, below workflows' readers.
    Domain("statistics", layer=6,
           api=("creditgov.statistics.views:router",),
           pages=("creditgov.statistics.pages",),
           commands=(Command("creditgov.statistics.cli:app", "statistics"),),
           permissions="creditgov.statistics.permissions:PERMISSIONS",
           nav=(("/statistics", "统计报表", "statistics.read"),)),
    # The edges and tools: they own tables or commands but no rules of the mission.
    Domain("worker", layer=EDGE,
           models=("creditgov.worker.models",),
           jobs=(("evaluations", "creditgov.worker.jobs:evaluations"),),
           commands=(Command("creditgov.worker.cli:app", "worker"),)),
    Domain("web", layer=EDGE, pages=("creditgov.web.pages",
                                      "creditgov.web.subject_pages",
                                      "creditgov.web.scoring_pages",
                                      "creditgov.web.measure_pages",
                                      "creditgov.web.admin_pages",
                                      "creditgov.web.public_pages",
                                      "creditgov.web.supervision_pages",
                                      "creditgov.web.workflow_pages",
                                      "creditgov.web.commitment_pages",
                                      "creditgov.web.analysis_pages",
                                      "creditgov.web.account_pages",
                                      "creditgov.web.signin_pages")),
    Domain("cli", layer=EDGE, commands=(Command("creditgov.cli.store:app"), Command("creditgov.cli.ops:app"),
                                        Command("creditgov.cli.ops:keys_app", "keys"))),
    Domain("demo", layer=EDGE, commands=(Command("creditgov.demo.cli:app"),)),
    Domain("api", layer=EDGE, commands=(Command("creditgov.api.cli:app"),)),
)


def package(d: Domain) -> str:
    return f"creditgov.{d.name}"


def resources_of(name: str) -> list[Path]:
    """Every domain's folder `name` (e.g. `templates`, `migrations`, `locale`), where
    one exists: a domain ships its pages' templates, its translations and its schema
    migrations in its own folder."""
    out = []
    for d in DOMAINS:
        spec = find_spec(package(d))
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(next(iter(spec.submodule_search_locations))) / name
        if folder.is_dir():
            out.append(folder)
    return out


def nav() -> list[tuple[str, str, str]]:
    return [entry for d in DOMAINS for entry in d.nav]


def resolve(ref: str) -> Any:
    """`package.module:attribute` → the object."""
    module, _, attr = ref.partition(":")
    obj: Any = import_module(module)
    return getattr(obj, attr) if attr else obj


def domain(name: str) -> Domain:
    for d in DOMAINS:
        if d.name == name:
            return d
    raise KeyError(name)


def metadata() -> MetaData:
    """The whole schema: every domain's tables, imported into the one `Base`."""
    from creditgov.core.db import Base

    for d in DOMAINS:
        for m in d.models:
            import_module(m)
    return Base.metadata


def api_routers() -> list[Any]:
    return [resolve(ref) for d in DOMAINS for ref in d.api]


def page_routers() -> list[Any]:
    return [import_module(m).router for d in DOMAINS for m in d.pages]


def commands() -> list[Command]:
    return [c for d in DOMAINS for c in d.commands]


def policies() -> list[tuple[str, Callable[[Session], dict[str, Any]]]]:
    """The shipped rule files `init` loads, in dependency order."""
    return [(key, resolve(ref)) for d in DOMAINS for key, ref in d.policies]


def job_names() -> list[str]:
    return [name for d in DOMAINS for name, _ in d.jobs]


def job(name: str) -> Callable[[str], dict[str, Any]]:
    for d in DOMAINS:
        for n, ref in d.jobs:
            if n == name:
                fn: Callable[[str], dict[str, Any]] = resolve(ref)
                return fn
    raise KeyError(name)


_wired = False


def wire() -> None:
    """Register every seam once per process (idempotent: each hook keeps a set)."""
    global _wired
    if _wired:
        return
    from creditgov.core import schema
    from creditgov.security import scopes

    for folder in resources_of("migrations"):
        if str(folder) not in schema.VERSION_LOCATIONS:
            schema.VERSION_LOCATIONS.append(str(folder))
    for d in DOMAINS:
        for seam in d.seams:
            resolve(seam.register)(resolve(seam.provider))
        if d.permissions:
            scopes.register_permissions(resolve(d.permissions))
    register_labels()
    _wired = True


def _labels_modules() -> list[tuple[str, Any]]:
    """(domain name, its `labels.py`) for every domain that has one."""
    return [(d.name, import_module(f"{package(d)}.labels")) for d in DOMAINS
            if find_spec(f"{package(d)}.labels") is not None]


def audit_actions() -> dict[str, dict[str, tuple[str, str]]]:
    """Every domain's audit actions in words, by domain: the `AUDIT_ACTIONS` of its
    `labels.py` (`code -> (Chinese, English)`, the actions its services write). Gathered
    by `register_labels` into the one catalogue the audit log reads (label kind
    `audit_action`); each code is one domain's (`tests/security/test_audit_action_words.py`)."""
    return {name: dict(mod.AUDIT_ACTIONS) for name, mod in _labels_modules() if hasattr(mod, "AUDIT_ACTIONS")}


def register_labels() -> None:
    """Each domain's `labels.py` (its codes' names, from its policy files and tables)
    into the one label catalogue, `core.labels` (found by name, like `templates/`), and
    every domain's audit actions into the kind `audit_action` (`audit_actions`)."""
    from creditgov.core import labels

    for _, mod in _labels_modules():
        labels.register_all(mod.LABELS)
        for kind, fmt in getattr(mod, "REFS", {}).items():
            labels.register_ref(kind, fmt)
        if hasattr(mod, "AUDIT_ACTIONS"):
            labels.register("audit_action", mod.AUDIT_ACTIONS)
