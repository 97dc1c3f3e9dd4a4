"""A test OIDC issuer: an EC key pair, its JWKS file, and JWTs signed with it; and a hung one."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from passkeys.config import Settings

ISSUER = "https://issuer.example.com"
AUDIENCE = "passkeys-api"


@dataclass
class Issuer:
    key: ec.EllipticCurvePrivateKey
    kid: str
    jwks_path: Path

    @classmethod
    def create(cls, folder: Path, kid: str = "test-key") -> Issuer:
        key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        path = folder / "jwks.json"
        path.write_text(json.dumps({"keys": [{**jwk, "kid": kid, "alg": "ES256", "use": "sig"}]}))
        return cls(key, kid, path)

    def token(self, sub: str, *, expires_in: int = 300, kid: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + expires_in, **claims}
        return jwt.encode(payload, self.key, algorithm="ES256", headers={"kid": kid or self.kid})


def accepting(settings: Settings, issuer: Issuer) -> Settings:
    """The settings with `issuer`'s JWTs accepted (its JWKS file)."""
    return replace(settings, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwks_path=str(issuer.jwks_path))


class HangingIssuer:
    """A JWKS endpoint that accepts connections and never answers (a hung issuer); counts the
    connections made to it and the most open at once."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/jwks.json"
        self.connections = 0
        self.most_at_once = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._open = [c for c in self._open if not _closed_by_peer(c)]
                self._open.append(connection)
                self.connections += 1
                self.most_at_once = max(self.most_at_once, len(self._open))

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for connection in self._open:
                connection.close()


def _closed_by_peer(connection: socket.socket) -> bool:
    try:
        return connection.recv(65536, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
