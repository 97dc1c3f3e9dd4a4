"""Random secrets shown once and kept only as their SHA-256 (they carry 70+ random bits and
expire, so no slow hash is needed; an attacker with the table cannot reverse them)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

TOKEN_PREFIX = "pat_"
CODE_LENGTH = 12
_CODE_ALPHABET = string.ascii_letters + string.digits


def new_token() -> str:
    """A personal access token: 256 random bits, URL-safe, no ':' or '.' (see authenticate.py)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_code() -> str:
    """A registration code: 12 letters and digits (about 71 bits)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
