"""The legacy sync's ledger (PC-3) on PostgreSQL: imported, unchanged, updated, refused
without a trace, duplicates, flagged and back, held and partial exports."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select, update

from permitkit.db import make_engine, make_session_factory
from permitkit.errors import InvalidArgument
from permitkit.legacy_sync import Item, SyncResult, add_legacy_sync_table, fingerprint, reconcile

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(make_database):
    md = MetaData()
    ledger = add_legacy_sync_table(md)
    things = Table("thing", md, Column("key", String(50), primary_key=True), Column("value", String(50)))
    engine = make_engine(make_database("legacy_sync"))
    md.create_all(engine)
    yield make_session_factory(engine), ledger, things
    engine.dispose()


def run(db, records: dict[str, str], *, now=T0, bad: set[str] = frozenset(), **kw) -> dict[str, SyncResult]:
    """Sync {record: value} into the "thing" table; values in ``bad`` are refused half-way."""
    sf, ledger, things = db
    session = sf()
    try:
        def item(rec: str, value: str) -> Item:
            def apply(known: bool) -> None:
                if known:
                    session.execute(update(things).where(things.c.key == rec).values(value=value))
                else:
                    session.execute(insert(things).values(key=rec, value=value))
                if value in bad:  # a check after a write: nothing of it may stay
                    raise InvalidArgument("不对。", reason="BAD_VALUE", field="value")
            return Item(rec, f"line {rec}", fingerprint=fingerprint(value), apply=apply)

        outcomes = reconcile(session, ledger, [item(r, v) for r, v in records.items()], now=now,
                             prefix="accounts/", **kw)
        session.commit()
        return {o.record: o.result for o in outcomes}
    finally:
        session.close()


def rows(db) -> dict[str, str]:
    sf, _, things = db
    with sf() as s:
        return {r.key: r.value for r in s.execute(select(things))}


def test_a_sync_is_idempotent_updates_what_changed_and_flags_what_went_missing_PC_3(db) -> None:
    A, B, C = "accounts/L1", "accounts/L1/vehicles/冀A1", "accounts/L1/agents/X"
    assert run(db, {A: "a", B: "b", C: "c"}) == dict.fromkeys((A, B, C), SyncResult.IMPORTED)
    assert run(db, {A: "a", B: "b", C: "c"}) == dict.fromkeys((A, B, C), SyncResult.UNCHANGED)

    # Something else changed the row since: the same export leaves it alone.
    sf, _, things = db
    with sf() as s:
        s.execute(update(things).where(things.c.key == B).values(value="kept by the carrier"))
        s.commit()
    assert run(db, {A: "a", B: "b", C: "c"})[B] == SyncResult.UNCHANGED
    assert rows(db)[B] == "kept by the carrier"

    got = run(db, {A: "a2", B: "b"})
    assert got == {A: SyncResult.UPDATED, B: SyncResult.UNCHANGED, C: SyncResult.FLAGGED}
    assert rows(db) == {A: "a2", B: "kept by the carrier", C: "c"}  # flagged, not deleted
    assert run(db, {A: "a2", B: "b"})[C] == SyncResult.FLAGGED
    assert run(db, {A: "a2", B: "b", C: "c"})[C] == SyncResult.UPDATED  # back again


def test_a_refused_record_leaves_nothing_and_the_others_go_in_PC_3(db) -> None:
    A, B = "accounts/L2", "accounts/L2/vehicles/冀A2"
    got = run(db, {A: "a", B: "wrong"}, bad={"wrong"})
    assert got == {A: SyncResult.IMPORTED, B: SyncResult.REFUSED}
    assert rows(db) == {A: "a"}
    assert run(db, {A: "a", B: "right"}) == {A: SyncResult.UNCHANGED, B: SyncResult.IMPORTED}
    # A later bad version of a known record is refused and the known one kept, not flagged.
    assert run(db, {A: "a", B: "wrong"}, bad={"wrong"}) == {A: SyncResult.UNCHANGED, B: SyncResult.REFUSED}
    assert rows(db)[B] == "right"


def test_duplicates_held_records_and_partial_exports_are_not_flagged_or_written_twice_PC_3(db) -> None:
    sf, ledger, _ = db
    one, two = "accounts/L3/vehicles/冀A3", "accounts/L4/vehicles/冀A4"
    assert run(db, {one: "1", two: "2"}) == {one: SyncResult.IMPORTED, two: SyncResult.IMPORTED}
    session = sf()
    try:
        dup = [Item(one, "a", fingerprint=fingerprint("1")), Item(one, "b", fingerprint=fingerprint("9"))]
        outcomes = reconcile(session, ledger, dup, now=T0, prefix="accounts/", held=("accounts/L4/",))
        session.commit()
    finally:
        session.close()
    assert [(o.record, o.result, o.reason) for o in outcomes] == [
        (one, SyncResult.UNCHANGED, ""), (one, SyncResult.REFUSED, "LEGACY_RECORD_DUPLICATE")]
    # L4 only: L3 is outside a partial export's scope.
    assert run(db, {two: "2"}, scope=("accounts/L4",)) == {two: SyncResult.UNCHANGED}
    assert run(db, {two: "2"}) == {two: SyncResult.UNCHANGED, one: SyncResult.FLAGGED}
