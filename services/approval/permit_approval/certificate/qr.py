"""The certificate's QR code (segno): the verification page's address with the signed payload (CT-2)."""

from __future__ import annotations

import io

import segno


def verify_url(base_url: str, code: str) -> str:
    """The public verification page for ``code`` (only URL-safe characters: nothing to escape)."""
    return f"{base_url.rstrip('/')}/verify?c={code}"


def qr_png(data: str, *, scale: int = 8) -> bytes:
    """A PNG of the QR code, error correction M, with the standard quiet zone."""
    qr = segno.make_qr(data, error="m")
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()
