"""The legacy import as a repeatable sync (PC-3): one command reads the PC system's
export (JSON, CSV, XLSX) and brings identity, application and approval up to it
through one internal gRPC call each, on the started system (real PostgreSQL, real
gRPC servers, the gateway). Idempotent by the legacy ids; a newer export updates
what changed and flags what disappeared; a bad row is reported with its line and
the others still go in; an imported issued (已发证) permit is abolished and
extended through the public API and counts in the duplicate check (AP-6, PQ-9,
PQ-11)."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from permit_identity.identifiers import USCC_ALPHABET, uscc_check_char
from permitkit import dates
from permitkit.identifiers import gb11643_check_char
from tests.e2e import forms as f
from tests.e2e import journey as j
from tests.e2e.conftest import Api
from tests.e2e.test_pc_side import TRACTOR_FIGURES, TRAILER_FIGURES

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ROOT = Path(__file__).resolve().parents[2]
TODAY = dates.today()
ROUTE = [{"province": j.ORIGIN, "roads": ["G4", "G1811"]}, {"province": j.VIA, "roads": ["G2", "G3"]},
         {"province": j.DESTINATION, "roads": ["G2"]}]
CARGO = {"empty_load": False, "name": "风电机舱", "weight_kg": 20000, "length_mm": 9000, "width_mm": 3000,
         "height_mm": 2500}


def uscc() -> str:
    first = "91130100" + "".join(random.choice(USCC_ALPHABET) for _ in range(9))
    return first + uscc_check_char(first)


def id_number() -> str:
    first = f"130102198{random.randrange(10)}{random.randrange(1, 13):02d}{random.randrange(1, 28):02d}" \
            f"{random.randrange(1000):03d}"
    return first + gb11643_check_char(first)


def plate(trailer: bool = False) -> str:
    while True:
        p = f"冀G{random.randrange(1000, 9999)}挂" if trailer else f"冀G{random.randrange(10000, 99999)}"
        if p not in f._PLATES_GIVEN:
            f._PLATES_GIVEN.add(p)
            return p


def vehicle(number: str, figures: dict, make_model: str = "解放牌CA4250P66K24T1A1E5") -> dict:
    return {"plate": number, "type": figures["vehicleType"], "make_model": figures.get("makeModel", make_model),
            "curb_mass_kg": int(figures["curbMassKg"]), "axles": figures["axleCount"],
            "wheelbase_mm": int(figures["wheelbaseMm"]), "tyres": figures["tyreCount"],
            "length_mm": int(figures["lengthMm"]), "width_mm": int(figures["widthMm"]),
            "height_mm": int(figures["heightMm"])}


def issued(number: str, permit_number: str, plates: list[str], start_in: int, days: int) -> dict:
    start, end = TODAY + dt.timedelta(days=start_in), TODAY + dt.timedelta(days=start_in + days - 1)
    return {"number": number, "state": "已发证", "permit_number": permit_number, "permit_class": 1,
            "permit_start_date": start.isoformat(), "permit_end_date": end.isoformat(), "vehicles": plates,
            "cargo": CARGO, "passage": {"origin_province": j.ORIGIN, "destination_province": j.DESTINATION,
                                        "route": ROUTE, "start_date": start.isoformat(),
                                        "end_date": end.isoformat()}}


class Carrier:
    """A PC-system enterprise of its own (fresh legacy ids, plates, numbers) per test."""

    def __init__(self) -> None:
        self.lid = f"T{uuid.uuid4().hex[:10].upper()}"
        self.uscc = uscc()
        self.tractor, self.trailer, self.truck = plate(), plate(trailer=True), plate()
        self.agent_a, self.agent_b, self.representative = id_number(), id_number(), id_number()
        self.apps = [f"LG{self.lid}A{i}" for i in (1, 2)]

    def export(self) -> dict:
        return {"format": "permit-legacy-export/1", "accounts": [{
            "legacy_id": self.lid, "kind": "ENTERPRISE", "name": f"测试大件运输有限公司{self.lid}",
            "uscc": self.uscc, "province": j.ORIGIN, "address": "河北省石家庄市长安区测试路1号",
            "contact_phone": "0311-86000000",
            "legal_representative": {"name": "赵测试", "id_number": self.representative},
            "vehicles": [vehicle(self.tractor, TRACTOR_FIGURES), vehicle(self.trailer, TRAILER_FIGURES)],
            "agents": [{"name": "钱导入", "id_number": self.agent_a, "phone": "13800000001"},
                       {"name": "孙导入", "id_number": self.agent_b, "phone": "13800000002"}],
            "applications": [issued(self.apps[0], f"冀{self.lid}-1", [self.tractor, self.trailer], 300, 6),
                             issued(self.apps[1], f"冀{self.lid}-2", [self.tractor, self.trailer], 303, 6)],
        }]}

    def records(self) -> set[str]:
        base = f"accounts/{self.lid}"
        return {base, f"{base}/vehicles/{self.tractor}", f"{base}/vehicles/{self.trailer}",
                f"{base}/agents/{self.agent_a}", f"{base}/agents/{self.agent_b}",
                *(f"{base}/applications/{n}" for n in self.apps), *(f"{base}/permits/{n}" for n in self.apps)}

    def api(self, stack) -> Api:
        session = stack.sign_in({"channel": "APP", "user_type": "LEGAL", "uid": f"sync-{self.lid}",
                                 "name": "赵测试", "uscc": self.uscc})
        return Api(stack.gateway_url, session["accessToken"])


def sync(stack, *files: Path, partial: bool = False) -> dict:
    """`python -m permit_sync FILE... --json` against the started services."""
    proc = subprocess.run([sys.executable, "-m", "permit_sync", *map(str, files), "--json",
                           *(["--partial"] if partial else [])], cwd=ROOT,
                          env=stack.process_env(), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def write_json(tmp_path: Path, doc: dict, name: str = "export.json") -> Path:
    p = tmp_path / name
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p


def by_result(report: dict, *, only: set[str] | None = None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in report["records"]:
        if only is None or r.get("record", "") in only:
            out.setdefault(r["result"], set()).add(r.get("record", ""))
    return out


def mine(report: dict, lid: str) -> list[dict]:
    return [r for r in report["records"] if r.get("record", "").startswith(f"accounts/{lid}")]


def kept_vehicles(api: Api) -> dict[str, dict]:
    return {v["plateNumber"]: v for v in api.get("/v1/fleet/vehicles", params={"pageSize": 100})["vehicles"]}


def kept_agents(api: Api) -> dict[str, dict]:
    return {a["name"]: a for a in api.get("/v1/fleet/agents", params={"pageSize": 100})["agents"]}


def test_the_sync_run_twice_on_the_same_export_changes_nothing_the_second_time_PC_3_ID_3(stack, tmp_path) -> None:
    c = Carrier()
    path = write_json(tmp_path, c.export())
    first = sync(stack, path)
    assert by_result(first, only=c.records()) == {"IMPORTED": c.records()}
    assert {r["source"] for r in mine(first, c.lid) if r["record"].endswith(c.tractor)} == \
        {"export.json accounts[0].vehicles[0]"}

    carrier = c.api(stack)
    me = carrier.get("/v1/enterprise")
    assert (me["displayName"], me["creditCode"]) == (f"测试大件运输有限公司{c.lid}", c.uscc)
    assert set(kept_vehicles(carrier)) == {c.tractor, c.trailer}
    apps = {a["number"]: a for a in carrier.get("/v1/applications", params={"pageSize": 50})["applications"]}
    assert {apps[n]["state"] for n in c.apps} == {"STATE_ISSUED"}

    # The carrier retires one imported vehicle through the API (PC-1); the same export
    # again changes nothing, so not that change either.
    carrier.post(f"/v1/fleet/{kept_vehicles(carrier)[c.tractor]['fleetVehicle']}:retire")
    before = {n: carrier.get(f"/v1/{apps[n]['name']}") for n in c.apps}
    second = sync(stack, path)
    assert by_result(second, only=c.records()) == {"UNCHANGED": c.records()}
    assert not [r for r in mine(second, c.lid) if r["result"] != "UNCHANGED"]
    assert set(kept_vehicles(carrier)) == {c.trailer}
    assert {n: carrier.get(f"/v1/{apps[n]['name']}")["etag"] for n in c.apps} == \
        {n: a["etag"] for n, a in before.items()}


def test_a_newer_export_applies_exactly_the_differences_and_flags_what_disappeared_PC_3(stack, tmp_path) -> None:
    c = Carrier()
    sync(stack, write_json(tmp_path, c.export()))
    newer = copy.deepcopy(c.export())
    acc = newer["accounts"][0]
    acc["vehicles"][1]["curb_mass_kg"] = 9600                                     # changed
    acc["vehicles"].append(vehicle(c.truck, TRACTOR_FIGURES, "东风牌DFH4250"))     # new
    removed_agent = acc["agents"].pop()                                           # gone
    acc["applications"][1]["permit_end_date"] = (TODAY + dt.timedelta(days=310)).isoformat()  # extended
    acc["address"] = "河北省石家庄市桥西区新址2号"                                    # enterprise info changed

    report = sync(stack, write_json(tmp_path, newer, "newer.json"))
    base = f"accounts/{c.lid}"
    got = by_result(report, only=c.records() | {f"{base}/vehicles/{c.truck}"})
    assert got == {
        "UPDATED": {base, f"{base}/vehicles/{c.trailer}", f"{base}/applications/{c.apps[1]}",
                    f"{base}/permits/{c.apps[1]}"},
        "IMPORTED": {f"{base}/vehicles/{c.truck}"},
        "FLAGGED": {f"{base}/agents/{removed_agent['id_number']}"},
        "UNCHANGED": {f"{base}/vehicles/{c.tractor}", f"{base}/agents/{c.agent_a}",
                      f"{base}/applications/{c.apps[0]}", f"{base}/permits/{c.apps[0]}"},
    }
    flagged = next(r for r in report["records"] if r["result"] == "FLAGGED" and r["record"].startswith(base))
    assert flagged["reason"] == "LEGACY_RECORD_MISSING" and "未删除" in flagged["message"]

    carrier = c.api(stack)
    vehicles = kept_vehicles(carrier)
    assert vehicles[c.trailer]["curbMassKg"] == "9600" and c.truck in vehicles
    assert "孙导入" in kept_agents(carrier)  # flagged, never deleted
    assert carrier.get("/v1/enterprise")["address"] == "河北省石家庄市桥西区新址2号"
    app = next(a for a in carrier.get("/v1/applications", params={"pageSize": 50})["applications"]
               if a["number"] == c.apps[1])
    name = app["name"]
    permit = carrier.get("/v1/" + carrier.get(f"/v1/{name}")["permit"])
    assert dt.date(**permit["endDate"]) == TODAY + dt.timedelta(days=310)

    # The same newer export again: nothing changes; the flag is reported, not set again.
    again = sync(stack, write_json(tmp_path, newer, "newer.json"))
    assert by_result(again, only=c.records() | {f"{base}/vehicles/{c.truck}"}) == {
        "UNCHANGED": c.records() - {f"{base}/agents/{removed_agent['id_number']}"} | {f"{base}/vehicles/{c.truck}"},
        "FLAGGED": {f"{base}/agents/{removed_agent['id_number']}"}}


def _csv(path: Path, rows: list[dict]) -> Path:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    return path


def flat_rows(c: Carrier, *, bad_plate: str | None = None) -> list[dict]:
    acc = c.export()["accounts"][0]
    rows: list[dict] = [{"record_type": "account", "legacy_id": c.lid, "kind": "企业", "name": acc["name"],
                         "uscc": c.uscc, "province": j.ORIGIN, "address": acc["address"],
                         "contact_phone": acc["contact_phone"], "legal_representative_name": "赵测试",
                         "legal_representative_id_number": acc["legal_representative"]["id_number"]}]
    for v in acc["vehicles"]:
        rows.append({"record_type": "vehicle", "account": c.lid, **{k: str(x) for k, x in v.items()}})
    if bad_plate:
        rows.append({"record_type": "vehicle", "account": c.lid, **{k: str(x) for k, x in acc["vehicles"][0].items()},
                     "plate": bad_plate})
    for a in acc["agents"]:
        rows.append({"record_type": "agent", "account": c.lid, **a})
    for p in acc["applications"]:
        rows.append({"record_type": "application", "account": c.lid, "number": p["number"], "state": p["state"],
                     "permit_number": p["permit_number"], "permit_class": "1",
                     "permit_start_date": p["permit_start_date"], "permit_end_date": p["permit_end_date"],
                     "vehicles": "；".join(p["vehicles"]), "origin_province": j.ORIGIN,
                     "destination_province": j.DESTINATION,
                     "route": ";".join(f"{r['province']}:{','.join(r['roads'])}" for r in ROUTE),
                     "start_date": p["passage"]["start_date"], "end_date": p["passage"]["end_date"],
                     "cargo_name": CARGO["name"], "cargo_weight_kg": "20000", "cargo_length_mm": "9000",
                     "cargo_width_mm": "3000", "cargo_height_mm": "2500", "empty_load": "否"})
    return rows


def test_a_csv_with_a_bad_row_reports_the_row_by_line_and_imports_the_others_PC_3(stack, tmp_path) -> None:
    c = Carrier()
    rows = flat_rows(c, bad_plate="冀G1")  # the vehicle row on line 5 (header on line 1)
    rows.append({"record_type": "vehicle", "account": "NOPE", "plate": plate()})                    # line 10
    rows.append({"record_type": "飞机", "account": c.lid})                                          # line 11
    report = sync(stack, _csv(tmp_path / "export.csv", rows))

    refused = {r["source"]: r for r in report["records"] if r["result"] == "REFUSED"}
    assert refused["export.csv 第 5 行"]["reason"] in ("PLATE_INVALID", "INVALID_EXPORT")
    assert "车牌" in refused["export.csv 第 5 行"]["message"]
    assert refused["export.csv 第 5 行"]["field"].endswith("plate_number")
    assert refused["export.csv 第 10 行"]["reason"] == "ACCOUNT_UNKNOWN"
    assert refused["export.csv 第 11 行"]["reason"] == "RECORD_TYPE_INVALID"
    assert len(refused) == 3
    assert by_result(report, only=c.records()) == {"IMPORTED": c.records()}

    carrier = c.api(stack)
    assert set(kept_vehicles(carrier)) == {c.tractor, c.trailer}

    # The same data as JSON afterwards is the same data: nothing changes (the
    # fingerprints are of what the records mean, not of how the file spelled them).
    again = sync(stack, write_json(tmp_path, c.export()))
    assert by_result(again, only=c.records()) == {"UNCHANGED": c.records()}


def test_an_xlsx_export_with_one_sheet_per_record_type_is_read_PC_3(stack, tmp_path) -> None:
    import openpyxl

    c = Carrier()
    rows = flat_rows(c)
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets = {"account": "账户", "vehicle": "车辆", "agent": "经办人", "application": "申请"}
    for kind, title in sheets.items():
        sheet = book.create_sheet(title)
        mine_rows = [{k: v for k, v in r.items() if k != "record_type"} for r in rows if r["record_type"] == kind]
        columns = list(dict.fromkeys(k for r in mine_rows for k in r))
        sheet.append(columns)
        for r in mine_rows:
            # Figures as numbers and dates as dates, as a spreadsheet holds them.
            sheet.append([int(v) if isinstance(v, str) and v.isdigit() and k not in ("legacy_id", "account")
                          and len(v) < 10 else dt.date.fromisoformat(v) if k.endswith("_date") else v
                          for k, v in ((k, r.get(k)) for k in columns)])
    bad = book["车辆"]
    bad.append([c.lid, "冀G", "重型半挂牵引车", "x", "abc"])  # row 4: a bad plate and a bad figure
    path = tmp_path / "export.xlsx"
    book.save(path)

    report = sync(stack, path)
    assert by_result(report, only=c.records()) == {"IMPORTED": c.records()}
    refused = [r for r in report["records"] if r["result"] == "REFUSED"]
    assert [r["source"] for r in refused] == ["export.xlsx 工作表 车辆 第 4 行"]
    carrier = c.api(stack)
    assert kept_vehicles(carrier)[c.trailer]["curbMassKg"] == "9500"
    assert by_result(sync(stack, path), only=c.records()) == {"UNCHANGED": c.records()}


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the event did not arrive"
        time.sleep(0.2)


def test_an_imported_issued_permit_is_abolished_through_the_api_and_frees_the_vehicle_AP_6_PQ_9_PC_3(
        stack, tmp_path) -> None:
    c = Carrier()
    report = sync(stack, write_json(tmp_path, c.export()))
    assert by_result(report, only=c.records()) == {"IMPORTED": c.records()}
    carrier = c.api(stack)
    apps = {a["number"]: a for a in carrier.get("/v1/applications", params={"pageSize": 50})["applications"]}
    first = carrier.get(f"/v1/{apps[c.apps[0]]['name']}")
    permit = carrier.get(f"/v1/{first['permit']}")
    assert permit["number"] == f"冀{c.lid}-1"
    assert (dt.date(**permit["startDate"]), dt.date(**permit["endDate"])) == \
        (TODAY + dt.timedelta(days=300), TODAY + dt.timedelta(days=305))
    # Its certificate, as for a permit issued here (CT-1).
    j.wait_for(lambda: any(x.get("storeTime") for x in carrier.get(f"/v1/{first['permit']}").get("certificates", [])),
               "the imported permit's certificate stored", timeout=60)
    pdf = carrier.http.get(f"/v1/{first['permit']}/certificate", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # Both imported permits hold the tractor and trailer on day 304: a new application
    # for that day is refused by the duplicate check, naming the imported ones (AP-6).
    app = f.new_draft(carrier)
    app = f.save(carrier, app, "cargo", {"cargo": f.CLASS1_CARGO})
    app = f.save(carrier, app, "vehicles", {"vehicles": [{"plateNumber": c.tractor}, {"plateNumber": c.trailer}]})
    app = f.save(carrier, app, "overall", {"overall": f.overall(app["vehicles"], f.CLASS1_CARGO, height=4000,
                                                                width=3000)})
    r = f.save(carrier, app, "passage", {"passage": f.passage(304, 1)}, expect=400)
    err = f.refused_zh(r, 400, "VEHICLE_TIME_CONFLICT")
    assert c.apps[0] in err["message"] and c.apps[1] in err["message"]

    # The other imported permit is extended through the API like any other (PQ-11).
    second = carrier.get(f"/v1/{apps[c.apps[1]]['name']}")
    extended = carrier.post(f"/v1/{second['permit']}/extensions", {
        "newEndDate": j._date(TODAY + dt.timedelta(days=309)), "provinces": [j.VIA], "reason": "设备到货延迟"})
    assert extended["number"] == f"冀{c.lid}-2"

    # The holder abolishes the first imported permit (PQ-9): the vehicles' place is free again.
    abolished = carrier.post(f"/v1/{first['permit']}:abolish", {"reason": "运输已完成"})
    assert abolished["state"] == "PERMIT_STATE_ABOLISHED"
    _wait(lambda: carrier.get(f"/v1/{first['name']}").get("permitState") == "PERMIT_STATE_ABOLISHED")
    app = f.save(carrier, app, "passage", {"passage": f.passage(304, 1)})
    agent = next(a for a in carrier.get("/v1/agents:suggest", params={"namePrefix": "钱导入"})["agents"])
    app = f.save(carrier, app, "agent", {"agent": {"agentRef": agent["agentRef"]}})
    r = f.submit_raw(carrier, app)
    assert r.status_code == 200, r.text

    # A later sync of the same export does not bring the abolished permit back.
    again = sync(stack, write_json(tmp_path, c.export()))
    assert by_result(again, only=c.records()) == {"UNCHANGED": c.records()}
    assert carrier.get(f"/v1/{first['permit']}")["state"] == "PERMIT_STATE_ABOLISHED"


def test_a_partial_export_flags_only_what_is_missing_within_its_own_accounts_PC_3(stack, tmp_path) -> None:
    a, b = Carrier(), Carrier()
    sync(stack, write_json(tmp_path, a.export(), "a.json"))
    # Only b's account, as a partial export: nothing of a's is missing from it.
    report = sync(stack, write_json(tmp_path, b.export(), "b.json"), partial=True)
    assert by_result(report, only=b.records()) == {"IMPORTED": b.records()}
    assert not [r for r in mine(report, a.lid)]
    # The same file as a full export: every record of a's is flagged, none deleted.
    full = sync(stack, write_json(tmp_path, b.export(), "b.json"))
    assert by_result(full, only=a.records()) == {"FLAGGED": a.records()}
    assert set(kept_vehicles(a.api(stack))) == {a.tractor, a.trailer}
    # a back in a later export: what was flagged is back, reported as updated.
    both = b.export()
    both["accounts"] += a.export()["accounts"]
    back = sync(stack, write_json(tmp_path, both, "both.json"))
    assert by_result(back, only=a.records()) == {"UPDATED": a.records()}
    assert {r["reason"] for r in mine(back, a.lid)} == {"LEGACY_RECORD_RETURNED"}


def test_only_a_service_may_sync_and_a_file_that_cannot_be_read_changes_nothing_PC_3(stack, tmp_path) -> None:
    """The three sync RPCs refuse a carrier's principal; the command refuses an unreadable
    file as a whole, before any service is called."""
    import grpc

    from permit.application.v1 import application_internal_pb2 as app_pb
    from permit.application.v1 import application_internal_pb2_grpc as app_grpc
    from permit.approval.v1 import approval_internal_pb2 as apr_pb
    from permit.approval.v1 import approval_internal_pb2_grpc as apr_grpc
    from permit.identity.v1 import identity_internal_pb2 as id_pb
    from permit.identity.v1 import identity_internal_pb2_grpc as id_grpc
    from permitkit.client import call_metadata
    from permitkit.context import Principal

    c = Carrier()
    doc = json.dumps(c.export(), ensure_ascii=False).encode()
    carrier = Principal(subject="users/someone", roles=frozenset({"applicant"}), party=f"parties/{c.lid}")
    calls = [
        (id_grpc.IdentityInternalServiceStub, "identity", "SyncLegacyAccounts", id_pb.SyncLegacyAccountsRequest),
        (app_grpc.ApplicationInternalServiceStub, "application", "SyncLegacyRecords",
         app_pb.SyncLegacyRecordsRequest),
        (apr_grpc.ApprovalInternalServiceStub, "approval", "ImportLegacyPermits", apr_pb.ImportLegacyPermitsRequest),
    ]
    for stub_cls, service, method, request in calls:
        with grpc.insecure_channel(f"127.0.0.1:{stack.ports[service]}") as channel:
            with pytest.raises(grpc.RpcError) as e:
                getattr(stub_cls(channel), method)(request(export_json=doc), timeout=30,
                                                   metadata=call_metadata(carrier))
            assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED, (method, e.value.details())

    bad = tmp_path / "export.json"
    bad.write_text("{\"accounts\": ", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "permit_sync", str(bad)], cwd=ROOT, env=stack.process_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "EXPORT_UNREADABLE" in proc.stderr
    # An empty partial export reaches every service and changes nothing at all.
    empty = sync(stack, write_json(tmp_path, {"accounts": []}), partial=True)
    assert empty["totals"] == dict.fromkeys(("IMPORTED", "UPDATED", "UNCHANGED", "FLAGGED", "REFUSED"), 0)
