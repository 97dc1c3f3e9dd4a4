"""Conversions of passkeys.v1.PasskeyDetailsService: domain values to protobuf."""

from __future__ import annotations

from passkeysapi.v1 import passkey_details_pb2 as pb

from passkeys.api import convert
from passkeys.commands.passkey_details import PasskeyDetailsView


def passkey_details_to_pb(view: PasskeyDetailsView, out: pb.PasskeyDetails) -> None:
    out.id = view.id
    out.name = view.name
    out.state = convert.passkey_state_to_pb(view.state)
    out.creation_date.FromDatetime(view.created_at)
    if view.last_used_at is not None:
        out.last_used.FromDatetime(view.last_used_at)
    out.rp_id = view.rp_id
    out.transports.extend(view.transports)
    out.backup_eligible = view.backup_eligible
    out.backup_state = view.backed_up
    out.aaguid = view.aaguid
    if view.provider is not None:
        out.provider_name = view.provider.name
        out.provider_icon_light = view.provider.icon_light or ""
        out.provider_icon_dark = view.provider.icon_dark or ""
    out.attestation_format = view.attestation_format
    out.attestation_verified = view.attestation_trusted
