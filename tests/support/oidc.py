"""A test OIDC issuer: an EC key pair, its JWKS file, and JWTs signed with it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

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
