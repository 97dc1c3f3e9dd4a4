"""The outbox's sealing key, from its text or its file: standard library only, so that the
supervising process can check PASSKEYS_OUTBOX_KEY at start without loading `cryptography`."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
from pathlib import Path

KEY_BYTES = 32


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
