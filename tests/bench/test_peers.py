"""The peers of bench/peers really do the work they are compared on: each checks the bearer
token, verifies the credential against the pending challenge (a wrong challenge or a missing
user verification is refused and stores nothing), stores it once, and refuses a replay."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import httpx
import pytest

from bench.load import ORIGIN, RP_ID
from bench.processes import PEER_KINDS, peer
from tests.support.authenticator import SoftAuthenticator


def _challenge(options: dict) -> bytes:
    text = options["publicKeyCredentialCreationOptions"]["publicKey"]["challenge"]
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _stored(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, credential_id, sign_count, name FROM passkeys ORDER BY id").fetchall()


@pytest.mark.parametrize("kind", PEER_KINDS)
def test_peer_verifies_and_stores_once(kind: str, tmp_path: Path) -> None:
    with peer(kind, tmp_path) as (_, addr, token), httpx.Client(base_url=f"http://{addr}", timeout=30) as http:
        auth = {"authorization": f"Bearer {token}"}
        assert http.post("/v2/users/u1/passkeys", headers={"authorization": "Bearer nope"}).status_code == 401
        started = http.post("/v2/users/u1/passkeys", headers=auth)
        assert started.status_code == 200, started.text
        body = started.json()
        passkey_id, challenge = body["passkeyId"], _challenge(body)
        path = f"/v2/users/u1/passkeys/{passkey_id}"
        db = tmp_path / f"peer-{kind}.db"
        before = _stored(db)

        authenticator = SoftAuthenticator()
        refused = {
            "wrong challenge": authenticator.register(
                challenge=b"\x00" * 32, origin=ORIGIN, rp_id=RP_ID, attestation="packed"
            ),
            "no user verification": authenticator.register(
                challenge=challenge, origin=ORIGIN, rp_id=RP_ID, attestation="packed", user_verified=False
            ),
            "wrong origin": authenticator.register(
                challenge=challenge, origin="http://evil.example", rp_id=RP_ID, attestation="packed"
            ),
        }
        for why, credential in refused.items():
            answer = http.post(path, headers=auth, json={"publicKeyCredential": credential, "passkeyName": "x"})
            assert answer.status_code == 400, (why, answer.text)
        good = authenticator.register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID, attestation="packed")
        body = {"publicKeyCredential": good, "passkeyName": "mine"}
        assert http.post(path, headers={"authorization": "Bearer nope"}, json=body).status_code == 401
        assert http.post("/v2/users/u2/passkeys/" + passkey_id, headers=auth, json=body).status_code == 404
        assert _stored(db) == before  # nothing refused left a trace

        answer = http.post(path, headers=auth, json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"passkeyId": passkey_id, "verified": True}
        ((stored_id, credential_id, sign_count, name),) = _stored(db)
        assert (stored_id, credential_id, sign_count, name) == (passkey_id, good["id"], 0, "mine")

        assert http.post(path, headers=auth, json=body).status_code == 404  # no longer pending
