from __future__ import annotations

from collections.abc import Iterator

import pytest

from passkeys.config import Settings
from tests.support.gateway import Gateway, serving


@pytest.fixture
def gw(settings: Settings) -> Iterator[Gateway]:
    """Envoy in front of the gRPC server (SQLite and PostgreSQL), with its REST and grpc-web clients."""
    with serving(settings) as g:
        yield g
