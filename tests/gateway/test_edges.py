"""Gateway edges: one error body, size limits, streamed uploads, CORS, rate limits, backends down or hung.

Backends are real gRPC servers on loopback ports; the HTTP side is the
FastAPI test client, or the gateway served by uvicorn on a loopback port
(exactly as ``python -m permit_gateway`` serves it) where a real socket
matters: chunked bodies, the order of events in a streamed upload, the
client address.
"""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Iterator

import httpx
import jsonschema
import pytest
import uvicorn
from fastapi.testclient import TestClient

from permit.application.v1 import application_pb2
from permit.application.v1 import application_service_pb2_grpc as app_grpc
from permit.documents.v1 import documents_pb2
from permit.documents.v1 import documents_service_pb2_grpc as doc_grpc
from permit.identity.v1 import identity_service_pb2_grpc as id_grpc
from permit.routing.v1 import routing_service_pb2 as routing_pb
from permit.routing.v1 import routing_service_pb2_grpc as routing_grpc
from permit_gateway.__main__ import server_config
from permit_gateway.app import create_app
from permit_gateway.config import RateLimit, Settings
from permit_gateway.openapi import ERROR_SCHEMA
from permit_gateway.ratelimit import TokenBuckets, client_address
from permitkit.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from permitkit.settings import SettingsError
from permitkit.testing import free_port, wait_for_port
from tests.gateway.test_gateway import FakeIdentity, auth, token

CHINESE = re.compile(r"[\u4e00-\u9fff]")
IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 5000 + IEND
# Long enough for any test machine; a wait that runs out fails the test (it never passes by time).
PATIENCE = 30


# --- fakes ------------------------------------------------------------------------------------------


class Applications(app_grpc.ApplicationServiceServicer):
    """Answers, refuses with field violations, fails, or hangs until released."""

    def __init__(self) -> None:
        self.seen: list[object] = []
        self.release = threading.Event()

    def GetApplication(self, request, context):
        self.seen.append(request)
        if request.name == "applications/missing":
            raise NotFound("未找到该申请。", reason="APPLICATION_NOT_FOUND")
        if request.name == "applications/broken":
            raise RuntimeError("a bug in the service")
        if request.name == "applications/slow":
            self.release.wait(PATIENCE)
        return application_pb2.Application(name=request.name, number="DJ1")

    def SubmitApplication(self, request, context):
        self.seen.append(request)
        raise InvalidArgument("请补充货物重量。", reason="MATERIALS_MISSING",
                              violations=[FieldViolation("cargo.weight_kg", "请补充货物重量。", "REQUIRED")])


class Documents(doc_grpc.DocumentServiceServicer):
    """Stores what it receives whole; signals its first chunk; can hang until released.

    Like the real service, it refuses content that does not end as its format
    requires (here the PNG's IEND chunk): a cancelled stream can look like a
    finished one to a synchronous gRPC server, and then only leaves it a torso.
    """

    def __init__(self) -> None:
        self.first_chunk = threading.Event()
        self.release = threading.Event()
        self.stored: list[tuple[documents_pb2.Document, bytes]] = []
        self.hang = False
        self.refuse_caller = False

    def UploadDocument(self, request_iterator, context):
        header, data = None, bytearray()
        for m in request_iterator:
            if m.HasField("header"):
                header = m.header
                if self.refuse_caller:
                    raise PermissionDenied("只有申请人可以上传材料。", reason="NOT_APPLICANT")
                if self.hang:
                    self.release.wait(PATIENCE)
                continue
            self.first_chunk.set()
            data += m.chunk
        if not data.endswith(IEND):
            raise InvalidArgument("文件内容不完整。", reason="FILE_CORRUPT")
        doc = documents_pb2.Document(name=f"documents/{len(self.stored) + 1}", filename=header.filename,
                                     kind=header.kind, size_bytes=len(data),
                                     content_type=header.declared_content_type)
        self.stored.append((doc, bytes(data)))
        return doc


class SlowIdentity(FakeIdentity):
    """Publishes its keys only after being released: a hung identity service."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.key_fetches = 0

    def ListPublicKeys(self, request, context):
        self.key_fetches += 1
        self.release.wait(PATIENCE)
        return super().ListPublicKeys(request, context)


class Routing(routing_grpc.RoutingServiceServicer):
    def ListProvinces(self, request, context):
        return routing_pb.ListProvincesResponse()


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def backends(grpc_serve):
    """Fake identity, application and documents services; routing and approval are down."""
    apps, docs = Applications(), Documents()
    chans = {
        "identity": grpc_serve([(id_grpc.add_IdentityServiceServicer_to_server, FakeIdentity(),
                                 "permit.identity.v1.IdentityService")]),
        "application": grpc_serve([(app_grpc.add_ApplicationServiceServicer_to_server, apps,
                                    "permit.application.v1.ApplicationService")], domain="permit.application"),
        "documents": grpc_serve([(doc_grpc.add_DocumentServiceServicer_to_server, docs,
                                  "permit.documents.v1.DocumentService")], domain="permit.documents"),
    }
    env = {f"{c.upper()}_SERVICE_ADDR": f"127.0.0.1:{ch.port}" for c, ch in chans.items()}
    for down in ("routing", "approval"):
        env[f"{down.upper()}_SERVICE_ADDR"] = f"127.0.0.1:{free_port()}"  # nobody listens there
    yield env, apps, docs
    apps.release.set()
    docs.release.set()


def client(env: dict[str, str], **extra: str) -> TestClient:
    return TestClient(create_app(Settings.from_env({**env, **extra})))


class ResponseSeen:
    """ASGI wrapper: tells the test when the gateway has started its answer."""

    def __init__(self, app) -> None:
        self.app = app
        self.started = threading.Event()

    async def __call__(self, scope, receive, send):
        async def observed(message):
            if message["type"] == "http.response.start":
                self.started.set()
            await send(message)
        await self.app(scope, receive, observed)


@contextlib.contextmanager
def served(env: dict[str, str], **extra: str) -> Iterator[tuple[str, ResponseSeen]]:
    """The gateway under uvicorn on a loopback port, configured as in production."""
    settings = Settings.from_env({**env, **extra, "PERMIT_GATEWAY_PORT": str(free_port())})
    app = ResponseSeen(create_app(settings))
    server = uvicorn.Server(server_config(app, settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port("127.0.0.1", settings.port)
        yield f"http://127.0.0.1:{settings.port}", app
    finally:
        server.should_exit = True
        thread.join(PATIENCE)


def refused(r: httpx.Response, status: int, reason: str) -> dict:
    """The one error body: every field present, the request id that of the header, Chinese text."""
    assert r.status_code == status, r.text
    body = r.json()
    jsonschema.validate(body, ERROR_SCHEMA)
    err = body["error"]
    assert (err["code"], err["reason"]) == (status, reason), err
    assert err["requestId"] == r.headers["x-request-id"]
    assert isinstance(err["fieldViolations"], list)
    assert CHINESE.search(err["message"]), err
    assert err["details"][0]["reason"] == reason
    return err


def multipart(*parts: tuple[str, str | None, bytes], boundary: str = "edge-boundary") -> tuple[bytes, dict]:
    """(name, filename or None for a text field, content) -> body and its content type."""
    out = bytearray()
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            out += b"Content-Type: image/png\r\n"
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), {"content-type": f"multipart/form-data; boundary={boundary}"}




# --- 1. one error body everywhere ----------------------------------------------------------------------


def test_every_refusal_has_the_same_body_with_request_id_and_field_violations(backends):
    env, _, _ = backends
    with client(env, PERMIT_GATEWAY_MAX_BODY_BYTES="100") as c:
        cases = [
            (c.get("/v1/applications?bogus=1", headers=auth()), 400, "REQUEST_MALFORMED"),
            (c.get("/v1/me"), 401, "UNAUTHENTICATED"),
            (c.get("/v1/nowhere", headers=auth()), 404, "ROUTE_NOT_FOUND"),
            (c.put("/v1/applications", headers=auth()), 405, "METHOD_NOT_ALLOWED"),
            (c.post("/v1/applications/a1:submit", headers=auth(), json={"etag": "x" * 200}), 413, "BODY_TOO_LARGE"),
            (c.get("/v1/applications/missing", headers=auth()), 404, "APPLICATION_NOT_FOUND"),
            (c.get("/v1/applications/broken", headers=auth()), 500, "INTERNAL"),
            (c.get("/v1/provinces"), 503, "BACKEND_UNAVAILABLE"),
        ]
        for r, status, reason in cases:
            err = refused(r, status, reason)
            if reason != "REQUEST_MALFORMED":
                assert err["fieldViolations"] == []
        r = c.get("/v1/applications?bogus=1", headers={**auth(), "x-request-id": "phone-42"})
        assert refused(r, 400, "REQUEST_MALFORMED")["requestId"] == "phone-42"


def test_field_violations_are_at_the_top_level_as_in_details(backends):
    env, _, _ = backends
    with client(env) as c:
        err = refused(c.post("/v1/applications/a1:submit", headers=auth(), json={}), 400, "MATERIALS_MISSING")
        expected = [{"field": "cargo.weight_kg", "description": "请补充货物重量。", "reason": "REQUIRED"}]
        assert err["fieldViolations"] == expected
        assert next(d for d in err["details"] if d["@type"].endswith("BadRequest"))["fieldViolations"] == expected
        err = refused(c.get("/v1/applications?bogus=1", headers=auth()), 400, "REQUEST_MALFORMED")
        assert [v["field"] for v in err["fieldViolations"]] == ["bogus"]


# --- 2. request size limits --------------------------------------------------------------------------


def test_json_body_over_the_limit_is_refused_by_content_length_before_any_backend_call(backends):
    env, apps, _ = backends
    with client(env, PERMIT_GATEWAY_MAX_BODY_BYTES="1000") as c:
        err = refused(c.post("/v1/applications/a1:submit", headers=auth(), json={"etag": "x" * 2000}),
                      413, "BODY_TOO_LARGE")
        assert err["details"][0]["metadata"]["limit_bytes"] == "1000"
        assert apps.seen == []
        # At the limit it goes through (and the service answers for itself).
        refused(c.post("/v1/applications/a1:submit", headers=auth(), json={"etag": "x" * 900}),
                400, "MATERIALS_MISSING")


def test_chunked_json_body_is_cut_off_while_it_streams(backends):
    """No Content-Length: the gateway counts as the body arrives and answers 413 while the
    client is still sending (the client waits for that answer before sending its last part)."""
    env, apps, _ = backends
    with served(env, PERMIT_GATEWAY_MAX_BODY_BYTES="4096") as (url, seen):
        answered_early = []

        def body():
            yield b'{"etag": "'
            for _ in range(8):
                yield b"x" * 1024
            answered_early.append(seen.started.wait(PATIENCE))
            yield b'"}'

        r = httpx.post(f"{url}/v1/applications/a1:submit", content=body(),
                       headers={**auth(), "content-type": "application/json"}, timeout=PATIENCE)
    refused(r, 413, "BODY_TOO_LARGE")
    assert answered_early == [True]
    assert apps.seen == []


def test_upload_over_the_gateway_limit_is_refused_by_content_length_and_while_streaming(backends):
    env, _, docs = backends
    body, headers = multipart(("kind", None, b"DOCUMENT_KIND_TRANSPORT_PLAN"), ("file", "plan.png", PNG * 4))
    with client(env, PERMIT_GATEWAY_MAX_UPLOAD_BYTES="8192") as c:
        err = refused(c.post("/v1/documents", headers={**auth(), **headers}, content=body), 413, "BODY_TOO_LARGE")
        assert [v["field"] for v in err["fieldViolations"]] == ["file"]
        # AP-9: the carrier reads the file limit (1 MB), never the relay's allowance.
        assert "1 MB" in err["message"] and "2 MB" not in err["message"], err["message"]
    with served(env, PERMIT_GATEWAY_MAX_UPLOAD_BYTES="8192") as (url, _):
        r = httpx.post(f"{url}/v1/documents", content=iter([body[:5000], body[5000:]]),
                       headers={**auth(), **headers}, timeout=PATIENCE)
    refused(r, 413, "BODY_TOO_LARGE")
    assert docs.stored == []  # the call was cancelled: nothing stored


# --- 3. streamed uploads ------------------------------------------------------------------------------


def test_upload_reaches_the_service_while_the_phone_is_still_sending_AP_4(backends):
    """The first bytes of the file are at the documents service before the last leave the client."""
    env, _, docs = backends
    photo = PNG[:-len(IEND)] + b"q" * 200_000 + IEND
    body, headers = multipart(("kind", None, b"DOCUMENT_KIND_VEHICLE_LICENCE"), ("file", "行驶证.png", photo))
    split = body.index(photo) + 100_000
    forwarded_first = []

    def chunks():
        yield body[:split]
        forwarded_first.append(docs.first_chunk.wait(PATIENCE))
        yield body[split:]

    with served(env) as (url, _):
        r = httpx.post(f"{url}/v1/documents", content=chunks(), headers={**auth(), **headers}, timeout=PATIENCE)
    assert r.status_code == 200, r.text
    assert forwarded_first == [True]
    doc, data = docs.stored[0]
    assert data == photo and doc.filename == "行驶证.png" and doc.content_type == "image/png"
    assert r.json()["kind"] == "DOCUMENT_KIND_VEHICLE_LICENCE"


def test_a_refusal_right_after_the_header_is_the_services_answer_however_the_race_falls(backends):
    """The service refuses on the header while the gateway is still writing: the phone gets
    the service's 403, never grpc's local "internal error" of the write that lost the race."""
    env, _, docs = backends
    docs.refuse_caller = True
    body, headers = multipart(("kind", None, b"DOCUMENT_KIND_TRANSPORT_PLAN"), ("file", "a.png", PNG[:300]))
    with client(env, PERMIT_GATEWAY_RATE_PER_USER="0") as c:
        answers = {c.post("/v1/documents", headers={**auth(), **headers}, content=body).status_code
                   for _ in range(100)}
    assert answers == {403}


def test_upload_header_fields_may_come_as_query_parameters(backends):
    env, _, docs = backends
    body, headers = multipart(("file", "plan.png", PNG))
    with client(env) as c:
        r = c.post("/v1/documents?kind=DOCUMENT_KIND_TRANSPORT_PLAN&filename=运输计划.png",
                   headers={**auth(), **headers}, content=body)
    assert r.status_code == 200, r.text
    doc, data = docs.stored[0]
    assert (doc.kind, doc.filename, data) == (documents_pb2.DOCUMENT_KIND_TRANSPORT_PLAN, "运输计划.png", PNG)


@pytest.mark.parametrize(("parts", "field"), [
    ((("file", "a.png", PNG), ("kind", None, b"DOCUMENT_KIND_TRANSPORT_PLAN")), "kind"),
    ((("kind", None, b"DOCUMENT_KIND_TRANSPORT_PLAN"),), "file"),
    ((("file", "a.png", PNG), ("file", "b.png", PNG)), "file"),
    ((("colour", None, b"red"), ("file", "a.png", PNG)), "colour"),
    ((("kind", None, b"DOCUMENT_KIND_NOPE"), ("file", "a.png", PNG)), ""),
    ((("kind", None, b"7777"), ("file", "a.png", PNG)), "kind"),
    ((("photo", "a.png", PNG),), "photo"),
], ids=["field-after-file", "no-file", "two-files", "unknown-field", "bad-enum-name", "bad-enum-number",
        "file-under-another-name"])
def test_malformed_uploads_are_refused_with_the_field_and_nothing_is_stored(backends, parts, field):
    env, _, docs = backends
    body, headers = multipart(*parts)
    with client(env) as c:
        err = refused(c.post("/v1/documents", headers={**auth(), **headers}, content=body), 400, "REQUEST_MALFORMED")
    if field:
        assert [v["field"] for v in err["fieldViolations"]] == [field]
    assert docs.stored == []


def test_upload_that_is_not_multipart_or_is_cut_short_is_400(backends):
    env, _, docs = backends
    body, headers = multipart(("kind", None, b"DOCUMENT_KIND_TRANSPORT_PLAN"), ("file", "a.png", PNG))
    with client(env) as c:
        r = c.post("/v1/documents", headers={**auth(), "content-type": "application/json"}, content=b"{}")
        assert refused(r, 400, "REQUEST_MALFORMED")["fieldViolations"][0]["field"] == "file"
        refused(c.post("/v1/documents", headers={**auth(), **headers}, content=body[:-30]), 400, "REQUEST_MALFORMED")
    assert docs.stored == []


# --- 4. CORS -------------------------------------------------------------------------------------------

PAGE = "https://zsb.example.gov.cn"


def preflight(c: TestClient, origin: str, headers: str = "authorization,content-type,x-request-id"):
    return c.options("/v1/applications", headers={"origin": origin, "access-control-request-method": "POST",
                                                  "access-control-request-headers": headers})


def test_cors_preflight_from_a_listed_page_is_allowed(backends):
    env, _, _ = backends
    with client(env, PERMIT_GATEWAY_CORS_ORIGINS=f"{PAGE}, https://other.example.cn") as c:
        r = preflight(c, PAGE)
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == PAGE
        allowed = r.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "x-request-id"} <= {h.strip() for h in allowed.split(",")}
        r = c.get("/v1/applications/abc", headers={**auth(), "origin": PAGE})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == PAGE
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        assert {"x-request-id", "retry-after"} <= exposed


def test_cors_preflight_from_another_page_is_refused(backends):
    env, _, _ = backends
    with client(env, PERMIT_GATEWAY_CORS_ORIGINS=PAGE) as c:
        r = preflight(c, "https://evil.example.com")
        err = refused(r, 400, "CORS_NOT_ALLOWED")
        assert "origin" in err["details"][0]["metadata"]["refused"]
        assert "access-control-allow-origin" not in r.headers
        refused(preflight(c, PAGE, headers="x-secret"), 400, "CORS_NOT_ALLOWED")
        r = c.get("/v1/applications/abc", headers={**auth(), "origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in r.headers


def test_without_cors_origins_no_cors_headers_are_sent(backends):
    env, _, _ = backends
    with client(env) as c:
        r = preflight(c, PAGE)
        assert not any(h.startswith("access-control-") for h in r.headers)
        refused(r, 405, "METHOD_NOT_ALLOWED")


def test_cors_origins_are_validated_at_start():
    for bad in ("zsb.example.gov.cn", "https://zsb.example.gov.cn/app", "ftp://x.cn"):
        with pytest.raises(SettingsError, match="PERMIT_GATEWAY_CORS_ORIGINS"):
            Settings.from_env({"PERMIT_GATEWAY_CORS_ORIGINS": bad})


# --- 5. rate limits ---------------------------------------------------------------------------------


def test_a_user_over_the_rate_is_refused_429_with_retry_after(backends):
    env, _, _ = backends
    me, other = token(sub="users/rate-1"), token(sub="users/rate-2")
    with client(env, PERMIT_GATEWAY_RATE_PER_USER="0.001", PERMIT_GATEWAY_RATE_PER_USER_BURST="2") as c:
        assert [c.get("/v1/applications/abc", headers=auth(me)).status_code for _ in range(2)] == [200, 200]
        r = c.get("/v1/applications/abc", headers=auth(me))
        err = refused(r, 429, "RATE_LIMITED")
        assert err["details"][0]["metadata"]["limit"] == "user"
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["retry-after"] in err["message"]
        assert c.get("/v1/applications/abc", headers=auth(other)).status_code == 200


def test_a_client_address_over_the_rate_is_refused_even_before_signing_in(backends):
    env, _, _ = backends
    settings = {"PERMIT_GATEWAY_RATE_PER_ADDRESS": "0.001", "PERMIT_GATEWAY_RATE_PER_ADDRESS_BURST": "2"}
    app = create_app(Settings.from_env({**env, **settings}))
    with TestClient(app, client=("203.0.113.5", 4000)) as c, TestClient(app, client=("203.0.113.6", 4000)) as d:
        assert [c.get("/v1/me").status_code for _ in range(2)] == [401, 401]
        r = c.get("/v1/me", headers=auth())
        assert refused(r, 429, "RATE_LIMITED")["details"][0]["metadata"]["limit"] == "address"
        assert d.get("/v1/me", headers=auth()).status_code == 200


def test_behind_a_trusted_proxy_the_last_untrusted_forwarded_hop_is_the_client(backends):
    env, _, _ = backends
    settings = {"PERMIT_GATEWAY_RATE_PER_ADDRESS": "0.001", "PERMIT_GATEWAY_RATE_PER_ADDRESS_BURST": "1",
                "PERMIT_GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8"}
    app = create_app(Settings.from_env({**env, **settings}))
    with TestClient(app, client=("10.1.2.3", 4000)) as proxy:
        def via(chain: str) -> int:
            return proxy.get("/v1/me", headers={**auth(), "x-forwarded-for": chain}).status_code
        assert via("198.51.100.1, 10.9.9.9") == 200
        # Whatever the phone wrote to the left is not believed: same client, same bucket.
        assert via("1.1.1.1, 198.51.100.1, 10.9.9.9") == 429
        assert via("198.51.100.2") == 200


def test_forwarded_for_from_an_untrusted_peer_is_ignored_also_by_the_server(backends):
    """Served by uvicorn as in production: a caller cannot pick its own bucket with X-Forwarded-For."""
    env, _, _ = backends
    with served(env, PERMIT_GATEWAY_RATE_PER_ADDRESS="0.001", PERMIT_GATEWAY_RATE_PER_ADDRESS_BURST="1") as (url, _):
        first = httpx.get(f"{url}/v1/me", headers={**auth(), "x-forwarded-for": "198.51.100.1"})
        second = httpx.get(f"{url}/v1/me", headers={**auth(), "x-forwarded-for": "198.51.100.2"})
    assert first.status_code == 200
    refused(second, 429, "RATE_LIMITED")


def test_rate_zero_disables_a_limit(backends):
    env, _, _ = backends
    with client(env, PERMIT_GATEWAY_RATE_PER_USER="0", PERMIT_GATEWAY_RATE_PER_USER_BURST="1",
                PERMIT_GATEWAY_RATE_PER_ADDRESS="0") as c:
        assert {c.get("/v1/applications/abc", headers=auth()).status_code for _ in range(30)} == {200}


def test_client_address_walks_forwarded_for_from_the_right():
    import ipaddress

    trusted = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))
    assert client_address("203.0.113.1", ["198.51.100.1"], trusted) == "203.0.113.1"
    assert client_address("10.0.0.1", ["198.51.100.1, 10.0.0.2"], trusted) == "198.51.100.1"
    assert client_address("10.0.0.1", ["6.6.6.6, 198.51.100.1", "10.0.0.2"], trusted) == "198.51.100.1"
    assert client_address("::1", ["10.0.0.3, 10.0.0.2"], trusted) == "10.0.0.3"
    assert client_address("10.0.0.1", [], trusted) == "10.0.0.1"
    assert client_address("10.0.0.1", ["not-an-ip"], trusted) == "not-an-ip"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_the_burst_then_the_rate():
    clock = Clock()
    buckets = TokenBuckets(RateLimit(rate=2.0, burst=3), clock=clock)
    assert [buckets.take("u") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("u") == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.take("u") == 0.0
    assert buckets.take("u") == pytest.approx(0.5)
    assert buckets.take("v") == 0.0  # every key has its own bucket


def test_idle_buckets_are_dropped_so_memory_stays_bounded():
    clock = Clock()
    buckets = TokenBuckets(RateLimit(rate=10.0, burst=40), max_keys=500, clock=clock)
    for i in range(300):
        buckets.take(f"phone-{i}")
    assert len(buckets) == 300
    clock.now += 4.0  # 40 tokens at 10/s: every bucket is full again, the same as a new one
    buckets.take("phone-new")
    assert len(buckets) == 1
    for i in range(2000):  # a flood of distinct keys within the window
        buckets.take(f"flood-{i}")
    assert len(buckets) <= 500


def test_rate_settings_are_validated_at_start():
    with pytest.raises(SettingsError, match="PERMIT_GATEWAY_RATE_PER_USER_BURST"):
        Settings.from_env({"PERMIT_GATEWAY_RATE_PER_USER_BURST": "0"})
    with pytest.raises(SettingsError, match="PERMIT_GATEWAY_TRUSTED_PROXIES"):
        Settings.from_env({"PERMIT_GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"})
    s = Settings.from_env({})
    assert (s.rate_per_user, s.rate_per_address) == (RateLimit(10.0, 40), RateLimit(50.0, 200))
    assert (s.max_body_bytes, s.cors_origins, s.trusted_proxies) == (256 * 1024, (), ())


# --- 6. backends down or hung ------------------------------------------------------------------------


def test_backend_down_is_503_naming_the_service(backends):
    env, _, _ = backends
    with client(env) as c:
        err = refused(c.get("/v1/provinces"), 503, "BACKEND_UNAVAILABLE")
        assert err["details"][0]["metadata"]["service"] == "routing"
        assert err["status"] == "UNAVAILABLE"


def test_backend_that_hangs_is_504_after_the_call_deadline(backends):
    env, apps, _ = backends
    with client(env, PERMIT_GATEWAY_CALL_TIMEOUT="0.3") as c:
        err = refused(c.get("/v1/applications/slow", headers=auth()), 504, "BACKEND_TIMEOUT")
    assert err["details"][0]["metadata"]["service"] == "application"
    assert err["status"] == "DEADLINE_EXCEEDED"
    apps.release.set()


def test_identity_down_before_any_key_is_known_is_503_not_500(backends):
    env, _, _ = backends
    with client(env, IDENTITY_SERVICE_ADDR=f"127.0.0.1:{free_port()}") as c:
        err = refused(c.get("/v1/applications/abc", headers=auth()), 503, "BACKEND_UNAVAILABLE")
        assert err["details"][0]["metadata"]["service"] == "identity"
        refused(c.get("/v1/applications/abc", headers=auth()), 503, "BACKEND_UNAVAILABLE")
        refused(c.get("/v1/applications/abc"), 401, "UNAUTHENTICATED")  # no token: nothing to ask identity


def test_identity_hung_is_504_and_later_requests_fail_fast_instead_of_queueing(backends, grpc_serve, monkeypatch):
    import permit_gateway.app as gateway_app

    monkeypatch.setattr(gateway_app, "IDENTITY_COOL_DOWN", PATIENCE)
    env, _, _ = backends
    identity = SlowIdentity()
    ch = grpc_serve([(id_grpc.add_IdentityServiceServicer_to_server, identity, "permit.identity.v1.IdentityService")])
    try:
        with client(env, IDENTITY_SERVICE_ADDR=f"127.0.0.1:{ch.port}", PERMIT_GATEWAY_CALL_TIMEOUT="0.3") as c:
            for _ in range(3):
                err = refused(c.get("/v1/applications/abc", headers=auth()), 504, "BACKEND_TIMEOUT")
                assert err["details"][0]["metadata"]["service"] == "identity"
        assert identity.key_fetches == 1
    finally:
        identity.release.set()


def test_upload_to_a_hung_documents_service_is_504(backends):
    env, _, docs = backends
    docs.hang = True
    body, headers = multipart(("kind", None, b"DOCUMENT_KIND_TRANSPORT_PLAN"), ("file", "a.png", PNG * 20))
    with client(env, PERMIT_GATEWAY_TRANSFER_TIMEOUT="0.5") as c:
        err = refused(c.post("/v1/documents", headers={**auth(), **headers}, content=body), 504, "BACKEND_TIMEOUT")
    assert err["details"][0]["metadata"]["service"] == "documents"


def test_upload_to_a_documents_service_that_is_down_is_503(backends):
    env, _, _ = backends
    body, headers = multipart(("kind", None, b"DOCUMENT_KIND_TRANSPORT_PLAN"), ("file", "a.png", PNG))
    with client(env, DOCUMENTS_SERVICE_ADDR=f"127.0.0.1:{free_port()}") as c:
        err = refused(c.post("/v1/documents", headers={**auth(), **headers}, content=body), 503,
                      "BACKEND_UNAVAILABLE")
        assert err["details"][0]["metadata"]["service"] == "documents"
        err = refused(c.get("/v1/documents/d1:download", headers=auth()), 503, "BACKEND_UNAVAILABLE")
        assert err["details"][0]["metadata"]["service"] == "documents"


def test_a_client_that_stops_sending_is_408_not_a_hang(backends):
    env, _, docs = backends
    body, headers = multipart(("kind", None, b"DOCUMENT_KIND_TRANSPORT_PLAN"), ("file", "a.png", PNG))
    with served(env, PERMIT_GATEWAY_TRANSFER_TIMEOUT="0.5") as (url, seen):
        def stalled():
            yield body[:3000]
            seen.started.wait(PATIENCE)  # sends nothing more until the gateway has answered
            yield body[3000:]

        r = httpx.post(f"{url}/v1/documents", content=stalled(), headers={**auth(), **headers}, timeout=PATIENCE)
    refused(r, 408, "REQUEST_TIMEOUT")
    assert docs.stored == []


def test_request_ids_are_unique_per_request(backends):
    env, _, _ = backends
    with client(env) as c:
        ids = {c.get("/v1/nowhere").json()["error"]["requestId"] for _ in range(5)}
    assert len(ids) == 5 and all(len(i) == len(uuid.uuid4().hex) for i in ids)
