// The minimal Node endpoint a user would write in an afternoon: node:http,
// @simplewebauthn/server and better-sqlite3, one process. The same paths, tables and checks as
// bench/peers/starlette_peer.py (see there):
//
//   PEER_DATABASE=peer.db PEER_TOKEN=... PEER_RP_ID=localhost PEER_ORIGIN=http://localhost:8080 node server.mjs
//
// Prints `listening on HOST:PORT` once it accepts connections. No permission per user, no checks
// beyond the library's, no event, no log line, no metrics.
import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

import { generateRegistrationOptions, verifyRegistrationResponse } from "@simplewebauthn/server";
import Database from "better-sqlite3";

const RP_ID = process.env.PEER_RP_ID ?? "localhost";
const ORIGIN = process.env.PEER_ORIGIN ?? "http://localhost:8080";
const CHALLENGE_TTL_MS = 5 * 60 * 1000;

const db = new Database(process.env.PEER_DATABASE ?? "peer.db");
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.exec(readFileSync(new URL("../schema.sql", import.meta.url), "utf8"));
const sha256 = (text) => createHash("sha256").update(text).digest("hex");
db.prepare("INSERT OR IGNORE INTO tokens (digest, owner) VALUES (?, 'admin')").run(sha256(process.env.PEER_TOKEN));

const tokenExists = db.prepare("SELECT 1 FROM tokens WHERE digest = ?").pluck();
const insertPending = db.prepare("INSERT INTO passkeys (id, user_id, challenge, created_at) VALUES (?, ?, ?, ?)");
const findPending = db.prepare(
  "SELECT challenge, created_at FROM passkeys WHERE id = ? AND user_id = ? AND credential_id IS NULL",
);
const updatePasskey = db.prepare(
  "UPDATE passkeys SET credential_id = ?, public_key = ?, sign_count = ?, name = ?, verified_at = ? " +
    "WHERE id = ? AND credential_id IS NULL",
);
const storeCredential = db.transaction((values) => updatePasskey.run(...values));

function authenticated(req) {
  const [scheme, token] = (req.headers.authorization ?? "").split(" ", 2);
  return scheme?.toLowerCase() === "bearer" && Boolean(token) && tokenExists.get(sha256(token)) !== undefined;
}

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function startRegistration(res, userId) {
  const options = await generateRegistrationOptions({
    rpName: "bench",
    rpID: RP_ID,
    userName: userId,
    userID: new TextEncoder().encode(userId),
    authenticatorSelection: { userVerification: "required" },
  });
  const passkeyId = randomUUID().replaceAll("-", "");
  insertPending.run(passkeyId, userId, options.challenge, Date.now());
  answer(res, 200, { passkeyId, publicKeyCredentialCreationOptions: { publicKey: options } });
}

async function verifyRegistration(req, res, userId, passkeyId) {
  let credential, name;
  try {
    const body = await readJson(req);
    credential = body.publicKeyCredential;
    name = String(body.passkeyName ?? "");
    if (typeof credential !== "object" || credential === null) throw new Error("no credential");
  } catch {
    return answer(res, 400, { error: "expected {publicKeyCredential, passkeyName}" });
  }
  const pending = findPending.get(passkeyId, userId);
  if (!pending) return answer(res, 404, { error: "no pending registration" });
  if (pending.created_at + CHALLENGE_TTL_MS < Date.now()) return answer(res, 400, { error: "challenge expired" });
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response: credential,
      expectedChallenge: pending.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      requireUserVerification: true,
    });
  } catch (err) {
    return answer(res, 400, { error: `registration refused: ${err.message}` });
  }
  if (!verification.verified) return answer(res, 400, { error: "registration refused" });
  const { credential: stored } = verification.registrationInfo;
  let changes;
  try {
    ({ changes } = storeCredential([
      stored.id,
      Buffer.from(stored.publicKey),
      stored.counter,
      name,
      Date.now(),
      passkeyId,
    ]));
  } catch (err) {
    if (err.code === "SQLITE_CONSTRAINT_UNIQUE") return answer(res, 409, { error: "credential already registered" });
    throw err;
  }
  if (changes !== 1) return answer(res, 409, { error: "registration already verified" });
  answer(res, 200, { passkeyId, verified: true });
}

const START = /^\/v2\/users\/([^/]+)\/passkeys$/;
const VERIFY = /^\/v2\/users\/([^/]+)\/passkeys\/([^/]+)$/;

const server = createServer(async (req, res) => {
  try {
    if (!authenticated(req)) return answer(res, 401, { error: "unauthenticated" });
    const path = req.url.split("?", 1)[0];
    let match;
    if (req.method === "POST" && (match = START.exec(path))) {
      req.resume(); // the body is empty; drain it
      return await startRegistration(res, decodeURIComponent(match[1]));
    }
    if (req.method === "POST" && (match = VERIFY.exec(path))) {
      return await verifyRegistration(req, res, decodeURIComponent(match[1]), decodeURIComponent(match[2]));
    }
    answer(res, 404, { error: "not found" });
  } catch (err) {
    answer(res, 500, { error: String(err) });
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PEER_PORT ?? 0), "127.0.0.1", () => {
  const { address, port } = server.address();
  console.log(`listening on ${address}:${port}`);
});
