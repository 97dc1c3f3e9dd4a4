"""Our own passkeys.v1.PasskeyDetailsService (what upstream's Passkey message does not carry: the
creation and last-use dates, RP ID, transports, backup flags, provider, attestation) over every way
in: gRPC to the server and through Envoy, grpc-web, JSON REST at /passkeys/v1/... and Connect JSON,
on SQLite and PostgreSQL; the same caller rules as ListPasskeys."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from passkeysapi.v1 import passkey_details_pb2 as pb
from zitadel.session.v2 import session_service_pb2 as spb
from zitadel.user.v2 import user_service_pb2 as user_pb

from passkeys.config import Settings
from tests.conftest import ORIGIN, RP_ID
from tests.support.attestation_certs import AttestationCA
from tests.support.authenticator import SoftAuthenticator
from tests.support.gateway import Gateway
from tests.support.metadata import Entry, write_metadata
from tests.support.registration import Pending
from tests.support.signin import challenge_of, check_assertion, enrol
from tests.support.ways import WAYS, call

SERVICE = "passkeys.v1.PasskeyDetailsService"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
GOOGLE_PASSWORD_MANAGER = uuid.UUID("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")
CA = AttestationCA()  # the one packed root configured: what attestation_verified reports


# A security key the community list lacks, named by the operator's FIDO metadata file.
MDS_ONLY = uuid.uuid4()


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    metadata = write_metadata(tmp_path / "metadata.json", [Entry("Soft Security Key 3", [CA], aaguid=MDS_ONLY.bytes)])
    return replace(settings, attestation_roots={"packed": (CA.pem,)}, attestation_metadata_path=str(metadata))


def b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def enrolled(gw: Gateway) -> tuple[str, str, str, dt.datetime]:
    """A user with one READY passkey "Laptop" and one NOT_READY one: (user, ready id, pending id, before)."""
    user_id = gw.grpc.add_user()
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    started = gw.grpc.stub.RegisterPasskey(user_pb.RegisterPasskeyRequest(user_id=user_id))
    challenge = b64decode(started.public_key_credential_creation_options["publicKey"]["challenge"])
    credential = SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID)
    request = user_pb.VerifyPasskeyRegistrationRequest(
        user_id=user_id, passkey_id=started.passkey_id, passkey_name="Laptop"
    )
    request.public_key_credential.update(credential)
    gw.grpc.stub.VerifyPasskeyRegistration(request)
    pending = gw.grpc.stub.RegisterPasskey(user_pb.RegisterPasskeyRequest(user_id=user_id))
    return user_id, started.passkey_id, pending.passkey_id, before


def list_details(gw: Gateway, way: str, user_id: str, token: str | None) -> tuple[int, pb.ListPasskeyDetailsResponse]:
    """(gRPC code number, answer) over one way in; the answer is empty on an error."""
    answer = call(
        gw,
        way,
        SERVICE,
        "ListPasskeyDetails",
        pb.ListPasskeyDetailsRequest(user_id=user_id),
        pb.ListPasskeyDetailsResponse,
        token=token,
        rest=("POST", f"/passkeys/v1/users/{user_id}/passkeys/_search", {}),
    )
    if answer.body is not None:
        body = answer.body
        # Timestamps as RFC 3339, uint64 as strings, lowerCamelCase: as every other answer.
        stamps = [p[key] for p in body["result"] for key in ("creationDate", "lastUsed") if key in p]
        assert all(RFC3339.match(stamp) for stamp in stamps), body
        assert body["details"]["totalResult"] == str(len(body["result"]))
    return answer.code, answer.message or pb.ListPasskeyDetailsResponse()


@pytest.mark.parametrize("way", WAYS)
def test_the_details_list_each_passkey_with_its_creation_date(gw: Gateway, way: str) -> None:
    user_id, ready, pending, before = enrolled(gw)

    code, answer = list_details(gw, way, user_id, gw.grpc.admin_token)

    assert code == 0
    got = [(p.id, p.name, p.state) for p in answer.result]
    assert got == [(ready, "Laptop", 2), (pending, "", 1)]
    for passkey in answer.result:
        created = passkey.creation_date.ToDatetime(dt.UTC)
        assert before <= created <= dt.datetime.now(dt.UTC)
    assert (answer.details.total_result, answer.details.processed_sequence) == (2, 4)
    # The same listing as ListPasskeys, which now carries upstream's three fields only.
    listed = gw.grpc.stub.ListPasskeys(user_pb.ListPasskeysRequest(user_id=user_id))
    assert [(p.id, p.name, p.state) for p in listed.result] == got


@pytest.mark.parametrize("way", WAYS)
def test_the_details_follow_list_passkeys_caller_rules(gw: Gateway, way: str) -> None:
    user_id, *_ = enrolled(gw)

    assert list_details(gw, way, user_id, None)[0] == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert list_details(gw, way, "nobody", gw.grpc.admin_token)[0] == grpc.StatusCode.NOT_FOUND.value[0]


def signed_in(gw: Gateway, user_id: str, auth: SoftAuthenticator, **flags: bool) -> None:
    sessions = gw.grpc.sessions_for(gw.grpc.admin_token)
    created = sessions.CreateSession(
        spb.CreateSessionRequest(checks={"user": {"user_id": user_id}}, challenges={"web_auth_n": {"domain": RP_ID}})
    )
    assertion = auth.authenticate(
        challenge=challenge_of(created.challenges), origin=ORIGIN, rp_id=RP_ID, user_handle=user_id.encode(), **flags
    )
    sessions.SetSession(check_assertion(created.session_id, assertion))


@pytest.mark.parametrize("way", WAYS)
def test_the_details_say_what_each_passkey_is_and_when_it_was_last_used(gw: Gateway, way: str) -> None:
    # A synced passkey of Google Password Manager, backed up since its sign-in; a security key of
    # a model nobody lists, attested by the configured root; one the metadata file alone names.
    synced = enrol(
        gw.grpc,
        origin=ORIGIN,
        rp_id=RP_ID,
        auth=SoftAuthenticator(aaguid=GOOGLE_PASSWORD_MANAGER.bytes),
        backup_eligible=True,
        transports=["internal", "hybrid"],
    )
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    signed_in(gw, synced.user_id, synced.auth, backup_eligible=True, backed_up=True)
    unknown = uuid.uuid4()
    Pending(
        gw.grpc,
        SoftAuthenticator(aaguid=unknown.bytes, attestation_ca=CA),
        user_id=synced.user_id,
        attestation="packed-x5c",
        transports=["usb"],
    ).verify()

    Pending(gw.grpc, SoftAuthenticator(aaguid=MDS_ONLY.bytes), user_id=synced.user_id).verify()

    code, answer = list_details(gw, way, synced.user_id, gw.grpc.admin_token)

    assert code == 0
    first, second, third = answer.result
    assert (first.id, first.rp_id, list(first.transports)) == (synced.passkey_id, RP_ID, ["hybrid", "internal"])
    assert before <= first.last_used.ToDatetime(dt.UTC) <= dt.datetime.now(dt.UTC)
    assert (first.backup_eligible, first.backup_state) == (True, True)
    assert (first.aaguid, first.provider_name) == (str(GOOGLE_PASSWORD_MANAGER), "Google Password Manager")
    assert first.provider_icon_light.startswith("data:image/")
    assert first.provider_icon_dark.startswith("data:image/")
    assert (first.attestation_format, first.attestation_verified) == ("none", False)
    # Unknown to the community list and to the metadata: no provider, not an error; never used.
    assert (second.aaguid, second.provider_name, second.provider_icon_light) == (str(unknown), "", "")
    assert not second.HasField("last_used")
    assert (second.backup_eligible, second.backup_state, list(second.transports)) == (False, False, ["usb"])
    assert (second.attestation_format, second.attestation_verified) == ("packed", True)
    # The metadata's friendlyNames and icon, for a model only it knows.
    assert (third.aaguid, third.provider_name) == (str(MDS_ONLY), "Soft Security Key 3")
    assert third.provider_icon_light == third.provider_icon_dark == "data:image/png;base64,iVBORw0KGgo="
