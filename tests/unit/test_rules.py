"""The RP ID choice and the registration link template, as plain functions: no server."""

from __future__ import annotations

import pytest

from passkeys.commands.links import check_template, render
from passkeys.errors import InvalidArgument, Reason
from passkeys.registration.options import choose_rp_id

CONFIGURED = "login.example.com"


@pytest.mark.parametrize("requested", ["", "  ", CONFIGURED, " Login.Example.COM "])
def test_no_or_the_same_domain_is_the_configured_rp_id(requested: str) -> None:
    assert choose_rp_id(CONFIGURED, requested) == CONFIGURED


def test_a_registrable_parent_may_be_chosen() -> None:
    assert choose_rp_id(CONFIGURED, "Example.com") == "example.com"
    assert choose_rp_id("a.b.example.co.uk", "example.co.uk") == "example.co.uk"


@pytest.mark.parametrize(
    ("configured", "requested"),
    [
        (CONFIGURED, "com"),  # a public suffix
        ("a.example.co.uk", "co.uk"),  # a public suffix of two labels
        ("me.github.io", "github.io"),  # a private public suffix
        (CONFIGURED, "other.com"),  # not a parent
        (CONFIGURED, "ample.com"),  # a suffix of the text, not of the labels
        (CONFIGURED, "sub.login.example.com"),  # a child, not a parent
    ],
)
def test_anything_else_is_refused(configured: str, requested: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        choose_rp_id(configured, requested)
    assert refused.value.reason == Reason.DOMAIN_NOT_ALLOWED
    assert refused.value.metadata == {"field": "domain"}


def test_render_fills_every_placeholder_url_quoted() -> None:
    link = render(
        "https://id.example.com/register/{{.UserID}}?org={{ .OrgID }}&code_id={{.CodeID}}&code={{.Code}}",
        user_id="u 1",
        org_id="o/2",
        code_id="c&3",
        code="k=4?#",
    )
    assert link == "https://id.example.com/register/u%201?org=o%2F2&code_id=c%263&code=k%3D4%3F%23"


def test_render_leaves_text_without_placeholders_alone() -> None:
    assert render("https://x.example/{static}", user_id="u", org_id="o", code_id="c", code="k") == (
        "https://x.example/{static}"
    )


def test_check_template_accepts_known_placeholders_in_an_http_url() -> None:
    template = "http://x.example/{{.UserID}}/{{.Code}}"
    assert check_template(template) == template


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("https://x.example/{{.Password}}", "unknown placeholders ['.Password']"),
        ("javascript:alert({{.Code}})", "must be an http(s) URL"),
        ("{{.Code}}", "must be an http(s) URL"),
    ],
)
def test_check_template_refuses(template: str, says: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_template(template)
    assert refused.value.metadata == {"field": "send_link.url_template"}
    assert says in refused.value.message
