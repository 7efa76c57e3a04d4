"""Run the whole system locally: migrate, seed demo data, start five services and
the gateway, print how to get in. Ctrl-C stops everything.

``python scripts/devstack.py``            embedded defaults (SQLite files, local folder)
``python scripts/devstack.py token NAME`` sign in a demo persona, print its access token

The e2e tests use :class:`Stack` with PostgreSQL URLs and a real S3 server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
CONTEXTS = ("identity", "application", "routing", "documents", "approval", "notifications")
DEFAULT_PORTS = {"identity": 50051, "application": 50052, "routing": 50053, "documents": 50054,
                 "approval": 50055, "notifications": 50056, "gateway": 8080}
DEMO_EXPORT = ROOT / "services/identity/permit_identity/demo/legacy_export.json"
# Switches identity's development ticket provider on (off unless set; refused in production).
DEV_SIGN_IN = "PERMIT_IDENTITY_DEV_SIGN_IN"

# Demo personas: how each signs in through the development identity provider.
PERSONAS: dict[str, dict[str, str]] = {
    "carrier": {"channel": "APP", "user_type": "LEGAL", "legacy": "L1001"},
    "person": {"channel": "APP", "user_type": "PERSON", "legacy": "L2001"},
    "newcomer": {"channel": "WECHAT", "user_type": "PERSON", "id_number": "11010519491231002X",
                 "name": "新用户"},
    "hebei-accept": {"channel": "STAFF", "officer": "hebei-accept"},
    "shandong-review": {"channel": "STAFF", "officer": "shandong-review"},
    "jiangsu-review": {"channel": "STAFF", "officer": "jiangsu-review"},
    "beijing-review": {"channel": "STAFF", "officer": "beijing-review"},
}

PERSONA_LABELS = {
    "carrier": "法人用户（国家政务服务平台APP，已关联原账户）",
    "person": "个人用户（APP，已关联原账户）",
    "newcomer": "新用户（微信小程序，需提交经营许可证）",
    "hebei-accept": "河北省审批人员",
    "shandong-review": "山东省审批人员",
    "jiangsu-review": "江苏省审批人员",
    "beijing-review": "北京市审批人员",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Generous: on a loaded machine six interpreters importing at once can take tens of seconds;
# a process that exits during start-up is reported at once.
def _wait_port(port: int, proc: subprocess.Popen[bytes], name: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode} during start-up")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{name} did not listen on port {port} within {timeout}s")


@dataclass
class Stack:
    """The five services and the gateway as separate processes on loopback ports."""

    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    log_dir: Path | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def python(self) -> str:
        return sys.executable

    def process_env(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        for c in CONTEXTS:
            env[f"PERMIT_{c.upper()}_GRPC_PORT"] = str(self.ports[c])
            env[f"{c.upper()}_SERVICE_ADDR"] = f"127.0.0.1:{self.ports[c]}"
        env["PERMIT_GATEWAY_PORT"] = str(self.ports["gateway"])
        # CT-2: certificate QR codes open this gateway's verification page.
        env.setdefault("PERMIT_APPROVAL_VERIFY_BASE_URL", self.gateway_url)
        return env

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def run(self, module: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a service CLI (``permit_identity mint-ticket ...``) and return its output."""
        proc = subprocess.run([self.python, "-m", module, *args], env=self.process_env(), cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise RuntimeError(f"python -m {module} {' '.join(args)} failed ({proc.returncode}):\n"
                               f"{proc.stderr[-3000:]}")
        return proc

    def migrate(self) -> None:
        # Each context has its own database: migrate them side by side.
        with ThreadPoolExecutor(len(CONTEXTS)) as pool:
            list(pool.map(lambda c: self.run(f"permit_{c}", "migrate"), CONTEXTS))

    def seed_demo(self) -> None:
        """The demo officers and the demo export, straight into the databases (before start)."""
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda c: self.run(f"permit_{c}", "seed-demo"), ("identity", "application")))

    def seed_officers(self) -> None:
        """The demo officers only (before start); the demo export then goes through ``sync_demo``."""
        self.run("permit_identity", "seed-demo", "--officers-only")

    def sync(self, *files: Path | str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The legacy sync (PC-3) of an export into the running services: ``python -m permit_sync``."""
        return self.run("permit_sync", *(str(f) for f in files), check=check)

    def sync_demo(self) -> str:
        """The demo export through the legacy sync (PC-3), as an operator would; the report."""
        return self.sync(DEMO_EXPORT).stdout

    def start(self) -> None:
        for name in (*CONTEXTS, "gateway"):
            out = subprocess.DEVNULL
            if self.log_dir is not None:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
            self.procs[name] = subprocess.Popen([self.python, "-m", f"permit_{name}"], env=self.process_env(),
                                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        for name, proc in self.procs.items():
            _wait_port(self.ports[name], proc, name)
        # A port can answer while our process died on "address in use" (someone
        # else took it between choosing and binding): make sure all are alive.
        time.sleep(0.3)
        dead = [n for n, p in self.procs.items() if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited during start-up (port taken?)")

    def stop_service(self, name: str, timeout: float = 10.0) -> int | None:
        """Stop one process (SIGTERM) and return its exit code; ``start_service`` brings it back."""
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def start_service(self, name: str) -> None:
        """Start one process again on its port (after ``stop_service``)."""
        out: int | IO[bytes] = subprocess.DEVNULL
        if self.log_dir is not None:
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        self.procs[name] = subprocess.Popen([self.python, "-m", f"permit_{name}"], env=self.process_env(),
                                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _wait_port(self.ports[name], self.procs[name], name)

    def start_on_free_ports(self, attempts: int = 3) -> None:
        """Start on freshly chosen loopback ports, choosing again if one was taken meanwhile."""
        for attempt in range(1, attempts + 1):
            self.ports = {name: free_port() for name in (*CONTEXTS, "gateway")}
            try:
                self.start()
                return
            except (RuntimeError, TimeoutError):
                self.stop()
                if attempt == attempts:
                    raise

    def stop(self, timeout: float = 30.0) -> dict[str, int | None]:
        """SIGTERM every process, wait for it, and return the exit codes."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes: dict[str, int | None] = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        self.procs.clear()
        return codes

    # --- signing in demo personas -------------------------------------------------
    def mint_ticket(self, persona: str | Mapping[str, str]) -> tuple[str, str]:
        """A development ticket for a persona; returns (channel, ticket)."""
        claims = persona_claims(persona)
        args = ["mint-ticket", "--channel", claims["channel"]]
        if claims["channel"] == "STAFF":
            args += ["--officer", claims["officer"]]
        else:
            args += ["--user-type", claims["user_type"], "--uid", claims["uid"], "--name", claims["name"]]
            args += ["--uscc", claims["uscc"]] if "uscc" in claims else ["--id-number", claims["id_number"]]
        ticket = self.run("permit_identity", *args).stdout.strip().splitlines()[-1]
        return claims["channel"], ticket

    def sign_in(self, persona: str | Mapping[str, str]) -> dict[str, object]:
        """Sign a persona in through the gateway; returns the session JSON."""
        channel, ticket = self.mint_ticket(persona)
        body = json.dumps({"channel": f"CHANNEL_{channel}", "ticket": ticket}).encode()
        req = urllib.request.Request(f"{self.gateway_url}/v1/sessions:signIn", data=body,
                                     headers={"content-type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                return json.loads(resp.read())  # type: ignore[no-any-return]
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"sign-in failed: {e.code} {e.read().decode()}") from None


def persona_claims(persona: str | Mapping[str, str]) -> dict[str, str]:
    """What the platform's ticket says about a persona (channel, user type, ids, officer login)."""
    p = dict(PERSONAS[persona]) if isinstance(persona, str) else dict(persona)
    if p["channel"] == "STAFF":
        return {"channel": "STAFF", "officer": p["officer"]}
    account = _legacy_account(p["legacy"]) if "legacy" in p else {}
    claims = {"channel": p["channel"], "user_type": p["user_type"],
              "uid": p.get("uid", f"demo-{p.get('legacy', 'new')}-{p['user_type']}"),
              "name": p.get("name") or account.get("name", "演示用户")}
    if p["user_type"] == "LEGAL":
        claims["uscc"] = p.get("uscc") or account["uscc"]
    else:
        claims["id_number"] = p.get("id_number") or account["id_number"]
    return claims


def web_personas() -> str:
    """PERMIT_WEB_DEV_PERSONAS: the personas the web sign-in page offers in development."""
    return json.dumps([{"id": name, "label": PERSONA_LABELS.get(name, name), **persona_claims(name)}
                       for name in PERSONAS], ensure_ascii=False)


def _legacy_account(legacy_id: str) -> dict[str, str]:
    accounts = json.loads(DEMO_EXPORT.read_text(encoding="utf-8"))["accounts"]
    return next(a for a in accounts if a["legacy_id"] == legacy_id)


def _banner(stack: Stack) -> str:
    g = stack.gateway_url
    return f"""
================================================================================
 跨省大件运输并联许可 掌上办 — all services are running
   掌上办 pages  {g}/      (open on a phone-sized window; pick a demo persona)
   gateway      {g}      (OpenAPI: {g}/openapi.json, docs: {g}/docs)
   gRPC         {', '.join(f'{c} :{stack.ports[c]}' for c in CONTEXTS)}
   data         {stack.env.get('PERMIT_DATA_DIR', 'var')}/ (SQLite files and uploaded documents)

 Sign in as a demo persona (another terminal) and call the API:
   TOKEN=$(make -s token AS=carrier)
   curl -s -H "Authorization: Bearer $TOKEN" {g}/v1/me
   curl -s -H "Authorization: Bearer $TOKEN" {g}/v1/applications
 Personas: {', '.join(PERSONAS)}
   carrier       legal-person user on the APP, linked to legacy account L1001 (vehicles, agent)
   person        individual user linked to legacy account L2001
   newcomer      new individual user on WeChat: must submit a business licence first
   hebei-accept  officer of 河北 (origin acceptance + review); shandong-review, jiangsu-review
 The whole walking slice, step by step: README.md ("Try it").
 Ctrl-C stops everything.
================================================================================
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")
    tok = sub.add_parser("token", help="sign in a demo persona and print its access token")
    tok.add_argument("persona", choices=sorted(PERSONAS))
    args = ap.parse_args(argv)
    env = {"PERMIT_DATA_DIR": os.environ.get("PERMIT_DATA_DIR", str(ROOT / "var")),
           "PERMIT_LOG_JSON": os.environ.get("PERMIT_LOG_JSON", "1"),
           # A carrier's webhook on this machine may use plain HTTP (development only).
           "PERMIT_NOTIFICATIONS_WEBHOOK_ALLOW_HTTP_LOOPBACK": "1",
           # The web sign-in page offers the demo personas (development only).
           "PERMIT_WEB_DEV_PERSONAS": web_personas(),
           # The demo personas sign in with development tickets: switched on explicitly
           # (a production profile refuses to start with it, SI-2).
           DEV_SIGN_IN: os.environ.get(DEV_SIGN_IN, "1")}
    stack = Stack(env=env)
    if args.cmd == "token":
        print(stack.sign_in(args.persona)["accessToken"])
        return 0
    print("migrating ...", flush=True)
    stack.migrate()
    print("seeding demo officers ...", flush=True)
    stack.seed_officers()
    stack.log_dir = Path(env["PERMIT_DATA_DIR"]) / "logs"
    print(f"starting services (logs in {stack.log_dir}) ...", flush=True)
    try:
        stack.start()
        print("syncing the demo export (python -m permit_sync) ...", flush=True)
        report = stack.sync_demo()
    except Exception as e:  # noqa: BLE001 - show why, stop what started
        stack.stop()
        print(f"start-up failed: {e}", file=sys.stderr)
        return 1
    print(report.split("\n\n")[1] if "\n\n" in report else report, flush=True)
    print(_banner(stack), flush=True)
    stop = {"now": False}

    def on_signal(signum: int, _frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        while not stop["now"]:
            dead = [n for n, p in stack.procs.items() if p.poll() is not None]
            if dead:
                print(f"{', '.join(dead)} stopped unexpectedly; see {stack.log_dir}", file=sys.stderr)
                break
            time.sleep(0.3)
    finally:
        print("stopping ...", flush=True)
        codes = stack.stop()
        print("stopped: " + ", ".join(f"{n}={c}" for n, c in codes.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
