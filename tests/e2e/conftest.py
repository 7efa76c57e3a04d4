"""The started system for end-to-end tests: five service processes and the
gateway on free loopback ports, each service on its own PostgreSQL database,
documents in a real S3-API server process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack import CONTEXTS, DEV_SIGN_IN, Stack, web_personas
from permitkit.testing import S3Endpoint
from tests.oidc_provider import OidcTestProvider, provider_env_for_tests


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory) -> Iterator[OidcTestProvider]:
    """A real OpenID Connect provider process: the national platform and a staff directory (SI-1)."""
    provider = OidcTestProvider(tmp_path_factory.mktemp("oidc-provider"))
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def stack(make_database, s3_endpoint: S3Endpoint, oidc_provider: OidcTestProvider,
          tmp_path_factory) -> Iterator[Stack]:
    env = {f"PERMIT_{c.upper()}_DATABASE_URL": make_database(f"e2e_{c}") for c in CONTEXTS}
    env.update(s3_endpoint.env())
    env["PERMIT_DOCUMENTS_S3_BUCKET"] = "e2e-documents"
    data = tmp_path_factory.mktemp("e2e-data")
    env["PERMIT_DATA_DIR"] = str(data)
    env["PERMIT_LOG_JSON"] = "1"
    # The webhook receiver of the tests listens on plain HTTP on loopback (MS-3).
    env["PERMIT_NOTIFICATIONS_WEBHOOK_ALLOW_HTTP_LOOPBACK"] = "1"
    env["PERMIT_WEB_DEV_PERSONAS"] = web_personas()  # the web sign-in page's persona picker (tests/web)
    # The personas sign in with development tickets: the provider is switched on explicitly (SI-2).
    env[DEV_SIGN_IN] = "1"
    # ... and real sign-in goes to the provider process, its client secrets given as the secret store would.
    env.update(oidc_provider.env())
    env.update(provider_env_for_tests())
    # One address and a few users drive thousands of calls quickly (the fuzz test
    # above all): limits far above that, so nothing here is throttled.
    for limit in ("PERMIT_GATEWAY_RATE_PER_USER", "PERMIT_GATEWAY_RATE_PER_ADDRESS"):
        env[limit], env[f"{limit}_BURST"] = "100000", "1000000"
    s = Stack(env=env, log_dir=Path(data) / "logs")
    s.migrate()
    s.seed_demo()
    s.start_on_free_ports()
    try:
        yield s
    finally:
        codes = s.stop()
        # Graceful stop on SIGTERM: every process exits by itself, cleanly.
        assert all(c == 0 for c in codes.values()), (codes, _tails(Path(data) / "logs"))


def _tails(log_dir: Path) -> dict[str, str]:
    return {p.name: p.read_text(errors="replace")[-1500:] for p in log_dir.glob("*.log")}


class Api:
    """A phone's view of the gateway: JSON in, JSON out, one bearer token."""

    def __init__(self, base: str, token: str | None = None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base, headers=headers, timeout=30)

    def call(self, method: str, path: str, expect: int = 200, **kw) -> dict:
        r = self.http.request(method, path, **kw)
        assert r.status_code == expect, f"{method} {path} -> {r.status_code}: {r.text}"
        return r.json() if r.content else {}

    def get(self, path: str, expect: int = 200, **kw) -> dict:
        return self.call("GET", path, expect, **kw)

    def post(self, path: str, body: dict | None = None, expect: int = 200, **kw) -> dict:
        return self.call("POST", path, expect, json=body if body is not None else {}, **kw)

    def patch(self, path: str, body: dict, expect: int = 200, **kw) -> dict:
        return self.call("PATCH", path, expect, json=body, **kw)


@pytest.fixture(scope="session")
def api_as(stack: Stack):
    """``api_as("carrier")`` -> an :class:`Api` signed in as that demo persona."""
    cache: dict[str, Api] = {}

    def make(persona: str) -> Api:
        if persona not in cache:
            cache[persona] = Api(stack.gateway_url, stack.sign_in(persona)["accessToken"])
        return cache[persona]
    return make


@pytest.fixture(scope="session")
def anonymous(stack: Stack) -> Api:
    return Api(stack.gateway_url)
