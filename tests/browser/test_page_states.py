"""The page's states a new user meets, in Chromium against the real service behind Envoy, each
screenshotted (tests/artifacts/page-*.png; copied to docs/): where a token comes from, an error
next to the control that failed, Remove that asks first, the user by name and email, a spent
link said on load, a favicon and no failed request, 375 px with nothing on the card's edges, and
the localhost link on 127.0.0.1."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Response, expect
from zitadel.user.v2 import user_service_pb2 as pb

from tests.support.browser import ARTIFACTS, PLATFORM, WITHOUT_USER_VERIFICATION, EnrolmentPage, Site, add_authenticator


def shot(page: EnrolmentPage, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.page.screenshot(path=ARTIFACTS / f"page-{name}.png", full_page=True)


def error_follows(page: EnrolmentPage, element_id: str) -> bool:
    return page.page.evaluate(f"document.getElementById('{element_id}').nextElementSibling?.id === 'error'")


def test_the_token_hint_says_every_call_needs_one(page: EnrolmentPage) -> None:
    page.open().page.get_by_text("Settings").click()
    hint = page.page.locator("#token-hint")
    expect(hint).to_contain_text("Every call needs one")
    expect(hint).to_contain_text("data/admin.pat")
    assert page.page.get_by_label("Access token").get_attribute("aria-describedby") == "token-hint"
    shot(page, "settings")


def test_errors_appear_next_to_the_control_that_failed(page: EnrolmentPage, site: Site) -> None:
    add_authenticator(page.open().page, WITHOUT_USER_VERIFICATION)
    page.use_user("nobody")
    expect(page.error).to_have_text("There is no user with this ID.")
    assert error_follows(page, "user-form")
    page.create_user()
    expect(page.error).to_be_hidden()
    page.add_passkey("Key", made_by="a security key or phone")
    expect(page.error).to_contain_text("No passkey was created")
    assert error_follows(page, "add-form")
    shot(page, "error")


@pytest.mark.parametrize("transport", ["grpc-web", "rest"])
def test_remove_asks_first_and_the_user_shows_by_name_and_email(
    page: EnrolmentPage, site: Site, transport: str
) -> None:
    add_authenticator(page.open().page, PLATFORM)
    if transport != "grpc-web":
        page.use_transport(transport)
    user_id = page.create_user(given="Grace", family="Hopper", email="grace@example.com")
    expect(page.page.locator("#current-user")).to_have_text(f"Grace Hopper <grace@example.com> (ID {user_id})")
    page.add_passkey("Laptop")
    # A reload names the user again, from GetUserByID.
    page.page.reload()
    page.wait_idle()
    expect(page.page.locator("#current-user")).to_have_text(f"Grace Hopper <grace@example.com> (ID {user_id})")

    page.page.get_by_role("button", name="Remove Laptop").click()
    expect(page.page.get_by_role("button", name="Yes, remove Laptop")).to_be_visible()
    shot(page, f"remove-confirm-{transport}")
    listed = site.grpc.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result
    assert [p.name for p in listed] == ["Laptop"]  # nothing removed on the first click
    page.page.get_by_role("button", name="Keep Laptop").click()
    expect(page.page.get_by_role("button", name="Remove Laptop")).to_be_visible()

    page.remove("Laptop")
    expect(page.status).to_have_text('Passkey "Laptop" removed.')
    assert not site.grpc.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=user_id)).result


def test_a_link_greets_its_person_and_a_spent_one_says_so_on_load(context: BrowserContext, site: Site) -> None:
    user_id = site.grpc.add_user(email="ada@example.com")
    codes = [
        site.grpc.stub.CreatePasskeyRegistrationLink(
            pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, return_code={})
        ).code
        for _ in range(2)
    ]
    links = [f"passkey/register?userID={user_id}&codeID={c.id}&code={c.code}" for c in codes]
    page = EnrolmentPage(context, site.base_url)
    page.open(links[0])
    expect(page.page.get_by_role("heading", name="Add your passkey, Ada Lovelace <ada@example.com>")).to_be_visible()
    expect(page.page.get_by_role("button", name="Add a passkey")).to_be_visible()

    site.grpc.stub_for(None).RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, code=codes[1]))
    page.open(links[1])
    expect(page.error).to_have_text("This registration link has been used already. Please ask for a new one.")
    expect(page.page.get_by_role("button", name="Add a passkey")).to_be_hidden()
    shot(page, "link-used")


def test_a_load_asks_for_nothing_that_fails_and_has_a_favicon(page: EnrolmentPage, site: Site) -> None:
    failed: list[str] = []

    def check(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.page.on("response", check)
    page.open()
    page.page.wait_for_load_state("networkidle")
    assert failed == []
    icon = page.page.request.get(f"{site.base_url}/favicon.ico")
    assert (icon.status, icon.headers["content-type"]) == (200, "image/svg+xml")
    assert page.page.locator("link[rel=icon]").get_attribute("href") == "/favicon.svg"


def test_at_375_px_nothing_touches_the_cards_edges(page: EnrolmentPage, site: Site) -> None:
    user_id = site.grpc.add_user(email="someone.with.a.long.address@example.com")
    page.page.set_viewport_size({"width": 375, "height": 800})
    add_authenticator(page.open(f"?user={user_id}").page, PLATFORM)
    page.wait_idle()
    page.add_passkey("A passkey with a rather long name for a phone")
    expect(page.status).to_contain_text("added")
    page.page.get_by_text("…or create a new user").click()
    page.page.get_by_text("Settings").click()
    page.page.get_by_role("button", name="Remove A passkey with a rather long name for a phone").click()
    # Every visible element inside the card's padding (at least 8 px from its edges), none wider.
    outside = page.page.evaluate(
        """() => {
          const main = document.querySelector("main");
          const box = main.getBoundingClientRect();
          const pad = parseFloat(getComputedStyle(main).paddingLeft);
          const out = [];
          for (const el of main.querySelectorAll("*")) {
            const r = el.getBoundingClientRect();
            if (!r.width || !r.height || el.closest("[hidden]")) continue;
            if (r.left < box.left + Math.min(pad, 8) || r.right > box.right - Math.min(pad, 8)) {
              out.push(`${el.tagName}#${el.id} ${Math.round(r.left)}..${Math.round(r.right)}`);
            }
          }
          if (box.left < 4 || box.right > innerWidth - 4) out.push(`main ${box.left}..${box.right}`);
          if (document.documentElement.scrollWidth > innerWidth) out.push("page scrolls sideways");
          return out;
        }"""
    )
    assert outside == []
    shot(page, "375px")


def test_on_127_0_0_1_the_page_offers_localhost(context: BrowserContext, site: Site) -> None:
    loopback = site.base_url.replace("localhost", "127.0.0.1")
    page = EnrolmentPage(context, loopback)
    page.open("?user=1")
    expect(page.page.locator("#use-localhost")).to_be_visible()
    link = page.page.get_by_role("link", name="open this page on localhost")
    assert link.get_attribute("href") == f"{site.base_url}/?user=1"
    shot(page, "loopback")
    # On localhost itself, no such notice.
    expect(EnrolmentPage(context, site.base_url).open().page.locator("#use-localhost")).to_be_hidden()
