"""The whole registration flow over gRPC against the real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import grpc
import pytest
from passkeysapi.v1.passkey_details_pb2 import ListPasskeyDetailsRequest
from passkeysapi.v1.passkey_details_pb2_grpc import PasskeyDetailsServiceStub
from zitadel.user.v2 import auth_pb2, passkey_pb2
from zitadel.user.v2 import user_service_pb2 as pb

from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator, b64url
from tests.support.registration import as_struct, b64decode, options_of, rows
from tests.support.servers import Client


@pytest.mark.parametrize("attestation", ["none", "packed"])
@pytest.mark.parametrize("alg", [-7, -8, -257])
def test_full_flow_stores_the_verified_passkey(client: Client, attestation: str, alg: int) -> None:
    added = client.stub.AddHumanUser(
        pb.AddHumanUserRequest(
            username="ada",
            profile={"given_name": "Ada", "family_name": "Lovelace"},
            email={"email": "ada@example.com"},
        )
    )
    user_id = added.user_id
    assert added.details.sequence == 1
    org_id = added.details.resource_owner
    assert org_id
    created = added.details.creation_date.ToDatetime()

    auth = SoftAuthenticator(alg=alg, aaguid=bytes(range(16)))
    started = client.stub.RegisterPasskey(
        pb.RegisterPasskeyRequest(user_id=user_id, authenticator=passkey_pb2.PASSKEY_AUTHENTICATOR_PLATFORM)
    )
    assert started.details.sequence == 2
    assert started.details.resource_owner == org_id
    assert started.details.creation_date.ToDatetime() == created
    options = options_of(started)
    assert options["rp"] == {"id": RP_ID, "name": "passkeys"}
    assert b64decode(options["user"]["id"]) == user_id.encode()
    assert options["user"]["name"] == "ada"
    assert options["user"]["displayName"] == "Ada Lovelace"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-8, -7, -257]
    assert options["authenticatorSelection"] == {
        "authenticatorAttachment": "platform",
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "required",
    }
    assert options["attestation"] == "none"
    assert options["timeout"] == 300_000
    assert options["excludeCredentials"] == []
    assert len(b64decode(options["challenge"])) == 32

    credential = auth.register(
        challenge=b64decode(options["challenge"]),
        origin=ORIGIN,
        rp_id=RP_ID,
        attestation=attestation,
        backup_eligible=True,
        backed_up=True,
        sign_count=7,
        transports=["internal", "hybrid"],
    )
    verified = client.stub.VerifyPasskeyRegistration(
        pb.VerifyPasskeyRegistrationRequest(
            user_id=user_id,
            passkey_id=started.passkey_id,
            public_key_credential=as_struct(credential),
            passkey_name="Laptop",
        )
    )
    assert verified.details.sequence == 3
    assert verified.details.resource_owner == org_id
    assert verified.details.change_date.ToDatetime() >= started.details.change_date.ToDatetime()

    listed = client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id))
    assert [(p.id, p.state, p.name) for p in listed.result] == [
        (started.passkey_id, auth_pb2.AUTH_FACTOR_STATE_READY, "Laptop")
    ]
    assert listed.details.total_result == 1
    assert listed.details.processed_sequence == 3
    # Ours, in our own service (upstream's Passkey has no such field): when the registration began.
    (detailed,) = (
        PasskeyDetailsServiceStub(client.channel)
        .ListPasskeyDetails(
            ListPasskeyDetailsRequest(user_id=user_id), metadata=[("authorization", f"Bearer {client.admin_token}")]
        )
        .result
    )
    assert (detailed.id, detailed.state, detailed.name) == (
        started.passkey_id,
        auth_pb2.AUTH_FACTOR_STATE_READY,
        "Laptop",
    )
    assert detailed.creation_date == started.details.change_date

    (stored,) = rows(client.url, "SELECT * FROM passkeys WHERE id = :id", id=started.passkey_id)
    assert bytes(stored["credential_id"]) == auth.credential_id
    assert bytes(stored["public_key"]) == auth.cose_public_key()
    assert stored["sign_count"] == 7
    assert stored["aaguid"] == "00010203-0405-0607-0809-0a0b0c0d0e0f"
    assert stored["attestation_format"] == attestation
    assert stored["state"] == 2
    assert stored["name"] == "Laptop"
    assert stored["challenge"] is None
    assert bool(stored["backup_eligible"]) and bool(stored["backed_up"]) and bool(stored["user_verified"])
    transports = stored["transports"]
    assert (transports if isinstance(transports, list) else __import__("json").loads(transports)) == [
        "hybrid",
        "internal",
    ]

    # The next registration excludes the ready credential.
    again = options_of(client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id)))
    assert again["excludeCredentials"] == [
        {"id": b64url(auth.credential_id), "type": "public-key", "transports": ["hybrid", "internal"]}
    ]

    removed = client.stub.RemovePasskey(pb.RemovePasskeyRequest(user_id=user_id, passkey_id=started.passkey_id))
    assert removed.details.sequence == 5
    remaining = client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result
    assert started.passkey_id not in [p.id for p in remaining]

    events = rows(
        client.url, "SELECT sequence, type, resource_owner FROM events WHERE user_id = :u ORDER BY sequence", u=user_id
    )
    assert [(e["sequence"], e["type"]) for e in events] == [
        (1, "user.human.added"),
        (2, "user.human.passkey.added"),
        (3, "user.human.passkey.verified"),
        (4, "user.human.passkey.added"),
        (5, "user.human.passkey.removed"),
    ]
    assert {e["resource_owner"] for e in events} == {org_id}


def test_pending_passkeys_are_listed_not_ready(client: Client) -> None:
    user_id = client.add_user()
    started = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
    listed = client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result
    assert [(p.id, p.state) for p in listed] == [(started.passkey_id, auth_pb2.AUTH_FACTOR_STATE_NOT_READY)]


def test_domain_may_be_a_registrable_parent_of_the_rp_id(client: Client) -> None:
    user_id = client.add_user()
    parent = client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, domain="example.com"))
    assert options_of(parent)["rp"]["id"] == "example.com"
    auth = SoftAuthenticator()
    challenge = b64decode(options_of(parent)["challenge"])
    credential = auth.register(challenge=challenge, origin=ORIGIN, rp_id="example.com")
    client.stub.VerifyPasskeyRegistration(
        pb.VerifyPasskeyRegistrationRequest(
            user_id=user_id,
            passkey_id=parent.passkey_id,
            public_key_credential=as_struct(credential),
            passkey_name="parent",
        )
    )
    for bad in ("com", "other.com", "evil-example.com", "x.login.example.com"):
        with pytest.raises(grpc.RpcError) as failed:
            client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, domain=bad))
        assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "domain" in failed.value.details()


def test_cross_platform_authenticator_and_unknown_user(client: Client) -> None:
    user_id = client.add_user()
    started = client.stub.RegisterPasskey(
        pb.RegisterPasskeyRequest(user_id=user_id, authenticator=passkey_pb2.PASSKEY_AUTHENTICATOR_CROSS_PLATFORM)
    )
    assert options_of(started)["authenticatorSelection"]["authenticatorAttachment"] == "cross-platform"
    with pytest.raises(grpc.RpcError) as failed:
        client.stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id="nobody"))
    assert failed.value.code() == grpc.StatusCode.NOT_FOUND
