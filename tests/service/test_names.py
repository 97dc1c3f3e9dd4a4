"""Usernames and names follow PRECIS (commands/validate.py): look-alike usernames are one
username, and invisible or control characters are refused by field, with nothing stored."""

from __future__ import annotations

import grpc
import pytest
from zitadel.user.v2 import user_service_pb2 as pb

from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.databases import snapshot
from tests.support.refusals import reason_of
from tests.support.registration import as_struct, b64decode, options_of, rows
from tests.support.servers import Client

# C1 control (a terminal's CSI), bidi override, zero-width space and joiner, line and paragraph
# separators, a noncharacter, a tag character, NUL and ESC.
HOSTILE = ["\x9b", "\u202e", "\u200b", "\u200d", "\u2028", "\u2029", "\ufdd0", "\U000e0001", "\x00", "\x1b"]


def human(username: str | None = None, *, given: str = "Ada", email: str = "ada@example.com") -> pb.AddHumanUserRequest:
    fields = {"username": username} if username is not None else {}
    return pb.AddHumanUserRequest(profile={"given_name": given, "family_name": "L"}, email={"email": email}, **fields)


def refused_field(client: Client, request: pb.AddHumanUserRequest) -> str:
    with pytest.raises(grpc.RpcError) as err:
        client.stub.AddHumanUser(request)
    assert (err.value.code(), reason_of(err.value)) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD")
    return err.value.details() or ""


def test_look_alike_usernames_are_one_username(client: Client) -> None:
    client.stub.AddHumanUser(human("Admin", email="a1@example.com"))
    for look_alike in ("admin", "ADMIN", "\uff41\uff44\uff4d\uff49\uff4e", "\uff21dmin"):  # case, fullwidth
        with pytest.raises(grpc.RpcError) as err:
            client.stub.AddHumanUser(human(look_alike, email="a2@example.com"))
        assert (err.value.code(), reason_of(err.value)) == (grpc.StatusCode.ALREADY_EXISTS, "USERNAME_TAKEN")
    # The default username is the email, mapped the same way.
    client.stub.AddHumanUser(human(email="Grace@Example.com"))
    with pytest.raises(grpc.RpcError) as err:
        client.stub.AddHumanUser(human("grace@example.com", email="g2@example.com"))
    assert reason_of(err.value) == "USERNAME_TAKEN"
    stored = {r["username"] for r in rows(client.url, "SELECT username FROM users")}
    assert {"admin", "grace@example.com"} <= stored


@pytest.mark.parametrize("bad", HOSTILE)
def test_invisible_and_control_characters_are_refused_by_field(client: Client, bad: str) -> None:
    before = snapshot(client.url)
    assert "username" in refused_field(client, human(f"admin{bad}"))
    assert "given_name" in refused_field(client, human(given=f"Ada{bad}"))
    assert "email" in refused_field(client, human(email=f"ada{bad}@example.com"))
    assert snapshot(client.url) == before


def test_a_passkey_name_with_a_bidi_override_is_refused_and_names_keep_their_case(client: Client) -> None:
    user_id = client.stub.AddHumanUser(human(given="\uff2darie  Curie", email="m@example.com")).user_id
    assert rows(client.url, "SELECT given_name FROM users WHERE id = :id", id=user_id)[0]["given_name"] == "Marie Curie"
    started = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
    credential = SoftAuthenticator().register(
        challenge=b64decode(options_of(started)["challenge"]), origin=ORIGIN, rp_id=RP_ID
    )
    verify = pb.VerifyPasskeyRegistrationRequest(
        user_id=user_id, passkey_id=started.passkey_id, public_key_credential=as_struct(credential)
    )
    for bad in ("Key\u202egpj.exe", "Key\x9b31m", "Key\u200b"):
        verify.passkey_name = bad
        with pytest.raises(grpc.RpcError) as err:
            client.stub.VerifyPasskeyRegistration(verify)
        assert (err.value.code(), reason_of(err.value)) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD")
        assert "passkey_name" in (err.value.details() or "")
    verify.passkey_name = "My YubiKey"
    client.stub.VerifyPasskeyRegistration(verify)
    listed = client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id))
    assert [p.name for p in listed.result] == ["My YubiKey"]
