"""The transport's mappings, protobuf <-> domain: unknown enum numbers are refused there."""

from __future__ import annotations

import pytest
from zitadel.user.v2 import auth_pb2, passkey_pb2
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.api import convert
from passkeys.errors import InvalidArgument, Reason
from passkeys.store.passkeys import NOT_READY, READY


@pytest.mark.parametrize(
    ("number", "attachment"),
    [
        (passkey_pb2.PASSKEY_AUTHENTICATOR_UNSPECIFIED, None),
        (passkey_pb2.PASSKEY_AUTHENTICATOR_PLATFORM, "platform"),
        (passkey_pb2.PASSKEY_AUTHENTICATOR_CROSS_PLATFORM, "cross-platform"),
    ],
)
def test_each_named_authenticator_maps_to_its_attachment(number: int, attachment: str | None) -> None:
    assert convert.authenticator_to_domain(number) == attachment


@pytest.mark.parametrize("number", [3, 99, -1])
def test_an_authenticator_number_the_proto_does_not_name_is_refused(number: int) -> None:
    with pytest.raises(InvalidArgument) as refused:
        convert.authenticator_to_domain(number)
    assert refused.value.reason == Reason.INVALID_FIELD
    assert refused.value.metadata == {"field": "authenticator"}


def test_link_medium_three_ways() -> None:
    assert convert.link_medium_to_domain(pb.CreatePasskeyRegistrationLinkRequest(return_code={})) is None
    assert convert.link_medium_to_domain(pb.CreatePasskeyRegistrationLinkRequest()) == ""
    assert convert.link_medium_to_domain(pb.CreatePasskeyRegistrationLinkRequest(send_link={})) == ""
    with_template = pb.CreatePasskeyRegistrationLinkRequest(send_link={"url_template": "https://x/{{.Code}}"})
    assert convert.link_medium_to_domain(with_template) == "https://x/{{.Code}}"
    # Set means set (issue 13, upstream's bounds): an empty template is refused, not the default.
    empty_template = pb.CreatePasskeyRegistrationLinkRequest(send_link={"url_template": ""})
    with pytest.raises(InvalidArgument) as refused:
        convert.link_medium_to_domain(empty_template)
    assert refused.value.metadata == {"field": "send_link.url_template"}


def test_states_map_to_auth_factor_states() -> None:
    assert convert.passkey_state_to_pb(NOT_READY) == auth_pb2.AUTH_FACTOR_STATE_NOT_READY
    assert convert.passkey_state_to_pb(READY) == auth_pb2.AUTH_FACTOR_STATE_READY
