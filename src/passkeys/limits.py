"""Sizes and bounds of requests, in one small module that imports nothing: the gateway's
configuration and the server read them without loading the use cases (or gRPC, protobuf,
SQLAlchemy and webauthn) into the supervising process."""

from __future__ import annotations

# A browser's PublicKeyCredential as JSON: 55..1 MiB characters (API.md).
MIN_CREDENTIAL_JSON, MAX_CREDENTIAL_JSON = 55, 1_048_576
# A request message: the largest credential plus the request's other fields. A bigger one is
# refused by gRPC (and by Envoy, for REST) before it is parsed.
MAX_REQUEST_BYTES = MAX_CREDENTIAL_JSON + 64 * 1024
# Through Envoy, gRPC and grpc-web bodies may be a third larger, for grpc-web-text's base64
# (the server's own MAX_REQUEST_BYTES still applies after decoding).
MAX_GRPC_REQUEST_BYTES = MAX_REQUEST_BYTES * 4 // 3 + 1024
# Ids, names and other text fields of requests.
MAX_TEXT = 200
# The `authorization` value.
MAX_BEARER = 8192
# HTTP/2 streams open at once on one connection to the gRPC server (gRPC's default is unbounded);
# Envoy opens no more on its connections to the server, and opens more connections instead.
MAX_CONCURRENT_STREAMS = 32
