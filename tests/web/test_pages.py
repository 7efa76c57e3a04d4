"""The manual walked in a real browser (UI-1, UI-2): the pages a carrier opens on a phone,
each captured as a screenshot under test-results/screenshots, each checked with axe-core.

The demo carrier's fleet (冀A12345 + 冀B6789挂) is shared with tests/e2e and AP-6 allows two
overlapping applications per vehicle: every application here travels 700..760 days out
(``walk.DAYS``), each in its own window."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import journey as j
from tests.web import walk as w
from tests.web.browser import assert_accessible, blur_fill, expect_value, field, shot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_sign_in_page_offers_the_development_personas_ID_1_UI_1(page: Page) -> None:
    page.goto("/")
    page.wait_for_url(re.compile(r"/signin"))
    expect(page.locator("[data-persona=carrier]")).to_be_visible()
    expect(page.locator("[data-persona=newcomer]")).to_be_visible()
    shot(page, "01-signin")
    assert_accessible(page, "sign-in")
    sign_in(page, "carrier")
    expect(page.get_by_text("河北冀运大件物流有限公司")).to_be_visible()


def test_a_new_user_submits_the_business_licence_and_waits_ID_5_UI_1(page: Page) -> None:
    sign_in(page, "newcomer")
    page.wait_for_url(re.compile(r"/licence$"))
    # The home page stays out of reach until the licence is approved.
    page.goto("/progress")
    page.wait_for_url(re.compile(r"/licence$"))
    shot(page, "01b-licence-required")
    assert_accessible(page, "licence")
    field(page, "许可证号").fill("冀交运管许可石字130100001234号")
    field(page, "发证机关").fill("石家庄市交通运输局")
    field(page, "所在省份").select_option(j.ORIGIN)
    field(page, "有效期起").fill("2024-01-01")
    field(page, "有效期止").fill("2028-12-31")
    page.locator("input[data-source=album]").set_input_files(
        {"name": "许可证.png", "mimeType": "image/png", "buffer": j.tiny_png((10, 120, 60))})
    expect(page.get_by_text("许可证.png")).to_be_visible()
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("正在审核")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="5 个工作日")).to_be_visible()
    shot(page, "01c-licence-pending")
    assert_accessible(page, "licence pending")


def test_a_new_application_through_the_six_steps_then_each_provinces_progress_AP_1_to_AP_10_PQ_2(
        page: Page, api_as) -> None:
    """我要申请 → 许可须知 → six steps (every route method, an upload) → submit; the officers act
    through the API; the progress pages show the list, the search and each province."""
    w.issued_via_api(api_as, start_in_days=w.DAYS)  # an approved route to recommend (AP-7c)
    sign_in(page, "carrier")
    app_id = w.new_application(page, start_in_days=w.DAYS + 10)
    shot(page, "13-detail-submitted")
    assert_accessible(page, "detail submitted")

    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = carrier.get(f"/v1/applications/{app_id}")
    number = app["number"]
    assert app["cargo"]["weightKg"] == "30500" and app["passage"]["multiTrip"] is True

    # The list: seven statuses as tabs, search by number or by plate (PQ-1, PQ-2).
    page.goto("/progress")
    tabs = page.get_by_role("tab")
    expect(tabs).to_have_count(8)
    assert [t.strip() for t in tabs.all_inner_texts()] == ["全部", *w.LABELS.values()]
    page.get_by_role("tab", name="未受理").click()
    expect(page.get_by_role("link", name=re.compile(number))).to_be_visible()
    shot(page, "14-progress-list")
    assert_accessible(page, "progress list")
    page.get_by_role("tab", name="已发证").click()
    expect(page.get_by_role("link", name=re.compile(number))).to_have_count(0)
    page.get_by_role("tab", name="全部").click()
    page.get_by_role("searchbox").fill(number)
    page.get_by_role("button", name="搜索").click()
    expect(page.locator(".item")).to_have_count(1)
    page.get_by_role("searchbox").fill("冀B6789挂")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_role("link", name=re.compile(number))).to_be_visible()

    # The officers act: 河北 accepts, 河北 and 山东 approve, 江苏 still reviewing (RV-1, PQ-2).
    case = j.accept(hebei, j.case_of(hebei, app["name"]))
    j.approve(hebei, case, j.ORIGIN)
    j.approve(api_as("shandong-review"), case, j.VIA)
    j.wait_for(lambda: {p["province"]: p["decision"] for p in carrier.get(f"/v1/{app['name']}")["progress"]}
               .get(j.VIA) == "REVIEW_DECISION_APPROVED", "山东's approval shown")
    page.get_by_role("link", name=re.compile(number)).click()
    expect(page.locator("[data-test=state]")).to_have_text("处理中")
    for province, name in ((j.ORIGIN, "河北"), (j.VIA, "山东"), (j.DESTINATION, "江苏")):
        expect(page.locator(f"[data-province='{province}']")).to_contain_text(name)
    expect(page.locator(f"[data-province='{j.VIA}']")).to_contain_text("同意")
    shot(page, "15-detail-processing-provinces")
    assert_accessible(page, "detail processing")


def test_each_status_offers_exactly_the_manuals_operations_and_each_works_PQ_3_to_PQ_11(page: Page, api_as) -> None:
    carrier, hebei, shandong = api_as("carrier"), api_as("hebei-accept"), api_as("shandong-review")
    sign_in(page, "carrier")

    def draft(start: int) -> dict:
        return j.fill_draft(carrier, start_in_days=start, days=3)

    # 未提交: edit, submit as is (PQ-4) — then 未受理: withdraw (PQ-5).
    app = draft(w.DAYS + 20)
    w.open_detail(page, app, "STATE_DRAFT")
    assert w.operations(page) == w.OPERATIONS["STATE_DRAFT"]
    shot(page, "20-ops-draft")
    assert_accessible(page, "draft operations")
    page.get_by_role("button", name="编辑许可").click()
    page.wait_for_url(re.compile(rf"/apply/{w.app_id(app)}$"))
    expect_value(page, "货物重量", "30.000")
    page.go_back()
    page.get_by_role("button", name="提交许可").click()
    expect(page.locator("[data-test=state]")).to_have_text("未受理")
    assert w.operations(page) == w.OPERATIONS["STATE_SUBMITTED"]
    shot(page, "21-ops-submitted")
    page.get_by_role("button", name="撤销申请").click()
    w.confirm_dialog(page)
    expect(page.locator("[data-test=state]")).to_have_text("已撤销")
    assert w.operations(page) == w.OPERATIONS["STATE_WITHDRAWN"]
    shot(page, "22-ops-withdrawn")

    # 未提交: delete, gone for good (PQ-4).
    gone = draft(w.DAYS + 25)
    w.open_detail(page, gone, "STATE_DRAFT")
    page.get_by_role("button", name="删除许可").click()
    shot(page, "23-ops-delete-confirm")
    w.confirm_dialog(page)
    page.wait_for_url(re.compile(r"/progress$"))
    assert carrier.http.get(f"/v1/{gone['name']}").status_code == 404

    # 退回补正: the reason, then 修改补正 — submit only, no save (PQ-6).
    returned = draft(w.DAYS + 30)
    j.submit(carrier, returned)
    hebei.post(f"/v1/{j.case_of(hebei, returned['name'])['name']}:return", {"reason": "请补充货物照片"})
    w.reached(carrier, returned, "STATE_RETURNED")
    w.open_detail(page, returned, "STATE_RETURNED")
    expect(page.get_by_role("alert")).to_contain_text("请补充货物照片")
    assert w.operations(page) == w.OPERATIONS["STATE_RETURNED"]
    shot(page, "24-ops-returned")
    assert_accessible(page, "returned")
    page.get_by_role("button", name="修改补正").click()
    expect(page.get_by_role("alert").first).to_contain_text("请补充货物照片")
    for _ in range(5):
        w.next_step(page)
    w.step_title(page, "其他材料")
    expect(page.get_by_role("button", name="保存")).to_have_count(0)
    shot(page, "25-correction-submit-only")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("[data-test=state]")).to_have_text("未受理")

    # 处理中: route adjustment answered (PQ-7), vehicle change form (PQ-10), withdraw (PQ-8).
    processing = draft(w.DAYS + 35)
    j.submit(carrier, processing)
    case = j.accept(hebei, j.case_of(hebei, processing["name"]))
    shandong.post(f"/v1/{case['name']}/reviews/{j.VIA}:proposeAdjustment",
                  {"suggestedRoute": [{"province": j.VIA, "roads": ["G20", "G15"]}], "reason": "G2施工"})
    j.wait_for(lambda: any(p["decision"] == "REVIEW_DECISION_ROUTE_ADJUSTMENT"
                           for p in carrier.get(f"/v1/{processing['name']}")["progress"]), "adjustment shown")
    w.open_detail(page, processing, "STATE_PROCESSING")
    assert w.operations(page) == ["调整路线", *w.OPERATIONS["STATE_PROCESSING"]]
    adjust = page.locator("[data-test=adjust]")
    expect(adjust).to_contain_text("G20-G15")
    shot(page, "26-ops-processing-route-adjustment")
    assert_accessible(page, "route adjustment")
    page.get_by_role("button", name="调整路线").click()
    adjust.get_by_role("button", name="采纳建议路线").click()
    expect(page.locator("[data-test=adjust]")).to_have_count(0)
    assert w.operations(page) == w.OPERATIONS["STATE_PROCESSING"]
    # The answer reaches the application's progress through the outbox, seconds later under load:
    # the page says it is waiting, then shows the province reviewing again (as the carrier sees it).
    via = page.locator(f"[data-province='{j.VIA}']")
    expect(via.locator("[data-test=answered]")).to_have_count(0, timeout=40_000)
    expect(via).not_to_contain_text("建议调整路线")
    page.get_by_role("button", name="车辆变更").click()
    dialog = page.get_by_role("dialog", name="车辆变更")
    expect(dialog.get_by_text("只能选择电脑端维护过")).to_be_visible()
    shot(page, "27-ops-vehicle-change")
    assert_accessible(page, "vehicle change")
    dialog.get_by_role("button", name="提交车辆变更").click()
    expect(dialog.get_by_role("alert").first).not_to_be_empty()  # the service's reason, in Chinese
    dialog.get_by_role("button", name="取消").click()
    page.get_by_role("button", name="撤销申请").click()
    w.confirm_dialog(page)
    expect(page.locator("[data-test=state]")).to_have_text("已撤销")

    # 不予许可: only 再来一件 (PQ-3), which opens a prefilled new application.
    denied = draft(w.DAYS + 40)
    j.submit(carrier, denied)
    case = j.accept(hebei, j.case_of(hebei, denied["name"]))
    shandong.post(f"/v1/{case['name']}/reviews/{j.VIA}:decide", {"decision": "DECISION_DENY", "reason": "途经桥梁限载"})
    w.reached(carrier, denied, "STATE_DENIED")
    w.open_detail(page, denied, "STATE_DENIED")
    expect(page.locator(f"[data-province='{j.VIA}']")).to_contain_text("途经桥梁限载")
    assert w.operations(page) == w.OPERATIONS["STATE_DENIED"]
    shot(page, "28-ops-denied")
    page.get_by_role("button", name="再来一件").click()
    page.wait_for_url(re.compile(r"/apply/"))
    assert page.url.rsplit("/", 1)[-1] != w.app_id(denied)
    expect_value(page, "货物名称", "变压器")
    expect_value(page, "货物重量", "30.000")
    shot(page, "29-one-more-like-this")

    # 已发证: extension (PQ-11) and abolish (PQ-9).
    issued = w.issued_via_api(api_as, start_in_days=w.DAYS + 45)
    w.open_detail(page, issued, "STATE_ISSUED")
    assert w.operations(page) == w.OPERATIONS["STATE_ISSUED"]
    expect(page.get_by_text(issued["permitNumber"])).to_be_visible()
    shot(page, "30-ops-issued")
    assert_accessible(page, "issued")
    page.get_by_role("button", name="延期申请").click()
    ext = page.get_by_role("dialog", name="延期申请")
    end = dt.date(**{k: issued["permitEndDate"][k] for k in ("year", "month", "day")})
    field(page, "延期截止日期").fill((end + dt.timedelta(days=3)).isoformat())
    blur_fill(page, "延期原因", "设备到货延迟")
    shot(page, "31-ops-extension")
    assert_accessible(page, "extension")
    ext.get_by_role("button", name="提交延期申请").click()
    expect(page.get_by_text(re.compile("延期至"))).to_be_visible()
    expect(page.get_by_text("审批中", exact=True)).to_be_visible()
    page.get_by_role("button", name="许可废止").click()
    w.confirm_dialog(page)
    expect(page.get_by_text("已废止", exact=True)).to_be_visible()
    assert w.operations(page) == ["再来一件"]
    shot(page, "32-ops-abolished")


def test_a_draft_survives_a_reload_and_a_dropped_network_is_retried_or_clearly_not_saved_UI_1(
        page: Page, api_as) -> None:
    sign_in(page, "carrier")
    page.goto("/notice")
    page.get_by_role("button", name="我已阅读，开始填报").click(timeout=8_000)
    page.wait_for_url(re.compile(r"/apply/"))
    app_url = page.url
    field(page, "货物名称").fill("钢箱梁")
    blur_fill(page, "货物重量", "12.5")
    page.reload()
    expect_value(page, "货物名称", "钢箱梁")
    expect_value(page, "货物重量", "12.500")
    expect(page.get_by_text("已恢复上次未保存的填写内容")).to_be_visible()
    for label, value in (("货物长度", "10"), ("货物宽度", "3"), ("货物高度", "3")):
        blur_fill(page, label, value)

    # The network drops: the step is retried, then clearly reported as not saved.
    page.context.set_offline(True)
    w.next_step(page)
    expect(page.get_by_role("alert").filter(has_text="未保存")).to_be_visible(timeout=10_000)
    w.step_title(page, "货物信息")
    shot(page, "40-offline-not-saved")
    page.context.set_offline(False)
    w.next_step(page)
    w.step_title(page, "车辆信息")
    app = api_as("carrier").get("/v1/" + "applications/" + app_url.rsplit("/", 1)[-1])
    assert app["cargo"]["name"] == "钢箱梁" and app["cargo"]["weightKg"] == "12500"


def test_vehicle_change_offers_only_identical_fleet_vehicles_and_sends_a_new_power_of_attorney_PQ_10(
        page: Page, stack, api_as, tmp_path) -> None:
    """处理中 → 车辆变更: only the PC side's vehicles with the same curb mass, axles, wheelbase and
    tyres are offered; the new power of attorney is uploaded; the change waits for the origin."""
    from tests.e2e import forms as f
    from tests.e2e.conftest import Api
    from tests.e2e.test_manual_3_progress import TWIN_ACCOUNT, TWIN_TRACTORS, TWIN_TRAILER, TWIN_USCC

    # The second carrier's fleet arrives the way every PC-side record does: the PC export (ID-3).
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"accounts": [TWIN_ACCOUNT]}, ensure_ascii=False), encoding="utf-8")
    stack.sync(export, "--partial")
    ticket = stack.run("permit_identity", "mint-ticket", "--channel", "APP", "--user-type", "LEGAL",
                       "--uid", "pc-L3001-legal", "--name", TWIN_ACCOUNT["name"],
                       "--uscc", TWIN_USCC).stdout.strip().splitlines()[-1]
    session = Api(stack.gateway_url).post("/v1/sessions:signIn", {"channel": "CHANNEL_APP", "ticket": ticket})
    twin = Api(stack.gateway_url, session["accessToken"])
    fleet = {v["plateNumber"]: v for v in twin.get("/v1/vehicles:suggest",
                                                   params={"platePrefix": "冀C", "pageSize": 50})["vehicles"]}
    vehicles = [fleet[TWIN_TRACTORS[0]], fleet[TWIN_TRAILER]]
    app = f.new_draft(twin)
    app = f.save(twin, app, "cargo", {"cargo": f.CLASS1_CARGO})
    app = f.save(twin, app, "vehicles", {"vehicles": vehicles})
    app = f.save(twin, app, "overall", {"overall": f.overall(vehicles, f.CLASS1_CARGO, height=4000, width=3000)})
    app = f.save(twin, app, "passage", {"passage": f.passage(w.DAYS + 55, 3)})
    agent = twin.get("/v1/agents:suggest", params={"namePrefix": "周"})["agents"][0]
    app = f.save(twin, app, "agent", {"agent": {"agentRef": agent["agentRef"]}})
    j.submit(twin, app)
    j.accept(api_as("hebei-accept"), j.case_of(api_as("hebei-accept"), app["name"]))
    w.reached(twin, app, "STATE_PROCESSING")

    # Signed in as that carrier (the platform's ticket exchanged; the picker has only the demo personas).
    page.goto("/signin")
    page.evaluate("s => localStorage.setItem('permit.session', JSON.stringify(s))",
                  {"accessToken": session["accessToken"], "refreshToken": session.get("refreshToken", "")})
    w.open_detail(page, app, "STATE_PROCESSING")
    page.get_by_role("button", name="车辆变更").click()
    dialog = page.get_by_role("dialog", name="车辆变更")
    field(page, "原车牌号码").select_option(TWIN_TRACTORS[0])
    target = field(page, "变更为车辆")
    expect(target.locator("option", has_text=TWIN_TRACTORS[1])).to_have_count(1)
    expect(target.locator("option", has_text=TWIN_TRACTORS[2])).to_have_count(0)  # another wheelbase
    target.select_option(fleet[TWIN_TRACTORS[1]]["fleetVehicle"])
    dialog.locator("input[data-source=album]").set_input_files(
        {"name": "授权委托书.png", "mimeType": "image/png", "buffer": j.tiny_png((200, 30, 30))})
    expect(dialog.get_by_text("授权委托书.png")).to_be_visible()
    shot(page, "33-vehicle-change-identical")
    assert_accessible(page, "vehicle change identical")
    dialog.get_by_role("button", name="提交车辆变更").click()
    expect(page.get_by_text(f"{TWIN_TRACTORS[0]} → {TWIN_TRACTORS[1]}")).to_be_visible()
    expect(page.get_by_text("审批中", exact=True)).to_be_visible()
    case = twin.get(f"/v1/{app['name']}/case")
    change = case["vehicleChanges"][-1]
    assert (change["state"], change["newPlateNumber"]) == ("CHANGE_REQUEST_STATE_PENDING", TWIN_TRACTORS[1])
    assert change["powerOfAttorney"].startswith("documents/")
