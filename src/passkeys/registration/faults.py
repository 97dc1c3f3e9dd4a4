"""Whose fault a failed WebAuthn verification is, for registration (verify.py) and sign-in
(signin.py) alike: what a wrong credential makes py_webauthn (or the parsers under it) raise is the
client's; running out of memory or file descriptors, or failing to load our own roots, the server's."""

from __future__ import annotations

import errno
import struct
from collections.abc import Iterator

import cbor2
import cryptography.exceptions
from OpenSSL import crypto
from pyasn1.error import PyAsn1Error
from webauthn.helpers import exceptions as lib

from passkeys.errors import SERVER_FAULT, SERVER_RESOURCES_EXHAUSTED, ServerFault, ServerOverloaded

# What a wrong credential makes the library (or the parsers under it) raise: the client's fault.
# ValueError covers JSONDecodeError, binascii.Error and UnicodeError; AttributeError is what the
# library raises when a JSON member it calls .get() on is a list.
CLIENT_FAULTS: tuple[type[Exception], ...] = (
    lib.WebAuthnException,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    OverflowError,
    struct.error,
    cbor2.CBORError,
    PyAsn1Error,
    crypto.Error,
    crypto.X509StoreContextError,
    cryptography.exceptions.InvalidSignature,
    cryptography.exceptions.InvalidKey,
    cryptography.exceptions.UnsupportedAlgorithm,
)
# OS errors that mean the machine is out of something for now: retrying later may succeed.
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS, errno.EAGAIN, errno.ENOSPC})


def chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes (explicit or implicit), outermost first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 32:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def server_fault(exc: BaseException) -> ServerFault | None:
    """The server's own failure anywhere along `exc`'s causes (the library wraps what it
    catches: "attestationObject was malformed" may hide an OSError), else None."""
    for link in chain(exc):
        if isinstance(link, MemoryError) or (isinstance(link, OSError) and link.errno in _EXHAUSTED):
            reason = getattr(link, "strerror", None) or "out of memory"
            return ServerOverloaded(
                SERVER_RESOURCES_EXHAUSTED, f"the server is out of resources ({reason}); retry later"
            )
        if isinstance(link, OSError):
            return ServerFault(SERVER_FAULT, "internal error")
        if isinstance(link, lib.InvalidCertificateChain) and str(link).startswith("Could not prepare root certs"):
            return ServerFault(SERVER_FAULT, "internal error")  # our roots, loaded and checked at start
    return None
