"""Writes tests/upstream/zitadel.binpb: upstream's own definitions of the services we serve or will
serve, as one FileDescriptorSet, taken offline from npm `@zitadel/proto` (MIT licence).

That package ships no .proto files; protoc-gen-es embeds each file's FileDescriptorProto (base64)
in its `es/**/*_pb.js`, with `dependency` and default `json_name`s stripped. This script restores
both (dependencies from the `fileDesc(..., [deps])` argument, json names by protoc's rule) and adds
the well-known types from Python's protobuf, which are identical everywhere.

    python tests/upstream/make_descriptor.py [path/to/unpacked/@zitadel/proto]

Without a path it runs `npm pack @zitadel/proto@VERSION` in a temporary folder. Run it again only
to move to a new upstream version (then change VERSION and commit the output).
"""

from __future__ import annotations

import base64
import importlib
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2

VERSION = "1.3.1"
ROOTS = (
    "zitadel/user/v2/user_service.proto",
    "zitadel/user/v2beta/user_service.proto",
    "zitadel/session/v2/session_service.proto",
    "zitadel/message.proto",
)
OUT = Path(__file__).with_name("zitadel.binpb")

_FILE_DESC = re.compile(r'export const (file_\w+) = /\*@__PURE__\*/\s*fileDesc\("([^"]+)"(?:,\s*\[([^\]]*)\])?\)')
_WKT_IMPORT = re.compile(r"import \{([^}]*)\} from \"@bufbuild/protobuf/wkt\"")


def _camel(name: str) -> str:
    """protoc's default json_name: drop each underscore and capitalise the letter after it."""
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _restore_json_names(messages: list[descriptor_pb2.DescriptorProto]) -> None:
    for message in messages:
        for field in message.field:
            if not field.HasField("json_name"):
                field.json_name = _camel(field.name)
        for extension in message.extension:
            if not extension.HasField("json_name"):
                extension.json_name = _camel(extension.name)
        _restore_json_names(list(message.nested_type))


def _wkt(variable: str) -> descriptor_pb2.FileDescriptorProto:
    name = variable.removeprefix("file_google_protobuf_")
    module = importlib.import_module(f"google.protobuf.{name}_pb2")
    return descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)


def read_package(root: Path) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """Every file the package embeds, by file name, with its dependencies restored."""
    by_variable: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    deps: dict[str, list[str]] = {}
    for js in sorted((root / "es").rglob("*_pb.js")):
        match = _FILE_DESC.search(js.read_text())
        if match is None:
            continue
        variable, b64, dep_list = match.groups()
        file = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(b64 + "=" * (-len(b64) % 4)))
        _restore_json_names(list(file.message_type))
        for extension in file.extension:
            if not extension.HasField("json_name"):
                extension.json_name = _camel(extension.name)
        by_variable[variable] = file
        deps[variable] = [d.strip() for d in (dep_list or "").split(",") if d.strip()]
    for variable, names in deps.items():
        for dep in names:
            if dep not in by_variable and dep.startswith("file_google_protobuf_"):
                by_variable[dep] = _wkt(dep)
        del by_variable[variable].dependency[:]
        by_variable[variable].dependency.extend(by_variable[d].name for d in names)
    return {f.name: f for f in by_variable.values()}


def closure(files: dict[str, descriptor_pb2.FileDescriptorProto]) -> list[descriptor_pb2.FileDescriptorProto]:
    """ROOTS and everything they import, dependencies first (as protoc --include_imports writes)."""
    ordered: list[descriptor_pb2.FileDescriptorProto] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in files[name].dependency:
            visit(dep)
        ordered.append(files[name])

    for root in ROOTS:
        visit(root)
    return ordered


def _unpacked(argv: list[str], tmp: Path) -> Path:
    if argv:
        return Path(argv[0])
    subprocess.run(["npm", "pack", f"@zitadel/proto@{VERSION}", "--silent"], cwd=tmp, check=True)
    with tarfile.open(tmp / f"zitadel-proto-{VERSION}.tgz") as tar:
        tar.extractall(tmp, filter="data")
    return tmp / "package"


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = _unpacked(argv, Path(tmp))
        version = re.search(r'"version":\s*"([^"]+)"', (root / "package.json").read_text())
        if version is None or version.group(1) != VERSION:
            sys.exit(f"expected @zitadel/proto {VERSION}, found {version and version.group(1)}")
        files = closure(read_package(root))
    OUT.write_bytes(descriptor_pb2.FileDescriptorSet(file=files).SerializeToString(deterministic=True))
    print(f"{OUT}: {len(files)} files from @zitadel/proto {VERSION}")


if __name__ == "__main__":
    main(sys.argv[1:])
