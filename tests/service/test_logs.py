"""The service's log of a whole flow, run as a real process: one JSON access line per call with
method, code, latency and the ids involved, and no secret anywhere in the log (tokens, codes,
challenges in any encoding, the credential's clientDataJSON and attestationObject)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import grpc
import pytest
from zitadel.user.v2 import user_service_pb2 as pb

from tests.conftest import ORIGIN, RP_ID
from tests.support.authenticator import SoftAuthenticator
from tests.support.process import server_process
from tests.support.registration import as_struct, b64decode, options_of

SERVICE = "/zitadel.user.v2.UserService/"


def encodings(secret: bytes) -> list[str]:
    """Every way a binary secret might be printed."""
    std = base64.b64encode(secret).decode()
    return [std, std.rstrip("="), base64.urlsafe_b64encode(secret).decode().rstrip("="), secret.hex()]


def test_one_line_per_call_and_no_secrets(database_url: str, tmp_path: Path) -> None:
    secrets: dict[str, str] = {}
    calls: list[tuple[str, str, dict[str, str]]] = []  # method, code, ids the line must name

    with server_process(database_url, tmp_path, PASSKEYS_LOG_LEVEL="DEBUG") as server:
        secrets["admin token"] = server.admin_token
        calls.append(("/grpc.health.v1.Health/Check", "OK", {}))  # the start's readiness check
        stub = server.stub
        user_id = stub.AddHumanUser(
            pb.AddHumanUserRequest(profile={"given_name": "Ada", "family_name": "Lovelace"}, email={"email": "a@x.io"})
        ).user_id
        calls.append(("AddHumanUser", "OK", {"user_id": user_id}))

        started = stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id))
        passkey_id = started.passkey_id
        calls.append(("RegisterPasskey", "OK", {"user_id": user_id, "passkey_id": passkey_id}))
        challenge = b64decode(options_of(started)["challenge"])

        auth = SoftAuthenticator()
        wrong = auth.register(challenge=challenge, origin="https://evil.example", rp_id=RP_ID)
        with pytest.raises(grpc.RpcError) as err:
            stub.VerifyPasskeyRegistration(
                pb.VerifyPasskeyRegistrationRequest(
                    user_id=user_id, passkey_id=passkey_id, public_key_credential=as_struct(wrong), passkey_name="k"
                )
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        calls.append(("VerifyPasskeyRegistration", "INVALID_ARGUMENT", {"user_id": user_id, "passkey_id": passkey_id}))

        good = auth.register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID, attestation="packed")
        stub.VerifyPasskeyRegistration(
            pb.VerifyPasskeyRegistrationRequest(
                user_id=user_id, passkey_id=passkey_id, public_key_credential=as_struct(good), passkey_name="k"
            )
        )
        calls.append(("VerifyPasskeyRegistration", "OK", {"user_id": user_id, "passkey_id": passkey_id}))

        assert len(stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result) == 1
        calls.append(("ListPasskeys", "OK", {"user_id": user_id}))
        stub.RemovePasskey(pb.RemovePasskeyRequest(user_id=user_id, passkey_id=passkey_id))
        calls.append(("RemovePasskey", "OK", {"user_id": user_id, "passkey_id": passkey_id}))

        link = stub.CreatePasskeyRegistrationLink(
            pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, return_code={})
        )
        calls.append(("CreatePasskeyRegistrationLink", "OK", {"user_id": user_id}))
        secrets["registration code"] = link.code.code

        anonymous = server.stub_for(None)
        by_code = anonymous.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, code=link.code))
        calls.append(("RegisterPasskey", "OK", {"user_id": user_id, "passkey_id": by_code.passkey_id}))
        challenge2 = b64decode(options_of(by_code)["challenge"])
        second = SoftAuthenticator().register(challenge=challenge2, origin=ORIGIN, rp_id=RP_ID)
        anonymous.VerifyPasskeyRegistration(
            pb.VerifyPasskeyRegistrationRequest(
                user_id=user_id,
                passkey_id=by_code.passkey_id,
                public_key_credential=as_struct(second),
                passkey_name="phone",
            ),
            metadata=(("authorization", f"Bearer {link.code.id}:{link.code.code}"),),
        )
        calls.append(("VerifyPasskeyRegistration", "OK", {"user_id": user_id, "passkey_id": by_code.passkey_id}))

        with pytest.raises(grpc.RpcError) as err:
            anonymous.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id))
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        calls.append(("ListPasskeys", "UNAUTHENTICATED", {"user_id": user_id}))
        assert server.stop() == 0

        for n, value in enumerate((challenge, challenge2)):
            for i, text in enumerate(encodings(value)):
                secrets[f"challenge {n} encoding {i}"] = text
        for n, credential in enumerate((wrong, good, second)):
            secrets[f"clientDataJSON {n}"] = credential["response"]["clientDataJSON"]
            secrets[f"attestationObject {n}"] = credential["response"]["attestationObject"]
            secrets[f"whole credential {n}"] = json.dumps(credential)
        log_text = server.all_logs()
        lines = server.log_lines()

    access = [line for line in lines if line.get("logger") == "passkeys.access"]
    assert [(a["method"], a["code"]) for a in access] == [
        (m if m.startswith("/") else SERVICE + m, c) for m, c, _ in calls
    ]
    for line, (_, _, ids) in zip(access, calls, strict=True):
        assert line["msg"] == "call"
        assert isinstance(line["latency_ms"], float | int) and line["latency_ms"] >= 0
        for name, value in ids.items():
            assert line[name] == value, (line, name)
    assert access[-1]["reason"] == "TOKEN_MISSING"
    assert access[3]["reason"] == "CREDENTIAL_REJECTED"
    # A caller is named by its id: the admin by its user id, the code by its code id.
    assert access[-2]["caller"] == f"code:{link.code.id}"

    leaked = [name for name, value in secrets.items() if value in log_text]
    assert not leaked, f"secrets in the log: {leaked}"
