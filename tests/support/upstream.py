"""Upstream's own definitions (tests/upstream/zitadel.binpb, from npm @zitadel/proto), in a pool of
their own, for parsing our answers the way a strict client built from ZITADEL's protos does."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import Message

DESCRIPTOR_SET = Path(__file__).resolve().parents[1] / "upstream" / "zitadel.binpb"


@cache
def files() -> tuple[descriptor_pb2.FileDescriptorProto, ...]:
    return tuple(descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes()).file)


@cache
def pool() -> descriptor_pool.DescriptorPool:
    upstream = descriptor_pool.DescriptorPool()
    for file in files():
        upstream.Add(file)
    return upstream


def message_class(full_name: str) -> type[Message]:
    return message_factory.GetMessageClass(pool().FindMessageTypeByName(full_name))


def strict_parse(answer: str | bytes | dict[str, Any], full_name: str) -> Message:
    """proto3 JSON into upstream's message `full_name`, refusing any field upstream does not have
    (json_format's default, as Go's protojson and protobuf-es's fromJson)."""
    text = answer if isinstance(answer, str | bytes) else json.dumps(answer)
    return json_format.Parse(text, message_class(full_name)(), ignore_unknown_fields=False, descriptor_pool=pool())


def response_type(service: str, method: str) -> str:
    return pool().FindServiceByName(service).FindMethodByName(method).output_type.full_name
