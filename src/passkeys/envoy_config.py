"""The Envoy configuration in front of the gRPC server: JSON REST (grpc_json_transcoder) and
grpc-web on one HTTP listener, CORS for the configured origins, gRPC passed through.

Rendered from Settings as a plain dict (Envoy reads JSON as YAML), so there is one source of
truth for addresses, origins and limits; `envoy --mode validate` checks the result in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zitadel.user.v2 import user_service_pb2

from passkeys.commands.passkeys import MAX_CREDENTIAL_JSON

SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
# `make generate` writes it next to the generated packages: generated/descriptor.pb.
DESCRIPTOR_PATH = Path(user_service_pb2.__file__).resolve().parents[3] / "descriptor.pb"

# A 1 MiB credential plus the request's other fields and JSON escaping passes; anything bigger
# is refused by Envoy (413) before it is buffered, on REST and grpc-web alike.
MAX_REQUEST_BYTES = MAX_CREDENTIAL_JSON + 64 * 1024

ALLOW_HEADERS = "authorization,content-type,accept,x-grpc-web,x-user-agent,grpc-timeout"
EXPOSE_HEADERS = "grpc-status,grpc-message,grpc-status-details-bin"
UPSTREAM = "passkeys_grpc"
HCM = "envoy.filters.network.http_connection_manager"
MAX_CONNECTIONS = 4096


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    @classmethod
    def parse(cls, value: str) -> Address:
        host, _, port = value.rpartition(":")
        return cls(host.strip("[]"), int(port))

    def socket(self) -> dict[str, Any]:
        return {"socket_address": {"address": self.host, "port_value": self.port}}


def _typed(type_url: str, **fields: Any) -> dict[str, Any]:
    return {"@type": f"type.googleapis.com/{type_url}", **fields}


def _cors_policy(origins: tuple[str, ...]) -> dict[str, Any]:
    return _typed(
        "envoy.extensions.filters.http.cors.v3.CorsPolicy",
        allow_origin_string_match=[{"exact": o} for o in origins],
        allow_methods="GET,POST,DELETE,OPTIONS",
        allow_headers=ALLOW_HEADERS,
        expose_headers=EXPOSE_HEADERS,
        max_age="600",
        # A preflight from an origin not in the list is answered by Envoy without any
        # access-control-allow-* header, instead of being passed on to the backend.
        forward_not_matching_preflights=False,
    )


def _transcoder(descriptor: Path) -> dict[str, Any]:
    return _typed(
        "envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
        proto_descriptor=str(descriptor),
        services=[SERVICE],
        # gRPC errors become HTTP status codes with a google.rpc.Status JSON body.
        convert_grpc_status=True,
        print_options={
            # Stable shapes for clients: zero values and empty lists are printed, not dropped.
            "always_print_primitive_fields": True,
            "always_print_enums_as_ints": False,
            # lowerCamelCase, as ZITADEL's REST API prints.
            "preserve_proto_field_names": False,
        },
        # Unmapped paths and query parameters are refused here (404/400), not sent upstream.
        request_validation_options={"reject_unknown_method": True, "reject_unknown_query_parameters": True},
        max_request_body_size=MAX_REQUEST_BYTES,
    )


def _routes() -> list[dict[str, Any]]:
    to_grpc = {"cluster": UPSTREAM, "timeout": "30s"}
    no_transcoding = {
        "envoy.filters.http.grpc_json_transcoder": _typed("envoy.config.route.v3.FilterConfig", disabled=True)
    }
    return [
        # REST: the transcoder maps /v2/... to a gRPC method (and the route is matched again).
        {"match": {"prefix": "/v2/"}, "route": to_grpc},
        # gRPC and grpc-web, by content type (grpc-web is still grpc-web when routes are chosen).
        {
            "match": {
                "prefix": "/",
                "headers": [{"name": "content-type", "string_match": {"prefix": "application/grpc"}}],
            },
            "route": to_grpc,
        },
        # Everything else: nothing here yet (a later static page goes in this place).
        {
            "match": {"prefix": "/"},
            "direct_response": {"status": 404, "body": {"inline_string": "not found\n"}},
            "typed_per_filter_config": no_transcoding,
        },
    ]


def render(
    *,
    listen: Address,
    upstream: Address,
    origins: tuple[str, ...],
    descriptor: Path = DESCRIPTOR_PATH,
    admin: Address | None = None,
) -> dict[str, Any]:
    """The whole bootstrap config; `admin` (loopback only) lets the supervisor see readiness."""
    connection_manager = _typed(
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        stat_prefix="passkeys",
        codec_type="AUTO",
        route_config={
            "name": "passkeys",
            "virtual_hosts": [
                {
                    "name": "passkeys",
                    "domains": ["*"],
                    "routes": _routes(),
                    "typed_per_filter_config": {"envoy.filters.http.cors": _cors_policy(origins)},
                }
            ],
        },
        http_filters=[
            {"name": "envoy.filters.http.cors", "typed_config": _typed("envoy.extensions.filters.http.cors.v3.Cors")},
            {
                "name": "envoy.filters.http.grpc_web",
                "typed_config": _typed("envoy.extensions.filters.http.grpc_web.v3.GrpcWeb"),
            },
            {"name": "envoy.filters.http.grpc_json_transcoder", "typed_config": _transcoder(descriptor)},
            {
                "name": "envoy.filters.http.router",
                "typed_config": _typed("envoy.extensions.filters.http.router.v3.Router"),
            },
        ],
    )
    config: dict[str, Any] = {
        "static_resources": {
            "listeners": [
                {
                    "name": "http",
                    "address": listen.socket(),
                    # Never share the port with another process (Envoy's default on Linux).
                    "enable_reuse_port": False,
                    "per_connection_buffer_limit_bytes": 64 * 1024,
                    "filter_chains": [{"filters": [{"name": HCM, "typed_config": connection_manager}]}],
                }
            ],
            "clusters": [
                {
                    "name": UPSTREAM,
                    "type": "STATIC",
                    "connect_timeout": "2s",
                    "load_assignment": {
                        "cluster_name": UPSTREAM,
                        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": upstream.socket()}}]}],
                    },
                    "typed_extension_protocol_options": {
                        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": _typed(
                            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                            explicit_http_config={"http2_protocol_options": {}},
                        )
                    },
                }
            ],
        },
    }
    # A bound on open client connections (Envoy warns at start-up without one).
    config["overload_manager"] = {
        "resource_monitors": [
            {
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": _typed(
                    "envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                    max_active_downstream_connections=MAX_CONNECTIONS,
                ),
            }
        ]
    }
    if admin is not None:
        config["admin"] = {"address": admin.socket()}
    return config
