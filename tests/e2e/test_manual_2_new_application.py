"""Section 二 of the user manual, 新申请填报, walked over HTTP as a carrier's phone
fills the form, against the started processes and the real S3 server.

- 我要申请: the permit notice is read for at least 5 seconds (AP-1); the six steps
  in their order, each saved on its own and kept at any step (AP-2).
- 1、货物信息: empty load, quantities padded to three decimals, field errors (AP-3).
- 2、车辆信息: a typed plate matches the PC side's fleet and the vehicles of earlier
  applications and fills the rest; by hand every field and two licence images;
  vehicles added and removed; phone photo formats refused with advice (AP-4).
- 3、车货总体信息: reference values for the wheelbase and the axle loads; total mass
  and outline not below the vehicles' and the cargo's; the class (AP-5).
- 4、通行信息: the duplicate check on choosing dates and its two ways out (AP-6);
  the passage periods; the route by hand (AP-7a), recognised from pasted text
  (AP-7b) and from the history of approved routes (AP-7c).
- 5、经办人信息: the agent suggested, or by hand with two ID-card images and one
  power of attorney, each at most 1 MB (AP-8).
- 6、其他材料: what the data requires, every material kind uploaded in the
  formats it takes, failed uploads saying why, documents private (AP-9).
- 7、申请提交: a class I, a class III and a multi-trip application each walked
  through the six steps and submitted, one per route way; a draft saved and
  finished later from the progress list (AP-10).

The e2e tests share one stack and one carrier whose fleet (冀A12345 + 冀B6789挂)
every module uses, and AP-6 allows two overlapping applications per vehicle:
every application here that holds the fleet travels 150..390 days out, each
test in its own window (the history recommendation test keeps its 14 days).
Vehicles entered by hand get fresh 冀E plates (never 冀A, never a trailer), so
``journey.fill_draft`` keeps choosing the fleet, and travel on any day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import re
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

from tests.e2e import forms as f
from tests.e2e import journey as j
from tests.e2e.forms import CLASS1_CARGO, MIME, TODAY, TRACTOR, TRAILER

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

HEBEI, SHANDONG, JIANGSU, HENAN, ANHUI = "130000", "370000", "320000", "410000", "340000"
G4, G2, G3 = "G4京港澳高速", "G2京沪高速", "G3京台高速"
FORMAT = {"jpg": "DOCUMENT_FORMAT_JPEG", "png": "DOCUMENT_FORMAT_PNG", "pdf": "DOCUMENT_FORMAT_PDF",
          "docx": "DOCUMENT_FORMAT_DOCX"}


# ---- helpers ------------------------------------------------------------------------------

def suggestion(api, typed: str, plate: str) -> dict:
    """Type part of a plate in 车辆信息 and pick ``plate`` from what is offered."""
    found = api.get("/v1/vehicles:suggest", params={"platePrefix": typed, "pageSize": 50})["vehicles"]
    return next(v for v in found if v["plateNumber"] == plate)


def agent_suggestion(api, typed: str, name: str) -> dict:
    """Type part of a name in 经办人信息 and pick ``name`` from what is offered."""
    found = api.get("/v1/agents:suggest", params={"namePrefix": typed, "pageSize": 50}).get("agents", [])
    return next(a for a in found if a["name"] == name)


def up_to_overall(api, vehicles: list[dict], cargo: dict, **outline) -> dict:
    """A draft with steps 1-3 saved: what is there when the dates are chosen in step 4."""
    app = f.save(api, f.new_draft(api), "cargo", {"cargo": cargo})
    app = f.save(api, app, "vehicles", {"vehicles": vehicles})
    return f.save(api, app, "overall", {"overall": f.overall(vehicles, cargo, **outline)})


def from_reference(ref: dict, *, length: str, width: str, height: str, gap_mm: str = "1350") -> dict:
    """Step 3 filled from the reference values: the mass and the axle figures taken over,
    the gap between two vehicles measured, the real outline typed in metres."""
    return {"totalMassTonnes": ref["totalMassTonnes"], "axleLoadsKg": ref["axleLoadsKg"],
            "axleSpacingsMm": [s if s != "0" else gap_mm for s in ref["axleSpacingsMm"]],
            "lengthMetres": length, "widthMetres": width, "heightMetres": height}


def submitted(api, app: dict, **extra) -> dict:
    r = f.submit_raw(api, app, **extra)
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["state"] == "STATE_SUBMITTED" and s["stateLabel"] == "未受理", s
    return s


def validated(api, rows: list[dict], origin: str = j.ORIGIN, destination: str = j.DESTINATION) -> dict:
    return api.post("/v1/routes:validate", {"originProvince": origin, "destinationProvince": destination,
                                            "rows": rows})


# ==== 我要申请 =============================================================================

def test_notice_shown_under_five_seconds_is_refused_AP_1(api_as):
    """The 许可须知 comes with the server's receipt; 我要申请 waits 5 s by the server's clock."""
    carrier = api_as("carrier")
    notice = carrier.get("/v1/notice")
    assert notice["title"] == "许可须知" and notice["readSeconds"] == 5 and "许可" in notice["text"]
    r = carrier.http.post("/v1/applications", json={"noticeReceipt": notice["receipt"],
                                                    "requestId": str(uuid.uuid4())})
    err = f.refused(r, 400, "NOTICE_NOT_READ")
    assert err["metadata"]["required_seconds"] == "5"
    r = carrier.http.post("/v1/applications", json={"requestId": str(uuid.uuid4())})
    f.refused(r, 400, "NOTICE_NOT_READ")
    time.sleep(j.NOTICE_SECONDS)
    app = carrier.post("/v1/applications", {"noticeReceipt": notice["receipt"], "requestId": str(uuid.uuid4())})
    assert app["state"] == "STATE_DRAFT" and app["stateLabel"] == "未提交"


def test_six_steps_in_their_order_each_saved_on_its_own_and_kept_at_any_step_AP_2(api_as):
    """货物信息、车辆信息、车货总体信息、通行信息、经办人信息、其他材料: submit names the
    steps still empty in that order; each step saved is kept (the draft read back
    anew has it) whenever the user stops, and going back to a step changes only it."""
    carrier = api_as("carrier")
    app = f.new_draft(carrier)
    err = f.refused_zh(f.submit_raw(carrier, app), 400, "APPLICATION_INCOMPLETE")
    assert err["metadata"]["missing_steps"] == "cargo,vehicles,overall,passage,agent"
    assert err["message"] == "申请信息尚未填写完整：货物信息、车辆信息、车货总体信息、通行信息、经办人信息。"
    assert err["fields"] == dict.fromkeys(["cargo", "vehicles", "overall", "passage", "agent"], "STEP_MISSING")

    vehicles = list(f.fleet(carrier))
    steps = [("cargo", {"cargo": CLASS1_CARGO}), ("vehicles", {"vehicles": vehicles}),
             ("overall", {"overall": f.overall(vehicles, CLASS1_CARGO, height=4000)}),
             ("passage", {"passage": f.passage(150, 3)}), ("agent", {"agent": f.agent(carrier)})]
    remaining = [mask for mask, _ in steps]
    for mask, body in steps:
        app = f.save(carrier, app, mask, body)
        remaining.remove(mask)
        kept = carrier.get(f"/v1/{app['name']}")
        assert kept["state"] == "STATE_DRAFT" and kept.get(mask), mask
        assert kept["etag"] == app["etag"]
        if remaining:
            err = f.refused_zh(f.submit_raw(carrier, app), 400, "APPLICATION_INCOMPLETE")
            assert err["metadata"]["missing_steps"] == ",".join(remaining)

    # Back to step 1: only the cargo changes.
    before = carrier.get(f"/v1/{app['name']}")
    app = f.save(carrier, app, "cargo", {"cargo": {**CLASS1_CARGO, "name": "风电叶片"}})
    assert app["cargo"]["name"] == "风电叶片"
    assert all(app[k] == before[k] for k in ("vehicles", "overall", "passage", "agent"))
    # Step 6: nothing is required for this class I application; a seventh step does not exist.
    assert f.required(carrier, app) == ({}, {})
    r = f.save(carrier, app, "payment", {"cargo": CLASS1_CARGO}, expect=400)
    assert f.refused_zh(r, 400, "INVALID_UPDATE_MASK")["metadata"]["path"] == "payment"


def test_update_with_a_stale_etag_is_refused_ETAG_MISMATCH_AP_2(api_as):
    carrier = api_as("carrier")
    stale = f.new_draft(carrier)
    fresh = f.save(carrier, stale, "cargo", {"cargo": {**CLASS1_CARGO, "name": "第一次保存"}})
    assert fresh["etag"] != stale["etag"]
    r = f.save(carrier, stale, "cargo", {"cargo": {**CLASS1_CARGO, "name": "另一台手机"}}, expect=409)
    err = f.refused(r, 409, "ETAG_MISMATCH")
    assert err["message"] == "申请已在别处被修改，请刷新后重试。"
    assert carrier.get(f"/v1/{stale['name']}")["cargo"]["name"] == "第一次保存"
    f.refused(f.submit_raw(carrier, stale), 409, "ETAG_MISMATCH")


# ==== 1、货物信息 ==========================================================================

def test_cargo_in_tonnes_and_metres_is_kept_exactly_and_shown_with_three_decimals_AP_3(api_as):
    carrier = api_as("carrier")
    app = f.new_draft(carrier)
    app = f.save(carrier, app, "cargo", {"cargo": {"name": "钢箱梁", "weightTonnes": "12.5", "lengthMetres": "9.25",
                                                   "widthMetres": "3", "heightMetres": "2.125"}})
    c = app["cargo"]
    assert (c["weightKg"], c["lengthMm"], c["widthMm"], c["heightMm"]) == ("12500", "9250", "3000", "2125")
    assert (c["weightTonnes"], c["lengthMetres"], c["widthMetres"], c["heightMetres"]) == (
        "12.500", "9.250", "3.000", "2.125")
    assert carrier.get(f"/v1/{app['name']}")["cargo"]["weightTonnes"] == "12.500"


def test_four_decimals_or_a_negative_value_is_refused_with_the_field_named_AP_3(api_as):
    carrier = api_as("carrier")
    app = f.new_draft(carrier)
    r = f.save(carrier, app, "cargo", {"cargo": {"name": "钢箱梁", "weightTonnes": "12.5001", "lengthMetres": "-3",
                                                 "widthMetres": "3", "heightMetres": "2"}}, expect=400)
    err = f.refused(r, 400, "INVALID_FIELD")
    assert err["fields"] == {"cargo.weight_tonnes": "TOO_MANY_DECIMALS", "cargo.length_metres": "NEGATIVE"}
    # Nothing of the refused step was saved.
    assert not carrier.get(f"/v1/{app['name']}").get("cargo")

    r = f.save(carrier, app, "cargo", {"cargo": {"name": "", "weightKg": "-5", "lengthMm": "9000",
                                                 "widthMm": "3000", "heightMm": "2000"}}, expect=400)
    fields = f.refused(r, 400, "INVALID_FIELD")["fields"]
    assert fields["cargo.name"] == "REQUIRED" and fields["cargo.weight_kg"] == "NEGATIVE"

    # Zero and absurd values are refused too.
    r = f.save(carrier, app, "cargo", {"cargo": {"name": "钢箱梁", "weightTonnes": "0", "lengthMetres": "9",
                                                 "widthMetres": "3", "heightMetres": "250"}}, expect=400)
    assert f.refused(r, 400, "INVALID_FIELD")["fields"] == {"cargo.weight_tonnes": "ZERO",
                                                            "cargo.height_metres": "TOO_LARGE"}


def test_empty_load_skips_the_cargo_details_AP_3(api_as):
    carrier = api_as("carrier")
    app = f.save(carrier, f.new_draft(carrier), "cargo", {"cargo": {"emptyLoad": True, "name": "忽略"}})
    assert app["cargo"]["emptyLoad"] is True
    assert not app["cargo"].get("name")


# ==== 2、车辆信息 ==========================================================================

def test_plate_suggestions_come_from_the_fleet_and_fill_the_vehicle_AP_4(api_as):
    carrier = api_as("carrier")
    found = carrier.get("/v1/vehicles:suggest", params={"platePrefix": "冀A1"})["vehicles"]
    tractor = next(v for v in found if v["plateNumber"] == TRACTOR)
    assert tractor["source"] == "FLEET"
    assert (tractor["vehicleType"], tractor["curbMassKg"], tractor["axleCount"], tractor["wheelbaseMm"],
            tractor["tyreCount"], tractor["lengthMm"]) == ("重型半挂牵引车", "8800", 3, "3300", 10, "6900")
    assert all(TRACTOR[:3] in v["plateNumber"] for v in found)

    # Choosing the plate alone fills every other field from the fleet.
    app = f.save(carrier, f.new_draft(carrier), "vehicles",
                 {"vehicles": [{"plateNumber": TRACTOR}, {"plateNumber": TRAILER}]})
    got = app["vehicles"]
    assert [v["plateNumber"] for v in got] == [TRACTOR, TRAILER]
    assert got[0]["makeModel"] == "解放牌CA4250P66K24T1A1E5" and got[0]["source"] == "FLEET"
    assert got[1]["curbMassKg"] == "9500" and got[1]["kind"] == "VEHICLE_KIND_FLATBED_TRAILER"

    v = carrier.get("/v1/vehicles:validatePlate", params={"plateNumber": "冀a 12345"})
    assert v["valid"] is True and v["normalized"] == TRACTOR
    assert carrier.get("/v1/vehicles:validatePlate", params={"plateNumber": "冀12345"}).get("valid", False) is False


def test_a_vehicle_entered_by_hand_is_suggested_in_the_next_application_AP_4(api_as):
    """“之前在掌上办申请过的车辆”: once an application with a vehicle entered by hand is
    submitted, typing its plate offers it, after the PC side's fleet, and choosing it
    fills every field and keeps the licence images uploaded then."""
    carrier = api_as("carrier")
    truck = f.hand_truck(carrier)
    plate = truck["plateNumber"]
    typed = plate[1:-1].lower()  # the middle of the plate, as typed
    assert not carrier.get("/v1/vehicles:suggest", params={"platePrefix": typed}).get("vehicles")

    first = f.fill(carrier, start_in=320, cargo=f.HAND_CARGO, vehicles=[truck], width=3000, height=3200)
    assert first["vehicles"][0]["source"] == "MANUAL"
    submitted(carrier, first)

    offered = suggestion(carrier, typed, plate)
    assert offered["source"] == "HISTORY"
    spec = ("vehicleType", "makeModel", "curbMassKg", "axleCount", "wheelbaseMm", "tyreCount", "lengthMm",
            "widthMm", "heightMm")
    assert {k: offered[k] for k in spec} == {k: truck[k] for k in spec}
    listing = carrier.get("/v1/vehicles:suggest", params={"platePrefix": "冀", "pageSize": 50})["vehicles"]
    sources = [v["source"] for v in listing]
    assert sources[:2] == ["FLEET", "FLEET"] and "HISTORY" in sources
    assert sources == sorted(sources, key=lambda s: s != "FLEET")  # PC side first

    nxt = f.save(carrier, f.new_draft(carrier), "vehicles", {"vehicles": [{"plateNumber": plate}]})
    got = nxt["vehicles"][0]
    assert got["source"] == "HISTORY" and {k: got[k] for k in spec} == {k: truck[k] for k in spec}
    assert got["licenceDocuments"] == truck["licenceDocuments"]
    assert "VEHICLE_LICENCE" not in f.required(carrier, nxt)[0]


def test_vehicle_entered_by_hand_needs_every_field_and_two_licence_images_AP_4_AP_9(api_as):
    carrier = api_as("carrier")
    app = f.new_draft(carrier)
    truck = f.hand_truck(carrier)
    licences = truck["licenceDocuments"]
    r = f.save(carrier, app, "vehicles", {"vehicles": [{**truck, "licenceDocuments": licences[:1]}]}, expect=400)
    assert f.refused(r, 400, "INVALID_FIELD")["fields"] == {"vehicles[0].licence_documents": "LICENCE_IMAGES_REQUIRED"}
    r = f.save(carrier, app, "vehicles", {"vehicles": [{"plateNumber": f.hand_plate(), "vehicleType": "重型平板货车"}]},
               expect=400)
    fields = f.refused(r, 400, "INVALID_FIELD")["fields"]
    assert {"vehicles[0].make_model", "vehicles[0].curb_mass_kg", "vehicles[0].axle_count",
            "vehicles[0].licence_documents"} <= set(fields)

    app = f.save(carrier, app, "vehicles", {"vehicles": [truck]})
    got = app["vehicles"][0]
    assert got["source"] == "MANUAL" and got["licenceDocuments"] == licences and not got.get("fleetVehicle")
    req, missing = f.required(carrier, app)
    assert req.get("VEHICLE_LICENCE") == 2 and "VEHICLE_LICENCE" not in missing


def test_changing_a_fleet_vehicle_field_makes_it_a_vehicle_entered_by_hand_AP_4(api_as):
    carrier = api_as("carrier")
    tractor, _ = f.fleet(carrier)
    r = f.save(carrier, f.new_draft(carrier), "vehicles", {"vehicles": [{**tractor, "curbMassKg": "9100"}]},
               expect=400)
    assert "vehicles[0].licence_documents" in f.refused(r, 400, "INVALID_FIELD")["fields"]


@pytest.mark.parametrize(("filename", "data", "content_type", "label"),
                         [("IMG_0001.HEIC", f.heic(), "image/heic", "HEIC"),
                          ("Screenshot.webp", f.webp(), "image/webp", "WebP")],
                         ids=["heic", "webp"])
def test_phone_image_formats_are_refused_with_the_convert_advice_AP_4(api_as, filename, data, content_type, label):
    r = f.upload_file(api_as("person"), "VEHICLE_LICENCE", filename, data, content_type)
    err = f.refused_zh(r, 400, "UNSUPPORTED_IMAGE_FORMAT")
    assert label in err["message"]
    assert "JPG" in err["message"] and "PNG" in err["message"] and "转换" in err["message"]


def test_format_the_kind_does_not_allow_is_refused_AP_4(api_as):
    r = f.upload_file(api_as("person"), "VEHICLE_LICENCE", "行驶证.pdf", f.pdf("vl"), MIME["pdf"])
    err = f.refused_zh(r, 400, "FORMAT_NOT_ALLOWED")
    assert "行驶证" in err["message"] and "JPG" in err["message"]


def test_licence_photo_is_stored_without_its_gps_position_AP_4(api_as):
    person = api_as("person")
    photo = f.jpeg((3, 140, 60), gps=True)
    assert 0x8825 in Image.open(io.BytesIO(photo)).getexif()
    r = f.upload_file(person, "VEHICLE_LICENCE", "IMG_2001.jpg", photo, MIME["jpg"])
    assert r.status_code == 200, r.text
    link = person.get(f"/v1/{r.json()['name']}:downloadUrl")
    stored = httpx.get(link["url"], timeout=30)
    assert stored.status_code == 200
    img = Image.open(io.BytesIO(stored.content))
    assert img.format == "JPEG" and img.size == (64, 48)
    assert 0x8825 not in img.getexif() and 0x010F not in img.getexif()
    assert hashlib.sha256(stored.content).hexdigest() == r.json()["sha256"]


# ==== 3、车货总体信息 ======================================================================

def test_reference_values_for_wheelbase_and_axle_loads_follow_the_vehicles_AP_4_AP_5(api_as):
    """轴距和轴荷分布提供了填写参考: GetApplication (and every step's answer) carries
    overallReference, computed from the vehicles added so far and the cargo: spacings
    from each vehicle's wheelbase (the gap between vehicles left at 0 to measure),
    even axle loads, the smallest allowed mass and outline, also in tonnes and metres."""
    carrier = api_as("carrier")
    tractor, trailer = f.fleet(carrier)
    app = f.save(carrier, f.new_draft(carrier), "cargo", {"cargo": CLASS1_CARGO})
    assert not app.get("overallReference")  # no vehicle yet: nothing to refer to

    truck = f.hand_truck(carrier)
    app = f.save(carrier, app, "vehicles", {"vehicles": [truck]})
    ref = carrier.get(f"/v1/{app['name']}")["overallReference"]
    assert ref["axleSpacingsMm"] == ["2250", "2250"]  # wheelbase 4500 over 3 axles
    assert ref["totalMassKg"] == str(12000 + 20000) and ref["axleLoadsKg"] == ["10666", "10666", "10668"]

    # 删除 the truck, 新增 the tractor and its trailer: the reference follows.
    app = f.save(carrier, app, "vehicles", {"vehicles": [tractor, trailer]})
    ref = carrier.get(f"/v1/{app['name']}")["overallReference"]
    assert ref == app["overallReference"]
    assert ref["axleSpacingsMm"] == ["1650", "1650", "0", "3800", "3800"]
    assert ref["totalMassKg"] == str(8800 + 9500 + 20000) and ref["totalMassTonnes"] == "38.300"
    assert ref["axleLoadsKg"] == ["6383"] * 5 + ["6385"]
    assert (ref["lengthMm"], ref["widthMm"], ref["heightMm"]) == ("13000", "3000", "3350")
    assert (ref["lengthMetres"], ref["widthMetres"], ref["heightMetres"]) == ("13.000", "3.000", "3.350")

    # Filled from the reference, the gap measured and the real outline typed: accepted.
    app = f.save(carrier, app, "overall", {"overall": from_reference(ref, length="19.9", width="3", height="4")})
    assert app["overall"]["axleLoadsKg"] == ref["axleLoadsKg"] and app["overall"]["lengthMm"] == "19900"
    assert app["permitClass"] == 1

    # A tractor cannot be left without its trailer.
    r = f.save(carrier, app, "vehicles", {"vehicles": [tractor]}, expect=400)
    assert f.refused_zh(r, 400, "INVALID_FIELD")["fields"] == {"vehicles[0]": "TRACTOR_WITHOUT_TRAILER"}
    assert [v["plateNumber"] for v in carrier.get(f"/v1/{app['name']}")["vehicles"]] == [TRACTOR, TRAILER]


def test_total_mass_below_vehicles_and_cargo_is_refused_with_field_errors_AP_5(api_as):
    carrier = api_as("carrier")
    vehicles = list(f.fleet(carrier))
    app = f.save(carrier, f.new_draft(carrier), "cargo", {"cargo": CLASS1_CARGO})
    app = f.save(carrier, app, "vehicles", {"vehicles": vehicles})

    bad = f.overall(vehicles, CLASS1_CARGO, height=4000, width=2900, total=38299)
    bad["axleSpacingsMm"] = ["1400"] * 4
    r = f.save(carrier, app, "overall", {"overall": bad}, expect=400)
    fields = f.refused(r, 400, "INVALID_FIELD")["fields"]
    assert fields == {"overall.total_mass_kg": "TOTAL_MASS_TOO_SMALL", "overall.width_mm": "DIMENSION_TOO_SMALL",
                      "overall.axle_spacings_mm": "AXLE_SPACINGS_COUNT"}

    uneven = f.overall(vehicles, CLASS1_CARGO, height=4000)
    uneven["axleLoadsKg"][0] = str(int(uneven["axleLoadsKg"][0]) + 1)
    r = f.save(carrier, app, "overall", {"overall": uneven}, expect=400)
    assert f.refused(r, 400, "INVALID_FIELD")["fields"] == {"overall.axle_loads_kg": "AXLE_LOADS_SUM"}

    # Exactly vehicles + cargo is accepted.
    app = f.save(carrier, app, "overall", {"overall": f.overall(vehicles, CLASS1_CARGO, height=4000, total=38300)})
    assert app["overall"]["totalMassKg"] == "38300"


def test_a_combination_not_over_limit_is_told_no_permit_is_needed_AP_5(api_as):
    carrier = api_as("carrier")
    truck = f.hand_truck(carrier)
    cargo = {"name": "机械配件", "weightKg": "5000", "lengthMm": "3000", "widthMm": "2000", "heightMm": "1500"}
    app = f.new_draft(carrier)
    app = f.save(carrier, app, "cargo", {"cargo": cargo})
    app = f.save(carrier, app, "vehicles", {"vehicles": [truck]})
    # Width exactly 2.550 m: on the Art. 3 limit, so not over it.
    app = f.save(carrier, app, "overall", {"overall": f.overall([truck], cargo, height=3200, width=2550)})
    verdict = carrier.get(f"/v1/{app['name']}:classify")
    assert verdict.get("overLimit", False) is False and verdict.get("permitClass", 0) == 0
    assert verdict["rules"][0]["rule"] == "ART3_NOT_OVER_LIMIT"
    assert verdict["ruleSet"] == "JT-2016-62@2016-09-21"
    assert "无需办理" in verdict["message"]
    app = f.save(carrier, app, "passage", {"passage": f.passage(800, 2)})
    app = f.save(carrier, app, "agent", {"agent": f.agent(carrier)})
    err = f.refused(f.submit_raw(carrier, app), 400, "NOT_OVER_LIMIT")
    assert "无需办理" in err["message"]
    assert carrier.get(f"/v1/{app['name']}")["state"] == "STATE_DRAFT"


# ==== 4、通行信息: dates and the duplicate check ============================================

def test_third_overlapping_application_for_a_vehicle_is_refused_AP_6(api_as):
    carrier = api_as("carrier")
    first = f.fill(carrier, start_in=200, days=6)        # days 200..205
    second = f.fill(carrier, start_in=203, days=6)       # days 203..208
    third = f.fill(carrier, start_in=205, days=1)        # day 205: both others hold the vehicles
    for app in (first, second):
        submitted(carrier, app)
    both = {first["name"], second["name"]}
    numbers = {first["number"], second["number"]}

    # On choosing dates: the schedule check names both applications, per vehicle.
    check = carrier.post(f"/v1/{third['name']}:checkVehicleSchedule", {})
    assert check.get("ok", False) is False
    assert {c["plateNumber"] for c in check["conflicts"]} == {TRACTOR, TRAILER}
    assert all(set(c["applications"]) == both and set(c["applicationNumbers"]) == numbers
               for c in check["conflicts"])

    # Again on submit, binding.
    err = f.refused(f.submit_raw(carrier, third), 400, "VEHICLE_TIME_CONFLICT")
    assert set(err["metadata"]["applications"].split(",")) == both
    assert all(n in err["message"] for n in numbers)
    assert carrier.get(f"/v1/{third['name']}")["state"] == "STATE_DRAFT"

    # Choosing overlapping dates on a draft is refused too; a day after both is free.
    r = f.save(carrier, third, "passage", {"passage": f.passage(204, 1)}, expect=400)
    assert f.refused(r, 400, "VEHICLE_TIME_CONFLICT")["metadata"]["applications"]
    third = f.save(carrier, third, "passage", {"passage": f.passage(209, 1)})
    assert carrier.post(f"/v1/{third['name']}:checkVehicleSchedule", {})["ok"] is True
    submitted(carrier, third)


def test_time_conflict_is_resolved_by_another_vehicle_or_by_withdrawing_the_other_application_AP_6(api_as):
    """图 11 重复申请提示: 用户可返回车辆信息界面更换车辆, 或到“许可查询与变更”页面将相关
    申请撤回 — both ways out, each ending in a submitted application."""
    carrier = api_as("carrier")
    fleet = list(f.fleet(carrier))
    first = submitted(carrier, f.fill(carrier, start_in=220, days=6))      # days 220..225
    second = submitted(carrier, f.fill(carrier, start_in=223, days=6))     # days 223..228

    # Choosing day 224 for the fleet: 时间发生冲突, naming both and both ways out.
    blocked = up_to_overall(carrier, fleet, CLASS1_CARGO, height=4000)
    r = f.save(carrier, blocked, "passage", {"passage": f.passage(224, 1)}, expect=400)
    err = f.refused_zh(r, 400, "VEHICLE_TIME_CONFLICT")
    assert first["number"] in err["message"] and second["number"] in err["message"]
    assert "更换车辆" in err["message"] and "撤回" in err["message"]
    assert set(err["metadata"]["plate_numbers"].split(",")) == {TRACTOR, TRAILER}

    # Way 1: back to 车辆信息, another vehicle (entered by hand), its outline; the same day passes.
    truck = f.hand_truck(carrier)
    changed = f.save(carrier, blocked, "vehicles", {"vehicles": [truck]})
    changed = f.save(carrier, changed, "overall", {"overall": f.overall([truck], CLASS1_CARGO, height=3200,
                                                                       width=3000)})
    changed = f.save(carrier, changed, "passage", {"passage": f.passage(224, 1)})
    assert carrier.post(f"/v1/{changed['name']}:checkVehicleSchedule", {})["ok"] is True
    changed = f.save(carrier, changed, "agent", {"agent": f.agent(carrier)})
    submitted(carrier, changed)

    # Way 2: keep the fleet, withdraw the other application on 许可查询与变更, apply again.
    again = up_to_overall(carrier, fleet, CLASS1_CARGO, height=4000)
    r = f.save(carrier, again, "passage", {"passage": f.passage(224, 1)}, expect=400)
    f.refused_zh(r, 400, "VEHICLE_TIME_CONFLICT")
    second = carrier.get(f"/v1/{second['name']}")
    withdrawn = carrier.post(f"/v1/{second['name']}:withdraw", {"etag": second["etag"], "reason": "改日运输"})
    assert withdrawn["state"] == "STATE_WITHDRAWN" and withdrawn["stateLabel"] == "已撤销"
    again = f.save(carrier, again, "passage", {"passage": f.passage(224, 1)})
    again = f.save(carrier, again, "agent", {"agent": f.agent(carrier)})
    assert [v["plateNumber"] for v in submitted(carrier, again)["vehicles"]] == [TRACTOR, TRAILER]


def test_passage_longer_than_six_months_multi_trip_or_sixty_days_single_is_refused(api_as):
    """Step 4's travel period (AP-2) within the rule data's bounds (regulation.md:
    multi-trip permit at most six months, single trip at most 60 days)."""
    carrier = api_as("carrier")
    app = f.new_draft(carrier)
    r = f.save(carrier, app, "passage", {"passage": f.passage(900, 200, multi_trip=True)}, expect=400)
    assert f.refused(r, 400, "INVALID_FIELD")["fields"] == {"passage.end_date": "PERIOD_TOO_LONG"}
    r = f.save(carrier, app, "passage", {"passage": f.passage(900, 61)}, expect=400)
    assert f.refused(r, 400, "INVALID_FIELD")["fields"] == {"passage.end_date": "PERIOD_TOO_LONG"}
    # On the bounds: 60 days single trip, and a multi-trip ending the day before six months.
    app = f.save(carrier, app, "passage", {"passage": f.passage(1200, 60)})
    assert app["passage"]["endDate"] == j._date(TODAY + dt.timedelta(days=1259))
    start = TODAY + dt.timedelta(days=1200)
    end = (start.replace(month=start.month + 6) if start.month <= 6
           else start.replace(year=start.year + 1, month=start.month - 6)) - dt.timedelta(days=1)
    multi = {**f.passage(1200, 1, multi_trip=True), "endDate": j._date(end)}
    app = f.save(carrier, app, "passage", {"passage": multi})
    assert app["passage"]["multiTrip"] is True


# ==== 4、通行信息 (1) 手动填写 ==============================================================

def test_route_whose_last_row_is_not_the_destination_needs_confirmation_AP_7a(api_as):
    carrier = api_as("carrier")
    app = f.new_draft(carrier)
    # 河北 -> 山东 (destination) -> 江苏: the destination is on the route, not last.
    route = [{"province": j.ORIGIN, "roads": ["G4"]}, {"province": j.VIA, "roads": ["G2"]},
             {"province": j.DESTINATION, "roads": ["G2"]}]
    r = f.save(carrier, app, "passage", {"passage": f.passage(810, 2, route=route, destination=j.VIA)}, expect=400)
    err = f.refused(r, 400, "INVALID_FIELD")
    assert err["fields"] == {"passage.route_confirmed": "LAST_ROW_NOT_DESTINATION"}
    app = f.save(carrier, app, "passage", {"passage": f.passage(810, 2, route=route, destination=j.VIA,
                                                                confirmed=True)})
    assert app["passage"]["routeConfirmed"] is True
    assert [row["province"] for row in app["passage"]["route"]] == [j.ORIGIN, j.VIA, j.DESTINATION]

    # A route without the destination at all is an error, not a warning.
    no_dest = [{"province": j.ORIGIN, "roads": ["G4"]}, {"province": j.VIA, "roads": ["G2"]}]
    r = f.save(carrier, app, "passage", {"passage": f.passage(810, 2, route=no_dest, confirmed=True)}, expect=400)
    assert "passage.route" in f.refused(r, 400, "INVALID_FIELD")["fields"]


def test_validation_warns_on_a_non_adjacent_pair_and_lists_the_approving_provinces_AP_7a(api_as):
    v = validated(api_as("person"), [{"province": HEBEI, "roads": ["G4"]}, {"province": JIANGSU, "roads": [" 京沪高速 "]}],
                  HEBEI, JIANGSU)
    assert v["valid"] is True and not v.get("errors")
    assert v["approvingProvinces"] == [HEBEI, JIANGSU]
    (w,) = v["warnings"]
    assert w["reason"] == "PROVINCES_NOT_ADJACENT" and w["line"] == 2
    assert w["field"] == "rows[1].province" and w["provinces"] == [HEBEI, JIANGSU]
    assert "河北省" in w["message"] and "江苏省" in w["message"]
    assert v["rows"] == [{"province": HEBEI, "roads": [G4]}, {"province": JIANGSU, "roads": [G2]}]


def test_validation_of_the_walking_slice_route_has_no_problems_AP_7a(api_as):
    v = validated(api_as("person"), j.ROUTE)
    assert v["valid"] is True and not v.get("errors") and not v.get("warnings")
    assert v["approvingProvinces"] == [j.ORIGIN, j.VIA, j.DESTINATION]


def test_validation_errors_and_re_entry_warning_AP_7a(api_as):
    person = api_as("person")
    bad = validated(person, [{"province": SHANDONG, "roads": ["G2"]}, {"province": HEBEI}], HEBEI, JIANGSU)
    assert bad.get("valid", False) is False  # proto3 JSON omits false
    assert {e["reason"] for e in bad["errors"]} == {"FIRST_ROW_NOT_ORIGIN", "ROW_WITHOUT_ROADS",
                                                    "DESTINATION_NOT_ON_ROUTE"}
    assert all(f.chinese(e["message"]) for e in bad["errors"])
    # Re-entering a province after the destination: usable, but the user confirms.
    reentry = validated(person, [{"province": HEBEI, "roads": ["G4"]}, {"province": SHANDONG, "roads": ["G2"]},
                                 {"province": JIANGSU, "roads": ["G2"]}, {"province": SHANDONG, "roads": ["G3"]}],
                        HEBEI, JIANGSU)
    assert reentry["valid"] is True
    assert "LAST_ROW_NOT_DESTINATION" in {w["reason"] for w in reentry["warnings"]}
    assert reentry["approvingProvinces"] == [HEBEI, SHANDONG, JIANGSU]


# ==== 4、通行信息 (2) 智能识别 ==============================================================

def test_pasted_multi_line_route_is_recognised_with_problems_by_line_and_column_AP_7b(api_as):
    text = ("1、河北省：G4-G1811；\r\n"      # numbered line, Windows line ending
            "（2）山东 ： G2 —— G3\r\n"     # messy: spaces round the colon, a doubled dash, no semicolon
            "江苏省 G2；\r\n"               # the colon forgotten after a known province
            "火星省：G1；")                 # an unknown province: no row
    parsed = api_as("person").post("/v1/routes:parse", {"text": text})
    assert parsed["rows"] == [
        {"province": HEBEI, "roads": [G4, "G1811"]},
        {"province": SHANDONG, "roads": [G2, G3]},
        {"province": JIANGSU, "roads": [G2]},
    ]
    assert f.problems(parsed) == [(3, 5, "MISSING_COLON"), (4, 1, "UNKNOWN_PROVINCE")]
    for p in parsed["problems"]:
        assert f.chinese(p["message"]) and f"第{p['line']}行" in p["message"]
    assert "火星省" in parsed["problems"][1]["message"]


def test_recognition_reports_empty_roads_and_border_names_AP_7b(api_as):
    parsed = api_as("person").post("/v1/routes:parse", {"text": "河北：G4--G45；\n河南：G4-冀豫界-G4；\n湖北：；"})
    assert [r["province"] for r in parsed["rows"]] == [HEBEI, HENAN, "420000"]
    assert parsed["rows"][1]["roads"] == [G4, G4]  # the border-crossing name is left out
    assert not parsed["rows"][2].get("roads")
    assert [reason for _, _, reason in f.problems(parsed)] == ["EMPTY_ROAD", "BORDER_CROSSING_NOT_NEEDED",
                                                               "PROVINCE_WITHOUT_ROADS"]
    assert f.problems(parsed)[0][:2] == (1, 7)


def test_empty_and_too_long_route_text_AP_7b(api_as):
    person = api_as("person")
    assert f.problems(person.post("/v1/routes:parse", {"text": " \n；"})) == [(1, 1, "ROUTE_TEXT_EMPTY")]
    f.refused_zh(person.http.post("/v1/routes:parse", json={"text": "河" * 20_001}), 400, "ROUTE_TEXT_TOO_LONG")


def test_province_with_duan_suffix_and_missing_colon_is_recognised_AP_7b(api_as):
    parsed = api_as("person").post("/v1/routes:parse", {"text": "河北段：G4；\n江苏省段 G2；"})
    assert parsed["rows"] == [{"province": HEBEI, "roads": [G4]}, {"province": JIANGSU, "roads": [G2]}]
    assert [reason for _, _, reason in f.problems(parsed)] == ["MISSING_COLON"]


# ==== 4、通行信息 (3) 历史路线推荐 ==========================================================

def test_issued_permit_route_is_recommended_to_its_applicant_only_AP_7c(api_as):
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    shandong, jiangsu = api_as("shandong-review"), api_as("jiangsu-review")
    before = {r["lastApplication"] for r in f.recommended(carrier)}

    app = j.fill_draft(carrier, start_in_days=14, days=3)
    j.submit(carrier, app)
    case = j.accept(hebei, j.case_of(hebei, app["name"]))
    j.wait_for(lambda: carrier.get(f"/v1/{app['name']}")["state"] == "STATE_PROCESSING", "处理中")
    j.approve(hebei, case, j.ORIGIN)
    j.approve(shandong, case, j.VIA)
    j.approve(jiangsu, case, j.DESTINATION)
    assert j.issue(hebei, case)["number"]
    assert app["name"] not in before

    route = j.wait_for(lambda: next((r for r in f.recommended(carrier) if r["lastApplication"] == app["name"]),
                                    None), "the issued route among the carrier's recommendations")
    assert [row["province"] for row in route["rows"]] == [j.ORIGIN, j.VIA, j.DESTINATION]
    assert route["rows"][0]["roads"][0] == G4 and route["rows"][1]["roads"] == [G2, G3]
    assert int(route["timesApproved"]) >= 1 and route["lastApproveTime"]
    # Identical routes are merged: one recommendation for this route.
    shapes = [repr(r["rows"]) for r in f.recommended(carrier)]
    assert len(shapes) == len(set(shapes))

    # Another applicant does not see it; nor does the reverse direction.
    assert all(r["lastApplication"] != app["name"] for r in f.recommended(api_as("person")))
    assert all(r["lastApplication"] != app["name"] for r in f.recommended(carrier, j.DESTINATION, j.ORIGIN))


def test_recommendation_needs_a_party_and_known_provinces_AP_7c(api_as, anonymous):
    r = api_as("carrier").http.get("/v1/routes:recommend", params={"originProvince": "999999",
                                                                    "destinationProvince": JIANGSU})
    f.refused_zh(r, 400, "UNKNOWN_PROVINCE")
    assert anonymous.http.get("/v1/routes:recommend", params={"originProvince": HEBEI,
                                                               "destinationProvince": JIANGSU}).status_code == 401
    officer = api_as("hebei-accept").http.get("/v1/routes:recommend",
                                              params={"originProvince": HEBEI, "destinationProvince": JIANGSU})
    f.refused_zh(officer, 403, "PARTY_REQUIRED")


# ==== 5、经办人信息 ========================================================================

def test_agent_is_suggested_from_the_pc_side_or_entered_by_hand_with_three_images_AP_8(api_as):
    """Typing a name offers the PC side's agents; with no match the agent is entered by
    hand with the ID card's two sides and the power of attorney, and once submitted
    is offered in the next application too."""
    carrier = api_as("carrier")
    truck = f.hand_truck(carrier)
    app = f.fill(carrier, start_in=330, cargo=f.HAND_CARGO, vehicles=[truck], width=3000, height=3200)

    li = agent_suggestion(carrier, "李", "李四")
    assert li["source"] == "FLEET" and li["phone"] == "13800138000" and li["idNumber"] == "130102********1232"
    app = f.save(carrier, app, "agent", {"agent": {"agentRef": li["agentRef"]}})
    assert (app["agent"]["name"], app["agent"]["source"], app["agent"]["idNumber"]) == (
        "李四", "FLEET", "130102********1232")
    assert not {"AGENT_ID_CARD", "POWER_OF_ATTORNEY"} & set(f.required(carrier, app)[0])

    name = "孙" + "".join(random.choice("一二三四五六七八九") for _ in range(3))
    assert not carrier.get("/v1/agents:suggest", params={"namePrefix": name}).get("agents")
    by_hand = f.hand_agent(carrier, name)
    r = f.save(carrier, app, "agent", {"agent": {**by_hand, "idCardDocuments": by_hand["idCardDocuments"][:1],
                                                 "powerOfAttorneyDocument": ""}}, expect=400)
    err = f.refused_zh(r, 400, "INVALID_FIELD")
    assert err["fields"] == {"agent.id_card_documents": "ID_CARD_IMAGES_REQUIRED",
                             "agent.power_of_attorney_document": "POWER_OF_ATTORNEY_REQUIRED"}
    app = f.save(carrier, app, "agent", {"agent": by_hand})
    got = app["agent"]
    assert got["source"] == "MANUAL" and got["name"] == name
    assert got["idNumber"] != by_hand["idNumber"] and got["idNumber"].endswith(by_hand["idNumber"][-4:])
    assert got["idCardDocuments"] == by_hand["idCardDocuments"]
    assert got["powerOfAttorneyDocument"] == by_hand["powerOfAttorneyDocument"]
    req, missing = f.required(carrier, app)
    assert (req["AGENT_ID_CARD"], req["POWER_OF_ATTORNEY"]) == (2, 1) and missing == {}
    submitted(carrier, app)

    offered = agent_suggestion(carrier, name[:2], name)
    assert offered["source"] == "HISTORY" and offered["phone"] == by_hand["phone"]
    nxt = f.save(carrier, f.new_draft(carrier), "agent", {"agent": {"agentRef": offered["agentRef"]}})
    assert nxt["agent"]["name"] == name and nxt["agent"]["source"] == "HISTORY"
    assert nxt["agent"]["idCardDocuments"] == by_hand["idCardDocuments"]


def test_file_of_exactly_one_megabyte_is_accepted_and_one_byte_more_is_refused_AP_8(api_as):
    person = api_as("person")
    ok = f.upload_file(person, "POWER_OF_ATTORNEY", "委托书.png", f.png_of_size(f.UPLOAD_LIMIT), MIME["png"])
    assert ok.status_code == 200, ok.text
    assert int(ok.json()["sizeBytes"]) == f.UPLOAD_LIMIT
    too_large = f.upload_file(person, "POWER_OF_ATTORNEY", "委托书.png", f.png_of_size(f.UPLOAD_LIMIT + 1), MIME["png"])
    err = f.refused_zh(too_large, 400, "FILE_TOO_LARGE")
    assert err["status"] == "INVALID_ARGUMENT"
    assert "1MB" in err["message"]


# ==== 6、其他材料 ==========================================================================

# Every kind of material the manual names, each with a file of a format it allows.
MATERIALS = [
    ("VEHICLE_LICENCE", "行驶证.jpg", "jpg"),          # AP-4
    ("TEMPORARY_PLATE", "临时号牌.png", "png"),        # AP-4
    ("ID_CARD_FRONT", "身份证正面.jpg", "jpg"),        # AP-8
    ("ID_CARD_BACK", "身份证反面.png", "png"),         # AP-8
    ("POWER_OF_ATTORNEY", "授权委托书.jpg", "jpg"),    # AP-8
    ("OUTLINE_DRAWING", "车货总体轮廓图.png", "png"),  # AP-9
    ("ESCORT_PLAN", "护送方案.docx", "docx"),          # AP-9
    ("ESCORT_PLAN", "护送方案.pdf", "pdf"),            # AP-9
    ("TRANSPORT_PLAN", "运输计划.pdf", "pdf"),         # AP-9
    ("TRANSPORT_PLAN", "运输计划.docx", "docx"),       # AP-9
    ("BUSINESS_LICENCE", "经营许可证.pdf", "pdf"),     # ID-5
    ("BUSINESS_LICENCE", "经营许可证.jpg", "jpg"),     # ID-5
]


def content(kind: str, ext: str) -> bytes:
    # Distinct content per kind so no upload is answered with an earlier document.
    seed = sum(map(ord, kind)) % 200
    return {"jpg": lambda: f.jpeg((seed, 40, 80)), "png": lambda: f.png((seed, 90, 10)),
            "pdf": lambda: f.pdf(kind.lower()), "docx": lambda: f.docx(f"{kind}：全程两车护送。")}[ext]()


@pytest.mark.parametrize(("kind", "filename", "ext"), MATERIALS, ids=[f"{k}-{e}" for k, _, e in MATERIALS])
def test_every_material_kind_uploads_through_the_gateway_AP_4_AP_8_AP_9_ID_5(api_as, kind, filename, ext):
    person = api_as("person")
    data = content(kind, ext)
    r = f.upload_file(person, kind, filename, data, MIME[ext])
    assert r.status_code == 200, r.text
    doc = r.json()
    assert re.fullmatch(r"documents/[0-9a-f]{32}", doc["name"]), doc["name"]
    assert doc["kind"] == f"DOCUMENT_KIND_{kind}"
    assert doc["owner"] == "parties/L2001"
    assert doc["filename"] == filename
    assert doc["format"] == FORMAT[ext] and doc["contentType"] == MIME[ext]
    assert 0 < int(doc["sizeBytes"]) <= f.UPLOAD_LIMIT
    if ext in ("pdf", "docx"):  # stored as uploaded
        assert doc["sha256"] == hashlib.sha256(data).hexdigest() and int(doc["sizeBytes"]) == len(data)
    assert person.get(f"/v1/{doc['name']}") == doc


@pytest.mark.parametrize(("filename", "content_type"), [("行驶证.jpg", "image/jpeg"),
                                                        ("setup.exe", "application/octet-stream"),
                                                        ("运输计划.pdf", "application/pdf")])
def test_renamed_executable_is_refused_AP_9(api_as, filename, content_type):
    r = f.upload_file(api_as("person"), "TRANSPORT_PLAN", filename, f.windows_exe(), content_type)
    err = f.refused_zh(r, 400, "UNSUPPORTED_FORMAT")
    assert "可执行" in err["message"]


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (9, 9, 9)).save(buf, "GIF")
    return buf.getvalue()


@pytest.mark.parametrize(("kind", "filename", "data", "content_type", "reason", "says"), [
    ("TRANSPORT_PLAN", "运输计划.pdf", b"", "application/pdf", "FILE_EMPTY", "空"),
    ("OUTLINE_DRAWING", "轮廓图.jpg", f.jpeg((1, 2, 3))[:300], "image/jpeg", "FILE_CORRUPT", "损坏"),
    ("OUTLINE_DRAWING", "轮廓图.pdf", f.png((4, 5, 6)), "application/pdf", "FILE_MISLABELLED", ".pdf"),
    ("OUTLINE_DRAWING", "轮廓图.gif", _gif(), "image/gif", "UNSUPPORTED_IMAGE_FORMAT", "GIF"),
], ids=["empty", "cut-short-photo", "png-named-pdf", "gif"])
def test_a_failed_upload_says_why_and_what_to_do_AP_9(api_as, kind, filename, data, content_type, reason, says):
    """注 (1): when an upload keeps failing the user is told the cause, in Chinese, so
    they can change the file or its format and upload again."""
    err = f.refused_zh(f.upload_file(api_as("person"), kind, filename, data, content_type), 400, reason)
    assert err["status"] == "INVALID_ARGUMENT"
    assert says in err["message"] and "上传" in err["message"], err["message"]


def test_missing_kind_is_refused_AP_9(api_as):
    r = api_as("person").http.post("/v1/documents", files={"file": ("a.png", f.png((1, 2, 3)), MIME["png"])})
    f.refused_zh(r, 400, "DOCUMENT_KIND_MISSING")


def test_another_applicant_cannot_read_the_document_AP_9_PQ_2(api_as):
    person, carrier = api_as("person"), api_as("carrier")
    r = f.upload_file(person, "ID_CARD_FRONT", "身份证正面.png", f.png((77, 1, 2)), MIME["png"])
    assert r.status_code == 200, r.text
    name = r.json()["name"]
    for path in (f"/v1/{name}", f"/v1/{name}:downloadUrl", f"/v1/{name}:download"):
        f.refused_zh(carrier.http.get(path), 404, "DOCUMENT_NOT_FOUND")
    # Nor may an officer of a province that was never granted it.
    f.refused_zh(api_as("jiangsu-review").http.get(f"/v1/{name}"), 404, "DOCUMENT_NOT_FOUND")
    f.refused_zh(carrier.http.delete(f"/v1/{name}"), 404, "DOCUMENT_NOT_FOUND")
    assert person.get(f"/v1/{name}")["name"] == name


def test_owner_download_link_is_a_presigned_s3_url_returning_the_same_bytes_AP_9(api_as, s3_endpoint):
    person = api_as("person")
    data = f.pdf("download-check")
    r = f.upload_file(person, "ESCORT_PLAN", "护送方案.pdf", data, MIME["pdf"])
    assert r.status_code == 200, r.text
    doc = r.json()
    link = person.get(f"/v1/{doc['name']}:downloadUrl")
    assert link["expireTime"]
    url = urlsplit(link["url"])
    assert url.netloc == s3_endpoint.endpoint  # the S3 server itself, not the gateway
    assert "X-Amz-Signature=" in url.query
    fetched = httpx.get(link["url"], timeout=30)  # no bearer token: the signature is the permission
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == data
    assert hashlib.sha256(fetched.content).hexdigest() == doc["sha256"]
    # A tampered signature is refused by the S3 server.
    tampered = link["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered, timeout=30).status_code == 403


def test_gateway_download_streams_the_stored_bytes_to_the_owner_AP_9(api_as):
    person = api_as("person")
    data = f.docx("运输计划：每日一趟。")
    r = f.upload_file(person, "TRANSPORT_PLAN", "运输计划.docx", data, MIME["docx"])
    assert r.status_code == 200, r.text
    got = person.http.get(f"/v1/{r.json()['name']}:download")
    assert got.status_code == 200, got.text[:500]
    assert got.content == data
    assert got.headers["content-type"].startswith(MIME["docx"])
    assert "attachment" in got.headers.get("content-disposition", "")


# ==== 7、申请提交: the six steps walked through and submitted ===============================

def test_class_one_walk_with_the_route_by_hand_is_submitted_AP_2_AP_4_AP_5_AP_6_AP_7a_AP_8_AP_10(api_as):
    """A class I application as a carrier fills it: the cargo in tonnes and metres; the
    fleet's plates typed and chosen; the outline from the reference values; dates
    checked when chosen; the route typed row by row, a wrong row added and swiped
    away; the PC side's agent chosen; nothing more required; submitted."""
    carrier = api_as("carrier")
    app = f.new_draft(carrier)
    # 1 货物信息
    app = f.save(carrier, app, "cargo", {"cargo": {"name": "风电机舱", "weightTonnes": "20", "lengthMetres": "9",
                                                   "widthMetres": "3", "heightMetres": "2.4"}})
    assert app["cargo"]["weightTonnes"] == "20.000" and app["cargo"]["heightMetres"] == "2.400"
    # 2 车辆信息
    tractor, trailer = suggestion(carrier, "冀a1", TRACTOR), suggestion(carrier, "6789", TRAILER)
    app = f.save(carrier, app, "vehicles", {"vehicles": [{"plateNumber": tractor["plateNumber"]},
                                                         {"plateNumber": trailer["plateNumber"]}]})
    assert [v["source"] for v in app["vehicles"]] == ["FLEET", "FLEET"]
    # 3 车货总体信息: the reference values, the gap measured, width 3.000 m and length 19.900 m typed:
    # over the Art. 3 limits, on / under the class I bounds.
    overall = from_reference(app["overallReference"], length="19.9", width="3", height="4")
    app = f.save(carrier, app, "overall", {"overall": overall})
    assert app["permitClass"] == 1
    c = app["classification"]
    assert c["overLimit"] is True and c["permitClass"] == 1 and c["rules"][0]["rule"] == "ART15_CLASS1"
    assert {h["rule"] for h in c["rules"]} >= {"ART3_WIDTH", "ART3_LENGTH"}
    # 4 通行信息: dates first (the duplicate check), then the rows by hand.
    start, end = j._date(TODAY + dt.timedelta(days=160)), j._date(TODAY + dt.timedelta(days=162))
    assert carrier.post(f"/v1/{app['name']}:checkVehicleSchedule", {"startDate": start, "endDate": end})["ok"]
    rows = [{"province": HEBEI, "roads": ["G4", "G1811"]}, {"province": SHANDONG, "roads": ["G2", "G3"]},
            {"province": JIANGSU, "roads": ["G2"]}, {"province": ANHUI, "roads": ["G3"]}]
    v = validated(carrier, rows)
    assert "LAST_ROW_NOT_DESTINATION" in {w["reason"] for w in v["warnings"]}
    rows.pop()  # swiped away
    v = validated(carrier, rows)
    assert v["valid"] is True and not v.get("warnings") and v["approvingProvinces"] == [HEBEI, SHANDONG, JIANGSU]
    app = f.save(carrier, app, "passage", {"passage": f.passage(160, 3, route=v["rows"])})
    assert app["passage"]["route"] == v["rows"]
    # 5 经办人信息
    app = f.save(carrier, app, "agent", {"agent": {"agentRef": agent_suggestion(carrier, "李", "李四")["agentRef"]}})
    # 6 其他材料: nothing is required for class I with the fleet's vehicles and agent.
    req, missing = f.required(carrier, app)
    assert req == {} and missing == {}, (req, missing)
    # 7 申请提交
    rid = str(uuid.uuid4())
    s = submitted(carrier, app, requestId=rid)
    # A client retry with the same request id answers the submitted application again.
    retry = submitted(carrier, app, requestId=rid)
    assert retry["submission"] == 1 and retry["name"] == s["name"]
    assert s["submission"] == 1 and s["permitClass"] == 1
    assert s["routeProvinces"] == [j.ORIGIN, j.VIA, j.DESTINATION]
    assert s["number"].startswith("DJ13")


def test_class_three_walk_with_the_recognised_route_is_submitted_AP_2_AP_5_AP_7b_AP_8_AP_9_AP_10(api_as):
    """A class III application: the outline over the class II height; the route pasted in
    the manual's format, recognised and then edited; an agent entered by hand; three
    outline drawings and an escort plan (a Word file) before it can be submitted."""
    carrier = api_as("carrier")
    app = f.save(carrier, f.new_draft(carrier), "cargo", {"cargo": CLASS1_CARGO})
    vehicles = list(f.fleet(carrier))
    app = f.save(carrier, app, "vehicles", {"vehicles": vehicles})
    # 4.500 m is on the class II bound: it stays in class II and needs no extra material.
    app = f.save(carrier, app, "overall", {"overall": f.overall(vehicles, CLASS1_CARGO, height=4500)})
    assert app["permitClass"] == 2
    assert app["classification"]["rules"][0]["rule"] == "ART15_CLASS2_HEIGHT"
    assert f.required(carrier, app) == ({}, {})
    app = f.save(carrier, app, "overall", {"overall": f.overall(vehicles, CLASS1_CARGO, height=4600)})
    assert app["permitClass"] == 3
    assert app["classification"]["rules"][0]["rule"] == "ART15_CLASS3_HEIGHT"

    # 4 通行信息 (2) 智能识别: colon after the province, hyphens, semicolon and a new line.
    parsed = carrier.post("/v1/routes:parse", {"text": "河北省：G4-G1811；\n山东省：G2-G3；\n江苏省：G2；"})
    assert not parsed.get("problems")
    assert parsed["rows"] == [{"province": HEBEI, "roads": [G4, "G1811"]}, {"province": SHANDONG, "roads": [G2, G3]},
                              {"province": JIANGSU, "roads": [G2]}]
    rows = parsed["rows"]
    rows[2]["roads"].append("S19")  # 生成的路线可以继续编辑
    v = validated(carrier, rows)
    assert v["valid"] is True and not v.get("warnings")
    app = f.save(carrier, app, "passage", {"passage": f.passage(170, 3, route=v["rows"])})
    assert app["passage"]["route"] == v["rows"] and len(v["rows"][2]["roads"]) == 2
    # 5 经办人信息 by hand.
    app = f.save(carrier, app, "agent", {"agent": f.hand_agent(carrier)})

    # 6 其他材料: three outline drawings and one escort plan.
    req, missing = f.required(carrier, app)
    assert req == {"OUTLINE_DRAWING": 3, "ESCORT_PLAN": 1, "AGENT_ID_CARD": 2, "POWER_OF_ATTORNEY": 1}
    assert missing == {"OUTLINE_DRAWING": 3, "ESCORT_PLAN": 1}
    err = f.refused_zh(f.submit_raw(carrier, app), 400, "MATERIALS_MISSING")
    assert set(err["metadata"]["missing"].split(",")) == {"OUTLINE_DRAWING", "ESCORT_PLAN"}

    # Two drawings are not enough: submit names exactly what is still missing.
    drawings = [f.document(carrier, "OUTLINE_DRAWING", f"轮廓图{i}.jpg", f.jpeg(f.random_rgb()), MIME["jpg"])
                for i in range(1, 4)]
    plan = f.document(carrier, "ESCORT_PLAN", "护送方案.docx", f.docx(f"护送方案：全程两车护送。{uuid.uuid4()}"),
                      MIME["docx"])
    app = f.attach(carrier, app, [("OUTLINE_DRAWING", drawings[0]), ("OUTLINE_DRAWING", drawings[1]),
                                  ("ESCORT_PLAN", plan)])
    assert f.required(carrier, app)[1] == {"OUTLINE_DRAWING": 1}
    err = f.refused_zh(f.submit_raw(carrier, app), 400, "MATERIALS_MISSING")
    assert err["metadata"]["missing"] == "OUTLINE_DRAWING"

    app = f.attach(carrier, app, [*[("OUTLINE_DRAWING", d) for d in drawings], ("ESCORT_PLAN", plan)])
    assert f.required(carrier, app)[1] == {}
    s = submitted(carrier, app)
    assert s["permitClass"] == 3 and s["agent"]["source"] == "MANUAL"
    assert s["routeProvinces"] == [j.ORIGIN, j.VIA, j.DESTINATION]


def test_multi_trip_walk_with_a_history_route_is_submitted_AP_2_AP_4_AP_7c_AP_9_AP_10(api_as):
    """A multi-trip application: the route of the carrier's earlier issued permit is
    offered for the same origin and destination, chosen and edited; the truck of that
    application is offered by its plate; a transport plan (PDF) is required."""
    carrier = api_as("carrier")
    truck = f.hand_truck(carrier)
    earlier_route = [{"province": HEBEI, "roads": ["G4", "G45"]}, {"province": SHANDONG, "roads": ["G3"]},
                     {"province": JIANGSU, "roads": ["G2", "G25"]}]
    earlier = f.fill(carrier, start_in=340, cargo=f.HAND_CARGO, vehicles=[truck], width=3000, height=3200)
    earlier = f.save(carrier, earlier, "passage", {"passage": f.passage(340, 3, route=earlier_route)})
    f.issue_permit(api_as, submitted(carrier, earlier))

    app = f.save(carrier, f.new_draft(carrier), "cargo", {"cargo": f.HAND_CARGO})
    again = suggestion(carrier, truck["plateNumber"][:5], truck["plateNumber"])
    app = f.save(carrier, app, "vehicles", {"vehicles": [{"plateNumber": again["plateNumber"]}]})
    assert app["vehicles"][0]["source"] == "HISTORY"
    app = f.save(carrier, app, "overall", {"overall": f.overall(app["vehicles"], f.HAND_CARGO, height=3200,
                                                                width=3000)})
    # 4 通行信息 (3) 历史路线推荐: the earlier permit's route, chosen, then edited.
    history = j.wait_for(lambda: next((r for r in f.recommended(carrier) if r["lastApplication"] == earlier["name"]),
                                      None), "the issued route among the recommendations")
    assert history["rows"] == validated(carrier, earlier_route)["rows"]
    rows = history["rows"]
    rows[1]["roads"].append("G20")  # 自动填入的历史路线可以继续编辑
    v = validated(carrier, rows)
    assert v["valid"] is True and len(v["rows"][1]["roads"]) == 2
    app = f.save(carrier, app, "passage", {"passage": f.passage(350, 90, multi_trip=True, route=v["rows"])})
    assert app["passage"]["multiTrip"] is True and app["passage"]["route"] == v["rows"]
    app = f.save(carrier, app, "agent", {"agent": f.agent(carrier)})

    # 6 其他材料: one transport plan.
    req, missing = f.required(carrier, app)
    assert req == {"TRANSPORT_PLAN": 1} and missing == {"TRANSPORT_PLAN": 1}
    err = f.refused_zh(f.submit_raw(carrier, app), 400, "MATERIALS_MISSING")
    assert err["metadata"]["missing"] == "TRANSPORT_PLAN"
    # A document of another kind does not count as the transport plan.
    wrong = f.attach(carrier, app, [("TRANSPORT_PLAN", f.upload(carrier, "ESCORT_PLAN"))])
    err = f.refused_zh(f.submit_raw(carrier, wrong), 400, "INVALID_FIELD")
    assert err["fields"] == {"materials[0].document": "DOCUMENT_KIND_MISMATCH"}
    plan = f.document(carrier, "TRANSPORT_PLAN", "运输计划.pdf", f.pdf(f"plan-{uuid.uuid4().hex}"), MIME["pdf"])
    app = f.attach(carrier, wrong, [("TRANSPORT_PLAN", plan)])
    assert f.required(carrier, app)[1] == {}
    s = submitted(carrier, app)
    assert s["passage"]["multiTrip"] is True and s["routeProvinces"] == [j.ORIGIN, j.VIA, j.DESTINATION]


def test_a_saved_draft_is_found_in_the_progress_list_and_finished_later_AP_10(api_as):
    """“暂不提交 -> 保存”: the first three steps saved, the phone put away; later the
    draft is on 进度查询与变更 as 未提交, opened with what was filled, completed and
    submitted."""
    carrier = api_as("carrier")
    vehicles = list(f.fleet(carrier))
    saved = up_to_overall(carrier, vehicles, CLASS1_CARGO, height=4000)

    drafts = carrier.get("/v1/applications", params={"state": "STATE_DRAFT", "pageSize": 100})["applications"]
    (listed,) = [a for a in drafts if a["name"] == saved["name"]]
    assert listed["stateLabel"] == "未提交" and listed["number"] == saved["number"]
    opened = carrier.get(f"/v1/{saved['name']}")
    assert opened["cargo"] == saved["cargo"] and opened["overall"] == saved["overall"]
    assert [v["plateNumber"] for v in opened["vehicles"]] == [TRACTOR, TRAILER]
    assert not opened.get("passage") and not opened.get("agent")

    opened = f.save(carrier, opened, "passage", {"passage": f.passage(180, 3)})
    opened = f.save(carrier, opened, "agent", {"agent": f.agent(carrier)})
    s = submitted(carrier, opened)
    assert s["number"] == saved["number"]
    now = carrier.get("/v1/applications", params={"state": "STATE_SUBMITTED", "pageSize": 100})["applications"]
    assert saved["name"] in {a["name"] for a in now}
    drafts = carrier.get("/v1/applications", params={"state": "STATE_DRAFT", "pageSize": 100})["applications"]
    assert saved["name"] not in {a["name"] for a in drafts}
