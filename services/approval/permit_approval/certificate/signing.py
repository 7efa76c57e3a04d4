"""Signed QR payloads of certificates (CT-2): Ed25519 over a compact JSON, verifiable offline.

A code is ``PC1.<body>.<signature>``, both parts base64url without padding. The body
is UTF-8 JSON with sorted keys and no spaces::

    {"e": "2027-01-08", "kid": "20261206-1a2b3c4d", "mt": 0, "no": "冀2027000001",
     "pl": ["冀A12345", "冀B6789挂"], "rd": "5f0c2e7a9b1d3c4e", "s": "2027-01-05", "v": 1}

``no`` permit number, ``v`` certificate version, ``pl`` plates, ``s``/``e`` validity,
``mt`` multi-trip, ``rd`` the route digest (:func:`route_digest`), ``kid`` the signing
key, published with ListCertificateKeys (``/v1/certificateKeys``). An inspector
without network checks the signature with the published key and compares the
plates, dates and route with the lorry; online, the verification page adds the
current state (valid, abolished, expired, superseded).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "PC1"
ALGORITHM = "Ed25519"
# A scanned QR code carries the page address with the code; a typed one may be bare.
_CODE = re.compile(r"PC1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def route_digest(route: Iterable[Mapping[str, Any]]) -> str:
    """16 hex digits of SHA-256 over ``"130000:G4,G1811;370000:G2,G3;320000:G2"``."""
    text = ";".join(f"{r['province']}:{','.join(r.get('roads') or [])}" for r in route)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Payload:
    """What a certificate's QR code states, signed."""

    key_id: str
    permit_number: str
    version: int
    plates: list[str]
    start_date: dt.date
    end_date: dt.date
    multi_trip: bool
    route_digest: str

    def body(self) -> bytes:
        return json.dumps({
            "kid": self.key_id, "no": self.permit_number, "v": self.version, "pl": self.plates,
            "s": self.start_date.isoformat(), "e": self.end_date.isoformat(),
            "mt": int(self.multi_trip), "rd": self.route_digest,
        }, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_body(cls, body: bytes) -> Payload:
        d = json.loads(body.decode())
        return cls(key_id=str(d["kid"]), permit_number=str(d["no"]), version=int(d["v"]),
                   plates=[str(p) for p in d["pl"]], start_date=dt.date.fromisoformat(d["s"]),
                   end_date=dt.date.fromisoformat(d["e"]), multi_trip=bool(d.get("mt")),
                   route_digest=str(d["rd"]))


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
    return KeyPair(f"{now:%Y%m%d}-{secrets.token_hex(4)}", private_pem, public_pem_of(private))


def public_pem_of(private: Ed25519PrivateKey) -> str:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_private(pem: str, passphrase: str = "") -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=passphrase.encode() or None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("certificate key is not Ed25519")
    return key


def load_public(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("certificate key is not Ed25519")
    return key


def raw_public(pem: str) -> str:
    """The 32 raw bytes of a public key, base64url: what a phone app stores offline."""
    return b64(load_public(pem).public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw))


def sign(payload: Payload, private: Ed25519PrivateKey) -> str:
    body = payload.body()
    return f"{PREFIX}.{b64(body)}.{b64(private.sign(body))}"


def extract(text: str) -> str | None:
    """The ``PC1`` code in a scanned text (a bare code or the verification page's address)."""
    found = _CODE.search(text or "")
    return found.group(0) if found else None


def verify(code: str, public_keys: Mapping[str, Ed25519PublicKey]) -> Payload | None:
    """The payload of a genuine code, or None (malformed, unknown key, bad signature)."""
    found = extract(code)
    if found is None:
        return None
    _, body_b64, sig_b64 = found.split(".")
    try:
        body = unb64(body_b64)
        payload = Payload.from_body(body)
        key = public_keys.get(payload.key_id)
        if key is None:
            return None
        key.verify(unb64(sig_b64), body)
    except (ValueError, KeyError, TypeError, InvalidSignature):
        return None
    return payload
