"""Pure conversions between identity models and protobuf messages."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from permit.identity.v1 import identity_pb2 as pb
from permit_identity.models import EnterpriseChange, EnterpriseProfile, Licence, Officer, Party
from permit_identity.services import MeView, SessionView, masked


def ts(value: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(value.astimezone(dt.UTC))
    return t


def date(value: dt.date | None) -> date_pb2.Date | None:
    if value is None:
        return None
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def from_date(value: date_pb2.Date, present: bool) -> dt.date | None:
    if not present or value.year == 0:
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        return None


def channel_name(value: pb.Channel.ValueType) -> str:
    """`CHANNEL_APP` (1) -> `APP`; unspecified -> ``""``."""
    if value == pb.CHANNEL_UNSPECIFIED:
        return ""
    try:
        return pb.Channel.Name(value).removeprefix("CHANNEL_")
    except ValueError:
        return ""


def channel_value(name: str) -> pb.Channel.ValueType:
    return pb.Channel.Value(f"CHANNEL_{name}") if name else pb.CHANNEL_UNSPECIFIED


def onboarding_value(name: str) -> pb.OnboardingState.ValueType:
    return pb.OnboardingState.Value(f"ONBOARDING_STATE_{name}") if name else pb.ONBOARDING_STATE_UNSPECIFIED


def onboarding_name(value: pb.OnboardingState.ValueType) -> str:
    return pb.OnboardingState.Name(value).removeprefix("ONBOARDING_STATE_") if value else ""


def party_kind_value(name: str) -> pb.PartyKind.ValueType:
    return pb.PartyKind.Value(f"PARTY_KIND_{name}") if name else pb.PARTY_KIND_UNSPECIFIED


def party_kind_name(value: pb.PartyKind.ValueType) -> str:
    return pb.PartyKind.Name(value).removeprefix("PARTY_KIND_") if value else ""


def licence_state_value(name: str) -> pb.Licence.State.ValueType:
    return pb.Licence.State.Value(f"STATE_{name}")


def licence_state_name(value: pb.Licence.State.ValueType) -> str:
    return pb.Licence.State.Name(value).removeprefix("STATE_") if value else ""


def licence_pb(licence: Licence) -> pb.Licence:
    party = licence.party
    return pb.Licence(
        name=licence.name, party=party.name, submitter=f"users/{licence.submitter_id}",
        party_display_name=party.display_name, licence_number=licence.licence_number,
        issuing_authority=licence.issuing_authority, valid_from=date(licence.valid_from),
        valid_until=date(licence.valid_until), document=licence.document,
        state=licence_state_value(licence.state), province=licence.province,
        submit_time=ts(licence.submit_time), due_date=date(licence.due_date),
        due_date_provisional=licence.due_date_provisional,
        reviewer=f"officers/{licence.reviewer_id}" if licence.reviewer_id else "",
        review_time=ts(licence.review_time), rejection_reason=licence.rejection_reason or "",
        create_time=ts(licence.create_time), update_time=ts(licence.update_time),
        etag=licence.etag, masked_identifier=masked(party),
    )


def me_pb(me: MeView) -> pb.Me:
    out = pb.Me(
        user=me.user, party=me.party, party_kind=party_kind_value(me.party_kind),
        display_name=me.display_name, roles=me.roles, province=me.province,
        onboarding=onboarding_value(me.onboarding), legacy_linked=me.legacy_linked,
        channel=channel_value(me.channel),
        link_hint=(pb.LinkHint.Value(f"LINK_HINT_{me.link_hint}") if me.link_hint
                   else pb.LINK_HINT_UNSPECIFIED),
        link_hint_message=me.link_hint_message, masked_identifier=me.masked_identifier,
        legacy_account=me.legacy_account,
    )
    if me.licence is not None:
        out.licence = me.licence.name
        if me.licence.state == "PENDING":
            out.licence_due_date.CopyFrom(date(me.licence.due_date))
        if me.licence.rejection_reason:
            out.licence_rejection_reason = me.licence.rejection_reason
    return out


def session_pb(view: SessionView) -> pb.Session:
    return pb.Session(access_token=view.access_token, refresh_token=view.refresh_token,
                      expire_time=ts(view.expire_time), me=me_pb(view.me),
                      refresh_expire_time=ts(view.refresh_expire_time), name=view.name)


def officer_pb(officer: Officer) -> pb.Officer:
    return pb.Officer(name=officer.name, login=officer.id, display_name=officer.display_name,
                      province=officer.province, roles=officer.roles, active=officer.active,
                      create_time=ts(officer.create_time), update_time=ts(officer.update_time))


def party_pb(party: Party) -> pb.Party:
    return pb.Party(name=party.name, kind=party_kind_value(party.kind),
                    display_name=party.display_name, masked_identifier=masked(party),
                    province=party.province or "", onboarding=onboarding_value(party.onboarding),
                    legacy_account=party.legacy_id or "", create_time=ts(party.create_time))


def enterprise_pb(party: Party, profile: EnterpriseProfile) -> pb.Enterprise:
    return pb.Enterprise(
        party=party.name, display_name=profile.display_name, credit_code=masked(party), address=profile.address,
        contacts=[pb.EnterpriseContact(name=c.get("name", ""), phone=c.get("phone", "")) for c in profile.contact_list],
        business_scope=profile.business_scope, licence_valid_from=date(profile.licence_valid_from),
        licence_valid_to=date(profile.licence_valid_to), etag=profile.etag, update_time=ts(profile.update_time),
        updated_by=profile.updated_by)


def enterprise_values(e: pb.Enterprise) -> dict[str, object]:
    return {"display_name": e.display_name, "address": e.address, "business_scope": e.business_scope,
            "contacts": [{"name": c.name, "phone": c.phone} for c in e.contacts],
            "licence_valid_from": from_date(e.licence_valid_from, e.HasField("licence_valid_from")),
            "licence_valid_to": from_date(e.licence_valid_to, e.HasField("licence_valid_to"))}


def enterprise_change_pb(c: EnterpriseChange) -> pb.EnterpriseChange:
    return pb.EnterpriseChange(actor=c.actor, change_time=ts(c.change_time), fields=[
        pb.EnterpriseFieldChange(field=f.get("field", ""), before=f.get("before", ""), after=f.get("after", ""))
        for f in c.fields])
