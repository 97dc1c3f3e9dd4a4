"""The minimal Python endpoint a user would write in an afternoon: Starlette on uvicorn,
py_webauthn and the standard library's sqlite3, one process, one connection.

    PEER_DATABASE=peer.db PEER_TOKEN=... PEER_RP_ID=localhost PEER_ORIGIN=http://localhost:8080 \
        python -m bench.peers.starlette_peer

Prints `listening on HOST:PORT` once it accepts connections (port 0: the kernel picks one).
It answers our REST paths, so that the load generator starts and verifies registrations the
same way on every endpoint:

- POST /v2/users/{user_id}/passkeys: a new pending passkey and its creation options.
- POST /v2/users/{user_id}/passkeys/{passkey_id} with {"publicKeyCredential": ..., "passkeyName": ...}:
  looks the pending challenge up, verifies (packed ES256 and the rest py_webauthn knows, user
  verification required), stores the credential in one transaction, answers
  {"passkeyId": ..., "verified": true}.

Both check the bearer token against the tokens table (SHA-256 digest). Nothing else: no
permission per user, no strict checks beyond the library's, no event, no metrics; uvicorn's
default access log line is its only log.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import sqlite3
import time
import uuid
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from webauthn import generate_registration_options, options_to_json, verify_registration_response
from webauthn.helpers.structs import AuthenticatorSelectionCriteria, UserVerificationRequirement

RP_ID = os.environ.get("PEER_RP_ID", "localhost")
ORIGIN = os.environ.get("PEER_ORIGIN", "http://localhost:8080")
CHALLENGE_TTL_MS = 5 * 60 * 1000

db = sqlite3.connect(os.environ.get("PEER_DATABASE", "peer.db"))
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.executescript((Path(__file__).parent / "schema.sql").read_text())
with db:
    db.execute(
        "INSERT OR IGNORE INTO tokens (digest, owner) VALUES (?, 'admin')",
        (hashlib.sha256(os.environ["PEER_TOKEN"].encode()).hexdigest(),),
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def authenticated(request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    digest = hashlib.sha256(token.encode()).hexdigest()
    return db.execute("SELECT 1 FROM tokens WHERE digest = ?", (digest,)).fetchone() is not None


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def start_registration(request: Request) -> JSONResponse:
    if not authenticated(request):
        return error(401, "unauthenticated")
    user_id = request.path_params["user_id"]
    options = generate_registration_options(
        rp_id=RP_ID,
        rp_name="bench",
        user_id=user_id.encode(),
        user_name=user_id,
        authenticator_selection=AuthenticatorSelectionCriteria(user_verification=UserVerificationRequirement.REQUIRED),
    )
    passkey_id = uuid.uuid4().hex
    with db:
        db.execute(
            "INSERT INTO passkeys (id, user_id, challenge, created_at) VALUES (?, ?, ?, ?)",
            (passkey_id, user_id, b64url(options.challenge), int(time.time() * 1000)),
        )
    public_key = json.loads(options_to_json(options))
    return JSONResponse({"passkeyId": passkey_id, "publicKeyCredentialCreationOptions": {"publicKey": public_key}})


async def verify_registration(request: Request) -> JSONResponse:
    if not authenticated(request):
        return error(401, "unauthenticated")
    user_id, passkey_id = request.path_params["user_id"], request.path_params["passkey_id"]
    try:
        body = await request.json()
        credential, name = body["publicKeyCredential"], str(body.get("passkeyName", ""))
    except (ValueError, KeyError, TypeError):
        return error(400, "expected {publicKeyCredential, passkeyName}")
    row = db.execute(
        "SELECT challenge, created_at FROM passkeys WHERE id = ? AND user_id = ? AND credential_id IS NULL",
        (passkey_id, user_id),
    ).fetchone()
    if row is None:
        return error(404, "no pending registration")
    if row[1] + CHALLENGE_TTL_MS < time.time() * 1000:
        return error(400, "challenge expired")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=b64decode(row[0]),
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            require_user_verification=True,
        )
    except Exception as exc:  # noqa: BLE001 - the library raises several kinds; all mean a refused credential
        return error(400, f"registration refused: {exc}")
    try:
        with db:
            stored = db.execute(
                "UPDATE passkeys SET credential_id = ?, public_key = ?, sign_count = ?, name = ?, verified_at = ? "
                "WHERE id = ? AND credential_id IS NULL",
                (
                    b64url(verified.credential_id),
                    verified.credential_public_key,
                    verified.sign_count,
                    name,
                    int(time.time() * 1000),
                    passkey_id,
                ),
            ).rowcount
    except sqlite3.IntegrityError:
        return error(409, "credential already registered")
    if stored != 1:
        return error(409, "registration already verified")
    return JSONResponse({"passkeyId": passkey_id, "verified": True})


app = Starlette(
    routes=[
        Route("/v2/users/{user_id}/passkeys", start_registration, methods=["POST"]),
        Route("/v2/users/{user_id}/passkeys/{passkey_id}", verify_registration, methods=["POST"]),
    ]
)


def main() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(os.environ.get("PEER_PORT", "0"))))
    sock.listen(1024)  # connections queue from here on, before uvicorn's loop accepts them
    host, port = sock.getsockname()
    print(f"listening on {host}:{port}", flush=True)
    uvicorn.Server(uvicorn.Config(app)).run(sockets=[sock])


if __name__ == "__main__":
    main()
