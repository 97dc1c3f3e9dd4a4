from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from passkeys.config import Settings
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


def _cli(settings: Settings, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "passkeys", *args],
        env={**os.environ, "PASSKEYS_DATABASE_URL": settings.database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def stranger(gw: Gateway, settings: Settings) -> str:
    """The token of a machine user of another organization, without any role."""
    org = _cli(settings, "create-org", "--name", "elsewhere", "--domain", "elsewhere.example")
    user = _cli(settings, "create-machine-user", "--org-id", org, "--name", "stranger")
    return _cli(settings, "create-token", "--user-id", user, "--expires-in-days", "1")
