from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from passkeys.config import Settings
from tests.support.client_flow import stranger_token
from tests.support.databases import fresh_database
from tests.support.gateway import Gateway, serving


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    # What a client sees does not depend on the database: SQLite only, to keep these tests fast.
    with fresh_database("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
def gw(settings: Settings) -> Iterator[Gateway]:
    """Envoy in front of the gRPC server: every client goes through Envoy's port."""
    with serving(settings) as g:
        yield g


@pytest.fixture
def stranger(gw: Gateway, settings: Settings) -> str:
    """The token of a machine user of another organization, without any role."""
    return stranger_token(settings)
