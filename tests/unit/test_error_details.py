"""ZITADEL's zitadel.v1.ErrorDetail ids: ZITADEL's shape, fixed per reason, distinct per reason."""

from __future__ import annotations

import re
from pathlib import Path

from google.rpc import error_details_pb2, status_pb2
from zitadel import message_pb2

from passkeys.api import errors as api_errors
from passkeys.api.error_details import error_id
from passkeys.errors import NotFound

SOURCE = Path(__file__).resolve().parents[2] / "src" / "passkeys"
# Every UPPER_SNAKE string literal of the service's code: a superset of its reasons.
LITERAL = re.compile(r"""["']([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|INTERNAL)["']""")


def all_reasons() -> set[str]:
    return {m for path in SOURCE.rglob("*.py") for m in LITERAL.findall(path.read_text())}


def test_ids_have_zitadels_shape_and_never_change() -> None:
    # Clients may match on them: these values are a promise.
    assert error_id("USER_NOT_FOUND") == "PASSKEY-mq732"
    assert error_id("CREDENTIAL_REJECTED") == error_id("CREDENTIAL_REJECTED")
    for reason in all_reasons():
        assert re.fullmatch(r"PASSKEY-[a-z2-7]{5}", error_id(reason)), reason


def test_each_reason_has_its_own_id() -> None:
    reasons = all_reasons()
    assert {"USER_NOT_FOUND", "INVALID_FIELD", "TOKEN_MISSING", "CREDENTIAL_EXISTS"} <= reasons
    assert len({error_id(r) for r in reasons}) == len(reasons)


def test_every_status_carries_the_error_detail_after_the_error_info() -> None:
    status = api_errors.to_status(NotFound("USER_NOT_FOUND", "user 'x' not found", user_id="x"))
    ((name, value),) = status.trailing_metadata
    assert name == "grpc-status-details-bin"
    info, detail = status_pb2.Status.FromString(value).details
    assert info.Is(error_details_pb2.ErrorInfo.DESCRIPTOR)
    found = message_pb2.ErrorDetail()
    assert detail.Unpack(found)
    assert (found.id, found.message) == ("PASSKEY-mq732", "user 'x' not found")
    (internal,) = status_pb2.Status.FromString(api_errors.internal_status().trailing_metadata[0][1]).details[1:]
    assert internal.Unpack(found) and found.id == error_id("INTERNAL")
