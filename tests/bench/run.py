"""``make bench``: what every call costs, and how reads hold at national scale.

Starts the whole stack (five services and the gateway as processes) on
PostgreSQL and the S3 server, rate limits off, and drives it over HTTP with
``--workers`` client threads (default 8), each signed in as its own carrier
with its own fleet (vehicles and agent imported from a legacy export):

1. every call a phone makes in the submit slice, one call type at a time, with
   calls/s, p50, p99 and the ratio to the cheapest authenticated call
   (GET /v1/provinces, measured before and after the others: the machine's speed
   drifts); then whole slices mixed;
2. the reads of the progress pages (list, search by number, search by plate,
   one application with its state changes, an officer's work queue, whole and searched) on the
   almost empty database, then again after bulk-loading ``--scale`` data
   (``national``: 1,000,000 applications across 100,000 parties with their
   state changes, 100,000 open cases; ``small``: a hundredth; ``none``: skip);
3. every process's resident memory after the run.

``BENCH_SCALE`` sets the default scale.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from devstack import CONTEXTS, Stack  # noqa: E402
from permit_identity.identifiers import id_check_char, uscc_check_char  # noqa: E402
from permit_identity.tickets import DEFAULT_DEV_TICKET_KEY, mint_dev_ticket  # noqa: E402
from permitkit.testing import S3Server, create_database, drop_database, resolve_postgres  # noqa: E402
from tests.bench import national  # noqa: E402
from tests.e2e import journey  # noqa: E402

GOAL_RATIO, GOAL_SUBMIT_P99, GOAL_READ_P99, GOAL_RSS_MB = 0.6, 100.0, 50.0, 150.0


# ---- measuring -------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


# ---- where the CPU goes ----------------------------------------------------------------------
# Every figure also records the CPU time each process spent per call: the stack's services,
# PostgreSQL (the backends serving the bench's databases; not the server's own background
# processes), the S3 server and the bench's own client threads.

CLK_TCK = os.sysconf("SC_CLK_TCK")
WATCHED: dict[str, int] = {}  # name -> pid, filled once the stack runs
PG_DATABASES: list[str] = []  # a part of the name of every bench database


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def _postgres_pids() -> list[int]:
    """The backends connected to a bench database (their title names the database)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                title = (d / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres:") and any(db in title for db in PG_DATABASES):
                pids.append(int(d.name))
    return pids


def cpu_snapshot() -> dict[str, float]:
    snap = {name: _cpu_seconds(pid) for name, pid in WATCHED.items()}
    snap.update({f"pg:{p}": _cpu_seconds(p) for p in _postgres_pids()})
    snap["client"] = _cpu_seconds(os.getpid())
    return snap


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per process between two snapshots, the backends summed as ``postgres``
    (one that connected meanwhile counts whole; one that left is not counted)."""
    spent: dict[str, float] = {"postgres": 0.0}
    for k, v in after.items():
        delta = max(0.0, v - before.get(k, 0.0))
        key = "postgres" if k.startswith("pg:") else k
        spent[key] = spent.get(key, 0.0) + delta
    return spent


def settle(quiet: float = 0.15, most: float = 15.0) -> None:
    """Wait until the stack has done the work the last calls set off (events delivered and
    applied): until its processes use less than ``quiet`` of a core, at most ``most``
    seconds. A figure's CPU includes that work; the next figure starts on a quiet machine."""
    deadline = time.monotonic() + most
    while time.monotonic() < deadline:
        a = cpu_snapshot()
        time.sleep(0.25)
        spent = cpu_spent(a, cpu_snapshot())
        if sum(v for k, v in spent.items() if k != "client") < quiet * 0.25:
            return


@dataclass
class Figure:
    name: str
    calls: int
    seconds: float
    lat: list[float]
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds during the figure

    def cpu_ms_per_call(self) -> dict[str, float]:
        return {k: v * 1000 / self.calls for k, v in self.cpu.items() if self.calls}

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.lat)

    @property
    def p99(self) -> float:
        return pct(self.lat, 99)


def run_parallel(name: str, fn: Callable[[int, int], None], per_worker: int, workers: int) -> Figure:
    """``fn(worker, k)`` for k in range(per_worker) on each of ``workers`` threads at once."""
    lat: list[list[float]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []
    start = threading.Barrier(workers + 1)

    def worker(w: int) -> None:
        start.wait()
        for k in range(per_worker):
            if errors:
                return
            t0 = time.perf_counter()
            try:
                fn(w, k)
            except BaseException as e:  # noqa: BLE001 - reported after the run
                errors.append(e)
                return
            lat[w].append((time.perf_counter() - t0) * 1000)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    before = cpu_snapshot()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    settle()
    after = cpu_snapshot()
    if errors:
        raise errors[0]
    flat = [x for w in lat for x in w]
    return Figure(name, len(flat), elapsed, flat, cpu_spent(before, after))


class Client:
    """One phone: its own HTTP connection and bearer token."""

    def __init__(self, base: str, token: str) -> None:
        self.http = httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=60)

    def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> dict:
        r = self.http.request(method, path, **kw)
        if r.status_code != expect:
            raise AssertionError(f"{method} {path} -> {r.status_code}: {r.text[:500]}")
        return r.json() if r.content else {}

    def get(self, path: str, **kw: Any) -> dict:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: dict | None = None, **kw: Any) -> dict:
        return self.call("POST", path, json=body if body is not None else {}, **kw)

    def patch(self, path: str, body: dict, **kw: Any) -> dict:
        return self.call("PATCH", path, json=body, **kw)


# ---- the bench carriers ----------------------------------------------------------------------

def _uscc(n: int) -> str:
    body = f"91130100MA{n:07d}"
    return body + uscc_check_char(body)


def _id_number(n: int) -> str:
    body = f"13010219800101{n % 1000:03d}"
    return body + id_check_char(body)


def carrier_export(count: int) -> dict[str, Any]:
    """A legacy export of ``count`` carriers, each with its own tractor, trailer and agent."""
    accounts = []
    for n in range(count):
        accounts.append({
            "legacy_id": f"LB{n:04d}", "kind": "ENTERPRISE", "name": f"冀运大件第{n}号物流有限公司",
            "uscc": _uscc(n), "province": "130000", "address": "河北省石家庄市长安区中山东路100号",
            "contact_phone": "0311-86001234",
            "legal_representative": {"name": "赵建国", "id_number": _id_number(n)},
            "vehicles": [
                {"plate": f"冀A9{n:04d}", "type": "重型半挂牵引车", "make_model": "解放牌CA4250P66K24T1A1E5",
                 "curb_mass_kg": 8800, "axles": 3, "wheelbase_mm": 3300, "tyres": 10, "length_mm": 6900,
                 "width_mm": 2500, "height_mm": 3350},
                {"plate": f"冀B9{n:03d}挂", "type": "重型平板半挂车", "make_model": "通华牌THT9400TDP",
                 "curb_mass_kg": 9500, "axles": 3, "wheelbase_mm": 7600, "tyres": 12, "length_mm": 13000,
                 "width_mm": 3000, "height_mm": 1600}],
            "agents": [{"name": "李四", "id_number": _id_number(500 + n), "phone": "13800138000"}],
            "applications": []})
    return {"format": "permit-legacy-export/1", "exported_at": "2026-11-30T18:00:00+08:00", "accounts": accounts}


def sign_in(stack: Stack, identity: dict[str, str]) -> str:
    key = stack.process_env().get("PERMIT_IDENTITY_DEV_TICKET_KEY") or DEFAULT_DEV_TICKET_KEY
    if identity["channel"] == "STAFF":
        ticket = mint_dev_ticket(key, channel="STAFF", officer=identity["officer"])
    else:
        ticket = mint_dev_ticket(key, channel=identity["channel"], user_type="LEGAL", uid=identity["uid"],
                                 name=identity["name"], uscc=identity["uscc"])
    r = httpx.post(f"{stack.gateway_url}/v1/sessions:signIn",
                   json={"channel": f"CHANNEL_{identity['channel']}", "ticket": ticket}, timeout=30)
    if r.status_code != 200:
        raise RuntimeError(f"sign-in failed: {r.status_code} {r.text}")
    return str(r.json()["accessToken"])


# ---- the bench -------------------------------------------------------------------------------

@dataclass
class Bench:
    stack: Stack
    workers: int
    carriers: list[Client] = field(default_factory=list)
    parties: list[str] = field(default_factory=list)
    officer: Client | None = None
    days: list[int] = field(default_factory=list)  # next free passage window of each carrier
    timed: list[Timed] = field(default_factory=list)  # the carriers' clients of the whole slices

    def window(self, w: int) -> int:
        """Passage windows of one carrier never overlap: AP-6 stays out of the way."""
        d = self.days[w]
        self.days[w] += 2
        return d


SLICE_STEPS = ["cargo", "vehicles", "overall", "passage", "agent"]


def slice_calls(b: Bench, per_worker: int) -> list[Figure]:
    """Each call of the submit slice on its own, every worker on its own drafts."""
    w_n = b.workers
    drafts: list[list[dict]] = [[] for _ in range(w_n)]
    bodies: list[list[dict]] = [[] for _ in range(w_n)]
    out: list[Figure] = []
    # AP-1: each carrier reads the notice once (the receipt is good for a day), outside the figures.
    receipts = [journey.notice_receipt(c) for c in b.carriers]

    def create(w: int, k: int) -> None:
        drafts[w].append(b.carriers[w].post("/v1/applications",
                                            {"noticeReceipt": receipts[w], "requestId": str(uuid.uuid4())}))
    out.append(run_parallel("POST /v1/applications (new draft)", create, per_worker, w_n))

    fleets: list[tuple[list[dict], list[dict]]] = [([], []) for _ in range(w_n)]

    def suggest_vehicles(w: int, k: int) -> None:
        fleets[w] = (b.carriers[w].get("/v1/vehicles:suggest", params={"platePrefix": "冀"})["vehicles"],
                     fleets[w][1])
    out.append(run_parallel("GET /v1/vehicles:suggest", suggest_vehicles, per_worker, w_n))

    def suggest_agents(w: int, k: int) -> None:
        fleets[w] = (fleets[w][0], b.carriers[w].get("/v1/agents:suggest", params={"namePrefix": ""})["agents"])
    out.append(run_parallel("GET /v1/agents:suggest", suggest_agents, per_worker, w_n))

    # The form's bodies, as journey.fill_draft builds them from the carrier's own fleet.
    for w in range(w_n):
        vehicles, agents = fleets[w]
        tractor = next(v for v in vehicles if v["plateNumber"].startswith("冀A"))
        trailer = next(v for v in vehicles if v["plateNumber"].endswith("挂"))
        for _ in range(per_worker):
            bodies[w].append(journey.step_bodies([tractor, trailer], agents[0], start_in_days=b.window(w), days=1))

    for step in SLICE_STEPS:
        def patch(w: int, k: int, step: str = step) -> None:
            d = drafts[w][k]
            drafts[w][k] = b.carriers[w].patch(f"/v1/{d['name']}", {**bodies[w][k][step], "etag": d["etag"]},
                                               params={"updateMask": step})
        out.append(run_parallel(f"PATCH /v1/applications/* ({step})", patch, per_worker, w_n))

    docs: list[list[dict]] = [[] for _ in range(w_n)]

    def upload(w: int, k: int) -> None:
        docs[w].append(b.carriers[w].call("POST", "/v1/documents", data={"kind": "DOCUMENT_KIND_TRANSPORT_PLAN"},
                                          files={"file": ("运输计划.png", journey.tiny_png(), "image/png")}))
    out.append(run_parallel("POST /v1/documents (upload)", upload, per_worker, w_n))

    def materials(w: int, k: int) -> None:
        d = drafts[w][k]
        drafts[w][k] = b.carriers[w].patch(
            f"/v1/{d['name']}", {"materials": [{"kind": "MATERIAL_KIND_OTHER", "document": docs[w][k]["name"]}],
                                 "etag": d["etag"]}, params={"updateMask": "materials"})
    out.append(run_parallel("PATCH /v1/applications/* (materials)", materials, per_worker, w_n))

    def submit(w: int, k: int) -> None:
        d = drafts[w][k]
        drafts[w][k] = b.carriers[w].post(f"/v1/{d['name']}:submit", {"etag": d["etag"]})
    out.append(run_parallel("POST /v1/applications/*:submit", submit, per_worker, w_n))
    return out


class Timed(Client):
    """A carrier's client that also times each of its calls into ``sink``."""

    def __init__(self, of: Client) -> None:
        self.http = of.http
        self.sink: list[float] = []
        self.lock = threading.Lock()

    def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> dict:
        t0 = time.perf_counter()
        try:
            return super().call(method, path, expect, **kw)
        finally:
            with self.lock:
                self.sink.append((time.perf_counter() - t0) * 1000)


def whole_slices(b: Bench, per_worker: int) -> tuple[Figure, Figure]:
    """Whole slices, every call type mixed, as phones do it. The same timed clients every
    run: the notice (AP-1, read 5 s before the first draft, good for a day) is read by the
    warm-up run, not inside the figures."""
    if len(b.timed) != len(b.carriers):
        b.timed = [Timed(c) for c in b.carriers]
    call_lat: list[float] = []
    lock = threading.Lock()
    for t in b.timed:
        t.sink, t.lock = call_lat, lock
    starts = [[b.window(w) for _ in range(per_worker)] for w in range(b.workers)]

    def one(w: int, k: int) -> None:
        app = journey.fill_draft(b.timed[w], start_in_days=starts[w][k], days=1, plate_prefix="冀A")
        journey.submit(b.timed[w], app)
    whole = run_parallel("whole submit slice (mixed)", one, per_worker, b.workers)
    return whole, Figure("  its HTTP calls, all kinds", len(call_lat), whole.seconds, call_lat)


def reads(b: Bench, calls: int, sample: dict[str, dict[str, str]], workers: int) -> list[Figure]:
    """The progress pages: list, search by number and by plate, one application with its
    state changes, the officer's work queue, whole and searched by plate; ``workers``
    clients at once."""
    per = max(1, calls // workers)
    out = []
    out.append(run_parallel("list (GET /v1/applications)",
                            lambda w, k: b.carriers[w].get("/v1/applications"), per, workers))
    out.append(run_parallel("search by number", lambda w, k: b.carriers[w].get(
        "/v1/applications:search", params={"query": sample[b.parties[w]]["number"]}), per, workers))
    out.append(run_parallel("search by plate", lambda w, k: b.carriers[w].get(
        "/v1/applications:search", params={"query": sample[b.parties[w]]["plate"]}), per, workers))

    def page(w: int, k: int) -> None:
        name = f"applications/{sample[b.parties[w]]['number']}"
        b.carriers[w].get(f"/v1/{name}")
        b.carriers[w].get(f"/v1/{name}/stateChanges")
    out.append(run_parallel("progress page (application + changes)", page, per, workers))
    assert b.officer is not None
    officer = b.officer
    out.append(run_parallel("officer work queue (GET /v1/workQueue)",
                            lambda w, k: officer.get("/v1/workQueue", params={"pageSize": 20}), per, workers))
    out.append(run_parallel("officer work queue searched by plate", lambda w, k: officer.get(
        "/v1/workQueue", params={"pageSize": 20, "query": sample[b.parties[w]]["plate"]}), per, workers))
    return out


def read_suite(b: Bench, calls: int, sample: dict[str, dict[str, str]]) -> tuple[list[Figure], list[Figure]]:
    """The reads answered one at a time (one client), then with every client at once."""
    return reads(b, calls // 4, sample, 1), reads(b, calls, sample, b.workers)


def slowest(lat: list[float], n: int) -> list[tuple[int, float]]:
    """The ``n`` slowest calls as (index in the run, ms): a tail made of the first calls
    is a cold cache, a tail spread over the run is not."""
    return sorted(enumerate(lat), key=lambda x: -x[1])[:n]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# ---- printing --------------------------------------------------------------------------------

def table(figs: list[Figure], cheapest: Figure, p99_goal: dict[str, float]) -> list[str]:
    misses = []
    print(f"{'call':<42} {'calls/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x cheapest':>10}")
    print("-" * 80)
    for f in figs:
        ratio = f.rate / cheapest.rate
        flag = ""
        if f is not cheapest and ratio < GOAL_RATIO:
            flag = f"  < {GOAL_RATIO}x"
            misses.append(f"{f.name}: {ratio:.2f}x")
        goal = p99_goal.get(f.name)
        if goal is not None and f.p99 > goal:
            flag += f"  p99 > {goal:.0f} ms"
            misses.append(f"{f.name}: p99 {f.p99:.0f} ms")
        print(f"{f.name:<42} {f.rate:>8.1f} {f.p50:>8.1f} {f.p99:>8.1f} {ratio:>9.2f}x{flag}")
    return misses


def serving(name: str) -> str:
    """The service the gateway hands a call of the bench to."""
    if "/v1/me" in name:
        return "identity"
    if "/v1/documents" in name:
        return "documents"
    if "/v1/provinces" in name:
        return "routing"
    return "application"


def cpu_table(figs: list[Figure], cheapest: Figure) -> None:
    """CPU ms per call by process: what a call costs the machine, wherever it is spent.

    The last column bounds the ratio to the cheapest call by CPU: the ratio the call would
    have if the service serving it did no more work than routing does for the cheapest
    call (answer from memory), every other process (gateway, client, PostgreSQL, the
    services its own calls and events reach) costing what it did."""
    names = [n for n in [*WATCHED, "postgres", "client"]
             if any(f.cpu_ms_per_call().get(n, 0.0) >= 0.05 for f in figs)]
    short = {n: n[:7] for n in names}
    base = cheapest.cpu_ms_per_call()
    print(f"{'CPU ms per call':<42} " + " ".join(f"{short[n]:>7}" for n in names) + f" {'total':>7} {'best x':>7}")
    print("-" * (43 + 8 * (len(names) + 2)))
    for f in figs:
        per = f.cpu_ms_per_call()
        total = sum(per.values())
        floor = total - per.get(serving(f.name), 0.0) + base.get("routing", 0.0)
        best = sum(base.values()) / floor if floor > 0 else float("nan")
        print(f"{f.name:<42} " + " ".join(f"{per.get(n, 0.0):>7.2f}" for n in names)
              + f" {total:>7.2f} {best:>6.2f}x")
    print(f"best x: the ratio to the cheapest call, by CPU, if the service serving the call did no "
          f"more work than {serving(cheapest.name)} does for the cheapest call; the other processes as measured")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default=os.environ.get("BENCH_SCALE", "national"),
                    choices=[*national.SCALES, "none"])
    ap.add_argument("--workers", type=int, default=8, help="client threads (one carrier each)")
    ap.add_argument("--calls", type=int, default=800, help="calls of each read measured")
    ap.add_argument("--drafts", type=int, default=25, help="drafts per worker through each step")
    ap.add_argument("--slices", type=int, default=3, help="whole mixed slices per worker")
    ap.add_argument("--keep", action="store_true", help="keep the databases (printed) after the run")
    args = ap.parse_args()
    w_n = args.workers
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; clients and servers share them; "
          f"{w_n} client threads, rate limits off, PostgreSQL + S3 server\n", flush=True)

    admin, throwaway = resolve_postgres()
    s3 = S3Server()
    s3.start()
    tag = uuid.uuid4().hex[:6]
    urls = {c: create_database(admin, f"bench_{tag}_{c}") for c in CONTEXTS}
    PG_DATABASES.append(f"bench_{tag}_")
    env = {f"PERMIT_{c.upper()}_DATABASE_URL": u for c, u in urls.items()}
    env.update(s3.endpoint.env())
    env.update({"PERMIT_DOCUMENTS_S3_BUCKET": "bench", "PERMIT_LOG_LEVEL": "WARNING",
                "PERMIT_DATA_DIR": str(s3.data_dir / "data"), "PERMIT_IDENTITY_DEV_SIGN_IN": "1",
                # Throughput is measured, not the limiter: one user drives every call.
                "PERMIT_GATEWAY_RATE_PER_USER": "0", "PERMIT_GATEWAY_RATE_PER_ADDRESS": "0"})
    stack = Stack(env=env, log_dir=s3.data_dir / "logs")
    misses: list[str] = []
    try:
        stack.migrate()
        stack.seed_demo()
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
            json.dump(carrier_export(w_n), f, ensure_ascii=False)
        stack.run("permit_identity", "import-legacy", f.name)
        stack.run("permit_application", "import-legacy", f.name)
        os.unlink(f.name)
        stack.start_on_free_ports()
        WATCHED.update({name: proc.pid for name, proc in stack.procs.items()})
        if s3.proc is not None:
            WATCHED["s3"] = s3.proc.pid
        b = Bench(stack, w_n, days=[3] * w_n)

        def sign_in_everyone() -> None:
            """Fresh sessions (an access token lives minutes; the bulk load takes longer)."""
            b.carriers.clear()
            b.parties.clear()
            for n in range(w_n):
                token = sign_in(stack, {"channel": "APP", "uid": f"bench-{tag}-{n}",
                                        "name": f"冀运大件第{n}号物流有限公司", "uscc": _uscc(n)})
                b.carriers.append(Client(stack.gateway_url, token))
                b.parties.append(b.carriers[-1].get("/v1/me").get("party", f"parties/LB{n:04d}"))
            b.officer = Client(stack.gateway_url, sign_in(stack, {"channel": "STAFF", "officer": "hebei-accept"}))
        sign_in_everyone()
        # Warm every path once (connections, caches), outside the figures.
        whole_slices(b, 1)

        per = max(1, args.calls // w_n)
        cheapest = run_parallel("GET /v1/provinces (cheapest)",
                                lambda w, k: b.carriers[w].get("/v1/provinces"), per, w_n)
        me = run_parallel("GET /v1/me", lambda w, k: b.carriers[w].get("/v1/me"), per, w_n)
        listing = run_parallel("GET /v1/applications", lambda w, k: b.carriers[w].get("/v1/applications"),
                               per, w_n)
        steps = slice_calls(b, args.drafts)
        # The machine's speed drifts within a run: the cheapest call measured before and after
        # the others, and the ratios taken to both together.
        again = run_parallel("GET /v1/provinces (cheapest)",
                             lambda w, k: b.carriers[w].get("/v1/provinces"), per, w_n)
        first_rate = cheapest.rate
        cheapest = Figure(cheapest.name, cheapest.calls + again.calls, cheapest.seconds + again.seconds,
                          cheapest.lat + again.lat,
                          {k: cheapest.cpu.get(k, 0.0) + again.cpu.get(k, 0.0) for k in {*cheapest.cpu, *again.cpu}})
        whole, mixed = whole_slices(b, args.slices)
        print(f"== every call, {w_n} clients (one call type at a time); the cheapest call ran "
              f"{first_rate:.1f}/s before the others and {again.rate:.1f}/s after "
              f"(drift {100 * (again.rate / first_rate - 1):+.0f} %), the ratios use both")
        misses += table([cheapest, me, listing, *steps], cheapest,
                        {"POST /v1/applications/*:submit": GOAL_SUBMIT_P99})
        print()
        cpu_table([cheapest, me, listing, *steps], cheapest)
        print(f"\n== whole slices, every call mixed: {whole.rate:.2f} slices/s, p50 {whole.p50:.0f} ms, "
              f"p99 {whole.p99:.0f} ms; its calls {mixed.rate:.1f} calls/s ({mixed.rate / cheapest.rate:.2f}x "
              f"cheapest), p50 {mixed.p50:.1f} ms, p99 {mixed.p99:.1f} ms\n", flush=True)

        # Reads: first on the almost empty database (the bench carriers' own applications).
        own: dict[str, dict[str, str]] = {}
        for w in range(w_n):
            first = b.carriers[w].get("/v1/applications", params={"pageSize": 1})["applications"][0]
            own[b.parties[w]] = {"number": first["number"], "plate": f"冀A9{w:04d}"}
        empty1, empty8 = read_suite(b, args.calls, own)
        for f1, f8 in zip(empty1, empty8, strict=True):
            print(f"  almost empty: {f1.name:<40} p99 {f1.p99:.1f} ms (1 client), {f8.p99:.1f} ms ({w_n} clients)",
                  flush=True)
        loaded1: list[Figure] | None = None
        loaded8: list[Figure] | None = None
        if args.scale != "none":
            n_parties, n_apps, n_open = national.SCALES[args.scale]
            print(f"== loading '{args.scale}' data: {n_apps:,} applications, {n_parties:,} parties, "
                  f"{n_open:,} open cases (COPY) ...", flush=True)
            loaded = national.load(urls["application"], urls["approval"], scale=args.scale,
                                   bench_parties=b.parties, progress=lambda s: print(s, flush=True))
            print(f"  loaded in {loaded.seconds:.0f} s ({loaded.state_changes:,} state changes)\n", flush=True)
            sign_in_everyone()
            loaded1, loaded8 = read_suite(b, args.calls, loaded.sample)
        print(f"== progress-page reads: p99 (p50) ms, almost empty database vs '{args.scale}', "
              f"answered one at a time (1 client) and with {w_n} clients at once")
        print(f"{'read':<40} {'empty, 1':>14} {args.scale + ', 1':>16} {'empty, ' + str(w_n):>15} "
              f"{args.scale + ', ' + str(w_n):>17}")
        print("-" * 106)

        def cell(f: Figure, width: int) -> str:
            return f"{f'{f.p99:.1f} ({f.p50:.1f})':>{width}}"
        for i, e in enumerate(empty1):
            line = f"{e.name:<40} {cell(e, 14)}"
            line += f" {cell(loaded1[i], 16)}" if loaded1 else f" {'-':>16}"
            line += f" {cell(empty8[i], 15)}"
            line += f" {cell(loaded8[i], 17)}" if loaded8 else f" {'-':>17}"
            if loaded1 and loaded1[i].p99 > GOAL_READ_P99:
                line += f"  p99 > {GOAL_READ_P99:.0f} ms"
                misses.append(f"{e.name} at {args.scale} scale (1 client): p99 {loaded1[i].p99:.0f} ms")
            print(line)
        if loaded1:
            print(f"slowest calls at '{args.scale}', 1 client (ms, and which call of the run it was):")
            for f in loaded1:
                print(f"  {f.name:<40} " + ", ".join(f"{ms:.1f} (#{i + 1})" for i, ms in slowest(f.lat, 3))
                      + f" of {len(f.lat)}")

        print("\n== resident memory after the bench")
        for name, proc in stack.procs.items():
            mb = rss_mb(proc.pid)
            flag = f"  > {GOAL_RSS_MB:.0f} MB" if mb > GOAL_RSS_MB else ""
            if flag:
                misses.append(f"{name} RSS {mb:.0f} MB")
            print(f"  {name:<12} {mb:7.1f} MB{flag}")
        print("\n== goals: " + ("all met" if not misses else "missed: " + "; ".join(misses)), flush=True)
    finally:
        stack.stop()
        s3.close()
        if args.keep:
            print("databases kept: " + ", ".join(urls.values()))
        else:
            for u in urls.values():
                drop_database(admin, u)
        if throwaway:
            throwaway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
