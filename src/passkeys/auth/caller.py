"""Who is calling: the domain value that authentication yields and the commands decide on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    MACHINE = "machine"  # a machine user with a personal access token
    HUMAN = "human"  # a human user with an OIDC JWT
    CODE = "code"  # whoever holds a passkey registration code


@dataclass(frozen=True)
class Grant:
    role: str
    org_id: str | None  # None: instance-wide


@dataclass(frozen=True)
class Caller:
    kind: Kind
    user_id: str
    org_id: str
    grants: tuple[Grant, ...] = ()
    code_id: str | None = None  # set for Kind.CODE only
