"""Taking a valid registration response apart and putting it back together changed, at every
layer a client controls: the JSON, base64url, clientDataJSON, the attestationObject's CBOR,
authenticatorData (flags, lengths, the COSE key). Plain helpers for targeted tests, and
hypothesis strategies (`mutated_credentials`) for the fuzz tests.
"""

from __future__ import annotations

import copy
import json
import struct
from base64 import urlsafe_b64decode
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import cbor2

from tests.support.authenticator import b64url

Credential = dict[str, Any]


def unb64(value: str) -> bytes:
    return urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass(frozen=True)
class AuthData:
    """authenticatorData with attested credential data (WebAuthn §6.1), field by field."""

    rp_id_hash: bytes
    flags: int
    sign_count: int
    aaguid: bytes
    credential_id: bytes
    cose_key: bytes
    rest: bytes  # extensions, or trailing bytes

    @classmethod
    def parse(cls, raw: bytes) -> AuthData:
        flags, sign_count = struct.unpack(">BI", raw[32:37])
        (length,) = struct.unpack(">H", raw[53:55])
        credential_id = raw[55 : 55 + length]
        tail = raw[55 + length :]
        key = cbor2.loads(tail)
        cose_key = cbor2.dumps(key)
        return cls(raw[:32], flags, sign_count, raw[37:53], credential_id, cose_key, tail[len(cose_key) :])

    def dump(self, *, id_length: int | None = None) -> bytes:
        length = len(self.credential_id) if id_length is None else id_length
        return (
            self.rp_id_hash
            + struct.pack(">BI", self.flags, self.sign_count)
            + self.aaguid
            + struct.pack(">H", length & 0xFFFF)
            + self.credential_id
            + self.cose_key
            + self.rest
        )


def attestation_of(credential: Credential) -> dict[str, Any]:
    return cbor2.loads(unb64(credential["response"]["attestationObject"]))


def client_data_of(credential: Credential) -> dict[str, Any]:
    return json.loads(unb64(credential["response"]["clientDataJSON"]))


def with_response(credential: Credential, **fields: Any) -> Credential:
    out = copy.deepcopy(credential)
    out["response"].update(fields)
    return out


def with_attestation(credential: Credential, **fields: Any) -> Credential:
    """attestationObject with some of fmt, attStmt, authData replaced (re-encoded as CBOR).
    authenticatorData in the JSON follows authData, as a browser's would."""
    attestation = attestation_of(credential) | fields
    changed = with_response(credential, attestationObject=b64url(cbor2.dumps(attestation)))
    if "authData" in fields and isinstance(fields["authData"], bytes):
        changed["response"]["authenticatorData"] = b64url(fields["authData"])
    return changed


def with_auth_data(credential: Credential, change: Callable[[AuthData], AuthData]) -> Credential:
    """authenticatorData rebuilt (no signature covers it in a `none` attestation)."""
    parsed = AuthData.parse(attestation_of(credential)["authData"])
    return with_attestation(credential, authData=change(parsed).dump())


def with_cose_key(credential: Credential, **fields: Any) -> Credential:
    """The COSE_Key with some labels replaced (e.g. `x=bytes(32)` for label -2)."""
    labels = {"kty": 1, "alg": 3, "crv": -1, "x": -2, "y": -3}

    def change(auth: AuthData) -> AuthData:
        key = cbor2.loads(auth.cose_key)
        for name, value in fields.items():
            key[labels[name]] = value
        return replace(auth, cose_key=cbor2.dumps(key))

    return with_auth_data(credential, change)


def with_client_data(credential: Credential, **fields: Any) -> Credential:
    """clientDataJSON with some members replaced (a value of None removes it)."""
    data = client_data_of(credential)
    for name, value in fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return with_response(credential, clientDataJSON=b64url(json.dumps(data).encode()))


def with_ids(credential: Credential, credential_id: bytes) -> Credential:
    out = copy.deepcopy(credential)
    out["id"] = out["rawId"] = b64url(credential_id)
    return out
