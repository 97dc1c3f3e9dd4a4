"""Replays of registration responses: each refused with its own code, nothing stored by the
refusal, and never more than one READY passkey per credential.

The rule (README, "Replays"): every RegisterPasskey starts its own NOT_READY passkey with its
own single-use challenge, and a later one cancels nothing. A response is bound to the one
passkey whose challenge it signed; that passkey's first successful verify consumes the
challenge. Two pending registrations of one user can both become READY, each with its own
response, as long as they are different credentials: the same credential is READY once.
"""

from __future__ import annotations

import time
from dataclasses import replace

import grpc
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.config import Settings
from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.refusals import error_info, refused
from tests.support.registration import Pending, as_struct
from tests.support.servers import Client, running

READY, NOT_READY = 2, 1


def states(client: Client, user_id: str) -> dict[str, int]:
    listed = client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result
    return {p.id: p.state for p in listed}


def check_of(err: grpc.RpcError) -> tuple[str, str]:
    info = error_info(err)
    return info.reason, info.metadata.get("check", "")


def test_the_same_valid_response_twice(client: Client) -> None:
    p = Pending(client)
    assert p.verify().details.sequence == 3
    err = refused(client, p.verify, grpc.StatusCode.FAILED_PRECONDITION)
    assert check_of(err) == ("PASSKEY_ALREADY_VERIFIED", "")
    # Also under another name: the state is checked before anything else of the request.
    err = refused(client, lambda: p.verify(passkey_name="other"), grpc.StatusCode.FAILED_PRECONDITION)
    assert states(client, p.user_id) == {p.passkey_id: READY}


def test_a_response_sent_to_another_passkey_id(client: Client) -> None:
    first = Pending(client)
    second_id = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=first.user_id)).passkey_id
    err = refused(client, lambda: first.verify(passkey_id=second_id), grpc.StatusCode.INVALID_ARGUMENT)
    assert check_of(err) == ("CREDENTIAL_REJECTED", "challenge")
    # The pending passkey of another user, under that user's id: the challenge again.
    other = Pending(client)
    err = refused(
        client,
        lambda: other.verify(public_key_credential=as_struct(first.credential)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert check_of(err) == ("CREDENTIAL_REJECTED", "challenge")
    # Under the first user's id: that passkey is not theirs, so it does not exist for them.
    err = refused(client, lambda: first.verify(passkey_id=other.passkey_id), grpc.StatusCode.NOT_FOUND)
    assert check_of(err) == ("PASSKEY_NOT_FOUND", "")
    # None of it used up the first challenge.
    first.verify()
    assert states(client, first.user_id) == {first.passkey_id: READY, second_id: NOT_READY}


def test_a_response_after_the_challenge_expired(settings: Settings) -> None:
    # 3 s, not 1: the fresh registration below must still be live when a loaded machine verifies it.
    with running(replace(settings, challenge_ttl_s=3)) as client:
        p = Pending(client)
        time.sleep(3.1)
        err = refused(client, p.verify, grpc.StatusCode.FAILED_PRECONDITION)
        assert check_of(err) == ("CHALLENGE_EXPIRED", "")
        # The late response is no good for a fresh registration either: it signed the old challenge.
        fresh = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=p.user_id)).passkey_id
        err = refused(client, lambda: p.verify(passkey_id=fresh), grpc.StatusCode.INVALID_ARGUMENT)
        assert check_of(err) == ("CREDENTIAL_REJECTED", "challenge")
        assert set(states(client, p.user_id).values()) == {NOT_READY}


def test_register_twice_then_verify_the_first(client: Client) -> None:
    auth = SoftAuthenticator()
    first = Pending(client, auth=auth)
    second = Pending(client, auth=auth, user_id=first.user_id)

    # The first still works after the second was started: a later RegisterPasskey cancels nothing.
    first.verify()
    assert states(client, first.user_id) == {first.passkey_id: READY, second.passkey_id: NOT_READY}
    # The first response replayed on the second passkey: wrong challenge.
    err = refused(
        client,
        lambda: second.verify(public_key_credential=as_struct(first.credential)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert check_of(err) == ("CREDENTIAL_REJECTED", "challenge")
    # The same authenticator answering the second challenge: the credential is READY already.
    err = refused(client, second.verify, grpc.StatusCode.ALREADY_EXISTS)
    assert check_of(err) == ("CREDENTIAL_EXISTS", "")
    # The second response on the first (verified) passkey: already verified.
    err = refused(
        client,
        lambda: first.verify(public_key_credential=as_struct(second.credential)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert check_of(err) == ("PASSKEY_ALREADY_VERIFIED", "")
    assert list(states(client, first.user_id).values()).count(READY) == 1
    # Another authenticator may still finish the second registration: a user may own several passkeys.
    other = SoftAuthenticator().register(challenge=second.challenge, origin=ORIGIN, rp_id=RP_ID)
    second.verify(public_key_credential=as_struct(other))
    assert states(client, first.user_id) == {first.passkey_id: READY, second.passkey_id: READY}


def test_a_response_replayed_after_its_passkey_was_removed(client: Client) -> None:
    p = Pending(client)
    p.verify()
    client.stub.RemovePasskey(pb.RemovePasskeyRequest(user_id=p.user_id, passkey_id=p.passkey_id))
    err = refused(client, p.verify, grpc.StatusCode.NOT_FOUND)
    assert check_of(err) == ("PASSKEY_NOT_FOUND", "")
    # On a new registration of the same user: its challenge is not the one signed.
    fresh = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=p.user_id)).passkey_id
    err = refused(client, lambda: p.verify(passkey_id=fresh), grpc.StatusCode.INVALID_ARGUMENT)
    assert check_of(err) == ("CREDENTIAL_REJECTED", "challenge")
    assert states(client, p.user_id) == {fresh: NOT_READY}


def test_a_pending_passkey_removed_before_its_response_arrives(client: Client) -> None:
    p = Pending(client)
    client.stub.RemovePasskey(pb.RemovePasskeyRequest(user_id=p.user_id, passkey_id=p.passkey_id))
    err = refused(client, p.verify, grpc.StatusCode.NOT_FOUND)
    assert check_of(err) == ("PASSKEY_NOT_FOUND", "")
    assert states(client, p.user_id) == {}
