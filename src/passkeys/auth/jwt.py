"""OIDC access tokens as JWTs (PyJWT): signature by a key of the configured JWKS (a file, or
a URL fetched in the background: auth/jwks.py), issuer, audience and expiry checked; `sub` is
the user id."""

from __future__ import annotations

from pathlib import Path

import jwt

from passkeys.auth.jwks import JwksFetcher
from passkeys.commands import validate
from passkeys.errors import InvalidArgument, Reason, Unauthenticated

# Asymmetric algorithms only: never `none` or HMAC with a public key as the secret.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_S = 30


def _refused(why: str) -> Unauthenticated:
    return Unauthenticated(Reason.TOKEN_INVALID, f"bearer JWT refused: {why}")


class JwtVerifier:
    def __init__(
        self, *, issuer: str, audience: str, jwks_path: str | None = None, jwks_url: str | None = None
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = jwt.PyJWKSet.from_json(Path(jwks_path).read_text()) if jwks_path else None
        self.fetcher = JwksFetcher(jwks_url) if jwks_url else None

    def _key(self, token: str) -> jwt.PyJWK:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise _refused("not a JWT") from None
        if not isinstance(kid, str | None):
            raise _refused("kid is not a string")
        if self.fetcher is not None:
            keys = self.fetcher.keys(kid)  # refetches when the kid is new (key rotation), rate-limited
        else:
            assert self.keys is not None
            keys = self.keys.keys
        candidates = [k for k in keys if kid is None or k.key_id == kid]
        if not candidates:
            raise _refused("signed by an unknown key")
        return candidates[0]

    def subject(self, token: str) -> str:
        """The verified token's `sub`, or Unauthenticated naming what failed."""
        key = self._key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated(Reason.TOKEN_EXPIRED, "bearer JWT expired") from None
        except jwt.InvalidAudienceError:
            raise _refused("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise _refused("wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise _refused("bad signature") from None
        except jwt.PyJWTError as exc:
            raise _refused(type(exc).__name__) from None
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub:
            raise _refused("sub is not a user id")
        # Text from a token is checked as a request's user id is (NUL and controls refused before
        # any query: PostgreSQL cannot even compare text holding NUL).
        try:
            validate.identifier("sub", sub)
        except InvalidArgument:
            raise _refused("sub is not a user id") from None
        return sub
