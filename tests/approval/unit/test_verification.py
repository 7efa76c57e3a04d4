"""Signed verification codes of permit certificates (RV-5)."""

from __future__ import annotations

import pytest

from permit_approval.verification import PermitSigner


def test_a_signed_code_verifies_to_its_permit_RV_5() -> None:
    signer = PermitSigner(b"k" * 32)
    code = signer.sign("abc123")
    assert code.startswith("PV1.abc123.")
    assert signer.verify(code) == "abc123"


@pytest.mark.parametrize("mutate", [
    lambda c: c.replace("abc123", "abc124"),  # another permit id with the same mac
    lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),
    lambda c: "PV2" + c[3:],
    lambda c: c + ".x",
    lambda c: "",
])
def test_a_forged_or_malformed_code_does_not_verify_RV_5(mutate) -> None:  # type: ignore[no-untyped-def]
    signer = PermitSigner(b"k" * 32)
    assert signer.verify(mutate(signer.sign("abc123"))) is None


def test_a_code_signed_with_another_key_does_not_verify_RV_5() -> None:
    assert PermitSigner(b"a" * 32).verify(PermitSigner(b"b" * 32).sign("abc123")) is None


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        PermitSigner(b"short")


def test_a_code_inside_a_scanned_link_verifies_RV_5() -> None:
    signer = PermitSigner(b"k" * 32)
    code = signer.sign("abc123")
    assert signer.verify(f"https://permit.example.cn/verify?code={code}&src=qr") == "abc123"
    assert signer.verify(f"https://permit.example.cn/verify?code={code[:-1]}") is None
