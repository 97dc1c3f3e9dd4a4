"""What every repository shares: the unit of work it runs in, and its one Core connection."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from passkeys.store.unit_of_work import UnitOfWork


class Repository:
    __slots__ = ("uow",)

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
