"""The v2beta servicer re-reads each v2beta message as its v2 twin (api/servicer_v2beta.py): that is
only sound while the two are wire-identical, field by field and all the way down."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from zitadel.user.v2 import user_service_pb2 as v2
from zitadel.user.v2beta import user_service_pb2 as v2beta

METHODS = [m.name for m in v2beta.DESCRIPTOR.services_by_name["UserService"].methods]


def _shape(field: FieldDescriptor) -> tuple:
    enum = tuple((v.number, v.name) for v in field.enum_type.values) if field.enum_type else ()
    oneof = field.containing_oneof.name if field.containing_oneof else None
    repeated = field.is_repeated if hasattr(field, "is_repeated") else field.label == field.LABEL_REPEATED
    return (field.name, field.type, repeated, field.has_presence, oneof, enum)


def assert_same_wire(a: Descriptor, b: Descriptor, path: str) -> None:
    assert a.name == b.name, path
    fields_a = {f.number: f for f in a.fields}
    fields_b = {f.number: f for f in b.fields}
    assert set(fields_a) == set(fields_b), path
    for number, fa in fields_a.items():
        fb = fields_b[number]
        assert _shape(fa) == _shape(fb), f"{path}.{fa.name}"
        if fa.message_type is not None:
            if fa.message_type.full_name.startswith("google."):
                assert fa.message_type.full_name == fb.message_type.full_name, f"{path}.{fa.name}"
            else:
                assert_same_wire(fa.message_type, fb.message_type, f"{path}.{fa.name}")


def test_v2beta_serves_upstreams_four_passkey_rpcs() -> None:
    assert sorted(METHODS) == [
        "AddHumanUser", "CreatePasskeyRegistrationLink", "RegisterPasskey", "VerifyPasskeyRegistration"
    ]  # fmt: skip


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", ["Request", "Response"])
def test_each_v2beta_message_is_wire_identical_to_v2s(method: str, kind: str) -> None:
    name = f"{method}{kind}"
    assert_same_wire(getattr(v2beta, name).DESCRIPTOR, getattr(v2, name).DESCRIPTOR, name)
