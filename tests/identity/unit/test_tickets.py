"""The development channel provider verifies signature, expiry and channel (ID-1, ID-2, ID-6)."""

from __future__ import annotations

import datetime as dt

import pytest

from permit_identity import errors
from permit_identity.models import Channel
from permit_identity.tickets import DevTicketProvider, mint_dev_ticket

KEY = "k" * 40
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


def provider() -> DevTicketProvider:
    return DevTicketProvider(KEY)


def test_legal_person_ticket_on_app_gives_the_claimed_identity_ID_1() -> None:
    t = mint_dev_ticket(KEY, channel="APP", user_type="LEGAL", uid="u1", name="某公司",
                        uscc="91130100MA0DPQ7R8A", now=NOW)
    ident = provider().verify(t, channel=Channel.APP, now=NOW)
    assert (ident.channel, ident.user_type, ident.uid, ident.uscc) == (
        Channel.APP, "LEGAL", "u1", "91130100MA0DPQ7R8A")
    assert ident.expires_at == NOW + dt.timedelta(minutes=10)


def test_ticket_signed_with_another_key_is_invalid_ID_1() -> None:
    t = mint_dev_ticket("x" * 40, channel="APP", uid="u1", now=NOW)
    with pytest.raises(errors.TicketInvalid):
        provider().verify(t, channel=Channel.APP, now=NOW)


def test_tampered_ticket_is_invalid_ID_1() -> None:
    t = mint_dev_ticket(KEY, channel="APP", uid="u1", now=NOW)
    head, body, sig = t.split(".")
    with pytest.raises(errors.TicketInvalid):
        provider().verify(f"{head}.{body}x.{sig}", channel=Channel.APP, now=NOW)


def test_expired_ticket_is_refused_ID_1() -> None:
    t = mint_dev_ticket(KEY, channel="WECHAT", uid="u1", now=NOW, ttl=dt.timedelta(minutes=5))
    provider().verify(t, channel=Channel.WECHAT, now=NOW + dt.timedelta(minutes=4, seconds=59))
    with pytest.raises(errors.TicketExpired):
        provider().verify(t, channel=Channel.WECHAT, now=NOW + dt.timedelta(minutes=5))


def test_ticket_of_another_channel_is_refused_ID_1() -> None:
    t = mint_dev_ticket(KEY, channel="ALIPAY", uid="u1", now=NOW)
    with pytest.raises(errors.TicketChannelMismatch):
        provider().verify(t, channel=Channel.WECHAT, now=NOW)


def test_ticket_living_longer_than_an_hour_is_refused_ID_1() -> None:
    t = mint_dev_ticket(KEY, channel="APP", uid="u1", now=NOW, ttl=dt.timedelta(hours=2))
    with pytest.raises(errors.TicketInvalid):
        provider().verify(t, channel=Channel.APP, now=NOW)


def test_staff_ticket_names_the_officer_ID_6() -> None:
    t = mint_dev_ticket(KEY, channel="STAFF", officer="hebei-accept", now=NOW)
    ident = provider().verify(t, channel=Channel.STAFF, now=NOW)
    assert ident.officer_login == "hebei-accept"


def test_staff_ticket_without_officer_is_invalid_ID_6() -> None:
    import jwt

    t = jwt.encode({"iss": "permit-dev-platform", "ch": "STAFF", "jti": "j",
                    "exp": int((NOW + dt.timedelta(minutes=1)).timestamp())}, KEY, algorithm="HS256")
    with pytest.raises(errors.TicketInvalid):
        provider().verify(t, channel=Channel.STAFF, now=NOW)


def test_portal_account_source_is_carried_for_refusal_ID_2() -> None:
    t = mint_dev_ticket(KEY, channel="APP", uid="u1", source="MOT_PORTAL", now=NOW)
    assert provider().verify(t, channel=Channel.APP, now=NOW).account_source == "MOT_PORTAL"


def test_each_minted_ticket_has_its_own_id_for_single_use_ID_1() -> None:
    a = provider().verify(mint_dev_ticket(KEY, channel="APP", uid="u1", now=NOW), channel=Channel.APP, now=NOW)
    b = provider().verify(mint_dev_ticket(KEY, channel="APP", uid="u1", now=NOW), channel=Channel.APP, now=NOW)
    assert a.ticket_key != b.ticket_key
    assert a.subject_key == b.subject_key
