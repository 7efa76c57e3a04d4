"""A real OpenID Connect provider process on loopback (``provider.mjs``, the
``oidc-provider`` package): the national platform and a staff directory, with
the clients of clients.json and the accounts of accounts.json, and ways to
drive a user through its sign-in pages as a phone would."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

HERE = Path(__file__).resolve().parent
CLIENTS: dict[str, list[dict[str, Any]]] = json.loads((HERE / "clients.json").read_text(encoding="utf-8"))
ACCOUNTS: dict[str, dict[str, dict[str, Any]]] = json.loads((HERE / "accounts.json").read_text(encoding="utf-8"))


def client_of(channel: str) -> dict[str, Any]:
    return next(c for group in CLIENTS.values() for c in group if c["channel"] == channel)


def ensure_installed() -> None:
    """``npm ci`` the provider's pinned packages once (package-lock.json)."""
    if (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install the test OpenID provider (tests/oidc_provider)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True,
                   timeout=600)


class OidcTestProvider:
    """The provider process: start, stop (the provider down), rotate keys, arm a bad ID token."""

    def __init__(self, state_dir: Path) -> None:
        self.state = state_dir / "oidc-provider-keys.json"
        self.log = state_dir / "oidc-provider.log"
        self.proc: subprocess.Popen[str] | None = None
        self.platform = ""
        self.staff = ""

    def start(self) -> None:
        """Start the provider. It starts in about a second; a start that hangs now and then
        (seen once in a full run: the process stalled before listening) is tried again,
        and the error tells whether each attempt exited or hung."""
        ensure_installed()
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("Node.js is needed to run the test OpenID provider")
        failures = []
        for _ in range(3):
            failure = self._start_once(node)
            if not failure:
                return
            failures.append(failure)
        raise RuntimeError(f"the test OpenID provider did not start ({'; '.join(failures)}); see {self.log}")

    def _start_once(self, node: str) -> str:
        """One start: '' when it printed its addresses, else what went wrong."""
        args = [node, str(HERE / "provider.mjs"), "--state", str(self.state)]
        if self.platform:  # a restart keeps its addresses (and, through the state file, its keys)
            args += ["--platform-port", str(urlsplit(self.platform).port),
                     "--staff-port", str(urlsplit(self.staff).port)]
        log = open(self.log, "a")  # noqa: SIM115 - owned by the child
        t0 = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True, cwd=HERE)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()),  # type: ignore[union-attr]
                                  daemon=True)
        reader.start()
        reader.join(45)  # about 1 s when idle; generous for a loaded machine
        if not line or not line[0].strip():
            code = self.proc.poll()
            self.stop()
            waited = time.monotonic() - t0
            return (f"exited with {code} after {waited:.0f} s" if code is not None
                    else f"no address after {waited:.0f} s")
        urls = json.loads(line[0])
        self.platform, self.staff = urls["platform"], urls["staff"]
        return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def wait_until_down(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.platform}/.well-known/openid-configuration", timeout=0.5)
            except httpx.HTTPError:
                return
            time.sleep(0.1)
        raise TimeoutError("the test OpenID provider still answers")

    def env(self) -> dict[str, str]:
        """identity's settings pointing at this provider (secrets as the secret store would give them)."""
        env = {"PERMIT_IDENTITY_OIDC_ISSUER": self.platform, "PERMIT_IDENTITY_STAFF_OIDC_ISSUER": self.staff}
        for group in CLIENTS.values():
            for c in group:
                prefix = f"PERMIT_IDENTITY_OIDC_{c['channel']}"
                env[f"{prefix}_CLIENT_ID"] = c["client_id"]
                env[f"{prefix}_CLIENT_SECRET"] = c["client_secret"]
                env[f"{prefix}_REDIRECT_URIS"] = ",".join(c["redirect_uris"])
        return env

    def issuer(self, which: str) -> str:
        return self.staff if which == "staff" else self.platform

    def rotate(self, which: str = "platform") -> str:
        r = httpx.post(f"{self.issuer(which)}/admin/rotate", timeout=10)
        r.raise_for_status()
        return str(r.json()["kid"])

    def jwks_kids(self, which: str = "platform") -> list[str]:
        r = httpx.get(f"{self.issuer(which)}/jwks", timeout=10)
        r.raise_for_status()
        return [k["kid"] for k in r.json()["keys"]]

    def arm_next_id_token(self, which: str = "platform", **change: Any) -> None:
        """The next ID token this issuer hands out is changed: aud=..., expired=True or tamper=True."""
        httpx.post(f"{self.issuer(which)}/admin/next-id-token", json=change, timeout=10).raise_for_status()

    # --- a user at the provider's pages -------------------------------------------------
    def sign_in_at(self, authorization_url: str, login: str, redirect_prefix: str) -> dict[str, str]:
        """Open the authorization URL, sign ``login`` in, follow the redirects to the
        client's callback and return its query (code, state)."""
        with httpx.Client(timeout=15, follow_redirects=False) as http:
            url = authorization_url
            for _ in range(12):
                if url.startswith(redirect_prefix):
                    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
                r = http.get(url)
                if r.status_code in (302, 303) and "location" in r.headers:
                    url = urljoin(url, r.headers["location"])
                    continue
                if r.status_code == 200 and "/interaction/" in url:
                    r = http.post(f"{url.rstrip('/')}/login", data={"login": login})
                    assert r.status_code in (302, 303), r.text
                    url = urljoin(url, r.headers["location"])
                    continue
                raise AssertionError(f"unexpected answer at {url}: {r.status_code} {r.text[:300]}")
        raise AssertionError("too many redirects")

    def mini_program_code(self, channel: str, login: str, *, nonce: str | None = None) -> tuple[str, str]:
        """What the mini-program does on its own: an authorization request with its
        client and a nonce; returns (code, nonce) to hand over to identity."""
        c = client_of(channel)
        nonce = nonce or secrets.token_urlsafe(16)
        query = urlencode({"response_type": "code", "client_id": c["client_id"],
                           "redirect_uri": c["redirect_uris"][0], "scope": "openid profile platform",
                           "state": secrets.token_urlsafe(8), "nonce": nonce})
        got = self.sign_in_at(f"{self.platform}/auth?{query}", login, c["redirect_uris"][0])
        return got["code"], nonce


def provider_env_for_tests() -> dict[str, str]:
    """Tuning of identity for a test run against the provider."""
    return {"PERMIT_IDENTITY_OIDC_JWKS_MIN_REFRESH_SECONDS": "1", "PERMIT_IDENTITY_OIDC_MIN_REAL_NAME_LEVEL": "2",
            "PERMIT_IDENTITY_OIDC_TIMEOUT_SECONDS": "3"}


__all__ = ["ACCOUNTS", "CLIENTS", "OidcTestProvider", "client_of", "ensure_installed", "provider_env_for_tests"]
