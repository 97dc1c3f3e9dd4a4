"""The one error of the registration ceremony: which check failed, and why."""

from __future__ import annotations

from passkeys.errors import InvalidArgument, Reason


class CredentialRejected(InvalidArgument):
    def __init__(self, check: str, detail: str) -> None:
        super().__init__(
            Reason.CREDENTIAL_REJECTED, f"public_key_credential failed the {check} check: {detail}", check=check
        )
        self.check = check


class AssertionRejected(InvalidArgument):
    """A sign-in assertion (SetSession's checks.web_auth_n) that failed one check."""

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(
            Reason.ASSERTION_REJECTED, f"credential_assertion_data failed the {check} check: {detail}", check=check
        )
        self.check = check
