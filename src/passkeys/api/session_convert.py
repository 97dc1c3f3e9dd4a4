"""Conversions between zitadel.session.v2 messages and the sign-in use cases' values, named for
their direction."""

from __future__ import annotations

from google.protobuf import json_format
from zitadel.session.v2 import challenge_pb2, session_pb2
from zitadel.session.v2 import session_service_pb2 as pb

from passkeys.api import convert
from passkeys.commands.sessions import (
    Assertion,
    SessionInput,
    SessionQuery,
    SessionView,
    UserCheck,
    WebAuthnChallengeRequest,
)

# UserVerificationRequirement numbers to WebAuthn's values; 0 (unspecified) is None.
_USER_VERIFICATION = {0: None, 1: "required", 2: "preferred", 3: "discouraged"}
_UNSUPPORTED_CHECKS = ("password", "idp_intent", "totp", "otp_sms", "otp_email")
_UNSUPPORTED_CHALLENGES = ("otp_sms", "otp_email")
_UNSUPPORTED_QUERIES = ("creation_date_query", "user_agent_query")


def session_input_to_domain(
    checks: pb.Checks | None,
    challenges: challenge_pb2.RequestChallenges | None,
    request: pb.CreateSessionRequest | pb.SetSessionRequest,
) -> SessionInput:
    user = assertion = challenge = None
    unsupported_checks: tuple[str, ...] = ()
    if checks is not None:
        if checks.HasField("user"):
            which = checks.user.WhichOneof("search")
            user = UserCheck(
                user_id=checks.user.user_id if which == "user_id" else None,
                login_name=checks.user.login_name if which == "login_name" else None,
            )
        if checks.HasField("web_auth_n"):
            credential, length = convert.struct_to_credential(checks.web_auth_n.credential_assertion_data)
            assertion = Assertion(credential, length)
        unsupported_checks = tuple(name for name in _UNSUPPORTED_CHECKS if checks.HasField(name))
    unsupported_challenges: tuple[str, ...] = ()
    if challenges is not None:
        if challenges.HasField("web_auth_n"):
            requested = challenges.web_auth_n
            challenge = WebAuthnChallengeRequest(
                domain=requested.domain,
                user_verification=_USER_VERIFICATION.get(requested.user_verification_requirement, "unknown"),
            )
        unsupported_challenges = tuple(name for name in _UNSUPPORTED_CHALLENGES if challenges.HasField(name))
    user_agent = None
    if isinstance(request, pb.CreateSessionRequest) and request.HasField("user_agent"):
        user_agent = json_format.MessageToDict(request.user_agent)
    return SessionInput(
        user=user,
        assertion=assertion,
        challenge=challenge,
        metadata=dict(request.metadata),
        user_agent=user_agent,
        lifetime=request.lifetime.ToTimedelta() if request.HasField("lifetime") else None,
        unsupported_checks=unsupported_checks,
        unsupported_challenges=unsupported_challenges,
    )


def challenges_to_pb(options: dict | None, out: challenge_pb2.Challenges) -> None:
    if options is not None:
        out.web_auth_n.public_key_credential_request_options.update(options)


def session_to_pb(view: SessionView, out: session_pb2.Session) -> None:
    out.id = view.id
    out.creation_date.FromDatetime(view.created_at)
    out.change_date.FromDatetime(view.changed_at)
    out.sequence = view.sequence
    if view.user is not None:
        user = out.factors.user
        user.verified_at.FromDatetime(view.user.verified_at)
        user.id = view.user.id
        user.login_name = view.user.login_name
        user.display_name = view.user.display_name
        user.organization_id = view.user.organization_id
    if view.web_auth_n is not None:
        out.factors.web_auth_n.verified_at.FromDatetime(view.web_auth_n.verified_at)
        out.factors.web_auth_n.user_verified = view.web_auth_n.user_verified
    for key, value in view.metadata.items():
        out.metadata[key] = value
    if view.user_agent:
        json_format.ParseDict(view.user_agent, out.user_agent)
    if view.expires_at is not None:
        out.expiration_date.FromDatetime(view.expires_at)


def list_query_to_domain(request: pb.ListSessionsRequest) -> SessionQuery:
    ids: list[tuple[str, ...]] = []
    user_ids: list[str] = []
    creator_ids: list[str] = []
    unsupported: list[str] = []
    for query in request.queries:
        which = query.WhichOneof("query")
        if which == "ids_query":
            ids.append(tuple(query.ids_query.ids))
        elif which == "user_id_query":
            user_ids.append(query.user_id_query.id)
        elif which == "creator_query":
            # No id: the caller's own sessions (commands/sessions.py).
            creator_ids.append(query.creator_query.id if query.creator_query.HasField("id") else "")
        elif which in _UNSUPPORTED_QUERIES:
            unsupported.append(which)
    return SessionQuery(
        ids=tuple(ids),
        user_ids=tuple(user_ids),
        creator_ids=tuple(creator_ids),
        unsupported=tuple(unsupported),
        offset=request.query.offset,
        limit=request.query.limit,
        ascending=request.query.asc,
    )
