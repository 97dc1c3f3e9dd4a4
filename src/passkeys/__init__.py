"""passkeys: a WebAuthn passkey registration service speaking ZITADEL's user service v2 API."""
