"""Paging of ListPublicKeys (AIP-158) over gRPC, on PostgreSQL and SQLite.

The gateway's token verifier calls ListPublicKeys without page fields and
reads one page, so that page must hold every published key."""

from __future__ import annotations

import base64

import grpc
import pytest

from permit.identity.v1 import identity_service_pb2 as spb
from permit_identity import services
from permitkit.context import Principal
from permitkit.errors import ErrorDetails
from tests.identity.conftest import Harness

pytestmark = pytest.mark.integration

SERVICE = Principal(subject="services/test", roles=frozenset({"service"}))


def rotate(h: Harness, times: int) -> list[str]:
    """Rotate the signing key ``times`` times at one instant: every key stays published.
    The first key is made on first use, so it is asked for before rotating."""
    h.stub.ListPublicKeys(spb.ListPublicKeysRequest())
    return [services.rotate_signing_key(h.app.uow(), principal=SERVICE, now=h.clock.now,
                                        policy=h.app.policy).key_id for _ in range(times)]


def published(h: Harness) -> list[str]:
    """The published key ids as stored, by activation then id."""
    with h.app.uow() as uow:
        keys = sorted((k for k in uow.keys.all() if k.published_at(h.clock.now)),
                      key=lambda k: (k.activate_time, k.key_id))
        return [k.key_id for k in keys]


def keys_page(h: Harness, page_size: int = 0, page_token: str = "") -> spb.ListPublicKeysResponse:
    return h.stub.ListPublicKeys(spb.ListPublicKeysRequest(page_size=page_size, page_token=page_token))


class TestListPublicKeysPaging:
    def test_a_call_without_page_fields_gets_every_published_key(self, harness: Harness) -> None:
        before = {k.key_id for k in harness.stub.ListPublicKeys(spb.ListPublicKeysRequest()).keys}
        rotated = rotate(harness, 5)
        resp = harness.stub.ListPublicKeys(spb.ListPublicKeysRequest())
        assert len(resp.keys) == 6 and {k.key_id for k in resp.keys} == before | set(rotated)
        assert [k.key_id for k in resp.keys] == published(harness)
        assert resp.next_page_token == ""

    def test_first_next_and_last_page(self, harness: Harness) -> None:
        rotate(harness, 4)
        everything = published(harness)
        assert len(everything) == 5
        pages = [keys_page(harness, page_size=2)]
        while pages[-1].next_page_token:
            pages.append(keys_page(harness, page_size=2, page_token=pages[-1].next_page_token))
        assert [len(p.keys) for p in pages] == [2, 2, 1]
        assert all(p.next_page_token for p in pages[:-1]) and pages[-1].next_page_token == ""
        assert [k.key_id for p in pages for k in p.keys] == everything

    @pytest.mark.parametrize("token", [
        "not-a-token",
        base64.urlsafe_b64encode(b"x:2").decode(),
        base64.urlsafe_b64encode(b"o:-2").decode(),
        base64.urlsafe_b64encode(b"o:two").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ])
    def test_a_tampered_token_is_refused(self, sqlite_harness: Harness, token: str) -> None:
        with pytest.raises(grpc.RpcError) as e:
            keys_page(sqlite_harness, page_size=1, page_token=token)
        d = ErrorDetails.from_rpc_error(e.value)
        assert (d.code, d.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN")
        assert [v.field for v in d.violations] == ["page_token"]

    def test_a_real_token_cut_short_is_refused(self, sqlite_harness: Harness) -> None:
        rotate(sqlite_harness, 2)
        token = keys_page(sqlite_harness, page_size=1).next_page_token
        with pytest.raises(grpc.RpcError) as e:
            keys_page(sqlite_harness, page_size=1, page_token=token[:-1])
        assert ErrorDetails.from_rpc_error(e.value).reason == "INVALID_PAGE_TOKEN"

    def test_a_real_token_with_its_offset_edited_is_refused(self, sqlite_harness: Harness) -> None:
        rotate(sqlite_harness, 2)
        token = keys_page(sqlite_harness, page_size=1).next_page_token
        kind, offset, checksum = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(":")
        edited = base64.urlsafe_b64encode(f"{kind}:{int(offset) + 1}:{checksum}".encode()).decode().rstrip("=")
        with pytest.raises(grpc.RpcError) as e:
            keys_page(sqlite_harness, page_size=1, page_token=edited)
        assert ErrorDetails.from_rpc_error(e.value).reason == "INVALID_PAGE_TOKEN"

    def test_a_page_size_over_the_cap_is_clamped(self, sqlite_harness: Harness) -> None:
        h = sqlite_harness
        rotate(h, 101)
        everything = published(h)
        assert len(everything) == 102
        first = keys_page(h, page_size=100_000)
        assert len(first.keys) == 100 and first.next_page_token
        last = keys_page(h, page_size=100_000, page_token=first.next_page_token)
        assert len(last.keys) == 2 and last.next_page_token == ""
        assert [k.key_id for k in [*first.keys, *last.keys]] == everything
