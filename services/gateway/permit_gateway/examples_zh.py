"""Request, query-parameter and response examples of the OpenAPI document.

The main journey of the manual, as a phone and an officer's client send it:
我要申请, the six steps, 提交, 受理, 并联审批, 发证, then 撤销, 车辆变更, 延期, 废止.

Travel dates are counted from the day the document is built, EXAMPLE_START_IN_DAYS
ahead: an example stays valid (travel may not start in the past) and, when the
end-to-end fuzz test sends the examples to a shared stack, its period overlaps
no other test's (the AP-6 duplicate check counts applications per vehicle in
overlapping dates). Identifiers are made up and, for application numbers
(DJ13 + creation date + serial), dated before any stack that sends them was
started, so an example never names another test's resource.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

EXAMPLE_START_IN_DAYS = 1500
TRIP_DAYS = 7

NUMBER = "DJ1320261130900001"
APPLICATION = f"applications/{NUMBER}"
CASE = "cases/8e1f2a3b4c5d6e7f8091"
PERMIT = "permits/3f9c2a7be41d05a8c6e1"
TRACTOR_VEHICLE, SPARE_VEHICLE = "vehicles/4c2e9a1b7d3f5e60", "vehicles/5d3f0b2c8e4a6f71"
ORIGIN, VIA, DESTINATION = "130000", "370000", "320000"  # 河北 -> 山东 -> 江苏


@dataclass(frozen=True)
class Example:
    """An OpenAPI Example Object: a short Chinese summary and the value."""

    summary: str
    value: Any

    def as_openapi(self) -> dict[str, Any]:
        return {"summary": self.summary, "value": self.value}


def _doc(n: int) -> str:
    """A made-up document name, distinct per n."""
    return f"documents/{n:032x}"


def _date(d: dt.date) -> dict[str, int]:
    return {"year": d.year, "month": d.month, "day": d.day}


def _time(d: dt.date, hour: int = 8) -> str:
    return f"{d.isoformat()}T{hour:02d}:00:00Z"


@dataclass(frozen=True)
class Window:
    """The example travel period and the dates derived from it."""

    today: dt.date

    @property
    def start(self) -> dt.date:
        return self.today + dt.timedelta(days=EXAMPLE_START_IN_DAYS)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=TRIP_DAYS - 1)

    @property
    def extended_end(self) -> dt.date:
        return self.end + dt.timedelta(days=10)


ROUTE = [
    {"province": ORIGIN, "roads": ["G4", "G1811"]},
    {"province": VIA, "roads": ["G2", "G3"]},
    {"province": DESTINATION, "roads": ["G2"]},
]
ROUTE_TEXT = "河北省：G4-G1811；\n山东省：G2-G3；\n江苏省：G2；"
CARGO_TYPED = {"emptyLoad": False, "name": "变压器", "weightTonnes": "30.5", "lengthMetres": "9",
               "widthMetres": "3.2", "heightMetres": "2.7"}
CARGO_STORED = {"name": "变压器", "weightKg": "30500", "lengthMm": "9000", "widthMm": "3200", "heightMm": "2700",
                "weightTonnes": "30.500", "lengthMetres": "9.000", "widthMetres": "3.200", "heightMetres": "2.700"}
TRACTOR = {"plateNumber": "冀A12345", "vehicleType": "重型半挂牵引车", "makeModel": "解放牌CA4250P66K24T1A1E5",
           "curbMassKg": "8800", "axleCount": 3, "wheelbaseMm": "3300", "tyreCount": 10, "lengthMm": "6900",
           "widthMm": "2500", "heightMm": "3350", "source": "FLEET", "kind": "VEHICLE_KIND_TRACTOR",
           "fleetVehicle": TRACTOR_VEHICLE, "owner": "parties/L1001"}
TRAILER = {"plateNumber": "冀B6789挂", "vehicleType": "重型平板半挂车", "makeModel": "通华牌THT9400TDP",
           "curbMassKg": "9500", "axleCount": 3, "wheelbaseMm": "7600", "tyreCount": 12, "lengthMm": "13000",
           "widthMm": "3000", "heightMm": "1600", "source": "FLEET", "kind": "VEHICLE_KIND_FLATBED_TRAILER",
           "fleetVehicle": "vehicles/6e4a1c3d9f5b7a82", "owner": "parties/L1001"}
OVERALL = {"totalMassKg": "48800", "lengthMm": "19900", "widthMm": "3200", "heightMm": "4300",
           "axleSpacingsMm": ["3300", "1350", "6250", "1310", "1310"],
           "axleLoadsKg": ["6000", "8800", "8800", "8400", "8400", "8400"]}
AGENT = {"name": "李四", "idNumber": "130102********1232", "phone": "13800138000", "source": "FLEET",
         "agentRef": "agents/7a6b5c4d3e2f1a0b"}


def _passage(w: Window) -> dict[str, Any]:
    return {"originProvince": ORIGIN, "destinationProvince": DESTINATION, "route": ROUTE,
            "startDate": _date(w.start), "endDate": _date(w.end), "originPlace": "石家庄市",
            "destinationPlace": "南京市"}


def _update_steps(w: Window) -> dict[str, tuple[str, Example]]:
    """UpdateApplication: example name -> (updateMask, body). One entry per step of the manual."""
    return {
        "cargo": ("cargo", Example("第一步 货物信息：按吨/米填写，返回时补足 3 位小数（30.5 → \"30.500\"）",
                                   {"etag": "1", "cargo": CARGO_TYPED})),
        "cargoEmpty": ("cargo", Example("第一步 货物信息：空载，无需填写货物", {"etag": "1", "cargo": {"emptyLoad": True}})),
        "vehicles": ("vehicles", Example(
            "第二步 车辆信息：选择匹配到的已维护车辆，只传车牌号码，其余自动带入（牵引车在前，挂车在后）",
            {"etag": "2", "vehicles": [{"plateNumber": "冀A12345"}, {"plateNumber": "冀B6789挂"}]})),
        "vehiclesManual": ("vehicles", Example(
            "第二步 车辆信息：未匹配到的车辆手动填写全部信息，并上传两张行驶证或临时号牌图片",
            {"etag": "2", "vehicles": [
                {"plateNumber": "冀A12345"},
                {"plateNumber": "冀A8N52挂", "vehicleType": "重型低平板半挂车", "makeModel": "中集牌ZJV9401TDPYK",
                 "curbMassKg": "11200", "axleCount": 3, "wheelbaseMm": "8200", "tyreCount": 12,
                 "lengthMm": "14500", "widthMm": "3000", "heightMm": "1500",
                 "licenceDocuments": [_doc(11), _doc(12)]}]})),
        "overall": ("overall", Example(
            "第三步 车货总体信息：质量千克、尺寸毫米；总质量不小于车辆与货物之和，轴荷之和等于总质量",
            {"etag": "3", "overall": OVERALL})),
        "passage": ("passage", Example(
            "第四步 通行信息：起终点、逐省路线与通行日期（选择日期时做重复办证校验）",
            {"etag": "4", "passage": _passage(w)})),
        "agent": ("agent", Example("第五步 经办人信息：选择匹配到的经办人，传回 agentRef 即可",
                                   {"etag": "5", "agent": {"agentRef": "agents/7a6b5c4d3e2f1a0b"}})),
        "agentManual": ("agent", Example(
            "第五步 经办人信息：手动填写，并上传身份证正反面和授权委托书图片",
            {"etag": "5", "agent": {"name": "王强", "idNumber": "130102199001011237", "phone": "13912345678",
                                    "idCardDocuments": [_doc(21), _doc(22)],
                                    "powerOfAttorneyDocument": _doc(23)}})),
        "materials": ("materials", Example(
            "第六步 其他材料：三类申请上传三张车货总体轮廓图和一份护送方案",
            {"etag": "6", "materials": [
                {"kind": "MATERIAL_KIND_OUTLINE_DRAWING", "document": _doc(31)},
                {"kind": "MATERIAL_KIND_OUTLINE_DRAWING", "document": _doc(32)},
                {"kind": "MATERIAL_KIND_OUTLINE_DRAWING", "document": _doc(33)},
                {"kind": "MATERIAL_KIND_ESCORT_PLAN", "document": _doc(34)}]})),
    }


def request_examples(today: dt.date) -> dict[str, dict[str, Example]]:
    """operationId -> example name -> request body example."""
    w = Window(today)
    return {
        "SignIn": {
            "app": Example("国家政务服务平台 APP 登录（法人用户或个人用户）",
                           {"channel": "CHANNEL_APP", "ticket": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl"}),
            "wechat": Example("微信小程序登录（仅个人用户）",
                              {"channel": "CHANNEL_WECHAT", "ticket": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3eCJ9.c2ln"}),
        },
        "StartSignIn": {
            "app": Example("APP 发起统一身份认证登录", {"channel": "CHANNEL_APP"}),
            "staff": Example("审批人员经本省工作人员目录登录", {"channel": "CHANNEL_STAFF"}),
        },
        "CompleteSignIn": {
            "app": Example("认证平台回调后完成登录（APP、H5、审批人员）",
                           {"code": "Zk3mP0qR8sT1uV4w", "state": "q5ZC3c1rY4bK2m9w"}),
            "wechat": Example("微信小程序交来授权码（仅个人用户）",
                              {"channel": "CHANNEL_WECHAT", "code": "Zk3mP0qR8sT1uV4w", "nonce": "n8Yb2Lx5Qa7Wc1Ve"}),
        },
        "RefreshSession": {"refresh": Example("用刷新令牌换取新令牌", {"refreshToken": "rt_2f4e6a8c0b1d3f5e7a9c"})},
        "SignOut": {"one": Example("结束本设备的登录会话", {"refreshToken": "rt_2f4e6a8c0b1d3f5e7a9c"})},
        "SubmitLicence": {"licence": Example("新用户提交道路运输经营许可证（先上传许可证图片）", {
            "licenceNumber": "冀交运管许可石字130100001234号", "issuingAuthority": "石家庄市交通运输局",
            "validFrom": _date(today - dt.timedelta(days=400)), "validUntil": _date(w.end),
            "document": _doc(41)})},
        "ReviewLicence": {
            "approve": Example("审核通过", {"decision": "DECISION_APPROVE", "etag": "1"}),
            "reject": Example("驳回（须填写原因）", {"decision": "DECISION_REJECT", "reason": "许可证图片不清晰，请重新拍照上传。",
                                               "etag": "1"}),
        },
        "CreateApplication": {"new": Example(
            "我要申请：许可须知展示满 5 秒后，带上其阅读凭证新建草稿",
            {"noticeReceipt": "eyJwIjoicGFydGllcy9MMTAwMSIsInQiOjE3OTY1MjM0NTYwMDB9.c2lnbmF0dXJlLWV4YW1wbGU",
             "requestId": "0b6f3c1e-7d2a-4e59-9a7b-2c4d6e8f0a1b"})},
        "UpdateApplication": {name: ex for name, (_, ex) in _update_steps(w).items()},
        "SubmitApplication": {
            "submit": Example("提交许可", {"etag": "7", "requestId": "5e0c9b8a-1f2d-4c3b-8a7e-6d5c4b3a2f1e"}),
            "correction": Example("修改补正：退回补正的申请连同修改内容一并提交（不能单独保存）", {
                "etag": "9", "requestId": "6f1d0c9b-2e3f-4d5c-9b8a-7e6d5c4b3a2f",
                "application": {"agent": {"agentRef": "agents/7a6b5c4d3e2f1a0b", "phone": "13800138001"}},
                "updateMask": "agent"}),
        },
        "CloneApplication": {"again": Example("再来一件", {"requestId": "8d7c6b5a-4f3e-4d2c-9b1a-0f9e8d7c6b5a"})},
        "WithdrawApplication": {"withdraw": Example("撤销申请", {"etag": "8", "reason": "运输计划取消"})},
        "CheckVehicleSchedule": {"check": Example("选择通行日期时校验两辆车", {
            "startDate": _date(w.start), "endDate": _date(w.end), "plateNumbers": ["冀A12345", "冀B6789挂"]})},
        "ParseRouteText": {"text": Example("识别路线：省份名称：道路-道路-道路；每省一行", {"text": ROUTE_TEXT})},
        "ValidateRoute": {"manual": Example("校验手动填写的路线", {
            "originProvince": ORIGIN, "destinationProvince": DESTINATION, "rows": ROUTE})},
        "UploadDocument": {"licence": Example("上传车辆行驶证照片（file 为图片文件）", {
            "file": "（JPG 或 PNG 图片，不超过 1MB）", "kind": "DOCUMENT_KIND_VEHICLE_LICENCE",
            "filename": "行驶证正页.jpg", "declaredContentType": "image/jpeg"})},
        "AcceptCase": {"accept": Example("受理", {"etag": "1"})},
        "ReturnCase": {"return": Example("退回补正", {"reason": "行驶证照片不清晰，请重新上传。", "etag": "1"})},
        "RefuseCase": {"refuse": Example("不予受理", {"reason": "货物可解体，不属于大件运输。", "etag": "1"})},
        "SuspendReview": {"suspend": Example("桥梁加固期间中止计时", {"reason": "G2 京沪高速黄河大桥加固"})},
        "DecideReview": {
            "approve": Example("同意，附通行条件", {"decision": "DECISION_APPROVE", "reason": "同意通行",
                                            "conditions": ["限 22:00 至次日 6:00 通行"], "etag": "3"}),
            "return": Example("退回补正", {"decision": "DECISION_RETURN", "reason": "请补充护送方案中的护送车辆安排。",
                                       "etag": "3"}),
            "adjust": Example("建议调整路线（给出本省路段）", {
                "decision": "DECISION_REQUIRE_ADJUSTMENT", "reason": "G3 济南段桥梁限重，请改走 G2。",
                "suggestedRoute": [{"province": VIA, "roads": ["G2"]}], "etag": "3"}),
            "deny": Example("不同意", {"decision": "DECISION_DENY", "reason": "途经桥梁无法承载。", "etag": "3"}),
        },
        "ProposeRouteAdjustment": {"adjust": Example("建议调整本省路段", {
            "suggestedRoute": [{"province": VIA, "roads": ["G2"]}], "reason": "G3 济南段桥梁限重，请改走 G2。",
            "etag": "3"})},
        "RespondToAdjustment": {
            "accept": Example("采纳建议路线（三类大件上传修改后的护送方案）", {"accept": True, "escortPlan": _doc(51)}),
            "reject": Example("不采纳（将不予许可）", {"accept": False}),
        },
        "IssuePermit": {"issue": Example("全部途经省份同意后发证", {})},
        "RequestVehicleChange": {"change": Example("车辆变更：换成参数完全一致的已维护车辆，上传新的授权委托书", {
            "oldPlateNumber": "冀A12345", "newVehicle": SPARE_VEHICLE, "powerOfAttorney": _doc(61)})},
        "DecideVehicleChange": {"approve": Example("同意车辆变更", {"decision": "DECISION_APPROVE", "reason": "同意变更"})},
        "RequestExtension": {"extend": Example("延期申请：选择截止日期、省份和原因", {
            "newEndDate": _date(w.extended_end), "provinces": [VIA, DESTINATION], "reason": "受天气影响未能按期完成运输"})},
        "DecideExtension": {"approve": Example("同意延期", {"decision": "DECISION_APPROVE", "reason": "同意延期"})},
        "AbolishPermit": {"abolish": Example("完成运输任务后许可废止", {"reason": "运输任务已完成"})},
        "VerifyPermit": {"scan": Example("扫描许可证二维码核验", {
            "verificationCode": "v1.MzJmOWMyYTdiZTQxZDA1YThjNmUx.c2lnbmF0dXJl"})},
        "CreateOfficer": {"reviewer": Example("新建河北省审查岗账号", {
            "login": "hebei-review2", "displayName": "王芳", "province": ORIGIN, "roles": ["officer.review"]})},
        "UpdateOfficer": {"roles": Example("调整角色（updateMask=roles）", {"roles": ["officer.review", "officer.accept"]})},
        "UpdateWorkingCalendar": {"year": Example("录入节假日与调休工作日（路径年份与日期同年）", {
            "holidays": [_date(dt.date(w.start.year, 10, 1))], "workdays": [_date(dt.date(w.start.year, 9, 28))]})},
    }


def parameter_examples(today: dt.date) -> dict[str, dict[str, dict[str, Example]]]:
    """operationId -> parameter -> named examples, where one example per field is not enough.

    The names of UpdateApplication's updateMask examples are those of its body
    examples, so a tool pairing them sends each step with its own mask.
    """
    steps = _update_steps(Window(today))
    return {
        "UpdateApplication": {"updateMask": {
            name: Example(f"保存“{ex.summary.split('：')[0]}”", mask) for name, (mask, ex) in steps.items()}},
        "UpdateOfficer": {"updateMask": {"roles": Example("修改角色", "roles"),
                                         "disable": Example("停用账号", "active")}},
        "ListApplications": {"state": {"processing": Example("只看处理中的申请", "STATE_PROCESSING"),
                                       "returned": Example("只看退回补正的申请", "STATE_RETURNED")}},
    }


def _progress(w: Window) -> list[dict[str, Any]]:
    decided = _time(w.today, 10)
    return [
        {"province": ORIGIN, "decision": "REVIEW_DECISION_APPROVED", "decisionLabel": "同意", "reason": "同意通行",
         "decideTime": decided, "origin": True},
        {"province": VIA, "decision": "REVIEW_DECISION_PENDING", "decisionLabel": "待审批"},
        {"province": DESTINATION, "decision": "REVIEW_DECISION_APPROVED", "decisionLabel": "同意",
         "reason": "同意通行", "decideTime": decided},
    ]


def _application(w: Window) -> dict[str, Any]:
    return {
        "name": APPLICATION, "number": NUMBER, "applicant": "parties/L1001", "state": "STATE_PROCESSING",
        "stateLabel": "处理中", "cargo": CARGO_STORED, "vehicles": [TRACTOR, TRAILER], "overall": OVERALL,
        "passage": _passage(w), "agent": AGENT, "permitClass": 2, "progress": _progress(w),
        "createTime": "2026-11-30T01:12:00Z", "updateTime": _time(w.today, 10), "submitTime": "2026-11-30T02:05:00Z",
        "etag": "8", "submission": 1,
        "classification": {"overLimit": True, "permitClass": 2, "ruleSet": "JT-2016-62@2016-09-21",
                           "message": "二类大件：总宽 3.200 米超过 3.000 米",
                           "rules": [{"rule": "ART15_CLASS2_WIDTH", "description": "总宽 3.200 米超过 3.000 米",
                                      "field": "overall.width_mm", "value": "3200", "limit": "3000"}]},
        "routeProvinces": [ORIGIN, VIA, DESTINATION],
        "overallReference": {"totalMassKg": "48800", "lengthMm": "13000", "widthMm": "3200", "heightMm": "3350",
                             "axleSpacingsMm": ["3300", "1350", "7600", "1350", "1350"],
                             "axleLoadsKg": ["8133", "8133", "8133", "8133", "8134", "8134"]},
    }


def _case(w: Window) -> dict[str, Any]:
    due = _date(w.today + dt.timedelta(days=14))
    return {
        "name": CASE, "application": APPLICATION, "applicationNumber": NUMBER, "applicant": "parties/L1001",
        "originProvince": ORIGIN, "destinationProvince": DESTINATION, "routeProvinces": [ORIGIN, VIA, DESTINATION],
        "permitClass": 2, "state": "CASE_STATE_UNDER_REVIEW",
        "reviews": [
            {"name": f"{CASE}/reviews/{ORIGIN}", "province": ORIGIN, "state": "REVIEW_STATE_APPROVED",
             "reason": "同意通行", "officer": "officers/hebei-accept", "decideTime": _time(w.today, 10),
             "dueDate": due, "conditions": ["限 22:00 至次日 6:00 通行"]},
            {"name": f"{CASE}/reviews/{VIA}", "province": VIA, "state": "REVIEW_STATE_PENDING", "dueDate": due,
             "claimedBy": "officers/shandong-review", "claimExpireTime": _time(w.today, 11)},
            {"name": f"{CASE}/reviews/{DESTINATION}", "province": DESTINATION, "state": "REVIEW_STATE_APPROVED",
             "reason": "同意通行", "officer": "officers/jiangsu-review", "decideTime": _time(w.today, 10),
             "dueDate": due},
        ],
        "acceptanceDueDate": _date(w.today + dt.timedelta(days=4)), "submission": 1,
        "createTime": "2026-11-30T02:05:00Z", "updateTime": _time(w.today, 10), "etag": "5",
        "plateNumbers": ["冀A12345", "冀B6789挂"], "startDate": _date(w.start), "endDate": _date(w.end),
        "route": ROUTE,
        "history": [{"kind": "CASE_ACCEPTED", "actor": "officers/hebei-accept", "province": ORIGIN,
                     "fromState": "CASE_STATE_AWAITING_ACCEPTANCE", "toState": "CASE_STATE_UNDER_REVIEW",
                     "occurTime": _time(w.today, 9)}],
        "vehicles": [{"plateNumber": "冀A12345", "fleetVehicle": TRACTOR_VEHICLE, "curbMassKg": "8800",
                      "axleCount": 3, "wheelbaseMm": "3300", "tyreCount": 10}],
    }


def _permit(w: Window) -> dict[str, Any]:
    return {
        "name": PERMIT, "number": "132026000001", "case": CASE, "application": APPLICATION,
        "holder": "parties/L1001", "startDate": _date(w.start), "endDate": _date(w.end),
        "state": "PERMIT_STATE_VALID", "verificationCode": "v1.MzJmOWMyYTdiZTQxZDA1YThjNmUx.c2lnbmF0dXJl",
        "createTime": _time(w.today, 12), "plateNumbers": ["冀A12345", "冀B6789挂"], "route": ROUTE,
        "conditions": [{"province": ORIGIN, "text": "限 22:00 至次日 6:00 通行"}],
        "issuingProvince": ORIGIN, "updateTime": _time(w.today, 12), "etag": "1",
    }


def response_examples(today: dt.date) -> dict[str, dict[str, Example]]:
    """operationId -> example name -> 200 response example of a key read."""
    w = Window(today)
    app = _application(w)
    return {
        "GetMe": {"carrier": Example("已关联原账户的法人用户", {
            "user": "users/1f2e3d4c5b6a79880f1e2d3c4b5a6978", "party": "parties/L1001",
            "partyKind": "PARTY_KIND_ENTERPRISE", "displayName": "河北冀运大件物流有限公司", "roles": ["applicant"],
            "province": ORIGIN, "onboarding": "ONBOARDING_STATE_ACTIVE", "legacyLinked": True,
            "channel": "CHANNEL_APP", "maskedIdentifier": "91130100MA0DPQ7R8A", "legacyAccount": "L1001"})},
        "GetApplication": {"processing": Example("处理中：河北、江苏已同意，山东待审批", app)},
        "ListApplications": {"page": Example("第一页（共 1 件）", {"applications": [app], "totalSize": 1})},
        "SuggestVehicles": {"fleet": Example("输入“冀”匹配到的电脑端车辆", {"vehicles": [TRACTOR, TRAILER]})},
        "ParseRouteText": {"parsed": Example("识别“山东省 G2-G3；”（缺少冒号）：仍生成该行，并提示核对", {
            "rows": [{"province": ORIGIN, "roads": ["G4京港澳高速", "G1811"]},
                     {"province": VIA, "roads": ["G2京沪高速", "G3京台高速"]},
                     {"province": DESTINATION, "roads": ["G2京沪高速"]}],
            "problems": [{"line": 2, "column": 5, "reason": "MISSING_COLON",
                          "message": "第2行第5列：省份“山东省”后缺少冒号，已按山东省识别，请核对。"}]})},
        "UploadDocument": {"stored": Example("上传成功", {
            "name": _doc(1), "owner": "parties/L1001", "kind": "DOCUMENT_KIND_VEHICLE_LICENCE",
            "filename": "行驶证正页.jpg", "contentType": "image/jpeg", "sizeBytes": "245760",
            "sha256": "9f2b5c0e1d4a7b8c3e6f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d",
            "createTime": _time(today), "format": "DOCUMENT_FORMAT_JPEG"})},
        "GetCase": {"reviewing": Example("并联审批中：山东省审查岗已领取", _case(w))},
        "GetPermit": {"issued": Example("已发证的许可证", _permit(w))},
        "VerifyPermit": {"valid": Example("核验有效", {
            "result": "VERIFICATION_RESULT_VALID", "permitNumber": "132026000001",
            "plateNumbers": ["冀A12345", "冀B6789挂"], "startDate": _date(w.start), "endDate": _date(w.end)})},
    }
