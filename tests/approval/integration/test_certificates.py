"""Certificates on real PostgreSQL and a real gRPC server: recorded with the permit, rendered and
stored after the commit with retries, downloaded by those entitled, verified (CT-1, CT-2)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import grpc
import pytest

from permit.approval.v1 import approval_pb2 as pb
from permit.approval.v1 import approval_service_pb2 as svc
from permit.approval.v1 import approval_service_pb2_grpc as svc_grpc
from permit.events.v1 import event_sink_pb2_grpc
from permit_approval.bootstrap import build
from permit_approval.certificate import signing
from permit_approval.config import Settings
from permitkit.errors import Unavailable
from permitkit.server import build_server as build_approval_server
from tests.approval.conftest import SHANDONG, Clock, FakeApplicationServer, Running, reason_of

pytestmark = pytest.mark.integration


class FakeStore:
    """The documents service as certificates see it; ``down`` makes every upload fail."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.down = False

    def put(self, *, owner: str, filename: str, content_type: str, data: bytes) -> str:
        if self.down:
            raise Unavailable("storage down")
        name = f"documents/{hashlib.sha256(owner.encode() + data).hexdigest()[:32]}"
        self.files[name] = data
        return name

    def get(self, name: str) -> bytes:
        return self.files[name]


class FakeParties:
    def display_name(self, party: str) -> str:
        return {"parties/p1": "河北冀运大件物流有限公司"}.get(party, "")


@pytest.fixture
def certified(approval_db: str, fake_application: FakeApplicationServer,
              clock: Clock) -> Iterator[tuple[Running, FakeStore]]:
    settings = Settings.from_env({
        "PERMIT_APPROVAL_DATABASE_URL": approval_db, "PERMIT_APPROVAL_GRPC_PORT": "0",
        "APPLICATION_SERVICE_ADDR": fake_application.addr, "ROUTING_SERVICE_ADDR": fake_application.addr,
        "DOCUMENTS_SERVICE_ADDR": fake_application.addr, "IDENTITY_SERVICE_ADDR": fake_application.addr,
        "PERMIT_APPROVAL_VERIFICATION_KEY": "test-verification-key-0123456789",
        "PERMIT_APPROVAL_VERIFY_BASE_URL": "https://permit.example.gov.cn/",
    })
    store = FakeStore()
    app = build(settings, clock=clock, relay_poll_interval=0.05, certificate_store=store,
                notifications_sink=lambda envelope: None,
                parties=FakeParties())
    server, port = build_approval_server(app, port=0)
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Running(app, svc_grpc.ApprovalServiceStub(channel), event_sink_pb2_grpc.EventSinkServiceStub(channel),
                      fake_application, clock, port), store
    finally:
        channel.close()
        server.stop(0).wait()
        app.close()


def _issue(r: Running) -> pb.Permit:
    case = r.approve_all(r.accept(r.submit()))
    return r.issue(case)


def _download(r: Running, permit: pb.Permit, metadata, fmt: str = "pdf", version: int = 0) -> tuple[svc.CertificateFile, bytes]:  # type: ignore[no-untyped-def]
    msgs = list(r.stub.DownloadCertificate(svc.DownloadCertificateRequest(permit=permit.name, format=fmt,
                                                                          version=version),
                                           metadata=metadata, timeout=30))
    return msgs[0].file, b"".join(m.chunk for m in msgs[1:])


def test_issue_never_waits_for_storage_and_the_worker_retries_until_stored_CT_1(certified) -> None:  # type: ignore[no-untyped-def]
    r, store = certified
    store.down = True
    permit = _issue(r)  # storage is down: issuing still succeeds
    assert [(c.version, c.state) for c in permit.certificates] == [(1, pb.CERTIFICATE_STATE_PENDING)]
    with pytest.raises(grpc.RpcError) as e:
        _download(r, permit, r.applicant())
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE and reason_of(e.value) == "CERTIFICATE_PENDING"
    worker = r.app.certificate_worker
    assert worker is not None
    assert worker.run_once() == 0 and not store.files
    store.down = False
    assert worker.run_once() == 0  # backing off: not due yet
    r.clock.now += dt.timedelta(minutes=1)
    assert worker.run_once() == 1
    got = r.stub.GetPermit(svc.GetPermitRequest(name=permit.name), metadata=r.applicant(), timeout=10)
    assert got.certificates[0].state == pb.CERTIFICATE_STATE_CURRENT and got.certificates[0].HasField("store_time")
    meta, pdf = _download(r, permit, r.applicant())
    assert pdf.startswith(b"%PDF") and meta.content_type == "application/pdf" and meta.version == 1
    assert meta.filename == f"通行证-{permit.number}-v1.pdf"
    meta, png = _download(r, permit, r.officer(SHANDONG, "officer.review"), fmt="png")
    assert png.startswith(b"\x89PNG") and meta.content_type == "image/png"
    for md, code, reason in ((r.applicant("parties/p2"), grpc.StatusCode.NOT_FOUND, "PERMIT_NOT_FOUND"),
                             (r.officer("110000"), grpc.StatusCode.PERMISSION_DENIED, "OTHER_PROVINCE")):
        with pytest.raises(grpc.RpcError) as e:
            _download(r, permit, md)
        assert (e.value.code(), reason_of(e.value)) == (code, reason)


def test_an_extension_supersedes_the_certificate_and_the_codes_tell_versions_apart_CT_1_CT_2(certified) -> None:  # type: ignore[no-untyped-def]
    r, store = certified
    permit = _issue(r)
    first = permit.certificates[0].verification_code
    assert first.startswith("PC1.")
    r.clock.set_local(2026, 12, 12)
    from google.type import date_pb2
    asked = r.stub.RequestExtension(svc.RequestExtensionRequest(
        permit=permit.name, new_end_date=date_pb2.Date(year=2026, month=12, day=28), provinces=[SHANDONG],
        reason="设备延迟到货"), metadata=r.applicant(), timeout=10)
    done = r.stub.DecideExtension(svc.DecideExtensionRequest(name=asked.extensions[0].name,
                                                             decision=pb.DECISION_APPROVE),
                                  metadata=r.officer(SHANDONG, "officer.review"), timeout=10)
    assert [(c.version, c.state, c.reason) for c in done.certificates] == [
        (1, pb.CERTIFICATE_STATE_SUPERSEDED, "ISSUED"), (2, pb.CERTIFICATE_STATE_PENDING, "EXTENDED")]
    assert (done.certificates[1].end_date.day, done.certificates[0].end_date.day) == (28, 20)
    second = done.certificates[1].verification_code

    def verify(code: str) -> svc.VerifyPermitResponse:
        return r.stub.VerifyPermit(svc.VerifyPermitRequest(verification_code=code), timeout=10)
    old, new = verify(f"https://permit.example.gov.cn/verify?c={first}"), verify(second)
    assert (old.result, old.certificate_version, old.current_certificate_version) == (
        pb.VERIFICATION_RESULT_SUPERSEDED, 1, 2)
    assert (new.result, new.end_date.day) == (pb.VERIFICATION_RESULT_VALID, 28)
    assert verify(permit.verification_code).result == pb.VERIFICATION_RESULT_VALID  # the older HMAC code
    assert r.app.certificate_worker is not None and r.app.certificate_worker.run_once() == 2
    _, v1 = _download(r, permit, r.applicant(), version=1)
    _, v2 = _download(r, permit, r.applicant())
    assert v1 != v2 and v1.startswith(b"%PDF")
    r.stub.AbolishPermit(svc.AbolishPermitRequest(name=permit.name, reason="运输已完成"),
                         metadata=r.applicant(), timeout=10)
    assert verify(second).result == pb.VERIFICATION_RESULT_ABOLISHED


def test_the_published_key_verifies_codes_offline_and_keys_rotate_CT_2(certified) -> None:  # type: ignore[no-untyped-def]
    r, _ = certified
    permit = _issue(r)
    keys = r.stub.ListCertificateKeys(svc.ListCertificateKeysRequest(), timeout=10).keys
    assert len(keys) == 1 and keys[0].algorithm == "Ed25519" and not keys[0].HasField("retire_time")
    public = {k.key_id: signing.load_public(k.public_key_pem) for k in keys}
    payload = signing.verify(permit.certificates[0].verification_code, public)
    assert payload is not None and payload.permit_number == permit.number
    assert payload.plates == ["冀A12345", "冀B6789挂"]
    assert payload.route_digest == signing.route_digest([{"province": row.province, "roads": list(row.roads)}
                                                         for row in permit.route])
    # 91 days later the key retires; a new one signs; both stay published.
    r.clock.now += dt.timedelta(days=91)
    later = r.issue(r.approve_all(r.accept(r.submit(application="applications/A2",
                                                    start=dt.date(2027, 3, 10), end=dt.date(2027, 3, 12)))))
    keys = r.stub.ListCertificateKeys(svc.ListCertificateKeysRequest(), timeout=10).keys
    assert len(keys) == 2 and keys[0].HasField("retire_time") and not keys[1].HasField("retire_time")
    public = {k.key_id: signing.load_public(k.public_key_pem) for k in keys}
    assert signing.verify(later.certificates[0].verification_code, public).key_id == keys[1].key_id  # type: ignore[union-attr]
    assert signing.verify(permit.certificates[0].verification_code, public) is not None


def test_the_certificate_prints_the_cargo_overall_and_vehicle_types_of_the_submission_event_CT_1_CT_3(certified) -> None:  # type: ignore[no-untyped-def]
    """The figures come from ApplicationSubmitted (SubmittedApplication's cargo, overall and
    vehicles' types), kept on the case, printed on the PDF and shown at the roadside check."""
    import io

    from pypdf import PdfReader

    r, _ = certified
    permit = _issue(r)
    case = r.stub.GetCase(svc.GetCaseRequest(name="applications/A1"), metadata=r.service(), timeout=10)
    assert [v.vehicle_type for v in case.vehicles] == ["重型半挂牵引车", "重型低平板半挂车"]
    assert r.app.certificate_worker.run_once() == 1
    _, pdf = _download(r, permit, r.applicant())
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for expected in ("变压器", "30.000", "51.000", "19.900", "重型半挂牵引车", "重型低平板半挂车",
                     "河北冀运大件物流有限公司"):
        assert expected in text, expected
    seen = r.stub.VerifyPermit(svc.VerifyPermitRequest(verification_code=permit.certificates[0].verification_code),
                               timeout=10)
    assert (seen.overall.total_mass_kg, seen.overall.length_mm, seen.overall.width_mm, seen.overall.height_mm) == (
        51000, 19900, 3200, 4300)
    assert [(v.plate_number, v.vehicle_type) for v in seen.vehicles] == [
        ("冀A12345", "重型半挂牵引车"), ("冀B6789挂", "重型低平板半挂车")]
