"""Alembic glue: one migration tree per service, run as its own step."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import create_engine


def alembic_config(url: str, script_location: str | Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option(
        "file_template",
        "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    return cfg


def upgrade(url: str, script_location: str | Path, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url, script_location), revision)


def downgrade(url: str, script_location: str | Path, revision: str = "base") -> None:
    command.downgrade(alembic_config(url, script_location), revision)


def run_env(target_metadata: MetaData) -> None:
    """The whole body of a service's ``migrations/env.py``."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set"
    batch = url.startswith("sqlite")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                          render_as_batch=batch)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=batch)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def heads(script_location: str | Path) -> tuple[str, ...]:
    """The head revisions of a migration tree: exactly one when the chain is linear."""
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://", script_location)).get_heads())


def schema_drift(url: str, target_metadata: MetaData) -> list[object]:
    """What the database at ``url`` lacks or has beyond ``target_metadata`` (empty: none)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), target_metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    from sqlalchemy import inspect

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
