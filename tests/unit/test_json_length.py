"""convert.json_length counts what json.dumps would write, without writing it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from passkeys.api.convert import json_length, struct_to_credential
from tests.support.registration import as_struct

# What a Struct can hold once converted: strings, integral or other numbers, booleans, null,
# lists and objects with string keys.
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(values)
def test_json_length_is_the_length_of_the_compact_dump(value: object) -> None:
    assert json_length(value) == len(json.dumps(value, separators=(",", ":")))


def test_edge_strings() -> None:
    for text in ["", "a", '"', "\\", "\x7f", "\x00", "é", "😀", "line\nbreak", "tab\t", "</script>"]:
        assert json_length(text) == len(json.dumps(text)), text
    assert json_length({}) == 2 and json_length([]) == 2 and json_length({"a": []}) == len('{"a":[]}')


def test_struct_to_credential_counts_the_credential_json() -> None:
    credential = {"id": "abc", "response": {"clientDataJSON": "x" * 1000, "transports": ["usb"]}, "n": 3}
    value, length = struct_to_credential(as_struct(credential))
    assert value == credential
    assert length == len(json.dumps(credential, separators=(",", ":")))
