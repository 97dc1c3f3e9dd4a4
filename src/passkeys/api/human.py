"""AddHumanUserRequest (zitadel.user.v2 and v2beta: the same field names) to NewHuman, and a stored
human back to zitadel.user.v2.User (GetUserByID).

Every upstream field is either carried to the use case or named in `unsupported`, which the use case
refuses: a client that sets a password must not get OK while no password exists."""

from __future__ import annotations

from typing import Any

from zitadel.user.v2 import user_pb2

from passkeys.api import convert
from passkeys.commands.user_view import HumanView
from passkeys.commands.users import NewHuman

# Upstream fields this service does not implement (it enrols passkeys and sends no email or SMS).
_UNSUPPORTED_SINGLE = ("phone", "password", "hashed_password", "totp_secret")
_UNSUPPORTED_REPEATED = ("metadata", "idp_links")


def _optional(message: Any, field: str) -> Any:
    return getattr(message, field) if message.HasField(field) else None


def new_human_from_pb(request: Any) -> NewHuman:
    unsupported = [f for f in _UNSUPPORTED_SINGLE if request.HasField(f)]
    unsupported += [f for f in _UNSUPPORTED_REPEATED if len(getattr(request, f))]
    verification = request.email.WhichOneof("verification")
    if verification in ("send_code", "return_code"):
        unsupported.append(f"email.{verification}")
    org = request.organization
    which = org.WhichOneof("org") if request.HasField("organization") else None
    profile = request.profile
    return NewHuman(
        given_name=profile.given_name,
        family_name=profile.family_name,
        display_name=_optional(profile, "display_name"),
        nick_name=_optional(profile, "nick_name"),
        preferred_language=_optional(profile, "preferred_language"),
        gender=_optional(profile, "gender"),
        email=request.email.email,
        email_verified=request.email.is_verified if verification == "is_verified" else None,
        user_id=_optional(request, "user_id"),
        username=_optional(request, "username"),
        org_id=org.org_id if which == "org_id" else None,
        org_domain=org.org_domain if which == "org_domain" else None,
        unsupported=tuple(unsupported),
    )


def human_view_to_pb(view: HumanView, out: user_pb2.User) -> None:
    """zitadel.user.v2.User of a human; its one login name is username@organization-domain."""
    convert.details_to_pb(view.details, out.details)
    out.user_id = view.user_id
    out.state = user_pb2.USER_STATE_ACTIVE
    out.username = view.username
    out.login_names.append(view.login_name)
    out.preferred_login_name = view.login_name
    human = out.human  # its own user_id, state and names are left unset, as upstream's GetUserByID does
    profile = human.profile
    profile.given_name = view.given_name
    profile.family_name = view.family_name
    profile.display_name = view.display_name
    if view.nick_name is not None:
        profile.nick_name = view.nick_name
    if view.preferred_language is not None:
        profile.preferred_language = view.preferred_language
    if view.gender is not None:
        profile.gender = view.gender  # type: ignore[assignment]
    human.email.email = view.email
    human.email.is_verified = view.email_verified
