"""Settings turned, once at start, into the narrow values each part takes: the use cases see a
RelyingParty and a Policy (a SignInPolicy for sign-in), never the whole Settings."""

from __future__ import annotations

from passkeys.commands.passkeys import PasskeyCommands
from passkeys.commands.sessions import SessionCommands
from passkeys.config import Settings
from passkeys.registration.attestation_policy import load_attestation_policy
from passkeys.registration.options import RelyingParty
from passkeys.registration.signin import SignInPolicy
from passkeys.registration.verify import Policy
from passkeys.store.db import Database


def relying_party(settings: Settings) -> RelyingParty:
    return RelyingParty(
        id=settings.rp_id,
        name=settings.rp_name,
        challenge_ttl_s=settings.challenge_ttl_s,
        algorithms=settings.algorithms,
        attestation=settings.attestation,
    )


def policy(settings: Settings) -> Policy:
    return Policy(
        origins=settings.origins,
        algorithms=settings.algorithms,
        require_user_verification=settings.require_user_verification,
        require_user_presence=settings.require_user_presence,
        allow_cross_origin=settings.allow_cross_origin,
        top_origins=settings.top_origins,
        attestation_roots=settings.attestation_roots,
        attestation_policy=load_attestation_policy(
            mode=settings.attestation_policy,
            metadata_path=settings.attestation_metadata_path or None,
            min_certification=settings.attestation_min_certification or None,
            aaguid_allow=settings.aaguid_allow,
            aaguid_deny=settings.aaguid_deny,
            device_bound_only=settings.device_bound_only,
        ),
        safetynet_allow_basic_integrity=settings.safetynet_allow_basic_integrity,
    )


def passkey_commands(db: Database, settings: Settings) -> PasskeyCommands:
    return PasskeyCommands(db, relying_party(settings), policy(settings))


def sign_in_policy(settings: Settings) -> SignInPolicy:
    return SignInPolicy(
        origins=settings.origins,
        allow_cross_origin=settings.allow_cross_origin,
        refuse_sign_count_regression=settings.sign_count_policy == "refuse",
    )


def session_commands(db: Database, settings: Settings) -> SessionCommands:
    return SessionCommands(db, relying_party(settings), sign_in_policy(settings))
