"""Our zitadel.* protos use upstream's names, numbers, types and REST paths, message by message
(upstream: tests/upstream/zitadel.binpb, from npm @zitadel/proto)."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from tests.support import upstream

OURS = Path(__file__).resolve().parents[2] / "src" / "passkeys" / "descriptor.pb"
# Ours, beside upstream's fields (none: what we add lives in passkeys.v1).
EXTRA_FIELDS: set[tuple[str, str]] = set()


def _index(files: tuple[descriptor_pb2.FileDescriptorProto, ...] | list[descriptor_pb2.FileDescriptorProto]) -> dict:
    out: dict[str, object] = {}

    def walk(prefix: str, messages, enums) -> None:
        for enum in enums:
            out[f"{prefix}.{enum.name}"] = enum
        for message in messages:
            name = f"{prefix}.{message.name}"
            if not message.options.map_entry:
                out[name] = message
            walk(name, message.nested_type, message.enum_type)

    for file in files:
        walk(file.package, file.message_type, file.enum_type)
        for service in file.service:
            out[f"{file.package}.{service.name}"] = service
    return out


OUR_FILES = [
    f for f in descriptor_pb2.FileDescriptorSet.FromString(OURS.read_bytes()).file if f.package.startswith("zitadel.")
]
OURS_BY_NAME = _index(OUR_FILES)
UPSTREAM_BY_NAME = _index(upstream.files())


def _field_shape(message: descriptor_pb2.DescriptorProto, field: descriptor_pb2.FieldDescriptorProto) -> tuple:
    oneof = ""
    if field.HasField("oneof_index") and not field.proto3_optional:
        oneof = message.oneof_decl[field.oneof_index].name
    return (field.number, field.type, field.type_name, field.label, field.proto3_optional, oneof, field.json_name)


def _http(method: descriptor_pb2.MethodDescriptorProto) -> http_pb2.HttpRule:
    options = descriptor_pb2.MethodOptions.FromString(method.options.SerializeToString())
    return options.Extensions[annotations_pb2.http]


@pytest.mark.parametrize("name", sorted(OURS_BY_NAME))
def test_each_of_our_definitions_is_upstreams(name: str) -> None:
    ours, theirs = OURS_BY_NAME[name], UPSTREAM_BY_NAME.get(name)
    assert theirs is not None, f"{name} is not upstream's"
    if isinstance(ours, descriptor_pb2.EnumDescriptorProto):
        assert [(v.name, v.number) for v in ours.value] == [(v.name, v.number) for v in theirs.value]
    elif isinstance(ours, descriptor_pb2.DescriptorProto):
        mine = {f.name: _field_shape(ours, f) for f in ours.field if (name, f.name) not in EXTRA_FIELDS}
        assert mine == {f.name: _field_shape(theirs, f) for f in theirs.field}
        assert [(r.start, r.end) for r in ours.reserved_range] == [(r.start, r.end) for r in theirs.reserved_range]
        assert list(ours.reserved_name) == list(theirs.reserved_name)
    else:
        upstream_methods = {m.name: m for m in theirs.method}
        for method in ours.method:
            assert method.name in upstream_methods, f"{name}/{method.name} is not upstream's"
            upstream_method = upstream_methods[method.name]
            assert (method.input_type, method.output_type) == (upstream_method.input_type, upstream_method.output_type)
            assert _http(method) == _http(upstream_method), method.name


def test_the_known_extra_field_is_still_the_only_one() -> None:
    extras = {
        (name, f.name)
        for name, ours in OURS_BY_NAME.items()
        if isinstance(ours, descriptor_pb2.DescriptorProto)
        for f in ours.field
        if f.name not in {g.name for g in UPSTREAM_BY_NAME[name].field}
    }
    assert extras == EXTRA_FIELDS
