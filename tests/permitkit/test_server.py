"""permitkit.server: error translation, request id, caller identity, health, reflection."""

from __future__ import annotations

import subprocess
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from structlog.testing import capture_logs

from permitkit import context as ctx
from permitkit.client import call_metadata, make_channel
from permitkit.errors import ErrorDetails, FieldViolation, InvalidArgument, NotFound
from permitkit.server import grpc_server

SERVICE = "permit.test.v1.EchoService"


def _identity(b: bytes) -> bytes:
    return b


class Echo:
    """A bytes-in, bytes-out service whose behaviour is chosen by the request text."""

    def call(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        text = request.decode()
        if text == "invalid":
            raise InvalidArgument("货物重量必须大于 0。", reason="CARGO_WEIGHT_INVALID",
                                  field="cargo.weight_kg")
        if text == "missing":
            raise NotFound("未找到该申请。", reason="APPLICATION_NOT_FOUND")
        if text == "crash":
            raise RuntimeError("secret internals")
        if text == "whoami":
            p = ctx.current_principal()
            return (f"{p.subject}|{p.party}|{','.join(sorted(p.roles))}|{p.province}" if p else "anon").encode()
        if text.startswith("many:"):
            n = int(text.split(":")[1])
            raise InvalidArgument("填写内容有误，请按提示修改。", reason="INVALID_FIELD", violations=[
                FieldViolation(f"materials[{i}].document", f"未找到所选材料 documents/{i:032d}，请重新上传。",
                               "DOCUMENT_NOT_FOUND") for i in range(n)],
                metadata={"plates": "冀A12345," * n})
        if text == "rid":
            return (ctx.current_request_id() or "").encode()
        return request


def add_echo(servicer: Echo, server: grpc.Server) -> None:
    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "Call": grpc.unary_unary_rpc_method_handler(servicer.call, _identity, _identity),
    })
    server.add_generic_rpc_handlers((handler,))


@pytest.fixture
def channel(grpc_serve):
    return grpc_serve([(add_echo, Echo(), SERVICE)], domain="permit.test")


def call(channel: grpc.Channel, text: str, metadata=None) -> bytes:
    stub = channel.unary_unary(f"/{SERVICE}/Call", request_serializer=_identity,
                               response_deserializer=_identity)
    return stub(text.encode(), timeout=5, metadata=metadata)


def test_domain_error_becomes_status_with_reason_and_field(channel):
    with pytest.raises(grpc.RpcError) as ei:
        call(channel, "invalid")
    d = ErrorDetails.from_rpc_error(ei.value)
    assert d.code == grpc.StatusCode.INVALID_ARGUMENT
    assert d.reason == "CARGO_WEIGHT_INVALID"
    assert d.domain == "permit.test"
    assert d.message == "货物重量必须大于 0。"
    assert d.metadata["field"] == "cargo.weight_kg"
    assert d.violations == [FieldViolation("cargo.weight_kg", "货物重量必须大于 0。", "CARGO_WEIGHT_INVALID")]


def test_not_found_maps_to_not_found(channel):
    with pytest.raises(grpc.RpcError) as ei:
        call(channel, "missing")
    d = ErrorDetails.from_rpc_error(ei.value)
    assert (d.code, d.reason) == (grpc.StatusCode.NOT_FOUND, "APPLICATION_NOT_FOUND")
    assert isinstance(d.to_error(), NotFound)


def test_unexpected_exception_is_internal_with_generic_message_and_logged(channel):
    with capture_logs() as logs, pytest.raises(grpc.RpcError) as ei:
        call(channel, "crash")
    assert ei.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in ei.value.details()
    assert any(e["event"] == "rpc_unhandled_exception" for e in logs)


def test_one_access_log_line_per_rpc(channel):
    with capture_logs() as logs:
        call(channel, "hello")
        with pytest.raises(grpc.RpcError):
            call(channel, "missing")
    lines = [e for e in logs if e["event"] == "rpc"]
    assert [(e["method"], e["code"]) for e in lines] == [
        (f"/{SERVICE}/Call", "OK"), (f"/{SERVICE}/Call", "NOT_FOUND")]
    assert all(isinstance(e["ms"], float) for e in lines)


def test_principal_is_read_from_metadata(channel):
    p = ctx.Principal(subject="users/7", party="parties/L1001", roles=frozenset({"applicant"}),
                      province=None)
    assert call(channel, "whoami", metadata=call_metadata(p)).decode() == "users/7|parties/L1001|applicant|None"
    assert call(channel, "whoami").decode() == "anon"


def test_request_id_is_taken_from_metadata_or_generated(channel):
    assert call(channel, "rid", metadata=[("x-request-id", "abc123")]).decode() == "abc123"
    generated = call(channel, "rid").decode()
    assert len(generated) == 32 and generated != "abc123"


def test_forwarding_channel_carries_request_id_and_principal(channel):
    fwd = make_channel(f"127.0.0.1:{channel.port}")
    p = ctx.Principal(subject="services/application", roles=frozenset({"service"}))
    with ctx.bind(principal=p, request_id="req-42"):
        assert call(fwd, "rid").decode() == "req-42"
        assert call(fwd, "whoami").decode().startswith("services/application|None|service")
    fwd.close()


def test_health_and_reflection_are_served(channel):
    health = health_pb2_grpc.HealthStub(channel)
    resp = health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING
    refl = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = list(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                             timeout=5))
    names = {s.name for s in answers[0].list_services_response.service}
    assert SERVICE in names and "grpc.health.v1.Health" in names


def test_bind_fails_on_a_taken_port():
    server, port = grpc_server(domain="permit.test", services=[], port=0)
    try:
        with pytest.raises(OSError):
            grpc_server(domain="permit.test", services=[], port=port)
    finally:
        server.stop(0)


def test_rpc_latency_is_recorded_by_method_and_code(channel):
    from prometheus_client import REGISTRY

    def count(code: str) -> float:
        v = REGISTRY.get_sample_value("permit_rpc_seconds_count", {"method": f"/{SERVICE}/Call", "code": code})
        return v or 0.0

    before = count("NOT_FOUND")
    with pytest.raises(grpc.RpcError):
        call(channel, "missing")
    assert count("NOT_FOUND") == before + 1


def test_text_with_nul_is_refused_before_the_servicer_with_the_field_path(grpc_serve):
    """U+0000 in any string field, however deeply nested, is INVALID_CHARACTER (no 500 from the database)."""
    from google.rpc import error_details_pb2

    calls: list[object] = []

    def handle(request, context):
        calls.append(request)
        return request

    name = "permit.test.v1.NulService"

    def add(_servicer, server):
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, {
            "Call": grpc.unary_unary_rpc_method_handler(
                handle, error_details_pb2.BadRequest.FromString, error_details_pb2.BadRequest.SerializeToString),
        }),))

    ch = grpc_serve([(add, None, name)])
    stub = ch.unary_unary(f"/{name}/Call", request_serializer=error_details_pb2.BadRequest.SerializeToString,
                          response_deserializer=error_details_pb2.BadRequest.FromString)
    ok = error_details_pb2.BadRequest(field_violations=[error_details_pb2.BadRequest.FieldViolation(field="车牌")])
    assert stub(ok, timeout=5) == ok
    bad = error_details_pb2.BadRequest(field_violations=[
        error_details_pb2.BadRequest.FieldViolation(field="a"),
        error_details_pb2.BadRequest.FieldViolation(field="b", description="冀A\x0012345")])
    with pytest.raises(grpc.RpcError) as ei:
        stub(bad, timeout=5)
    d = ErrorDetails.from_rpc_error(ei.value)
    assert (d.code, d.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CHARACTER")
    assert d.metadata["field"] == "field_violations[1].description"
    assert len(calls) == 1


def test_the_nul_check_walks_only_a_request_whose_wire_form_has_a_zero_byte(monkeypatch):
    """A request with no zero byte on the wire has no U+0000 in any string: it is let through
    without the field-by-field walk. A zero byte that is not U+0000 (an empty string of a
    repeated field) is walked and let through; U+0000 in a list or a map is refused by path."""
    from google.protobuf import field_mask_pb2
    from google.rpc import error_details_pb2

    from permitkit import server

    walked: list[object] = []
    walk = server._nul_field

    def counting(msg, prefix=""):
        if not prefix:
            walked.append(msg)
        return walk(msg, prefix)
    monkeypatch.setattr(server, "_nul_field", counting)

    server.reject_nul(field_mask_pb2.FieldMask(paths=["application.cargo", "冀A12345"]))
    assert walked == []
    server.reject_nul(field_mask_pb2.FieldMask(paths=["", "cargo"]))
    assert len(walked) == 1
    with pytest.raises(InvalidArgument) as e:
        server.reject_nul(field_mask_pb2.FieldMask(paths=["cargo", "vehicles\x00"]))
    assert (e.value.reason, e.value.field) == ("INVALID_CHARACTER", "paths")
    with pytest.raises(InvalidArgument) as e:
        server.reject_nul(error_details_pb2.ErrorInfo(reason="R", metadata={"plate": "冀A\x0012345"}))
    assert e.value.field == "metadata"


@pytest.mark.parametrize("n", [100, 300, 2000])
def test_many_field_violations_stay_a_chinese_400_under_the_metadata_limit(channel, n):
    """A step with hundreds of bad entries is INVALID_ARGUMENT (HTTP 400), never
    RESOURCE_EXHAUSTED from an overflowing trailer: the list is capped and the message
    says how many more there are. The receiving channel has gRPC's default limit."""
    with pytest.raises(grpc.RpcError) as e:
        call(channel, f"many:{n}")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, e.value.details()
    d = ErrorDetails.from_rpc_error(e.value)
    assert d.reason == "INVALID_FIELD"
    assert 0 < len(d.violations) <= n
    assert d.violations[0].field == "materials[0].document"
    omitted = n - len(d.violations)
    assert d.metadata["violation_count"] == str(n)
    if omitted:
        assert f"另有 {omitted} 处" in d.message and d.metadata["omitted_violations"] == str(omitted)


class TestSettleHeap:
    """A serving process freezes what it started with: full collections leave it out."""

    def test_what_is_alive_when_the_heap_settles_is_left_out_of_collections(self) -> None:
        import gc

        from permitkit.server import settle_heap

        kept = [[i] for i in range(1000)]
        try:
            settle_heap()
            assert gc.get_freeze_count() >= len(kept)
            assert not any(o is kept for o in gc.get_objects(generation=2))
            # What comes after is still collected: a cycle made now is freed.
            import weakref

            class Node:
                pass
            cycle = Node()
            cycle.self = cycle  # type: ignore[attr-defined]
            alive = weakref.ref(cycle)
            del cycle
            gc.collect()
            assert alive() is None
        finally:
            gc.unfreeze()

    def test_serve_settles_the_heap_after_the_app_starts_and_before_it_serves(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        from types import SimpleNamespace

        from permitkit import server

        order: list[str] = []
        app = SimpleNamespace(settings=SimpleNamespace(context="test", grpc_host="127.0.0.1", metrics_port=0,
                                                       metrics_host="127.0.0.1"),
                              start=lambda: order.append("start"), close=lambda: order.append("close"))
        monkeypatch.setattr(server, "build_server", lambda app: (object(), 1))
        monkeypatch.setattr(server, "settle_heap", lambda: order.append("settle"))
        monkeypatch.setattr(server, "serve_until_signal", lambda *a, **kw: order.append("serve"))
        assert server.serve(app) == 0  # type: ignore[arg-type]
        assert order == ["start", "settle", "serve", "close"]


_SIGNALLED_ELSEWHERE = """
import signal, sys, threading, time
from unittest import mock
from permitkit import server

class Server:  # what serve_until_signal needs of a grpc.Server
    def start(self): pass
    def stop(self, grace):
        done = threading.Event(); done.set(); return done

def elsewhere():
    time.sleep(0.5)
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)  # delivered to this thread
    time.sleep(60)  # stays alive, as a server's threads do

threading.Thread(target=elsewhere, daemon=True).start()
with mock.patch("permitkit.metrics.serve_metrics"):
    server.serve_until_signal(Server(), grace=0)
print("stopped", flush=True)
"""


def test_a_sigterm_delivered_to_another_thread_still_stops_the_server(tmp_path) -> None:
    """The kernel gives a process's SIGTERM to any of its threads; the main thread must
    still run the handler and stop (before, one stop in a few dozen hung until killed)."""
    script = tmp_path / "signalled.py"
    script.write_text(_SIGNALLED_ELSEWHERE)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "stopped" and "shutdown_requested" in out.stdout
