"""The permit certificate, the messages with their unread badge, and an application changed behind
the page's back (UI-1, UI-2, CT-1, CT-2, MS-1, PQ-8), in a real Chromium at 390x844; each page
captured under test-results/screenshots and checked with axe-core.

Passage windows: ``walk.DAYS`` + 50 .. 73, apart from those of test_pages.py."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import journey as j
from tests.web import walk as w
from tests.web.browser import assert_accessible, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_an_issued_application_opens_its_certificate_with_the_qr_code_and_the_pdf_CT_1_CT_2_UI_1(
        page: Page, api_as) -> None:
    carrier = api_as("carrier")
    issued = w.issued_via_api(api_as, start_in_days=w.DAYS + 50)
    permit = carrier.get(f"/v1/{issued['permit']}")
    sign_in(page, "carrier")
    w.open_detail(page, issued, "STATE_ISSUED")
    assert w.operations(page) == w.OPERATIONS["STATE_ISSUED"]  # the certificate is no operation of its own
    page.locator("[data-test=certificate-link]").click()
    page.wait_for_url(re.compile(rf"/permits/{permit['name'].rsplit('/', 1)[-1]}$"))

    # The key facts a roadside check asks for: number, validity, vehicles, route, provinces.
    facts = page.locator("[data-test=facts]")
    expect(facts).to_contain_text(permit["number"])
    start, end = (f"{d['year']}-{d['month']:02d}-{d['day']:02d}" for d in (permit["startDate"], permit["endDate"]))
    expect(facts).to_contain_text(f"{start} 至 {end}")
    for plate in permit["plateNumbers"]:
        expect(facts).to_contain_text(plate)
    expect(facts).to_contain_text(re.compile("河北[^→]*→ 山东[^→]*→ 江苏"))
    expect(facts).to_contain_text("G4-G1811")
    expect(page.locator("[data-test=permit-state]")).to_have_text("有效")

    # The phone image of the certificate, its QR code included, loaded with the holder's token.
    image = page.locator("[data-test=certificate-image]")
    expect(image).to_be_visible(timeout=30_000)  # rendered shortly after issue: the page looks again
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 100", image.element_handle())
    expect(image).to_have_attribute("alt", re.compile("核验二维码"))
    verify = page.get_by_role("link", name=re.compile("核验页面"))
    expect(verify).to_have_attribute("href", re.compile(r"^/verify\?c=."))
    shot(page, "50-certificate")
    assert_accessible(page, "certificate")

    # The PDF, under the service's file name.
    with page.expect_download() as dl:
        page.locator("[data-test=download-pdf]").click()
    download = dl.value
    assert download.suggested_filename.endswith(".pdf") and permit["number"] in download.suggested_filename
    with open(download.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"

    # What the QR code opens: the public verification page, no sign-in, says the permit is valid.
    page.goto(verify.get_attribute("href"))
    expect(page.locator("body")).to_contain_text(permit["number"])
    expect(page.locator("body")).to_contain_text("有效")
    shot(page, "51-certificate-verify-page")


def test_an_abolished_permits_certificate_says_it_may_no_longer_be_used_CT_2_PQ_9(page: Page, api_as) -> None:
    carrier = api_as("carrier")
    issued = w.issued_via_api(api_as, start_in_days=w.DAYS + 55)
    carrier.post(f"/v1/{issued['permit']}:abolish", {"reason": "运输完成"})
    sign_in(page, "carrier")
    page.goto(f"/permits/{issued['permit'].rsplit('/', 1)[-1]}")
    expect(page.locator("[data-test=permit-state]")).to_have_text("已废止")
    expect(page.locator("[data-test=not-usable]")).to_contain_text("不能再用于通行")
    expect(page.locator("[data-test=certificate-image]")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("路面检查时出示本页二维码")).to_have_count(0)
    shot(page, "52-certificate-abolished")
    assert_accessible(page, "certificate abolished")


def _unread(carrier) -> int:
    return int(carrier.get("/v1/messages:unreadCount").get("unreadCount", 0))


def _message(carrier, number: str, kind: str) -> dict:
    def find():
        out = carrier.get("/v1/messages", params={"pageSize": 100}).get("messages", [])
        return next((m for m in out if m.get("applicationNumber") == number and m["kind"] == kind), None)
    return j.wait_for(find, f"{kind} message of {number}")


def expect_badge(page: Page, count: int) -> None:
    entry = page.locator("[data-test=messages-entry]")
    if count:
        expect(entry.locator("[data-test=unread-badge-text]")).to_have_text(f"{count} 条未读")
        expect(entry).to_have_accessible_name(re.compile(rf"^消息\s*{count} 条未读$"))
    else:
        expect(entry.locator("[data-test=unread-badge-text]")).to_have_count(0)
        expect(entry).to_have_accessible_name(re.compile(r"^消息\s*没有未读消息$"))


def test_messages_with_an_unread_badge_that_updates_and_a_tap_opens_the_application_MS_1_UI_1(
        page: Page, api_as) -> None:
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    carrier.post("/v1/messages:markAllRead", {})
    first = j.fill_draft(carrier, start_in_days=w.DAYS + 60, days=3)
    first = j.submit(carrier, first)
    j.accept(hebei, j.case_of(hebei, first["name"]))
    accepted = _message(carrier, first["number"], "MESSAGE_KIND_ACCEPTED")
    sign_in(page, "carrier")

    # The home page's badge: the service's unread count.
    page.goto("/")
    expect_badge(page, _unread(carrier))
    before = _unread(carrier)
    assert before >= 1

    # A new message while the home page is open: the badge follows when the phone brings it back.
    second = j.fill_draft(carrier, start_in_days=w.DAYS + 65, days=3)
    second = j.submit(carrier, second)
    hebei.post(f"/v1/{j.case_of(hebei, second['name'])['name']}:return", {"reason": "请补充货物照片"})
    returned = _message(carrier, second["number"], "MESSAGE_KIND_RETURNED")
    now = _unread(carrier)
    assert now > before
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect_badge(page, now)
    shot(page, "60-home-unread-badge")
    assert_accessible(page, "home with unread badge")

    # The list: unread first marked as such, the reason in the body.
    page.locator("[data-test=messages-entry]").click()
    page.wait_for_url(re.compile(r"/messages$"))
    item = page.locator(".msg").filter(has_text=second["number"]).filter(has_text="退回补正")
    expect(item).to_have_attribute("data-read", "false")
    expect(item).to_contain_text("请补充货物照片")
    expect(page.locator(".msg").filter(has_text=first["number"]).filter(has_text="受理").first).to_be_visible()
    shot(page, "61-messages")
    assert_accessible(page, "messages")
    page.get_by_role("tab", name=re.compile("未读")).click()
    expect(page.locator(".msg[data-read=true]")).to_have_count(0)
    expect(page.locator(".msg").filter(has_text=second["number"]).first).to_be_visible()

    # Tapping it opens the application and marks it read, for the service too.
    item.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/progress/{w.app_id(second)}$"))
    expect(page.locator("[data-test=state]")).to_have_text("退回补正")
    j.wait_for(lambda: next(m for m in carrier.get("/v1/messages", params={"pageSize": 100})["messages"]
                            if m["name"] == returned["name"]).get("read"), "the message marked read")
    assert _unread(carrier) == now - 1
    page.goto("/progress")
    expect(page.locator("[data-test=messages-link]")).to_have_attribute("aria-label", f"消息，{now - 1} 条未读消息")

    # 全部已读 clears the badge.
    page.goto("/messages")
    page.get_by_role("button", name="全部已读").click()
    expect(page.locator(".msg[data-read=false]")).to_have_count(0)
    assert _unread(carrier) == 0
    shot(page, "62-messages-all-read")
    page.goto("/")
    expect_badge(page, 0)
    assert accepted["link"] == first["name"]


def test_a_withdrawal_after_the_application_changed_behind_the_page_is_confirmed_again_PQ_5_PQ_8(
        page: Page, api_as) -> None:
    """The page still shows 未受理 when the origin accepts the case: the service refuses the old
    etag; the page reloads the application and, as 撤销 is still offered on 处理中, asks again."""
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = j.submit(carrier, j.fill_draft(carrier, start_in_days=w.DAYS + 70, days=3))
    sign_in(page, "carrier")
    w.open_detail(page, app, "STATE_SUBMITTED")
    j.accept(hebei, j.case_of(hebei, app["name"]))
    w.reached(carrier, app, "STATE_PROCESSING")
    answers: list[int] = []
    page.on("response", lambda r: answers.append(r.status) if r.url.endswith(":withdraw") else None)

    page.get_by_role("button", name="撤销申请").click()
    w.confirm_dialog(page)
    again = page.get_by_role("dialog").filter(has_text="申请刚刚有更新")
    expect(again).to_contain_text("处理中")
    expect(page.locator("[data-test=state]")).to_have_text("处理中")
    shot(page, "33-ops-withdraw-after-update")
    assert answers == [409]
    again.get_by_role("button", name="确定").click()
    expect(page.locator("[data-test=state]")).to_have_text("已撤销")
    assert answers == [409, 200]
    assert w.state_of(carrier, app) == "STATE_WITHDRAWN"
