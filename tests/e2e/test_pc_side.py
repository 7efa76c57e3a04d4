"""The PC side through the public API (PC-1, PC-2): a carrier keeps its vehicles and
agents, finds them by plate in the form (AP-4, AP-8), submits, and changes to
another kept vehicle with identical figures (PQ-10); enterprise information is
shown to the carrier and to the officers reviewing its case (ID-3)."""

from __future__ import annotations

import random

from tests.e2e import forms as f
from tests.e2e import journey as j
from tests.e2e.test_manual_3_progress import accepted, submitted

TRACTOR_FIGURES = {"vehicleType": "重型半挂牵引车", "curbMassKg": "8800", "axleCount": 3, "wheelbaseMm": "3300",
                   "tyreCount": 10, "lengthMm": "6900", "widthMm": "2500", "heightMm": "3350"}
TRAILER_FIGURES = {"vehicleType": "重型平板半挂车", "makeModel": "通华牌THT9400TDP", "curbMassKg": "9500",
                   "axleCount": 3, "wheelbaseMm": "7600", "tyreCount": 12, "lengthMm": "13000",
                   "widthMm": "3000", "heightMm": "1600"}


def plate(trailer: bool = False) -> str:
    while True:
        p = f"冀F{random.randrange(1000, 9999)}挂" if trailer else f"冀F{random.randrange(10000, 99999)}"
        if p not in f._PLATES_GIVEN:
            f._PLATES_GIVEN.add(p)
            return p


def keep(api, number: str, figures: dict, make_model: str = "") -> dict:
    body = {"plateNumber": number, **figures,
            "licenceDocuments": [f.upload(api, "VEHICLE_LICENCE"), f.upload(api, "VEHICLE_LICENCE")]}
    if make_model:
        body["makeModel"] = make_model
    return api.post("/v1/fleet/vehicles", body)


def test_kept_vehicles_are_found_in_the_form_and_a_change_goes_to_an_identical_kept_one_PQ_10_AP_4_AP_8_ID_3(
        api_as) -> None:
    carrier, hebei = api_as("person"), api_as("hebei-accept")
    a, b, c, trailer = plate(), plate(), plate(), plate(trailer=True)
    tractor_a = keep(carrier, a, TRACTOR_FIGURES, "解放牌CA4250P66K24T1A1E5")
    tractor_b = keep(carrier, b, TRACTOR_FIGURES, "解放牌CA4250P66K24T1A1E5 (二号车)")
    tractor_c = keep(carrier, c, TRACTOR_FIGURES, "解放牌CA4250P66K24T1A1E5 (三号车)")
    keep(carrier, trailer, TRAILER_FIGURES)
    assert (tractor_a["source"], tractor_a["owner"]) == ("FLEET", "parties/L2001")

    # The form's checks: a bad plate and a missing licence image, each named; officers refused.
    bad = carrier.http.post("/v1/fleet/vehicles", json={"plateNumber": "冀F1", **TRACTOR_FIGURES,
                                                       "makeModel": "x", "licenceDocuments": []})
    e = f.refused(bad, 400, "INVALID_FIELD")
    assert e["fields"]["vehicle.plate_number"] == "PLATE_INVALID"
    assert e["fields"]["vehicle.licence_documents"] == "LICENCE_IMAGES_REQUIRED"
    f.refused(hebei.http.post("/v1/fleet/vehicles", json={"plateNumber": plate(), **TRACTOR_FIGURES}), 403,
              "NOT_APPLICANT")
    f.refused(carrier.http.post("/v1/fleet/vehicles", json={
        "plateNumber": a, **TRACTOR_FIGURES, "makeModel": "x",
        "licenceDocuments": [f.upload(carrier, "VEHICLE_LICENCE"), f.upload(carrier, "VEHICLE_LICENCE")]}),
        409, "VEHICLE_EXISTS")

    # An agent kept the same way, then found by name.
    agent = carrier.post("/v1/fleet/agents", f.hand_agent(carrier, name="钱六"))
    found = carrier.get("/v1/agents:suggest", params={"namePrefix": "钱六"})["agents"]
    assert [x["agentRef"] for x in found] == [agent["agentRef"]]

    # Found by plate in the form: only the plate is typed, the rest comes from the kept vehicle.
    suggested = carrier.get("/v1/vehicles:suggest", params={"platePrefix": a[2:]})["vehicles"]
    assert [v["plateNumber"] for v in suggested] == [a] and suggested[0]["fleetVehicle"] == tractor_a["fleetVehicle"]
    app = f.new_draft(carrier)
    app = f.save(carrier, app, "cargo", {"cargo": f.CLASS1_CARGO})
    app = f.save(carrier, app, "vehicles", {"vehicles": [{"plateNumber": a}, {"plateNumber": trailer}]})
    assert [(v["source"], v["curbMassKg"]) for v in app["vehicles"]] == [("FLEET", "8800"), ("FLEET", "9500")]
    app = f.save(carrier, app, "overall", {"overall": f.overall(app["vehicles"], f.CLASS1_CARGO, height=4000,
                                                                width=3000)})
    app = f.save(carrier, app, "passage", {"passage": f.passage(45, 3)})
    app = f.save(carrier, app, "agent", {"agent": {"agentRef": agent["agentRef"]}})
    app = submitted(carrier, app)
    case = accepted(api_as, app, carrier)

    # A retired vehicle is neither suggested nor offered for the change (PC-1, PQ-10).
    carrier.post(f"/v1/fleet/{tractor_c['fleetVehicle']}:retire")
    assert carrier.get("/v1/vehicles:suggest", params={"platePrefix": c[2:]}).get("vehicles", []) == []
    poa = f.upload(carrier, "POWER_OF_ATTORNEY")
    f.refused(carrier.http.post(f"/v1/{case['name']}/vehicleChanges", json={
        "oldPlateNumber": a, "newVehicle": tractor_c["fleetVehicle"], "powerOfAttorney": poa}), 400,
        "VEHICLE_NOT_IN_FLEET")
    case = carrier.post(f"/v1/{case['name']}/vehicleChanges",
                        {"oldPlateNumber": a, "newVehicle": tractor_b["fleetVehicle"], "powerOfAttorney": poa})
    change = case["vehicleChanges"][-1]
    assert (change["state"], change["oldPlateNumber"], change["newPlateNumber"]) == (
        "CHANGE_REQUEST_STATE_PENDING", a, b)
    case = hebei.post(f"/v1/{change['name']}:decide", {"decision": "DECISION_APPROVE"})
    assert case["plateNumbers"][0] == b

    # ID-3: the enterprise information, to the carrier and to the province reviewing its case only.
    mine = carrier.get("/v1/enterprise")
    assert (mine["party"], mine["displayName"]) == ("parties/L2001", "王五")
    assert hebei.get("/v1/enterprise", params={"party": "parties/L2001"})["displayName"] == "王五"
    f.refused(api_as("beijing-review").http.get("/v1/enterprise", params={"party": "parties/L2001"}), 403,
              "OTHER_PROVINCE")


def test_the_carrier_sees_and_keeps_its_imported_enterprise_information_audited_ID_3(api_as) -> None:
    carrier = api_as("carrier")
    e = carrier.get("/v1/enterprise")
    assert (e["displayName"], e["creditCode"], e["address"]) == (
        "河北冀运大件物流有限公司", "91130100MA0DPQ7R8A", "河北省石家庄市长安区中山东路100号")
    changed = carrier.patch("/v1/enterprise", {"contacts": [{"name": "赵建国", "phone": "13800138001"}],
                                               "etag": e["etag"]}, params={"updateMask": "contacts"})
    assert changed["contacts"] == [{"name": "赵建国", "phone": "13800138001"}]
    (c,) = carrier.get("/v1/enterprise/changes")["changes"][:1]
    assert c["actor"] == changed["updatedBy"] and c["fields"][0]["field"] == "contacts"
    assert j.ORIGIN == "130000"
