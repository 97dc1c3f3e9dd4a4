"""Taking a valid registration response apart and putting it back together changed, at every
layer a client controls: the JSON, base64url, clientDataJSON, the attestationObject's CBOR,
authenticatorData (flags, lengths, the COSE key). Plain helpers for targeted tests, and
hypothesis strategies (`mutated_credentials`) for the fuzz tests.
"""

from __future__ import annotations

import base64
import copy
import json
import struct
from base64 import urlsafe_b64decode
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import cbor2
from hypothesis import strategies as st

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


# ---------------------------------------------------------------------------------------------
# Hypothesis strategies: each draws (label, mutated credential) from a valid one. The label
# names the layer and the kind of change, for counting and for reading a failure.

Mutation = tuple[str, Credential]

BINARY_FIELDS: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("rawId",),
    ("response", "clientDataJSON"),
    ("response", "attestationObject"),
    ("response", "authenticatorData"),
    ("response", "publicKey"),
)
FORMATS = ("none", "packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple", "compound", "")
ATT_STMT_KEYS = ("alg", "sig", "x5c", "ver", "certInfo", "pubArea", "response", "ecdaaKeyId")
COSE_LABELS = (1, 2, 3, -1, -2, -3, -4)

# A place in a text or bytes, taken modulo its length: the same draws whatever the length of
# the valid credential (signatures and certificates vary), so hypothesis can replay examples.
positions = st.integers(0, 2**16)

# What a google.protobuf.Struct can carry: JSON values, numbers as doubles.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
cbor_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64) + 1, max_value=2**64 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.binary(max_size=80)
)
cbor_values = st.recursive(
    cbor_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=10) | st.integers(-10, 10), inner, max_size=4)
        | st.builds(cbor2.CBORTag, st.integers(0, 2**32), inner)
    ),
    max_leaves=12,
)


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside dicts and lists, the root excluded."""
    out: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        out.append((*prefix, key))
        out.extend(paths_of(child, (*prefix, key)))
    return out


def get_path(root: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        root = root[key]
    return root


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    return get_path(root, path[:-1])


def set_path(credential: Credential, path: tuple[Any, ...], value: Any) -> Credential:
    out = copy.deepcopy(credential)
    _parent(out, path)[path[-1]] = value
    return out


def delete_path(credential: Credential, path: tuple[Any, ...]) -> Credential:
    out = copy.deepcopy(credential)
    del _parent(out, path)[path[-1]]
    return out


def nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for i in range(depth):
        value = {"a": value} if i % 2 else [value]
    return value


@st.composite
def json_structure(draw: st.DrawFn, credential: Credential) -> Mutation:
    """The credential's JSON: members removed, added, or given values of the wrong type."""
    paths = paths_of(credential)
    kind = draw(st.sampled_from(["delete", "replace", "add", "wrap"]))
    if kind == "delete":
        path = draw(st.sampled_from(paths))
        return f"json.delete.{path[-1]}", delete_path(credential, path)
    if kind == "replace":
        path = draw(st.sampled_from(paths))
        return f"json.replace.{path[-1]}", set_path(credential, path, draw(json_values))
    if kind == "add":
        dict_paths = [(), *(p for p in paths if isinstance(get_path(credential, p), dict))]
        where = draw(st.sampled_from(dict_paths))
        target = copy.deepcopy(credential)
        get_path(target, where)[draw(st.text(max_size=12))] = draw(json_values)
        return "json.add", target
    return "json.wrap", {draw(st.text(max_size=8)): credential}


def _b64_field(credential: Credential, path: tuple[str, ...]) -> bytes:
    return unb64(_parent(credential, path)[path[-1]])


@st.composite
def base64url_fields(draw: st.DrawFn, credential: Credential) -> Mutation:
    """A binary member's base64url text: wrong alphabet, padding, truncated, or other bytes."""
    path = draw(st.sampled_from([p for p in BINARY_FIELDS if _has(credential, p)]))
    text = _parent(credential, path)[path[-1]]
    raw = _b64_field(credential, path)
    kind = draw(st.sampled_from(["text", "insert", "pad", "truncate", "standard", "bytes", "empty", "flip"]))
    if kind == "text":
        value = draw(st.text(max_size=200))
    elif kind == "insert":
        at = draw(positions) % (len(text) + 1)
        value = text[:at] + draw(st.sampled_from(list("+/=!$ \n\t\x00é.~%"))) + text[at:]
    elif kind == "pad":
        value = text + "=" * draw(st.integers(1, 3))
    elif kind == "truncate":
        value = text[: draw(positions) % max(len(text), 1)]
    elif kind == "standard":
        value = base64.b64encode(raw).decode()
    elif kind == "bytes":
        value = b64url(draw(st.binary(max_size=300)))
    elif kind == "empty":
        value = ""
    else:
        at = draw(positions) % max(len(raw), 1)
        bit = 1 << draw(st.integers(0, 7))
        value = b64url(raw[:at] + bytes([raw[at] ^ bit]) + raw[at + 1 :]) if raw else "AA"
    return f"base64url.{kind}.{path[-1]}", set_path(credential, path, value)


def _has(credential: Credential, path: tuple[str, ...]) -> bool:
    try:
        return isinstance(_parent(credential, path)[path[-1]], str)
    except (KeyError, TypeError):
        return False


@st.composite
def client_data(draw: st.DrawFn, credential: Credential) -> Mutation:
    """clientDataJSON: members with other values or types, removed, or no JSON object at all."""
    kind = draw(st.sampled_from(["member", "delete", "raw", "not-object", "not-utf8", "deep", "huge"]))
    members = ["type", "challenge", "origin", "crossOrigin", "topOrigin", "tokenBinding", "other"]
    if kind == "member":
        name = draw(st.sampled_from(members))
        value = draw(json_values | st.sampled_from(["webauthn.create", "webauthn.get", "https://login.example.com"]))
        data = client_data_of(credential) | {name: value}
        return f"client_data.member.{name}", _client_data_bytes(credential, json.dumps(data).encode())
    if kind == "delete":
        name = draw(st.sampled_from(members[:3]))
        return f"client_data.delete.{name}", with_client_data(credential, **{name: None})
    if kind == "raw":
        return "client_data.raw", _client_data_bytes(credential, draw(st.binary(max_size=200)))
    if kind == "not-object":
        value = draw(json_values.filter(lambda v: not isinstance(v, dict)))
        return "client_data.not-object", _client_data_bytes(credential, json.dumps(value).encode())
    if kind == "not-utf8":
        data = json.dumps(client_data_of(credential)).encode()
        return "client_data.not-utf8", _client_data_bytes(credential, data[:-1] + b"\xff\xfe}")
    if kind == "deep":
        depth = draw(st.integers(10, 100_000))
        data = b'{"type":' + b"[" * depth + b"]" * depth + b"}"
        return "client_data.deep", _client_data_bytes(credential, data)
    size = draw(st.integers(1_000, 500_000))
    return "client_data.huge", with_client_data(credential, origin="https://" + "a" * size)


def _client_data_bytes(credential: Credential, data: bytes) -> Credential:
    return with_response(credential, clientDataJSON=b64url(data))


@st.composite
def attestation_cbor(draw: st.DrawFn, credential: Credential) -> Mutation:
    """The attestationObject's CBOR: fmt, attStmt, authData changed, or the encoding broken."""
    encoded = unb64(credential["response"]["attestationObject"])
    attestation = attestation_of(credential)
    kind = draw(
        st.sampled_from(["fmt", "att_stmt", "att_stmt_key", "auth_data", "delete", "add", "whole", "bytes", "deep"])
    )
    if kind == "fmt":
        value = draw(st.sampled_from(FORMATS) | cbor_values)
        return "cbor.fmt", _attestation_bytes(credential, cbor2.dumps(attestation | {"fmt": value}))
    if kind == "att_stmt":
        value = draw(cbor_values)
        return "cbor.att_stmt", _attestation_bytes(credential, cbor2.dumps(attestation | {"attStmt": value}))
    if kind == "att_stmt_key":
        statement = dict(attestation["attStmt"]) if isinstance(attestation["attStmt"], dict) else {}
        key = draw(st.sampled_from(ATT_STMT_KEYS))
        statement[key] = draw(cbor_values | st.lists(st.binary(max_size=300), max_size=3))
        label = f"cbor.att_stmt.{key}"
        return label, _attestation_bytes(credential, cbor2.dumps(attestation | {"attStmt": statement}))
    if kind == "auth_data":
        value = draw(cbor_values.filter(lambda v: not isinstance(v, bytes)) | st.binary(max_size=300))
        return "cbor.auth_data", _attestation_bytes(credential, cbor2.dumps(attestation | {"authData": value}))
    if kind == "delete":
        key = draw(st.sampled_from(sorted(attestation)))
        rest = {k: v for k, v in attestation.items() if k != key}
        return f"cbor.delete.{key}", _attestation_bytes(credential, cbor2.dumps(rest))
    if kind == "add":
        extra = {draw(st.text(max_size=8) | st.integers(-5, 5)): draw(cbor_values)}
        return "cbor.add", _attestation_bytes(credential, cbor2.dumps(attestation | extra))
    if kind == "whole":
        return "cbor.whole", _attestation_bytes(credential, cbor2.dumps(draw(cbor_values)))
    if kind == "bytes":
        how = draw(st.sampled_from(["truncate", "trailing", "flip"]))
        at = draw(positions) % len(encoded)
        if how == "truncate":
            broken = encoded[:at]
        elif how == "trailing":
            broken = encoded + draw(st.binary(min_size=1, max_size=20))
        else:
            broken = encoded[:at] + bytes([encoded[at] ^ (1 << draw(st.integers(0, 7)))]) + encoded[at + 1 :]
        return f"cbor.bytes.{how}", _attestation_bytes(credential, broken)
    depth = draw(st.integers(1, 5_000))
    return "cbor.deep", _attestation_bytes(credential, b"\x81" * depth + b"\xa0")


def _attestation_bytes(credential: Credential, data: bytes) -> Credential:
    return with_response(credential, attestationObject=b64url(data))


@st.composite
def authenticator_data(draw: st.DrawFn, credential: Credential) -> Mutation:
    """authenticatorData inside the attestationObject: flags, counter, lengths, credential id,
    the COSE key, extensions, truncation."""
    auth = AuthData.parse(attestation_of(credential)["authData"])
    kind = draw(
        st.sampled_from(["flags", "sign_count", "id_length", "credential_id", "cose_label", "cose_key", "rest", "cut"])
    )
    label = f"auth_data.{kind}"
    if kind == "flags":
        raw = replace(auth, flags=draw(st.integers(0, 255))).dump()
    elif kind == "sign_count":
        raw = replace(auth, sign_count=draw(st.integers(0, 2**32 - 1))).dump()
    elif kind == "id_length":
        raw = auth.dump(id_length=draw(st.integers(0, 0xFFFF)))
    elif kind == "credential_id":
        new_id = draw(st.binary(max_size=1100) | st.integers(1020, 1100).map(bytes))
        changed = with_attestation(credential, authData=replace(auth, credential_id=new_id).dump())
        if draw(st.booleans()):  # rawId and id following it, as a real client's would
            changed = with_ids(changed, new_id)
        return label, changed
    elif kind == "cose_label":
        key = cbor2.loads(auth.cose_key)
        key[draw(st.sampled_from(COSE_LABELS))] = draw(cbor_values | st.sampled_from([1, 2, 3, 4, -7, -8, -257, 6]))
        raw = replace(auth, cose_key=cbor2.dumps(key)).dump()
    elif kind == "cose_key":
        raw = replace(auth, cose_key=cbor2.dumps(draw(cbor_values))).dump()
    elif kind == "rest":
        extensions = draw(st.booleans())
        flags = auth.flags | 0x80 if extensions else auth.flags
        tail = cbor2.dumps(draw(cbor_values)) if extensions else draw(st.binary(min_size=1, max_size=50))
        raw = replace(auth, flags=flags, rest=tail).dump()
    else:
        whole = auth.dump()
        raw = whole[: draw(positions) % len(whole)]
    return label, with_attestation(credential, authData=raw)


@st.composite
def sizes_and_types(draw: st.DrawFn, credential: Credential) -> Mutation:
    """What only a Struct can bring: huge strings, deep nesting (past protobuf's recursion
    limit too), many members, long lists, numbers no browser sends."""
    paths = paths_of(credential)
    path = draw(st.sampled_from(paths))
    kind = draw(st.sampled_from(["huge", "deep", "many", "long", "number"]))
    if kind == "huge":
        value: Any = "A" * draw(st.integers(10_000, 1_100_000))
    elif kind == "deep":
        value = nested(draw(st.integers(1, 120)))
    elif kind == "many":
        value = {f"k{i}": i for i in range(draw(st.integers(100, 20_000)))}
    elif kind == "long":
        value = list(range(draw(st.integers(100, 50_000))))
    else:
        value = draw(st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -0.0, 2.0**53 + 1, 0.5]))
    return f"struct.{kind}", set_path(credential, path, value)


LAYERS = {
    "json_structure": json_structure,
    "base64url": base64url_fields,
    "client_data": client_data,
    "attestation_cbor": attestation_cbor,
    "authenticator_data": authenticator_data,
    "sizes_and_types": sizes_and_types,
}
