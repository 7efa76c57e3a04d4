"""The manual walked in the browser: 我要申请 through the six steps, as a carrier's thumb would."""

from __future__ import annotations

import datetime as dt
import os
import re

from playwright.sync_api import Page, expect

from permitkit import dates
from tests.e2e import journey as j
from tests.web.browser import assert_accessible, blur_fill, expect_value, field, shot

ONE_MB = 1024 * 1024
# Passage windows of the applications made here start this many days ahead, apart from those of the
# other end-to-end tests (a vehicle may have two applications per period). Shift it to rerun the
# tests against a long-running stack.
DAYS = int(os.environ.get("PERMIT_WEB_TEST_DAYS", "700"))


def step_title(page: Page, text: str) -> None:
    expect(page.locator(".step-title")).to_have_text(re.compile(text))


def next_step(page: Page) -> None:
    page.get_by_role("button", name="下一步").click()


def new_application(page: Page, *, start_in_days: int, history: bool = True) -> str:
    """From the home page to a submitted application; returns its id. Screenshots each step."""
    page.goto("/")
    shot(page, "02-home")
    assert_accessible(page, "home")
    page.get_by_role("link", name="我要申请").click()

    # 许可须知: at least 5 seconds before filling starts (AP-1).
    start = page.get_by_role("button", name=re.compile("请阅读许可须知"))
    expect(start).to_be_disabled()
    shot(page, "03-notice-countdown")
    assert_accessible(page, "notice")
    page.get_by_role("button", name="我已阅读，开始填报").click(timeout=8_000)
    page.wait_for_url(re.compile(r"/apply/"))
    app_id = page.url.rsplit("/", 1)[-1]

    # 1 货物信息: 空载 hides the cargo; figures padded to three decimals (AP-2, AP-3).
    step_title(page, "货物信息")
    page.get_by_role("switch", name="空载").click()
    expect(field(page, "货物名称")).to_have_count(0)
    page.get_by_role("switch", name="空载").click()
    field(page, "货物名称").fill("变压器")
    for label, value, shown in (("货物重量", "30.5", "30.500"), ("货物长度", "9", "9.000"),
                                ("货物宽度", "3.2", "3.200"), ("货物高度", "3.10", "3.100")):
        blur_fill(page, label, value)
        expect_value(page, label, shown)
    shot(page, "04-step1-cargo")
    assert_accessible(page, "cargo")
    next_step(page)

    # 2 车辆信息: plate suggestions fill the vehicle; vehicles added and removed (AP-4).
    step_title(page, "车辆信息")
    field(page, "车牌号码").fill("冀A")
    page.get_by_role("button", name=re.compile("冀A12345")).click()
    expect_value(page, "厂牌型号", "解放牌CA4250P66K24T1A1E5")
    expect_value(page, "整备质量", "8.800")
    page.get_by_role("button", name="新增车辆").click()
    field(page, "车牌号码", 1).fill("冀B")
    page.get_by_role("button", name=re.compile("冀B6789挂")).click()
    expect_value(page, "车辆类型", "重型平板半挂车", 1)
    page.get_by_role("button", name="新增车辆").click()
    third = page.get_by_role("group", name="第 3 辆车")
    expect(third.get_by_text("车辆行驶证或临时号牌照片")).to_be_visible()  # hand-filled: licence photos
    shot(page, "05-step2-vehicles")
    assert_accessible(page, "vehicles")
    third.get_by_role("button", name="删除").first.click()
    expect(page.get_by_role("group", name="第 3 辆车")).to_have_count(0)
    next_step(page)

    # 3 车货总体信息: reference values offered (AP-5).
    step_title(page, "车货总体信息")
    expect(page.get_by_text(re.compile("参考值"))).not_to_have_count(0)
    page.get_by_role("button", name="填入参考值").click()
    expect(field(page, "车货总质量")).not_to_have_value("")
    spacings = page.locator("[data-test=axle-spacings] input")
    zero = [i for i in range(spacings.count()) if spacings.nth(i).input_value() == "0.000"]
    if zero:
        # The API's refusal is shown in Chinese next to the field it names.
        next_step(page)
        expect(page.locator("[data-test=axle-spacings-error]")).to_contain_text("轴距")
        shot(page, "06-step3-overall-refused")
        for i in zero:
            spacings.nth(i).fill("1.35")
            spacings.nth(i).press("Tab")
            expect(spacings.nth(i)).to_have_value("1.350")
    shot(page, "06-step3-overall")
    assert_accessible(page, "overall")
    next_step(page)

    # 4 通行信息: dates run the duplicate check (AP-6); the route three ways (AP-7).
    step_title(page, "通行信息")
    field(page, "起点省份").select_option(j.ORIGIN)
    field(page, "起运地").fill("石家庄市")
    field(page, "终点省份").select_option(j.DESTINATION)
    field(page, "目的地").fill("南京市")
    today = dates.today()
    field(page, "通行开始日期").fill((today + dt.timedelta(days=start_in_days)).isoformat())
    field(page, "通行结束日期").fill((today + dt.timedelta(days=start_in_days + 3)).isoformat())
    field(page, "通行结束日期").dispatch_event("change")
    expect(page.locator("[data-test=schedule]")).to_contain_text("重复办证校验通过")
    page.get_by_role("switch", name="多次通行").click()

    # (1) 手动填写: rows added and removed; the last row not the destination is warned about.
    add = page.get_by_role("button", name="新增途经省")
    add.click()
    add.click()
    add.click()
    field(page, "第 1 行省份").select_option(j.ORIGIN)
    blur_fill(page, "第 1 行道路", "G4-G1811")
    field(page, "第 2 行省份").select_option(j.VIA)
    blur_fill(page, "第 2 行道路", "G2-G3")
    page.get_by_role("button", name="删除第 3 行").click()
    expect(field(page, "第 3 行省份")).to_have_count(0)
    warning = page.get_by_text(re.compile("不是终点省份"))
    expect(warning).to_be_visible()
    shot(page, "07-step4-route-manual-warning")
    assert_accessible(page, "route manual")

    # (2) 智能识别: pasted text; each problem shown on its line, then the good text becomes rows.
    page.get_by_role("tab", name="智能识别").click()
    field(page, "粘贴路线文字").fill("河北：G4-G1811；\n山东G2-G3；\n江苏：G2；")
    page.get_by_role("button", name="识别", exact=True).click()
    expect(page.locator(".line-problem").first).to_contain_text("第 2 行")
    shot(page, "08-step4-route-recognise-problem")
    assert_accessible(page, "route recognise")
    field(page, "粘贴路线文字").fill("河北：G4-G1811；\n山东：G2-G3；\n江苏：G2；")
    page.get_by_role("button", name="识别", exact=True).click()
    expect(page.get_by_text(re.compile("已识别 3 个省份"))).to_be_visible()
    expect(field(page, "第 3 行省份")).to_have_value(j.DESTINATION)
    expect(warning).to_have_count(0)

    # (3) 历史路线推荐: this carrier's own approved routes with the same ends.
    page.get_by_role("tab", name="历史路线推荐").click()
    if history:
        choice = page.locator(".van-cell[role=button]").filter(has_text="已准予许可").first
        expect(choice).to_be_visible()
        shot(page, "09-step4-route-history")
        assert_accessible(page, "route history")
        choice.click()
        expect(field(page, "第 1 行省份")).to_have_value(j.ORIGIN)
    expect(field(page, "第 3 行道路")).to_have_value(re.compile(r"^G2"))
    next_step(page)

    # 5 经办人信息: name suggestions fill the agent (AP-8).
    step_title(page, "经办人信息")
    field(page, "经办人姓名").fill("李")
    page.get_by_role("button", name=re.compile("李四")).click()
    expect_value(page, "经办人姓名", "李四")
    shot(page, "10-step5-agent")
    assert_accessible(page, "agent")
    next_step(page)

    # 6 其他材料: a multi-trip permit needs the transport plan; over 1 MB refused before sending (AP-9).
    step_title(page, "其他材料")
    slot = page.get_by_role("group", name=re.compile("运输计划"))
    expect(slot).to_be_visible()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/v1/documents") else None)
    album = slot.locator("input[data-source=album]")
    album.set_input_files({"name": "运输计划-大.png", "mimeType": "image/png", "buffer": b"\0" * (ONE_MB + 1)})
    expect(slot.get_by_role("alert")).to_contain_text("超过 1MB")
    assert sent == [], "an oversized file must not be sent"
    shot(page, "11-step6-materials-too-large")
    album.set_input_files({"name": "运输计划.png", "mimeType": "image/png", "buffer": j.tiny_png((0, 90, 200))})
    expect(slot.get_by_text("运输计划.png")).to_be_visible()
    assert len(sent) == 1
    shot(page, "12-step6-materials-uploaded")
    assert_accessible(page, "materials")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(rf"/progress/{app_id}$"))
    expect(page.locator("[data-test=state]")).to_have_text("未受理")
    return app_id


# ---- 许可进度查询: the applications the officers acted on, and each status's operations ----------

# Exactly the operations the manual gives on each status (PQ-3 .. PQ-11).
OPERATIONS = {
    "STATE_DRAFT": ["编辑许可", "提交许可", "删除许可", "再来一件"],
    "STATE_SUBMITTED": ["撤销申请", "再来一件"],
    "STATE_RETURNED": ["修改补正", "再来一件"],
    "STATE_PROCESSING": ["车辆变更", "撤销申请", "再来一件"],
    "STATE_ISSUED": ["延期申请", "许可废止", "再来一件"],
    "STATE_DENIED": ["再来一件"],
    "STATE_WITHDRAWN": ["再来一件"],
}
LABELS = {"STATE_DRAFT": "未提交", "STATE_SUBMITTED": "未受理", "STATE_PROCESSING": "处理中",
          "STATE_ISSUED": "已发证", "STATE_DENIED": "不予许可", "STATE_WITHDRAWN": "已撤销",
          "STATE_RETURNED": "退回补正"}


def app_id(app: dict) -> str:
    return app["name"].rsplit("/", 1)[-1]


def state_of(api, app: dict) -> str:
    return api.get(f"/v1/{app['name']}")["state"]


def reached(api, app: dict, state: str) -> dict:
    return j.wait_for(lambda: (a := api.get(f"/v1/{app['name']}"))["state"] == state and a, state)


def open_detail(page: Page, app: dict, state: str) -> None:
    page.goto(f"/progress/{app_id(app)}")
    expect(page.locator("[data-test=state]")).to_have_text(LABELS[state])


def operations(page: Page) -> list[str]:
    buttons = page.locator("[data-test=operations] button")
    expect(buttons.last).to_be_visible()
    return [t.strip() for t in buttons.all_inner_texts()]


def confirm_dialog(page: Page) -> None:
    page.get_by_role("dialog").get_by_role("button", name="确定").click()


def issued_via_api(api_as, start_in_days: int) -> dict:
    """A permit issued the way the officers' clients do it (RV-1, RV-3): the carrier's approved route."""
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = j.fill_draft(carrier, start_in_days=start_in_days, days=3)
    j.submit(carrier, app)
    case = j.accept(hebei, j.case_of(hebei, app["name"]))
    for who, province in (("hebei-accept", j.ORIGIN), ("shandong-review", j.VIA), ("jiangsu-review", j.DESTINATION)):
        j.approve(api_as(who), case, province)
    j.wait_for(lambda: hebei.http.post(f"/v1/{case['name']}:issuePermit", json={}).status_code == 200, "permit issued")
    return reached(carrier, app, "STATE_ISSUED")
