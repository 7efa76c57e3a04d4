"""permitkit.db.precompiled: an ``INSERT ... ON CONFLICT`` compiled once into a text clause
that SQLAlchemy's statement cache keeps, on PostgreSQL and SQLite alike."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Boolean, Column, Engine, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.engine.default import CACHE_HIT, CACHING_DISABLED, NO_CACHE_KEY

from permitkit.db import UTCDateTime, make_engine, precompiled, upsert_insert, utcnow, with_defaults

pytestmark = pytest.mark.integration

metadata = MetaData()
item = Table("item", metadata,
             Column("id", Integer, primary_key=True, autoincrement=True),
             Column("name", String(20), unique=True, nullable=False),
             Column("seen", UTCDateTime(), nullable=False),
             Column("hidden", Boolean, nullable=False, default=False),
             Column("noted", UTCDateTime(), nullable=True, default=utcnow))


def _upsert(dialect: str):  # type: ignore[no-untyped-def]
    stmt = upsert_insert(dialect)(item)
    return precompiled(stmt.on_conflict_do_update(index_elements=["name"],
                                                  set_={"seen": stmt.excluded.seen, "hidden": False}),
                       dialect, ["name", "seen", "hidden"])


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request, make_database):  # type: ignore[no-untyped-def]
    engine: Engine = (make_engine(make_database("precompiled")) if request.param == "postgresql"
                      else create_engine("sqlite://"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_values_bind_by_column_with_its_type_and_constants_keep_theirs(engine: Engine) -> None:
    stmt = _upsert(engine.dialect.name)
    first = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
    later = first + dt.timedelta(hours=2)
    with engine.begin() as conn:
        conn.execute(stmt, [{"name": "a", "seen": first, "hidden": True},
                            {"name": "b", "seen": first, "hidden": True}])
        conn.execute(stmt, {"name": "a", "seen": later, "hidden": True})  # conflict: SET hidden = false
    with engine.connect() as conn:
        rows = {r.name: r for r in conn.execute(select(item))}
    assert rows["a"].seen == later and rows["a"].hidden is False
    # UTCDateTime converted on the way in and out (SQLite keeps naive UTC).
    assert rows["b"].seen == first and rows["b"].seen.tzinfo is not None and rows["b"].hidden is True


def test_the_statement_is_compiled_once_then_taken_from_the_cache(engine: Engine) -> None:
    stmt = _upsert(engine.dialect.name)
    plain = upsert_insert(engine.dialect.name)(item).on_conflict_do_nothing(index_elements=["name"])
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        hits = [conn.execute(stmt, {"name": n, "seen": now, "hidden": False}).context.cache_hit for n in "xy"]
        again = [conn.execute(plain.values(name=n, seen=now, hidden=False)).context.cache_hit for n in "zw"]
    assert hits[1] == CACHE_HIT
    # Why it exists: the dialect's own ON CONFLICT statement is never cached.
    assert all(h in (NO_CACHE_KEY, CACHING_DISABLED) for h in again)


def test_with_defaults_fills_what_is_missing_from_the_columns_python_defaults() -> None:
    seen = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)
    before = dt.datetime.now(dt.UTC)
    row = with_defaults(item, ["name", "seen", "hidden", "noted"], {"name": "a", "seen": seen, "hidden": None})
    assert row["name"] == "a" and row["seen"] == seen and row["hidden"] is False
    assert before <= row["noted"] <= dt.datetime.now(dt.UTC)  # the callable default, called
    assert with_defaults(item, ["hidden"], {"hidden": True}) == {"hidden": True}
