"""``make soak``: the started system under steady load for a few minutes; memory must not grow.

1. Start the stack on PostgreSQL, the S3 server and (when ``redis-server`` is
   installed) a Redis for the gateway, as ``make bench`` does.
2. Capacity: the submit slice (draft -> six steps -> upload -> submit, plus
   the applicant's list) as fast as ``--workers`` phones can drive it for
   ``--measure`` seconds. This also warms every process up (imports, pools,
   caches), so memory is taken after it.
3. Warm-up: the same slices at half that rate for ``--warmup`` seconds
   (default 60): every server thread, connection and allocator arena a process
   will use at that load exists by then; what grows after it is kept.
4. Soak: the same slices at half the capacity for ``--seconds`` (default 180,
   ``SOAK_SECONDS``), paced evenly; memory printed every 30 s.
5. Each service's resident memory (VmRSS) at the start and at the end of the
   soak (median of three readings a second apart); a process that grew more
   than ``--max-growth`` percent (default 5) fails the run.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from devstack import CONTEXTS, DEV_SIGN_IN, Stack  # noqa: E402
from permitkit.testing import RedisServer, S3Server, create_database, drop_database, resolve_postgres  # noqa: E402
from tests.e2e import journey  # noqa: E402
from tests.e2e.conftest import Api  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def memory(stack: Stack) -> dict[str, int]:
    """Median of three readings, a second apart, per process (KiB)."""
    readings: dict[str, list[int]] = {name: [] for name in stack.procs}
    for i in range(3):
        for name, proc in stack.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} during the soak")
            readings[name].append(rss_kib(proc.pid))
        if i < 2:
            time.sleep(1)
    return {name: int(statistics.median(v)) for name, v in readings.items()}


class Slices:
    """The submit slice as a phone drives it, each on its own travel dates (AP-6)."""

    def __init__(self, carrier: Api) -> None:
        self.carrier = carrier
        self._next = 0
        self._lock = threading.Lock()
        self.done = 0
        self.failed: list[str] = []

    def one(self) -> None:
        with self._lock:
            i = self._next
            self._next += 1
        try:
            app = journey.fill_draft(self.carrier, start_in_days=3 + 2 * i, days=1)
            journey.submit(self.carrier, app)
            self.carrier.get("/v1/applications")
        except AssertionError as e:
            with self._lock:
                self.failed.append(str(e)[:300])
            return
        with self._lock:
            self.done += 1


def capacity(slices: Slices, workers: int, seconds: float) -> float:
    """Slices a second that ``workers`` phones drive back to back for ``seconds``."""
    end = time.monotonic() + seconds
    start_done = slices.done

    def phone() -> None:
        while time.monotonic() < end:
            slices.one()

    threads = [threading.Thread(target=phone) for _ in range(workers)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (slices.done - start_done) / (time.monotonic() - t0)


def soak(slices: Slices, rate: float, seconds: float, workers: int,
         on_tick: Callable[[int], None] | None = None) -> int:
    """Schedule one slice every 1/rate s for ``seconds`` on a pool of ``workers``; all run to the end.
    Returns how many were scheduled."""
    interval = 1.0 / rate
    end = time.monotonic() + seconds
    work: queue.Queue[bool] = queue.Queue()

    def phone() -> None:
        while work.get():
            slices.one()

    threads = [threading.Thread(target=phone, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    scheduled = 0
    nxt = time.monotonic()
    last_print = nxt
    while nxt < end:
        work.put(True)
        scheduled += 1
        nxt += interval
        now = time.monotonic()
        if now - last_print >= 30 and on_tick is not None:
            on_tick(int(seconds - (end - now)))
            last_print = now
        time.sleep(max(0.0, nxt - now))
    for _ in threads:
        work.put(False)
    for t in threads:
        t.join(300)
    return scheduled


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "180")))
    ap.add_argument("--measure", type=float, default=30.0, help="seconds of the capacity run (also the warm-up)")
    ap.add_argument("--warmup", type=float, default=60.0, help="seconds at half capacity before memory is taken")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--max-growth", type=float, default=5.0, help="percent of memory growth that fails")
    ap.add_argument("--trace", metavar="SERVICE", default=os.environ.get("SOAK_TRACE", ""),
                    help="diagnosis: run SERVICE under tracemalloc (permitkit.debug), snapshot it when the "
                         "soak starts and ends, and print what grew. Tracing costs memory of its own: "
                         "that run's figures are not the soak's verdict.")
    args = ap.parse_args()
    admin, throwaway = resolve_postgres()
    s3 = S3Server()
    s3.start()
    redis = RedisServer() if _has_redis() else None
    urls = {c: create_database(admin, f"soak_{c}") for c in CONTEXTS}
    env = {f"PERMIT_{c.upper()}_DATABASE_URL": u for c, u in urls.items()}
    env.update(s3.endpoint.env())
    env.update({"PERMIT_DOCUMENTS_S3_BUCKET": "soak", "PERMIT_LOG_LEVEL": "WARNING",
                "PERMIT_DATA_DIR": str(s3.data_dir / "data"),
                "PERMIT_GATEWAY_RATE_PER_USER": "0", "PERMIT_GATEWAY_RATE_PER_ADDRESS": "0",
                # The carrier signs in with a development ticket: switched on explicitly (SI-2).
                DEV_SIGN_IN: "1"})
    if redis is not None:
        redis.start()
        env.update({"PERMIT_GATEWAY_REDIS_URL": redis.url,
                    # Limits on (through Redis) but far above the load: they run, they do not refuse.
                    "PERMIT_GATEWAY_RATE_PER_USER": "100000", "PERMIT_GATEWAY_RATE_PER_USER_BURST": "1000000"})
    trace_dir = s3.data_dir / "tracemalloc"
    if args.trace:
        env[f"PERMIT_{args.trace.upper()}_DEBUG_TRACEMALLOC"] = str(trace_dir)
    stack = Stack(env=env, log_dir=s3.data_dir / "logs")
    try:
        stack.migrate()
        stack.seed_demo()
        stack.start_on_free_ports()
        slices = Slices(Api(stack.gateway_url, stack.sign_in("carrier")["accessToken"]))
        print(f"machine: {os.cpu_count()} cores; Redis for the gateway: {'yes' if redis else 'no'}", flush=True)
        cap = capacity(slices, args.workers, args.measure)
        if cap <= 0:
            print(f"no slice completed in the capacity run: {slices.failed[:3]}")
            return 1
        rate = cap / 2
        print(f"capacity: {cap:.2f} slices/s ({slices.done} in {args.measure:.0f} s, {args.workers} phones); "
              f"warm-up {args.warmup:.0f} s, then soak at {rate:.2f} slices/s for {args.seconds:.0f} s", flush=True)
        soak(slices, rate, args.warmup, args.workers)
        before = memory(stack)
        print("  0 s (after the warm-up): " + _mib(before), flush=True)
        if args.trace:
            first = snapshot(stack, args.trace, trace_dir, 1)

        def tick(elapsed: int) -> None:
            now = {n: rss_kib(p.pid) for n, p in stack.procs.items()}
            print(f"  {elapsed} s: {slices.done} slices done; " + _mib(now), flush=True)
        failed_before = len(slices.failed)
        done_before = slices.done
        started = soak(slices, rate, args.seconds, args.workers, tick)
        after = memory(stack)
        if args.trace:
            from permitkit.debug import compare

            print(f"\n--- {args.trace} under tracemalloc: what grew during the soak ---")
            print(compare(str(first), str(snapshot(stack, args.trace, trace_dir, 2)), top=15))
            print("--- (tracing's own memory is in these figures: a traced run is a diagnosis, not a verdict)\n")
        done = slices.done - done_before
        failed = len(slices.failed) - failed_before
        print(f"soak: {started} slices scheduled, {done} done, {failed} failed")
        print(f"{'process':<12} {'start MiB':>10} {'end MiB':>10} {'growth':>8}")
        worst = 0.0
        for name in before:
            growth = (after[name] - before[name]) * 100.0 / before[name]
            worst = max(worst, growth)
            flag = "  FAIL" if growth > args.max_growth else ""
            print(f"{name:<12} {before[name] / 1024:>10.1f} {after[name] / 1024:>10.1f} {growth:>+7.1f}%{flag}")
        ok = worst <= args.max_growth and failed == 0
        print(f"\nsoak {'passed' if ok else 'FAILED'}: largest growth {worst:+.1f}% "
              f"(limit {args.max_growth:.0f}%), {failed} failed slices")
        if failed:
            print("first failures:", *slices.failed[failed_before:failed_before + 3], sep="\n  ")
        return 0 if ok else 1
    finally:
        stack.stop()
        if redis is not None:
            redis.close()
        s3.close()
        for u in urls.values():
            drop_database(admin, u)
        if throwaway:
            throwaway.stop()


def snapshot(stack: Stack, service: str, folder: Path, n: int) -> Path:
    """Ask ``service`` for tracemalloc snapshot ``n`` (SIGUSR2) and wait until it is written."""
    import signal

    pid = stack.procs[service].pid
    os.kill(pid, signal.SIGUSR2)
    path = folder / f"{service}-{pid}-{n}.snapshot"
    deadline = time.monotonic() + 120
    while not (path.exists() and path.with_suffix(".json").exists()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no snapshot {path} from {service}")
        time.sleep(0.2)
    return path


def _mib(kib: dict[str, int]) -> str:
    return " ".join(f"{n}={v / 1024:.1f}" for n, v in kib.items()) + " MiB"


def _has_redis() -> bool:
    import shutil

    return shutil.which("redis-server") is not None


if __name__ == "__main__":
    sys.exit(main())
