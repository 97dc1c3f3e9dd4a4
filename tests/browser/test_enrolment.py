"""A person enrols passkeys on the page in Chromium, with DevTools' virtual authenticators,
against the real gRPC server behind the real Envoy (grpc-web by default, or REST)."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from playwright.sync_api import BrowserContext, Route, expect
from sqlalchemy import create_engine, text
from zitadel.user.v2 import user_service_pb2 as pb

from tests.support.browser import (
    ARTIFACTS,
    PLATFORM,
    SECURITY_KEY,
    VIRTUAL_AAGUID,
    WITHOUT_USER_VERIFICATION,
    EnrolmentPage,
    Site,
    add_authenticator,
)
from tests.support.databases import snapshot

# The REST calls a test may intercept, to play a client that does not follow the options.
REGISTER = "**/v2/users/*/passkeys"
VERIFY = "**/v2/users/*/passkeys/*"


# What a refused enrolment leaves in the event log: the page's RegisterPasskey, and its removal
# of that unfinished passkey; the refused VerifyPasskeyRegistration itself writes nothing.
STARTED_AND_WITHDRAWN = ["user.human.passkey.added", "user.human.passkey.removed"]


def event_types(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT type FROM events ORDER BY user_id, sequence")).scalars())
    finally:
        engine.dispose()


def is_post(route: Route) -> bool:
    return route.request.method == "POST"


def passkey_rows(url: str) -> list[dict]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(text("SELECT * FROM passkeys ORDER BY created_at")).mappings()]
    finally:
        engine.dispose()


@pytest.mark.parametrize("site_backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("transport", ["grpc-web", "rest"])
def test_a_platform_passkey_enrols_survives_a_reload_and_can_be_removed(
    page: EnrolmentPage, site: Site, transport: str, site_backend: str
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
    expected = (user_id, 2, "Laptop", VIRTUAL_AAGUID)
    assert (stored["user_id"], stored["state"], stored["name"], stored["aaguid"]) == expected
    (credential,) = authenticator.credentials()
    assert credential["isResidentCredential"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=ARTIFACTS / f"enrolment-{transport}-{site_backend}.png", full_page=True)

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


@pytest.mark.parametrize("site_settings", [{"attestation": "direct"}])
def test_a_security_key_with_packed_attestation_enrols(page: EnrolmentPage, site: Site) -> None:
    add_authenticator(page.open().page, SECURITY_KEY)
    user_id = page.create_user()

    page.add_passkey("Blue key", made_by="a security key or phone")

    expect(page.status).to_have_text('Passkey "Blue key" added.')
    assert [(r.name, r.state) for r in page.rows()] == [("Blue key", "Ready")]
    (stored,) = passkey_rows(site.database_url)
    assert (stored["user_id"], stored["state"], stored["attestation_format"], stored["aaguid"]) == (
        user_id,
        2,
        "packed",
        VIRTUAL_AAGUID,
    )
    assert "usb" in stored["transports"]


def test_an_authenticator_without_user_verification_is_refused_by_the_browser(page: EnrolmentPage, site: Site) -> None:
    """The service asks for userVerification "required": Chromium itself refuses such a key."""
    authenticator = add_authenticator(page.open().page, WITHOUT_USER_VERIFICATION)
    page.create_user()
    before = snapshot(site.database_url)
    events = event_types(site.database_url)

    page.add_passkey("Old key", made_by="a security key or phone")

    expect(page.error).to_have_text(
        "No passkey was created: the request was cancelled or timed out, or your authenticator cannot verify you "
        "(with a PIN, fingerprint or face), which this service requires."
    )
    expect(page.page.get_by_text("No passkeys yet.")).to_be_visible()
    assert authenticator.credentials() == []
    assert snapshot(site.database_url)["passkeys"] == before["passkeys"] == []
    assert event_types(site.database_url) == events + STARTED_AND_WITHDRAWN


def test_a_credential_without_user_verification_is_refused_by_the_service(page: EnrolmentPage, site: Site) -> None:
    """A client that lets a key without user verification through (here: the options the browser
    gets say "discouraged") meets the service's own check, and nothing is stored."""

    def relax_user_verification(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        # Chromium makes a resident key only with user verification: relax both.
        body["publicKeyCredentialCreationOptions"]["publicKey"]["authenticatorSelection"] = {
            "userVerification": "discouraged",
            "residentKey": "discouraged",
            "requireResidentKey": False,
        }
        route.fulfill(response=response, json=body)

    authenticator = add_authenticator(page.open().page, WITHOUT_USER_VERIFICATION)
    page.use_transport("rest")
    page.create_user()
    page.page.route(REGISTER, lambda route: relax_user_verification(route) if is_post(route) else route.continue_())
    before = snapshot(site.database_url)
    events = event_types(site.database_url)

    page.add_passkey("Old key", made_by="a security key or phone")

    expect(page.error).to_have_text(
        "Your authenticator did not verify you (no PIN, fingerprint or face check), so the passkey was not saved. "
        "Use an authenticator that can verify you, or set up a PIN on it."
    )
    assert len(authenticator.credentials()) == 1  # the browser made one; the service refused it
    expect(page.page.get_by_text("No passkeys yet.")).to_be_visible()
    assert snapshot(site.database_url)["passkeys"] == before["passkeys"] == []
    assert event_types(site.database_url) == events + STARTED_AND_WITHDRAWN


def test_the_same_authenticator_twice_is_refused_by_the_browser(page: EnrolmentPage, site: Site) -> None:
    """The second registration's excludeCredentials names the first credential."""
    add_authenticator(page.open().page, PLATFORM)
    page.create_user()
    page.add_passkey("Laptop")
    expect(page.status).to_have_text('Passkey "Laptop" added.')
    before = snapshot(site.database_url)
    events = event_types(site.database_url)

    page.add_passkey("Laptop again")

    expect(page.error).to_have_text(
        "This authenticator already holds a passkey for this account. "
        "Use another authenticator, or remove the old passkey first."
    )
    assert [(r.name, r.state) for r in page.rows()] == [("Laptop", "Ready")]
    assert snapshot(site.database_url)["passkeys"] == before["passkeys"]
    assert event_types(site.database_url) == events + STARTED_AND_WITHDRAWN


def test_the_same_credential_twice_is_refused_by_the_service(page: EnrolmentPage, site: Site) -> None:
    """A client that ignores excludeCredentials and sends the first credential again, answering
    the new challenge (possible with `none` attestation), gets ALREADY_EXISTS in words."""
    sent: list[dict] = []

    def drop_exclusions(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        body["publicKeyCredentialCreationOptions"]["publicKey"]["excludeCredentials"] = []
        route.fulfill(response=response, json=body)

    def replay_first_credential(route: Route) -> None:
        body = route.request.post_data_json
        if "publicKeyCredential" not in body:  # ListPasskeys' /_search
            route.continue_()
            return
        if sent:  # the new clientDataJSON (new challenge), the first credential's id and key
            first = sent[0]["publicKeyCredential"]
            credential = body["publicKeyCredential"]
            credential["id"] = credential["rawId"] = first["id"]
            for field in ("attestationObject", "authenticatorData", "publicKey", "publicKeyAlgorithm"):
                credential["response"][field] = first["response"][field]
        sent.append(body)
        route.continue_(post_data=json.dumps(body))

    add_authenticator(page.open().page, PLATFORM)
    page.use_transport("rest")
    page.create_user()
    page.page.route(REGISTER, lambda route: drop_exclusions(route) if is_post(route) else route.continue_())
    page.page.route(VERIFY, lambda route: replay_first_credential(route) if is_post(route) else route.continue_())
    page.add_passkey("Laptop")
    expect(page.status).to_have_text('Passkey "Laptop" added.')
    before = snapshot(site.database_url)
    events = event_types(site.database_url)

    page.add_passkey("Laptop again")

    expect(page.error).to_have_text("This passkey is already registered. Each authenticator can be added only once.")
    assert len(sent) == 2
    assert [(r.name, r.state) for r in page.rows()] == [("Laptop", "Ready")]
    assert snapshot(site.database_url)["passkeys"] == before["passkeys"]
    assert event_types(site.database_url) == events + STARTED_AND_WITHDRAWN


@pytest.mark.parametrize("transport", ["grpc-web", "rest"])
def test_an_unknown_user_is_named_as_such(page: EnrolmentPage, site: Site, transport: str) -> None:
    page.open(f"?transport={transport}")

    page.use_user("no-such-user")
    page.wait_idle()

    expect(page.error).to_have_text("There is no user with this ID.")
    expect(page.page.get_by_role("heading", name="2. Passkeys of")).to_be_hidden()


@pytest.mark.parametrize("transport", ["grpc-web", "rest"])
def test_the_access_token_from_settings_goes_with_every_call(page: EnrolmentPage, site: Site, transport: str) -> None:
    page.open()
    page.save_settings(transport=transport, token="pat-123")

    with page.page.expect_request(lambda r: "/v2/" in r.url or "/zitadel.user.v2." in r.url) as call:
        page.use_user("no-such-user")
    page.wait_idle()

    assert call.value.header_value("authorization") == "Bearer pat-123"
    # Kept for this tab: a reload still sends it.
    page.page.reload()
    expect(page.page.get_by_label("Access token")).to_have_value("pat-123")


@pytest.mark.parametrize("site_settings", [{"challenge_ttl_s": 1}])
def test_an_enrolment_that_takes_too_long_is_refused_in_words(page: EnrolmentPage, site: Site) -> None:
    def hold_back(route: Route) -> None:
        if is_post(route) and "publicKeyCredential" in (route.request.post_data_json or {}):
            time.sleep(1.5)  # a person slower than the challenge's one-second life
        route.continue_()

    add_authenticator(page.open().page, PLATFORM)
    page.use_transport("rest")
    page.create_user()
    page.page.route(VERIFY, hold_back)
    events = event_types(site.database_url)

    page.add_passkey("Laptop")

    expect(page.error).to_have_text("That took too long and the request expired. Please try again.")
    expect(page.page.get_by_text("No passkeys yet.")).to_be_visible()
    assert passkey_rows(site.database_url) == []
    assert event_types(site.database_url) == events + STARTED_AND_WITHDRAWN


def test_a_registration_link_enrols_one_passkey_with_its_code_alone(context: BrowserContext, site: Site) -> None:
    """No token in this browser: the link's code is all the person has, and it works once."""
    user_id = site.grpc.add_user()
    code = site.grpc.stub.CreatePasskeyRegistrationLink(
        pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, return_code={})
    ).code
    link = f"passkey/register?userID={user_id}&orgID=x&codeID={code.id}&code={code.code}"
    page = EnrolmentPage(context, site.base_url)
    add_authenticator(page.open(link).page, PLATFORM)
    expect(page.page.get_by_role("heading", name="Add your passkey")).to_be_visible()
    expect(page.page.get_by_label("User ID")).to_be_hidden()

    page.add_passkey("Phone")

    expect(page.status).to_have_text('Passkey "Phone" added. You can close this page.')
    expect(page.page.get_by_role("button", name="Add a passkey")).to_be_hidden()
    (stored,) = passkey_rows(site.database_url)
    assert (stored["user_id"], stored["state"], stored["name"]) == (user_id, 2, "Phone")

    # Opened again: the page says at once that the link is spent, and offers no form.
    page.open(link)

    expect(page.error).to_have_text("This registration link has been used already. Please ask for a new one.")
    expect(page.page.get_by_role("button", name="Add a passkey")).to_be_hidden()
    assert len(passkey_rows(site.database_url)) == 1
