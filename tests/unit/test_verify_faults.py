"""Whose fault a failed verification is (registration/faults.py): the rule on exception chains
as py_webauthn raises them (a format module re-raising what it caught), and the check it names."""

from __future__ import annotations

import errno

import pytest
from OpenSSL import crypto
from webauthn.helpers.exceptions import InvalidCertificateChain, InvalidRegistrationResponse

from passkeys.errors import ServerFault, ServerOverloaded
from passkeys.registration.faults import server_fault
from passkeys.registration.verify import _library_check


def wrapped(inner: BaseException, outer_message: str = "attestationObject was malformed") -> Exception:
    """`inner` raised, caught and re-raised by the library as its own error (implicit context)."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise InvalidRegistrationResponse(outer_message) from exc
    except InvalidRegistrationResponse as outer:
        return outer


@pytest.mark.parametrize("number", [errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOSPC])
def test_resource_exhaustion_anywhere_in_the_chain_is_unavailable(number: int) -> None:
    fault = server_fault(wrapped(OSError(number, "exhausted")))
    assert isinstance(fault, ServerOverloaded) and fault.reason == "SERVER_RESOURCES_EXHAUSTED"
    assert isinstance(server_fault(wrapped(MemoryError())), ServerOverloaded)


def test_other_os_errors_and_our_own_roots_failing_are_internal() -> None:
    fault = server_fault(wrapped(PermissionError(errno.EACCES, "denied")))
    assert type(fault) is ServerFault and fault.reason == "SERVER_FAULT"
    roots = wrapped(InvalidCertificateChain("Could not prepare root certs. See __cause__ for more info"), "x (TPM)")
    assert type(server_fault(roots)) is ServerFault


def test_the_credentials_faults_are_named() -> None:
    assert server_fault(wrapped(ValueError("bad CBOR"))) is None
    assert _library_check(wrapped(ValueError("bad CBOR"))) == "attestation_object"
    store_error = crypto.X509StoreContextError("unable to get local issuer certificate", [20, 0, "x"], None)  # type: ignore[arg-type]
    chain = wrapped(wrapped(store_error, "Certificate chain could not be validated"), "Certificate chain ... (Packed)")
    assert _library_check(chain) == "attestation_trust"
    leaf = wrapped(InvalidCertificateChain("Could not prepare leaf cert. See __cause__ for more info"), "... (TPM)")
    assert _library_check(leaf) == "attestation_certificate"
    assert _library_check(InvalidRegistrationResponse("Could not verify attestation statement signature (Packed)")) == (
        "attestation_statement"
    )
