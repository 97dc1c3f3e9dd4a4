"""CreatePasskeyRegistrationLink: a registration code for a user, returned to the caller or
sent as a link (a message in the outbox table, for a mailer to deliver). The link holds the code,
so the outbox keeps it sealed (sealing.py): a copy of the database alone enrols no passkey."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlsplit

from passkeys import ids
from passkeys.auth import tokens
from passkeys.auth.authorize import authorize_user
from passkeys.auth.caller import Caller
from passkeys.auth.permissions import USER_PASSKEY_WRITE
from passkeys.commands import validate
from passkeys.details import Details, now
from passkeys.errors import invalid_field
from passkeys.sealing import Sealer
from passkeys.store.db import Database
from passkeys.store.outbox import Message

CODE_TTL = timedelta(hours=1)
LINK_KIND = "passkey_registration_link"  # the outbox message holding a code (sealed)
_PLACEHOLDER = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")
PLACEHOLDERS = (".UserID", ".OrgID", ".CodeID", ".Code")


@dataclass(frozen=True)
class NewCode:
    id: str
    code: str


@dataclass(frozen=True)
class Link:
    details: Details
    code: NewCode | None  # only for return_code


def check_template(template: str) -> str:
    validate.text("send_link.url_template", template)
    unknown = [p for p in _PLACEHOLDER.findall(template) if p not in PLACEHOLDERS]
    if unknown:
        raise invalid_field(
            "send_link.url_template",
            f"send_link.url_template has unknown placeholders {unknown}; known: {list(PLACEHOLDERS)}",
        )
    if urlsplit(_PLACEHOLDER.sub("x", template)).scheme not in ("http", "https"):
        raise invalid_field("send_link.url_template", "send_link.url_template must be an http(s) URL")
    return template


def render(template: str, *, user_id: str, org_id: str, code_id: str, code: str) -> str:
    values = {".UserID": user_id, ".OrgID": org_id, ".CodeID": code_id, ".Code": code}
    return _PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe=""), template)


def _context(message_id: str, user_id: str, recipient: str) -> str:
    """What a sealed link is bound to: moved to another message, user or recipient, it does not open."""
    return f"outbox:{message_id}:{user_id}:{recipient}"


def open_link(sealer: Sealer, message: Message) -> str:
    """The message's link; SealError when it does not open (another key, or altered)."""
    return sealer.open(message.body, context=_context(message.id, message.user_id, message.recipient))


def create_registration_link(
    db: Database,
    *,
    caller: Caller,
    user_id: str,
    url_template: str | None,
    default_template: str,
    sealer: Sealer,
) -> Link:
    """`url_template` None means return_code; otherwise send_link ('' uses the default)."""
    validate.text("user_id", user_id)
    template = check_template(url_template or default_template) if url_template is not None else None
    code = tokens.new_code()
    with db.write() as uow:
        user = authorize_user(uow, caller, user_id, USER_PASSKEY_WRITE, self_allowed=False, lock=True)
        at = now()
        code_id = ids.new_id()
        uow.codes.add(code_id=code_id, user_id=user.id, code_hash=tokens.digest(code), at=at, expires_at=at + CODE_TTL)
        medium = "return_code" if template is None else "send_link"
        if template is not None:
            link = render(template, user_id=user.id, org_id=user.org_id, code_id=code_id, code=code)
            message_id = ids.new_id()
            uow.outbox.add(
                message_id=message_id,
                user_id=user.id,
                kind=LINK_KIND,
                recipient=user.email,
                body=sealer.seal(link, context=_context(message_id, user.id, user.email)),
                at=at,
            )
        details = uow.events.append(user, "user.human.passkey.code.added", at, code_id=code_id, medium=medium)
        return Link(details=details, code=NewCode(code_id, code) if template is None else None)
