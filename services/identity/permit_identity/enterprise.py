"""Enterprise information (PC-2, ID-3): identity owns it. The carrier's users see
and keep their own; officers see an applicant's while it has a case in their
province (approval answers that); every change is audited."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import structlog

from permit_identity import errors
from permit_identity.models import ENTERPRISE_FIELDS, EnterpriseChange, EnterpriseProfile, Party
from permit_identity.unit_of_work import IdentityUnitOfWork
from permitkit import access
from permitkit.context import Principal
from permitkit.errors import FieldViolation, InvalidArgument
from permitkit.etags import etag_matches
from permitkit.paging import Page, PageRequest, scope_of

log = structlog.get_logger(__name__)

OFFICER_ROLES = ("officer.accept", "officer.review", "officer.licence")


class CasePort(Protocol):
    """Approval, which holds the cases, seen from identity's use cases."""

    def applicant_in_province(self, applicant: str, province: str) -> bool:
        """Whether the applicant has a case with the province as origin or on its route."""
        ...


def _date(v: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(v)[:10]) if v else None
    except ValueError:
        return None


def default_profile(uow: IdentityUnitOfWork, party: Party) -> EnterpriseProfile:
    """What the PC system's export said (ID-3), or the party's own name and code."""
    info: Mapping[str, Any] = {}
    if party.legacy_id:
        acc = uow.legacy.get(party.legacy_id)
        info = acc.info if acc is not None else {}
    contacts = info.get("contacts")
    if not isinstance(contacts, list):
        rep = info.get("legal_representative")
        name = str(rep.get("name", "")) if isinstance(rep, Mapping) else ""
        contacts = [{"name": name, "phone": str(info["contact_phone"])}] if info.get("contact_phone") else []
    contacts = [{"name": str(c.get("name", "")), "phone": str(c.get("phone", ""))}
                for c in contacts if isinstance(c, Mapping)]
    return EnterpriseProfile(
        party_id=party.id, display_name=party.display_name, address=str(info.get("address") or ""),
        contacts=json.dumps(contacts, ensure_ascii=False), business_scope=str(info.get("business_scope") or ""),
        licence_valid_from=_date(info.get("licence_valid_from")), licence_valid_to=_date(info.get("licence_valid_to")),
        version=1, update_time=None, updated_by="")


def _own_party(principal: Principal | None) -> str:
    p = access.signed_in(principal)
    if not p.has_role("applicant") or not p.party:
        raise errors.NotApplicant()
    return p.party.removeprefix("parties/")


def _profile(uow: IdentityUnitOfWork, party_id: str) -> tuple[Party, EnterpriseProfile]:
    party = uow.parties.get(party_id)
    if party is None:
        raise errors.PartyNotFound(field="party")
    return party, uow.enterprises.get(party_id) or default_profile(uow, party)


def get_enterprise(uow: IdentityUnitOfWork, *, principal: Principal | None, party: str = "",
                   cases: CasePort | None = None) -> tuple[Party, EnterpriseProfile]:
    """The caller's own enterprise information, or an applicant's for an officer of a
    province where it has a case (PC-2)."""
    p = access.signed_in(principal)
    if any(p.has_role(r) for r in OFFICER_ROLES) and not p.has_role("applicant"):
        if not party.startswith("parties/") or party == "parties/":
            raise InvalidArgument("请指定申请人。", reason="ENTERPRISE_PARTY_REQUIRED", field="party")
        if cases is None or not p.province or not cases.applicant_in_province(party, p.province):
            raise access.OtherProvince(field="party")
        with uow:
            return _profile(uow, party.removeprefix("parties/"))
    party_id = _own_party(p)
    with uow:
        return _profile(uow, party_id)


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    bad: list[FieldViolation] = []
    out: dict[str, Any] = {}
    for f, v in values.items():
        if f == "display_name":
            v = str(v).strip()
            if not v:
                bad.append(FieldViolation("enterprise.display_name", "请填写名称。", "REQUIRED"))
            elif len(v) > 200:
                bad.append(FieldViolation("enterprise.display_name", "名称不能超过 200 个字。", "TOO_LONG"))
        elif f == "address":
            v = str(v).strip()
            if len(v) > 300:
                bad.append(FieldViolation("enterprise.address", "地址不能超过 300 个字。", "TOO_LONG"))
        elif f == "business_scope":
            v = str(v).strip()
            if len(v) > 2000:
                bad.append(FieldViolation("enterprise.business_scope", "经营范围不能超过 2000 个字。", "TOO_LONG"))
        elif f == "contacts":
            cs = [{"name": str(c.get("name", "")).strip(), "phone": str(c.get("phone", "")).strip()} for c in v]
            for i, c in enumerate(cs):
                if not c["name"] or not c["phone"]:
                    bad.append(FieldViolation(f"enterprise.contacts[{i}]", "请填写联系人姓名和电话。", "REQUIRED"))
                elif not all(ch.isdigit() or ch in "-+ " for ch in c["phone"]) or len(c["phone"]) > 20:
                    bad.append(FieldViolation(f"enterprise.contacts[{i}].phone", "联系电话格式不正确。",
                                              "PHONE_INVALID"))
            v = json.dumps(cs, ensure_ascii=False)
        out[f] = v
    start, end = out.get("licence_valid_from"), out.get("licence_valid_to")
    if start and end and end < start:
        bad.append(FieldViolation("enterprise.licence_valid_to", "营业执照有效期截止日期不能早于起始日期。",
                                  "VALIDITY_INVERTED"))
    if bad:
        raise InvalidArgument("填写内容有误，请按提示修改。", reason="INVALID_FIELD", violations=bad)
    return out


def update_enterprise(uow: IdentityUnitOfWork, *, principal: Principal | None, paths: Sequence[str],
                      values: Mapping[str, Any], etag: str, now: dt.datetime) -> tuple[Party, EnterpriseProfile]:
    """The carrier changes its enterprise information; the change is audited (PC-2)."""
    p = access.signed_in(principal)
    party_id = _own_party(p)
    if not paths or any(f not in ENTERPRISE_FIELDS for f in paths):
        raise errors.UpdateMaskInvalid(field="update_mask")
    with uow:
        party, profile = _profile(uow, party_id)
        if not etag_matches(etag, profile.version):
            raise errors.EtagMismatch(field="enterprise.etag")
        current = {f: getattr(profile, f) for f in ("licence_valid_from", "licence_valid_to")}
        checked = _checked({**current, **{f: values.get(f) for f in paths}})
        checked = {f: checked[f] for f in paths}
        change = profile.change(checked, actor=p.subject, now=now)
        if change is not None:
            if uow.enterprises.get(party_id) is None:
                uow.enterprises.add(profile)
            uow.enterprises.add_change(change)
            if "display_name" in paths:
                party.display_name = profile.display_name
            uow.commit()
            log.info("enterprise_changed", party=party.name, fields=[c["field"] for c in change.fields],
                     by=p.subject)
        return party, profile


def list_enterprise_changes(uow: IdentityUnitOfWork, *, principal: Principal | None, page_size: int = 0,
                            page_token: str = "") -> Page[EnterpriseChange]:
    """The audit trail of the caller's enterprise information, newest first (PC-2)."""
    party_id = _own_party(principal)
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("enterprise", party_id),
                         default=20, maximum=100)
    with uow:
        return req.cut(uow.enterprises.changes(party_id, offset=req.offset, limit=req.limit))
