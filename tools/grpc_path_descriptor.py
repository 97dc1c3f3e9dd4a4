"""`make generate`: from the descriptor set, the same without REST bindings
(src/passkeys/descriptor-grpc-paths.pb) and the REST bindings as JSON (src/passkeys/rest-bindings.json).

On the Connect route Envoy's transcoder maps each method's gRPC path only (auto_mapping: POST
/<service>/<method>, body "*"); the bindings let Envoy answer a known path with a wrong method
405. Written here, at generate time, so that `passkeys run`'s supervising process reads files
instead of loading protobuf.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2


def strip(descriptor: bytes) -> bytes:
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor)
    for file in files.file:
        for service in file.service:
            for method in service.method:
                method.options.ClearExtension(annotations_pb2.http)
    return files.SerializeToString(deterministic=True)


def rest_bindings(descriptor: bytes) -> dict[str, list[list[str]]]:
    """Service -> [[HTTP method, path template], ...], additional bindings included."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor)
    out: dict[str, list[list[str]]] = {}
    for file in files.file:
        for service in file.service:
            found = out.setdefault(f"{file.package}.{service.name}", [])
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                for binding in (rule, *rule.additional_bindings):
                    kind = binding.WhichOneof("pattern")
                    if kind and kind != "custom":
                        found.append([kind.upper(), getattr(binding, kind)])
    return {name: bindings for name, bindings in out.items() if bindings}


if __name__ == "__main__":
    source, target, bindings = map(Path, sys.argv[1:4])
    target.write_bytes(strip(source.read_bytes()))
    bindings.write_text(json.dumps(rest_bindings(source.read_bytes()), indent=1, sort_keys=True) + "\n")
