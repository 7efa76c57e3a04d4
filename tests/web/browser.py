"""A phone-sized Chromium on the 掌上办 pages: start it, capture each page, check accessibility.

Debian's ``chromium`` package, driven by Playwright's Python API (no browser download).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--lang=zh-CN"]
VIEWPORT = {"width": 390, "height": 844}
SHOTS = ROOT / "test-results" / "screenshots"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
# The whole system runs on the same machine as the browser: allow it time under load.
expect.set_options(timeout=15_000)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Browser, base_url: str) -> Page:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=2, locale="zh-CN", base_url=base_url,
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    return context.new_page()


def shot(page: Page, name: str) -> Path:
    """The page as it is now, full height, kept with the test results."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.wait_for_timeout(150)  # let transitions settle
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now (UI-2)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Page, where: str) -> None:
    bad = axe_violations(page)
    assert not bad, f"{where}: " + json.dumps(bad, ensure_ascii=False, indent=1)


def sign_in(page: Page, persona: str = "carrier") -> None:
    """The development persona picker of the sign-in page (ID-1)."""
    page.goto("/signin")
    page.locator(f"[data-persona={persona}]").click()
    page.wait_for_url(re.compile(r"/(licence)?$"))


def field(page: Page, label: str, nth: int = 0):
    return page.get_by_label(label, exact=True).nth(nth)


def blur_fill(page: Page, label: str, value: str, nth: int = 0) -> None:
    f = field(page, label, nth)
    f.fill(value)
    f.press("Tab")


def expect_value(page: Page, label: str, value: str, nth: int = 0) -> None:
    expect(field(page, label, nth)).to_have_value(value)
