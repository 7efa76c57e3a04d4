"""Download tokens of the folder store: signed, bound to one document, short-lived."""

from __future__ import annotations

import datetime as dt

import pytest

from permit_documents import errors
from permit_documents.links import LinkSigner

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
SIGNER = LinkSigner(b"0123456789abcdef0123456789abcdef")


def test_token_opens_its_document_until_expiry():
    token = SIGNER.sign("a" * 32, NOW + dt.timedelta(minutes=5))
    SIGNER.verify("a" * 32, token, now=NOW + dt.timedelta(minutes=4))


def test_expired_token_is_refused():
    token = SIGNER.sign("a" * 32, NOW + dt.timedelta(minutes=5))
    with pytest.raises(errors.DownloadTokenExpired):
        SIGNER.verify("a" * 32, token, now=NOW + dt.timedelta(minutes=5))


def test_token_of_another_document_is_refused():
    token = SIGNER.sign("a" * 32, NOW + dt.timedelta(minutes=5))
    with pytest.raises(errors.DownloadTokenInvalid):
        SIGNER.verify("b" * 32, token, now=NOW)


def test_extended_expiry_breaks_the_signature():
    token = SIGNER.sign("a" * 32, NOW + dt.timedelta(minutes=5))
    _, mac = token.split(".")
    forged = f"{int((NOW + dt.timedelta(days=9)).timestamp())}.{mac}"
    with pytest.raises(errors.DownloadTokenInvalid):
        SIGNER.verify("a" * 32, forged, now=NOW)


@pytest.mark.parametrize("token", ["", "garbage", "123.", ".abc"])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(errors.DownloadTokenInvalid):
        SIGNER.verify("a" * 32, token, now=NOW)


def test_other_secret_does_not_verify():
    token = LinkSigner(b"x" * 32).sign("a" * 32, NOW + dt.timedelta(minutes=5))
    with pytest.raises(errors.DownloadTokenInvalid):
        SIGNER.verify("a" * 32, token, now=NOW)
