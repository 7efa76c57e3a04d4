"""The authorization matrix: every operation of the gateway's OpenAPI document, called over
HTTP as every kind of caller, gets the answer declared for it in MATRIX below (ID-6, PQ-2,
RV-1..RV-3: users only see their own data, officers only their province).

Callers (tests/e2e/matrix_fixtures.py): the owner (the legacy carrier L1001 in 河北; for
the licence rows the new 河北 enterprise "licensee" whose licence it is), another applicant
(the individual 王五, L2001), an officer of the province the operation concerns (column
``officer`` of the row), beijing-review (北京 is on no route here), a 北京 officer holding
every officer role (so that province checks, not only role checks, are exercised),
anonymous, an expired token signed with identity's real key, a token signed with a key
identity never published under a real key id, and a real token with an altered payload.

Every cell checks the status and reason; a refusal must name none of the owner's values
(application numbers, plates, party, agent, document and case names, ...) that the caller
did not send itself, and must leave a mutated resource as it was (``unchanged``). A
success by someone other than the owner may only carry what that caller is entitled to:
its own data, or the owner's when the row says the officer concerned sees it.

How each row treats the shared resources is in its ``how``: actions that spend what they
act on (withdraw, delete, abolish, accept, issue, sign out, ...) succeed on a throwaway of
their own, refused callers aim at the shared resource, and where only the authorization
answer matters the target is well-formed but absent (said so in the row).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from permit_gateway.transcoding import collect_rules
from tests.e2e import forms
from tests.e2e import journey as j
from tests.e2e.conftest import Api
from tests.e2e.matrix_fixtures import (
    ADMIN,
    ALL_ROLES_OFFICER,
    ANONYMOUS,
    BEIJING,
    CALLERS,
    EXPIRED,
    FORGED_KEY,
    FORGED_PAYLOAD,
    HEBEI,
    JIANGSU,
    OFFICER,
    OTHER_APPLICANT,
    OTHER_OFFICER,
    OTHER_OFFICER_ALL_ROLES,
    OWNER,
    SHANDONG,
    THROWAWAY_WINDOWS,
    TRACTOR,
    World,
    build_world,
    carrier_identity,
    licence_body,
    mint_ticket,
    new_enterprise_identity,
    officer_identity,
    ok,
    person_identity,
    plus_days,
    send,
    upload,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Expect:
    """The answer of one cell: HTTP status and, for a refusal, its reason code."""

    status: int
    reason: str | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.reason or ''}".strip()


OK = Expect(200)
UNAUTHENTICATED = Expect(401, "UNAUTHENTICATED")
NOT_APPLICANT = Expect(403, "NOT_APPLICANT")
NOT_OFFICER = Expect(403, "NOT_OFFICER")
NOT_ADMIN = Expect(403, "NOT_ADMIN")
NOT_LICENCE_OFFICER = Expect(403, "NOT_LICENCE_OFFICER")
OTHER_PROVINCE = Expect(403, "OTHER_PROVINCE")
INVALID_FIELD = Expect(400, "INVALID_FIELD")
SIGN_IN_STATE_INVALID = Expect(401, "SIGN_IN_STATE_INVALID")
APPLICATION_NOT_FOUND = Expect(404, "APPLICATION_NOT_FOUND")
# Another applicant is answered as if the case or permit did not exist (no existence oracle).
CASE_NOT_FOUND = Expect(404, "CASE_NOT_FOUND")
PERMIT_NOT_FOUND = Expect(404, "PERMIT_NOT_FOUND")
DOCUMENT_NOT_FOUND = Expect(404, "DOCUMENT_NOT_FOUND")
# The gateway verifies any token it is shown, on public operations too: these three
# columns are the same on every row.
TOKEN_ANSWERS = {EXPIRED: Expect(401, "TOKEN_EXPIRED"), FORGED_KEY: Expect(401, "TOKEN_INVALID"),
                 FORGED_PAYLOAD: Expect(401, "TOKEN_INVALID")}


def answers(owner: Expect, other: Expect, officer: Expect, other_officer: Expect,
            all_roles: Expect | None = None, anonymous: Expect = UNAUTHENTICATED) -> dict[str, Expect]:
    """One row's answers by caller; the all-roles 北京 officer answers as beijing-review unless given."""
    return {OWNER: owner, OTHER_APPLICANT: other, OFFICER: officer, OTHER_OFFICER: other_officer,
            OTHER_OFFICER_ALL_ROLES: all_roles or other_officer, ANONYMOUS: anonymous, **TOKEN_ANSWERS}


def everyone(answer: Expect, anonymous: Expect = UNAUTHENTICATED) -> dict[str, Expect]:
    return answers(answer, answer, answer, answer, answer, anonymous)


def token_ignored(row: dict[str, Expect]) -> dict[str, Expect]:
    """Signing in and refreshing ignore a bad token sent along: a phone whose token expired
    must still get a new one."""
    return {**row, **{bad: OK for bad in TOKEN_ANSWERS}}


PARTY_REQUIRED = Expect(403, "PARTY_REQUIRED")
WEBHOOK_NOT_FOUND = Expect(404, "WEBHOOK_NOT_FOUND")
APPLICANTS_ONLY = answers(OK, APPLICATION_NOT_FOUND, NOT_APPLICANT, NOT_APPLICANT)
REVIEWERS_ONLY = answers(NOT_OFFICER, NOT_OFFICER, OK, OTHER_PROVINCE)


@dataclass
class Call:
    """One request of a cell, and what else the cell checks about it."""

    method: str
    url: str
    params: dict[str, Any] | None = None
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    api: Api | None = None  # a session of its own instead of the caller's usual one
    expect_answer: Callable[[Any], None] | None = None  # on success: what the answer must say
    after_refusal: Callable[[], None] | None = None  # on refusal: e.g. the ticket is still unspent

    def send(self, api: Api) -> httpx.Response:
        return send(self.api or api, self.method, self.url, params=self.params, json=self.json,
                    data=self.data, files=self.files)

    def sent(self) -> str:
        """Everything the caller itself put in the request (those values may come back)."""
        return " ".join([self.url, json.dumps(self.params, ensure_ascii=False),
                         json.dumps(self.json, ensure_ascii=False), json.dumps(self.data, ensure_ascii=False)])


Builder = Callable[[World, str], Call]


@dataclass(frozen=True)
class Row:
    """One operation: how each caller calls it and what each must be answered."""

    op: str  # the operationId in the OpenAPI document
    method: str
    path: str
    call: Builder
    answers: Mapping[str, Expect]
    officer: str = "hebei-accept"  # the officer of the province concerned
    owner: str = "carrier"
    unchanged: Callable[[World], Any] | None = None  # reads the same before and after a refusal
    officer_sees: bool = False  # the officer concerned is entitled to the owner's data in the answer
    public_fields: tuple[str, ...] = ()  # the whole answer is public (RV-5): only these fields
    how: str = ""


def get(url: Callable[[World], str], params: dict[str, Any] | Callable[[World], dict[str, Any]] | None = None,
        expect: Callable[[World, str, Any], None] | None = None) -> Builder:
    def build(w: World, who: str) -> Call:
        return Call("GET", url(w), params=params(w) if callable(params) else params,
                    expect_answer=_bind(expect, w, who))
    return build


def post(url: Callable[[World], str], body: Callable[[World], Any] | None = None, method: str = "POST",
         params: dict[str, Any] | None = None, expect: Callable[[World, str, Any], None] | None = None) -> Builder:
    def build(w: World, who: str) -> Call:
        return Call(method, url(w), params=params, json=body(w) if body else {}, expect_answer=_bind(expect, w, who))
    return build


def _bind(expect: Callable[[World, str, Any], None] | None, w: World, who: str) -> Callable[[Any], None] | None:
    return (lambda answer: expect(w, who, answer)) if expect else None


# --- what successful answers must say ------------------------------------------------------------

PARTY_OF = {OWNER: "parties/L1001", OTHER_APPLICANT: "parties/L2001"}


def own_items(key: str, party_field: str) -> Callable[[World, str, Any], None]:
    """Every listed item belongs to the caller's own party."""
    def check(w: World, who: str, answer: Any) -> None:
        assert all(item[party_field] == PARTY_OF[who] for item in answer.get(key, [])), answer
    return check


def search_result(w: World, who: str, answer: Any) -> None:
    """The owner finds its draft by number; anyone else finds only its own applications."""
    own_items("applications", "applicant")(w, who, answer)
    found = [a["name"] for a in answer.get("applications", [])]
    assert (found == [w.draft["name"]]) if who == OWNER else not found, found


def named(attr: Callable[[World], str]) -> Callable[[World, str, Any], None]:
    return lambda w, who, answer: _assert_eq(answer["name"], attr(w))


def _assert_eq(got: Any, want: Any) -> None:
    assert got == want, (got, want)


def state_is(state: str) -> Callable[[Any], None]:
    return lambda answer: _assert_eq(answer["state"], state)


def gone(api: Api, url: str, reason: str) -> Callable[[Any], None]:
    def check(_answer: Any) -> None:
        r = send(api, "GET", url)
        assert r.status_code == 404 and r.json()["error"]["reason"] == reason, r.text
    return check


# --- fingerprints: what a refused call must leave as it was ----------------------------------------

def application_state(attr: str) -> Callable[[World], Any]:
    def read(w: World) -> Any:
        a = ok(w.carrier, "GET", f"/v1/{getattr(w, attr)['name']}")
        return a["state"], a["etag"]
    return read


def case_state(attr: str) -> Callable[[World], Any]:
    def read(w: World) -> Any:
        c = ok(w.carrier, "GET", f"/v1/{getattr(w, attr)['name']}")
        return c["state"], c["etag"], [(r["province"], r["state"], r.get("claimedBy", "")) for r in c.get("reviews", [])]
    return read


def permit_state(attr: str) -> Callable[[World], Any]:
    def read(w: World) -> Any:
        p = ok(w.carrier, "GET", f"/v1/{getattr(w, attr)['name']}")
        return p["state"], p["etag"], p["endDate"], len(p.get("extensions", []))
    return read


def licence_state(w: World) -> Any:
    lic = ok(w.api("licensee"), "GET", f"/v1/{w.licence['name']}")
    return lic["state"], lic["etag"]


def beijing_officers(w: World) -> Any:
    listed = ok(w.api(ADMIN), "GET", "/v1/officers", params={"province": BEIJING, "pageSize": 100})
    return sorted((o["name"], o["displayName"], o.get("active", False), tuple(o["roles"]))
                  for o in listed.get("officers", []))


def document_state(w: World) -> Any:
    return ok(w.carrier, "GET", f"/v1/{w.document}")["sha256"]


def target_session_open(w: World) -> Any:
    return send(Api(w.stack.gateway_url, str(w.sign_out_target["accessToken"])), "GET", "/v1/me").status_code


def calendar_2099(w: World) -> Any:
    return ok(w.api("hebei-accept"), "GET", "/v1/workingCalendars/2099")


# --- calls that depend on the caller ---------------------------------------------------------------

def own_identity(who: str) -> dict[str, str]:
    """The caller's own platform identity: anonymous and the bad tokens (whose token is ignored
    when signing in or refreshing) are each a new enterprise."""
    return {OTHER_APPLICANT: person_identity, OFFICER: lambda: officer_identity("hebei-accept"),
            OTHER_OFFICER: lambda: officer_identity("beijing-review"),
            OTHER_OFFICER_ALL_ROLES: lambda: officer_identity(ALL_ROLES_OFFICER),
            ANONYMOUS: new_enterprise_identity,
            **dict.fromkeys(TOKEN_ANSWERS, new_enterprise_identity)}.get(who, carrier_identity)()


def same_subject(identity: Mapping[str, str], me: Mapping[str, Any]) -> None:
    """The session is the one of the identity the credential named, nobody else's."""
    if identity["channel"] == "STAFF":
        assert me["user"] == f"officers/{identity['officer']}", me
    elif identity["user_type"] == "LEGAL":
        assert me["maskedIdentifier"] == identity["uscc"], me
    else:
        assert me["party"] == "parties/L2001", me


def still_accepted(w: World, url: str, body: Mapping[str, Any]) -> Callable[[], None]:
    """The gateway refused before identity saw the credential: it is still good afterwards."""
    def check() -> None:
        ok(w.api(ANONYMOUS), "POST", url, json=body)
    return check


def sign_in_call(w: World, who: str) -> Call:
    identity = own_identity(who)
    channel, ticket = mint_ticket(w.stack, identity)
    body = {"channel": f"CHANNEL_{channel}", "ticket": ticket}
    return Call("POST", "/v1/sessions:signIn", json=body,
                expect_answer=lambda session: same_subject(identity, session["me"]),
                after_refusal=still_accepted(w, "/v1/sessions:signIn", body))


def refresh_call(w: World, who: str) -> Call:
    session = w.session(own_identity(who))
    body = {"refreshToken": session["refreshToken"]}

    def same_session(answer: Any) -> None:
        assert answer["name"] == session["name"] and answer["me"] == session["me"], answer
    return Call("POST", "/v1/sessions:refresh", json=body, expect_answer=same_session,
                after_refusal=still_accepted(w, "/v1/sessions:refresh", body))


def sign_out_call(w: World, who: str) -> Call:
    if who != OWNER:
        return Call("POST", "/v1/sessions:signOut", json={"refreshToken": w.sign_out_target["refreshToken"]})
    mine = Api(w.stack.gateway_url, str(w.session(carrier_identity())["accessToken"]))

    def revoked(answer: Any) -> None:
        assert int(answer.get("revokedCount", 0)) >= 1, answer
        r = send(mine, "GET", "/v1/me")
        assert r.status_code == 401 and r.json()["error"]["reason"] == "SESSION_REVOKED", r.text
    return Call("POST", "/v1/sessions:signOut", json={}, api=mine, expect_answer=revoked)


def submit_licence_call(w: World, who: str) -> Call:
    number = f"冀交运管许可石字{uuid.uuid4().int % 10**12:012d}号"
    if who != OWNER:
        return Call("POST", "/v1/licences", json=licence_body(w.licence["document"], number))
    newcomer = Api(w.stack.gateway_url, str(w.session(new_enterprise_identity())["accessToken"]))
    doc = upload(newcomer, "BUSINESS_LICENCE", "经营许可证.png")["name"]
    return Call("POST", "/v1/licences", json=licence_body(doc, number), api=newcomer,
                expect_answer=state_is("STATE_PENDING"))


def create_call(w: World, who: str) -> Call:
    """我要申请 with the caller's own notice receipt (AP-1); callers who may not read the
    notice send the carrier's, and are refused before it counts."""
    reader = {OWNER: "carrier", OTHER_APPLICANT: "person"}.get(who, "carrier")
    return Call("POST", "/v1/applications",
                json={"noticeReceipt": j.notice_receipt(w.api(reader)), "requestId": str(uuid.uuid4())},
                expect_answer=lambda a: _assert_eq(a["applicant"], PARTY_OF[who]))


CARGO = {"emptyLoad": False, "name": "变压器", "weightKg": "30000", "lengthMm": "9000", "widthMm": "3200",
         "heightMm": "3100"}


def update_call(w: World, who: str) -> Call:
    current = ok(w.carrier, "GET", f"/v1/{w.draft['name']}") if who == OWNER else w.draft
    return Call("PATCH", f"/v1/{w.draft['name']}", params={"updateMask": "cargo"},
                json={"cargo": CARGO, "etag": current["etag"]})


def delete_call(w: World, who: str) -> Call:
    if who != OWNER:
        return Call("DELETE", f"/v1/{w.draft['name']}")
    draft = w.throwaway_draft()
    return Call("DELETE", f"/v1/{draft['name']}",
                expect_answer=gone(w.carrier, f"/v1/{draft['name']}", "APPLICATION_NOT_FOUND"))


def submit_call(w: World, who: str) -> Call:
    app = w.throwaway_filled("submit") if who == OWNER else w.draft
    return Call("POST", f"/v1/{app['name']}:submit", json={"etag": app["etag"], "requestId": str(uuid.uuid4())},
                expect_answer=state_is("STATE_SUBMITTED"))


def withdraw_call(w: World, who: str) -> Call:
    app = w.throwaway_submitted("withdraw") if who == OWNER else w.submitted
    return Call("POST", f"/v1/{app['name']}:withdraw", json={"etag": app["etag"], "reason": "运输计划取消"},
                expect_answer=state_is("STATE_WITHDRAWN"))


def upload_call(w: World, who: str) -> Call:
    rgb = tuple(uuid.uuid4().bytes[:3])

    def own(answer: Any) -> None:
        assert answer["owner"] == PARTY_OF[who], answer
    return Call("POST", "/v1/documents", data={"kind": "DOCUMENT_KIND_OUTLINE_DRAWING"},
                files={"file": ("轮廓图.png", j.tiny_png(rgb), "image/png")}, expect_answer=own)


def delete_document_call(w: World, who: str) -> Call:
    if who != OWNER:
        return Call("DELETE", f"/v1/{w.document}")
    doc = w.throwaway_document()
    return Call("DELETE", f"/v1/{doc}", expect_answer=gone(w.carrier, f"/v1/{doc}", "DOCUMENT_NOT_FOUND"))


def origin_action(action: str, body: Mapping[str, Any], state: str) -> Builder:
    """accept / return / refuse: the origin officer on a throwaway case, everyone else on the shared one."""
    def build(w: World, who: str) -> Call:
        case = w.throwaway_case(action) if who == OFFICER else w.submitted_case
        return Call("POST", f"/v1/{case['name']}:{action}", json={**body, "etag": case["etag"]},
                    expect_answer=state_is(state))
    return build


def issue_call(w: World, who: str) -> Call:
    case = w.throwaway_ready_case("issue") if who == OFFICER else w.reviewed_case

    def issued(permit: Any) -> None:
        assert permit["case"] == case["name"] and permit["number"], permit
    return Call("POST", f"/v1/{case['name']}:issuePermit", json={}, expect_answer=issued)


def abolish_call(w: World, who: str) -> Call:
    permit = w.throwaway_permit("abolish") if who == OWNER else w.permit
    return Call("POST", f"/v1/{permit['name']}:abolish", json={"reason": "运输完成"},
                expect_answer=state_is("PERMIT_STATE_ABOLISHED"))


def review_action(attr: str, province: str, action: str, check: Callable[[Mapping[str, Any]], bool],
                  body: Mapping[str, Any] | None = None) -> Builder:
    """An action on one province's review; on success ``check`` holds for that review."""
    def expect(w: World, who: str, case: Any) -> None:
        review = next(r for r in case["reviews"] if r["province"] == province)
        assert check(review), review
    return post(lambda w: f"/v1/{getattr(w, attr)['name']}/reviews/{province}:{action}", lambda w: dict(body or {}),
                expect=expect)


def certificate_call(w: World, who: str) -> Call:
    """The shared permit's certificate, once rendered and stored after the issue (CT-1)."""
    j.wait_for(lambda: any(c.get("storeTime") for c in ok(w.carrier, "GET", f"/v1/{w.permit['name']}")
                           .get("certificates", [])), "the permit's certificate stored", timeout=60)
    return Call("GET", f"/v1/{w.permit['name']}/certificate", params={"format": "pdf"})


def extension_body(w: World) -> dict[str, Any]:
    return {"newEndDate": plus_days(w.permit["endDate"], 1), "provinces": [SHANDONG], "reason": "设备延迟到货"}


def vehicle_change_body(w: World) -> dict[str, Any]:
    _, trailer = w.fleet()
    return {"oldPlateNumber": TRACTOR, "newVehicle": trailer["fleetVehicle"], "powerOfAttorney": w.power_of_attorney}


def verified(w: World, who: str, answer: Any) -> None:
    assert answer["result"] == "VERIFICATION_RESULT_NOT_YET_VALID" and answer["permitNumber"] == w.permit["number"]


ROUTE_TEXT = "河北：G4-G1811；\n山东：G2-G3；\n江苏：G2；"

# --- the matrix --------------------------------------------------------------------------------------

MATRIX: list[Row] = [
    # identity: sessions --------------------------------------------------------------------------
    Row("SignIn", "POST", "/v1/sessions:signIn", sign_in_call, token_ignored(everyone(OK, anonymous=OK)),
        how="each caller presents a fresh ticket of its own identity (anonymous: the carrier's); "
            "after a refusal the ticket still signs in"),
    Row("StartSignIn", "POST", "/v1/sessions:start",
        post(lambda w: "/v1/sessions:start", lambda w: {"channel": "CHANNEL_APP"}),
        token_ignored(everyone(OK, anonymous=OK)),
        how="anyone starts a sign-in at the platform: the answer is its URL and a fresh state"),
    Row("CompleteSignIn", "POST", "/v1/sessions:complete",
        post(lambda w: "/v1/sessions:complete", lambda w: {"code": "made-up-code", "state": "made-up-state"}),
        {**everyone(SIGN_IN_STATE_INVALID, anonymous=SIGN_IN_STATE_INVALID),
         **dict.fromkeys(TOKEN_ANSWERS, SIGN_IN_STATE_INVALID)},
        how="a code with a state no sign-in started is refused to everyone, a bad token sent along ignored; "
            "real completions on every channel: test_oidc_sign_in.py"),
    Row("RefreshSession", "POST", "/v1/sessions:refresh", refresh_call, token_ignored(everyone(OK, anonymous=OK)),
        how="each caller refreshes a fresh session of its own; after a refusal the refresh token still works"),
    Row("SignOut", "POST", "/v1/sessions:signOut", sign_out_call,
        answers(OK, Expect(403, "SESSION_NOT_OWNED"), Expect(403, "SESSION_NOT_OWNED"),
                Expect(403, "SESSION_NOT_OWNED")),
        unchanged=target_session_open,
        how="owner: signs out a fresh session of its own (empty body), which then answers SESSION_REVOKED; "
            "everyone else names a fresh carrier session by its refresh token, which stays open"),
    Row("LinkLegacyAccount", "POST", "/v1/me:linkLegacyAccount", post(lambda w: "/v1/me:linkLegacyAccount"),
        answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT), how="idempotent re-link of the caller itself"),
    Row("GetMe", "GET", "/v1/me", get(lambda w: "/v1/me"), everyone(OK)),
    # identity: licence onboarding (ID-5); the owner is the new enterprise "licensee" -------------
    Row("SubmitLicence", "POST", "/v1/licences", submit_licence_call,
        answers(OK, Expect(400, "ONBOARDING_COMPLETE"), NOT_APPLICANT, NOT_APPLICANT), owner="licensee",
        how="owner: a fresh new 河北 enterprise submits its own; the others send the licensee's image"),
    Row("ListLicenceReviews", "GET", "/v1/licences",
        get(lambda w: "/v1/licences", params={"province": HEBEI}),
        answers(NOT_LICENCE_OFFICER, NOT_LICENCE_OFFICER, OK, NOT_LICENCE_OFFICER, OTHER_PROVINCE),
        owner="licensee", officer_sees=True, how="every caller asks for 河北's queue"),
    Row("GetLicence", "GET", "/v1/licences/{licence_id}", get(lambda w: f"/v1/{w.licence['name']}",
                                                              expect=named(lambda w: w.licence["name"])),
        answers(OK, Expect(404, "LICENCE_NOT_FOUND"), OK, NOT_LICENCE_OFFICER, OTHER_PROVINCE),
        owner="licensee", officer_sees=True),
    Row("ReviewLicence", "POST", "/v1/licences/{licence_id}:review",
        post(lambda w: f"/v1/{w.licence['name']}:review", lambda w: {"decision": "DECISION_APPROVE"}),
        answers(NOT_LICENCE_OFFICER, NOT_LICENCE_OFFICER, OK, NOT_LICENCE_OFFICER, OTHER_PROVINCE),
        owner="licensee", unchanged=licence_state, officer_sees=True,
        how="hebei-accept approves the licensee's licence; Get/List rows do not depend on its state"),
    Row("ListPublicKeys", "GET", "/v1/publicKeys", get(lambda w: "/v1/publicKeys"), everyone(OK, anonymous=OK)),
    # identity: officers, admin only (ID-6) ------------------------------------------------------
    Row("CreateOfficer", "POST", "/v1/officers",
        post(lambda w: "/v1/officers", lambda w: {"login": "matrix-never-created", "displayName": "不应创建",
                                                  "province": BEIJING, "roles": ["officer.review"]}),
        everyone(NOT_ADMIN), unchanged=beijing_officers),
    Row("ListOfficers", "GET", "/v1/officers", get(lambda w: "/v1/officers"), everyone(NOT_ADMIN)),
    Row("UpdateOfficer", "PATCH", "/v1/officers/{officer_id}",
        post(lambda w: f"/v1/officers/{ALL_ROLES_OFFICER}", lambda w: {"displayName": "已篡改", "active": False},
             method="PATCH", params={"updateMask": "displayName,active"}),
        everyone(NOT_ADMIN), unchanged=beijing_officers, how="aims at the matrix's own 北京 officer"),
    # application: the carrier's fleet and applications ------------------------------------------
    Row("SearchApplications", "GET", "/v1/applications:search",
        get(lambda w: "/v1/applications:search", lambda w: {"query": w.draft["number"]}, expect=search_result),
        answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT), how="the query is the draft's number"),
    Row("SuggestVehicles", "GET", "/v1/vehicles:suggest", get(lambda w: "/v1/vehicles:suggest",
                                                             params={"platePrefix": "冀", "pageSize": 50}),
        answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT)),
    Row("SuggestAgents", "GET", "/v1/agents:suggest", get(lambda w: "/v1/agents:suggest", params={"namePrefix": "李"}),
        answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT)),
    Row("ValidatePlateNumber", "GET", "/v1/vehicles:validatePlate",
        get(lambda w: "/v1/vehicles:validatePlate", params={"plateNumber": TRACTOR}), everyone(OK)),
    Row("GetPermitNotice", "GET", "/v1/notice", get(lambda w: "/v1/notice"),
        answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT), how="the notice with a receipt for the caller's party"),
    Row("CreateApplication", "POST", "/v1/applications", create_call,
        answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT), how="a new draft of the caller's own party"),
    Row("ListApplications", "GET", "/v1/applications",
        get(lambda w: "/v1/applications", params={"pageSize": 100}, expect=own_items("applications", "applicant")),
        answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT)),
    Row("GetApplication", "GET", "/v1/applications/{application_id}",
        get(lambda w: f"/v1/{w.draft['name']}", expect=named(lambda w: w.draft["name"])), APPLICANTS_ONLY),
    Row("UpdateApplication", "PATCH", "/v1/applications/{application_id}", update_call, APPLICANTS_ONLY,
        unchanged=application_state("draft"), how="saves the draft's cargo step again (same values)"),
    Row("DeleteApplication", "DELETE", "/v1/applications/{application_id}", delete_call, APPLICANTS_ONLY, unchanged=application_state("draft"),
        how="owner deletes a throwaway draft; everyone else aims at the shared draft"),
    Row("ListStateChanges", "GET", "/v1/applications/{application_id}/stateChanges",
        get(lambda w: f"/v1/{w.submitted['name']}/stateChanges"), APPLICANTS_ONLY),
    Row("SubmitApplication", "POST", "/v1/applications/{application_id}:submit", submit_call, APPLICANTS_ONLY,
        unchanged=application_state("draft"), how="owner submits a throwaway draft; the others aim at the shared one"),
    Row("CloneApplication", "POST", "/v1/applications/{application_id}:clone",
        post(lambda w: f"/v1/{w.submitted['name']}:clone", lambda w: {"requestId": str(uuid.uuid4())}),
        APPLICANTS_ONLY, how="再来一件 of the submitted application: a new draft"),
    Row("WithdrawApplication", "POST", "/v1/applications/{application_id}:withdraw", withdraw_call,
        APPLICANTS_ONLY, unchanged=application_state("submitted"),
        how="owner withdraws a throwaway submitted application; the others aim at the shared one"),
    Row("CheckVehicleSchedule", "POST", "/v1/applications/{application_id}:checkVehicleSchedule",
        post(lambda w: f"/v1/{w.draft['name']}:checkVehicleSchedule"), APPLICANTS_ONLY),
    Row("ClassifyApplication", "GET", "/v1/applications/{application_id}:classify",
        get(lambda w: f"/v1/{w.draft['name']}:classify"), APPLICANTS_ONLY),
    Row("GetRequiredMaterials", "GET", "/v1/applications/{application_id}:requiredMaterials",
        get(lambda w: f"/v1/{w.draft['name']}:requiredMaterials"), APPLICANTS_ONLY),
    Row("GetVehicle", "GET", "/v1/vehicles/{vehicle_id}", get(lambda w: f"/v1/{w.fleet()[0]['fleetVehicle']}"),
        answers(OK, Expect(404, "VEHICLE_NOT_FOUND"), NOT_APPLICANT, NOT_APPLICANT), how="the carrier's tractor"),
    # application: the PC side kept through the API (PC-1) ----------------------------------------
    Row("ListFleetVehicles", "GET", "/v1/fleet/vehicles", get(lambda w: "/v1/fleet/vehicles",
                                                              expect=own_items("vehicles", "owner")),
        answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT)),
    Row("CreateFleetVehicle", "POST", "/v1/fleet/vehicles",
        post(lambda w: "/v1/fleet/vehicles", lambda w: {"plateNumber": "冀F12345", "vehicleType": "重型半挂牵引车"}),
        answers(INVALID_FIELD, INVALID_FIELD, NOT_APPLICANT, NOT_APPLICANT),
        how="an incomplete vehicle: applicants reach the form's checks, officers are refused first"),
    Row("UpdateFleetVehicle", "PATCH", "/v1/fleet/vehicles/{vehicle_id}",
        post(lambda w: f"/v1/fleet/{w.fleet()[0]['fleetVehicle']}", lambda w: {"curbMassKg": "8800"},
             method="PATCH", params={"updateMask": "curbMassKg"}),
        answers(INVALID_FIELD, Expect(404, "VEHICLE_NOT_FOUND"), NOT_APPLICANT, NOT_APPLICANT),
        how="the carrier's imported tractor has no licence images yet: a change is checked like the form"),
    Row("RetireFleetVehicle", "POST", "/v1/fleet/vehicles/{vehicle_id}:retire",
        post(lambda w: "/v1/fleet/vehicles/0000000000000000:retire"),
        answers(Expect(404, "VEHICLE_NOT_FOUND"), Expect(404, "VEHICLE_NOT_FOUND"), NOT_APPLICANT, NOT_APPLICANT),
        how="a vehicle of nobody: the demo fleet stays for the other rows"),
    Row("ListFleetAgents", "GET", "/v1/fleet/agents", get(lambda w: "/v1/fleet/agents"),
        answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT)),
    Row("CreateFleetAgent", "POST", "/v1/fleet/agents",
        post(lambda w: "/v1/fleet/agents", lambda w: {"name": "某人", "phone": "13900001111", "idNumber": "110105194912310021"}),
        answers(INVALID_FIELD, INVALID_FIELD, NOT_APPLICANT, NOT_APPLICANT), how="an incomplete agent"),
    Row("UpdateFleetAgent", "PATCH", "/v1/fleet/agents/{agent_id}",
        post(lambda w: "/v1/fleet/agents/0000000000000000", lambda w: {"phone": "13900000000"}, method="PATCH",
             params={"updateMask": "phone"}),
        answers(Expect(404, "AGENT_NOT_FOUND"), Expect(404, "AGENT_NOT_FOUND"), NOT_APPLICANT, NOT_APPLICANT),
        how="an agent of nobody"),
    Row("RetireFleetAgent", "POST", "/v1/fleet/agents/{agent_id}:retire",
        post(lambda w: "/v1/fleet/agents/0000000000000000:retire"),
        answers(Expect(404, "AGENT_NOT_FOUND"), Expect(404, "AGENT_NOT_FOUND"), NOT_APPLICANT, NOT_APPLICANT),
        how="an agent of nobody"),
    # identity: enterprise information (PC-2, ID-3) ----------------------------------------------
    Row("GetEnterprise", "GET", "/v1/enterprise",
        get(lambda w: "/v1/enterprise", params={"party": "parties/L1001"}),
        answers(OK, OK, OK, OTHER_PROVINCE), officer_sees=True,
        how="officers name the carrier; applicants always get their own"),
    Row("UpdateEnterprise", "PATCH", "/v1/enterprise",
        post(lambda w: "/v1/enterprise", lambda w: {"address": "x"}, method="PATCH",
             params={"updateMask": "displayName,creditCode"}),
        answers(Expect(400, "UPDATE_MASK_INVALID"), Expect(400, "UPDATE_MASK_INVALID"), NOT_APPLICANT,
                NOT_APPLICANT), how="a mask naming the credit code: nothing changes"),
    Row("ListEnterpriseChanges", "GET", "/v1/enterprise/changes", get(lambda w: "/v1/enterprise/changes"),
        answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT)),
    # notifications: inboxes and webhooks (MS-1, MS-2, MS-3) ---------------------------------------
    Row("ListMessages", "GET", "/v1/messages", get(lambda w: "/v1/messages"), everyone(OK), officer_sees=True,
        how="each caller's own inbox: the party's, or the province's, whose officers are told of its cases"),
    Row("GetUnreadCount", "GET", "/v1/messages:unreadCount", get(lambda w: "/v1/messages:unreadCount"),
        everyone(OK)),
    Row("MarkMessageRead", "POST", "/v1/messages/{message_id}:markRead",
        post(lambda w: "/v1/messages/00000000000000000000000000000000:markRead"),
        everyone(Expect(404, "MESSAGE_NOT_FOUND")), how="a message of nobody: another inbox's is not found either"),
    Row("MarkAllMessagesRead", "POST", "/v1/messages:markAllRead", post(lambda w: "/v1/messages:markAllRead"),
        everyone(OK)),
    Row("CreateWebhook", "POST", "/v1/webhooks", post(lambda w: "/v1/webhooks", lambda w: {"url": "ftp://x"}),
        answers(Expect(400, "WEBHOOK_URL_INVALID"), Expect(400, "WEBHOOK_URL_INVALID"), PARTY_REQUIRED,
                PARTY_REQUIRED), how="an address that is not HTTPS: nothing is registered"),
    Row("ListWebhooks", "GET", "/v1/webhooks", get(lambda w: "/v1/webhooks"),
        answers(OK, OK, PARTY_REQUIRED, PARTY_REQUIRED)),
    Row("DeleteWebhook", "DELETE", "/v1/webhooks/{webhook_id}",
        post(lambda w: "/v1/webhooks/00000000000000000000000000000000", method="DELETE"),
        answers(WEBHOOK_NOT_FOUND, WEBHOOK_NOT_FOUND, PARTY_REQUIRED, PARTY_REQUIRED), how="a webhook of nobody"),
    Row("ListWebhookDeliveries", "GET", "/v1/webhooks/{webhook_id}/deliveries",
        get(lambda w: "/v1/webhooks/00000000000000000000000000000000/deliveries"),
        answers(WEBHOOK_NOT_FOUND, WEBHOOK_NOT_FOUND, PARTY_REQUIRED, PARTY_REQUIRED), how="a webhook of nobody"),
    # routing ------------------------------------------------------------------------------------
    Row("ParseRouteText", "POST", "/v1/routes:parse", post(lambda w: "/v1/routes:parse", lambda w: {"text": ROUTE_TEXT}),
        everyone(OK)),
    Row("ValidateRoute", "POST", "/v1/routes:validate",
        post(lambda w: "/v1/routes:validate", lambda w: {"originProvince": HEBEI, "destinationProvince": JIANGSU,
                                                        "rows": j.ROUTE}), everyone(OK)),
    Row("RecommendRoutes", "GET", "/v1/routes:recommend",
        get(lambda w: "/v1/routes:recommend", params={"originProvince": HEBEI, "destinationProvince": JIANGSU}),
        answers(OK, OK, Expect(403, "PARTY_REQUIRED"), Expect(403, "PARTY_REQUIRED"))),
    Row("ListProvinces", "GET", "/v1/provinces", get(lambda w: "/v1/provinces"), everyone(OK, anonymous=OK)),
    Row("ListExpressways", "GET", "/v1/expressways", get(lambda w: "/v1/expressways", params={"query": "G4"}),
        everyone(OK, anonymous=OK)),
    # documents ----------------------------------------------------------------------------------
    Row("UploadDocument", "POST", "/v1/documents", upload_call, answers(OK, OK, NOT_APPLICANT, NOT_APPLICANT),
        how="each applicant uploads a document of its own"),
    Row("GetDocument", "GET", "/v1/documents/{document_id}", get(lambda w: f"/v1/{w.document}",
                                                                expect=named(lambda w: w.document)),
        answers(OK, DOCUMENT_NOT_FOUND, OK, DOCUMENT_NOT_FOUND), officer="jiangsu-review", officer_sees=True,
        how="a material of the case under review, granted to 河北, 山东 and 江苏"),
    Row("GetDownloadUrl", "GET", "/v1/documents/{document_id}:downloadUrl", get(lambda w: f"/v1/{w.document}:downloadUrl"),
        answers(OK, DOCUMENT_NOT_FOUND, OK, DOCUMENT_NOT_FOUND), officer="jiangsu-review", officer_sees=True),
    Row("DownloadDocument", "GET", "/v1/documents/{document_id}:download", get(lambda w: f"/v1/{w.document}:download"),
        answers(OK, DOCUMENT_NOT_FOUND, OK, DOCUMENT_NOT_FOUND, anonymous=DOCUMENT_NOT_FOUND),
        officer="jiangsu-review", officer_sees=True,
        how="public only with a signed link token (test_download_token_is_the_only_way_in_without_a_session); "
            "without one, anonymous is told it does not exist"),
    Row("DeleteDocument", "DELETE", "/v1/documents/{document_id}", delete_document_call,
        answers(OK, DOCUMENT_NOT_FOUND, NOT_APPLICANT, NOT_APPLICANT), officer="jiangsu-review",
        unchanged=document_state, how="owner deletes a throwaway upload; the others aim at the granted material"),
    # approval: the officers' side ---------------------------------------------------------------
    Row("ListWorkQueue", "GET", "/v1/workQueue", get(lambda w: "/v1/workQueue", params={"pageSize": 200}),
        answers(NOT_OFFICER, NOT_OFFICER, OK, OK, OK), officer_sees=True,
        how="北京's queue holds none of the carrier's cases"),
    Row("GetCase", "GET", "/v1/cases/{case_id}", get(lambda w: f"/v1/{w.reviewed_case['name']}",
                                                    expect=named(lambda w: w.reviewed_case["name"])),
        answers(OK, CASE_NOT_FOUND, OK, OTHER_PROVINCE), officer="shandong-review", officer_sees=True),
    Row("GetCase_2", "GET", "/v1/applications/{application_id}/case",
        get(lambda w: f"/v1/{w.reviewed['name']}/case", expect=named(lambda w: w.reviewed_case["name"])),
        answers(OK, CASE_NOT_FOUND, OK, OTHER_PROVINCE), officer="shandong-review", officer_sees=True),
    Row("AcceptCase", "POST", "/v1/cases/{case_id}:accept",
        origin_action("accept", {}, "CASE_STATE_UNDER_REVIEW"),
        answers(NOT_OFFICER, NOT_OFFICER, OK, NOT_OFFICER, OTHER_PROVINCE), unchanged=case_state("submitted_case"),
        officer_sees=True, how="hebei-accept accepts a throwaway case; the others aim at the shared submitted one"),
    Row("ReturnCase", "POST", "/v1/cases/{case_id}:return",
        origin_action("return", {"reason": "请补充货物照片"}, "CASE_STATE_RETURNED"),
        answers(NOT_OFFICER, NOT_OFFICER, OK, NOT_OFFICER, OTHER_PROVINCE), unchanged=case_state("submitted_case"),
        officer_sees=True, how="as AcceptCase"),
    Row("RefuseCase", "POST", "/v1/cases/{case_id}:refuse",
        origin_action("refuse", {"reason": "不属于大件运输"}, "CASE_STATE_REFUSED"),
        answers(NOT_OFFICER, NOT_OFFICER, OK, NOT_OFFICER, OTHER_PROVINCE), unchanged=case_state("submitted_case"),
        officer_sees=True, how="as AcceptCase"),
    Row("IssuePermit", "POST", "/v1/cases/{case_id}:issuePermit", issue_call,
        answers(NOT_OFFICER, NOT_OFFICER, OK, NOT_OFFICER, OTHER_PROVINCE), unchanged=case_state("reviewed_case"),
        officer_sees=True, how="hebei-accept issues on a throwaway approved case; the others aim at the case under review"),
    Row("ClaimReview", "POST", "/v1/cases/{case_id}/reviews/{review_id}:claim",
        review_action("reviewed_case", SHANDONG, "claim", lambda r: r["claimedBy"] == "officers/shandong-review"),
        REVIEWERS_ONLY, officer="shandong-review",
        unchanged=case_state("reviewed_case"), officer_sees=True, how="山东's review of the case under review"),
    Row("ReleaseReview", "POST", "/v1/cases/{case_id}/reviews/{review_id}:release",
        review_action("prepared_case", SHANDONG, "release", lambda r: not r.get("claimedBy")),
        REVIEWERS_ONLY, officer="shandong-review",
        unchanged=case_state("prepared_case"), officer_sees=True, how="山东's review, claimed by shandong-review in setup"),
    Row("SuspendReview", "POST", "/v1/cases/{case_id}/reviews/{review_id}:suspend",
        review_action("reviewed_case", JIANGSU, "suspend", lambda r: r.get("suspended") is True,
                      {"reason": "G2 桥梁加固"}),
        REVIEWERS_ONLY, officer="jiangsu-review",
        unchanged=case_state("reviewed_case"), officer_sees=True, how="江苏's review of the case under review"),
    Row("ResumeReview", "POST", "/v1/cases/{case_id}/reviews/{review_id}:resume",
        review_action("prepared_case", JIANGSU, "resume", lambda r: not r.get("suspended")),
        REVIEWERS_ONLY, officer="jiangsu-review",
        unchanged=case_state("prepared_case"), officer_sees=True, how="江苏's review, suspended in setup"),
    Row("DecideReview", "POST", "/v1/cases/{case_id}/reviews/{review_id}:decide",
        review_action("reviewed_case", HEBEI, "decide", lambda r: r["state"] == "REVIEW_STATE_APPROVED",
                      {"decision": "DECISION_APPROVE", "reason": "同意通行"}),
        REVIEWERS_ONLY, unchanged=case_state("reviewed_case"),
        officer_sees=True, how="河北's review of the case under review (the other two stay open)"),
    Row("ProposeRouteAdjustment", "POST", "/v1/cases/{case_id}/reviews/{review_id}:proposeAdjustment",
        review_action("prepared_case", HEBEI, "proposeAdjustment",
                      lambda r: r["state"] == "REVIEW_STATE_ADJUSTMENT_PROPOSED",
                      {"suggestedRoute": [{"province": HEBEI, "roads": ["G4", "G1811"]}], "reason": "G4 施工"}),
        REVIEWERS_ONLY, unchanged=case_state("prepared_case"),
        officer_sees=True, how="河北's review of the prepared case"),
    Row("RespondToAdjustment", "POST", "/v1/cases/{case_id}/reviews/{review_id}:respond",
        review_action("adjusted_case", SHANDONG, "respond", lambda r: r["state"] == "REVIEW_STATE_PENDING",
                      {"accept": True}),
        answers(OK, CASE_NOT_FOUND, NOT_APPLICANT, NOT_APPLICANT), officer="shandong-review",
        unchanged=case_state("adjusted_case"), how="the carrier accepts 山东's suggested route (PQ-7)"),
    Row("RequestVehicleChange", "POST", "/v1/cases/{case_id}/vehicleChanges",
        post(lambda w: f"/v1/{w.reviewed_case['name']}/vehicleChanges", vehicle_change_body),
        answers(Expect(400, "VEHICLE_NOT_EQUIVALENT"), CASE_NOT_FOUND, NOT_APPLICANT, NOT_APPLICANT),
        unchanged=case_state("reviewed_case"),
        how="tractor -> the trailer: the demo fleet has no equivalent vehicle, so the owner passes the "
            "authorization and is refused on PQ-10's figures; nothing is changed"),
    Row("DecideVehicleChange", "POST", "/v1/cases/{case_id}/vehicleChanges/{vehicleChange_id}:decide",
        post(lambda w: f"/v1/{w.reviewed_case['name']}/vehicleChanges/0000000000000000:decide",
             lambda w: {"decision": "DECISION_APPROVE"}),
        answers(NOT_OFFICER, NOT_OFFICER, Expect(404, "VEHICLE_CHANGE_NOT_FOUND"), NOT_OFFICER, OTHER_PROVINCE),
        unchanged=case_state("reviewed_case"),
        how="a well-formed but absent change of a real case: only the authorization answer matters"),
    # approval: permits --------------------------------------------------------------------------
    Row("AbolishPermit", "POST", "/v1/permits/{permit_id}:abolish", abolish_call,
        answers(OK, PERMIT_NOT_FOUND, NOT_APPLICANT, NOT_APPLICANT), unchanged=permit_state("permit"),
        how="owner abolishes a throwaway permit; the others aim at the shared one"),
    Row("GetPermit", "GET", "/v1/permits/{permit_id}", get(lambda w: f"/v1/{w.permit['name']}",
                                                          expect=named(lambda w: w.permit["name"])),
        answers(OK, PERMIT_NOT_FOUND, OK, OTHER_PROVINCE), officer="shandong-review", officer_sees=True),
    Row("RequestExtension", "POST", "/v1/permits/{permit_id}/extensions",
        post(lambda w: f"/v1/{w.permit['name']}/extensions", extension_body),
        answers(OK, PERMIT_NOT_FOUND, NOT_APPLICANT, NOT_APPLICANT), officer="shandong-review",
        unchanged=permit_state("permit"), how="owner asks 山东 for one more day; the extension stays pending"),
    Row("DecideExtension", "POST", "/v1/permits/{permit_id}/extensions/{extension_id}:decide",
        post(lambda w: f"/v1/{w.extended_permit['extensions'][0]['name']}:decide",
             lambda w: {"decision": "DECISION_APPROVE"}),
        REVIEWERS_ONLY, officer="shandong-review",
        unchanged=permit_state("extended_permit"), officer_sees=True,
        how="the extension of the second permit, asked of 山东 in setup"),
    Row("VerifyPermit", "POST", "/v1/permits:verify",
        post(lambda w: "/v1/permits:verify", lambda w: {"verificationCode": w.permit["verificationCode"]},
             expect=verified),
        everyone(OK, anonymous=OK),
        public_fields=("result", "permitNumber", "plateNumbers", "startDate", "endDate", "route", "overall",
                       "vehicles", "multiTrip", "issuingProvince", "certificateVersion",
                       "currentCertificateVersion"),
        how="RV-5, CT-3: anyone holding the certificate learns what a roadside check needs, nothing personal"),
    Row("DownloadCertificate", "GET", "/v1/permits/{permit_id}/certificate", certificate_call,
        answers(OK, PERMIT_NOT_FOUND, OK, OTHER_PROVINCE), officer="shandong-review", officer_sees=True,
        how="CT-1: the holder and officers of a route province download the PDF"),
    Row("ListCertificateKeys", "GET", "/v1/certificateKeys", get(lambda w: "/v1/certificateKeys"),
        everyone(OK, anonymous=OK), how="CT-2: the published keys verify a certificate offline"),
    # approval: the working calendar (RV-4) ------------------------------------------------------
    Row("GetWorkingCalendar", "GET", "/v1/workingCalendars/{workingCalendar_id}",
        get(lambda w: "/v1/workingCalendars/2027"), answers(NOT_OFFICER, NOT_OFFICER, OK, OK, OK)),
    Row("UpdateWorkingCalendar", "PATCH", "/v1/workingCalendars/{workingCalendar_id}",
        post(lambda w: "/v1/workingCalendars/2099", lambda w: {"holidays": [{"year": 2099, "month": 1, "day": 2}]},
             method="PATCH"),
        everyone(NOT_ADMIN), unchanged=calendar_2099, how="a year no deadline falls in"),
]

CELLS = [(row, who) for row in MATRIX for who in CALLERS]


@pytest.fixture(scope="module")
def world(stack, api_as) -> World:
    return build_world(stack, api_as)


def caller_api(w: World, row: Row, who: str) -> Api:
    persona = {OWNER: row.owner, OTHER_APPLICANT: "person", OFFICER: row.officer,
               OTHER_OFFICER: "beijing-review", OTHER_OFFICER_ALL_ROLES: ALL_ROLES_OFFICER}.get(who, who)
    return w.api(persona)


def path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/:]+" if p.startswith("{") else re.escape(p) for p in parts))


def reason_of(r: httpx.Response) -> str | None:
    if r.status_code < 400:
        return None
    try:
        return str(r.json()["error"]["reason"])
    except (ValueError, KeyError, TypeError):
        return "(no JSON error body)"


def answer_text(r: httpx.Response) -> str:
    if r.headers.get("content-type", "").startswith("application/json"):
        return json.dumps(r.json(), ensure_ascii=False)
    return r.content.decode("utf-8", errors="replace")


def assert_names_no_owner_value(w: World, r: httpx.Response, call: Call) -> None:
    text, sent = answer_text(r), call.sent()
    leaked = sorted(v for v in w.secrets if v in text and v not in sent)
    assert not leaked, f"the answer names the owner's {leaked}: {text[:800]}"


@pytest.mark.parametrize(("row", "who"), CELLS, ids=[f"{row.op}-{who}" for row, who in CELLS])
def test_cell(world: World, row: Row, who: str) -> None:
    """One caller calls one operation and gets the declared answer, naming nothing it may not see."""
    want = row.answers[who]
    call = row.call(world, who)
    assert path_pattern(row.path).fullmatch(call.url), (call.url, row.path)
    before = row.unchanged(world) if row.unchanged and want.status >= 400 else None
    r = call.send(caller_api(world, row, who))
    got = Expect(r.status_code, reason_of(r))
    assert got == want, f"{row.op} as {who}: expected {want}, got {r.status_code}: {r.text[:800]}"
    if want.status >= 400:
        assert CJK.search(r.json()["error"]["message"]), r.text
        assert_names_no_owner_value(world, r, call)
        if row.unchanged:
            assert row.unchanged(world) == before, f"{row.op} as {who} changed the resource"
        if call.after_refusal:
            call.after_refusal()
        return
    answer = r.json() if r.headers.get("content-type", "").startswith("application/json") else r.content
    if row.public_fields:
        assert set(answer) <= set(row.public_fields), answer
    elif who != OWNER and not (who == OFFICER and row.officer_sees):
        assert_names_no_owner_value(world, r, call)
    if call.expect_answer:
        call.expect_answer(answer)


def test_matrix_has_a_row_for_every_operation_of_the_openapi_document(anonymous: Api) -> None:
    """A new endpoint without a row (or a row of a removed one) fails here, not silently."""
    doc = ok(anonymous, "GET", "/openapi.json")
    documented = {(method.upper(), path): op.get("operationId")
                  for path, ops in doc["paths"].items() if path != "/healthz"
                  for method, op in ops.items() if method in ("get", "post", "patch", "put", "delete")}
    declared = {(row.method, row.path): row.op for row in MATRIX}
    assert len(declared) == len(MATRIX), "two rows for one operation"
    assert set(declared) == set(documented), {"missing rows": sorted(set(documented) - set(declared)),
                                              "rows of no operation": sorted(set(declared) - set(documented))}
    assert declared == documented
    assert all(set(row.answers) == set(CALLERS) for row in MATRIX)


def _internal_paths() -> list[tuple[str, str]]:
    """Every RPC of a service no route is built from (internal services, event sinks, the
    working calendar), as a gRPC-style path, plus the ``/internal`` paths they once had."""
    import importlib
    import pkgutil

    from google.api import annotations_pb2

    import permit

    paths = {("POST", "/internal/v1/applications:importLegacy"),
             ("POST", "/internal/v1/applications/x:recordReviewEvent"),
             ("POST", "/internal/v1/approvedRoutes:record"), ("POST", "/internal/v1/cases"),
             ("POST", "/internal/v1/documents:grantAccess"), ("POST", "/internal/v1/tokens:introspect")}
    for mod in pkgutil.walk_packages(permit.__path__, "permit."):
        if not mod.name.endswith("_pb2") or mod.name.endswith("_grpc"):
            continue
        for service in importlib.import_module(mod.name).DESCRIPTOR.services_by_name.values():
            for m in service.methods:
                if not m.GetOptions().HasExtension(annotations_pb2.http):
                    paths.add(("POST", f"/{service.full_name}/{m.name}"))
    return sorted(paths)


INTERNAL_PATHS = _internal_paths()


def test_internal_services_exist_and_have_no_http_route() -> None:
    """The internal RPCs are declared apart from the public services, with no route."""
    rpcs = {p for _, p in INTERNAL_PATHS if not p.startswith("/internal/")}
    assert "/permit.events.v1.EventSinkService/Deliver" in rpcs
    assert "/permit.identity.v1.IdentityInternalService/IntrospectToken" in rpcs
    assert not any(rule.internal for rule in collect_rules())


@pytest.mark.parametrize(("method", "path"), INTERNAL_PATHS, ids=[f"{m} {p}" for m, p in INTERNAL_PATHS])
def test_internal_operations_are_not_reachable_through_the_gateway(world: World, method: str, path: str) -> None:
    """Peer-service RPCs (event sinks, token introspection, the legacy import, ...) have no HTTP route."""
    for who in ("carrier", "hebei-accept", ADMIN):
        r = send(world.api(who), method, path, json={})
        assert r.status_code == 404 and reason_of(r) == "ROUTE_NOT_FOUND", (who, r.text)


def test_vehicle_schedule_check_names_no_application_of_another_party_AP_6(world: World) -> None:
    """王五 checks the carrier's tractor on days when two of the carrier's applications hold it:
    the answer may say the vehicle is taken, but must not name the carrier's applications."""
    person = world.api("person")
    draft = forms.new_draft(person)
    body = {"startDate": world.reviewed["passage"]["startDate"], "endDate": world.reviewed["passage"]["endDate"],
            "plateNumbers": [TRACTOR]}
    r = send(person, "POST", f"/v1/{draft['name']}:checkVehicleSchedule", json=body)
    assert r.status_code == 200, r.text
    assert_names_no_owner_value(world, r, Call("POST", f"/v1/{draft['name']}:checkVehicleSchedule", json=body))


@pytest.fixture(scope="module")
def spare_case(world: World) -> dict[str, Any]:
    """A case of its own under review, 山东 suggesting a route: for the document-reference tests."""
    _, case = world.case_under_review(THROWAWAY_WINDOWS["spare"])
    return ok(world.api("shandong-review"), "POST", f"/v1/{case['name']}/reviews/{SHANDONG}:proposeAdjustment",
              json={"suggestedRoute": [{"province": SHANDONG, "roads": ["G20", "G15"]}], "reason": "G2施工"})


def test_escort_plan_of_another_party_is_refused_PQ_7(world: World, spare_case: dict[str, Any]) -> None:
    """The carrier accepts 山东's route naming 王五's upload as its escort plan: refused as if absent,
    and 王五's document does not become readable by the officers of the carrier's route."""
    theirs = upload(world.api("person"), "ESCORT_PLAN", "护送方案.png")["name"]
    r = send(world.carrier, "POST", f"/v1/{spare_case['name']}/reviews/{SHANDONG}:respond",
             json={"accept": True, "escortPlan": theirs})
    assert r.status_code == 400 and reason_of(r) == "DOCUMENT_REFERENCE_INVALID", r.text
    assert send(world.api("shandong-review"), "GET", f"/v1/{theirs}").status_code == 404


def test_power_of_attorney_of_another_party_is_refused_PQ_10(world: World, spare_case: dict[str, Any]) -> None:
    """A vehicle change naming 王五's upload as the new power of attorney is refused as if absent
    (the demo fleet holds no vehicle equivalent to the tractor but the tractor itself)."""
    theirs = upload(world.api("person"), "POWER_OF_ATTORNEY", "委托书.png")["name"]
    tractor, _ = world.fleet()
    r = send(world.carrier, "POST", f"/v1/{spare_case['name']}/vehicleChanges",
             json={"oldPlateNumber": TRACTOR, "newVehicle": tractor["fleetVehicle"], "powerOfAttorney": theirs})
    assert r.status_code == 400 and reason_of(r) == "DOCUMENT_REFERENCE_INVALID", r.text


def test_a_refused_upload_is_answered_with_its_refusal_every_time(world: World) -> None:
    """An officer's upload is refused on its header (NOT_APPLICANT) while the file is still on
    its way: the answer is that refusal each time, never a 500 from the race of the two."""
    seen = {(r.status_code, reason_of(r))
               for r in (upload_call(world, OFFICER).send(world.api("beijing-review")) for _ in range(40))}
    assert seen == {(403, "NOT_APPLICANT")}, seen


def test_download_token_is_the_only_way_in_without_a_session(world: World) -> None:
    """DownloadDocument is public for the holder of a signed link: a forged link token is
    refused, and the link the owner gets opens the file with no bearer token at all."""
    r = send(world.api(ANONYMOUS), "GET", f"/v1/{world.document}:download", params={"token": "9999999999.00ff"})
    assert r.status_code == 403 and r.json()["error"]["reason"] == "DOWNLOAD_TOKEN_INVALID", r.text
    assert_names_no_owner_value(world, r, Call("GET", f"/v1/{world.document}:download"))
    link = ok(world.carrier, "GET", f"/v1/{world.document}:downloadUrl")["url"]
    fetched = httpx.get(link if "://" in link else world.stack.gateway_url + link, timeout=30)
    assert fetched.status_code == 200 and fetched.content.startswith(b"\x89PNG")
