"""Access tokens: EdDSA JWT with key id and the pinned claims (tokens, ID-6)."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from permit_identity import tokens

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(minutes=15)


@pytest.fixture(scope="module")
def pair() -> tokens.KeyPair:
    return tokens.generate_key_pair(NOW)


def sign(pair: tokens.KeyPair, claims: tokens.AccessClaims) -> str:
    token, _ = tokens.sign_access_token(claims, key_id=pair.key_id, private_key_pem=pair.private_key_pem,
                                        now=NOW, ttl=TTL)
    return token


def test_officer_token_carries_subject_roles_province_and_kid_ID_6(pair: tokens.KeyPair) -> None:
    token = sign(pair, tokens.AccessClaims(subject="officers/hebei-accept", session_id="s1",
                                           roles=("officer.accept", "officer.review"),
                                           onboarding="ACTIVE", province="130000"))
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] == pair.key_id
    c = tokens.verify_access_token(token, {pair.key_id: pair.public_key_pem}, now=NOW)
    assert c["iss"] == "permit-identity" and c["aud"] == "permit"
    assert c["sub"] == "officers/hebei-accept"
    assert c["roles"] == ["officer.accept", "officer.review"]
    assert c["prov"] == "130000" and c["onb"] == "ACTIVE"
    assert "party" not in c
    assert c["exp"] - c["iat"] == 900 and c["jti"] and c["sid"] == "s1"


def test_applicant_token_carries_party_and_onboarding_ID_5(pair: tokens.KeyPair) -> None:
    token = sign(pair, tokens.AccessClaims(subject="users/u", session_id="s", roles=("applicant",),
                                           onboarding="LICENCE_REQUIRED", party="parties/p"))
    c = tokens.verify_access_token(token, {pair.key_id: pair.public_key_pem}, now=NOW)
    assert c["party"] == "parties/p" and c["onb"] == "LICENCE_REQUIRED" and "prov" not in c


def test_token_expires_after_fifteen_minutes(pair: tokens.KeyPair) -> None:
    token = sign(pair, tokens.AccessClaims("users/u", "s", ("applicant",), "ACTIVE"))
    keys = {pair.key_id: pair.public_key_pem}
    tokens.verify_access_token(token, keys, now=NOW + TTL - dt.timedelta(seconds=1))
    with pytest.raises(tokens.TokenRejected) as e:
        tokens.verify_access_token(token, keys, now=NOW + TTL)
    assert e.value.reason == "TOKEN_EXPIRED"


def test_token_of_an_unpublished_key_is_invalid(pair: tokens.KeyPair) -> None:
    other = tokens.generate_key_pair(NOW)
    token = sign(pair, tokens.AccessClaims("users/u", "s", ("applicant",), "ACTIVE"))
    with pytest.raises(tokens.TokenRejected) as e:
        tokens.verify_access_token(token, {other.key_id: other.public_key_pem}, now=NOW)
    assert e.value.reason == "TOKEN_INVALID"
    # The right kid with the wrong key material fails on the signature.
    with pytest.raises(tokens.TokenRejected):
        tokens.verify_access_token(token, {pair.key_id: other.public_key_pem}, now=NOW)


def test_hs256_token_is_not_accepted_as_eddsa(pair: tokens.KeyPair) -> None:
    forged = jwt.encode({"sub": "users/x", "iss": "permit-identity", "aud": "permit",
                         "exp": int(NOW.timestamp()) + 60, "iat": int(NOW.timestamp()), "jti": "j"},
                        "secret-secret-secret-secret-secret", algorithm="HS256",
                        headers={"kid": pair.key_id})
    with pytest.raises(tokens.TokenRejected):
        tokens.verify_access_token(forged, {pair.key_id: pair.public_key_pem}, now=NOW)


def test_private_key_can_be_stored_encrypted() -> None:
    pair = tokens.generate_key_pair(NOW, passphrase="s3cret")
    assert "ENCRYPTED" in pair.private_key_pem
    token, _ = tokens.sign_access_token(tokens.AccessClaims("users/u", "s", ("applicant",), "ACTIVE"),
                                        key_id=pair.key_id, private_key_pem=pair.private_key_pem,
                                        now=NOW, ttl=TTL, passphrase="s3cret")
    assert tokens.verify_access_token(token, {pair.key_id: pair.public_key_pem}, now=NOW)["sub"] == "users/u"


def test_refresh_token_names_its_session_and_is_stored_hashed() -> None:
    token, digest = tokens.new_refresh_token("sess1")
    assert token.startswith("sess1.") and len(token) > 40
    assert digest == tokens.hash_refresh_token(token) and token not in digest


def test_a_key_stored_in_the_clear_is_encrypted_at_rest_and_keeps_signing() -> None:
    """Keys stored before encryption at rest became the default still load, and
    serve re-encrypts them under the passphrase (encrypt_private_key)."""
    plain = tokens.generate_key_pair(NOW)
    assert "ENCRYPTED" not in plain.private_key_pem
    tokens.load_private_key(plain.private_key_pem, "p" * 20)  # a legacy key loads with a passphrase set
    sealed = tokens.encrypt_private_key(plain.private_key_pem, "p" * 20)
    assert sealed is not None and sealed.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert tokens.encrypt_private_key(sealed, "p" * 20) is None  # already encrypted
    token, _ = tokens.sign_access_token(tokens.AccessClaims("users/u", "s", ("applicant",), "ACTIVE"),
                                        key_id=plain.key_id, private_key_pem=sealed, now=NOW, ttl=TTL,
                                        passphrase="p" * 20)
    assert tokens.verify_access_token(token, {plain.key_id: plain.public_key_pem}, now=NOW)["sub"] == "users/u"
