// The UserService and SessionService calls the page makes (and our PasskeyDetailsService's listing
// and rename, for what upstream's Passkey message does not carry), over grpc-web (default) or
// JSON REST, both through the same origin's Envoy. Requests and responses are proto3 JSON either way, so the page does
// not care which transport carried them; errors become one ApiError shape.
import { fromJson, toJson } from "@bufbuild/protobuf";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { ErrorInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { PasskeyDetailsService } from "../gen/passkeysapi/v1/passkey_details_pb.js";
import { SessionService } from "../gen/zitadel/session/v2/session_service_pb.js";
import { UserService } from "../gen/zitadel/user/v2/user_service_pb.js";

export const TRANSPORTS = ["grpc-web", "rest"];

// gRPC status names by number: the page and its tests read them.
const CODE_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

export class ApiError extends Error {
  constructor({ code, message, reason = "", metadata = {} }) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.codeName = CODE_NAMES[code] ?? "UNKNOWN";
    this.reason = reason;
    this.metadata = metadata;
  }
}

// REST: method -> [HTTP method, path template]; a POST or PATCH body is the request minus path
// fields, a GET's remaining fields go in the query.
const ROUTES = {
  addHumanUser: ["POST", "/v2/users/human"],
  registerPasskey: ["POST", "/v2/users/{userId}/passkeys"],
  verifyPasskeyRegistration: ["POST", "/v2/users/{userId}/passkeys/{passkeyId}"],
  listPasskeys: ["POST", "/v2/users/{userId}/passkeys/_search"],
  removePasskey: ["DELETE", "/v2/users/{userId}/passkeys/{passkeyId}"],
  getUserByID: ["GET", "/v2/users/{userId}"],
  listPasskeyDetails: ["POST", "/passkeys/v1/users/{userId}/passkeys/_search"],
  renamePasskey: ["PATCH", "/passkeys/v1/users/{userId}/passkeys/{passkeyId}"],
  createSession: ["POST", "/v2/sessions"],
  setSession: ["PATCH", "/v2/sessions/{sessionId}"],
  getSession: ["GET", "/v2/sessions/{sessionId}"],
};
const HAS_BODY = new Set(["POST", "PATCH"]);

function restCaller(baseUrl, headers) {
  return async (method, request) => {
    const [verb, template] = ROUTES[method];
    const body = { ...request };
    const path = template.replace(/\{(\w+)\}/g, (_, field) => {
      const value = body[field] ?? "";
      delete body[field];
      return encodeURIComponent(value);
    });
    const query = verb === "GET" && Object.keys(body).length ? `?${new URLSearchParams(body)}` : "";
    let response;
    try {
      response = await fetch(baseUrl + path + query, {
        method: verb,
        headers: { ...headers(), ...(HAS_BODY.has(verb) ? { "content-type": "application/json" } : {}) },
        body: HAS_BODY.has(verb) ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new ApiError({ code: 14, message: `the service cannot be reached: ${err.message}` });
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      // Not JSON: something other than this service's Envoy answered.
    }
    if (response.ok && json) return json;
    if (json && typeof json.code === "number") {
      const info = (json.details ?? []).find((d) => d["@type"]?.endsWith("/google.rpc.ErrorInfo")) ?? {};
      throw new ApiError({ code: json.code, message: json.message ?? "", reason: info.reason, metadata: info.metadata });
    }
    throw new ApiError({ code: 2, message: `HTTP ${response.status}: ${text.trim()}` });
  };
}

function grpcWebCaller(baseUrl, headers) {
  const transport = createGrpcWebTransport({ baseUrl, useBinaryFormat: true });
  const clients = [UserService, PasskeyDetailsService, SessionService].map((service) => [
    service,
    createClient(service, transport),
  ]);
  return async (method, request) => {
    const [service, client] = clients.find(([service]) => method in service.method);
    const schema = service.method[method];
    try {
      const response = await client[method](fromJson(schema.input, request), { headers: headers() });
      return toJson(schema.output, response);
    } catch (err) {
      const error = ConnectError.from(err);
      const [info] = error.findDetails(ErrorInfoSchema);
      throw new ApiError({
        code: error.code,
        message: error.rawMessage,
        reason: info?.reason,
        metadata: info ? { ...info.metadata } : {},
      });
    }
  };
}

// `credentials()` is the one place a caller's identity goes: it returns the headers every call
// carries (an `authorization: Bearer ...` once the service asks for one).
export function makeApi({ transport = "grpc-web", baseUrl = location.origin, credentials = () => ({}) } = {}) {
  const call = transport === "rest" ? restCaller(baseUrl, credentials) : grpcWebCaller(baseUrl, credentials);
  return Object.fromEntries(Object.keys(ROUTES).map((method) => [method, (request) => call(method, request)]));
}
