"""Gateway replicas sharing rate limits and sign-outs through a real Redis server, and what
each purpose does while Redis is away: limits per replica, revocations never skipped (ID-6)."""

from __future__ import annotations

import asyncio
import time
import uuid

import jwt
import pytest
import redis
from fastapi.testclient import TestClient

from permit.identity.v1 import identity_internal_pb2_grpc as id_igrpc
from permit.identity.v1 import identity_service_pb2 as id_pb
from permit.identity.v1 import identity_service_pb2_grpc as id_grpc
from permit_gateway.app import create_app
from permit_gateway.config import Settings
from permit_gateway.shared import RedisStore, StoreUnavailable
from permitkit.testing import free_port
from tests.gateway.test_gateway import FakeIdentity, auth, token


@pytest.fixture
def prefix(redis_url):
    """A key prefix of this test's own (the Redis may be shared); its keys are removed after."""
    p = f"test:{uuid.uuid4().hex[:12]}:"
    yield p
    r = redis.Redis.from_url(redis_url)
    keys = list(r.scan_iter(f"{p}*"))
    if keys:
        r.delete(*keys)
    r.close()


class Identity(FakeIdentity):
    """Sign-out works; the session check (IdentityInternalService.IntrospectToken, served from
    here too) says what ``state`` says (open / revoked / crash)."""

    def __init__(self) -> None:
        self.state = "open"
        self.checks = 0
        self.ended: set[str] = set()  # sessions ended by a sign-out

    def SignOut(self, request, context):
        # Here a refresh token is the id of the session it belongs to.
        self.ended.add(request.refresh_token)
        return id_pb.SignOutResponse(revoked_count=1)

    def IntrospectToken(self, request, context):
        self.checks += 1
        if self.state == "crash":
            raise RuntimeError("identity database away")
        sid = jwt.decode(request.access_token, options={"verify_signature": False})["sid"]
        gone = self.state == "revoked" or sid.startswith("gone") or sid in self.ended
        return id_pb.IntrospectTokenResponse(active=not gone, reason="SESSION_REVOKED" if gone else "")


@pytest.fixture
def identity(grpc_serve):
    ident = Identity()
    internal = id_igrpc.IdentityInternalServiceServicer()
    internal.IntrospectToken = ident.IntrospectToken  # type: ignore[method-assign]
    ch = grpc_serve([(id_grpc.add_IdentityServiceServicer_to_server, ident, "permit.identity.v1.IdentityService"),
                     (id_igrpc.add_IdentityInternalServiceServicer_to_server, internal,
                      "permit.identity.v1.IdentityInternalService")])
    return ident, ch.port


def replica(port: int, redis_url: str, prefix: str, **extra: str) -> TestClient:
    env = {"IDENTITY_SERVICE_ADDR": f"127.0.0.1:{port}", "PERMIT_GATEWAY_REDIS_URL": redis_url,
           "PERMIT_GATEWAY_REDIS_PREFIX": prefix, "PERMIT_GATEWAY_SESSION_RECHECK_SECONDS": "60", **extra}
    return TestClient(create_app(Settings.from_env(env)))


def test_two_replicas_enforce_one_user_limit_ID_6(identity, prefix, redis_url):
    _, port = identity
    limits = {"PERMIT_GATEWAY_RATE_PER_USER": "0.01", "PERMIT_GATEWAY_RATE_PER_USER_BURST": "6"}
    tok = token(sid="s1", sub=f"users/{uuid.uuid4().hex[:6]}")
    with replica(port, redis_url, prefix, **limits) as a, replica(port, redis_url, prefix, **limits) as b:
        codes = [(a if i % 2 else b).get("/v1/me", headers=auth(tok)).status_code for i in range(10)]
    # One bucket of 6 for both replicas, not 6 each.
    assert codes.count(200) == 6 and codes.count(429) == 4, codes


def test_a_sign_out_on_one_replica_stops_the_token_on_the_other_at_once_ID_6(identity, prefix, redis_url):
    ident, port = identity
    tok = token(sid=f"s-{uuid.uuid4().hex[:6]}")
    with replica(port, redis_url, prefix) as a, replica(port, redis_url, prefix) as b:
        assert b.get("/v1/me", headers=auth(tok)).status_code == 200  # b has confirmed the session
        sid = jwt.decode(tok, options={"verify_signature": False})["sid"]
        assert a.post("/v1/sessions:signOut", json={"refreshToken": sid}, headers=auth(tok)).status_code == 200
        r = b.get("/v1/me", headers=auth(tok))
        assert (r.status_code, r.json()["error"]["reason"]) == (401, "SESSION_REVOKED")
        assert r.json()["error"]["message"] == "您已退出登录，请重新登录。"
        # Other sessions are untouched.
        assert b.get("/v1/me", headers=auth(token(sid="other"))).status_code == 200


def test_signing_out_another_session_leaves_the_callers_token_working_ID_6(identity, prefix, redis_url):
    """The sign-out named another session (its refresh token): identity says the caller's own
    session is still open, so its token is not revoked anywhere."""
    _, port = identity
    tok = token(sid=f"s-{uuid.uuid4().hex[:6]}")
    with replica(port, redis_url, prefix) as a, replica(port, redis_url, prefix) as b:
        assert a.post("/v1/sessions:signOut", json={"refreshToken": "another-phone"},
                      headers=auth(tok)).status_code == 200
        assert a.get("/v1/me", headers=auth(tok)).status_code == 200
        assert b.get("/v1/me", headers=auth(tok)).status_code == 200


def test_redis_down_limits_fall_back_to_each_replica_and_revocations_ask_identity_ID_6(identity, prefix):
    ident, port = identity
    down = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens
    limits = {"PERMIT_GATEWAY_RATE_PER_USER": "0.01", "PERMIT_GATEWAY_RATE_PER_USER_BURST": "3"}
    tok = token(sid="s-down")
    with replica(port, down, prefix, **limits) as a, replica(port, down, prefix, **limits) as b:
        codes_a = [a.get("/v1/me", headers=auth(tok)).status_code for _ in range(4)]
        codes_b = [b.get("/v1/me", headers=auth(tok)).status_code for _ in range(4)]
        # Each replica its own bucket of 3 while Redis is away.
        assert codes_a == [200, 200, 200, 429] and codes_b == [200, 200, 200, 429]
    with replica(port, down, prefix) as a:
        # Identity is asked instead: a revoked session is refused...
        r = a.get("/v1/me", headers=auth(token(sid="gone-1")))
        assert (r.status_code, r.json()["error"]["reason"]) == (401, "SESSION_REVOKED")
        # ...and with identity away too, refused 503 rather than let through.
        ident.state = "crash"
        r = a.get("/v1/me", headers=auth(token(sid="s-both-down")))
        assert r.status_code == 503
        body = r.json()["error"]
        assert body["reason"] == "SESSION_CHECK_UNAVAILABLE" and body["message"] == "暂时无法确认登录状态，请稍后重试。"


def test_a_sign_out_while_redis_is_away_is_written_when_it_answers_again(prefix, redis_url):
    async def scenario() -> None:
        store = RedisStore(redis_url, prefix=prefix, cool_down=0.1)
        store._down_since = time.monotonic()  # as if Redis just failed
        with pytest.raises(StoreUnavailable):
            await store.revoke("late", until=time.time() + 60)
        await asyncio.sleep(0.15)
        assert await store.is_revoked("late")  # flushed first, then found
        assert not await store.is_revoked("never")
        await store.close()
    asyncio.run(scenario())


def test_the_shared_bucket_refills_at_its_rate(prefix, redis_url):
    async def scenario() -> None:
        store = RedisStore(redis_url, prefix=prefix)
        waits = [await store.take("user:x", 20.0, 2) for _ in range(3)]
        assert waits[:2] == [0.0, 0.0] and 0 < waits[2] <= 0.05 + 1e-6
        await asyncio.sleep(0.1)
        assert await store.take("user:x", 20.0, 2) == 0.0
        await store.close()
    asyncio.run(scenario())


def test_redis_url_must_be_a_redis_url():
    from permitkit.settings import SettingsError
    with pytest.raises(SettingsError, match="PERMIT_GATEWAY_REDIS_URL"):
        Settings.from_env({"PERMIT_GATEWAY_REDIS_URL": "http://127.0.0.1:6379"})
    assert Settings.from_env({}).redis_url == ""
