"""Every service's Alembic migrations, checked the same way: one linear chain of dated files,
the schema at head is exactly what the models declare (PostgreSQL and the embedded SQLite
default), and a downgrade to base removes every table and the upgrade restores them."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from sqlalchemy import MetaData

from permitkit.migrations import downgrade, heads, schema_drift, tables, upgrade


class Context(NamedTuple):
    name: str
    migrations: Path
    metadata: MetaData


def _context(name: str, migrations_module: str, models_module: str) -> Context:
    migrations = importlib.import_module(migrations_module).MIGRATIONS
    return Context(name, migrations, importlib.import_module(models_module).Base.metadata)


CONTEXTS = {
    "identity": ("permit_identity.__main__", "permit_identity.models"),
    "application": ("permit_application.bootstrap", "permit_application.models"),
    "routing": ("permit_routing.__main__", "permit_routing.models"),
    "documents": ("permit_documents.__main__", "permit_documents.models"),
    "approval": ("permit_approval.__main__", "permit_approval.models"),
    "notifications": ("permit_notifications.__main__", "permit_notifications.models"),
}


@pytest.fixture(params=sorted(CONTEXTS))
def context(request: pytest.FixtureRequest) -> Context:
    return _context(request.param, *CONTEXTS[request.param])


_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{4}_[a-z0-9_]+\.py$")


def test_one_linear_chain_of_dated_files(context: Context) -> None:
    names = sorted(p.name for p in (context.migrations / "versions").glob("*.py"))
    assert names, f"{context.name}: no migrations"
    assert [n for n in names if not _DATED.match(n)] == []
    assert len(heads(context.migrations)) == 1, f"{context.name}: the migrations branch"


def _round_trip(url: str, context: Context) -> None:
    upgrade(url, context.migrations)
    assert schema_drift(url, context.metadata) == []
    downgrade(url, context.migrations, "base")
    assert tables(url) <= {"alembic_version"}
    upgrade(url, context.migrations)
    assert schema_drift(url, context.metadata) == []
    assert set(context.metadata.tables) <= tables(url)


@pytest.mark.integration
def test_postgresql_schema_matches_the_models_and_round_trips(
        context: Context, make_database: Callable[[str], str]) -> None:
    _round_trip(make_database(f"{context.name}_mig"), context)


def test_embedded_sqlite_schema_matches_the_models_and_round_trips(context: Context, tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / (context.name + '.db')}", context)
