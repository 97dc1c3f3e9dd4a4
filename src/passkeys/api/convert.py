"""Conversions between protobuf messages and domain values, named for their direction."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import struct_pb2
from zitadel.object.v2 import object_pb2
from zitadel.user.v2 import auth_pb2, passkey_pb2
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.commands.passkey_details import PasskeyDetailsList
from passkeys.commands.passkeys import PasskeyList
from passkeys.details import Details
from passkeys.errors import invalid_field
from passkeys.store.passkeys import NOT_READY, READY

# PasskeyAuthenticator to WebAuthn's authenticatorAttachment (None: the browser's choice).
_ATTACHMENT: dict[int, str | None] = {
    passkey_pb2.PASSKEY_AUTHENTICATOR_UNSPECIFIED: None,
    passkey_pb2.PASSKEY_AUTHENTICATOR_PLATFORM: "platform",
    passkey_pb2.PASSKEY_AUTHENTICATOR_CROSS_PLATFORM: "cross-platform",
}
_STATE = {NOT_READY: auth_pb2.AUTH_FACTOR_STATE_NOT_READY, READY: auth_pb2.AUTH_FACTOR_STATE_READY}


def authenticator_to_domain(value: int) -> str | None:
    """An enum number the proto does not name (proto3 keeps unknown values) is refused."""
    if value not in _ATTACHMENT:
        raise invalid_field("authenticator", "authenticator is not a known value")
    return _ATTACHMENT[value]


def link_medium_to_domain(request: pb.CreatePasskeyRegistrationLinkRequest) -> str | None:
    """The URL template of the link to send: None for return_code, "" for the configured default
    (send_link without url_template, or no medium at all, as ZITADEL does), else the template
    (set empty: INVALID_FIELD, as upstream's validate bounds refuse it)."""
    if request.WhichOneof("medium") == "return_code":
        return None
    link = request.send_link
    if not link.HasField("url_template"):
        return ""
    # Set means set: an empty template is refused, not taken for the configured one.
    if not link.url_template:
        raise invalid_field("send_link.url_template", "send_link.url_template is set but empty; leave it unset")
    return link.url_template


def passkey_state_to_pb(state: int) -> auth_pb2.AuthFactorState:
    return _STATE[state]


def details_to_pb(details: Details, out: object_pb2.Details) -> None:
    out.sequence = details.sequence
    out.change_date.FromDatetime(details.change_date)
    out.resource_owner = details.resource_owner
    out.creation_date.FromDatetime(details.creation_date)


def list_details_to_pb(listing: PasskeyList | PasskeyDetailsList, out: object_pb2.ListDetails) -> None:
    out.total_result = len(listing.passkeys)
    out.processed_sequence = listing.sequence
    out.timestamp.FromDatetime(listing.timestamp)


def _value_to_python(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        # Struct has only doubles; print integral ones as JSON integers, as a browser does.
        n = value.number_value
        return int(n) if n.is_integer() and abs(n) < 2**53 else n
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return struct_to_python(value.struct_value)
    if kind == "list_value":
        return [_value_to_python(v) for v in value.list_value.values]
    return None


def struct_to_python(struct: struct_pb2.Struct) -> dict[str, Any]:
    return {key: _value_to_python(value) for key, value in struct.fields.items()}


def json_length(value: Any) -> int:
    """len(json.dumps(value, separators=(",", ":"))) without building the string: a 1 MiB
    credential is not copied twice more (the dump and its parts) only to be measured."""
    if isinstance(value, str):
        # Printable ASCII without quote or backslash is written as it is, between quotes.
        if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
            return len(value) + 2
        return len(json.encoder.encode_basestring_ascii(value))  # type: ignore[attr-defined]
    if isinstance(value, dict):
        return 1 + sum(json_length(str(k)) + 1 + json_length(v) + 1 for k, v in value.items()) + (not value)
    if isinstance(value, list):
        return 1 + sum(json_length(v) + 1 for v in value) + (not value)
    return len(json.dumps(value))  # numbers, booleans, null


def struct_to_credential(struct: struct_pb2.Struct) -> tuple[dict[str, Any], int]:
    """The credential as a dict (converted once), and the characters of the compact JSON a
    browser would have sent (what the size limit counts)."""
    value = struct_to_python(struct)
    return value, json_length(value)
