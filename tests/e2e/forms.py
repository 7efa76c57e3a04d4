"""The six-step form as a phone fills it over HTTP, shared by the end-to-end
modules: drafts, steps saved one PATCH at a time, uploads, the demo fleet and
agent, and the AIP-193 error body of a refusal read back as reason and fields.
Also real files as a phone picks them (JPEG, PNG, PDF, DOCX and the formats the
platform refuses), an agent entered by hand, the route recommendation, and the
officers' side that takes a submitted application to an issued permit.

Vehicles entered by hand get fresh 冀E plates (never 冀A, never a trailer) so
``journey.fill_draft`` keeps choosing the fleet.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import struct
import uuid
import zipfile
import zlib

import httpx
from PIL import Image

from permitkit import dates
from tests.documents import corpus
from tests.e2e import journey as j

TODAY = dates.today()
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
    return j.new_application(api)


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


_PLATES_GIVEN: set[str] = set()


def hand_plate() -> str:
    """A fresh 冀E plate, never given twice in this test run (a repeat would be a known vehicle)."""
    while True:
        plate = f"冀E{random.randrange(10000, 99999)}"
        if plate not in _PLATES_GIVEN:
            _PLATES_GIVEN.add(plate)
            return plate


def hand_truck(api, plate: str | None = None) -> dict:
    """A rigid truck entered by hand, not over any Art. 3 limit on its own."""
    return {"plateNumber": plate or hand_plate(), "vehicleType": "重型平板货车", "makeModel": "东风牌DFH1250",
            "curbMassKg": "12000", "axleCount": 3, "wheelbaseMm": "4500", "tyreCount": 10,
            "lengthMm": "11900", "widthMm": "2550", "heightMm": "3200",
            "licenceDocuments": [upload(api, "VEHICLE_LICENCE"), upload(api, "TEMPORARY_PLATE")]}


# ---- what the manual-section modules share besides the form ---------------------------

HAND_CARGO = {"emptyLoad": False, "name": "钢结构件", "weightKg": "10000", "lengthMm": "9000",
              "widthMm": "3000", "heightMm": "2000"}
"""What a hand-entered truck carries as a class I transport: over the Art. 3 width only
(overall width 3000, so ``overall(..., width=3000)``)."""

OFFICER_OF = {j.ORIGIN: "hebei-accept", j.VIA: "shandong-review", j.DESTINATION: "jiangsu-review"}
"""The demo officer who reviews for each province of ``journey.ROUTE``."""

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def refused_zh(r, status: int, reason: str) -> dict:
    """A refusal as the user is told it: status, reason and a Chinese message (also the
    gRPC ``status`` name and the ``fields`` of ``err``)."""
    e = refused(r, status, reason)
    assert chinese(e["message"]), e
    return {**e, "status": r.json()["error"]["status"]}


def resident_id(region: str = "130102", birth: str = "19900101") -> str:
    """A fresh resident ID number with a valid GB 11643 check digit (no legacy account has it)."""
    body = f"{region}{birth}{uuid.uuid4().int % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


# ---- files as a phone picks them: made in code, each of a real format ----------------

UPLOAD_LIMIT = 1_048_576
MIME = {"jpg": "image/jpeg", "png": "image/png", "pdf": "application/pdf",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def jpeg(rgb: tuple[int, int, int] = (200, 30, 30), *, gps: bool = False) -> bytes:
    """A real JPEG photo; with ``gps`` it carries the camera's EXIF position."""
    buf = io.BytesIO()
    kwargs: dict[str, object] = {"quality": 85}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"
        exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 30.0)}
        kwargs["exif"] = exif.tobytes()
    Image.new("RGB", (64, 48), rgb).save(buf, "JPEG", **kwargs)
    return buf.getvalue()


def png(rgb: tuple[int, int, int] = (10, 120, 200), size: tuple[int, int] = (40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, rgb).save(buf, "PNG")
    return buf.getvalue()


def png_of_size(total: int) -> bytes:
    """A valid PNG of exactly ``total`` bytes, padded with a private ancillary chunk before IEND."""
    base = png(size=(16, 16))
    pad = total - len(base) - 12
    assert pad >= 0
    data = b"a" * pad
    chunk = struct.pack(">I", pad) + b"prVt" + data + struct.pack(">I", zlib.crc32(b"prVt" + data) & 0xFFFFFFFF)
    out = base[:-12] + chunk + base[-12:]
    assert len(out) == total
    return out


def pdf(text: str = "escort") -> bytes:
    """A minimal well-formed PDF whose page carries ``text`` as its title (distinct texts,
    distinct documents)."""
    return corpus.pdf(f"/Annots [] /Title ({text}) ")


def docx(text: str = "护送方案：全程两车护送。") -> bytes:
    """A minimal Word 2007+ package: content types, package relationships, the main document part."""
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/word/document.xml" ContentType="{main}"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>'),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buf.getvalue()


def windows_exe() -> bytes:
    """The start of a Windows executable (MZ stub pointing at a PE header)."""
    dos = bytearray(b"MZ" + b"\x90\x00" * 29)
    dos += b"\x00" * (0x3C - len(dos)) + struct.pack("<I", 0x80)
    dos += b"\x00" * (0x80 - len(dos)) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200
    return bytes(dos)


def webp() -> bytes:
    """A real WebP image (Pillow), as Android phones save screenshots."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (5, 6, 7)).save(buf, "WEBP")
    return buf.getvalue()


def heic() -> bytes:
    """The start of an iPhone photo: an ISO-BMFF ftyp box with the heic brand."""
    return struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 200


def random_rgb() -> tuple[int, int, int]:
    # Distinct content per upload: an identical file would be answered with the earlier document.
    return (random.randrange(256), random.randrange(256), random.randrange(256))


def upload_file(api, kind: str, filename: str, data: bytes, content_type: str) -> httpx.Response:
    """POST /v1/documents as the phone sends a picked file (multipart: file + kind); the raw answer."""
    return api.http.post("/v1/documents", data={"kind": f"DOCUMENT_KIND_{kind}"},
                         files={"file": (filename, data, content_type)})


def document(api, kind: str, filename: str, data: bytes, content_type: str) -> str:
    """Upload a file that must be accepted; its name, ``documents/{id}``."""
    r = upload_file(api, kind, filename, data, content_type)
    assert r.status_code == 200, f"{filename}: {r.status_code} {r.text}"
    return r.json()["name"]


# ---- agents, routes and the officers' side --------------------------------------------

def hand_agent(api, name: str = "王小明") -> dict:
    """An agent entered by hand (AP-8): two ID-card photos and one power-of-attorney photo."""
    return {"name": name, "idNumber": resident_id("130104", "19880808"), "phone": "13912345678",
            "idCardDocuments": [document(api, "ID_CARD_FRONT", "身份证正面.jpg", jpeg(random_rgb()), MIME["jpg"]),
                                document(api, "ID_CARD_BACK", "身份证反面.jpg", jpeg(random_rgb()), MIME["jpg"])],
            "powerOfAttorneyDocument": document(api, "POWER_OF_ATTORNEY", "授权委托书.jpg", jpeg(random_rgb()),
                                                MIME["jpg"])}


def recommended(api, origin: str = j.ORIGIN, destination: str = j.DESTINATION) -> list[dict]:
    """历史路线推荐 (AP-7c): the caller's approved routes between the two provinces."""
    return api.get("/v1/routes:recommend", params={"originProvince": origin,
                                                   "destinationProvince": destination}).get("routes", [])


def problems(resp: dict, key: str = "problems") -> list[tuple[int, int, str]]:
    """(line, column, reason) of each problem of a route recognition or validation."""
    return [(p.get("line", 0), p.get("column", 0), p["reason"]) for p in resp.get(key, [])]


def issue_permit(api_as, app: dict) -> dict:
    """The officers' side for a submitted application on ``journey.ROUTE``: 河北 accepts,
    every route province approves, 河北 issues; returns the permit."""
    hebei = api_as(OFFICER_OF[j.ORIGIN])
    case = j.accept(hebei, j.case_of(hebei, app["name"]))
    for province, officer in OFFICER_OF.items():
        j.approve(api_as(officer), case, province)
    permit = j.issue(hebei, case)
    assert permit["number"], permit
    return permit
