"""Secrets kept at rest for a while (the outbox's registration links): AES-256-GCM (`cryptography`)
with a key of the operator's, so that a copy of the database alone holds no usable code.

The key: PASSKEYS_OUTBOX_KEY (32 bytes, base64), or else the file PASSKEYS_OUTBOX_KEY_PATH, made on
the first start (32 random bytes, base64, mode 0600) and read on every later one. A sealed value is
`aesgcm1:` + base64url(nonce ‖ ciphertext ‖ tag), bound to its context (the message's id, user and
recipient as associated data): moved to another row, or altered, it does not open."""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
PREFIX = "aesgcm1:"


class SealError(ValueError):
    """A sealed value that does not open: another key, another row, or altered."""


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(sealed).decode()

    def open(self, sealed: str, *, context: str) -> str:
        if not sealed.startswith(PREFIX):
            raise SealError("not a sealed value")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(PREFIX) :])
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except (binascii.Error, InvalidTag, ValueError):
            raise SealError("does not open with this key (another key, or altered)") from None
