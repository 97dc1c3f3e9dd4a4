"""The passkey list on the page shows what each passkey is (PasskeyDetailsService): its name,
provider with icon, creation and last use, and "synced" or "this device only"; a passkey is
renamed in its row. In Chromium with two virtual authenticators (a synced platform one and a
device-bound security key) against the real service behind Envoy; screenshotted for docs/."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect
from zitadel.user.v2 import user_service_pb2 as pb

from tests.support.attestation_certs import AttestationCA
from tests.support.browser import (
    ARTIFACTS,
    PLATFORM,
    SECURITY_KEY,
    VIRTUAL_AAGUID,
    EnrolmentPage,
    Site,
    add_authenticator,
)
from tests.support.metadata import Entry, write_metadata

# DevTools' virtual authenticators all have one AAGUID, in no community list: the operator's
# metadata file names it (as MDS names security keys the community list lacks).
PROVIDER = "DevTools virtual authenticator"
ICON = (
    "data:image/svg+xml;base64,"
    + base64.b64encode(
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20"><circle cx="7" cy="10" r="4.5" fill="none" '
        b'stroke="#2f5bea" stroke-width="2"/>'
        b'<path d="M11 10h8M16 10v3M19 10v3" stroke="#2f5bea" stroke-width="2"/></svg>'
    ).decode()
)
SYNCED = {**PLATFORM, "defaultBackupEligibility": True, "defaultBackupState": True}


@pytest.fixture
def site_settings(tmp_path: Path) -> dict[str, object]:
    entry = Entry(PROVIDER, [AttestationCA()], aaguid=uuid.UUID(VIRTUAL_AAGUID).bytes, icon=ICON)
    # "direct": under "none" Chromium zeroes a security key's AAGUID (the page would say "Unknown").
    metadata = write_metadata(tmp_path / "metadata.json", [entry])
    return {"attestation_metadata_path": str(metadata), "attestation": "direct"}


@pytest.mark.parametrize("transport", ["grpc-web", "rest"])
def test_the_list_shows_provider_last_use_and_sync_state_and_renames(
    page: EnrolmentPage, site: Site, transport: str
) -> None:
    platform = add_authenticator(page.open().page, SYNCED)
    security_key = add_authenticator(page.page, SECURITY_KEY)
    if transport != "grpc-web":
        page.use_transport(transport)
    user_id = page.create_user(email="ada@example.com")
    page.add_passkey("Laptop")
    page.add_passkey("Blue key", made_by="a security key or phone")
    assert len(platform.credentials()) == len(security_key.credentials()) == 1

    # Sign in with the laptop's passkey alone (the security key is unplugged).
    security_key.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": security_key.id})
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    page.page.get_by_label("User name").fill("ada@example.com")
    page.page.get_by_role("button", name="Sign in").click()
    page.wait_idle()
    expect(page.page.locator("#signed-in")).to_contain_text("Signed in as ada@example.com")
    page.page.reload()
    page.wait_idle()

    laptop, key = page.rows()
    assert (laptop.name, laptop.provider, laptop.provider_icon, laptop.sync) == ("Laptop", PROVIDER, ICON, "synced")
    assert laptop.last_used_at is not None and before <= laptop.last_used_at <= dt.datetime.now(dt.UTC)
    assert laptop.last_used == laptop.last_used_at.strftime("%-d %b %Y, %H:%M")
    assert laptop.created_at is not None and laptop.created_at <= laptop.last_used_at
    assert (key.name, key.provider, key.sync, key.last_used, key.last_used_at) == (
        "Blue key",
        PROVIDER,
        "this device only",
        "never",
        None,
    )
    # The icons load (a broken image has no natural width).
    widths = page.page.locator("td.provider img").evaluate_all(
        "(icons) => icons.map((i) => i.complete && i.naturalWidth)"
    )
    assert len(widths) == 2 and all(widths), widths
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=ARTIFACTS / f"page-details-{transport}.png", full_page=True)

    page.rename("Laptop", "Work laptop")
    expect(page.status).to_have_text('Passkey "Laptop" renamed to "Work laptop".')
    assert [r.name for r in page.rows()] == ["Work laptop", "Blue key"]
    listed = site.grpc.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result
    assert [p.name for p in listed] == ["Work laptop", "Blue key"]

    # A refused name is said next to the list, and nothing changes.
    page.rename("Blue key", "Blue\u202ekey")
    expect(page.error).to_contain_text("without invisible or control characters")
    listed = site.grpc.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result
    assert [p.name for p in listed] == ["Work laptop", "Blue key"]
