"""The application context end to end over HTTP through the gateway: the
six-step form with its field errors (AP-1, AP-3..AP-5, AP-7a), class I,
class III and multi-trip applications filled and submitted with their
required materials (AP-9), the duplicate check (AP-6), drafts and their
management (AP-10, PQ-2..PQ-6) and optimistic concurrency.

The e2e tests share one stack and one carrier whose fleet (冀A12345 + 冀B6789挂)
other modules also use for applications a few days to a few months out, so
every application here that holds the fleet vehicles travels 600+ days out,
each test in its own window. Vehicles entered by hand get fresh 冀E plates
(never 冀A, never a trailer) so ``journey.fill_draft`` keeps choosing the fleet.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.e2e import forms as f
from tests.e2e import journey as j
from tests.e2e.forms import CLASS1_CARGO, TODAY, TRACTOR, TRAILER

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]



# ---- AP-1 ---------------------------------------------------------------------------------

def test_notice_shown_under_five_seconds_is_refused_AP_1(api_as):
    carrier = api_as("carrier")
    r = carrier.http.post("/v1/applications", json={"noticeShownTime": f.notice_shown(2),
                                                    "requestId": str(uuid.uuid4())})
    err = f.refused(r, 400, "NOTICE_NOT_READ")
    assert err["metadata"]["required_seconds"] == "5"
    r = carrier.http.post("/v1/applications", json={"requestId": str(uuid.uuid4())})
    f.refused(r, 400, "NOTICE_NOT_READ")
    app = carrier.post("/v1/applications", {"noticeShownTime": f.notice_shown(5.5), "requestId": str(uuid.uuid4())})
    assert app["state"] == "STATE_DRAFT" and app["stateLabel"] == "未提交"


# ---- AP-3 ---------------------------------------------------------------------------------

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


# ---- AP-4 ---------------------------------------------------------------------------------

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
    r = f.save(carrier, f.new_draft(carrier), "vehicles", {"vehicles": [{**tractor, "curbMassKg": "9100"}]}, expect=400)
    assert "vehicles[0].licence_documents" in f.refused(r, 400, "INVALID_FIELD")["fields"]


# ---- AP-5 and the classification ----------------------------------------------------------

def test_total_mass_below_vehicles_and_cargo_is_refused_with_field_errors_AP_5(api_as):
    carrier = api_as("carrier")
    vehicles = list(f.fleet(carrier))
    app = f.save(carrier, f.new_draft(carrier), "cargo", {"cargo": CLASS1_CARGO})
    app = f.save(carrier, app, "vehicles", {"vehicles": vehicles})
    reference = app["overallReference"]
    assert reference["totalMassKg"] == str(8800 + 9500 + 20000)
    assert reference["widthMm"] == "3000" and len(reference["axleLoadsKg"]) == 6

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


# ---- class I, class III, multi-trip (issue 4 "done when") ---------------------------------

def test_class_one_application_is_filled_and_submitted_AP_2_AP_5_AP_10(api_as):
    carrier = api_as("carrier")
    # Width 3.000 m and length 19.900 m: over the Art. 3 limits, on / under the class I bounds.
    app = f.fill(carrier, start_in=610, width=3000)
    assert app["permitClass"] == 1
    c = app["classification"]
    assert c["overLimit"] is True and c["permitClass"] == 1 and c["rules"][0]["rule"] == "ART15_CLASS1"
    assert {h["rule"] for h in c["rules"]} >= {"ART3_WIDTH", "ART3_LENGTH"}
    req, missing = f.required(carrier, app)
    assert req == {} and missing == {}, (req, missing)
    rid = str(uuid.uuid4())
    submitted = carrier.http.post(f"/v1/{app['name']}:submit", json={"etag": app["etag"], "requestId": rid})
    assert submitted.status_code == 200, submitted.text
    # A client retry with the same request id answers the submitted application again.
    retry = carrier.http.post(f"/v1/{app['name']}:submit", json={"etag": app["etag"], "requestId": rid})
    assert retry.status_code == 200, retry.text
    assert retry.json()["submission"] == 1 and retry.json()["state"] == "STATE_SUBMITTED"
    s = submitted.json()
    assert s["state"] == "STATE_SUBMITTED" and s["stateLabel"] == "未受理" and s["submission"] == 1
    assert s["permitClass"] == 1 and s["routeProvinces"] == [j.ORIGIN, j.VIA, j.DESTINATION]
    assert s["number"].startswith("DJ13")


def test_class_three_application_needs_three_outline_drawings_and_an_escort_plan_AP_9(api_as):
    carrier = api_as("carrier")
    app = f.fill(carrier, start_in=620, height=4500)
    # 4.500 m is on the class II bound: it stays in class II and needs no extra material.
    assert app["permitClass"] == 2
    assert app["classification"]["rules"][0]["rule"] == "ART15_CLASS2_HEIGHT"
    assert f.required(carrier, app) == ({}, {})
    vehicles = app["vehicles"]
    app = f.save(carrier, app, "overall", {"overall": f.overall(vehicles, CLASS1_CARGO, height=4600)})
    assert app["permitClass"] == 3
    assert app["classification"]["rules"][0]["rule"] == "ART15_CLASS3_HEIGHT"
    req, missing = f.required(carrier, app)
    assert req == {"OUTLINE_DRAWING": 3, "ESCORT_PLAN": 1}
    assert missing == {"OUTLINE_DRAWING": 3, "ESCORT_PLAN": 1}

    err = f.refused(f.submit_raw(carrier, app), 400, "MATERIALS_MISSING")
    assert set(err["metadata"]["missing"].split(",")) == {"OUTLINE_DRAWING", "ESCORT_PLAN"}

    # Two drawings are not enough: submit names exactly what is still missing.
    drawings = [f.upload(carrier, "OUTLINE_DRAWING") for _ in range(3)]
    app = f.attach(carrier, app, [("OUTLINE_DRAWING", drawings[0]), ("OUTLINE_DRAWING", drawings[1]),
                                 ("ESCORT_PLAN", f.upload(carrier, "ESCORT_PLAN"))])
    assert f.required(carrier, app)[1] == {"OUTLINE_DRAWING": 1}
    err = f.refused(f.submit_raw(carrier, app), 400, "MATERIALS_MISSING")
    assert err["metadata"]["missing"] == "OUTLINE_DRAWING"

    app = f.attach(carrier, app, [*[("OUTLINE_DRAWING", d) for d in drawings],
                                 ("ESCORT_PLAN", app["materials"][2]["document"])])
    req, missing = f.required(carrier, app)
    assert req == {"OUTLINE_DRAWING": 3, "ESCORT_PLAN": 1} and missing == {}
    r = f.submit_raw(carrier, app)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "STATE_SUBMITTED" and r.json()["permitClass"] == 3


def test_multi_trip_application_needs_a_transport_plan_AP_9(api_as):
    carrier = api_as("carrier")
    app = f.fill(carrier, start_in=900, days=120, multi_trip=True)
    assert app["passage"]["multiTrip"] is True
    req, missing = f.required(carrier, app)
    assert req == {"TRANSPORT_PLAN": 1} and missing == {"TRANSPORT_PLAN": 1}
    err = f.refused(f.submit_raw(carrier, app), 400, "MATERIALS_MISSING")
    assert err["metadata"]["missing"] == "TRANSPORT_PLAN"

    # A document of another kind does not count as the transport plan.
    wrong = f.attach(carrier, app, [("TRANSPORT_PLAN", f.upload(carrier, "ESCORT_PLAN"))])
    err = f.refused(f.submit_raw(carrier, wrong), 400, "INVALID_FIELD")
    assert err["fields"] == {"materials[0].document": "DOCUMENT_KIND_MISMATCH"}

    app = f.attach(carrier, wrong, [("TRANSPORT_PLAN", f.upload(carrier, "TRANSPORT_PLAN"))])
    assert f.required(carrier, app)[1] == {}
    r = f.submit_raw(carrier, app)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "STATE_SUBMITTED"


def test_passage_longer_than_six_months_multi_trip_or_sixty_days_single_is_refused(api_as):
    """Passage periods from the rule data (regulation.md: multi-trip permit, single trip)."""
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


# ---- AP-6 ---------------------------------------------------------------------------------

def test_third_overlapping_application_for_a_vehicle_is_refused_AP_6(api_as):
    carrier = api_as("carrier")
    first = f.fill(carrier, start_in=700, days=6)        # days 700..705
    second = f.fill(carrier, start_in=703, days=6)       # days 703..708
    third = f.fill(carrier, start_in=705, days=1)        # day 705: both others hold the vehicles
    for app in (first, second):
        r = f.submit_raw(carrier, app)
        assert r.status_code == 200, r.text
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
    r = f.save(carrier, third, "passage", {"passage": f.passage(704, 1)}, expect=400)
    assert f.refused(r, 400, "VEHICLE_TIME_CONFLICT")["metadata"]["applications"]
    third = f.save(carrier, third, "passage", {"passage": f.passage(709, 1)})
    assert carrier.post(f"/v1/{third['name']}:checkVehicleSchedule", {})["ok"] is True
    r = f.submit_raw(carrier, third)
    assert r.status_code == 200, r.text


# ---- AP-7a --------------------------------------------------------------------------------

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


# ---- AP-10, PQ-2, PQ-3, PQ-4 --------------------------------------------------------------

def test_saved_draft_is_found_in_the_list_and_by_number_and_plate_AP_10_PQ_2(api_as):
    carrier = api_as("carrier")
    plate = f.hand_plate()
    app = f.save(carrier, f.new_draft(carrier), "vehicles", {"vehicles": [f.hand_truck(carrier, plate)]})

    drafts = carrier.get("/v1/applications", params={"state": "STATE_DRAFT", "pageSize": 100})
    assert app["name"] in {a["name"] for a in drafts["applications"]}
    assert all(a["state"] == "STATE_DRAFT" for a in drafts["applications"])
    assert drafts["totalSize"] >= 1
    submitted = carrier.get("/v1/applications", params={"state": "STATE_SUBMITTED", "pageSize": 100})
    assert app["name"] not in {a["name"] for a in submitted.get("applications", [])}

    by_number = carrier.get("/v1/applications:search", params={"query": app["number"]})["applications"]
    assert [a["name"] for a in by_number] == [app["name"]]
    by_plate = carrier.get("/v1/applications:search", params={"query": plate})["applications"]
    assert [a["name"] for a in by_plate] == [app["name"]]
    listed = carrier.get("/v1/applications", params={"query": plate})["applications"]
    assert [a["name"] for a in listed] == [app["name"]]
    # Another applicant finds nothing by the same number.
    other = api_as("person").get("/v1/applications:search", params={"query": app["number"]})
    assert not other.get("applications")
    r = carrier.http.get("/v1/applications:search", params={"query": ""})
    f.refused(r, 400, "QUERY_REQUIRED")


def test_one_more_like_this_clones_a_prefilled_draft_without_dates_PQ_3(api_as):
    carrier = api_as("carrier")
    source = f.fill(carrier, start_in=830)
    source = f.attach(carrier, source, [("OTHER", f.upload(carrier, "TRANSPORT_PLAN"))])
    rid = str(uuid.uuid4())
    clone = carrier.post(f"/v1/{source['name']}:clone", {"requestId": rid})
    assert clone["name"] != source["name"] and clone["number"] != source["number"]
    assert clone["state"] == "STATE_DRAFT" and clone["sourceApplication"] == source["name"]
    assert clone["cargo"] == source["cargo"]
    assert [v["plateNumber"] for v in clone["vehicles"]] == [TRACTOR, TRAILER]
    assert clone["overall"] == source["overall"]
    assert clone["agent"]["name"] == "李四"
    assert clone["passage"]["route"] == source["passage"]["route"]
    assert not clone["passage"].get("startDate") and not clone["passage"].get("endDate")
    # A retry of the same click gives the same draft.
    assert carrier.post(f"/v1/{source['name']}:clone", {"requestId": rid})["name"] == clone["name"]

    # Then the normal flow: choose dates, submit.
    clone = f.save(carrier, clone, "passage", {"passage": f.passage(840, 2)})
    r = f.submit_raw(carrier, clone)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "STATE_SUBMITTED"


def test_a_draft_is_deleted_for_good_PQ_4(api_as):
    carrier = api_as("carrier")
    app = f.save(carrier, f.new_draft(carrier), "cargo", {"cargo": {"emptyLoad": True}})
    r = carrier.http.delete(f"/v1/{app['name']}", params={"etag": "stale"})
    f.refused(r, 409, "ETAG_MISMATCH")
    carrier.call("DELETE", f"/v1/{app['name']}", params={"etag": app["etag"]})
    f.refused(carrier.http.get(f"/v1/{app['name']}"), 404, "APPLICATION_NOT_FOUND")
    listed = carrier.get("/v1/applications", params={"state": "STATE_DRAFT", "pageSize": 100})
    assert app["name"] not in {a["name"] for a in listed.get("applications", [])}
    assert not carrier.get("/v1/applications:search", params={"query": app["number"]}).get("applications")
    f.refused(carrier.http.delete(f"/v1/{app['name']}"), 404, "APPLICATION_NOT_FOUND")


# ---- PQ-5 ---------------------------------------------------------------------------------

def test_withdrawn_application_is_void_and_its_case_is_cancelled_PQ_5(api_as):
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = f.fill(carrier, start_in=630)
    r = f.submit_raw(carrier, app)
    assert r.status_code == 200, r.text
    app = r.json()
    case = j.case_of(hebei, app["name"])
    assert case["state"] == "CASE_STATE_AWAITING_ACCEPTANCE"
    assert app["name"] in f.queue(hebei)

    withdrawn = carrier.post(f"/v1/{app['name']}:withdraw", {"etag": app["etag"], "reason": "计划取消"})
    assert withdrawn["state"] == "STATE_WITHDRAWN" and withdrawn["stateLabel"] == "已撤销"
    j.wait_for(lambda: hebei.get(f"/v1/{case['name']}")["state"] == "CASE_STATE_CANCELLED", "case cancelled")
    assert app["name"] not in f.queue(hebei)

    # A client retry of the withdrawal answers the same void application, recorded once.
    again = carrier.post(f"/v1/{app['name']}:withdraw", {"etag": app["etag"], "reason": "计划取消"})
    assert again["state"] == "STATE_WITHDRAWN"
    # Void for good: no edit, no submit, no delete.
    f.refused(f.save(carrier, withdrawn, "cargo", {"cargo": {"emptyLoad": True}}, expect=400), 400,
             "APPLICATION_NOT_DRAFT")
    f.refused(f.submit_raw(carrier, withdrawn), 400, "APPLICATION_NOT_SUBMITTABLE")
    f.refused(carrier.http.delete(f"/v1/{app['name']}"), 400, "APPLICATION_NOT_DRAFT")
    assert carrier.get(f"/v1/{app['name']}")["state"] == "STATE_WITHDRAWN"
    changes = carrier.get(f"/v1/{app['name']}/stateChanges")["stateChanges"]
    # The applicant's changes, the retry not among them; the approval side's echo of the
    # cancellation (CASE_WITHDRAWN) is kept in the trail as a no-op (RecordReviewEvent).
    mine = [c for c in changes if c["actor"].startswith("users/")]
    assert [(c.get("fromState", "STATE_UNSPECIFIED"), c["toState"]) for c in mine] == [
        ("STATE_UNSPECIFIED", "STATE_DRAFT"), ("STATE_DRAFT", "STATE_SUBMITTED"),
        ("STATE_SUBMITTED", "STATE_WITHDRAWN")]
    assert all(c["actor"] == "services/approval" and c["toState"] == "STATE_WITHDRAWN"
               for c in changes if c not in mine)
    assert mine[-1]["reason"] == "计划取消" and len({c["actor"] for c in mine}) == 1


def test_a_draft_cannot_be_withdrawn_PQ_5(api_as):
    carrier = api_as("carrier")
    app = f.new_draft(carrier)
    f.refused(carrier.http.post(f"/v1/{app['name']}:withdraw", json={"etag": app["etag"]}), 400,
             "APPLICATION_NOT_WITHDRAWABLE")


# ---- PQ-6 ---------------------------------------------------------------------------------

def test_returned_application_shows_the_reason_and_is_corrected_by_submitting_PQ_6(api_as):
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = f.fill(carrier, start_in=660)
    r = f.submit_raw(carrier, app)
    assert r.status_code == 200, r.text
    case = j.case_of(hebei, app["name"])
    reason = "货物尺寸与轮廓不符，请核实后补正"
    returned = hebei.post(f"/v1/{case['name']}:return", {"reason": reason, "etag": case.get("etag", "")})
    assert returned["state"] == "CASE_STATE_RETURNED"

    app = j.wait_for(lambda: (a := carrier.get(f"/v1/{app['name']}"))["state"] == "STATE_RETURNED" and a,
                     "退回补正 on the applicant's side")
    assert app["stateLabel"] == "退回补正" and app["returnReason"] == reason
    last = carrier.get(f"/v1/{app['name']}/stateChanges")["stateChanges"][-1]
    assert (last["fromState"], last["toState"], last["actor"], last["reason"]) == (
        "STATE_SUBMITTED", "STATE_RETURNED", "officers/hebei-accept", reason)
    assert app["submission"] == 1

    # A correction cannot be saved on its own...
    corrected = {**CLASS1_CARGO, "lengthMm": "9500"}
    r = f.save(carrier, app, "cargo", {"cargo": corrected}, expect=400)
    f.refused(r, 400, "CORRECTION_SUBMIT_ONLY")
    assert carrier.get(f"/v1/{app['name']}")["cargo"]["lengthMm"] == "9000"

    # ...only submitted together with its changes.
    r = f.submit_raw(carrier, app, application={"cargo": corrected}, updateMask="cargo")
    assert r.status_code == 200, r.text
    resubmitted = r.json()
    assert resubmitted["state"] == "STATE_SUBMITTED" and resubmitted["submission"] == 2
    assert resubmitted["cargo"]["lengthMm"] == "9500"
    case = j.wait_for(lambda: (c := hebei.get(f"/v1/{case['name']}"))["state"] == "CASE_STATE_AWAITING_ACCEPTANCE"
                      and c, "the resubmission waiting for acceptance again")
    assert app["name"] in f.queue(hebei)


# ---- optimistic concurrency ---------------------------------------------------------------

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
