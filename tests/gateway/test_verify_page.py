"""The public verification page's rendering (CT-2, CT-3): the verdict at a glance, what a
roadside check needs, nothing personal, everything escaped."""

from __future__ import annotations

import pytest

from permit_gateway.verify_page import VERDICTS, render

ANSWER = {
    "result": "VERIFICATION_RESULT_VALID", "permitNumber": "132026000001",
    "plateNumbers": ["冀A12345", "冀B6789挂"],
    "startDate": {"year": 2027, "month": 1, "day": 5}, "endDate": {"year": 2027, "month": 1, "day": 8},
    "route": [{"province": "130000", "roads": ["G4", "G1811"]}, {"province": "370000", "roads": ["G2"]}],
    "overall": {"totalMassKg": "48300", "lengthMm": "19900", "widthMm": "3200", "heightMm": "4300"},
    "vehicles": [{"plateNumber": "冀A12345", "vehicleType": "重型半挂牵引车"},
                 {"plateNumber": "冀B6789挂", "vehicleType": "重型低平板半挂车"}],
    "issuingProvince": "130000", "certificateVersion": 1, "currentCertificateVersion": 1,
}
NAMES = {"130000": "河北省", "370000": "山东省"}


@pytest.mark.parametrize(("result", "headline"), [
    ("VERIFICATION_RESULT_VALID", "有效"), ("VERIFICATION_RESULT_ABOLISHED", "已废止"),
    ("VERIFICATION_RESULT_EXPIRED", "已过期"), ("VERIFICATION_RESULT_SUPERSEDED", "已被新版本替代"),
    ("VERIFICATION_RESULT_UNKNOWN", "无法识别"), ("VERIFICATION_RESULT_NOT_YET_VALID", "有效 · 未到通行日期")])
def test_the_verdict_is_the_headline_CT_2(result: str, headline: str) -> None:
    page = render({**ANSWER, "result": result}, NAMES)
    assert f"<strong>{headline}</strong>" in page
    assert f"<title>通行证核验 · {headline}</title>" in page


def test_the_page_shows_what_the_roadside_check_needs_CT_3() -> None:
    page = render(ANSWER, NAMES)
    for shown in ("132026000001", "冀A12345", "重型低平板半挂车", "2027年1月5日", "2027年1月8日", "河北省：G4—G1811",
                  "山东省：G2", "48.300 吨", "19.900 米", "3.200 米", "4.300 米", "单次通行", 'lang="zh-CN"',
                  "width=device-width"):
        assert shown in page, shown


def test_an_unknown_code_shows_no_permit_data_CT_3() -> None:
    page = render({"result": "VERIFICATION_RESULT_UNKNOWN"}, {})
    assert "<strong>无法识别</strong>" in page and "许可证编号" not in page


def test_text_from_the_answer_is_escaped_CT_3() -> None:
    page = render({**ANSWER, "permitNumber": "<script>alert(1)</script>",
                   "route": [{"province": "130000", "roads": ["<b>G4</b>"]}]}, NAMES)
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "&lt;b&gt;G4" in page


def test_every_result_of_the_contract_has_a_verdict_CT_2() -> None:
    from permit.approval.v1 import approval_pb2

    names = set(approval_pb2.VerificationResult.keys()) - {"VERIFICATION_RESULT_UNSPECIFIED"}
    assert names == set(VERDICTS)
