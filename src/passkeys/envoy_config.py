"""The Envoy configuration in front of the gRPC server: JSON REST (grpc_json_transcoder), grpc-web
and the Connect protocol (connect_grpc_bridge) on one HTTP listener, CORS for the configured
origins, gRPC passed through.

Rendered from Settings as a plain dict (Envoy reads JSON as YAML), so there is one source of
truth for addresses, origins and limits; `envoy --mode validate` checks the result in tests.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from passkeys import web
from passkeys.limits import MAX_CONCURRENT_STREAMS, MAX_GRPC_REQUEST_BYTES, MAX_REQUEST_BYTES

# Spelled out rather than read from the generated stubs: `passkeys run`'s supervising process
# renders this config and loads no protobuf (a test checks them against the stubs).
SERVICE = "zitadel.user.v2.UserService"
# Every service the transcoder and the Connect route serve, and the REST path prefixes of their
# google.api.http bindings.
SERVICES = (
    SERVICE,
    "zitadel.user.v2beta.UserService",
    "passkeys.v1.PasskeyDetailsService",
    "zitadel.session.v2.SessionService",
)
REST_PREFIXES = ("/v2/", "/v2beta/", "/passkeys/v1/")
# Package data written by `make generate`: the descriptor set, and the same without REST
# bindings (tools/grpc_path_descriptor.py) for the Connect route.
DESCRIPTOR_PATH = Path(str(resources.files("passkeys") / "descriptor.pb"))
GRPC_PATHS_DESCRIPTOR_PATH = DESCRIPTOR_PATH.with_name("descriptor-grpc-paths.pb")
# Service -> [[HTTP method, path template], ...] of the REST bindings, also from `make generate`.
REST_BINDINGS_PATH = DESCRIPTOR_PATH.with_name("rest-bindings.json")

# Request bodies are buffered up to a limit (passkeys.limits), and a bigger one is refused with
# 413 before it reaches the server.

ALLOW_HEADERS = (
    "authorization,content-type,accept,x-grpc-web,x-user-agent,grpc-timeout,connect-protocol-version,connect-timeout-ms"
)
EXPOSE_HEADERS = "grpc-status,grpc-message,grpc-status-details-bin"
UPSTREAM = "passkeys_grpc"
BUFFER = "envoy.filters.http.buffer"
HCM = "envoy.filters.network.http_connection_manager"
MAX_CONNECTIONS = 4096
# Envoy's heap as the overload manager sees it (_overload_manager): beyond half of it, held
# bodies are cut off ever sooner.
MAX_HEAP_BYTES = 256 * 1024 * 1024
RELEASE_BYTES = 1024 * 1024 * 1024

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

# The Connect protocol (unary, JSON and binary codecs) at the gRPC paths, told apart from gRPC and
# grpc-web by its content type (application/json, application/proto). Envoy's connect_grpc_bridge
# turns a Connect call into gRPC and the gRPC answer (or status, with its details) back into
# Connect. Its binary calls go to the server as they are; its JSON calls it forwards as
# `application/grpc+json`, which the gRPC server cannot read, so CONNECT_JSON takes the bridge's
# frame off and lets the transcoder (bound to the gRPC paths on that route) turn the JSON into
# protobuf, and puts the transcoder's JSON answer back into a frame for the bridge. CONNECT_ERRORS,
# outside the bridge, makes the bridge's error body what Connect clients read: detail types
# without the type URL prefix, the message percent-decoded (gRPC sends it encoded), the HTTP status
# of Connect's current code table, and Envoy's own refusals (a body it could not parse, an unknown
# method, no server) as Connect errors too.
CONNECT_CONTENT_TYPES = r"application/(json|proto)(;.*)?"
CONNECT_METADATA = "passkeys.connect"
CONNECT_ERRORS, CONNECT_JSON = "passkeys.connect_errors", "passkeys.connect_json"
_CONNECT_JSON = f"""
local function be32(n)
  return string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end
-- A header map is valid only until the script waits for the body: read it again after body().
function envoy_on_request(handle)
  if handle:headers():get("content-type") ~= "application/grpc+json" then return end
  local body = handle:body()
  local length = body and body:length() or 0
  if length >= 5 then body:setBytes(body:getBytes(5, length - 5)) end
  handle:headers():replace("content-type", "application/json")
  handle:streamInfo():dynamicMetadata():set("{CONNECT_METADATA}", "json", "1")
end
function envoy_on_response(handle)
  local meta = handle:streamInfo():dynamicMetadata():get("{CONNECT_METADATA}")
  if meta == nil or not (handle:headers():get("content-type") or ""):find("^application/json") then return end
  local body = handle:body()
  local text = body and body:getBytes(0, body:length()) or ""
  if body then body:setBytes(string.char(0) .. be32(#text) .. text) end
  local headers = handle:headers()
  headers:replace("content-type", "application/grpc+json")
  headers:remove("grpc-status")
  headers:remove("grpc-message")
end
"""
CONNECT_HTTP_STATUS = {
    "canceled": 499, "unknown": 500, "invalid_argument": 400, "deadline_exceeded": 504, "not_found": 404,
    "already_exists": 409, "permission_denied": 403, "resource_exhausted": 429, "failed_precondition": 400,
    "aborted": 409, "out_of_range": 400, "unimplemented": 501, "internal": 500, "unavailable": 503,
    "data_loss": 500, "unauthenticated": 401,
}  # fmt: skip
# Envoy's own replies carry no code: one from their HTTP status.
CONNECT_CODE_OF_LOCAL_REPLY = {
    400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied", 404: "unimplemented",
    408: "deadline_exceeded", 413: "resource_exhausted", 429: "unavailable", 502: "unavailable",
    503: "unavailable", 504: "unavailable",
}  # fmt: skip


def _lua_table(mapping: dict[Any, Any]) -> str:
    return "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in mapping.items()) + "}"


_CONNECT_ERRORS = (
    f"local STATUS = {_lua_table(CONNECT_HTTP_STATUS)}\n"
    f"local LOCAL = {_lua_table(CONNECT_CODE_OF_LOCAL_REPLY)}\n"
    + r"""
local function json_char(c)
  if c == '"' or c == "\\" then return "\\" .. c end
  if c:byte() < 32 then return string.format("\\u%04x", c:byte()) end
  return c
end
local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', json_char) .. '"'
end
function envoy_on_response(handle)
  if handle:headers():get(":status") == "200" then return end
  local body = handle:body()
  local headers = handle:headers()
  local status = headers:get(":status")
  local text = body and body:getBytes(0, body:length()) or ""
  local code
  if (headers:get("content-type") or ""):find("^application/json") and text:sub(1, 1) == "{" then
    -- the bridge's error: {"code":"not_found","message":...,"details":[{"type":...,"value":...}]}
    text = text:gsub('"type":"type%.googleapis%.com/', '"type":"')
    text = text:gsub("%%(%x%x)", function(hex) return json_char(string.char(tonumber(hex, 16))) end)
    code = text:match('"code":"([a-z_]+)"')
  else
    code = LOCAL[status] or "unknown"
    text = '{"code":"' .. code .. '","message":' .. json_string((text:gsub("%s+$", ""))) .. '}'
    headers:replace("content-type", "application/json")
  end
  headers:replace(":status", STATUS[code] or "500")
  if body then body:setBytes(text) end
end
"""
)


# Envoy's own answers (a body the transcoder cannot parse, an unknown path, a wrong method, a body
# or headers over the limits, no upstream) as google.rpc.Status JSON, like the server's errors:
# HTTP status -> gRPC code. Connect calls (Connect-Protocol-Version) keep Connect's error shape
# (CONNECT_ERRORS) and gRPC calls their grpc-status.
LOCAL_REPLY_CODES = {
    400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 408: 4, 413: 8, 429: 8, 431: 8, 502: 14, 503: 14, 504: 4,
}  # fmt: skip
UNKNOWN_CODE = 2


# Set on the Connect and gRPC routes (header_mutation, before any filter can answer), so that the
# mappers leave their answers alone: the request's own content type cannot tell, the transcoder
# rewrites a REST request's to application/grpc.
ROUTE_MARK = "x-passkeys-route"


def _mark_route(kind: str, *mutations: dict[str, Any]) -> dict[str, Any]:
    mark = {"append": {"header": {"key": ROUTE_MARK, "value": kind}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}}
    return {
        "envoy.filters.http.header_mutation": _typed(
            "envoy.extensions.filters.http.header_mutation.v3.HeaderMutationPerRoute",
            mutations={"request_mutations": [*mutations, mark]},
        )
    }


def _local_reply_config() -> dict[str, Any]:
    def header_absent(name: str, **match: Any) -> dict[str, Any]:
        header = {"name": name, **(match or {"present_match": True}), "invert_match": True}
        return {"header_filter": {"header": header}}

    def status(op: str, value: int) -> dict[str, Any]:
        comparison = {"op": op, "value": {"default_value": value, "runtime_key": "passkeys.local_reply"}}
        return {"status_code_filter": {"comparison": comparison}}

    def mapper(match: dict[str, Any], code: int) -> dict[str, Any]:
        filters = [match, header_absent("connect-protocol-version"), header_absent(ROUTE_MARK)]
        body = {"json_format": {"code": code, "message": "%LOCAL_REPLY_BODY%", "details": []}}
        return {"filter": {"and_filter": {"filters": filters}}, "body_format_override": body}

    mappers = [mapper(status("EQ", http), code) for http, code in LOCAL_REPLY_CODES.items()]
    return {"mappers": [*mappers, mapper(status("GE", 400), UNKNOWN_CODE)]}


# One JSON line per request Envoy answers or forwards, on its stderr beside its own log lines
# (gateway.py forwards both into the service's log). The path without its query string (a
# registration link's code travels there); no header that carries a token.
ACCESS_LOG_FORMAT = {
    "ts": "%START_TIME(%Y-%m-%dT%H:%M:%S.%3fZ)%",
    "level": "INFO",
    "logger": "envoy.access",
    "msg": "access",
    "method": "%REQ(:METHOD)%",
    "path": "%PATH(NQ:ORIG_OR_PATH)%",
    "protocol": "%PROTOCOL%",
    "status": "%RESPONSE_CODE%",
    "grpc_status": "%GRPC_STATUS_NUMBER%",
    "details": "%RESPONSE_CODE_DETAILS%",
    "flags": "%RESPONSE_FLAGS%",
    "bytes_in": "%BYTES_RECEIVED%",
    "bytes_out": "%BYTES_SENT%",
    "duration_ms": "%DURATION%",
    "upstream": "%UPSTREAM_HOST%",
    "user_agent": "%REQ(USER-AGENT)%",
    "request_id": "%REQ(X-REQUEST-ID)%",
}


def _access_log() -> list[dict[str, Any]]:
    return [
        {
            "name": "envoy.access_loggers.stderr",
            "typed_config": _typed(
                "envoy.extensions.access_loggers.stream.v3.StderrAccessLog",
                log_format={"json_format": ACCESS_LOG_FORMAT},
            ),
        }
    ]


def _template_regex(template: str) -> str:
    """A REST path template (/v2/users/{user_id}/passkeys) as an RE2 regex of the paths it maps."""
    parts = re.split(r"\{[^}]*\}", template)
    return "[^/]+".join(re.escape(part) for part in parts)


def _rest_routes(to_grpc: dict[str, Any], no_transcoding: dict[str, Any]) -> list[dict[str, Any]]:
    """Each REST path template, most specific first: its methods go on to the transcoder, any other
    gets 405 with an Allow header (the transcoder would call it an unknown path). A path's methods
    are those of every template that maps it (GET and POST for /v2/users/human)."""
    every = json.loads(REST_BINDINGS_PATH.read_text())
    bindings = [binding for service in SERVICES for binding in every.get(service, [])]
    regexes = {template: _template_regex(template) for _, template in bindings}
    routes = []
    for template in sorted(regexes, key=lambda t: (t.count("{"), -len(t))):
        sample = re.sub(r"\{[^}]*\}", "x", template)
        allowed = sorted({m for m, t in bindings if re.fullmatch(regexes[t], sample)})
        path = {"safe_regex": {"regex": regexes[template]}}
        methods = {"name": ":method", "string_match": {"safe_regex": {"regex": "|".join([*allowed, "OPTIONS"])}}}
        allow = {"header": {"key": "allow", "value": ", ".join(allowed)}, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}
        routes += [
            {"match": {**path, "headers": [methods]}, "route": to_grpc},
            {
                "match": path,
                "direct_response": {"status": 405, "body": {"inline_string": f"{template} takes {', '.join(allowed)}"}},
                "response_headers_to_add": [allow],
                "typed_per_filter_config": no_transcoding,
            },
        ]
    return routes


def _grpc_path_descriptor() -> str:
    """The descriptor set without REST bindings, base64: on the Connect route the transcoder maps
    each method's gRPC path only (auto_mapping: POST /<service>/<method>, body "*")."""
    return base64.b64encode(GRPC_PATHS_DESCRIPTOR_PATH.read_bytes()).decode()


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


PRINT_OPTIONS = {
    # Stable shapes for clients: zero values and empty lists are printed, not dropped.
    "always_print_primitive_fields": True,
    "always_print_enums_as_ints": False,
    # lowerCamelCase, as ZITADEL's REST API prints.
    "preserve_proto_field_names": False,
}


def _cors_policy(origins: tuple[str, ...]) -> dict[str, Any]:
    return _typed(
        "envoy.extensions.filters.http.cors.v3.CorsPolicy",
        allow_origin_string_match=[{"exact": o} for o in origins],
        allow_methods="GET,POST,PATCH,DELETE",
        allow_headers=ALLOW_HEADERS,
        expose_headers=EXPOSE_HEADERS,
        max_age="600",
        # A preflight from an origin not in the list is answered by Envoy without any
        # access-control-allow-* header, instead of being passed on to the backend.
        forward_not_matching_preflights=False,
    )


TRANSCODER = "envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder"


def _transcoder(descriptor: Path) -> dict[str, Any]:
    return _typed(
        TRANSCODER,
        proto_descriptor=str(descriptor),
        services=list(SERVICES),
        # gRPC errors become HTTP status codes with a google.rpc.Status JSON body.
        convert_grpc_status=True,
        print_options=PRINT_OPTIONS,
        # Unmapped paths and query parameters are refused here (404/400), not sent upstream.
        request_validation_options={"reject_unknown_method": True, "reject_unknown_query_parameters": True},
    )


def _connect_transcoder() -> dict[str, Any]:
    """Per route, for Connect's JSON calls: the gRPC paths only, and errors left as gRPC status for
    the bridge to turn into Connect's error body."""
    return _typed(
        TRANSCODER,
        proto_descriptor_bin=_grpc_path_descriptor(),
        services=list(SERVICES),
        auto_mapping=True,
        convert_grpc_status=False,
        # Keep this route after transcoding (the default matches again, as gRPC): the Connect
        # filters' per-route code must see the answer too.
        match_incoming_request_route=True,
        print_options=PRINT_OPTIONS,
    )


def _lua(name: str, code: str | None = None) -> dict[str, Any]:
    """A Lua filter; without code it runs only where a route gives it some (_lua_on_route)."""
    source = {"default_source_code": {"inline_string": code}} if code else {}
    return {"name": name, "typed_config": _typed("envoy.extensions.filters.http.lua.v3.Lua", **source)}


def _lua_on_route(code: str) -> dict[str, Any]:
    return _typed("envoy.extensions.filters.http.lua.v3.LuaPerRoute", source_code={"inline_string": code})


def _connect_route(service: str, to_grpc: dict[str, Any], transcoder: dict[str, Any]) -> dict[str, Any]:
    return {
        "match": {
            "prefix": f"/{service}/",
            "headers": [{"name": "content-type", "string_match": {"safe_regex": {"regex": CONNECT_CONTENT_TYPES}}}],
        },
        "route": to_grpc,
        # gRPC's own header, meaningless to a Connect client.
        "response_headers_to_remove": ["grpc-accept-encoding"],
        "typed_per_filter_config": {
            **_mark_route(
                "connect",
                {
                    "append": {
                        "header": {"key": "connect-protocol-version", "value": "1"},
                        "append_action": "ADD_IF_ABSENT",
                    }
                },
            ),
            CONNECT_ERRORS: _lua_on_route(_CONNECT_ERRORS),
            CONNECT_JSON: _lua_on_route(_CONNECT_JSON),
            "envoy.filters.http.grpc_json_transcoder": transcoder,
        },
    }


def _routes(descriptor: Path) -> list[dict[str, Any]]:
    # A stream the server refused (REFUSED_STREAM: over its stream bound, which it may still count
    # a finished stream against) never reached it: safe to send again.
    to_grpc = {
        "cluster": UPSTREAM,
        "timeout": "30s",
        "retry_policy": {"retry_on": "refused-stream", "num_retries": 3},
    }
    no_transcoding = {
        "envoy.filters.http.grpc_json_transcoder": _typed("envoy.config.route.v3.FilterConfig", disabled=True)
    }
    grpc_buffer = {
        BUFFER: _typed(
            "envoy.extensions.filters.http.buffer.v3.BufferPerRoute",
            buffer={"max_request_bytes": MAX_GRPC_REQUEST_BYTES},
        ),
        **_mark_route("grpc"),
    }
    grpc = [{"name": "content-type", "string_match": {"prefix": "application/grpc"}}]
    connect_transcoder = _connect_transcoder()  # one descriptor copy, shared by the routes
    return [
        *_rest_routes(to_grpc, no_transcoding),
        # REST: the transcoder maps /v2/... to a gRPC method (and the route is matched again).
        *({"match": {"prefix": prefix}, "route": to_grpc} for prefix in REST_PREFIXES),
        # Connect at the gRPC paths: JSON or binary, with or without Connect-Protocol-Version
        # (ZITADEL's Python SDK sends none; the bridge needs it).
        *(_connect_route(service, to_grpc, connect_transcoder) for service in SERVICES),
        # gRPC and grpc-web to our services, and their CORS preflights (which have no content type).
        *(
            {"match": {"prefix": f"/{service}/"}, "route": to_grpc, "typed_per_filter_config": grpc_buffer}
            for service in SERVICES
        ),
        # Reflection is a bidirectional stream (grpcurl list): it passes unbuffered (the buffer
        # filter would wait for the end of a request that never ends).
        {
            "match": {"prefix": "/grpc.reflection.", "headers": grpc},
            "route": to_grpc,
            "typed_per_filter_config": {
                BUFFER: _typed("envoy.extensions.filters.http.buffer.v3.BufferPerRoute", disabled=True),
                **_mark_route("grpc"),
            },
        },
        # Other gRPC services (health), by content type (grpc-web still says grpc-web here).
        {"match": {"prefix": "/", "headers": grpc}, "route": to_grpc, "typed_per_filter_config": grpc_buffer},
        # The enrolment page, read from the package when Envoy starts.
        *_static_routes(no_transcoding),
        # Everything else.
        {
            "match": {"prefix": "/"},
            "direct_response": {"status": 404, "body": {"inline_string": "not found"}},
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


def _overload_manager() -> dict[str, Any]:
    """A bound on open client connections (Envoy warns at start-up without one), and on memory:
    clients holding request bodies just under the limit (each buffered whole, for the transcoder
    and the 413) are cut off as Envoy's heap fills (MAX_HEAP_BYTES). From half of it, stream and
    connection idle timeouts shrink, down to 1 s at 90 %: a client that stops sending loses its
    stream; HTTP/2 streams holding the most buffer are reset; above 80 % the heap's free pages are
    returned. New requests are not refused: normal calls are served throughout."""
    heap = "envoy.resource_monitors.fixed_heap"
    pressure = {"name": heap, "scaled": {"scaling_threshold": 0.5, "saturation_threshold": 0.9}}
    return {
        "refresh_interval": "0.25s",
        # Buffer accounting (HTTP/2 and HTTP/3 streams), for reset_high_memory_stream: from 256 KiB.
        "buffer_factory_config": {"minimum_account_to_track_power_of_two": 18},
        "resource_monitors": [
            {
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": _typed(
                    "envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                    max_active_downstream_connections=MAX_CONNECTIONS,
                ),
            },
            {
                "name": heap,
                "typed_config": _typed(
                    "envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig",
                    max_heap_size_bytes=MAX_HEAP_BYTES,
                ),
            },
        ],
        "actions": [
            {
                "name": "envoy.overload_actions.reduce_timeouts",
                "triggers": [pressure],
                "typed_config": _typed(
                    "envoy.config.overload.v3.ScaleTimersOverloadActionConfig",
                    timer_scale_factors=[
                        {"timer": "HTTP_DOWNSTREAM_STREAM_IDLE", "min_timeout": "1s"},
                        {"timer": "HTTP_DOWNSTREAM_CONNECTION_IDLE", "min_timeout": "1s"},
                    ],
                ),
            },
            {"name": "envoy.overload_actions.reset_high_memory_stream", "triggers": [pressure]},
            {"name": "envoy.overload_actions.shrink_heap", "triggers": [{"name": heap, "threshold": {"value": 0.8}}]},
            # No stop_accepting_requests: it refuses (503) every new request at a full heap, the
            # normal callers' with the holders' (two thirds of normal calls during 800 held
            # bodies). The holders are cut off by reduce_timeouts above (their streams idle for
            # 1 s); reset_high_memory_stream acts on HTTP/2 streams only (Envoy's docs), not on
            # HTTP/1.1 holders.
        ],
    }


def render(
    *,
    listen: Address,
    upstream: Address,
    origins: tuple[str, ...],
    descriptor: Path = DESCRIPTOR_PATH,
    admin_socket: Path | None = None,
) -> dict[str, Any]:
    """The whole bootstrap config; `admin_socket` lets the supervisor see readiness.

    Envoy's admin has no authentication (it can raise the log level, dump the config, stop
    Envoy): it is never on TCP, only on a Unix socket of mode 0600 in the supervisor's private
    folder, reachable by the service's own user only."""
    connection_manager = _typed(
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        stat_prefix="passkeys",
        codec_type="AUTO",
        # Slow clients cannot hold a connection and its buffered body for long; a stream that
        # sends nothing for 20 s (1 s when memory runs short: _overload_manager) is reset.
        request_headers_timeout="10s",
        request_timeout="60s",
        stream_idle_timeout="20s",
        local_reply_config=_local_reply_config(),
        access_log=_access_log(),
        route_config={
            "name": "passkeys",
            # Envoy's default (4 KiB) is too small for the page's script bundle.
            "max_direct_response_body_size_bytes": max(4096, 2 * web.largest_file_bytes()),
            "virtual_hosts": [
                {
                    "name": "passkeys",
                    "domains": ["*"],
                    "routes": _routes(descriptor),
                    "typed_per_filter_config": {"envoy.filters.http.cors": _cors_policy(origins)},
                }
            ],
        },
        http_filters=[
            {"name": "envoy.filters.http.cors", "typed_config": _typed("envoy.extensions.filters.http.cors.v3.Cors")},
            # Configured per route only (the Connect route adds Connect-Protocol-Version).
            {
                "name": "envoy.filters.http.header_mutation",
                "typed_config": _typed("envoy.extensions.filters.http.header_mutation.v3.HeaderMutation"),
            },
            # Before the buffer, so that its 413 becomes a Connect error too.
            _lua(CONNECT_ERRORS),
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
            {
                "name": "envoy.filters.http.connect_grpc_bridge",
                "typed_config": _typed("envoy.extensions.filters.http.connect_grpc_bridge.v3.FilterConfig"),
            },
            _lua(CONNECT_JSON),
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
                            # Half the server's bound: gRPC counts a stream until it has freed it,
                            # a moment after Envoy sees it end, and refuses streams over its bound
                            # (503 here). Envoy opens another connection instead.
                            explicit_http_config={
                                "http2_protocol_options": {"max_concurrent_streams": MAX_CONCURRENT_STREAMS // 2}
                            },
                        )
                    },
                }
            ],
        },
    }
    config["overload_manager"] = _overload_manager()
    # Memory freed (bodies of reset streams) goes back to the system instead of staying cached.
    config["memory_allocator_manager"] = {"bytes_to_release": str(RELEASE_BYTES), "memory_release_interval": "1s"}
    if admin_socket is not None:
        config["admin"] = {"address": {"pipe": {"path": str(admin_socket), "mode": 0o600}}}
    return config
