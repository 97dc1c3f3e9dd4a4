"""Error reasons are a public contract: declared once (passkeys.errors.Reason), raised by name,
and each one worded on the enrolment page (web/src/messages.js), which words no other."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import passkeys
from passkeys.errors import DomainError, Reason

SRC = Path(passkeys.__file__).parent
MESSAGES = Path(__file__).parents[2] / "web" / "src" / "messages.js"
# CredentialRejected takes the failed check's name: its reason is fixed.
_ERRORS = {cls.__name__ for cls in (DomainError, *DomainError.__subclasses__())} | {"ServerOverloaded"}


def _page_reasons() -> set[str]:
    text = MESSAGES.read_text()
    block = text[text.index("const REASONS = {") : text.index("};", text.index("const REASONS = {"))]
    return set(re.findall(r"^\s+([A-Z][A-Z_]+):", block, re.MULTILINE))


def _reasons_used() -> set[str]:
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Reason":
                used.add(node.attr)
            elif (
                isinstance(node, ast.Attribute) and node.attr in Reason.all() and isinstance(node.value, ast.Attribute)
            ):
                used.add(node.attr)  # errors.Reason.X
    return used


def test_every_reason_the_server_can_raise_has_words_on_the_page_and_no_other() -> None:
    assert _page_reasons() == Reason.all()


def test_every_declared_reason_is_raised_somewhere_and_every_raised_one_declared() -> None:
    assert _reasons_used() - {"all"} == Reason.all()


def test_no_raise_site_spells_a_reason_as_a_string() -> None:
    literal: list[str] = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in _ERRORS
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                literal.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert literal == []


def test_the_page_parser_finds_reasons() -> None:
    assert {"CREDENTIAL_EXISTS", "INVALID_FIELD"} <= _page_reasons()
