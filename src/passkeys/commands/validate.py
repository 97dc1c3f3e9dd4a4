"""Argument rules shared by the commands; each failure names its field."""

from __future__ import annotations

import re

from passkeys.errors import invalid_field
from passkeys.limits import MAX_TEXT

# Ids a client picks travel in REST paths: keep them to URL-safe characters.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+|[^@\s]+@localhost")


def text(field: str, value: str, *, max_len: int = MAX_TEXT) -> str:
    """1..max_len characters, not blank, no control characters."""
    if not 1 <= len(value) <= max_len or not value.strip():
        raise invalid_field(field, f"{field} must be 1..{max_len} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
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
    return value
