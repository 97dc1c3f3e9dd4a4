"""A refused call: its code, the ErrorInfo that names what failed, and a database left as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest

from tests.support.databases import snapshot
from tests.support.registration import Pending, as_struct
from tests.support.servers import Client
from tests.support.signin import error_info

__all__ = ["error_info", "reason_of", "refused", "rejected"]


def reason_of(exc: grpc.RpcError) -> str:
    return error_info(exc).reason


def refused(client: Client, call: Callable[[], Any], code: grpc.StatusCode) -> grpc.RpcError:
    """The call fails with `code` and changes nothing in the database."""
    before = snapshot(client.url)
    with pytest.raises(grpc.RpcError) as failed:
        call()
    assert failed.value.code() == code, failed.value.details()
    assert failed.value.details()
    assert error_info(failed.value).domain == "passkeys"
    assert snapshot(client.url) == before
    return failed.value


def rejected(p: Pending, credential: dict[str, Any], check: str) -> str:
    """Refused as the `check`, nothing stored; the pending registration is still usable."""
    err = refused(
        p.client, lambda: p.verify(public_key_credential=as_struct(credential)), grpc.StatusCode.INVALID_ARGUMENT
    )
    info = error_info(err)
    assert (info.reason, info.metadata["check"]) == ("CREDENTIAL_REJECTED", check), err.details()
    assert f"failed the {check} check" in err.details()
    return err.details()
