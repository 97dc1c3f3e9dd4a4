"""ZITADEL's own error detail, zitadel.v1.ErrorDetail {id, message}, which ZITADEL's clients read
from every error's status details (beside our google.rpc.ErrorInfo).

ZITADEL's ids name the component and a short random tag ("COMMAND-2n9fs"), fixed per place in
its code. Ours are fixed per reason and derived from it, so that a new reason never needs a table
entry and an id never changes while its reason stays: "PASSKEY-" and the first five characters
of the reason's SHA-256 in lowercase base32.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from google.protobuf import any_pb2
from zitadel import message_pb2

PREFIX = "PASSKEY"


@functools.cache
def error_id(reason: str) -> str:
    digest = hashlib.sha256(reason.encode()).digest()
    return f"{PREFIX}-{base64.b32encode(digest).decode()[:5].lower()}"


def error_detail(reason: str, message: str) -> any_pb2.Any:
    detail = any_pb2.Any()
    detail.Pack(message_pb2.ErrorDetail(id=error_id(reason), message=message))
    return detail
