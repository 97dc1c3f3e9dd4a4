"""The real gRPC server and the real Envoy serving the page, and Debian's Chromium."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from passkeys import gateway
from passkeys.config import Settings
from passkeys.envoy_config import Address
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, EnrolmentPage, Site
from tests.support.databases import fresh_database
from tests.support.servers import running


def _free_port() -> int:
    # The origin (and so the server's settings) must name Envoy's port before Envoy starts.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site_settings() -> dict[str, object]:
    """Settings beyond the database, RP ID and origin; a test may override it."""
    return {}


@pytest.fixture
def site_backend() -> str:
    """The database behind the page: SQLite, unless a test parametrizes it."""
    return "sqlite"


@pytest.fixture
def site(tmp_path: Path, site_settings: dict[str, object], site_backend: str) -> Iterator[Site]:
    with fresh_database(site_backend, tmp_path) as url:
        for attempt in range(3):
            port = _free_port()
            # localhost, not 127.0.0.1: a secure context, and a valid RP ID.
            origin = f"http://localhost:{port}"
            settings = Settings(database_url=url, rp_id="localhost", origins=(origin,), **site_settings)
            with ExitStack() as stack:
                client = stack.enter_context(running(settings))
                try:
                    stack.enter_context(
                        gateway.envoy(
                            listen=Address("127.0.0.1", port),
                            upstream=Address("127.0.0.1", client.port),
                            origins=settings.origins,
                        )
                    )
                except gateway.GatewayError:
                    if attempt == 2:
                        raise
                    continue  # someone took the port in between: try another
                yield Site(origin, client)
                return


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, site: Site) -> EnrolmentPage:
    # Where the service asks for bearer tokens (a Client with an admin token), the page gets one
    # where a person puts it: the Settings token, kept in the tab's sessionStorage.
    token = getattr(site.grpc, "admin_token", "")
    if token:
        key = "'passkeys.token'"
        context.add_init_script(f"sessionStorage.getItem({key}) ?? sessionStorage.setItem({key}, {json.dumps(token)})")
    return EnrolmentPage(context, site.base_url)
