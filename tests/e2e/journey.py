"""The walking slice as the HTTP calls a phone and an officer's client make.

Shared by the end-to-end tests and the benchmark, so both exercise exactly
the same path through the gateway.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
import uuid
import zlib

from permitkit import dates
from permitkit.testing import wait_for

ORIGIN, VIA, DESTINATION = "130000", "370000", "320000"  # 河北 -> 山东 -> 江苏
ROUTE = [
    {"province": ORIGIN, "roads": ["G4", "G1811"]},
    {"province": VIA, "roads": ["G2", "G3"]},
    {"province": DESTINATION, "roads": ["G2"]},
]


def tiny_png(rgb: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    """A valid 1x1 PNG of one colour (a photographed licence stands in)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        import struct
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    import struct
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" + bytes(rgb))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _date(d: dt.date) -> dict[str, int]:
    return {"year": d.year, "month": d.month, "day": d.day}


NOTICE_SECONDS = 5.2  # AP-1: 5 s by the server's clock, and a margin
_RECEIPTS: dict[int, tuple[str, float]] = {}


def notice_receipt(api) -> str:
    """The receipt of the permit notice shown to ``api``'s party at least 5 s ago (AP-1).

    A receipt stays good for a day, so each session reads the notice once and waits
    once; the first call sleeps out the 5 seconds."""
    key = id(api)
    if key not in _RECEIPTS:
        _RECEIPTS[key] = (api.get("/v1/notice")["receipt"], time.monotonic())
    receipt, served = _RECEIPTS[key]
    time.sleep(max(0.0, served + NOTICE_SECONDS - time.monotonic()))
    return receipt


def new_application(api) -> dict:
    """我要申请 with the notice read."""
    return api.post("/v1/applications", {"noticeReceipt": notice_receipt(api), "requestId": str(uuid.uuid4())})


def step_bodies(vehicles: list[dict], agent: dict, *, start_in_days: int, days: int) -> dict[str, dict]:
    """The bodies of the five form steps (update mask -> body) for a tractor and trailer from
    the fleet, a transformer of 30 t, Hebei -> Jiangsu over ``days`` days from ``start_in_days``."""
    cargo = {"emptyLoad": False, "name": "变压器", "weightKg": "30000", "lengthMm": "9000",
             "widthMm": "3200", "heightMm": "3100"}
    tractor, trailer = vehicles
    curb = sum(int(v["curbMassKg"]) for v in vehicles)
    total = curb + int(cargo["weightKg"])
    axles = sum(int(v["axleCount"]) for v in vehicles)
    overall = {
        "totalMassKg": str(total),
        "lengthMm": str(max(int(tractor["lengthMm"]) + int(trailer["lengthMm"]), int(cargo["lengthMm"]))),
        "widthMm": str(max(max(int(v["widthMm"]) for v in vehicles), int(cargo["widthMm"]))),
        "heightMm": str(max(int(trailer["heightMm"]) + 1200, int(cargo["heightMm"]) + 1200, 4000)),
        "axleSpacingsMm": ["3200"] + ["1350"] * (axles - 2),
        "axleLoadsKg": [str(total // axles)] * (axles - 1) + [str(total - (total // axles) * (axles - 1))],
    }
    today = dates.today()
    passage = {"originProvince": ORIGIN, "destinationProvince": DESTINATION, "route": ROUTE,
               "startDate": _date(today + dt.timedelta(days=start_in_days)),
               "endDate": _date(today + dt.timedelta(days=start_in_days + days)),
               "multiTrip": False, "originPlace": "石家庄市", "destinationPlace": "南京市"}
    return {"cargo": {"cargo": cargo}, "vehicles": {"vehicles": list(vehicles)}, "overall": {"overall": overall},
            "passage": {"passage": passage}, "agent": {"agent": agent}}


def fill_draft(carrier, *, start_in_days: int = 3, days: int = 7, plate_prefix: str = "冀A") -> dict:
    """我要申请 -> the six steps with the fleet's vehicles and agent -> one uploaded document."""
    app = new_application(carrier)
    path = f"/v1/{app['name']}"

    fleet = carrier.get("/v1/vehicles:suggest", params={"platePrefix": "冀"})["vehicles"]
    tractor = next(v for v in fleet if v["plateNumber"].startswith(plate_prefix))
    trailer = next(v for v in fleet if v["plateNumber"].endswith("挂"))
    agent = carrier.get("/v1/agents:suggest", params={"namePrefix": ""})["agents"][0]

    steps = step_bodies([tractor, trailer], agent, start_in_days=start_in_days, days=days).items()
    for mask, body in steps:
        app = carrier.patch(path, {**body, "etag": app["etag"]}, params={"updateMask": mask})

    doc = carrier.call("POST", "/v1/documents", data={"kind": "DOCUMENT_KIND_TRANSPORT_PLAN"},
                       files={"file": ("运输计划.png", tiny_png(), "image/png")})
    app = carrier.patch(path, {"materials": [{"kind": "MATERIAL_KIND_OTHER", "document": doc["name"]}],
                               "etag": app["etag"]}, params={"updateMask": "materials"})
    app["_document"] = doc
    return app


def submit(carrier, app: dict) -> dict:
    return carrier.post(f"/v1/{app['name']}:submit", {"etag": app["etag"]})


def case_of(officer, application: str) -> dict:
    return wait_for(lambda: _find_case(officer, application), f"case of {application} in the work queue")


def _find_case(officer, application: str) -> dict | None:
    r = officer.http.get(f"/v1/{application}/case")
    return r.json() if r.status_code == 200 else None


def accept(officer, case: dict) -> dict:
    return officer.post(f"/v1/{case['name']}:accept", {"etag": case.get("etag", "")})


def approve(officer, case: dict, province: str) -> dict:
    return officer.post(f"/v1/{case['name']}/reviews/{province}:decide", {"decision": "DECISION_APPROVE",
                                                                          "reason": "同意通行"})


def issue(officer, case: dict) -> dict:
    return officer.post(f"/v1/{case['name']}:issuePermit", {})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
