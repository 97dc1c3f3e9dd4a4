// Drives one of ZITADEL's published JavaScript clients for tests/clients (tests/support/node_clients.py).
//
//   node driver.mjs <client> <protocol> <base url>
//     zitadel-client connect-json | connect-binary | grpc | grpc-web   (@zitadel/client, Connect-ES)
//     zitadel-node grpc                                                 (@zitadel/node's v2 definitions, nice-grpc)
//     zitadel-node-v2beta grpc                                          (@zitadel/node's ready-made createUserClient: v2beta)
//
// One call per line of JSON on stdin: {"method": "ListPasskeys", "request": {...proto3 JSON}, "token": "..." | null};
// a method of the session service is named "SessionService.CreateSession" (@zitadel/client only).
// One answer per line on stdout: {"response": {...proto3 JSON}} or
// {"error": {"code": <gRPC code>, "message": "...", "details": [{"type": "...", "value": "<base64>"}]}}.
import readline from "node:readline";

import { fromJson, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
// @zitadel/client's CommonJS build is broken: its ES modules are imported.
import { createServerTransport } from "@zitadel/client/node";
import { createSessionServiceClient, createUserServiceClient } from "@zitadel/client/v2";
import { createClientTransport } from "@zitadel/client/web";
import { createUserClient } from "@zitadel/node/dist/api/clients.js";
import { UserServiceDefinition } from "@zitadel/node/dist/api/generated/zitadel/user/v2/user_service.js";
import { UserServiceDefinition as UserServiceV2BetaDefinition } from "@zitadel/node/dist/api/generated/zitadel/user/v2beta/user_service.js";
import { createAccessTokenInterceptor } from "@zitadel/node/dist/api/interceptors.js";
import { SessionService } from "@zitadel/proto/zitadel/session/v2/session_service_pb.js";
import { UserService } from "@zitadel/proto/zitadel/user/v2/user_service_pb.js";
import { ClientError, createChannel, createClientFactory } from "nice-grpc";

const [clientName, protocol, baseUrl] = process.argv.slice(2);
const lowerFirst = (name) => name[0].toLowerCase() + name.slice(1);
const bearer = (token) => (next) => async (req) => {
  req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};

// @zitadel/client: its own transports for gRPC and grpc-web; Connect is connect-node's transport,
// as its documentation shows. Without a token, the same transport without the authorization header.
function connectEsTransport(token) {
  const interceptors = token === null ? [] : [bearer(token)];
  switch (protocol) {
    case "connect-json":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors });
    case "connect-binary":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors });
    case "grpc":
      return token === null
        ? createGrpcTransport({ baseUrl })
        : createServerTransport(token, { baseUrl, httpVersion: "2" });
    case "grpc-web":
      return token === null ? createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }) : createClientTransport(token, { baseUrl });
    default:
      throw new Error(`unknown protocol ${protocol}`);
  }
}

const SERVICES = {
  UserService: [UserService, createUserServiceClient],
  SessionService: [SessionService, createSessionServiceClient],
};
const connectEsClients = new Map();
async function callConnectEs(name, request, token) {
  const [serviceName, method] = name.includes(".") ? name.split(".") : ["UserService", name];
  const [service, createServiceClient] = SERVICES[serviceName];
  const key = `${serviceName} ${token}`;
  if (!connectEsClients.has(key)) connectEsClients.set(key, createServiceClient(connectEsTransport(token)));
  const desc = service.method[lowerFirst(method)];
  try {
    const response = await connectEsClients.get(key)[lowerFirst(method)](fromJson(desc.input, request));
    return { response: toJson(desc.output, response) };
  } catch (err) {
    const e = ConnectError.from(err);
    const details = e.details.map((d) => ({ type: d.type ?? d.desc?.typeName, value: Buffer.from(d.value ?? []).toString("base64") }));
    return { error: { code: e.code, name: Code[e.code], message: e.rawMessage, details } };
  }
}

// @zitadel/node: nice-grpc with its generated v2 definitions (its createUserClient is v2beta).
const niceGrpcClients = new Map();
// zitadel-node-v2beta: the package's own createUserClient, as its README shows (v2beta).
const v2beta = clientName === "zitadel-node-v2beta";
function niceGrpcClient(token) {
  const interceptors = token === null ? [] : [createAccessTokenInterceptor(token)];
  if (v2beta) return createUserClient(baseUrl, ...interceptors);
  let factory = createClientFactory();
  for (const interceptor of interceptors) factory = factory.use(interceptor);
  return factory.create(UserServiceDefinition, createChannel(baseUrl));
}
async function callNiceGrpc(method, request, token) {
  if (!niceGrpcClients.has(token)) niceGrpcClients.set(token, niceGrpcClient(token));
  const def = (v2beta ? UserServiceV2BetaDefinition : UserServiceDefinition).methods[lowerFirst(method)];
  let trailer;
  try {
    const response = await niceGrpcClients.get(token)[lowerFirst(method)](def.requestType.fromJSON(request), {
      onTrailer: (metadata) => (trailer = metadata),
    });
    return { response: def.responseType.toJSON(response) };
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    const status = trailer?.get("grpc-status-details-bin");
    const details = status ? [{ type: "google.rpc.Status", value: Buffer.from(status).toString("base64") }] : [];
    return { error: { code: err.code, message: err.details, details } };
  }
}

const call = clientName.startsWith("zitadel-node") ? callNiceGrpc : callConnectEs;
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  const { method, request, token } = JSON.parse(line);
  let answer;
  try {
    answer = await call(method, request, token ?? null);
  } catch (err) {
    answer = { crash: String(err?.stack ?? err) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
