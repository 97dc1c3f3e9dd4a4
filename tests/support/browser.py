"""Debian's Chromium driven by Playwright, with the DevTools WebAuthn domain's virtual
authenticators, and the enrolment page as a person sees it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, CDPSession, Page, expect

from tests.support.servers import Client

CHROMIUM = Path("/usr/bin/chromium")
# Screenshots of a test run (git-ignored).
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
# Headless, and nothing that reaches out to the network (this machine's is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# What DevTools' virtual authenticators put in authenticatorData.
VIRTUAL_AAGUID = "01020304-0506-0708-0102-030405060708"

PLATFORM = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
}
SECURITY_KEY = {**PLATFORM, "transport": "usb"}
# A key that can only be touched: no PIN, no biometrics.
WITHOUT_USER_VERIFICATION = {**SECURITY_KEY, "hasUserVerification": False, "isUserVerified": False}


@dataclass
class Authenticator:
    cdp: CDPSession
    id: str

    def credentials(self) -> list[dict[str, Any]]:
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]


def add_authenticator(page: Page, options: dict[str, Any]) -> Authenticator:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {"options": {**options, "automaticPresenceSimulation": True}},
    )
    return Authenticator(cdp, added["authenticatorId"])


@dataclass
class Site:
    """The page's origin, and the gRPC client of the server behind it."""

    base_url: str
    grpc: Client

    @property
    def database_url(self) -> str:
        return self.grpc.url


@dataclass
class Row:
    name: str
    state: str
    created: str
    created_at: dt.datetime | None
    provider: str = ""
    provider_icon: str | None = None  # the icon's src
    last_used: str = ""
    last_used_at: dt.datetime | None = None
    sync: str = ""


def _stamp(cell: Any) -> dt.datetime | None:
    time = cell.locator("time")
    stamp = time.get_attribute("datetime") if time.count() else None
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


class EnrolmentPage:
    """The page's controls by their labels and roles, as a person finds them."""

    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.page = context.new_page()
        self.base_url = base_url

    def open(self, query: str = "") -> EnrolmentPage:
        self.page.goto(f"{self.base_url}/{query}")
        expect(self.page.locator("body[data-ready=true]")).to_be_attached()
        return self

    def create_user(self, given: str = "Ada", family: str = "Lovelace", email: str = "ada@example.com") -> str:
        self.page.get_by_text("…or create a new user").click()
        self.page.get_by_label("Given name").fill(given)
        self.page.get_by_label("Family name").fill(family)
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_role("button", name="Create user").click()
        expect(self.status).to_contain_text("User created with ID")
        return self.page.get_by_label("User ID").input_value()

    def use_user(self, user_id: str) -> None:
        self.page.get_by_label("User ID").fill(user_id)
        self.page.get_by_role("button", name="Use this user").click()

    def use_transport(self, transport: str) -> None:
        self.save_settings(transport=transport)

    def save_settings(self, *, transport: str | None = None, token: str | None = None) -> None:
        self.page.get_by_text("Settings").click()
        if transport is not None:
            self.page.get_by_label("Calls go over").select_option(transport)
        if token is not None:
            self.page.get_by_label("Access token").fill(token)
        self.page.get_by_role("button", name="Save").click()
        expect(self.status).to_contain_text("Settings saved")

    def add_passkey(self, name: str, made_by: str = "this device") -> None:
        self.page.get_by_label("Name", exact=True).fill(name)
        self.page.get_by_label("Made by").select_option(label=made_by)
        self.page.get_by_role("button", name="Add a passkey").click()
        self.wait_idle()

    def rename(self, name: str, new_name: str) -> None:
        self.page.get_by_role("button", name=f"Rename {name}", exact=True).click()
        self.page.get_by_label(f"New name for {name}").fill(new_name)
        self.page.get_by_role("button", name=f"Save the name of {name}").click()
        self.wait_idle()

    def remove(self, name: str) -> None:
        """Remove, then confirm in the row (the page asks first)."""
        self.page.get_by_role("button", name=f"Remove {name}").click()
        self.page.get_by_role("button", name=f"Yes, remove {name}").click()
        self.wait_idle()

    def wait_idle(self) -> None:
        expect(self.page.locator("body[aria-busy]")).to_have_count(0, timeout=30_000)

    @property
    def status(self) -> Any:
        return self.page.get_by_role("status")

    @property
    def error(self) -> Any:
        return self.page.get_by_role("alert")

    def rows(self) -> list[Row]:
        table = self.page.get_by_role("table")
        if not table.is_visible():
            return []
        out = []
        for row in table.locator("tbody tr").all():
            # Name, Provider, State, Created, Last used, Sync, actions.
            tds = row.locator("td")
            cells = tds.all_inner_texts()
            icon = tds.nth(1).locator("img")
            out.append(
                Row(
                    name=cells[0],
                    state=cells[2],
                    created=cells[3],
                    created_at=_stamp(tds.nth(3)),
                    provider=cells[1].strip(),
                    provider_icon=icon.get_attribute("src") if icon.count() else None,
                    last_used=cells[4],
                    last_used_at=_stamp(tds.nth(4)),
                    sync=cells[5],
                )
            )
        return out
