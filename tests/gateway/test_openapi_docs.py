"""The OpenAPI document as a Chinese client developer reads it: every operation and
field described in Chinese, examples that validate, paging on lists, the mobile and
officer APIs told apart, and a document that is valid OpenAPI 3.1.

The texts come from the catalogue modules (docs_zh, fields_zh, examples_zh); these
tests fail when a new operation or field has no Chinese text, when the catalogue
names an operation, field, enum value or reason that no longer exists, and when an
operation's reasons drift from the ``Errors:`` of its proto comment.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from google.protobuf import descriptor, json_format
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from permit_gateway import docs_zh, examples_zh, fields_zh
from permit_gateway.app import create_app
from permit_gateway.config import Settings
from permit_gateway.openapi import audience_document, build_openapi
from permit_gateway.transcoding import Rule, collect_rules

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")
TODAY = dt.date(2026, 12, 1)
FD = descriptor.FieldDescriptor

# Collections returned without paging, each with the reason. Nothing else may be
# unpaged: a new List/Search/Suggest/Recommend operation must page, and an entry
# here must go once its RPC pages.
# Every list pages, except these (with why).
UNPAGED: dict[str, str] = {
    "ListCertificateKeys": "a handful of keys: the current one and the retired ones still in circulation (CT-2)",
}


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return collect_rules()


@pytest.fixture(scope="module")
def doc(rules) -> dict[str, Any]:
    return build_openapi(rules, title="跨省大件运输并联许可 掌上办 API", version="v1", today=TODAY)


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def rule_of(rules: list[Rule], op_id: str) -> Rule:
    """operationId -> its rule (GetCase_2 is the second binding of GetCase)."""
    name, _, n = op_id.partition("_")
    return [r for r in rules if not r.internal and r.method.name == name][int(n or 1) - 1]


def chinese(text: object) -> bool:
    return isinstance(text, str) and bool(CJK.search(text))


def documented_messages(rules: list[Rule]) -> dict[str, descriptor.Descriptor]:
    """Every message the public operations read or write, nested ones included."""
    found: dict[str, descriptor.Descriptor] = {}

    def add(md: descriptor.Descriptor) -> None:
        if md.full_name in found or md.full_name.startswith("google.protobuf."):
            return
        found[md.full_name] = md
        for f in md.fields:
            if f.message_type is not None and not f.message_type.GetOptions().map_entry:
                add(f.message_type)

    for r in rules:
        if not r.internal:
            add(r.method.input_type)
            add(r.method.output_type)
    return found


# ---- operations ------------------------------------------------------------------


def test_every_operation_has_a_chinese_summary_description_tag_and_audience(doc):
    tag_names = {t["name"] for t in doc["tags"]}
    grouped = [t for g in doc["x-tagGroups"] for t in g["tags"]]
    assert sorted(grouped) == sorted(tag_names), "every tag belongs to exactly one group"
    assert all(chinese(t["description"]) for t in doc["tags"])
    for path, method, op in operations(doc):
        where = f"{method.upper()} {path} ({op['operationId']})"
        assert chinese(op.get("summary")), f"{where}: summary without Chinese"
        assert chinese(op.get("description")), f"{where}: description without Chinese"
        assert op["tags"] and set(op["tags"]) <= tag_names, where
        assert op["x-audience"] and set(op["x-audience"]) <= {docs_zh.APPLICANT, docs_zh.OFFICER, docs_zh.PUBLIC}
        assert "**调用方**" in op["description"], where
        # Only operations callable without a token say so.
        assert (docs_zh.PUBLIC in op["x-audience"]) == ("security" not in op), where


def test_the_catalogue_names_exactly_the_operations_of_the_document(doc):
    ids = {op["operationId"] for _, _, op in operations(doc)}
    assert set(docs_zh.OPERATIONS) - ids == set(), "stale catalogue entries"
    assert ids - set(docs_zh.OPERATIONS) == set(), "operations without Chinese documentation"


def test_operation_descriptions_cite_requirements_of_the_catalogue_and_its_map(doc):
    ids_in_doc = set(re.findall(r"^- ([A-Z]{2}-\d+[a-c]?) ", (ROOT / "docs/requirements.md").read_text(), re.M))
    ids_in_doc |= set(re.findall(r"^  - (AP-7[a-c]) ", (ROOT / "docs/requirements.md").read_text(), re.M))
    assert set(docs_zh.REQUIREMENTS) == ids_in_doc
    assert all(chinese(t) for t in docs_zh.REQUIREMENTS.values())
    for op_id, d in docs_zh.OPERATIONS.items():
        assert set(d.requirements) <= ids_in_doc, op_id
    public = {op["operationId"] for _, _, op in operations(doc)}
    for line in (ROOT / "docs/requirements-map.md").read_text().splitlines():
        m = re.match(r"\| ([A-Z]{2}-\d+[a-c]?) \| (.+) \|$", line)
        if not m:
            continue
        for rpc in m.group(2).split(", "):
            method = rpc.split(".")[1]
            if method in public:
                assert m.group(1) in docs_zh.OPERATIONS[method].requirements, f"{method} serves {m.group(1)}"


def _proto_errors() -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, str]]:
    """From the service protos: rpc -> reasons of its ``Errors:``, service name -> reasons
    every RPC of it may answer, and reason -> gRPC status name."""
    per_rpc: dict[str, set[str]] = {}
    service_wide: dict[str, set[str]] = {}
    codes: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for path in sorted((ROOT / "protos").glob("permit/*/v1/*_service.proto")):
        text = path.read_text()
        for m in re.finditer(r"((?:^[ \t]*//.*\n)+)\s*(rpc|service) (\w+)", text, re.M):
            comment = " ".join(x.strip().lstrip("/").strip() for x in m.group(1).splitlines())
            errors = comment.split("Errors:", 1)[1] if "Errors:" in comment else comment
            for code, reasons in re.findall(r"([A-Z_]{3,}) \(([^)]*)\)", errors):
                for reason in re.findall(r"[A-Z][A-Z0-9_]+\*?", reasons):
                    codes.setdefault(reason, code)
            reasons = {r for group in re.findall(r"\(([^)]*)\)", errors)
                       for r in re.findall(r"[A-Z][A-Z0-9_]{2,}\*?", group)}
            if m.group(2) == "service":
                service_wide[m.group(3)] = reasons
                continue
            alias = re.match(r"\s*as (\w+)\.", errors)
            if alias:
                aliases[m.group(3)] = alias.group(1)
            per_rpc[m.group(3)] = reasons
    for rpc, same_as in aliases.items():
        per_rpc[rpc] = per_rpc[same_as]
    return per_rpc, service_wide, codes


def test_operation_reasons_follow_the_errors_of_the_proto_comments(rules, doc):
    per_rpc, service_wide, codes = _proto_errors()
    for _, _, op in operations(doc):
        if op["operationId"] == "Healthz":
            continue
        rule = rule_of(rules, op["operationId"])
        listed = set(docs_zh.OPERATIONS[op["operationId"]].errors)
        declared = per_rpc[rule.method.name]
        for reason in declared:
            if reason.endswith("*"):
                assert any(x.startswith(reason[:-1]) for x in listed), (op["operationId"], reason)
            else:
                assert reason in listed, f"{op['operationId']}: {reason} of the proto comment not documented"
        allowed = declared | service_wide.get(rule.method.containing_service.name, set())
        assert listed <= allowed, f"{op['operationId']}: {listed - allowed} not in its proto comment"
        for reason in listed:
            assert f"`{reason}`" in op["description"]
    used = {r for d in docs_zh.OPERATIONS.values() for r in d.errors}
    assert set(docs_zh.REASONS) == used, "reasons without an operation, or operations' reasons without text"
    for reason, (code, text) in docs_zh.REASONS.items():
        assert chinese(text), reason
        if reason in codes:
            assert codes[reason] == code, f"{reason} is {codes[reason]} in the protos"


def test_the_mobile_and_the_officer_api_are_told_apart(doc):
    mobile = audience_document(doc, docs_zh.APPLICANT)
    officer = audience_document(doc, docs_zh.OFFICER)
    mobile_ops = {op["operationId"] for _, _, op in operations(mobile)}
    officer_ops = {op["operationId"] for _, _, op in operations(officer)}
    assert {"CreateApplication", "UpdateApplication", "SubmitApplication", "RequestExtension"} <= mobile_ops
    assert not {"AcceptCase", "DecideReview", "IssuePermit", "ReviewLicence"} & mobile_ops
    assert {"AcceptCase", "DecideReview", "IssuePermit", "ListWorkQueue", "GetCase"} <= officer_ops
    assert not {"CreateApplication", "UpdateApplication", "RequestExtension"} & officer_ops
    assert {"SignIn", "VerifyPermit", "ListProvinces"} <= mobile_ops & officer_ops
    groups = {g["name"] for g in mobile["x-tagGroups"]}
    assert docs_zh.OFFICER_API not in groups and docs_zh.MOBILE_API in groups
    assert all(docs_zh.MOBILE_API not in g["name"] for g in officer["x-tagGroups"])
    for part in (mobile, officer):
        assert all(op["tags"] for _, _, op in operations(part))
        validate_openapi(part)


# ---- fields ------------------------------------------------------------------------


def _properties(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, prop in schema.get("properties", {}).items():
        yield f"{where}.{name}", prop


def test_every_property_and_parameter_has_a_chinese_description(doc):
    missing = []
    for name, schema in doc["components"]["schemas"].items():
        if name == "Error":
            continue  # the error body is documented with the error mapping
        missing += [w for w, p in _properties(schema, name) if not chinese(p.get("description"))]
    for path, method, op in operations(doc):
        where = f"{method.upper()} {path}"
        for p in op.get("parameters", []):
            if not chinese(p.get("description")):
                missing.append(f"{where} parameter {p['name']}")
        for media in op.get("requestBody", {}).get("content", {}).values():
            missing += [w for w, p in _properties(media["schema"], f"{where} body")
                        if not chinese(p.get("description"))]
    assert missing == []


def test_the_messages_a_carrier_fills_or_reads_are_fully_catalogued(rules):
    """The six steps, progress, permit, documents, and every request of the API."""
    msgs = documented_messages(rules)
    required = {
        "permit.application.v1.Application", "permit.application.v1.Cargo", "permit.application.v1.Vehicle",
        "permit.application.v1.Overall", "permit.application.v1.Passage", "permit.type.v1.RouteRow",
        "permit.application.v1.Agent", "permit.application.v1.MaterialRef", "permit.application.v1.RequiredMaterial",
        "permit.application.v1.ProvinceProgress", "permit.documents.v1.Document", "permit.approval.v1.Case",
        "permit.approval.v1.Review", "permit.approval.v1.Permit",
    } | {r.method.input_type.full_name for r in rules}
    for name in sorted(required):
        for f in msgs[name].fields:
            doc = fields_zh.FIELDS.get(name, {}).get(f.name)
            text = doc if isinstance(doc, str) else getattr(doc, "text", None)
            assert chinese(text), f"{name}.{f.name} has no Chinese description"
    assert all(chinese(fields_zh.MESSAGES.get(name)) for name in required if not name.endswith("Request"))


def test_the_catalogue_names_only_messages_fields_and_enum_values_that_exist(rules):
    msgs = documented_messages(rules)
    for name, entries in fields_zh.FIELDS.items():
        assert name in msgs, f"stale: {name} is not in the document"
        assert set(entries) <= set(msgs[name].fields_by_name), f"stale fields of {name}"
    assert set(fields_zh.MESSAGES) <= set(msgs), "stale message descriptions"
    enums = {f.enum_type.full_name: f.enum_type for md in msgs.values() for f in md.fields if f.enum_type}
    assert set(fields_zh.ENUMS) == set(enums), "every enum of the document, and only those, has labels"
    for name, labels in fields_zh.ENUMS.items():
        assert list(labels) == [v.name for v in enums[name].values], name
        assert all(chinese(t) for t in labels.values()), name


def test_quantities_say_their_unit_and_the_text_forms_have_three_decimals_AP_3(rules):
    for name, md in documented_messages(rules).items():
        for f in md.fields:
            doc = fields_zh.FIELDS.get(name, {}).get(f.name)
            text = doc if isinstance(doc, str) else getattr(doc, "text", "")
            where = f"{name}.{f.name}"
            if f.name.endswith("_kg"):
                assert "千克" in text, where
            if f.name.endswith("_mm"):
                assert "毫米" in text, where
            if f.name.endswith(("_tonnes", "_metres")):
                assert ("吨" if f.name.endswith("_tonnes") else "米") in text and "3 位小数" in text, where
                assert doc.examples and all(re.fullmatch(r"\d+\.\d{3}", x) for x in doc.examples), where


# ---- examples ------------------------------------------------------------------------


def _strict(schema: Any) -> Any:
    """A copy in which objects with declared properties take no others, so an example
    with a misspelt field fails instead of passing as an unknown property."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(x) for x in schema]
    return schema


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    # "#/components/..." references resolve inside the schema's own root.
    root = _strict({**schema, "components": doc["components"]})
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _schema_examples(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) of every ``examples`` keyword inside a schema."""
    if isinstance(schema, dict):
        for value in schema.get("examples", []) if isinstance(schema.get("examples"), list) else []:
            yield where, schema, value
        for key, sub in schema.items():
            if key != "examples":
                yield from _schema_examples(sub, f"{where}/{key}")
    elif isinstance(schema, list):
        for i, sub in enumerate(schema):
            yield from _schema_examples(sub, f"{where}/{i}")


def all_examples(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    yield from _schema_examples(doc["components"]["schemas"], "#/components/schemas")
    for path, method, op in operations(doc):
        where = f"{method.upper()} {path}"
        for p in op.get("parameters", []):
            if "example" in p:
                yield f"{where} ?{p['name']}", p["schema"], p["example"]
            for name, ex in p.get("examples", {}).items():
                yield f"{where} ?{p['name']} {name}", p["schema"], ex["value"]
            yield from _schema_examples(p["schema"], f"{where} ?{p['name']}")
        bodies = [("body", m) for m in op.get("requestBody", {}).get("content", {}).values()]
        bodies += [(f"response {code}", m) for code, resp in op["responses"].items()
                   for m in resp.get("content", {}).values()]
        for what, media in bodies:
            for name, ex in media.get("examples", {}).items():
                yield f"{where} {what} {name}", media["schema"], ex["value"]
            yield from _schema_examples(media["schema"], f"{where} {what}")


def test_every_example_validates_against_its_schema(doc):
    seen = 0
    for where, schema, value in all_examples(doc):
        errors = [e.message for e in _validator(doc, schema).iter_errors(value)]
        assert errors == [], f"{where}: {errors}"
        seen += 1
    assert seen > 300


def test_request_and_response_examples_are_what_the_gateway_parses_and_answers(rules, doc):
    """Each body example, put where the gateway puts it (path fields aside, ``body: field``
    under its field), parses into the RPC's request message; each 200 example into its
    response message."""
    for _, _, op in operations(doc):
        if op["operationId"] == "Healthz":
            continue
        rule = rule_of(rules, op["operationId"])
        for media_type, media in op.get("requestBody", {}).get("content", {}).items():
            for ex in media.get("examples", {}).values():
                value = dict(ex["value"])
                if media_type == "multipart/form-data":
                    value.pop("file")
                    header = next(f for f in rule.method.input_type.fields if f.type == FD.TYPE_MESSAGE)
                    value = {header.name: value}
                elif rule.body != "*":
                    value = {rule.body: value}
                json_format.ParseDict(value, rule.request_class()())
        for media in op["responses"]["200"].get("content", {}).values():
            for name, ex in media.get("examples", {}).items():
                msg = json_format.ParseDict(ex["value"], rule.response_class()())
                assert json_format.MessageToDict(msg) == ex["value"], f"{op['operationId']} {name}: not canonical"


def test_the_main_journey_has_examples(doc):
    ops = {op["operationId"]: op for _, _, op in operations(doc)}

    def body_examples(op_id: str) -> dict[str, Any]:
        (media,) = ops[op_id]["requestBody"]["content"].values()
        return media["examples"]

    for op_id in ("CreateApplication", "SubmitApplication", "ParseRouteText", "UploadDocument", "AcceptCase",
                  "DecideReview", "IssuePermit", "RequestExtension", "RequestVehicleChange", "WithdrawApplication",
                  "AbolishPermit", "SignIn", "VerifyPermit"):
        assert body_examples(op_id), op_id
    assert "：" in body_examples("ParseRouteText")["text"]["value"]["text"]
    assert re.fullmatch(r"(\S+：[^；\n]+(-[^；\n]+)*；\n?)+", body_examples("ParseRouteText")["text"]["value"]["text"])
    for op_id in ("GetApplication", "ListApplications", "GetCase", "GetPermit"):
        assert ops[op_id]["responses"]["200"]["content"]["application/json"]["examples"], op_id
    listed = {p["name"]: p for p in ops["ListApplications"]["parameters"]}
    assert "example" in listed["pageSize"] and listed["state"]["examples"]


def test_each_step_example_is_sent_with_its_own_update_mask_AP_2(doc):
    patch = doc["paths"]["/v1/applications/{application_id}"]["patch"]
    bodies = patch["requestBody"]["content"]["application/json"]["examples"]
    (mask,) = [p for p in patch["parameters"] if p["name"] == "updateMask"]
    assert list(mask["examples"]) == list(bodies), "named alike and in the same order"
    steps = set()
    for name, body in bodies.items():
        paths = mask["examples"][name]["value"].split(",")
        assert set(paths) <= set(body["value"]), name
        assert "etag" in body["value"], name
        steps |= set(paths)
    assert steps == {"cargo", "vehicles", "overall", "passage", "agent", "materials"}
    assert "example" not in mask and "example" not in mask["schema"]


def _dates(value: Any) -> Iterator[dt.date]:
    if isinstance(value, dict):
        if set(value) == {"year", "month", "day"}:
            yield dt.date(value["year"], value["month"], value["day"])
        for v in value.values():
            yield from _dates(v)
    elif isinstance(value, list):
        for v in value:
            yield from _dates(v)


def test_example_travel_dates_lie_far_beyond_other_tests_and_follow_the_build_day_AP_6(rules):
    """Travel dates of the examples start EXAMPLE_START_IN_DAYS after the build day, so
    examples sent to a shared stack never overlap another test's travel period."""
    for today in (TODAY, TODAY + dt.timedelta(days=400)):
        examples = examples_zh.request_examples(today)
        travel = [d for op in ("UpdateApplication", "CheckVehicleSchedule", "RequestExtension")
                  for ex in examples[op].values() for d in _dates(ex.value)]
        assert travel and min(travel) >= today + dt.timedelta(days=1500)
    a = build_openapi(rules, title="t", version="v1", today=TODAY)
    b = build_openapi(rules, title="t", version="v1", today=TODAY + dt.timedelta(days=1))
    passage = "/v1/applications/{application_id}"

    def start(d: dict[str, Any]) -> dict[str, int]:
        ex = d["paths"][passage]["patch"]["requestBody"]["content"]["application/json"]["examples"]["passage"]
        return ex["value"]["passage"]["startDate"]

    assert dt.date(**start(b)) - dt.date(**start(a)) == dt.timedelta(days=1)


def test_example_application_numbers_are_dated_before_any_stack_that_receives_them(doc):
    """Numbers are DJ13 + creation date + serial: one dated before today is never created."""
    text = str([v for _, _, v in all_examples(doc)])
    numbers = set(re.findall(r"DJ13(\d{8})\d{6}", text))
    assert numbers
    assert all(dt.datetime.strptime(n, "%Y%m%d").date() < dt.date.today() for n in numbers)


# ---- paging and validity -------------------------------------------------------------------


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_list_pages_with_page_size_page_token_and_next_page_token(doc):
    unpaged = {}
    for _, _, op in operations(doc):
        if not re.match(r"(List|Search|Suggest|Recommend)", op["operationId"]):
            continue
        out = _resolve(doc, op["responses"]["200"]["content"]["application/json"]["schema"])
        if not any(p.get("type") == "array" for p in out["properties"].values()):
            continue
        query = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        lacks = [x for x in ("pageSize", "pageToken") if x not in query]
        lacks += [] if "nextPageToken" in out["properties"] else ["nextPageToken"]
        if lacks:
            unpaged[op["operationId"]] = lacks
    assert set(unpaged) == set(UNPAGED), unpaged


def test_the_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"] == "3.1.0"
    validate_openapi(copy.deepcopy(doc))


def test_the_gateway_serves_the_documented_document():
    with TestClient(create_app(Settings.from_env({}))) as client:
        served = client.get("/openapi.json").json()
    ops = {op["operationId"]: op for _, _, op in operations(served)}
    assert ops["CreateApplication"]["summary"] == docs_zh.OPERATIONS["CreateApplication"].summary
    assert served["x-tagGroups"] and chinese(served["info"]["description"])


def test_docs_page_the_readme_advertises_lists_every_operation_in_chinese(doc):
    """The README sends a newcomer to ``$G/docs``: it answers a page, without any file
    from the internet, naming each operation of the document and linking the OpenAPI."""
    with TestClient(create_app(Settings.from_env({}))) as client:
        r = client.get("/docs")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "/openapi.json" in page and "/openapi/mobile.json" in page and "/openapi/officer.json" in page
    for path, method, op in operations(doc):
        assert f"{method.upper()} {path}" in page, (method, path)
        assert op["summary"] in page
    assert "http://" not in page and "https://" not in page  # works offline
