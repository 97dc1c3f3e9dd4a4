"""The shortcuts of commands/validate.py give what the rules they stand for give: name takes
printable-ASCII names as they are, without precis_i18n (exactly what the NicknameCasePreserved
profile gives, or refused where it refuses), text finds control characters with one regex."""

from __future__ import annotations

import precis_i18n
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passkeys.commands import validate
from passkeys.errors import DomainError

_PROFILE = precis_i18n.get_profile("NicknameCasePreserved")
# ASCII (spaces and controls included) and a few characters the profile maps or refuses.
_CHARS = st.characters(min_codepoint=0, max_codepoint=0x7F) | st.sampled_from("\u00a0\u3000\uff21\u200b\u00e9")


def _expected(value: str) -> str | None:
    try:
        enforced = str(_PROFILE.enforce(value))
    except UnicodeError:
        return None
    return enforced if value.strip() and all(ord(c) >= 0x20 and ord(c) != 0x7F for c in value) else None


def _got(value: str) -> str | None:
    try:
        return validate.name("passkey_name", value)
    except DomainError:
        return None


@settings(max_examples=3000, deadline=None)
@given(st.text(_CHARS, min_size=1, max_size=40))
def test_a_name_is_its_nickname_form(value: str) -> None:
    assert _got(value) == _expected(value)


@pytest.mark.parametrize("value", [" a", "a ", "a  b", "a\tb", "\x7f", "A\u00a0B", "\uff21"])
def test_names_the_shortcut_leaves_to_the_profile(value: str) -> None:
    assert _got(value) == _expected(value)


@settings(max_examples=2000, deadline=None)
@given(st.text(st.characters(min_codepoint=0, max_codepoint=0xA0), min_size=1, max_size=20))
def test_text_refuses_exactly_c0_controls_and_del(value: str) -> None:
    control = any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    try:
        validate.text("f", value)
        refused = False
    except DomainError:
        refused = True
    assert refused == (control or not value.strip())
