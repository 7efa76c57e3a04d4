"""The certificate signing key ring in approval's database: rotation and publication (CT-2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from permit_approval.certificate import signing
from permit_approval.certificate.models import CertificateKey

log = structlog.get_logger()


@dataclass(frozen=True)
class KeyPolicy:
    """How long a key signs, and how long a retired key stays published: a certificate
    signed on its last day must still verify until its permit ends (a multi-trip permit
    runs at most 6 months, extensions included)."""

    rotate_after: dt.timedelta = dt.timedelta(days=90)
    publish_after_retire: dt.timedelta = dt.timedelta(days=400)
    passphrase: str = ""


class KeyRing:
    """Signing with the current key (made or rotated on demand), verifying with any key."""

    def __init__(self, policy: KeyPolicy) -> None:
        self.policy = policy

    def signing_key(self, session: Session, now: dt.datetime) -> tuple[str, Ed25519PrivateKey]:
        """The current key, rotating it when it signed long enough."""
        current = session.scalars(
            select(CertificateKey).where(CertificateKey.retire_time.is_(None))
            .order_by(CertificateKey.activate_time.desc())).first()
        if current is not None and now - _aware(current.activate_time) >= self.policy.rotate_after:
            current.retire_time = now
            current.unpublish_time = now + self.policy.publish_after_retire
            log.info("certificate_key_retired", key_id=current.key_id)
            current = None
        if current is None:
            pair = signing.generate_key_pair(now, self.policy.passphrase)
            current = CertificateKey(key_id=pair.key_id, algorithm=signing.ALGORITHM,
                                     private_key_pem=pair.private_key_pem,
                                     public_key_pem=pair.public_key_pem, activate_time=now)
            session.add(current)
            session.flush()
            log.info("certificate_key_created", key_id=current.key_id)
        return current.key_id, signing.load_private(current.private_key_pem, self.policy.passphrase)

    def public_keys(self, session: Session) -> dict[str, Ed25519PublicKey]:
        """Every key ever used, for the server's own check (retired keys included)."""
        return {k.key_id: signing.load_public(k.public_key_pem)
                for k in session.scalars(select(CertificateKey))}

    def published(self, session: Session, now: dt.datetime) -> list[CertificateKey]:
        """The keys an inspector needs: current and retired ones still in circulation."""
        return list(session.scalars(
            select(CertificateKey).where(or_(CertificateKey.unpublish_time.is_(None),
                                             CertificateKey.unpublish_time > now))
            .order_by(CertificateKey.activate_time)))


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
