"""The six-step form as a phone fills it over HTTP, shared by the end-to-end
modules: drafts, steps saved one PATCH at a time, uploads, the demo fleet and
agent, and the AIP-193 error body of a refusal read back as reason and fields.

Vehicles entered by hand get fresh 冀E plates (never 冀A, never a trailer) so
``journey.fill_draft`` keeps choosing the fleet.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from tests.e2e import journey as j

TODAY = dt.date.today()
TRACTOR, TRAILER = "冀A12345", "冀B6789挂"
CLASS1_CARGO = {"emptyLoad": False, "name": "风电机舱", "weightKg": "20000", "lengthMm": "9000",
                "widthMm": "3000", "heightMm": "2400"}


def err(r) -> dict:
    """The AIP-193 body of a refused call: reason, ErrorInfo metadata, {field: reason}."""
    e = r.json()["error"]
    meta: dict = {}
    fields: dict[str, str] = {}
    for d in e.get("details", []):
        if d["@type"].endswith("ErrorInfo"):
            meta = d.get("metadata", {})
        if d["@type"].endswith("BadRequest"):
            fields.update({v["field"]: v["reason"] for v in d["fieldViolations"]})
    return {"reason": e["reason"], "message": e["message"], "metadata": meta, "fields": fields}


def refused(r, status: int, reason: str) -> dict:
    assert r.status_code == status, f"{r.status_code}: {r.text}"
    e = err(r)
    assert e["reason"] == reason, e
    return e


def notice_shown(seconds_ago: float) -> str:
    t = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)
    return t.isoformat().replace("+00:00", "Z")


def new_draft(api) -> dict:
    return api.post("/v1/applications", {"noticeShownTime": notice_shown(6), "requestId": str(uuid.uuid4())})


def save(api, app: dict, mask: str, body: dict, expect: int = 200):
    """PATCH one step; returns the application (200) or the raw response (refusal)."""
    r = api.http.patch(f"/v1/{app['name']}", json={**body, "etag": app["etag"]}, params={"updateMask": mask})
    if expect == 200:
        assert r.status_code == 200, f"{mask}: {r.status_code} {r.text}"
        return r.json()
    assert r.status_code == expect, f"{mask}: {r.status_code} {r.text}"
    return r


def upload(api, kind: str) -> str:
    # Each upload its own random colour: distinct content, distinct documents.
    rgb = tuple(random.randrange(256) for _ in range(3))
    doc = api.call("POST", "/v1/documents", data={"kind": f"DOCUMENT_KIND_{kind}"},
                   files={"file": (f"{kind.lower()}.png", j.tiny_png(rgb), "image/png")})
    assert doc["name"].startswith("documents/")
    return doc["name"]


def fleet(api) -> tuple[dict, dict]:
    vehicles = api.get("/v1/vehicles:suggest", params={"platePrefix": "冀", "pageSize": 50})["vehicles"]
    by_plate = {v["plateNumber"]: v for v in vehicles}
    return by_plate[TRACTOR], by_plate[TRAILER]


def agent(api) -> dict:
    agents = api.get("/v1/agents:suggest", params={"namePrefix": "李"})["agents"]
    return {"agentRef": next(a for a in agents if a["name"] == "李四")["agentRef"]}


def loads(total: int, axles: int, trailer_axles: int) -> list[str]:
    """Axle loads summing to ``total``; a flatbed trailer's axles stay under the Art. 17 limits."""
    trailer_each = min(9000, total // axles) if trailer_axles else 0
    rest = total - trailer_each * trailer_axles
    front = axles - trailer_axles
    each = rest // front
    loads = [each] * (front - 1) + [rest - each * (front - 1)] + [trailer_each] * trailer_axles
    return [str(x) for x in loads]


def overall(vehicles: list[dict], cargo: dict, *, height: int, width: int | None = None,
             length: int | None = None, total: int | None = None) -> dict:
    axles = sum(int(v["axleCount"]) for v in vehicles)
    total = total if total is not None else sum(int(v["curbMassKg"]) for v in vehicles) + int(cargo.get("weightKg", 0))
    trailer_axles = sum(int(v["axleCount"]) for v in vehicles[1:])
    return {
        "totalMassKg": str(total),
        "lengthMm": str(length if length is not None else sum(int(v["lengthMm"]) for v in vehicles)),
        "widthMm": str(width if width is not None else max(int(v["widthMm"]) for v in vehicles)),
        "heightMm": str(height),
        "axleSpacingsMm": ["1400"] * (axles - 1),
        "axleLoadsKg": loads(total, axles, trailer_axles),
    }


def passage(start_in: int, days: int, *, multi_trip: bool = False, route=None,
             destination: str = j.DESTINATION, confirmed: bool = False) -> dict:
    p = {"originProvince": j.ORIGIN, "destinationProvince": destination, "route": route or j.ROUTE,
         "startDate": j._date(TODAY + dt.timedelta(days=start_in)),
         "endDate": j._date(TODAY + dt.timedelta(days=start_in + days - 1)),
         "multiTrip": multi_trip, "originPlace": "石家庄市", "destinationPlace": "南京市"}
    if confirmed:
        p["routeConfirmed"] = True
    return p


def fill(api, *, start_in: int, days: int = 3, height: int = 4000, multi_trip: bool = False,
          cargo: dict | None = None, vehicles: list[dict] | None = None, width: int | None = None) -> dict:
    """A draft with the five data steps saved (materials not yet)."""
    app = new_draft(api)
    cargo = cargo or CLASS1_CARGO
    vehicles = vehicles or list(fleet(api))
    app = save(api, app, "cargo", {"cargo": cargo})
    app = save(api, app, "vehicles", {"vehicles": vehicles})
    app = save(api, app, "overall", {"overall": overall(vehicles, cargo, height=height, width=width)})
    app = save(api, app, "passage", {"passage": passage(start_in, days, multi_trip=multi_trip)})
    return save(api, app, "agent", {"agent": agent(api)})


def attach(api, app: dict, materials: list[tuple[str, str]]) -> dict:
    refs = [{"kind": f"MATERIAL_KIND_{kind}", "document": doc} for kind, doc in materials]
    return save(api, app, "materials", {"materials": refs})


def submit_raw(api, app: dict, **extra):
    """POST :submit; returns the raw response (the caller checks 200 or the refusal)."""
    return api.http.post(f"/v1/{app['name']}:submit",
                         json={"etag": app["etag"], "requestId": str(uuid.uuid4()), **extra})


def required(api, app: dict) -> tuple[dict[str, int], dict[str, int]]:
    """GET :requiredMaterials -> ({kind: required}, {kind: missing count})."""
    r = api.get(f"/v1/{app['name']}:requiredMaterials")
    req = {m["kind"].removeprefix("MATERIAL_KIND_"): m["requiredCount"] for m in r.get("required", [])}
    missing = {m["kind"].removeprefix("MATERIAL_KIND_"): m["requiredCount"] - m.get("providedCount", 0)
               for m in r.get("missing", [])}
    return req, missing


def queue(officer) -> set[str]:
    """Every application in the officer's work queue (all pages)."""
    names: set[str] = set()
    token = ""
    while True:
        r = officer.get("/v1/workQueue", params={"pageSize": 200, "pageToken": token})
        names |= {c["application"] for c in r.get("cases", [])}
        token = r.get("nextPageToken", "")
        if not token:
            return names


def hand_plate() -> str:
    return f"冀E{random.randrange(10000, 99999)}"


def hand_truck(api, plate: str | None = None) -> dict:
    """A rigid truck entered by hand, not over any Art. 3 limit on its own."""
    return {"plateNumber": plate or hand_plate(), "vehicleType": "重型平板货车", "makeModel": "东风牌DFH1250",
            "curbMassKg": "12000", "axleCount": 3, "wheelbaseMm": "4500", "tyreCount": 10,
            "lengthMm": "11900", "widthMm": "2550", "heightMm": "3200",
            "licenceDocuments": [upload(api, "VEHICLE_LICENCE"), upload(api, "TEMPORARY_PLATE")]}
