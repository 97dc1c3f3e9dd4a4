"""Secrets kept at rest for a while (the outbox's registration links): AES-256-GCM (`cryptography`)
with a key of the operator's, so that a copy of the database alone holds no usable code.

The key: PASSKEYS_OUTBOX_KEY (32 bytes, base64), or else the file PASSKEYS_OUTBOX_KEY_PATH, made on
the first start (32 random bytes, base64, mode 0600) and read on every later one. A sealed value is
`aesgcm1:` + base64url(nonce ‖ ciphertext ‖ tag), bound to its context (the message's id, user and
recipient as associated data): moved to another row, or altered, it does not open."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
PREFIX = "aesgcm1:"


class SealError(ValueError):
    """A sealed value that does not open: another key, another row, or altered."""


def decode_key(value: str) -> bytes:
    """The key from its base64 text (standard or URL-safe); ValueError unless 32 bytes."""
    text = value.strip()
    try:
        key = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise ValueError("is not base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"must be {KEY_BYTES} bytes (base64), not {len(key)}")
    return key


def load_key(*, key: str, key_path: str) -> bytes:
    """`key` when set; else the key file's, which is made first when there is none. Several
    processes starting at once agree: the file appears whole (a hard link of a finished file) or
    not at all, and the first one made is the one all read."""
    if key:
        return decode_key(key)
    path = Path(key_path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")
            with contextlib.suppress(FileExistsError):  # another process made it first: theirs is the key
                os.link(draft, path)
        finally:
            draft.unlink()
    try:
        return decode_key(path.read_text())
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


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
