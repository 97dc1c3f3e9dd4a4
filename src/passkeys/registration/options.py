"""PublicKeyCredentialCreationOptions for a new passkey, and the choice of RP ID."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from webauthn import generate_registration_options, options_to_json
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from passkeys.errors import InvalidArgument, Reason

if TYPE_CHECKING:
    import tldextract


@dataclass(frozen=True)
class RelyingParty:
    """Who passkeys are made for and what a registration offers; built once at start."""

    id: str  # the configured RP ID (a request may pick a registrable parent: choose_rp_id)
    name: str
    challenge_ttl_s: int
    algorithms: tuple[int, ...]
    attestation: str  # the conveyance asked for: none, indirect, direct, enterprise


@dataclass(frozen=True)
class ExistingCredential:
    credential_id: bytes
    transports: list[str]


@lru_cache(maxsize=1)
def _psl() -> tldextract.TLDExtract:
    # The public suffix list snapshot shipped with tldextract: no network at run time. Imported
    # by the first request that names a parent domain, not at start: tldextract and what it
    # loads (requests, urllib3, idna, filelock) are ~6 MiB of every worker's memory.
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def choose_rp_id(configured: str, requested: str) -> str:
    """The RP ID for one registration: the configured one, or a registrable parent of it.

    A parent like "example.com" of "login.example.com" lets the passkey work on sibling
    sites; a public suffix ("com", "co.uk", "github.io") never may be an RP ID.
    """
    domain = requested.strip().lower()
    if not domain or domain == configured:
        return configured
    if configured.endswith("." + domain) and _psl()(domain).domain:
        return domain
    raise InvalidArgument(
        Reason.DOMAIN_NOT_ALLOWED,
        f"domain {requested!r} is neither the RP ID {configured!r} nor a registrable parent of it",
        field="domain",
    )


def _transports(values: list[str]) -> list[AuthenticatorTransport]:
    known = {t.value for t in AuthenticatorTransport}
    return [AuthenticatorTransport(v) for v in values if v in known]


def creation_options(
    *,
    rp_id: str,
    rp_name: str,
    user_handle: bytes,
    user_name: str,
    user_display_name: str,
    challenge: bytes,
    timeout_ms: int,
    algorithms: tuple[int, ...],
    attachment: str | None,
    exclude: list[ExistingCredential],
    attestation: str = "none",
) -> dict[str, Any]:
    """`{"publicKey": {...}}` as PublicKeyCredential.parseCreationOptionsFromJSON accepts."""
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=user_handle,
        user_name=user_name,
        user_display_name=user_display_name,
        challenge=challenge,
        timeout=timeout_ms,
        attestation=AttestationConveyancePreference(attestation),
        authenticator_selection=AuthenticatorSelectionCriteria(
            authenticator_attachment=AuthenticatorAttachment(attachment) if attachment else None,
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=c.credential_id, transports=_transports(c.transports) or None)
            for c in exclude
        ],
        supported_pub_key_algs=[COSEAlgorithmIdentifier(a) for a in algorithms],
    )
    return {"publicKey": json.loads(options_to_json(options))}
