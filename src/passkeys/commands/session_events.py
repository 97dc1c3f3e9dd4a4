"""What each change of a session records: ZITADEL's session event names (its
internal/repository/session), with the values that change. One use case may make several, in
this order: added, user.checked, webAuthN.checked, metadata.set, lifetime.set,
webAuthN.challenged, then token.set (every change makes a new token); DeleteSession makes
terminated. The event's own columns hold the time, the resource owner and the caller."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from passkeys.store.session_events import NewEvent

ADDED = "session.added"
USER_CHECKED = "session.user.checked"
WEBAUTHN_CHALLENGED = "session.webAuthN.challenged"
WEBAUTHN_CHECKED = "session.webAuthN.checked"
METADATA_SET = "session.metadata.set"
LIFETIME_SET = "session.lifetime.set"
TOKEN_SET = "session.token.set"
TERMINATED = "session.terminated"


def added(user_agent: Mapping[str, Any]) -> NewEvent:
    return ADDED, {"user_agent": dict(user_agent)}


def user_checked(user_id: str) -> NewEvent:
    return USER_CHECKED, {"user_id": user_id}


def webauthn_challenged(rp_id: str, user_verification: str, expires_at: datetime, discoverable: bool) -> NewEvent:
    # The challenge itself stays in the session's row only: it is spent there, once.
    payload = {"rp_id": rp_id, "user_verification": user_verification, "expires_at": expires_at.isoformat()}
    return WEBAUTHN_CHALLENGED, payload | ({"discoverable": True} if discoverable else {})


def webauthn_checked(passkey_id: str, user_verified: bool, sign_count_regressed: bool) -> NewEvent:
    payload: dict[str, Any] = {"passkey_id": passkey_id, "user_verified": user_verified}
    return WEBAUTHN_CHECKED, payload | ({"sign_count_regressed": True} if sign_count_regressed else {})


def metadata_set(changes: Mapping[str, bytes]) -> NewEvent:
    """The keys as given: base64 of the value, "" for a key removed."""
    return METADATA_SET, {"metadata": {k: base64.b64encode(v).decode() for k, v in changes.items()}}


def lifetime_set(lifetime: timedelta, expires_at: datetime) -> NewEvent:
    return LIFETIME_SET, {"lifetime_s": lifetime.total_seconds(), "expires_at": expires_at.isoformat()}


def token_set() -> NewEvent:
    return TOKEN_SET, {}  # the token's hash is in the session's row; here only that it changed


def terminated() -> NewEvent:
    return TERMINATED, {}
