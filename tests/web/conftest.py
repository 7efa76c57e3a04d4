"""The 掌上办 pages in a real Chromium against the started system (the e2e stack: every
service on PostgreSQL, documents in the S3 server process), at a phone's 390x844."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import anonymous, api_as, oidc_provider, stack  # noqa: F401 - the started system, shared
from tests.web.browser import ROOT, chromium, new_page


@pytest.fixture(scope="session")
def web_built() -> None:
    """The pages built from the current sources (npm ci and the build only when something changed)."""
    subprocess.run(["make", "-s", "web"], cwd=ROOT, check=True, timeout=600)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Browser, stack, web_built) -> Iterator[Page]:  # noqa: F811
    p = new_page(browser, stack.gateway_url)
    try:
        yield p
    finally:
        p.context.close()
