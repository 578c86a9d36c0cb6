"""The migrations: one head, files named in the order they apply, and a store stamped
with a revision id from before the renumbering upgrades in place."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from creditgov.core import db, schema


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(schema.alembic_config("sqlite://"))


def test_one_head() -> None:
    assert len(schema.heads()) == 1
    assert len(_script().get_bases()) == 1


def test_files_are_named_in_chain_order() -> None:
    script = _script()
    chain = list(reversed(list(script.walk_revisions("base", "heads"))))
    numbers = [int(re.match(r"(\d{4})_", Path(r.path).name).group(1)) for r in chain]  # type: ignore[union-attr]  # every file starts with four digits
    assert numbers == list(range(1, len(chain) + 1))
    folder = Path(str(resources.files("creditgov").joinpath("migrations/versions")))
    assert sorted(p.name for p in folder.glob("0*.py")) == [Path(r.path).name for r in chain]


def test_a_store_stamped_before_the_renumbering_upgrades(tmp_path: Path) -> None:
    """A store made before the renumbering, at its last old revision ("0008"), has the
    schema of 0007_segments: it is restamped and upgraded to the head, nothing re-run."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = schema.alembic_config(url)
    with db.engine_for(url).connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0007_segments")
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0008'"))
        conn.commit()
    schema.upgrade(url)
    assert schema.current_revision(url) == schema.heads()[0]


def test_a_store_two_migrations_behind_with_an_old_id_applies_the_rest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    cfg = schema.alembic_config(url)
    with db.engine_for(url).connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006_supervision")
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0005'"))  # its id before
        conn.commit()
    assert "record_segments" not in sa.inspect(db.engine_for(url)).get_table_names()
    schema.upgrade(url)
    assert schema.current_revision(url) == schema.heads()[0]
    assert "record_segments" in sa.inspect(db.engine_for(url)).get_table_names()
