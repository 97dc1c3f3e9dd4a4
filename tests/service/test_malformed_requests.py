"""Request bytes that are no protobuf of the method's type: INVALID_ARGUMENT MALFORMED_REQUEST
(grpc's own deserializer would answer INTERNAL), nothing stored, and the server answers on."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import struct_pb2
from zitadel.user.v2 import user_service_pb2 as pb

from tests.support.mutations import with_client_data
from tests.support.refusals import error_info, refused
from tests.support.registration import Pending, as_struct
from tests.support.servers import Client

VERIFY = "/zitadel.user.v2.UserService/VerifyPasskeyRegistration"


def deep_struct(depth: int) -> struct_pb2.Struct:
    """A Struct whose innermost value is `depth` Structs down (each Struct is 3 message levels)."""
    inner = struct_pb2.Struct()
    for _ in range(depth):
        outer = struct_pb2.Struct()
        outer.fields["a"].struct_value.CopyFrom(inner)
        inner = outer
    return inner


def raw_call(client: Client, method: str, body: bytes) -> bytes:
    call = client.channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    return call(body, metadata=[("authorization", f"Bearer {client.admin_token}")], timeout=10)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xff\xff\xff",  # a field number out of range
        b"\x0a\x05ab",  # a string field longer than the message
        b"\x0a\x03\xc3\x28x",  # user_id (a proto3 string) that is not UTF-8
        b"\x0f",  # wire type 7 does not exist
    ],
    ids=["bad-tag", "truncated", "not-utf8", "bad-wire-type"],
)
@pytest.mark.parametrize(
    "method", [VERIFY, "/zitadel.user.v2.UserService/RegisterPasskey", "/zitadel.user.v2.UserService/ListPasskeys"]
)
def test_undecodable_request_is_invalid_argument(client: Client, method: str, body: bytes) -> None:
    err = refused(client, lambda: raw_call(client, method, body), grpc.StatusCode.INVALID_ARGUMENT)
    assert error_info(err).reason == "MALFORMED_REQUEST"
    assert "protobuf" in err.details()
    client.add_user()  # still serving


def test_struct_deeper_than_the_recursion_limit_is_invalid_argument(client: Client) -> None:
    p = Pending(client)
    request = p.request()
    request.public_key_credential.fields["response"].struct_value.CopyFrom(deep_struct(200))
    body = request.SerializeToString()
    err = refused(client, lambda: raw_call(client, VERIFY, body), grpc.StatusCode.INVALID_ARGUMENT)
    assert error_info(err).reason == "MALFORMED_REQUEST"
    # A nesting the parser accepts goes on to the checks, and is a credential error there.
    request.public_key_credential.fields["response"].struct_value.CopyFrom(deep_struct(20))
    body = request.SerializeToString()
    err = refused(client, lambda: raw_call(client, VERIFY, body), grpc.StatusCode.INVALID_ARGUMENT)
    assert error_info(err).reason == "CREDENTIAL_REJECTED"
    p.verify()  # the pending registration is untouched by both


def test_undecodable_request_is_logged_once_without_its_bytes(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="passkeys.access"), pytest.raises(grpc.RpcError):
        raw_call(client, VERIFY, b"\x0a\x10secret")  # truncated
    lines = [r for r in caplog.records if r.name == "passkeys.access"]
    assert [(r.method, r.code, r.reason) for r in lines] == [(VERIFY, "INVALID_ARGUMENT", "MALFORMED_REQUEST")]
    assert "secret" not in caplog.text


@pytest.mark.parametrize(
    "member", [{"origin": "https://" + "a" * 100_000}, {"type": "x" * 100_000}, {"challenge": "A" * 100_000}]
)
def test_error_messages_do_not_echo_huge_input(client: Client, member: dict[str, str]) -> None:
    """A rejected value is quoted at most in part: grpc-message and the status details travel
    as headers, and clients refuse headers over 8 KiB (the call would end RESOURCE_EXHAUSTED)."""
    p = Pending(client)
    credential = with_client_data(p.credential, **member)
    err = refused(
        client, lambda: p.verify(public_key_credential=as_struct(credential)), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert error_info(err).reason == "CREDENTIAL_REJECTED"
    assert len(err.details()) <= 1_000


@pytest.mark.parametrize(("code_id", "code"), [("\x00", "0"), ("a\x00b", "abc"), ("abc", "a\x00")])
def test_registration_code_with_a_nul_is_code_invalid(client: Client, code_id: str, code: str) -> None:
    """PostgreSQL text cannot hold NUL: looked up as it was, such an id failed as INTERNAL."""
    user_id = client.add_user()
    request = pb.RegisterPasskeyRequest(user_id=user_id, code={"id": code_id, "code": code})
    err = refused(client, lambda: client.stub_for(None).RegisterPasskey(request), grpc.StatusCode.UNAUTHENTICATED)
    assert error_info(err).reason == "CODE_INVALID"
