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

from passkeys import web
from passkeys.limits import MAX_GRPC_REQUEST_BYTES, MAX_REQUEST_BYTES

SERVICE = user_service_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
# `make generate` writes it next to the generated packages: generated/descriptor.pb.
DESCRIPTOR_PATH = Path(user_service_pb2.__file__).resolve().parents[3] / "descriptor.pb"

# Request bodies are buffered up to a limit (passkeys.limits), and a bigger one is refused with
# 413 before it reaches the server.

ALLOW_HEADERS = "authorization,content-type,accept,x-grpc-web,x-user-agent,grpc-timeout"
EXPOSE_HEADERS = "grpc-status,grpc-message,grpc-status-details-bin"
UPSTREAM = "passkeys_grpc"
BUFFER = "envoy.filters.http.buffer"
HCM = "envoy.filters.network.http_connection_manager"
MAX_CONNECTIONS = 4096

# Envoy's transcoder turns gRPC codes into HTTP status by Google's table, which makes
# FAILED_PRECONDITION a 400; ZITADEL's REST API answers 412. Two small Lua filters fix that:
# the first (next to the router) sees the upstream's grpc-status and notes it in a header that
# survives transcoding, the second (before the transcoder) sets the HTTP status from it and
# drops the note. Only REST errors (400, JSON) change; grpc-web answers stay HTTP 200.
HTTP_STATUS_OVERRIDES = {9: 412}  # gRPC code -> HTTP status
_MARK = "x-passkeys-grpc-status"
_NOTE_GRPC_STATUS = f"""
function envoy_on_response(handle)
  local status = handle:headers():get("grpc-status")
  if status ~= nil then handle:headers():replace("{_MARK}", status) end
end
"""
_SET_HTTP_STATUS = (
    "local OVERRIDES = {"
    + ", ".join(f'["{code}"] = "{http}"' for code, http in HTTP_STATUS_OVERRIDES.items())
    + f"""}}
function envoy_on_response(handle)
  local headers = handle:headers()
  local code = headers:get("{_MARK}")
  if code == nil then return end
  headers:remove("{_MARK}")
  local content_type = headers:get("content-type") or ""
  if OVERRIDES[code] ~= nil and headers:get(":status") == "400" and content_type:find("^application/json") then
    headers:replace(":status", OVERRIDES[code])
  end
end
"""
)


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
        allow_methods="POST,DELETE",
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
    )


def _lua(name: str, code: str) -> dict[str, Any]:
    lua = _typed("envoy.extensions.filters.http.lua.v3.Lua", default_source_code={"inline_string": code})
    return {"name": name, "typed_config": lua}


def _routes() -> list[dict[str, Any]]:
    to_grpc = {"cluster": UPSTREAM, "timeout": "30s"}
    no_transcoding = {
        "envoy.filters.http.grpc_json_transcoder": _typed("envoy.config.route.v3.FilterConfig", disabled=True)
    }
    grpc_buffer = {
        BUFFER: _typed(
            "envoy.extensions.filters.http.buffer.v3.BufferPerRoute",
            buffer={"max_request_bytes": MAX_GRPC_REQUEST_BYTES},
        )
    }
    return [
        # REST: the transcoder maps /v2/... to a gRPC method (and the route is matched again).
        {"match": {"prefix": "/v2/"}, "route": to_grpc},
        # gRPC and grpc-web to our service, and their CORS preflights (which have no content type).
        {"match": {"prefix": f"/{SERVICE}/"}, "route": to_grpc, "typed_per_filter_config": grpc_buffer},
        # Other gRPC services (health, reflection), by content type (grpc-web still says grpc-web here).
        {
            "match": {
                "prefix": "/",
                "headers": [{"name": "content-type", "string_match": {"prefix": "application/grpc"}}],
            },
            "route": to_grpc,
            "typed_per_filter_config": grpc_buffer,
        },
        # The enrolment page, read from the package when Envoy starts.
        *_static_routes(no_transcoding),
        # Everything else.
        {
            "match": {"prefix": "/"},
            "direct_response": {"status": 404, "body": {"inline_string": "not found\n"}},
            "typed_per_filter_config": no_transcoding,
        },
    ]


def _static_routes(no_transcoding: dict[str, Any]) -> list[dict[str, Any]]:
    """One direct response per page file, to GET and HEAD only; Envoy reads the files when it starts."""
    routes = []
    for path, (name, content_type) in web.FILES.items():
        headers = {"content-type": content_type, **web.SECURITY_HEADERS}
        routes.append(
            {
                "match": {
                    "path": path,
                    "headers": [{"name": ":method", "string_match": {"safe_regex": {"regex": "GET|HEAD"}}}],
                },
                "direct_response": {"status": 200, "body": {"filename": str(web.DIRECTORY / name)}},
                "response_headers_to_add": [
                    {"header": {"key": k, "value": v}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
                    for k, v in headers.items()
                ],
                "typed_per_filter_config": no_transcoding,
            }
        )
    return routes


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
        # Slow clients cannot hold a connection and its buffered body for long.
        request_headers_timeout="10s",
        request_timeout="60s",
        route_config={
            "name": "passkeys",
            # Envoy's default (4 KiB) is too small for the page's script bundle.
            "max_direct_response_body_size_bytes": max(4096, 2 * web.largest_file_bytes()),
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
                "name": BUFFER,
                "typed_config": _typed(
                    "envoy.extensions.filters.http.buffer.v3.Buffer", max_request_bytes=MAX_REQUEST_BYTES
                ),
            },
            {
                "name": "envoy.filters.http.grpc_web",
                "typed_config": _typed("envoy.extensions.filters.http.grpc_web.v3.GrpcWeb"),
            },
            _lua("passkeys.http_status", _SET_HTTP_STATUS),
            {"name": "envoy.filters.http.grpc_json_transcoder", "typed_config": _transcoder(descriptor)},
            _lua("passkeys.note_grpc_status", _NOTE_GRPC_STATUS),
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
