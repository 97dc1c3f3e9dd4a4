"""A person enrols passkeys on the page in Chromium, with DevTools' virtual authenticators,
against the real gRPC server behind the real Envoy (grpc-web by default, or REST)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import ARTIFACTS, Site
from tests.support.browser import PLATFORM, VIRTUAL_AAGUID, EnrolmentPage, add_authenticator


def passkey_rows(url: str) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(text("SELECT * FROM passkeys ORDER BY created_at")).mappings()]
    finally:
        engine.dispose()


@pytest.mark.parametrize("transport", ["grpc-web", "rest"])
def test_a_platform_passkey_enrols_survives_a_reload_and_can_be_removed(
    page: EnrolmentPage, site: Site, transport: str
) -> None:
    authenticator = add_authenticator(page.open().page, PLATFORM)
    if transport != "grpc-web":
        page.use_transport(transport)
    user_id = page.create_user()
    expect(page.page.get_by_text("No passkeys yet.")).to_be_visible()
    before = dt.datetime.now(dt.UTC)

    page.add_passkey("Laptop", made_by="this device")

    expect(page.status).to_have_text('Passkey "Laptop" added.')
    expect(page.error).to_be_hidden()
    (row,) = page.rows()
    assert (row.name, row.state) == ("Laptop", "Ready")
    assert row.created_at is not None
    assert before - dt.timedelta(seconds=2) <= row.created_at <= dt.datetime.now(dt.UTC)
    assert row.created == row.created_at.strftime("%-d %b %Y, %H:%M")
    (stored,) = passkey_rows(site.database_url)
    assert (stored["user_id"], stored["state"], stored["name"], stored["aaguid"]) == (user_id, 2, "Laptop", VIRTUAL_AAGUID)
    (credential,) = authenticator.credentials()
    assert credential["isResidentCredential"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=ARTIFACTS / f"enrolment-{transport}.png", full_page=True)

    page.page.reload()
    expect(page.page.locator("body[data-ready=true]")).to_be_attached()
    page.wait_idle()
    expect(page.page.get_by_role("cell", name="Laptop", exact=True)).to_be_visible()
    assert [(r.name, r.state) for r in page.rows()] == [("Laptop", "Ready")]

    page.remove("Laptop")

    expect(page.status).to_have_text('Passkey "Laptop" removed.')
    expect(page.page.get_by_text("No passkeys yet.")).to_be_visible()
    assert page.rows() == []
    assert passkey_rows(site.database_url) == []
