"""The one error of the registration ceremony: which check failed, and why."""

from __future__ import annotations

from passkeys.errors import InvalidArgument, Reason


class CredentialRejected(InvalidArgument):
    def __init__(self, check: str, detail: str) -> None:
        super().__init__(
            Reason.CREDENTIAL_REJECTED, f"public_key_credential failed the {check} check: {detail}", check=check
        )
        self.check = check
