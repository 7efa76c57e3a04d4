"""Gateway: HTTP -> gRPC mapping, token checks and error mapping, against fake gRPC peers."""

from __future__ import annotations

import datetime as dt
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from permit.application.v1 import application_pb2
from permit.application.v1 import application_service_pb2 as app_pb
from permit.application.v1 import application_service_pb2_grpc as app_grpc
from permit.documents.v1 import documents_pb2
from permit.documents.v1 import documents_service_pb2_grpc as doc_grpc
from permit.identity.v1 import identity_internal_pb2_grpc as id_igrpc
from permit.identity.v1 import identity_pb2
from permit.identity.v1 import identity_service_pb2 as id_pb
from permit.identity.v1 import identity_service_pb2_grpc as id_grpc
from permit_gateway.app import create_app
from permit_gateway.config import Settings
from permitkit import context as ctx
from permitkit.errors import FieldViolation, InvalidArgument, NotFound

KEY = Ed25519PrivateKey.generate()
KID = "k-test"
PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def token(**claims) -> str:
    now = dt.datetime.now(dt.UTC)
    body = {"iss": "permit-identity", "aud": "permit", "sub": "users/1", "party": "parties/L1001",
            "roles": ["applicant"], "onb": "ACTIVE", "iat": now, "exp": now + dt.timedelta(minutes=5),
            "jti": uuid.uuid4().hex, **claims}
    return jwt.encode(body, KEY, algorithm="EdDSA", headers={"kid": claims.pop("kid", KID)})


class FakeIdentity(id_grpc.IdentityServiceServicer):
    def ListPublicKeys(self, request, context):
        return id_pb.ListPublicKeysResponse(keys=[identity_pb2.PublicKey(key_id=KID, algorithm="EdDSA",
                                                                         public_key_pem=PEM)])

    def RefreshSession(self, request, context):
        # Names the caller the gateway forwarded, so a test sees whether a token was used.
        caller = dict(context.invocation_metadata()).get(ctx.SUBJECT, "anonymous")
        return identity_pb2.Session(name=f"sessions/{caller}")

    def GetMe(self, request, context):
        p = ctx.current_principal()
        return identity_pb2.Me(user=p.subject, party=p.party or "", roles=sorted(p.roles), province=p.province or "")


class FakeApplications(app_grpc.ApplicationServiceServicer):
    def __init__(self) -> None:
        self.seen: list[object] = []

    def GetApplication(self, request, context):
        self.seen.append(request)
        if request.name == "applications/missing":
            raise NotFound("未找到该申请。", reason="APPLICATION_NOT_FOUND")
        return application_pb2.Application(name=request.name, number="DJ1")

    def ListApplications(self, request, context):
        self.seen.append(request)
        return app_pb.ListApplicationsResponse(next_page_token=f"size={request.page_size}")

    def SubmitApplication(self, request, context):
        raise InvalidArgument("请补充货物重量。", reason="MATERIALS_MISSING",
                              violations=[FieldViolation("cargo.weight_kg", "请补充货物重量。", "REQUIRED")])


class FakeDocuments(doc_grpc.DocumentServiceServicer):
    def UploadDocument(self, request_iterator, context):
        header, data = None, b""
        for m in request_iterator:
            if m.HasField("header"):
                header = m.header
            else:
                data += m.chunk
        return documents_pb2.Document(name="documents/1", filename=header.filename, kind=header.kind,
                                      size_bytes=len(data), content_type=header.declared_content_type)


@pytest.fixture
def stack(grpc_serve):
    apps = FakeApplications()
    chans = {
        "identity": grpc_serve([(id_grpc.add_IdentityServiceServicer_to_server, FakeIdentity(),
                                 "permit.identity.v1.IdentityService")]),
        "application": grpc_serve([(app_grpc.add_ApplicationServiceServicer_to_server, apps,
                                    "permit.application.v1.ApplicationService")], domain="permit.application"),
        "documents": grpc_serve([(doc_grpc.add_DocumentServiceServicer_to_server, FakeDocuments(),
                                  "permit.documents.v1.DocumentService")]),
    }
    env = {f"{c.upper()}_SERVICE_ADDR": f"127.0.0.1:{ch.port}" for c, ch in chans.items()}
    env["ROUTING_SERVICE_ADDR"] = "127.0.0.1:1"  # nobody listens: peer down
    client = TestClient(create_app(Settings.from_env(env)))
    with client:
        yield client, apps


def auth(tok: str | None = None) -> dict[str, str]:
    return {"authorization": f"Bearer {tok or token()}"}


def test_protected_route_without_token_is_401(stack):
    client, _ = stack
    r = client.get("/v1/me")
    assert r.status_code == 401
    assert r.json()["error"]["reason"] == "UNAUTHENTICATED"


def test_token_claims_reach_the_service_as_principal_metadata(stack):
    client, _ = stack
    r = client.get("/v1/me", headers=auth(token(sub="officers/9", party="", roles=["officer.review"], prov="370000")))
    assert r.status_code == 200
    assert r.json() == {"user": "officers/9", "roles": ["officer.review"], "province": "370000"}


def test_service_role_cannot_be_claimed_from_outside(stack):
    client, _ = stack
    r = client.get("/v1/me", headers=auth(token(roles=["applicant", "service"])))
    assert r.json()["roles"] == ["applicant"]


def test_expired_and_forged_tokens_are_refused(stack):
    client, _ = stack
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    r = client.get("/v1/me", headers=auth(token(exp=past, iat=past - dt.timedelta(minutes=5))))
    assert (r.status_code, r.json()["error"]["reason"]) == (401, "TOKEN_EXPIRED")
    forged = jwt.encode({"sub": "users/1", "aud": "permit", "iss": "permit-identity",
                         "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)},
                        Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": KID})
    r = client.get("/v1/me", headers=auth(forged))
    assert (r.status_code, r.json()["error"]["reason"]) == (401, "TOKEN_INVALID")
    r = client.get("/v1/me", headers={"authorization": "Basic abc"})
    assert r.status_code == 401


def test_path_template_fills_the_resource_name(stack):
    client, apps = stack
    r = client.get("/v1/applications/abc123", headers=auth())
    assert r.status_code == 200
    assert r.json()["name"] == "applications/abc123"
    assert apps.seen[-1].name == "applications/abc123"


def test_domain_error_maps_to_http_with_reason_and_chinese_message(stack):
    client, _ = stack
    r = client.get("/v1/applications/missing", headers=auth())
    assert r.status_code == 404
    err = r.json()["error"]
    assert (err["status"], err["reason"], err["message"]) == ("NOT_FOUND", "APPLICATION_NOT_FOUND", "未找到该申请。")
    assert err["details"][0]["domain"] == "permit.application"


def test_field_violations_are_returned(stack):
    client, _ = stack
    r = client.post("/v1/applications/a1:submit", headers=auth(), json={})
    assert r.status_code == 400
    bad = next(d for d in r.json()["error"]["details"] if d["@type"].endswith("BadRequest"))
    assert bad["fieldViolations"] == [{"field": "cargo.weight_kg", "description": "请补充货物重量。", "reason": "REQUIRED"}]


def test_query_parameters_become_request_fields(stack):
    client, apps = stack
    r = client.get("/v1/applications?pageSize=7", headers=auth())
    assert r.status_code == 200 and r.json()["nextPageToken"] == "size=7"
    r = client.get("/v1/applications?bogus=1", headers=auth())
    assert (r.status_code, r.json()["error"]["reason"]) == (400, "REQUEST_MALFORMED")


def test_malformed_json_body_is_400(stack):
    client, _ = stack
    r = client.post("/v1/applications/a1:submit", headers={**auth(), "content-type": "application/json"},
                    content=b"{not json")
    assert (r.status_code, r.json()["error"]["reason"]) == (400, "REQUEST_MALFORMED")


def test_ids_with_colons_and_internal_routes_are_not_routed(stack):
    client, _ = stack
    assert client.get("/v1/applications/x:evil", headers=auth()).status_code == 404
    assert client.post("/internal/v1/cases", headers=auth(), json={}).status_code == 404


def test_peer_down_is_503_with_chinese_message(stack):
    client, _ = stack
    r = client.get("/v1/provinces")
    assert r.status_code == 503
    assert r.json()["error"]["message"] == "服务暂时不可用，请稍后重试。"


def test_multipart_upload_streams_header_then_bytes_AP_4(stack):
    client, _ = stack
    payload = b"\x89PNG\r\n\x1a\n" + b"x" * 200_000
    r = client.post("/v1/documents", headers=auth(),
                    data={"kind": "DOCUMENT_KIND_VEHICLE_LICENCE"},
                    files={"file": ("行驶证.png", payload, "image/png")})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["filename"] == "行驶证.png" and int(doc["sizeBytes"]) == len(payload)
    assert doc["kind"] == "DOCUMENT_KIND_VEHICLE_LICENCE"


def test_openapi_lists_every_public_rpc_and_no_internal_one(stack):
    from permit_gateway.transcoding import collect_rules

    client, _ = stack
    doc = client.get("/openapi.json").json()
    ops = {op["operationId"].split("_")[0] for p in doc["paths"].values() for op in p.values()}
    rules = collect_rules()
    public = {r.method.name for r in rules}
    assert public <= ops
    assert not any(p.startswith("/internal") for p in doc["paths"])


def test_internal_services_and_event_sinks_have_no_route_and_no_operation():
    """CreateCase, RecordReviewEvent, GrantAccess, IntrospectToken, ... and every event sink
    live on services the gateway never exposes: no HTTP annotation, no route, no OpenAPI entry."""
    import importlib
    import pkgutil

    from google.api import annotations_pb2

    import permit
    from permit_gateway.transcoding import collect_rules

    exposed = {r.full_method for r in collect_rules()}
    internal: set[str] = set()
    for mod in pkgutil.walk_packages(permit.__path__, "permit."):
        if not mod.name.endswith("_pb2") or mod.name.endswith("_grpc"):
            continue
        for svc in importlib.import_module(mod.name).DESCRIPTOR.services_by_name.values():
            if svc.name.endswith("InternalService") or svc.name == "EventSinkService":
                for m in svc.methods:
                    assert not m.GetOptions().HasExtension(annotations_pb2.http), m.full_name
                    internal.add(f"{svc.full_name}/{m.name}")
    assert {"permit.identity.v1.IdentityInternalService/IntrospectToken",
            "permit.application.v1.ApplicationInternalService/ImportLegacyRecords",
            "permit.events.v1.EventSinkService/Deliver"} <= internal
    assert not internal & exposed
    names = {r.method.name for r in collect_rules()}
    assert not names & {"CreateCase", "CancelCase", "RecordReviewEvent", "RecordApprovedRoute", "GrantAccess",
                        "IntrospectToken", "GetParty", "ImportLegacyAccounts", "RotateSigningKey",
                        "ImportLegacyRecords", "Deliver"}


def test_update_takes_resource_from_body_and_mask_from_query(grpc_serve):
    seen = []

    class Apps(app_grpc.ApplicationServiceServicer):
        def UpdateApplication(self, request, context):
            seen.append(request)
            return request.application

    ch = grpc_serve([(app_grpc.add_ApplicationServiceServicer_to_server, Apps(),
                      "permit.application.v1.ApplicationService")])
    ident = grpc_serve([(id_grpc.add_IdentityServiceServicer_to_server, FakeIdentity(),
                         "permit.identity.v1.IdentityService")])
    env = {"APPLICATION_SERVICE_ADDR": f"127.0.0.1:{ch.port}", "IDENTITY_SERVICE_ADDR": f"127.0.0.1:{ident.port}"}
    with TestClient(create_app(Settings.from_env(env))) as client:
        r = client.patch("/v1/applications/a7?updateMask=cargo", headers=auth(),
                         json={"cargo": {"name": "变压器", "weightKg": "60000"}, "etag": "3"})
    assert r.status_code == 200, r.text
    req = seen[0]
    assert req.application.name == "applications/a7"
    assert list(req.update_mask.paths) == ["cargo"]
    assert req.application.cargo.weight_kg == 60000 and req.application.etag == "3"


class StreamingDocuments(doc_grpc.DocumentServiceServicer):
    """Downloads: metadata first, then the bytes in chunks; missing ones refused."""

    def DownloadDocument(self, request, context):
        from permit.documents.v1 import documents_service_pb2 as doc_pb

        if request.name == "documents/missing":
            raise NotFound("未找到该文件。", reason="DOCUMENT_NOT_FOUND")
        yield doc_pb.DownloadDocumentResponse(document=documents_pb2.Document(
            name=request.name, filename="运输计划.png", content_type="image/png"))
        for part in (b"\x89PNG", b"-one", b"-two"):
            yield doc_pb.DownloadDocumentResponse(chunk=part)


@pytest.fixture
def docs_client(grpc_serve):
    chans = {
        "identity": grpc_serve([(id_grpc.add_IdentityServiceServicer_to_server, FakeIdentity(),
                                 "permit.identity.v1.IdentityService")]),
        "documents": grpc_serve([(doc_grpc.add_DocumentServiceServicer_to_server, StreamingDocuments(),
                                  "permit.documents.v1.DocumentService")], domain="permit.documents"),
    }
    env = {f"{c.upper()}_SERVICE_ADDR": f"127.0.0.1:{ch.port}" for c, ch in chans.items()}
    with TestClient(create_app(Settings.from_env(env))) as client:
        yield client


def test_download_streams_every_chunk_with_the_documents_media_type_AP_9(docs_client):
    r = docs_client.get("/v1/documents/d1:download", headers=auth())
    assert r.status_code == 200, r.text
    assert r.content == b"\x89PNG-one-two"
    assert r.headers["content-type"] == "image/png"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]


def test_download_refusal_is_a_json_error_not_a_cut_stream(docs_client):
    r = docs_client.get("/v1/documents/missing:download", headers=auth())
    assert r.status_code == 404
    assert r.json()["error"]["reason"] == "DOCUMENT_NOT_FOUND"


def test_non_object_body_for_a_message_field_is_400_not_500(stack):
    client, _ = stack
    for body in (b"[null, null]", b'"text"', b"7", b"null"):
        r = client.patch("/v1/applications/a1?updateMask=cargo", content=body,
                         headers={**auth(), "content-type": "application/json"})
        assert (r.status_code, r.json()["error"]["reason"]) == (400, "REQUEST_MALFORMED"), body


def test_odd_bodies_are_400_not_500(stack):
    client, _ = stack
    for body in (b"\xff\xfe\xfa", b"[" * 100_000, b'{"etag": 1e999}', b'{"etag": "\\ud800"}', b"1" * 5000):
        r = client.post("/v1/applications/a1:submit", content=body,
                        headers={**auth(), "content-type": "application/json"})
        assert r.status_code == 400, (body[:20], r.text)


def test_conflicting_query_parameters_are_400(stack):
    client, _ = stack
    for qs in ("pageSize=1&pageSize.x=2", "state=STATE_DRAFT&state.x=1", "pageSize=99999999999", "state=7777"):
        r = client.get(f"/v1/applications?{qs}", headers=auth())
        assert (r.status_code, r.json()["error"]["reason"]) == (400, "REQUEST_MALFORMED"), qs


def test_unknown_paths_and_methods_answer_the_json_error_body(stack):
    client, _ = stack
    r = client.get("/v1/nowhere", headers=auth())
    assert (r.status_code, r.json()["error"]["reason"]) == (404, "ROUTE_NOT_FOUND")
    r = client.put("/v1/applications", headers=auth())
    assert (r.status_code, r.json()["error"]["reason"], r.json()["error"]["code"]) == (405, "METHOD_NOT_ALLOWED", 405)
    assert "GET" in r.headers["allow"]
    # An empty resource id is not the collection.
    r = client.get("/v1/applications/", headers=auth(), follow_redirects=False)
    assert r.status_code == 404 and r.json()["error"]["reason"] == "ROUTE_NOT_FOUND"


def test_unsafe_request_id_is_replaced_not_forwarded(stack):
    client, _ = stack
    r = client.get("/v1/applications/abc", headers={**auth(), "x-request-id": "abc 123\t\x7f"})
    assert r.status_code == 200
    assert r.headers["x-request-id"] != "abc 123\t\x7f" and len(r.headers["x-request-id"]) == 32
    r = client.get("/v1/applications/abc", headers={**auth(), "x-request-id": "req-42"})
    assert r.headers["x-request-id"] == "req-42"


def test_openapi_declares_what_the_gateway_really_reads_and_writes(stack):
    client, _ = stack
    doc = client.get("/openapi.json").json()
    patch = doc["paths"]["/v1/applications/{application_id}"]["patch"]
    assert {p["name"]: p["in"] for p in patch["parameters"]} == {"application_id": "path", "updateMask": "query"}
    cargo = doc["components"]["schemas"]["permit.application.v1.Cargo"]["properties"]
    assert cargo["weightKg"]["type"] == ["string", "integer"] and cargo["weightKg"]["pattern"] == "^-?[0-9]{1,19}$"
    upload = doc["paths"]["/v1/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert "DOCUMENT_KIND_TRANSPORT_PLAN" in upload["properties"]["kind"]["enum"]
    download = doc["paths"]["/v1/documents/{document_id}:download"]["get"]["responses"]["200"]["content"]
    assert list(download) == ["*/*"]
    ids = [op["operationId"] for p in doc["paths"].values() for op in p.values()]
    assert len(ids) == len(set(ids)) and "GetCase_2" in ids


def test_token_with_a_non_string_key_id_is_401_not_500(stack):
    import base64
    import json

    client, _ = stack

    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    for kid in ([1], {"a": 1}, 7, None):
        forged = f"{part({'alg': 'EdDSA', 'kid': kid})}.{part({'sub': 'users/1'})}.c2ln"
        r = client.get("/v1/me", headers=auth(forged))
        assert (r.status_code, r.json()["error"]["reason"]) == (401, "TOKEN_INVALID"), kid


def test_a_signed_out_session_is_refused_and_identity_down_fails_open_ID_6(grpc_serve):
    """Sign-out revokes at once: the gateway confirms each token's session with identity."""
    checked: list[str] = []

    class Internal(id_igrpc.IdentityInternalServiceServicer):
        def IntrospectToken(self, request, context):
            assert ctx.current_principal().is_service
            sid = jwt.decode(request.access_token, options={"verify_signature": False})["sid"]
            checked.append(sid)
            if sid == "down":
                raise RuntimeError("identity database away")
            return id_pb.IntrospectTokenResponse(active=sid != "gone", reason="SESSION_REVOKED" if sid == "gone" else "")

    ident = grpc_serve([(id_grpc.add_IdentityServiceServicer_to_server, FakeIdentity(),
                         "permit.identity.v1.IdentityService"),
                        (id_igrpc.add_IdentityInternalServiceServicer_to_server, Internal(),
                         "permit.identity.v1.IdentityInternalService")])
    env = {"IDENTITY_SERVICE_ADDR": f"127.0.0.1:{ident.port}", "PERMIT_GATEWAY_SESSION_RECHECK_SECONDS": "60"}
    with TestClient(create_app(Settings.from_env(env))) as client:
        live = token(sid="live")
        assert client.get("/v1/me", headers=auth(live)).status_code == 200
        assert client.get("/v1/me", headers=auth(live)).status_code == 200
        r = client.get("/v1/me", headers=auth(token(sid="gone")))
        assert (r.status_code, r.json()["error"]["reason"]) == (401, "SESSION_REVOKED")
        assert client.get("/v1/me", headers=auth(token(sid="down"))).status_code == 200
    assert checked.count("live") == 1  # cached for the recheck period


def test_an_expired_or_forged_token_sent_along_does_not_stop_a_refresh_ID_1(stack):
    """A phone that always attaches its token must still refresh once that token has expired:
    signing in and refreshing ignore the token, every other call refuses it."""
    client, _ = stack
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    expired = token(exp=past, iat=past - dt.timedelta(minutes=5))
    for bad in (expired, "not-a-token"):
        r = client.post("/v1/sessions:refresh", json={"refreshToken": "r"}, headers=auth(bad))
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "sessions/anonymous"  # the token was not forwarded as a caller
    # A valid token is not forwarded either: the refresh token alone says who is refreshing.
    assert client.post("/v1/sessions:refresh", json={"refreshToken": "r"},
                       headers=auth()).json()["name"] == "sessions/anonymous"
    assert client.get("/v1/me", headers=auth(expired)).json()["error"]["reason"] == "TOKEN_EXPIRED"


def test_the_mobile_and_the_officer_api_are_served_on_their_own(stack):
    client, _ = stack
    whole = client.get("/openapi.json").json()
    mobile = client.get("/openapi/mobile.json").json()
    officer = client.get("/openapi/officer.json").json()

    def ops(doc):
        return {op["operationId"] for p in doc["paths"].values() for op in p.values()}
    assert {"CreateApplication", "SubmitApplication", "SignIn"} <= ops(mobile)
    assert {"AcceptCase", "DecideReview", "SignIn"} <= ops(officer)
    assert "AcceptCase" not in ops(mobile) and "CreateApplication" not in ops(officer)
    assert ops(mobile) | ops(officer) <= ops(whole)
    r = client.get("/openapi/everyone.json")
    assert r.status_code == 404 and r.json()["error"]["reason"] == "ROUTE_NOT_FOUND"


def test_a_body_protobuf_cannot_read_is_refused_in_chinese_with_the_field_named(stack):
    """Not protobuf's English parser text: a Chinese message and the field as the client sent it."""
    client, _ = stack
    r = client.patch("/v1/applications/A1", params={"updateMask": "cargo"},
                     json={"cargo": {"weightKg": "abc"}}, headers=auth())
    err = r.json()["error"]
    assert r.status_code == 400 and err["reason"] == "REQUEST_MALFORMED"
    assert err["fieldViolations"][0]["field"] == "cargo.weight_kg"
    assert "应为整数" in err["message"] and "parse" not in err["message"]
    r = client.patch("/v1/applications/A1", params={"updateMask": "cargo"},
                     json={"cargo": {"bogus": 1}}, headers=auth())
    assert r.json()["error"]["fieldViolations"][0]["field"] == "cargo.bogus"
    assert "不认识的字段" in r.json()["error"]["message"]
