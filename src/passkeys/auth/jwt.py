"""OIDC access tokens as JWTs (PyJWT): signature by a key of the configured JWKS (a file, or
a URL fetched and cached), issuer, audience and expiry checked; `sub` is the user id."""

from __future__ import annotations

from pathlib import Path

import jwt

from passkeys.errors import Reason, Unauthenticated, Unavailable

# Asymmetric algorithms only: never `none` or HMAC with a public key as the secret.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
LEEWAY_S = 30
JWKS_CACHE_S = 300
JWKS_FETCH_TIMEOUT_S = 5


def _refused(why: str) -> Unauthenticated:
    return Unauthenticated(Reason.TOKEN_INVALID, f"bearer JWT refused: {why}")


class JwtVerifier:
    def __init__(
        self, *, issuer: str, audience: str, jwks_path: str | None = None, jwks_url: str | None = None
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = jwt.PyJWKSet.from_json(Path(jwks_path).read_text()) if jwks_path else None
        # Keys from a URL are cached; an unknown kid refetches (at most once per cooldown).
        self.client = (
            jwt.PyJWKClient(jwks_url, lifespan=JWKS_CACHE_S, timeout=JWKS_FETCH_TIMEOUT_S) if jwks_url else None
        )

    def _key(self, token: str) -> jwt.PyJWK:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise _refused("not a JWT") from None
        if self.client is not None:
            try:
                if kid is not None:  # refetches the set once when the kid is new (key rotation)
                    return self.client.get_signing_key(kid)
                keys = self.client.get_signing_keys()
            except jwt.PyJWKClientConnectionError:
                raise Unavailable(Reason.JWKS_UNAVAILABLE, "the issuer's keys cannot be fetched, retry later") from None
            except jwt.PyJWKClientError:
                raise _refused("signed by an unknown key") from None
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
        return sub
