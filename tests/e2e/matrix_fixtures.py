"""Callers and resources of the authorization matrix (test_authorization_matrix.py).

Every caller is a real session of the started system, or a token built to look
like one: an access token whose expiry has passed, signed with identity's own
key (read from identity's database, table ``signing_key``, where identity keeps
its key pairs); one signed with a key identity never published but carrying a
real key id; and a real token whose payload was altered after signing.

The resources belong to the legacy carrier L1001 (and one new 河北 enterprise
for the licence review). They are made once per module over HTTP, each
application in its own travel-date window (start 400..470 days ahead) so that
the AP-6 limit of two applications per vehicle and period is never reached.
Calls that would spend a shared resource (withdraw, delete, abolish, accept,
issue, sign out, submit) get a throwaway resource of their own from the
``throwaway_*`` methods.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from permit_identity.config import DEFAULT_DEV_KEY_PASSPHRASE
from permit_identity.identifiers import USCC_ALPHABET, uscc_check_char
from permit_identity.tickets import DEFAULT_DEV_TICKET_KEY, mint_dev_ticket
from permitkit import dates
from permitkit.settings import env_database_url
from tests.e2e import journey as j
from tests.e2e.conftest import Api

# The callers of every cell.
OWNER = "owner"
OTHER_APPLICANT = "other_applicant"
OFFICER = "officer"  # an officer of the province the operation concerns
OTHER_OFFICER = "other_officer"  # beijing-review: 北京 is on no route of these resources
OTHER_OFFICER_ALL_ROLES = "other_officer_all_roles"  # a 北京 officer holding every officer role
ANONYMOUS = "anonymous"
EXPIRED = "expired"
FORGED_KEY = "forged_key"  # signed with a key identity never published, real kid
FORGED_PAYLOAD = "forged_payload"  # a real token whose payload was changed after signing
CALLERS = (OWNER, OTHER_APPLICANT, OFFICER, OTHER_OFFICER, OTHER_OFFICER_ALL_ROLES, ANONYMOUS,
           EXPIRED, FORGED_KEY, FORGED_PAYLOAD)
TOKEN_CALLERS = (EXPIRED, FORGED_KEY, FORGED_PAYLOAD)

HEBEI, SHANDONG, JIANGSU, BEIJING = j.ORIGIN, j.VIA, j.DESTINATION, "110000"
L1001_NAME, L1001_USCC = "河北冀运大件物流有限公司", "91130100MA0DPQ7R8A"
L2001_NAME, L2001_ID = "王五", "130102199003075218"
TRACTOR, TRAILER = "冀A12345", "冀B6789挂"
ADMIN = "ministry-admin"
ALL_ROLES_OFFICER = "matrix-beijing-all"
# What identifies the carrier L1001 in any answer, whatever the resource.
OWNER_STATIC_VALUES = (TRACTOR, TRAILER, "parties/L1001", "L1001", L1001_NAME, L1001_USCC, "李四",
                       "130102198507151232", "130102********1232", "13800138000")


def _uid() -> str:
    return f"matrix-{uuid.uuid4().hex[:12]}"


def carrier_identity() -> dict[str, str]:
    """A new platform user of the legal person L1001: its own user, the carrier's party (ID-3)."""
    return {"channel": "APP", "user_type": "LEGAL", "uid": _uid(), "name": L1001_NAME, "uscc": L1001_USCC}


def person_identity() -> dict[str, str]:
    return {"channel": "APP", "user_type": "PERSON", "uid": _uid(), "name": L2001_NAME, "id_number": L2001_ID}


def officer_identity(login: str) -> dict[str, str]:
    return {"channel": "STAFF", "officer": login}


def new_enterprise_identity() -> dict[str, str]:
    """A legal person the permit system never saw, registered in 石家庄 (河北): it must pass ID-5."""
    body = "91130100" + "".join(random.choice(USCC_ALPHABET) for _ in range(9))
    return {"channel": "APP", "user_type": "LEGAL", "uid": _uid(), "name": f"冀新大件{body[-4:]}运输有限公司",
            "uscc": body + uscc_check_char(body)}


def mint_ticket(stack, identity: Mapping[str, str]) -> tuple[str, str]:
    """A development platform ticket, minted as ``permit_identity mint-ticket`` does (same key)."""
    key = stack.process_env().get("PERMIT_IDENTITY_DEV_TICKET_KEY") or DEFAULT_DEV_TICKET_KEY
    channel = identity["channel"]
    if channel == "STAFF":
        return channel, mint_dev_ticket(key, channel=channel, officer=identity["officer"])
    return channel, mint_dev_ticket(key, channel=channel, user_type=identity["user_type"], uid=identity["uid"],
                                    name=identity["name"], uscc=identity.get("uscc"),
                                    id_number=identity.get("id_number"))


def sign_in(stack, identity: Mapping[str, str]) -> dict[str, Any]:
    """A new session through SignIn, as a phone or an officer's client opens one."""
    channel, ticket = mint_ticket(stack, identity)
    r = httpx.post(f"{stack.gateway_url}/v1/sessions:signIn",
                   json={"channel": f"CHANNEL_{channel}", "ticket": ticket}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


# --- tokens that must not open the door ---------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def identity_signing_key(stack, kid: str) -> Ed25519PrivateKey:
    """The private half of identity's signing key ``kid``, from identity's own database."""
    env = stack.process_env()
    engine = sa.create_engine(env_database_url(env, "identity"))
    try:
        with engine.connect() as conn:
            pem = conn.execute(sa.text("SELECT private_key_pem FROM signing_key WHERE key_id = :kid"),
                               {"kid": kid}).scalar_one()
    finally:
        engine.dispose()
    # Encrypted at rest: under the configured passphrase, else the development default.
    passphrase = env.get("PERMIT_IDENTITY_KEY_PASSPHRASE") or DEFAULT_DEV_KEY_PASSPHRASE
    key = load_pem_private_key(pem.encode(), password=passphrase.encode())
    assert isinstance(key, Ed25519PrivateKey)
    return key


def expired_token(stack, token: str) -> str:
    """``token``'s claims, expired ten minutes ago, signed with identity's real key."""
    kid = jwt.get_unverified_header(token)["kid"]
    now = int(time.time())
    claims = {**_claims(token), "iat": now - 1500, "exp": now - 600, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, identity_signing_key(stack, kid), algorithm="EdDSA", headers={"kid": kid})


def token_signed_with_another_key(token: str) -> str:
    """``token``'s claims under the real key id, signed with a key identity never had."""
    kid = jwt.get_unverified_header(token)["kid"]
    claims = {**_claims(token), "exp": int(time.time()) + 900, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid})


def token_with_altered_payload(token: str) -> str:
    """A real token whose payload now also claims the admin role; header and signature kept."""
    header, _, signature = token.split(".")
    claims = _claims(token)
    claims["roles"] = [*claims.get("roles", []), "admin"]
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{signature}"


# --- calls ---------------------------------------------------------------------------------------


def send(api: Api, method: str, url: str, **kw: Any) -> httpx.Response:
    return api.http.request(method, url, **kw)


def ok(api: Api, method: str, url: str, **kw: Any) -> dict[str, Any]:
    r = send(api, method, url, **kw)
    assert r.status_code == 200, f"{method} {url} -> {r.status_code}: {r.text}"
    return r.json() if r.content else {}


def plus_days(date: Mapping[str, int], days: int) -> dict[str, int]:
    d = dt.date(date["year"], date["month"], date["day"]) + dt.timedelta(days=days)
    return {"year": d.year, "month": d.month, "day": d.day}


def licence_body(document: str, number: str) -> dict[str, Any]:
    today = dates.today()
    return {"licenceNumber": number, "issuingAuthority": "石家庄市交通运输局",
            "validFrom": {"year": today.year - 1, "month": 1, "day": 1},
            "validUntil": {"year": today.year + 3, "month": 12, "day": 31}, "document": document}


def upload(api: Api, kind: str, filename: str) -> dict[str, Any]:
    """A fresh image upload (random colour: never deduplicated into an earlier document)."""
    rgb = tuple(random.randrange(256) for _ in range(3))
    return ok(api, "POST", "/v1/documents", data={"kind": f"DOCUMENT_KIND_{kind}"},
              files={"file": (filename, j.tiny_png(rgb), "image/png")})


# --- the resources -------------------------------------------------------------------------------

# Travel-date windows (days ahead) of the throwaway applications: two per window at most (AP-6).
THROWAWAY_WINDOWS = {"submit": 435, "withdraw": 435, "accept": 445, "return": 445, "refuse": 455,
                     "issue": 455, "abolish": 465, "spare": 465}


@dataclass
class World:
    """Sessions of every caller and the carrier's resources in every state the matrix needs."""

    stack: Any
    apis: dict[str, Api]  # persona or officer login -> signed-in client
    draft: dict[str, Any] = field(default_factory=dict)  # 未提交
    submitted: dict[str, Any] = field(default_factory=dict)  # 未受理, its case awaiting acceptance
    submitted_case: dict[str, Any] = field(default_factory=dict)
    reviewed: dict[str, Any] = field(default_factory=dict)  # 处理中: case under review
    reviewed_case: dict[str, Any] = field(default_factory=dict)
    prepared_case: dict[str, Any] = field(default_factory=dict)  # under review, 370000 claimed, 320000 suspended
    adjusted_case: dict[str, Any] = field(default_factory=dict)  # under review, 370000 suggests a route
    permit: dict[str, Any] = field(default_factory=dict)  # 已发证
    extended_permit: dict[str, Any] = field(default_factory=dict)  # 已发证, extension to 370000 pending
    document: str = ""  # a material of ``reviewed``: granted to its route provinces
    power_of_attorney: str = ""
    licence: dict[str, Any] = field(default_factory=dict)  # pending, of the new enterprise "licensee"
    licensee_party: str = ""
    sign_out_target: dict[str, Any] = field(default_factory=dict)  # a carrier session others try to end
    token_base: dict[str, Any] = field(default_factory=dict)  # the carrier session the bad tokens copy
    secrets: set[str] = field(default_factory=set)  # what identifies the owners (owner_values)

    def api(self, name: str) -> Api:
        return self.apis[name]

    @property
    def carrier(self) -> Api:
        return self.apis["carrier"]

    def fleet(self) -> tuple[dict[str, Any], dict[str, Any]]:
        vehicles = ok(self.carrier, "GET", "/v1/vehicles:suggest", params={"platePrefix": "冀", "pageSize": 50})
        by_plate = {v["plateNumber"]: v for v in vehicles["vehicles"]}
        return by_plate[TRACTOR], by_plate[TRAILER]

    # Applications in each state --------------------------------------------------------------

    def filled(self, start_in_days: int) -> dict[str, Any]:
        return j.fill_draft(self.carrier, start_in_days=start_in_days, days=2)

    def submitted_app(self, start_in_days: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """A submitted application (with its uploaded material) and its case, once in the origin's queue."""
        filled = self.filled(start_in_days)
        app = {**j.submit(self.carrier, filled), "_document": filled["_document"]}
        return app, j.case_of(self.api("hebei-accept"), app["name"])

    def case_under_review(self, start_in_days: int) -> tuple[dict[str, Any], dict[str, Any]]:
        app, case = self.submitted_app(start_in_days)
        return app, j.accept(self.api("hebei-accept"), case)

    def ready_case(self, start_in_days: int) -> dict[str, Any]:
        """A case every route province approved (READY_TO_ISSUE)."""
        _, case = self.case_under_review(start_in_days)
        for officer, province in (("hebei-accept", HEBEI), ("shandong-review", SHANDONG),
                                  ("jiangsu-review", JIANGSU)):
            case = j.approve(self.api(officer), case, province)
        assert case["state"] == "CASE_STATE_READY_TO_ISSUE", case["state"]
        return case

    def issued_permit(self, start_in_days: int) -> dict[str, Any]:
        return j.issue(self.api("hebei-accept"), self.ready_case(start_in_days))

    # Throwaways for the calls that spend what they act on ---------------------------------------

    def throwaway_draft(self) -> dict[str, Any]:
        return ok(self.carrier, "POST", "/v1/applications",
                  json={"noticeReceipt": j.notice_receipt(self.carrier), "requestId": str(uuid.uuid4())})

    def throwaway_filled(self, purpose: str) -> dict[str, Any]:
        return self.filled(THROWAWAY_WINDOWS[purpose])

    def throwaway_submitted(self, purpose: str) -> dict[str, Any]:
        return j.submit(self.carrier, self.throwaway_filled(purpose))

    def throwaway_case(self, purpose: str) -> dict[str, Any]:
        return self.submitted_app(THROWAWAY_WINDOWS[purpose])[1]

    def throwaway_ready_case(self, purpose: str) -> dict[str, Any]:
        return self.ready_case(THROWAWAY_WINDOWS[purpose])

    def throwaway_permit(self, purpose: str) -> dict[str, Any]:
        return self.issued_permit(THROWAWAY_WINDOWS[purpose])

    def throwaway_document(self) -> str:
        return upload(self.carrier, "OUTLINE_DRAWING", "轮廓图.png")["name"]

    def session(self, identity: Mapping[str, str]) -> dict[str, Any]:
        return sign_in(self.stack, identity)

    # What must never reach another party ---------------------------------------------------------

    def owner_values(self) -> set[str]:
        """Every value identifying the carrier or the licensee: names, numbers, plates, party ids."""
        values = set(OWNER_STATIC_VALUES)
        for app in (self.draft, self.submitted, self.reviewed):
            values |= {app["name"], app["number"]}
        for case in (self.submitted_case, self.reviewed_case, self.prepared_case, self.adjusted_case):
            values |= {case["name"], case["application"], case["applicationNumber"]}
        for permit in (self.permit, self.extended_permit):
            values |= {permit["name"], permit["number"], permit["application"], permit["case"],
                       permit["verificationCode"]}
            values |= {e["name"] for e in permit.get("extensions", [])}
        tractor, trailer = self.fleet()
        values |= {self.document, self.power_of_attorney, self.draft["_document"]["name"],
                   tractor["fleetVehicle"], trailer["fleetVehicle"]}
        values |= {self.licence["name"], self.licence["licenceNumber"], self.licence["document"],
                   self.licensee_party}
        return values


def build_world(stack, api_as) -> World:
    """Sign every caller in and make the carrier's resources, all over HTTP."""
    personas = ("carrier", "person", "hebei-accept", "shandong-review", "jiangsu-review", "beijing-review")
    with ThreadPoolExecutor(len(personas)) as pool:  # each first sign-in mints its ticket in a subprocess
        apis = dict(zip(personas, pool.map(api_as, personas), strict=True))
    w = World(stack=stack, apis=apis)
    _officers_and_tokens(w)
    _applications(w)
    _permits(w)
    _licence(w)
    w.secrets = w.owner_values()
    return w


def _officers_and_tokens(w: World) -> None:
    admin = Api(w.stack.gateway_url, sign_in(w.stack, officer_identity(ADMIN))["accessToken"])
    r = send(admin, "POST", "/v1/officers", json={"login": ALL_ROLES_OFFICER, "displayName": "京全能",
                                                  "province": BEIJING,
                                                  "roles": ["officer.accept", "officer.review", "officer.licence"]})
    assert r.status_code == 200, r.text
    w.apis[ADMIN] = admin
    w.apis[ALL_ROLES_OFFICER] = Api(w.stack.gateway_url,
                                    sign_in(w.stack, officer_identity(ALL_ROLES_OFFICER))["accessToken"])
    w.token_base = sign_in(w.stack, carrier_identity())
    base = str(w.token_base["accessToken"])
    w.apis[ANONYMOUS] = Api(w.stack.gateway_url)
    w.apis[EXPIRED] = Api(w.stack.gateway_url, expired_token(w.stack, base))
    w.apis[FORGED_KEY] = Api(w.stack.gateway_url, token_signed_with_another_key(base))
    w.apis[FORGED_PAYLOAD] = Api(w.stack.gateway_url, token_with_altered_payload(base))
    w.sign_out_target = sign_in(w.stack, carrier_identity())


def _applications(w: World) -> None:
    w.draft = w.filled(400)
    w.submitted, w.submitted_case = w.submitted_app(405)
    # Two applications of the same vehicles on the same days: the AP-6 limit is reached there.
    w.reviewed, w.reviewed_case = w.case_under_review(410)
    w.document = w.reviewed["_document"]["name"]
    _, w.prepared_case = w.case_under_review(410)
    name = w.prepared_case["name"]
    ok(w.api("shandong-review"), "POST", f"/v1/{name}/reviews/{SHANDONG}:claim", json={})
    w.prepared_case = ok(w.api("jiangsu-review"), "POST", f"/v1/{name}/reviews/{JIANGSU}:suspend",
                         json={"reason": "G2 京沪高速桥梁加固"})
    _, case = w.case_under_review(420)
    w.adjusted_case = ok(w.api("shandong-review"), "POST", f"/v1/{case['name']}/reviews/{SHANDONG}:proposeAdjustment",
                         json={"suggestedRoute": [{"province": SHANDONG, "roads": ["G20", "G15"]}],
                               "reason": "G2施工"})
    w.power_of_attorney = upload(w.carrier, "POWER_OF_ATTORNEY", "委托书.png")["name"]
    # The grant to the route provinces travels through the approval service's outbox.
    j.wait_for(lambda: send(w.api("jiangsu-review"), "GET", f"/v1/{w.document}").status_code == 200,
               "the material granted to 江苏")


def _permits(w: World) -> None:
    w.permit = w.issued_permit(425)
    permit = w.issued_permit(430)
    w.extended_permit = ok(w.carrier, "POST", f"/v1/{permit['name']}/extensions",
                           json={"newEndDate": plus_days(permit["endDate"], 1), "provinces": [SHANDONG],
                                 "reason": "设备延迟到货"})


def _licence(w: World) -> None:
    identity = new_enterprise_identity()
    session = w.session(identity)
    assert session["me"]["onboarding"] == "ONBOARDING_STATE_LICENCE_REQUIRED", session["me"]
    licensee = Api(w.stack.gateway_url, str(session["accessToken"]))
    w.apis["licensee"] = licensee
    w.licensee_party = session["me"]["party"]
    doc = upload(licensee, "BUSINESS_LICENCE", "经营许可证.png")["name"]
    number = f"冀交运管许可石字{random.randrange(10**11, 10**12)}号"
    w.licence = ok(licensee, "POST", "/v1/licences", json=licence_body(doc, number))
