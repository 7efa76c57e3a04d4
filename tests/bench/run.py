"""``make bench``: figures from one run on a started stack.

1. Baseline: a trivial unary gRPC call through the same permitkit server
   (interceptors, logging) that every service uses.
2. The submit slice through the gateway: draft -> six steps -> upload ->
   submit, as a phone does it, on PostgreSQL and the S3 server.
Prints throughput and p50/p99 latencies, and the ratio between the two.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from devstack import CONTEXTS, Stack  # noqa: E402
from permitkit.logging import configure_logging  # noqa: E402
from permitkit.testing import S3Server, create_database, drop_database, resolve_postgres  # noqa: E402
from tests.e2e import journey  # noqa: E402
from tests.e2e.conftest import Api  # noqa: E402
from tests.permitkit.test_server import SERVICE, Echo, add_echo  # noqa: E402


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def run_parallel(fn: Callable[[int], None], total: int, workers: int) -> tuple[float, list[float]]:
    """Run ``fn(i)`` ``total`` times on ``workers`` threads; (elapsed s, per-call latencies ms)."""
    lat: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))
    errors: list[BaseException] = []

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None or errors:
                return
            t0 = time.perf_counter()
            try:
                fn(i)
            except BaseException as e:  # noqa: BLE001 - reported after the run
                errors.append(e)
                return
            with lock:
                lat.append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - t0, lat


def report(name: str, unit: str, elapsed: float, lat: list[float]) -> float:
    rate = len(lat) / elapsed
    print(f"{name:<34} {rate:>9.1f} {unit}/s   p50 {statistics.median(lat):7.2f} ms   "
          f"p99 {pct(lat, 99):7.2f} ms   (n={len(lat)})")
    return rate


def baseline(calls: int, workers: int) -> tuple[float, float]:
    from permitkit.server import grpc_server

    server, port = grpc_server(domain="permit.bench", services=[(add_echo, Echo(), SERVICE)], port=0)
    server.start()
    ch = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = ch.unary_unary(f"/{SERVICE}/Call", request_serializer=lambda b: b, response_deserializer=lambda b: b)
    for _ in range(200):
        stub(b"warm", timeout=5)
    elapsed, lat = run_parallel(lambda i: stub(b"ping", timeout=5), calls, workers)
    ch.close()
    server.stop(0)
    return report("grpc trivial call (baseline)", "calls", elapsed, lat), statistics.median(lat)


def slice_bench(iterations: int, workers: int) -> tuple[float, float, float]:
    admin, throwaway = resolve_postgres()
    s3 = S3Server()
    s3.start()
    urls = {c: create_database(admin, f"bench_{c}") for c in CONTEXTS}
    env = {f"PERMIT_{c.upper()}_DATABASE_URL": u for c, u in urls.items()}
    env.update(s3.endpoint.env())
    env.update({"PERMIT_DOCUMENTS_S3_BUCKET": "bench", "PERMIT_LOG_LEVEL": "WARNING",
                "PERMIT_DATA_DIR": str(s3.data_dir / "data"), "PERMIT_IDENTITY_DEV_SIGN_IN": "1",
                # Throughput is measured, not the limiter: one user drives every call.
                "PERMIT_GATEWAY_RATE_PER_USER": "0", "PERMIT_GATEWAY_RATE_PER_ADDRESS": "0"})
    stack = Stack(env=env, log_dir=s3.data_dir / "logs")
    try:
        stack.migrate()
        stack.seed_demo()
        stack.start_on_free_ports()
        carrier = Api(stack.gateway_url, stack.sign_in("carrier")["accessToken"])
        call_lat: list[float] = []
        orig = carrier.call

        def timed_call(*a: object, **kw: object) -> dict:
            t0 = time.perf_counter()
            try:
                return orig(*a, **kw)  # type: ignore[arg-type]
            finally:
                call_lat.append((time.perf_counter() - t0) * 1000)
        carrier.call = timed_call  # type: ignore[method-assign]

        def one(i: int) -> None:
            # Non-overlapping passage windows: the AP-6 duplicate check stays out of the way.
            app = journey.fill_draft(carrier, start_in_days=3 + 2 * i, days=1)
            journey.submit(carrier, app)

        one(iterations)  # warm-up, outside the figures
        call_lat.clear()
        elapsed, lat = run_parallel(one, iterations, workers)
        rate = report("submit slice via gateway", "slices", elapsed, lat)
        report("  each HTTP call of the slice", "calls", elapsed, call_lat)
        return rate, statistics.median(lat), len(call_lat) / elapsed
    finally:
        stack.stop()
        s3.close()
        for u in urls.values():
            drop_database(admin, u)
        if throwaway:
            throwaway.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=5000, help="baseline gRPC calls")
    ap.add_argument("--slices", type=int, default=40, help="submit slices")
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    # The servers log one JSON line per RPC as in production, into the void here.
    configure_logging(json=True, level="INFO", stream=open(os.devnull, "w"))  # noqa: SIM115
    print(f"machine: {os.cpu_count()} cores; client and servers share them\n")
    base_rate, base_p50 = baseline(args.calls, args.workers)
    rate, p50, call_rate = slice_bench(args.slices, args.workers)
    print(f"\nratio: one HTTP call of the slice costs {base_rate / call_rate:.1f}x a trivial gRPC call "
          f"({call_rate:.0f} vs {base_rate:.0f} calls/s); a whole slice = {p50 / base_p50:.0f}x its p50")
    return 0


if __name__ == "__main__":
    sys.exit(main())
