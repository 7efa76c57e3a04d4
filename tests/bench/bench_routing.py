"""Routing benchmark: route text recognition throughput and history recommendation latency.

    .venv/bin/python tests/bench/bench_routing.py [--size N] [--applicants N]
        [--texts N] [--queries N] [--database-url URL]

Loads ``--size`` approved routes across ``--applicants`` applicants into a fresh
database (PostgreSQL: DATABASE_URL, else the local server, else a throwaway
cluster; SQLite when PostgreSQL is not installed), starts a real routing gRPC
server on a loopback port and prints:
- recognition throughput in routes/s, in process and through ParseRouteText;
- RecommendRoutes latency p50/p99 through gRPC with that history.
The issue's figure is ``--size 1000000 --applicants 10000``; the default is
sized to finish in well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from permit.routing.v1 import routing_service_pb2 as pb
from permit.routing.v1 import routing_service_pb2_grpc as pb_grpc
from permit_routing.__main__ import MIGRATIONS
from permit_routing.bootstrap import build
from permit_routing.config import Settings
from permit_routing.models import approval_weight
from permit_routing.recognition import parse_route_text
from permit_routing.reference import Link, ReferenceData, load_reference_data
from permit_routing.routes import Row, route_key, rows_to_json
from permitkit.client import call_metadata
from permitkit.context import Principal
from permitkit.logging import configure_logging
from permitkit.migrations import upgrade
from permitkit.server import build_server

SEPARATORS = ["-", "－", "—", "——", "→", "、", " - "]
TERMINATORS = ["；\n", ";\r\n", "；", "\n", "；\n\n"]


@dataclass(frozen=True)
class PoolRoute:
    origin: str
    destination: str
    rows: tuple[Row, ...]
    key: str
    rows_json: str


def _path(ref: ReferenceData, rng: random.Random, origin: str, length: int) -> list[str]:
    """A random walk over land and ferry links, without revisiting a province."""
    path = [origin]
    while len(path) < length:
        nxt = [c for c in ref.neighbours(path[-1], Link.LAND) + ref.neighbours(path[-1], Link.FERRY)
               if c not in path]
        if not nxt:
            break
        path.append(rng.choice(nxt))
    return path


def _roads(ref: ReferenceData, rng: random.Random) -> tuple[str, ...]:
    exp = rng.sample(ref.expressways, rng.randint(1, 3))
    roads = [e.display_name for e in exp]
    if rng.random() < 0.4:
        roads.append(f"S{rng.randint(1, 399)}")
    return tuple(roads)


def route_pool(ref: ReferenceData, rng: random.Random, *, pairs: int = 60,
               per_pair: int = 40) -> list[PoolRoute]:
    """Distinct routes concentrated on a few origin/destination pairs, as in real traffic."""
    pool: list[PoolRoute] = []
    codes = [p.code for p in ref.provinces if ref.neighbours(p.code, Link.LAND)]
    seen: set[tuple[str, str, str]] = set()
    while len(pool) < pairs * per_pair:
        walk = _path(ref, rng, rng.choice(codes), rng.randint(2, 6))
        if len(walk) < 2:
            continue
        for _ in range(per_pair):
            rows = tuple(Row(p, _roads(ref, rng)) for p in walk)
            key = route_key(rows)
            if (walk[0], walk[-1], key) in seen:
                continue
            seen.add((walk[0], walk[-1], key))
            pool.append(PoolRoute(walk[0], walk[-1], rows, key,
                                  json.dumps(rows_to_json(rows), ensure_ascii=False)))
    return pool


def history_rows(pool: list[PoolRoute], rng: random.Random, size: int, applicants: int,
                 pairs: dict[int, list[tuple[str, str]]]) -> Iterator[tuple[Any, ...]]:
    """``size`` projection rows, ``size // applicants`` distinct routes per applicant.

    ``pairs`` collects a few origin/destination pairs each applicant has, to query.
    """
    per = max(1, size // applicants)
    now = dt.datetime.now(dt.UTC)
    for a in range(applicants):
        party = f"parties/bench{a:06d}"
        chosen = rng.sample(pool, min(per, len(pool)))
        pairs[a] = [(r.origin, r.destination) for r in chosen[:3]]
        for route in chosen:
            last = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 700))
            times = rng.randint(1, 20)
            # As if every approval had happened at the last one: close enough for load.
            score = math.log2(times) + approval_weight(last)
            yield (party, route.origin, route.destination, route.key, route.rows_json, times, score,
                   last - dt.timedelta(days=rng.randint(0, 300)), last, f"applications/B{a:06d}", now, now)


COLUMNS = ("applicant", "origin_province", "destination_province", "route_key", "rows", "times_approved",
           "rank_score", "first_approve_time", "last_approve_time", "last_application", "create_time", "update_time")


def load_history(url: str, rows: Iterator[tuple[Any, ...]]) -> int:
    n = 0
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
            with conn.cursor() as cur, cur.copy(
                    f"COPY approved_route ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            conn.execute("ANALYZE approved_route")
        return n
    import sqlite3

    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    with conn:
        batch: list[tuple[Any, ...]] = []
        sql = (f"INSERT INTO approved_route ({', '.join(COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(COLUMNS))})")
        for row in rows:
            batch.append(tuple(v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for v in row))
            if len(batch) >= 10_000:
                conn.executemany(sql, batch)
                n += len(batch)
                batch.clear()
        conn.executemany(sql, batch)
        n += len(batch)
        conn.execute("ANALYZE")
    conn.close()
    return n


def _typed(ref: ReferenceData, rng: random.Random, road: str) -> str:
    e = ref.normalise_road(road).expressway
    return rng.choice([e.code, e.name, e.display_name, e.code.lower()]) if e else road


def messy_text(ref: ReferenceData, rng: random.Random, route: PoolRoute) -> str:
    """The route as a carrier would paste it: aliases, dash variants, mixed punctuation."""
    out = []
    for row in route.rows:
        p = ref.province(row.province)
        assert p is not None
        out.append(rng.choice(p.names) + rng.choice(["：", ":", " ： "]))
        out.append(rng.choice(SEPARATORS).join(_typed(ref, rng, r) for r in row.roads))
        out.append(rng.choice(TERMINATORS))
    return "".join(out)


@contextlib.contextmanager
def database(url: str | None) -> Iterator[tuple[str, str]]:
    """A fresh database: the given URL, a new PostgreSQL database (dropped after), or SQLite."""
    if url:
        yield url, "given"
        return
    from permitkit.testing import create_database, drop_database, resolve_postgres

    try:
        admin, throwaway = resolve_postgres()
    except RuntimeError:
        with tempfile.TemporaryDirectory(prefix="bench-routing-") as d:
            yield f"sqlite:///{Path(d) / 'routing.db'}", "sqlite"
        return
    made = create_database(admin, "bench_routing")
    try:
        yield made, "postgresql"
    finally:
        drop_database(admin, made)
        if throwaway:
            throwaway.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(*, size: int, applicants: int, texts: int, queries: int, database_url: str | None,
        seed: int = 7, configure_logs: bool = True) -> dict[str, float]:
    """Load the history, measure, print one line per figure; returns the figures."""
    if configure_logs:
        configure_logging(json=True, level="WARNING")  # no access-log line per measured call
    rng = random.Random(seed)
    ref = load_reference_data()
    pool = route_pool(ref, rng)
    results: dict[str, float] = {}
    with database(database_url) as (url, kind):
        upgrade(url, MIGRATIONS)
        started = time.perf_counter()
        pairs: dict[int, list[tuple[str, str]]] = {}
        loaded = load_history(url, history_rows(pool, rng, size, applicants, pairs))
        load_s = time.perf_counter() - started
        print(f"routing bench: history of {loaded:,} approved routes across {applicants:,} applicants "
              f"({kind}), loaded in {load_s:.1f} s")

        samples = [messy_text(ref, rng, rng.choice(pool)) for _ in range(texts)]
        started = time.perf_counter()
        parsed_rows = sum(len(parse_route_text(ref, t).rows) for t in samples)
        elapsed = time.perf_counter() - started
        results["recognition_routes_per_s"] = texts / elapsed
        print(f"recognition, in process:          {texts / elapsed:>9,.0f} routes/s "
              f"({texts:,} pasted routes, {parsed_rows / texts:.1f} provinces each)")

        settings = Settings.from_env({"PERMIT_ROUTING_DATABASE_URL": url, "PERMIT_LOG_LEVEL": "WARNING"})
        app = build(settings, ref=ref)
        server, port = build_server(app, host="127.0.0.1", port=0)
        server.start()
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = pb_grpc.RoutingServiceStub(channel)
                grpc_texts = samples[: max(1, texts // 4)]
                started = time.perf_counter()
                for t in grpc_texts:
                    stub.ParseRouteText(pb.ParseRouteTextRequest(text=t), timeout=10)
                elapsed = time.perf_counter() - started
                results["recognition_grpc_routes_per_s"] = len(grpc_texts) / elapsed
                print(f"recognition, gRPC ParseRouteText: {len(grpc_texts) / elapsed:>9,.0f} routes/s "
                      f"(1 caller, {len(grpc_texts):,} calls)")

                per = max(1, size // applicants)
                latencies: deque[float] = deque()
                found = 0
                for _ in range(queries):
                    a = rng.randrange(applicants)
                    origin, destination = rng.choice(pairs[a])
                    md = call_metadata(Principal(subject=f"users/bench{a}", party=f"parties/bench{a:06d}",
                                                 roles=frozenset({"applicant"})))
                    started = time.perf_counter()
                    resp = stub.RecommendRoutes(pb.RecommendRoutesRequest(
                        origin_province=origin, destination_province=destination, page_size=5),
                        metadata=md, timeout=10)
                    latencies.append((time.perf_counter() - started) * 1000)
                    found += len(resp.routes) > 0
                lat = list(latencies)
                results["recommend_p50_ms"] = statistics.median(lat)
                results["recommend_p99_ms"] = percentile(lat, 0.99)
                print(f"recommendation, gRPC RecommendRoutes: p50 {results['recommend_p50_ms']:.2f} ms, "
                      f"p99 {results['recommend_p99_ms']:.2f} ms (1 caller, {queries:,} queries, "
                      f"{per} routes per applicant, {found / queries:.0%} with a recommendation)")
        finally:
            server.stop(0)
            app.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200_000, help="approved routes in the history")
    parser.add_argument("--applicants", type=int, default=0,
                        help="applicants the history spreads over (default: size / 100)")
    parser.add_argument("--texts", type=int, default=20_000, help="pasted routes to recognise")
    parser.add_argument("--queries", type=int, default=2_000, help="recommendation calls")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_ROUTING_DATABASE_URL"),
                        help="an empty database to use (default: a fresh one, dropped after)")
    args = parser.parse_args(argv)
    applicants = args.applicants or max(1, args.size // 100)
    run(size=args.size, applicants=applicants, texts=args.texts, queries=args.queries,
        database_url=args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
