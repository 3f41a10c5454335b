"""Apply Alembic migrations programmatically (``provisioning db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from provisioning.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str, secret_key: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if secret_key:  # migrations that seal data under SECRET_KEY (0008) read it here
        cfg.attributes["secret_key"] = secret_key
    return cfg


def upgrade(database_url: str, revision: str = "head", *, secret_key: str | None = None) -> None:
    """Bring the database schema up to ``revision``."""
    command.upgrade(alembic_config(database_url, secret_key), revision)


def downgrade(database_url: str, revision: str, *, secret_key: str | None = None) -> None:
    """Take the database schema back to ``revision`` (tests of data migrations use it)."""
    command.downgrade(alembic_config(database_url, secret_key), revision)


def head_revisions() -> set[str]:
    """The revisions this code's migrations end at."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(db: Database) -> set[str]:
    """The revisions the database is at (empty when it was never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
