"""The public verification page a roadside inspector opens from a certificate's QR code (CT-2, CT-3).

``GET /verify?c=<code>``: mobile HTML in Chinese, no sign-in. It answers at a glance
有效 / 已废止 / 已过期 / 已被新版本替代 / 无法识别 and shows what a roadside check
needs (plates and vehicle types, validity, route, overall dimensions and mass),
never anything personal: the answer it renders (VerifyPermit) carries none.
"""

from __future__ import annotations

import datetime as dt
import html
import time
from typing import Any

import grpc
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from permit_gateway.config import Settings
from permit_gateway.middleware import request_id_of
from permitkit.context import REQUEST_ID
from permitkit.dates import SHANGHAI

log = structlog.get_logger("permit_gateway")
PATH = "/verify"
PROVINCES_TTL = 3600.0

# result -> (headline, colour, what it means for the lorry in front of the inspector)
VERDICTS: dict[str, tuple[str, str, str]] = {
    "VERIFICATION_RESULT_VALID": ("有效", "#1a7f37", "许可证真实有效，请核对车辆、路线与下列信息一致。"),
    "VERIFICATION_RESULT_NOT_YET_VALID": ("有效 · 未到通行日期", "#b35c00",
                                          "许可证真实，但尚未到通行日期，有效期开始前不得通行。"),
    "VERIFICATION_RESULT_ABOLISHED": ("已废止", "#c62828", "许可证已被持证人废止，不得再凭此证通行。"),
    "VERIFICATION_RESULT_EXPIRED": ("已过期", "#616161", "许可证有效期已过，不得再凭此证通行。"),
    "VERIFICATION_RESULT_SUPERSEDED": ("已被新版本替代", "#b35c00",
                                       "所扫通行证为旧版本，许可已变更（如延期），请以最新版本为准；下列为最新信息。"),
    "VERIFICATION_RESULT_UNKNOWN": ("无法识别", "#616161",
                                    "二维码不是本系统签发的通行证，或内容被改动。请核实证件来源。"),
}

_STYLE = """
*{box-sizing:border-box}body{margin:0;font-family:"PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",
"Microsoft YaHei",sans-serif;background:#f4f1ea;color:#1d1d1d;font-size:16px;line-height:1.5}
main{max-width:480px;margin:0 auto;padding:16px}
h1{font-size:18px;margin:4px 0 12px;text-align:center;color:#8c1c24}
.verdict{border-radius:12px;color:#fff;padding:20px 16px;text-align:center;margin-bottom:12px}
.verdict strong{display:block;font-size:34px;letter-spacing:2px}
.verdict p{margin:8px 0 0;font-size:15px}
section{background:#fff;border-radius:12px;padding:12px 16px;margin-bottom:12px}
h2{font-size:15px;color:#8c1c24;margin:0 0 8px}
dl{margin:0;display:grid;grid-template-columns:6.5em 1fr;row-gap:6px}
dt{color:#666}dd{margin:0;word-break:break-all}
ol{margin:0;padding-left:1.3em}li{margin:2px 0}
.plate{display:inline-block;background:#0b3d91;color:#fff;border-radius:4px;padding:0 6px;margin:0 4px 4px 0;
font-weight:600}
.nw{white-space:nowrap}
footer{color:#777;font-size:13px;text-align:center;margin:16px 0}
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _date(d: dict[str, int] | None) -> str:
    if not d or not d.get("year"):
        return "—"
    return f'<span class="nw">{int(d["year"])}年{int(d["month"])}月{int(d["day"])}日</span>'


def _metres(mm: str | int | None) -> str:
    v = int(mm or 0)
    return f"{v // 1000}.{v % 1000:03d} 米"


def _tonnes(kg: str | int | None) -> str:
    v = int(kg or 0)
    return f"{v // 1000}.{v % 1000:03d} 吨"


def render(answer: dict[str, Any], provinces: dict[str, str]) -> str:
    """The page for one VerifyPermit answer (protobuf JSON names)."""
    result = answer.get("result", "VERIFICATION_RESULT_UNKNOWN")
    headline, colour, meaning = VERDICTS.get(result, VERDICTS["VERIFICATION_RESULT_UNKNOWN"])
    parts = [f'<div class="verdict" style="background:{colour}"><strong>{_e(headline)}</strong>'
             f"<p>{_e(meaning)}</p></div>"]
    if answer.get("permitNumber"):
        vehicles = answer.get("vehicles") or [{"plateNumber": p} for p in answer.get("plateNumbers", [])]
        plates = "".join(
            f'<div><span class="plate">{_e(v.get("plateNumber", ""))}</span>{_e(v.get("vehicleType", ""))}</div>'
            for v in vehicles)
        rows = [("许可证编号", _e(answer["permitNumber"])),
                ("车辆", plates or "—"),
                ("有效期", f"{_date(answer.get('startDate'))} 至 {_date(answer.get('endDate'))}"),
                ("通行方式", "多次通行" if answer.get("multiTrip") else "单次通行")]
        if answer.get("issuingProvince"):
            rows.append(("发证省份", _e(provinces.get(answer["issuingProvince"], answer["issuingProvince"]))))
        if answer.get("currentCertificateVersion"):
            rows.append(("通行证版本", f"当前第 {int(answer['currentCertificateVersion'])} 版"
                        + (f"（所扫为第 {int(answer['certificateVersion'])} 版）"
                           if answer.get("certificateVersion") else "")))
        parts.append("<section><h2>许可信息</h2><dl>"
                     + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl></section>")
        o = answer.get("overall")
        if o:
            parts.append(
                "<section><h2>车货总体</h2><dl>"
                f"<dt>总质量</dt><dd>{_tonnes(o.get('totalMassKg'))}</dd>"
                f"<dt>长</dt><dd>{_metres(o.get('lengthMm'))}</dd>"
                f"<dt>宽</dt><dd>{_metres(o.get('widthMm'))}</dd>"
                f"<dt>高</dt><dd>{_metres(o.get('heightMm'))}</dd></dl></section>")
        route = answer.get("route") or []
        if route:
            items = "".join(
                f"<li>{_e(provinces.get(r.get('province', ''), r.get('province', '')))}："
                f"{_e('—'.join(r.get('roads', [])) or '—')}</li>" for r in route)
            parts.append(f"<section><h2>通行路线</h2><ol>{items}</ol></section>")
    body = "".join(parts)
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            "<meta name=\"robots\" content=\"noindex\">"
            f"<title>通行证核验 · {_e(headline)}</title><style>{_STYLE}</style></head><body><main>"
            "<h1>超限运输车辆通行证核验</h1>"
            f"{body}<footer>核验时间 {dt.datetime.now(SHANGHAI):%Y-%m-%d %H:%M}"
            "（北京时间）<br>跨省大件运输并联许可</footer></main></body></html>")


def install(app: FastAPI, settings: Settings, state: dict[str, Any]) -> None:
    """Serve the verification page on the gateway (public, no sign-in)."""
    from google.protobuf import json_format

    from permit.approval.v1 import approval_service_pb2 as asvc
    from permit.routing.v1 import routing_service_pb2 as rsvc

    cache: dict[str, Any] = {"provinces": {}, "at": 0.0}

    async def provinces(metadata: list[tuple[str, str]]) -> dict[str, str]:
        if cache["provinces"] and time.monotonic() - cache["at"] < PROVINCES_TTL:
            return dict(cache["provinces"])
        call = state["channels"]["routing"].unary_unary(
            "/permit.routing.v1.RoutingService/ListProvinces",
            request_serializer=rsvc.ListProvincesRequest.SerializeToString,
            response_deserializer=rsvc.ListProvincesResponse.FromString)
        try:
            resp = await call(rsvc.ListProvincesRequest(), timeout=settings.call_timeout, metadata=metadata)
        except grpc.RpcError:
            return {}  # codes stand in for names while routing is away
        cache["provinces"] = {p.code: p.name for p in resp.provinces}
        cache["at"] = time.monotonic()
        return dict(cache["provinces"])

    @app.get(PATH, include_in_schema=False)
    async def verify_page(request: Request) -> HTMLResponse:
        rid = request_id_of(request)
        metadata = [(REQUEST_ID, rid)]
        code = (request.query_params.get("c") or request.query_params.get("code") or "").strip()[:2000]
        answer: dict[str, Any] = {"result": "VERIFICATION_RESULT_UNKNOWN"}
        status = 200
        if code:
            call = state["channels"]["approval"].unary_unary(
                "/permit.approval.v1.ApprovalService/VerifyPermit",
                request_serializer=asvc.VerifyPermitRequest.SerializeToString,
                response_deserializer=asvc.VerifyPermitResponse.FromString)
            try:
                resp = await call(asvc.VerifyPermitRequest(verification_code=code),
                                  timeout=settings.call_timeout, metadata=metadata)
                answer = json_format.MessageToDict(resp)
            except grpc.RpcError as e:
                log.warning("verify_page_failed", code=e.code().name, request_id=rid)
                return HTMLResponse(_unavailable(), status_code=503, headers={"cache-control": "no-store"})
        page = render(answer, await provinces(metadata) if answer.get("permitNumber") else {})
        return HTMLResponse(page, status_code=status, headers={"cache-control": "no-store"})


def _unavailable() -> str:
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>通行证核验</title><style>{_STYLE}</style></head><body><main>"
            "<h1>超限运输车辆通行证核验</h1><div class=\"verdict\" style=\"background:#616161\">"
            "<strong>暂时无法核验</strong><p>核验服务暂时不可用，请稍后重试，或凭二维码离线核验签名。</p></div>"
            "</main></body></html>")
