"""The permit a driver carries (CT-1, CT-2, CT-3, RV-5), end to end over HTTP.

A permit is issued for a hand-entered truck (fresh plate, travel from today, so it
is valid now); the carrier downloads the certificate as a PDF and a phone image; its
text, its embedded CJK font and its QR code are read back (pypdf, pypdfium2,
zxing-cpp); the QR payload is verified offline with the published Ed25519 key; the
public verification page says 有效, and after an extension the old certificate is
superseded, after abolition 已废止. Another applicant cannot download it and the page
shows nothing personal.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from urllib.parse import parse_qs, urlsplit

import pypdfium2 as pdfium
import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from PIL import Image
from pypdf import PdfReader

from tests.e2e import forms as f
from tests.e2e import journey as j

pytestmark = pytest.mark.e2e

CONDITION = "夜间22时至次日6时通行，限速60公里/小时"


def _zh(d: dict) -> str:
    return f"{d['year']}年{d['month']}月{d['day']}日"


def _iso(d: dict) -> str:
    return dt.date(d["year"], d["month"], d["day"]).isoformat()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _issued_today(api_as) -> tuple[dict, dict]:
    """A hand-entered truck travelling from today; 山东 approves with a condition."""
    carrier = api_as("carrier")
    app = f.fill(carrier, start_in=0, days=3, cargo=f.HAND_CARGO, width=3000, height=4000,
                 vehicles=[f.hand_truck(carrier)])
    r = f.submit_raw(carrier, app)
    assert r.status_code == 200, r.text
    hebei = api_as("hebei-accept")
    case = j.accept(hebei, j.case_of(hebei, app["name"]))
    for province, persona in f.OFFICER_OF.items():
        body = {"decision": "DECISION_APPROVE", "reason": "同意通行"}
        if province == j.VIA:
            body["conditions"] = [CONDITION]
        case = api_as(persona).post(f"/v1/{case['name']}/reviews/{province}:decide", body)
    return app, j.issue(hebei, case)


def _certificate(api, permit: dict, *, version: int) -> dict:
    """Wait until the permit's certificate ``version`` is stored (rendered after the commit)."""
    def stored():
        certs = api.get(f"/v1/{permit['name']}").get("certificates", [])
        return next((c for c in certs if c["version"] == version and c.get("storeTime")), None)
    return j.wait_for(stored, f"certificate v{version} stored", timeout=60)


def _download(api, permit: dict, fmt: str, version: int = 0):
    params = {"format": fmt, **({"version": version} if version else {})}
    return api.http.get(f"/v1/{permit['name']}/certificate", params=params)


def _qr_of(image: Image.Image) -> str:
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code found on the certificate"
    return found[0].text


def _pdf_qr(pdf: bytes) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return _qr_of(doc[0].render(scale=3).to_pil())
    finally:
        doc.close()


def _offline_check(code: str, keys: list[dict]) -> dict:
    """What an inspector's phone does without network: the signature against the published key."""
    prefix, body, sig = code.split(".")
    assert prefix == "PC1"
    payload = json.loads(_unb64(body))
    key = next(k for k in keys if k["keyId"] == payload["kid"])
    assert key["algorithm"] == "Ed25519"
    Ed25519PublicKey.from_public_bytes(_unb64(key["publicKey"])).verify(_unb64(sig), _unb64(body))
    return payload


def test_certificate_download_qr_offline_and_online_check_extension_and_abolition_CT_1_CT_2_CT_3_RV_5(
        stack, api_as, anonymous):
    carrier = api_as("carrier")
    app, permit = _issued_today(api_as)
    plate = app["vehicles"][0]["plateNumber"]
    v1 = _certificate(carrier, permit, version=1)
    assert v1["state"] == "CERTIFICATE_STATE_CURRENT" and v1["reason"] == "ISSUED"

    # CT-1: the A4 PDF, with its text and the CJK font embedded.
    r = _download(carrier, permit, "pdf")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    pdf = r.content
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in (permit["number"], plate, "山东省", "江苏省", "河北省", _zh(permit["startDate"]),
                     _zh(permit["endDate"]), "超限运输车辆通行证", f.HAND_CARGO["name"], "重型平板货车",
                     CONDITION, "单次通行", "河北冀运大件物流有限公司"):
        assert expected in text, expected
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = [fonts[k].get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
                for k in fonts]
    assert embedded and all("/FontFile2" in d for d in embedded), "the CJK font is not embedded"

    # CT-2: the QR code, read from the rendered page, opens this gateway's verification page.
    url = _pdf_qr(pdf)
    assert url.startswith(f"{stack.gateway_url}/verify?c=PC1.")
    code = parse_qs(urlsplit(url).query)["c"][0]
    assert code == v1["verificationCode"]
    keys = anonymous.get("/v1/certificateKeys")["keys"]
    payload = _offline_check(code, keys)
    assert (payload["no"], payload["v"], payload["s"], payload["e"]) == (
        permit["number"], 1, _iso(permit["startDate"]), _iso(permit["endDate"]))
    assert payload["pl"] == [plate]

    # The phone image carries the same QR code.
    r = _download(carrier, permit, "png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    phone = Image.open(io.BytesIO(r.content))
    assert phone.width == 1080 and phone.height > phone.width
    assert _qr_of(phone) == url

    # CT-3: the public page, no sign-in: 有效, what the roadside needs, nothing personal.
    page = anonymous.http.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<strong>有效</strong>" in html
    for shown in (permit["number"], plate, "山东省", "G1811", "4.000 米", "3.000 米", _zh(permit["endDate"])):
        assert shown in html, shown
    agent = app["agent"]
    personal = ["河北冀运大件物流有限公司", "parties/", "经办人", agent["name"],
                *(str(v) for k, v in agent.items() if k in ("idNumber", "phone", "mobile") and v)]
    for value in personal:
        assert value not in html, value
    check = anonymous.post("/v1/permits:verify", {"verificationCode": code})
    assert check["result"] == "VERIFICATION_RESULT_VALID" and check["currentCertificateVersion"] == 1

    # Officers of a route province download it; another applicant or province does not see it.
    assert _download(api_as("shandong-review"), permit, "pdf").content == pdf
    other = _download(api_as("person"), permit, "pdf")
    assert other.status_code == 404 and f.err(other)["reason"] == "PERMIT_NOT_FOUND"
    assert _download(api_as("beijing-review"), permit, "pdf").status_code == 403
    assert _download(anonymous, permit, "pdf").status_code == 401
    assert f.err(_download(carrier, permit, "docx"))["reason"] == "CERTIFICATE_FORMAT_INVALID"

    # An extension issues version 2 with the new end date; version 1 stays, superseded.
    new_end = j._date(dt.date(**permit["endDate"]) + dt.timedelta(days=4))
    ext = carrier.post(f"/v1/{permit['name']}/extensions",
                       {"newEndDate": new_end, "provinces": [j.VIA], "reason": "设备延迟到货"})["extensions"][-1]
    api_as("shandong-review").post(f"/v1/{ext['name']}:decide", {"decision": "DECISION_APPROVE"})
    v2 = _certificate(carrier, permit, version=2)
    assert v2["reason"] == "EXTENDED" and v2["endDate"] == new_end
    certs = carrier.get(f"/v1/{permit['name']}")["certificates"]
    assert [c["state"] for c in certs] == ["CERTIFICATE_STATE_SUPERSEDED", "CERTIFICATE_STATE_CURRENT"]
    new_pdf = _download(carrier, permit, "pdf").content
    new_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(new_pdf)).pages)
    assert _zh(new_end) in new_text and "第 2 版" in new_text
    old = _download(carrier, permit, "pdf", version=1)
    assert old.status_code == 200 and old.content == pdf
    new_url = _pdf_qr(new_pdf)
    assert _offline_check(parse_qs(urlsplit(new_url).query)["c"][0], keys)["e"] == _iso(new_end)
    assert "已被新版本替代" in anonymous.http.get(f"/verify?c={code}").text
    assert anonymous.post("/v1/permits:verify", {"verificationCode": code})["result"] == \
        "VERIFICATION_RESULT_SUPERSEDED"
    assert "<strong>有效</strong>" in anonymous.http.get(urlsplit(new_url).path + "?" + urlsplit(new_url).query).text

    # Abolished (PQ-9): the current certificate's page says so.
    carrier.post(f"/v1/{permit['name']}:abolish", {"reason": "运输已完成"})
    assert "<strong>已废止</strong>" in anonymous.http.get(f"/verify?{urlsplit(new_url).query}").text

    # Anything else is not recognised.
    assert "<strong>无法识别</strong>" in anonymous.http.get("/verify?c=PC1.e30.AAAA").text
    assert "<strong>无法识别</strong>" in anonymous.http.get("/verify").text
