"""The started system answers health, reflection and its OpenAPI document; the
list of RPCs that still answer UNIMPLEMENTED is printed and pinned."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from permit_gateway.transcoding import CONTEXTS, load_service_modules

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
PINNED = Path(__file__).with_name("unimplemented.txt")


@pytest.mark.parametrize("ctx", CONTEXTS)
def test_every_service_answers_health_and_reflection(stack, ctx):
    mod = dict(zip(CONTEXTS, load_service_modules(), strict=True))[ctx]
    (svc,) = mod.DESCRIPTOR.services_by_name.values()
    svc = svc.full_name
    with grpc.insecure_channel(f"127.0.0.1:{stack.ports[ctx]}") as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=svc), timeout=5)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
        req = reflection_pb2.ServerReflectionRequest(list_services="")
        answer = next(reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(iter([req]), timeout=5))
        assert svc in {s.name for s in answer.list_services_response.service}


def test_gateway_serves_openapi(anonymous):
    doc = anonymous.get("/openapi.json")
    assert doc["openapi"].startswith("3.")
    assert "/v1/applications" in doc["paths"]


def _unimplemented(stack) -> list[str]:
    """Call every RPC anonymously with an empty request: only unimplemented ones say UNIMPLEMENTED."""
    found = []
    for ctx, mod in zip(CONTEXTS, load_service_modules(), strict=True):
        with grpc.insecure_channel(f"127.0.0.1:{stack.ports[ctx]}") as ch:
            for svc in mod.DESCRIPTOR.services_by_name.values():
                for m in svc.methods:
                    req_cls = message_factory.GetMessageClass(m.input_type)
                    resp_cls = message_factory.GetMessageClass(m.output_type)
                    path = f"/{svc.full_name}/{m.name}"
                    kw = dict(request_serializer=req_cls.SerializeToString,
                              response_deserializer=resp_cls.FromString)
                    try:
                        if m.client_streaming:
                            ch.stream_unary(path, **kw)(iter([]), timeout=10)
                        elif m.server_streaming:
                            next(iter(ch.unary_stream(path, **kw)(req_cls(), timeout=10)), None)
                        else:
                            ch.unary_unary(path, **kw)(req_cls(), timeout=10)
                    except grpc.RpcError as e:
                        if e.code() == grpc.StatusCode.UNIMPLEMENTED:
                            found.append(f"{svc.full_name}/{m.name}")
    return sorted(found)


def test_unimplemented_rpcs_are_exactly_the_pinned_list(stack):
    """Progress is visible: implementing an RPC (or breaking one) changes this list."""
    found = _unimplemented(stack)
    listing = "\n  ".join(found) or "none"
    print(f"\nRPCs still answering UNIMPLEMENTED ({len(found)}):\n  {listing}")
    pinned = [ln.strip() for ln in PINNED.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert found == sorted(pinned), "update tests/e2e/unimplemented.txt"
