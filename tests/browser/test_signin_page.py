"""A person signs in with a passkey on the page in Chromium (DevTools' virtual authenticator),
against the real server behind the real Envoy: by user name, without one, and through the
browser's autofill; a removed passkey signs no one in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.support.browser import PLATFORM, EnrolmentPage, Site, add_authenticator

EMAIL = "ada@example.com"  # the user name, when AddHumanUser gives none


def _sessions(url: str) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT user_id, webauthn_verified_at, passkey_id FROM sessions"))
            return [dict(r) for r in rows.mappings()]
    finally:
        engine.dispose()


def _sign_in(page: EnrolmentPage, login_name: str) -> None:
    page.page.get_by_label("User name").fill(login_name)
    page.page.get_by_role("button", name="Sign in").click()
    page.wait_idle()


@pytest.mark.parametrize("transport", ["grpc-web", "rest"])
def test_enrol_then_sign_in_by_user_name_and_without_one(page: EnrolmentPage, site: Site, transport: str) -> None:
    authenticator = add_authenticator(page.open().page, PLATFORM)
    if transport != "grpc-web":
        page.use_transport(transport)
    user_id = page.create_user(email=EMAIL)
    page.add_passkey("Laptop")
    expect(page.status).to_have_text('Passkey "Laptop" added.')
    (credential,) = authenticator.credentials()

    _sign_in(page, EMAIL)
    signed_in = page.page.locator("#signed-in")
    # The login name shown is username@organization-domain (the default organization's here).
    expect(signed_in).to_contain_text(
        re.compile(rf"Signed in as {re.escape(EMAIL)}@\S+ \(Ada Lovelace\) with the passkey")
    )
    expect(signed_in).to_have_attribute("data-user-id", user_id)
    expect(page.error).to_be_hidden()

    _sign_in(page, "")  # discoverable: the browser offers its passkey for the site
    expect(signed_in).to_contain_text(f"Signed in as {EMAIL}")
    expect(page.error).to_be_hidden()
    # Filling the field started the autofill sign-in too (which the virtual authenticator may answer).
    verified = [r["user_id"] for r in _sessions(site.database_url) if r["webauthn_verified_at"]]
    assert len(verified) >= 2 and set(verified) == {user_id}
    assert authenticator.credentials()[0]["signCount"] > credential["signCount"]


def test_a_removed_passkey_signs_no_one_in(page: EnrolmentPage, site: Site) -> None:
    add_authenticator(page.open().page, PLATFORM)
    page.create_user(email=EMAIL)
    page.add_passkey("Laptop")
    page.remove("Laptop")
    for login_name in (EMAIL, ""):
        _sign_in(page, login_name)
        expect(page.error).to_contain_text("This passkey is not (or no longer) registered")
        expect(page.page.locator("#signed-in")).to_be_hidden()
    assert not [r for r in _sessions(site.database_url) if r["webauthn_verified_at"]]


def test_autofill_signs_in_from_the_user_name_field(page: EnrolmentPage, site: Site) -> None:
    add_authenticator(page.open().page, PLATFORM)
    user_id = page.create_user(email=EMAIL)
    page.add_passkey("Laptop")
    field = page.page.get_by_label("User name")
    expect(field).to_have_attribute("autocomplete", "username webauthn")
    assert _sessions(site.database_url) == []  # nothing before the field is used
    field.focus()
    # mediation "conditional": Chromium's virtual authenticator picks its one passkey, as a person
    # would from the field's autofill list; no button is pressed.
    expect(page.page.locator("body[data-autofill=signed-in]")).to_be_attached()
    expect(page.page.locator("#signed-in")).to_have_attribute("data-user-id", user_id)
    expect(page.error).to_be_hidden()
