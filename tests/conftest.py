from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from passkeys.config import Settings
from tests.support import counts
from tests.support.databases import fresh_database
from tests.support.servers import Client, running

ORIGIN = "https://login.example.com"
RP_ID = "login.example.com"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, rp_id=RP_ID, origins=(ORIGIN,))


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    with running(settings) as c:
        yield c


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # Fuzz examples and races run (tests/support/counts.py), when this session ran any.
    if counts.COUNTS:
        counts.write()
        terminalreporter.write_sep("-", "robustness counts")
        for line in counts.lines():
            terminalreporter.write_line(line)
