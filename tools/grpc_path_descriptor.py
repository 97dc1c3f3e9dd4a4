"""`make generate`: the descriptor set without REST bindings (src/passkeys/descriptor-grpc-paths.pb).

On the Connect route Envoy's transcoder maps each method's gRPC path only (auto_mapping: POST
/<service>/<method>, body "*"). Written here, at generate time, so that `passkeys run`'s
supervising process reads a file instead of loading protobuf to strip the bindings.
"""

from __future__ import annotations

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


if __name__ == "__main__":
    source, target = map(Path, sys.argv[1:3])
    target.write_bytes(strip(source.read_bytes()))
