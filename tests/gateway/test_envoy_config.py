"""The rendered Envoy configuration is one Envoy accepts (`envoy --mode validate`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from passkeys import envoy_config, gateway
from passkeys.config import Settings, load_settings
from passkeys.envoy_config import Address


def validate(config: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "envoy.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [gateway.find_envoy(), "--mode", "validate", "--disable-hot-restart", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def default_config(settings: Settings) -> dict[str, Any]:
    return envoy_config.render(
        listen=gateway.resolve(settings.http_addr),
        upstream=gateway.loopback_for(gateway.resolve(settings.grpc_addr)),
        origins=settings.origins,
    )


def filters(config: dict[str, Any]) -> list[dict[str, Any]]:
    listener = config["static_resources"]["listeners"][0]
    return listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"]


def test_the_filters_run_cors_grpc_web_connect_transcoder_router_in_this_order() -> None:
    names = [f["name"] for f in filters(default_config(Settings()))]
    assert names == [
        "envoy.filters.http.cors",
        "envoy.filters.http.header_mutation",
        "passkeys.connect_errors",
        "envoy.filters.http.buffer",
        "envoy.filters.http.grpc_web",
        "envoy.filters.http.connect_grpc_bridge",
        "passkeys.connect_json",
        "passkeys.http_status",
        "envoy.filters.http.grpc_json_transcoder",
        "passkeys.note_grpc_status",
        "envoy.filters.http.router",
    ]


def test_the_default_configuration_is_valid(tmp_path: Path) -> None:
    checked = validate(default_config(Settings()), tmp_path)
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "OK" in checked.stdout


def test_a_configuration_from_the_environment_is_valid(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "PASSKEYS_HTTP_ADDR": "0.0.0.0:8443",
            "PASSKEYS_GRPC_ADDR": "localhost:50052",
            "PASSKEYS_ORIGINS": "https://a.example.com,https://b.example.com:8443,http://localhost:3000",
        }
    )
    config = default_config(settings)
    checked = validate({**config, "admin": {"address": Address("127.0.0.1", 0).socket()}}, tmp_path)
    assert checked.returncode == 0, checked.stderr + checked.stdout
    cluster = config["static_resources"]["clusters"][0]
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
    assert endpoint["socket_address"]["address"] in ("127.0.0.1", "::1")
    vhost = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"][
        "route_config"
    ]["virtual_hosts"][0]
    cors = vhost["typed_per_filter_config"]["envoy.filters.http.cors"]
    assert [m["exact"] for m in cors["allow_origin_string_match"]] == list(settings.origins)


@pytest.mark.parametrize("breakage", ["no descriptor", "unknown service"])
def test_validation_catches_a_broken_configuration(tmp_path: Path, breakage: str) -> None:
    config = default_config(Settings())
    (transcoder,) = [f["typed_config"] for f in filters(config) if f["name"].endswith("grpc_json_transcoder")]
    assert transcoder["@type"].endswith("GrpcJsonTranscoder")
    if breakage == "no descriptor":
        transcoder["proto_descriptor"] = str(tmp_path / "missing.pb")
    else:
        transcoder["services"] = ["zitadel.user.v2.NoSuchService"]
    checked = validate(config, tmp_path)
    assert checked.returncode != 0


def test_the_descriptor_set_holds_every_type_errors_carry() -> None:
    from google.protobuf import descriptor_pb2

    files = descriptor_pb2.FileDescriptorSet.FromString(envoy_config.DESCRIPTOR_PATH.read_bytes()).file
    names = {f.name for f in files}
    assert {"zitadel/user/v2/user_service.proto", "google/rpc/status.proto", "google/rpc/error_details.proto"} <= names
    # ZITADEL's own error detail, which errors carry beside ErrorInfo.
    types = {f"{f.package}.{m.name}" for f in files for m in f.message_type}
    assert {"google.rpc.ErrorInfo", "zitadel.v1.ErrorDetail"} <= types


def test_the_connect_route_maps_the_grpc_paths_only() -> None:
    """Connect's JSON calls are transcoded at POST /<service>/<method> (auto_mapping on a descriptor
    without REST bindings); REST paths stay on the REST route."""
    import base64

    from google.api import annotations_pb2
    from google.protobuf import descriptor_pb2

    routes = default_config(Settings())["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]["route_config"]["virtual_hosts"][0]["routes"]
    connect = next(r for r in routes if r["match"].get("prefix") and "safe_regex" in str(r["match"].get("headers", "")))
    transcoder = connect["typed_per_filter_config"]["envoy.filters.http.grpc_json_transcoder"]
    assert transcoder["auto_mapping"] and not transcoder["convert_grpc_status"]
    files = descriptor_pb2.FileDescriptorSet.FromString(base64.b64decode(transcoder["proto_descriptor_bin"])).file
    methods = [m for f in files for s in f.service for m in s.method]
    assert methods and not any(m.options.HasExtension(annotations_pb2.http) for m in methods)


def test_the_packaged_grpc_path_descriptor_is_the_stripped_descriptor() -> None:
    """`make generate` wrote both; the supervising process reads them without protobuf."""
    import importlib.util

    from passkeysapi.v1 import passkey_details_pb2
    from zitadel.session.v2 import session_service_pb2
    from zitadel.user.v2 import user_service_pb2
    from zitadel.user.v2beta import user_service_pb2 as v2beta_pb2

    spec = importlib.util.spec_from_file_location("strip", Path(__file__).parents[2] / "tools/grpc_path_descriptor.py")
    assert spec is not None and spec.loader is not None
    strip = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(strip)
    stripped = strip.strip(envoy_config.DESCRIPTOR_PATH.read_bytes())
    assert envoy_config.GRPC_PATHS_DESCRIPTOR_PATH.read_bytes() == stripped
    assert user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name == envoy_config.SERVICE
    stubs = (user_service_pb2, v2beta_pb2, passkey_details_pb2, session_service_pb2)
    assert tuple(service.full_name for m in stubs for service in m.DESCRIPTOR.services_by_name.values()) == (
        envoy_config.SERVICES
    )
