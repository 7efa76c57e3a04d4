"""Short-lived download tokens for stores that cannot presign (the local folder store).

A token is ``{expiry_epoch}.{hex HMAC-SHA256(secret, "{document_id}.{expiry_epoch}")}``;
DownloadDocument accepts it instead of a principal until it expires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from permit_documents import errors


class LinkSigner:
    """Signs and verifies download tokens with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("download link secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, document_id: str, expiry: int) -> str:
        msg = f"{document_id}.{expiry}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def sign(self, document_id: str, expire_time: dt.datetime) -> str:
        expiry = int(expire_time.timestamp())
        return f"{expiry}.{self._mac(document_id, expiry)}"

    def verify(self, document_id: str, token: str, *, now: dt.datetime) -> None:
        """Raise DownloadTokenInvalid / DownloadTokenExpired unless ``token`` opens ``document_id``."""
        expiry_text, _, mac = token.partition(".")
        if not expiry_text.isdigit() or not mac:
            raise errors.DownloadTokenInvalid(field="token")
        expiry = int(expiry_text)
        if not hmac.compare_digest(mac, self._mac(document_id, expiry)):
            raise errors.DownloadTokenInvalid(field="token")
        if now.timestamp() >= expiry:
            raise errors.DownloadTokenExpired(field="token")
