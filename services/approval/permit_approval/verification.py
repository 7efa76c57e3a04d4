"""Signed verification codes of permit certificates (RV-5): the QR payload checked by the server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

PREFIX = "PV1"
# A scanned QR code may carry the bare code or a link that contains it.
_CODE = re.compile(r"PV1\.[0-9a-f]+\.[A-Za-z0-9_-]+")


class PermitSigner:
    """HMAC-SHA256 over the permit id; the code names the permit and proves we issued it."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("verification key must be at least 16 bytes")
        self._key = key

    def _mac(self, permit_id: str) -> str:
        digest = hmac.new(self._key, f"{PREFIX}.{permit_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")

    def sign(self, permit_id: str) -> str:
        """``PV1.<permit id>.<mac>``: printed as the certificate's QR code."""
        return f"{PREFIX}.{permit_id}.{self._mac(permit_id)}"

    def verify(self, code: str) -> str | None:
        """The permit id of a genuine code (bare, or inside a scanned link), or None."""
        code = code.strip()
        if not code.startswith(f"{PREFIX}."):
            found = _CODE.search(code)
            code = found.group(0) if found else code
        parts = code.split(".")
        if len(parts) != 3 or parts[0] != PREFIX or not parts[1]:
            return None
        if not hmac.compare_digest(parts[2], self._mac(parts[1])):
            return None
        return parts[1]
