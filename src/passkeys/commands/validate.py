"""Argument rules shared by the commands; each failure names its field.

Names and usernames follow PRECIS (RFC 8264): usernames the UsernameCaseMapped profile
(RFC 8265: no spaces, width-mapped, lower-cased, NFC), so that look-alikes ("Admin", fullwidth "admin")
are one username; names (of people and passkeys) the NicknameCasePreserved profile (RFC 8266:
NFKC, spaces collapsed, case kept). Both refuse controls (C0 and C1), bidi overrides, zero-width
and other default-ignorable characters, line and paragraph separators, noncharacters and
unassigned code points. The enforced form is what is stored and compared.
"""

from __future__ import annotations

import re

import precis_i18n

from passkeys.errors import invalid_field
from passkeys.limits import MAX_TEXT

# Ids a client picks travel in REST paths: keep them to URL-safe characters.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")
# A BCP 47 language tag's shape ("en", "de-CH", "zh-Hant-TW").
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
# C0 controls and DEL (one regex search: a per-character generator cost ~3 % of a verify's CPU).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+|[^@\s]+@localhost")


def text(field: str, value: str, *, max_len: int = MAX_TEXT) -> str:
    """1..max_len characters, not blank, no control characters."""
    if not 1 <= len(value) <= max_len or not value.strip():
        raise invalid_field(field, f"{field} must be 1..{max_len} characters")
    if _CONTROL.search(value):
        raise invalid_field(field, f"{field} must not contain control characters")
    return value


def identifier(field: str, value: str) -> str:
    text(field, value)
    if not _ID.fullmatch(value):
        raise invalid_field(field, f"{field} may hold only letters, digits and . _ @ -")
    return value


def email(field: str, value: str) -> str:
    text(field, value)
    if not _EMAIL.fullmatch(value):
        raise invalid_field(field, f"{field} is not an email address")
    username(field, value)  # it may become the username: no invisible or control characters either
    return value


def bounded(field: str, value: str, *, max_len: int) -> str:
    """0..max_len characters (upstream's optional texts may be empty), no control characters."""
    if len(value) > max_len:
        raise invalid_field(field, f"{field} must be at most {max_len} characters")
    return text(field, value, max_len=max_len) if value else value


def language(field: str, value: str) -> str:
    """Empty (none), or a language tag of at most 10 characters (upstream's bound)."""
    bounded(field, value, max_len=10)
    if value and not _LANGUAGE.fullmatch(value):
        raise invalid_field(field, f"{field} is not a language tag (e.g. en, de-CH)")
    return value


_USERNAME = precis_i18n.get_profile("UsernameCaseMapped")
_NAME = precis_i18n.get_profile("NicknameCasePreserved")


def _precis(profile: object, field: str, value: str, what: str) -> str:
    text(field, value)
    try:
        enforced = str(profile.enforce(value))  # type: ignore[attr-defined]
    except UnicodeError as exc:
        at = getattr(exc, "start", None)
        where = f" (U+{ord(value[at]):04X} at {at})" if isinstance(at, int) and at < len(value) else ""
        rule = getattr(exc, "reason", "")
        raise invalid_field(field, f"{field} is not a valid {what}{where}: {rule}") from None
    if len(enforced) > MAX_TEXT:
        raise invalid_field(field, f"{field} must be 1..{MAX_TEXT} characters")
    return enforced


def username(field: str, value: str) -> str:
    """The username as stored and compared: PRECIS UsernameCaseMapped."""
    return _precis(_USERNAME, field, value, "username")


# Printable ASCII words separated by single spaces: a name already in its NicknameCasePreserved
# form (RFC 8266 §2: every such character is valid in FreeformClass, NFKC and the case rule leave
# ASCII as it is, and only leading, trailing and repeated spaces are mapped). Such names skip
# precis_i18n's per-character work (issue 17: ~3 % of a verify's CPU).
_ASCII_NAME = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")


def name(field: str, value: str) -> str:
    """A person's or a passkey's name as stored: PRECIS NicknameCasePreserved."""
    if len(value) <= MAX_TEXT and _ASCII_NAME.fullmatch(value):
        return value
    return _precis(_NAME, field, value, "name")
