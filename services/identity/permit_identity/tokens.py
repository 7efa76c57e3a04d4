"""Access tokens: EdDSA (Ed25519) JWTs with a key id; refresh token secrets."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ISSUER = "permit-identity"
AUDIENCE = "permit"
ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class KeyPair:
    key_id: str
    private_key_pem: str
    public_key_pem: str


def generate_key_pair(now: dt.datetime, passphrase: str = "") -> KeyPair:
    """A fresh Ed25519 pair; the private half encrypted when a passphrase is configured."""
    private = Ed25519PrivateKey.generate()
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
        else serialization.NoEncryption())
    private_pem = private.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8, enc).decode()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    key_id = f"{now:%Y%m%d}-{secrets.token_hex(4)}"
    return KeyPair(key_id, private_pem, public_pem)


def load_private_key(pem: str, passphrase: str = "") -> Ed25519PrivateKey:
    # A key stored before encryption at rest was the default loads without the
    # passphrase (serve re-encrypts such keys at start: encrypt_private_key).
    encrypted = "ENCRYPTED" in pem.split("\n", 1)[0]
    key = serialization.load_pem_private_key(
        pem.encode(), password=passphrase.encode() if passphrase and encrypted else None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def encrypt_private_key(pem: str, passphrase: str) -> str | None:
    """The key re-encrypted under ``passphrase`` when it is stored in the clear; else None."""
    if not passphrase or "ENCRYPTED" in pem.split("\n", 1)[0]:
        return None
    key = load_private_key(pem)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase.encode())).decode()


@dataclass(frozen=True)
class AccessClaims:
    """What an access token says about its bearer."""

    subject: str
    session_id: str
    roles: tuple[str, ...]
    onboarding: str
    party: str | None = None
    province: str | None = None


def sign_access_token(claims: AccessClaims, *, key_id: str, private_key_pem: str,
                      now: dt.datetime, ttl: dt.timedelta, passphrase: str = "") -> tuple[str, dt.datetime]:
    """Sign the token; returns it and its expiry."""
    exp = now + ttl
    body: dict[str, Any] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": claims.subject, "roles": list(claims.roles),
        "onb": claims.onboarding, "iat": int(now.timestamp()), "exp": int(exp.timestamp()),
        "jti": uuid.uuid4().hex, "sid": claims.session_id,
    }
    if claims.party:
        body["party"] = claims.party
    if claims.province:
        body["prov"] = claims.province
    token = jwt.encode(body, load_private_key(private_key_pem, passphrase), algorithm=ALGORITHM,
                       headers={"kid": key_id})
    return token, dt.datetime.fromtimestamp(int(exp.timestamp()), dt.UTC)


class TokenRejected(Exception):
    """The token failed verification; ``reason`` is TOKEN_INVALID or TOKEN_EXPIRED."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify_access_token(token: str, public_keys: Mapping[str, str], *, now: dt.datetime,
                        leeway: dt.timedelta = dt.timedelta(seconds=0)) -> dict[str, Any]:
    """Verify signature (by `kid`), issuer, audience and expiry against ``now``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRejected("TOKEN_INVALID") from None
    pem = public_keys.get(str(header.get("kid", "")))
    if pem is None or header.get("alg") != ALGORITHM:
        raise TokenRejected("TOKEN_INVALID")
    # Time claims are checked below against the caller's clock, not the host's.
    try:
        claims: dict[str, Any] = jwt.decode(
            token, pem, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "jti"], "verify_exp": False,
                     "verify_iat": False, "verify_nbf": False})
    except jwt.PyJWTError:
        raise TokenRejected("TOKEN_INVALID") from None
    if int(claims["exp"]) <= (now - leeway).timestamp():
        raise TokenRejected("TOKEN_EXPIRED")
    return claims


def new_refresh_token(session_id: str) -> tuple[str, str]:
    """``(token, hash)``: the token names its session, only the hash is stored."""
    secret = secrets.token_urlsafe(32)
    token = f"{session_id}.{secret}"
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_key_map(keys: Iterable[tuple[str, str]]) -> dict[str, str]:
    return dict(keys)
