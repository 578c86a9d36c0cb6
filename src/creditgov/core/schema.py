"""Schema management: `creditgov init` upgrades the database to the newest migration."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, make_url, text
from sqlalchemy.exc import OperationalError

from creditgov.core.db import engine_for
from creditgov.core.errors import ConfigError

# Folders of migrations besides the shared `migrations/versions`: a domain may keep
# its own (`<domain>/migrations/`) in the one revision chain; the composition root adds
# them at start-up (`bootstrap.wire`), since core knows no domain.
VERSION_LOCATIONS: list[str] = []


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("creditgov").joinpath("migrations")))
    if VERSION_LOCATIONS:
        shared = str(resources.files("creditgov").joinpath("migrations/versions"))
        cfg.set_main_option("version_locations", " ".join([shared, *VERSION_LOCATIONS]))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# The revisions were renumbered into chain order (their files were numbered in the
# order they were written, not the order they apply). A store stamped with an old id
# is restamped to the same schema's new id before upgrading; the old ids were bare
# numbers and the new ones carry a name, so the two can never be confused.
RENUMBERED = {"0004": "0003_lists", "0007": "0004_users", "0006": "0005_workflows",
              "0005": "0006_supervision", "0008": "0007_segments"}


def upgrade(url: str) -> None:
    cfg = alembic_config(url)
    with engine_for(url).connect() as conn:
        _restamp_renumbered(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()


def _restamp_renumbered(conn: Connection) -> None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return
    for old, new in RENUMBERED.items():
        conn.execute(text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"),
                     {"new": new, "old": old})


def heads() -> list[str]:
    """The migration heads the shipped scripts define (one, always: a test pins it)."""
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine_for(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_initialised(url: str) -> bool:
    """Whether the store has a schema. The first thing most commands ask of a store, so
    a database that cannot be opened at all is said here in one line."""
    try:
        return "alembic_version" in inspect(engine_for(url)).get_table_names()
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()
        where = make_url(url).render_as_string(hide_password=True)
        raise ConfigError(f"cannot open the database {where}: {reason[0] if reason else type(exc).__name__}") from None
