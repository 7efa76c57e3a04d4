"""Bulk-load national-scale data for ``make bench`` with COPY (psycopg).

``national``: 1,000,000 applications across 100,000 parties (each with its own
fleet of plates), their plates, province progress and state changes, and
100,000 open review cases with their reviews, and the officers' work-queue counts of
those cases. ``small``: a hundredth of that.
Rows are written as COPY text in large blocks; columns the loader does not set
get a neutral value of their type, so the loader follows the migrations.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import NullPool, create_engine

from permit_approval import queue_counts

SCALES = {
    # parties, applications, open cases
    "national": (100_000, 1_000_000, 100_000),
    "small": (1_000, 10_000, 1_000),
}

PROVINCES = ["110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000",
             "320000", "330000", "340000", "350000", "360000", "370000", "410000", "420000", "430000",
             "440000", "450000", "460000", "500000", "510000", "520000", "530000", "540000", "610000",
             "620000", "630000", "640000", "650000"]
PLATE_PREFIX = {"110000": "京", "120000": "津", "130000": "冀", "140000": "晋", "150000": "蒙", "210000": "辽",
                "220000": "吉", "230000": "黑", "310000": "沪", "320000": "苏", "330000": "浙", "340000": "皖",
                "350000": "闽", "360000": "赣", "370000": "鲁", "410000": "豫", "420000": "鄂", "430000": "湘",
                "440000": "粤", "450000": "桂", "460000": "琼", "500000": "渝", "510000": "川", "520000": "贵",
                "530000": "云", "540000": "藏", "610000": "陕", "620000": "甘", "630000": "青", "640000": "宁",
                "650000": "新"}
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"

# Share of the applications in each state; SUBMITTED and PROCESSING are the open cases.
STATE_MIX = [("DRAFT", 0.08), ("SUBMITTED", 0.04), ("PROCESSING", 0.06), ("ISSUED", 0.66),
             ("DENIED", 0.05), ("WITHDRAWN", 0.06), ("RETURNED", 0.05)]
PATHS = {"DRAFT": ["DRAFT"], "SUBMITTED": ["DRAFT", "SUBMITTED"],
         "PROCESSING": ["DRAFT", "SUBMITTED", "PROCESSING"],
         "ISSUED": ["DRAFT", "SUBMITTED", "PROCESSING", "ISSUED"],
         "DENIED": ["DRAFT", "SUBMITTED", "PROCESSING", "DENIED"],
         "WITHDRAWN": ["DRAFT", "SUBMITTED", "WITHDRAWN"],
         "RETURNED": ["DRAFT", "SUBMITTED", "PROCESSING", "RETURNED"]}


def _text(v: Any) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    s = str(v)
    if "\\" in s or "\t" in s or "\n" in s or "\r" in s:
        s = s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return s


def _neutral(data_type: str) -> Any:
    t = data_type.lower()
    if t in ("json", "jsonb"):
        return []
    if t == "boolean":
        return False
    if t in ("integer", "bigint", "smallint", "numeric", "double precision", "real"):
        return 0
    if t == "date":
        return dt.date(2000, 1, 1)
    if t.startswith("timestamp"):
        return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return ""


@dataclass
class Table:
    """A table's column list, with neutral values for NOT NULL columns the loader leaves out."""

    name: str
    columns: list[str]
    fill: dict[str, Any]

    @classmethod
    def of(cls, conn: psycopg.Connection, name: str, given: Iterable[str]) -> Table:
        rows = conn.execute("SELECT column_name, is_nullable, data_type, column_default FROM information_schema.columns "
                            "WHERE table_name = %s AND table_schema = current_schema() ORDER BY ordinal_position",
                            (name,)).fetchall()
        if not rows:
            raise RuntimeError(f"table {name} not found (migrated?)")
        given = list(given)
        known = {r[0] for r in rows}
        missing = [g for g in given if g not in known]
        if missing:
            raise RuntimeError(f"{name} has no column {missing}")
        fill = {r[0]: _neutral(r[2]) for r in rows
                if r[0] not in given and r[1] == "NO" and r[3] is None}
        return cls(name, given + list(fill), fill)

    def copy(self, conn: psycopg.Connection, rows: Iterator[tuple[Any, ...] | str], block: int = 20_000) -> int:
        """COPY ``rows``: tuples of values, or lines already in COPY text form (the fast way)."""
        tail = "".join("\t" + _text(v) for v in self.fill.values())
        n = 0
        with conn.cursor() as cur, cur.copy(f"COPY {self.name} ({', '.join(self.columns)}) FROM STDIN") as cp:
            buf: list[str] = []
            for row in rows:
                buf.append((row if isinstance(row, str) else "\t".join(_text(v) for v in row)) + tail)
                n += 1
                if len(buf) >= block:
                    cp.write("\n".join(buf) + "\n")
                    buf.clear()
            if buf:
                cp.write("\n".join(buf) + "\n")
        return n


@dataclass
class Loaded:
    """What the bench needs to know of the loaded data: numbers and plates to search for."""

    applications: int
    parties: int
    open_cases: int
    state_changes: int
    seconds: float
    sample: dict[str, dict[str, str]]  # party -> {"number": ..., "plate": ...}


def _plates(party_index: int, count: int) -> list[str]:
    """A party's own fleet, tractor then trailer: plates no other party holds."""
    prefix = PLATE_PREFIX[PROVINCES[party_index % len(PROVINCES)]]
    base = party_index % 100_000
    out = []
    for k in range(count // 2):
        out += [f"{prefix}{LETTERS[k]}{base:05d}", f"{prefix}{LETTERS[k + 10]}{base:05d}挂"]
    return out


def _vacuum(url: str, tables: Iterable[str], progress: Callable[[str], None]) -> None:
    """VACUUM (ANALYZE) what was just copied in. A database in service is vacuumed as it
    goes; rows copied in by the million are not until autovacuum wakes, and autovacuum
    would then compete with the reads being measured (and every first read of a page
    would set its hint bits)."""
    t1 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for t in tables:
            conn.execute(f"VACUUM (ANALYZE) {t}")
    progress(f"  VACUUM (ANALYZE) {', '.join(tables)} in {time.perf_counter() - t1:.0f} s")


def load(app_url: str, approval_url: str, *, scale: str, bench_parties: list[str],
         progress: Callable[[str], None] = print, seed: int = 7) -> Loaded:
    """Load ``scale`` into the application and approval databases (already migrated);
    ``bench_parties`` are the bench's own carriers, given their share of history."""
    n_parties, n_apps, n_open = SCALES[scale]
    app_url, approval_url = (u.replace("postgresql+psycopg://", "postgresql://") for u in (app_url, approval_url))
    rng = random.Random(seed)
    t0 = time.perf_counter()
    parties = list(bench_parties) + [f"parties/B{i:07d}" for i in range(n_parties - len(bench_parties))]
    today = dt.date.today()
    first_day = today - dt.timedelta(days=1000)
    # States: shuffled so every party has a realistic mix; exactly n_open open ones.
    states: list[str] = []
    for st, share in STATE_MIX:
        states += [st] * int(n_apps * share)
    states += ["ISSUED"] * (n_apps - len(states))
    open_now = [i for i, s in enumerate(states) if s in ("SUBMITTED", "PROCESSING")]
    for i in open_now[n_open:]:
        states[i] = "ISSUED"
    rng.shuffle(states)

    apps: list[tuple[str, str, str, dt.datetime, dt.date, dt.date, list[str], list[str]]] = []
    sample: dict[str, dict[str, str]] = {}
    per_day: dict[dt.date, int] = {}
    fleets: dict[int, list[str]] = {}
    for i in range(n_apps):
        pi = i % n_parties
        party = parties[pi]
        fleet = fleets.get(pi)
        if fleet is None:
            fleet = fleets[pi] = _plates(pi, 4)
        day = first_day + dt.timedelta(days=(i * 1000) // n_apps)
        seq = per_day[day] = per_day.get(day, 0) + 1
        number = f"DJ13{day:%Y%m%d}{seq:06d}"
        created = dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(0, 36_000))
        start = day + dt.timedelta(days=rng.randint(2, 20))
        end = start + dt.timedelta(days=rng.randint(1, 10))
        t = rng.randrange(0, len(fleet), 2)
        plates = [fleet[t], fleet[t + 1]]
        route = [PROVINCES[pi % len(PROVINCES)]] + rng.sample(PROVINCES, 2)
        route = list(dict.fromkeys(route))
        apps.append((number, party, states[i], created, start, end, plates, route))
        if party in bench_parties or party not in sample and len(sample) < 1000:
            sample[party] = {"number": number, "plate": plates[0]}
    progress(f"  generated {n_apps:,} applications in {time.perf_counter() - t0:.0f} s")

    changes = 0
    with psycopg.connect(app_url, autocommit=False) as conn:
        app_t = Table.of(conn, "application", [
            "id", "party", "state", "version", "created_by", "cargo", "vehicles", "permit_class",
            "route_provinces", "period_start", "period_end", "permit_number", "permit_state", "submission",
            "submit_time", "create_time", "update_time"])
        veh_t = Table.of(conn, "application_vehicle", ["application_id", "position", "plate_number"])
        prog_t = Table.of(conn, "province_progress", ["application_id", "province", "position", "decision",
                                                      "origin"])
        chg_t = Table.of(conn, "state_change", ["application_id", "from_state", "to_state", "actor", "reason",
                                                "change_time"])
        cargo = _text({"name": "变压器", "weight_kg": 30000})
        NULL = "\\N"  # noqa: N806
        hour = dt.timedelta(hours=1)

        # Lines in COPY text form, written directly: the values need no escaping.
        def app_rows() -> Iterator[str]:
            for number, party, state, created, start, end, plates, route in apps:
                submitted = state != "DRAFT"
                issued = state == "ISSUED"
                vehicles = f'[{{"plate_number":"{plates[0]}"}},{{"plate_number":"{plates[1]}"}}]'
                provinces = '["' + '","'.join(route) + '"]'
                yield (f"{number}\t{party}\t{state}\t{len(PATHS[state])}\tusers/bulk\t{cargo}\t{vehicles}\t2\t"
                       f"{provinces}\t{start}\t{end}\t{f'13{created:%Y}{number[-6:]}' if issued else ''}\t"
                       f"{('EXPIRED' if end < today else 'VALID') if issued else ''}\t{1 if submitted else 0}\t"
                       f"{(created + hour).isoformat() if submitted else NULL}\t{created.isoformat()}\t"
                       f"{(created + 2 * hour).isoformat()}")

        def vehicle_rows() -> Iterator[str]:
            for a in apps:
                yield f"{a[0]}\t0\t{a[6][0]}"
                yield f"{a[0]}\t1\t{a[6][1]}"

        def progress_rows() -> Iterator[str]:
            for number, _, state, _, _, _, _, route in apps:
                if state in ("PROCESSING", "ISSUED", "DENIED", "RETURNED"):
                    later = "APPROVED" if state == "ISSUED" else "PENDING"
                    for k, prov in enumerate(route):
                        yield f"{number}\t{prov}\t{k}\t{'ACCEPTED' if k == 0 else later}\t{'t' if k == 0 else 'f'}"

        def change_rows() -> Iterator[str]:
            nonlocal changes
            for number, _, state, created, *_ in apps:
                frm = ""
                for k, to in enumerate(PATHS[state]):
                    changes += 1
                    yield f"{number}\t{frm}\t{to}\tusers/bulk\t批量导入\t{(created + k * hour).isoformat()}"
                    frm = to

        with conn.transaction():
            conn.execute("SET LOCAL synchronous_commit = off")
            for what, table, rows in (("applications", app_t, app_rows()), ("plates", veh_t, vehicle_rows()),
                                      ("progress rows", prog_t, progress_rows()),
                                      ("state changes", chg_t, change_rows())):
                t1 = time.perf_counter()
                n = table.copy(conn, rows)
                progress(f"  COPY {n:,} {what} in {time.perf_counter() - t1:.0f} s")
        conn.commit()
    _vacuum(app_url, ("application", "application_vehicle", "province_progress", "state_change"), progress)

    opened = 0
    with psycopg.connect(approval_url, autocommit=False) as conn:
        case_t = Table.of(conn, "review_case", [
            "id", "application", "application_number", "applicant", "origin_province", "destination_province",
            "route_provinces", "route", "permit_class", "state", "submission", "plate_numbers",
            "start_date", "end_date", "submitted_on", "acceptance_due_date", "accepted_on", "version",
            "create_time", "update_time"])
        rev_t = Table.of(conn, "review", ["id", "case_id", "province", "position", "state", "opened_on",
                                          "deadline_days", "due_date"])
        open_apps = [a for a in apps if a[2] in ("SUBMITTED", "PROCESSING")]

        def case_rows() -> Iterator[tuple[Any, ...]]:
            nonlocal opened
            for k, (number, party, state, created, start, end, plates, route) in enumerate(open_apps):
                opened += 1
                on = today - dt.timedelta(days=k % 15)
                yield (f"bc{k:030d}", f"applications/{number}", number, party, route[0], route[-1], route,
                       [{"province": p, "roads": ["G4"]} for p in route], 2,
                       "AWAITING_ACCEPTANCE" if state == "SUBMITTED" else "UNDER_REVIEW", 1, plates,
                       start, end, on, on + dt.timedelta(days=5), on if state == "PROCESSING" else None,
                       1, created, created)

        def review_rows() -> Iterator[tuple[Any, ...]]:
            for k, a in enumerate(open_apps):
                if a[2] != "PROCESSING":
                    continue
                on = today - dt.timedelta(days=k % 15)
                for pos, prov in enumerate(a[7]):
                    yield (f"br{k:027d}{pos:03d}", f"bc{k:030d}", prov, pos,
                           "PENDING" if pos % 2 == 0 else "APPROVED", on, 10, on + dt.timedelta(days=14))

        with conn.transaction():
            conn.execute("SET LOCAL synchronous_commit = off")
            for what, table, rows in (("open cases", case_t, case_rows()), ("reviews", rev_t, review_rows())):
                t1 = time.perf_counter()
                n = table.copy(conn, rows)
                progress(f"  COPY {n:,} {what} in {time.perf_counter() - t1:.0f} s")
        conn.commit()
    _vacuum(approval_url, ("review_case", "review"), progress)
    # The officers' queue counts are kept by the use cases; cases copied in are counted here.
    t1 = time.perf_counter()
    engine = create_engine(approval_url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
    try:
        with engine.begin() as sa_conn:
            rows = queue_counts.recount(sa_conn)
    finally:
        engine.dispose()
    progress(f"  counted the work queues ({rows:,} counts) in {time.perf_counter() - t1:.0f} s")
    return Loaded(applications=n_apps, parties=n_parties, open_cases=opened, state_changes=changes,
                  seconds=time.perf_counter() - t0, sample=sample)
