"""Each way VerifyPasskeyRegistration can fail: its exact status code, an ErrorInfo naming what
failed, and a database left exactly as it was."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import grpc
import pytest
from zitadel.user.v2 import auth_pb2
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.config import Settings
from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.refusals import error_info, refused
from tests.support.registration import Pending, as_struct, register_and_verify
from tests.support.servers import Client, running


def test_unknown_user_is_not_found(client: Client) -> None:
    p = Pending(client)
    err = refused(client, lambda: p.verify(user_id="nobody"), grpc.StatusCode.NOT_FOUND)
    assert error_info(err).reason == "USER_NOT_FOUND"


def test_unknown_passkey_is_not_found(client: Client) -> None:
    p = Pending(client)
    err = refused(client, lambda: p.verify(passkey_id="123"), grpc.StatusCode.NOT_FOUND)
    assert error_info(err).reason == "PASSKEY_NOT_FOUND"


def test_passkey_of_another_user_is_not_found(client: Client) -> None:
    p = Pending(client)
    other = client.add_user()
    err = refused(client, lambda: p.verify(user_id=other), grpc.StatusCode.NOT_FOUND)
    assert error_info(err).reason == "PASSKEY_NOT_FOUND"


def test_verified_passkey_cannot_be_verified_again(client: Client) -> None:
    p = Pending(client)
    p.verify()
    err = refused(client, p.verify, grpc.StatusCode.FAILED_PRECONDITION)
    assert error_info(err).reason == "PASSKEY_ALREADY_VERIFIED"


def test_credential_of_another_passkey_already_exists(client: Client) -> None:
    auth = SoftAuthenticator()
    register_and_verify(client, client.add_user(), auth)
    p = Pending(client, auth=auth)
    err = refused(client, p.verify, grpc.StatusCode.ALREADY_EXISTS)
    assert error_info(err).reason == "CREDENTIAL_EXISTS"


@pytest.mark.parametrize("name", ["", " ", "x" * 201, "a\nb"])
def test_passkey_name_must_be_1_to_200_characters(client: Client, name: str) -> None:
    p = Pending(client)
    err = refused(client, lambda: p.verify(passkey_name=name), grpc.StatusCode.INVALID_ARGUMENT)
    assert error_info(err).metadata["field"] == "passkey_name"


def test_credential_json_size_limits(client: Client) -> None:
    p = Pending(client)
    tiny = as_struct({"id": "x"})
    err = refused(client, lambda: p.verify(public_key_credential=tiny), grpc.StatusCode.INVALID_ARGUMENT)
    assert error_info(err).metadata["field"] == "public_key_credential"
    huge = dict(p.credential, padding="x" * 1_048_576)
    assert len(json.dumps(huge, separators=(",", ":"))) > 1_048_576
    err = refused(client, lambda: p.verify(public_key_credential=as_struct(huge)), grpc.StatusCode.INVALID_ARGUMENT)
    assert "1048576" in err.details()
    # Exactly at the limit is still accepted for verification (and verifies).
    base = len(json.dumps(dict(p.credential, padding=""), separators=(",", ":")))
    at_limit = dict(p.credential, padding="x" * (1_048_576 - base))
    assert len(json.dumps(at_limit, separators=(",", ":"))) == 1_048_576
    p.verify(public_key_credential=as_struct(at_limit))


@pytest.mark.parametrize(
    ("register", "check"),
    [
        ({"origin": "https://evil.example.com"}, "origin"),
        ({"rp_id": "evil.example.com"}, "rp_id_hash"),
        ({"user_verified": False}, "user_verification"),
        ({"user_present": False}, "user_presence"),
        ({"client_data_type": "webauthn.get"}, "client_data_type"),
        ({"backed_up": True, "backup_eligible": False}, "backup_flags"),
        ({"cross_origin": True}, "cross_origin"),
        ({"top_origin": "https://top.example.com"}, "top_origin"),
        ({"challenge": b"another challenge of 32 bytes!!!"}, "challenge"),
    ],
)
def test_credential_failing_a_check_is_invalid_and_named(client: Client, register: dict, check: str) -> None:
    p = Pending(client)
    params = {"challenge": p.challenge, "origin": ORIGIN, "rp_id": RP_ID, **register}
    credential = SoftAuthenticator().register(**params)
    err = refused(
        client, lambda: p.verify(public_key_credential=as_struct(credential)), grpc.StatusCode.INVALID_ARGUMENT
    )
    info = error_info(err)
    assert (info.reason, info.metadata["check"]) == ("CREDENTIAL_REJECTED", check)
    assert check in err.details()


def test_challenge_of_another_passkey_is_refused(client: Client) -> None:
    first, second = Pending(client), Pending(client)
    err = refused(
        client,
        lambda: second.verify(public_key_credential=as_struct(first.credential)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert error_info(err).metadata["check"] == "challenge"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: {k: v for k, v in c.items() if k != "response"},
        lambda c: dict(c, rawId="AAAA"),
        lambda c: dict(c, response=dict(c["response"], attestationObject="not base64 !!")),
        lambda c: dict(c, response=dict(c["response"], clientDataJSON="e30")),
        lambda c: dict(c, response=dict(c["response"], attestationObject="oA")),
        lambda c: dict(c, type="password"),
        lambda c: dict(c, response=[1, 2, 3]),
    ],
    ids=["no-response", "rawid", "bad-base64", "empty-client-data", "empty-cbor-map", "type", "response-list"],
)
def test_malformed_credentials_are_invalid(client: Client, mangle: Callable[[dict], dict]) -> None:
    p = Pending(client)
    bad = mangle(p.credential)
    err = refused(client, lambda: p.verify(public_key_credential=as_struct(bad)), grpc.StatusCode.INVALID_ARGUMENT)
    assert error_info(err).reason in ("CREDENTIAL_REJECTED", "INVALID_FIELD")


def test_algorithm_not_allowed(settings: Settings) -> None:
    with running(replace(settings, algorithms=(-7,))) as client:
        p = Pending(client, auth=SoftAuthenticator(alg=-8))
        err = refused(client, p.verify, grpc.StatusCode.INVALID_ARGUMENT)
        assert error_info(err).metadata["check"] == "algorithm"


def test_expired_challenge_is_failed_precondition(settings: Settings) -> None:
    with running(replace(settings, challenge_ttl_s=1)) as client:
        p = Pending(client)
        time.sleep(1.1)
        err = refused(client, p.verify, grpc.StatusCode.FAILED_PRECONDITION)
        assert error_info(err).reason == "CHALLENGE_EXPIRED"


def test_concurrent_verifies_of_one_passkey_exactly_one_succeeds(client: Client) -> None:
    p = Pending(client)
    results: list[grpc.StatusCode] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            p.verify()
            results.append(grpc.StatusCode.OK)
        except grpc.RpcError as exc:
            results.append(exc.code())

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(grpc.StatusCode.OK) == 1
    assert set(results) == {grpc.StatusCode.OK, grpc.StatusCode.FAILED_PRECONDITION}
    listed = client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=p.user_id)).result
    assert [p.state for p in listed] == [auth_pb2.AUTH_FACTOR_STATE_READY]
    assert client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=p.user_id)).details.processed_sequence == 3
