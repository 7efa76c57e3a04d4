"""The legacy sync's ledger (PC-3): what each owner service imported from the PC
system's export, record by record, so that running the sync again is idempotent.

Every owner service keeps a ``legacy_sync_record`` table (``add_legacy_sync_table``):
one row per record it imported (``accounts/L1001``, ``accounts/L1001/vehicles/冀A12345``,
...), with the fingerprint of the record as last imported and, when a later export
no longer had it, the time it went missing. ``reconcile`` compares an export's
records against the ledger:

- a record never seen is applied: IMPORTED;
- a record whose fingerprint is unchanged is not touched at all: UNCHANGED (what
  a carrier changed since through the API stays as it is);
- a changed record is applied again: UPDATED;
- a known record that is not in the export is FLAGGED (its ``missing_since`` is
  set once; nothing is deleted); when it comes back it is UPDATED;
- a record that fails its checks is REFUSED with the reason, the Chinese message
  and the field; the other records still go in (each record runs in its own
  savepoint, so a refused one leaves nothing half-written); a record repeated in
  the same export is refused after its first occurrence.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from permitkit.db import UTCDateTime
from permitkit.errors import PermitError

LEDGER_TABLE = "legacy_sync_record"

MISSING_REASON = "LEGACY_RECORD_MISSING"
MISSING_MESSAGE = "电脑端导出中已无此记录：已标记，未删除。"
RETURNED_REASON = "LEGACY_RECORD_RETURNED"
RETURNED_MESSAGE = "此前标记为缺失的记录重新出现在导出中。"
DUPLICATE_REASON = "LEGACY_RECORD_DUPLICATE"
DUPLICATE_MESSAGE = "同一记录在导出中重复出现，以首次出现的为准。"
CONFLICT_REASON = "LEGACY_RECORD_CONFLICT"
CONFLICT_MESSAGE = "与系统中已有的数据冲突，未导入。"


class SyncResult(enum.StrEnum):
    IMPORTED = "IMPORTED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"
    FLAGGED = "FLAGGED"
    REFUSED = "REFUSED"


@dataclass(frozen=True)
class Outcome:
    """What the sync did with one record."""

    record: str
    source: str
    result: SyncResult
    reason: str = ""
    message: str = ""
    field: str = ""


@dataclass
class Item:
    """One record of an export as an owner service sees it.

    ``apply(existing)`` writes it (``existing``: the ledger knew it before);
    ``error`` refuses it before anything is written."""

    record: str
    source: str
    fingerprint: str = ""
    apply: Callable[[bool], None] | None = None
    error: PermitError | None = None


def add_legacy_sync_table(metadata: MetaData) -> Table:
    """The ledger table of a service's metadata."""
    return Table(
        LEDGER_TABLE, metadata,
        # "accounts/L1001/vehicles/冀A12345"
        Column("record", String(300), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        # Where the record was last read ("vehicles.csv 第 4 行").
        Column("source", Text, nullable=False, default=""),
        Column("sync_time", UTCDateTime(), nullable=False),
        Column("missing_since", UTCDateTime(), nullable=True),
    )



def fingerprint(value: Any) -> str:
    """A stable digest of a record's normalised content."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def legacy_object_id(kind: str, key: str, length: int = 20) -> str:
    """A deterministic id for an object the sync creates (``kind``: "permit", "case"),
    the same in every service that names it."""
    return hashlib.sha256(f"legacy-{kind}:{key}".encode()).hexdigest()[:length]


def refused(record: str, source: str, error: PermitError) -> Outcome:
    return Outcome(record, source, SyncResult.REFUSED, error.reason, error.message, error.field or "")


def held_prefixes(export: Any) -> tuple[str, ...]:
    """The records an export asks not to flag this time (``"_held": ["accounts/L1001/", ...]``):
    those of an account or application refused upstream in the same sync, which are
    not missing from the export."""
    held = export.get("_held") if isinstance(export, dict) else None
    return tuple(str(x) for x in held or [] if str(x))


def partial_scope(export: Any) -> tuple[str, ...] | None:
    """For a partial export (``"_partial": true``: only some accounts), the accounts it
    covers (``accounts/L1001``): only their records can be missing from it. None for a
    full export, where every known record can."""
    if not isinstance(export, dict) or not export.get("_partial"):
        return None
    accounts = export.get("accounts")
    if not isinstance(accounts, list):
        return ()
    return tuple(f"accounts/{str(a.get('legacy_id') or '').strip()}" for a in accounts
                 if isinstance(a, dict) and str(a.get("legacy_id") or "").strip())


def _under(record: str, prefixes: Iterable[str]) -> bool:
    return any(record == p.rstrip("/") or record.startswith(p.rstrip("/") + "/") for p in prefixes)


def reconcile(session: Session, table: Table, items: Iterable[Item], *, now: dt.datetime,
              prefix: str = "", held: Sequence[str] = (),
              scope: Sequence[str] | None = None) -> list[Outcome]:
    """Apply an export's records against the ledger (see the module docstring); known
    records under ``prefix`` that the export lacks are flagged, except those under a
    ``held`` prefix and, for a partial export, those outside its ``scope``. The caller
    commits."""
    known = {r.record: r for r in session.execute(
        select(table).where(table.c.record.startswith(prefix, autoescape=True))).all()}
    outcomes: list[Outcome] = []
    seen: set[str] = set()
    for it in items:
        if it.record in seen:
            outcomes.append(Outcome(it.record, it.source, SyncResult.REFUSED, DUPLICATE_REASON, DUPLICATE_MESSAGE))
            continue
        seen.add(it.record)
        if it.error is not None:
            outcomes.append(refused(it.record, it.source, it.error))
            continue
        row = known.get(it.record)
        if row is not None and row.fingerprint == it.fingerprint:
            if row.missing_since is None:
                outcomes.append(Outcome(it.record, it.source, SyncResult.UNCHANGED))
                continue
            session.execute(update(table).where(table.c.record == it.record)
                            .values(missing_since=None, source=it.source, sync_time=now))
            outcomes.append(Outcome(it.record, it.source, SyncResult.UPDATED, RETURNED_REASON,
                                    RETURNED_MESSAGE))
            continue
        try:
            with session.begin_nested():
                if it.apply is not None:
                    it.apply(row is not None)
                session.flush()
        except PermitError as e:
            outcomes.append(refused(it.record, it.source, e))
            continue
        except IntegrityError:
            outcomes.append(Outcome(it.record, it.source, SyncResult.REFUSED, CONFLICT_REASON,
                                    CONFLICT_MESSAGE))
            continue
        if row is None:
            session.execute(insert(table).values(record=it.record, fingerprint=it.fingerprint,
                                                 source=it.source, sync_time=now, missing_since=None))
            outcomes.append(Outcome(it.record, it.source, SyncResult.IMPORTED))
        else:
            session.execute(update(table).where(table.c.record == it.record).values(
                fingerprint=it.fingerprint, source=it.source, sync_time=now, missing_since=None))
            outcomes.append(Outcome(it.record, it.source, SyncResult.UPDATED))
    for record, row in sorted(known.items()):
        if record in seen or _under(record, held) or (scope is not None and not _under(record, scope)):
            continue
        if row.missing_since is None:
            session.execute(update(table).where(table.c.record == record).values(missing_since=now))
        outcomes.append(Outcome(record, row.source, SyncResult.FLAGGED, MISSING_REASON, MISSING_MESSAGE))
    return outcomes


def is_flagged(session: Session, table: Table, record: str) -> bool:
    """Whether a record went missing from the last export."""
    row = session.execute(select(table.c.missing_since).where(table.c.record == record)).first()
    return row is not None and row.missing_since is not None


def outcome_pb(o: Outcome, message_cls: Any, result_enum: Any) -> Any:
    """``o`` as a ``permit.type.v1.LegacySyncOutcome``."""
    return message_cls(record=o.record, source=o.source,
                       result=result_enum.Value(f"LEGACY_SYNC_RESULT_{o.result.value}"),
                       reason=o.reason, message=o.message, field=o.field)
