// The enrolment page: pick or create a user, add a passkey (RegisterPasskey ->
// navigator.credentials.create() -> VerifyPasskeyRegistration), list (with what made each one, when
// it was last used and whether it syncs), rename and remove passkeys; and sign
// in with one (CreateSession -> navigator.credentials.get() -> SetSession), by user name or, with
// none, by picking a passkey (also from the browser's autofill on the user name field).
import { makeApi, TRANSPORTS } from "./api.js";
import { explain } from "./messages.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// Settings: the transport (?transport=rest, or the Settings menu) and an access token, kept for
// this tab only. credentials() is the one place the caller's identity is attached to calls.
const settings = {
  transport: TRANSPORTS.includes(params.get("transport")) ? params.get("transport") : "grpc-web",
  token: sessionStorage.getItem("passkeys.token") ?? "",
};
const credentials = () => (settings.token ? { authorization: `Bearer ${settings.token}` } : {});
let api = makeApi({ transport: settings.transport, credentials });

// A registration link (PASSKEYS_LINK_URL_TEMPLATE: ?userID=&codeID=&code=) enrols one passkey
// with the code alone: RegisterPasskey carries it in the body, with no bearer token, and
// VerifyPasskeyRegistration as `Bearer <code id>:<code>`. The code gives no right to list.
const link = params.get("codeID") && params.get("code") ? { id: params.get("codeID"), code: params.get("code") } : null;
const linkApis = link && {
  register: makeApi({ transport: settings.transport }),
  verify: makeApi({ transport: settings.transport, credentials: () => ({ authorization: `Bearer ${link.id}:${link.code}` }) }),
};

let userId = params.get("user") ?? params.get("userID") ?? "";

const STATES = {
  AUTH_FACTOR_STATE_READY: "Ready",
  AUTH_FACTOR_STATE_NOT_READY: "Not finished",
  AUTH_FACTOR_STATE_REMOVED: "Removed",
};
const AUTHENTICATORS = {
  platform: "PASSKEY_AUTHENTICATOR_PLATFORM",
  "cross-platform": "PASSKEY_AUTHENTICATOR_CROSS_PLATFORM",
  any: "PASSKEY_AUTHENTICATOR_UNSPECIFIED",
};

function say(text) {
  $("error").hidden = true;
  $("status").textContent = text;
}

// The error goes next to the control that failed: after its form (or, for a row's button, after
// the table), so that the person reads it where they acted.
function fail(error, control) {
  console.warn(error);
  $("status").textContent = "";
  const box = $("error");
  box.textContent = explain(error);
  const anchor = control?.closest("td") ? control.closest("table") : control?.closest("form, section");
  (anchor ?? $("status")).after(box);
  box.hidden = false;
}

// Buttons are disabled while a call runs, so a double click does not start two enrolments.
async function busy(button, work) {
  button.disabled = true;
  document.body.setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (error) {
    fail(error, button);
  } finally {
    button.disabled = false;
    document.body.removeAttribute("aria-busy");
  }
}

// "Ada Lovelace <ada@example.com>" from GetUserByID's user (or the new user's form), the ID after.
function nameOf(user) {
  const profile = user?.human?.profile ?? {};
  const name = profile.displayName || `${profile.givenName ?? ""} ${profile.familyName ?? ""}`.trim();
  const email = user?.human?.email?.email;
  return email ? `${name} <${email}>` : name;
}

function selectUser(id, user) {
  userId = id;
  const url = new URL(location.href);
  url.searchParams.set("user", id);
  history.replaceState(null, "", url);
  const shown = $("current-user");
  const name = nameOf(user);
  if (name) {
    const small = document.createElement("small");
    small.textContent = ` (ID ${id})`;
    shown.replaceChildren(name, small);
  } else {
    shown.textContent = id;
  }
  $("passkeys").hidden = false;
}

function formatTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// "synced" for a passkey that may sync (BE) and is backed up (BS, as of its last use); a
// multi-device one not backed up yet says so; a device-bound one is "this device only".
function syncOf(passkey) {
  if (!passkey.backupEligible) return "this device only";
  return passkey.backupState ? "synced" : "can sync, not backed up yet";
}

// A cell that names its column (the phone layout shows each value after its column's name).
function labelled(label) {
  const made = document.createElement("td");
  made.dataset.label = label;
  return made;
}

function timeCell(label, iso, none) {
  const cell = labelled(label);
  if (!iso) {
    cell.textContent = none;
    return cell;
  }
  const time = document.createElement("time");
  time.dateTime = iso;
  time.textContent = formatTime(iso);
  cell.append(time);
  return cell;
}

// The provider by AAGUID (PasskeyDetailsService): its icon for this page's light background.
function providerCell(passkey) {
  const cell = labelled("Provider");
  cell.className = "provider";
  if (!passkey.providerName) {
    cell.textContent = passkey.state === "AUTH_FACTOR_STATE_READY" ? "Unknown" : "";
    return cell;
  }
  if (passkey.providerIconLight) {
    const icon = document.createElement("img");
    icon.src = passkey.providerIconLight;
    icon.alt = "";
    icon.width = icon.height = 20;
    cell.append(icon);
  }
  cell.append(passkey.providerName);
  return cell;
}

async function refresh() {
  const { result = [] } = await api.listPasskeyDetails({ userId });
  const rows = result.map((passkey) => {
    const ready = passkey.state === "AUTH_FACTOR_STATE_READY";
    const row = document.createElement("tr");
    row.dataset.passkeyId = passkey.id;
    const name = document.createElement("td");
    name.className = "name";
    name.textContent = passkey.name || "(no name)";
    const state = labelled("State");
    state.textContent = STATES[passkey.state] ?? passkey.state;
    const sync = labelled("Sync");
    sync.textContent = ready ? syncOf(passkey) : "";
    const actions = document.createElement("td");
    actions.className = "actions";
    const remove = button("Remove", `Remove ${passkey.name || "passkey"}`);
    remove.addEventListener("click", () => confirmRemoval(actions, remove, passkey));
    if (ready) {
      const rename = button("Rename", `Rename ${passkey.name}`);
      rename.className = "edit";
      rename.addEventListener("click", () => startRename(name, actions, passkey));
      actions.append(rename);
    }
    actions.append(remove);
    row.append(
      name,
      providerCell(passkey),
      state,
      timeCell("Created", passkey.creationDate, ""),
      timeCell("Last used", passkey.lastUsed, ready ? "never" : ""),
      sync,
      actions,
    );
    return row;
  });
  $("passkey-rows").replaceChildren(...rows);
  $("passkey-table").hidden = rows.length === 0;
  $("no-passkeys").hidden = rows.length !== 0;
}

// Rename in the row: the name becomes a field with Save and Cancel (Enter saves, Escape cancels).
function startRename(cell, actions, passkey) {
  const form = document.createElement("form");
  form.className = "rename";
  const field = document.createElement("input");
  field.value = passkey.name;
  field.maxLength = 200;
  field.required = true;
  field.setAttribute("aria-label", `New name for ${passkey.name}`);
  const save = button("Save", `Save the name of ${passkey.name}`);
  save.type = "submit";
  const cancel = button("Cancel", `Cancel renaming ${passkey.name}`);
  cancel.className = "keep";
  form.append(field, save, cancel);
  cell.replaceChildren(form);
  actions.hidden = true;
  field.select();
  const stop = () => refresh().catch((error) => fail(error));
  cancel.addEventListener("click", stop);
  field.addEventListener("keydown", (event) => event.key === "Escape" && stop());
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = field.value.trim();
    busy(save, async () => {
      await api.renamePasskey({ userId, passkeyId: passkey.id, name });
      await refresh();
      say(`Passkey "${passkey.name}" renamed to "${name}".`);
    });
  });
}

function button(text, label) {
  const made = document.createElement("button");
  made.type = "button";
  made.textContent = text;
  made.setAttribute("aria-label", label);
  return made;
}

// Remove asks first, in the row: "Remove it? [Yes, remove] [Keep]".
function confirmRemoval(cell, remove, passkey) {
  const label = passkey.name || "passkey";
  const question = document.createElement("span");
  question.textContent = "Remove it? ";
  const yes = button("Yes, remove", `Yes, remove ${label}`);
  const keep = button("Keep", `Keep ${label}`);
  keep.className = "keep";
  cell.classList.add("confirm");
  cell.replaceChildren(question, yes, keep);
  yes.focus();
  keep.addEventListener("click", () => {
    cell.classList.remove("confirm");
    cell.replaceChildren(remove);
    remove.focus();
  });
  yes.addEventListener("click", () =>
    busy(yes, async () => {
      await api.removePasskey({ userId, passkeyId: passkey.id });
      await refresh();
      say(`Passkey "${passkey.name || passkey.id}" removed.`);
    }),
  );
}

async function addPasskey(name, kind) {
  if (!window.PublicKeyCredential?.parseCreationOptionsFromJSON) {
    throw new Error("this browser cannot create passkeys (it lacks PublicKeyCredential.parseCreationOptionsFromJSON)");
  }
  say("Asking the service for a new passkey…");
  const registration = link
    ? await linkApis.register.registerPasskey({ userId, authenticator: AUTHENTICATORS[kind], code: link })
    : await api.registerPasskey({ userId, authenticator: AUTHENTICATORS[kind] });
  const { passkeyId } = registration;
  try {
    say("Follow your browser's prompt to create the passkey…");
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(
      registration.publicKeyCredentialCreationOptions.publicKey,
    );
    const credential = await navigator.credentials.create({ publicKey });
    say("Checking the new passkey…");
    await (link ? linkApis.verify : api).verifyPasskeyRegistration({
      userId,
      passkeyId,
      passkeyName: name,
      publicKeyCredential: credential.toJSON(),
    });
  } catch (error) {
    // A refused or cancelled enrolment leaves no unfinished passkey behind in the list (a link's
    // code may not remove: that passkey stays NOT_READY until someone with rights does).
    if (!link) {
      await api.removePasskey({ userId, passkeyId }).catch(() => {});
      await refresh().catch(() => {});
    }
    throw error;
  }
  if (link) {
    // The code is spent: nothing more to do here.
    $("add-form").hidden = true;
    say(`Passkey "${name}" added. You can close this page.`);
    return;
  }
  await refresh();
  say(`Passkey "${name}" added.`);
}

const REQUIRED = "USER_VERIFICATION_REQUIREMENT_REQUIRED";
// The pending autofill sign-in (mediation "conditional"): aborted when a sign-in is asked for.
let autofill = null;

// One sign-in: a session with a WebAuthn challenge (for `loginName`'s passkeys, or with no user
// for any passkey of this site), the browser's assertion, then the session's factors shown.
async function signIn(loginName, mediation) {
  const request = { challenges: { webAuthN: { domain: "", userVerificationRequirement: REQUIRED } } };
  if (loginName) request.checks = { user: { loginName } };
  const created = await api.createSession(request);
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(
    created.challenges.webAuthN.publicKeyCredentialRequestOptions.publicKey,
  );
  const signal = mediation === "conditional" ? autofill.signal : undefined;
  if (mediation === "conditional") document.body.dataset.autofill = "waiting";
  else say("Follow your browser's prompt to use your passkey…");
  const credential = await navigator.credentials.get({ publicKey, mediation, signal });
  say("Checking the passkey…");
  const { sessionToken } = await api.setSession({
    sessionId: created.sessionId,
    checks: { webAuthN: { credentialAssertionData: credential.toJSON() } },
  });
  const { session } = await api.getSession({ sessionId: created.sessionId, sessionToken });
  const { user, webAuthN } = session.factors;
  const signedIn = $("signed-in");
  signedIn.textContent =
    `Signed in as ${user.loginName} (${user.displayName}) with the passkey ${credential.id.slice(0, 12)}…` +
    (webAuthN.userVerified ? ", you verified" : "");
  signedIn.dataset.userId = user.id;
  signedIn.dataset.credentialId = credential.id;
  signedIn.hidden = false;
  say(`Signed in as ${user.loginName}.`);
}

async function startAutofill() {
  if (!(await window.PublicKeyCredential?.isConditionalMediationAvailable?.())) return;
  autofill = new AbortController();
  try {
    await signIn("", "conditional");
    document.body.dataset.autofill = "signed-in";
  } catch (error) {
    document.body.dataset.autofill = "stopped";
    // Aborted for an explicit sign-in, or no right to create sessions: nothing to say.
    const quiet = ["PERMISSION_DENIED", "UNAUTHENTICATED"].includes(error?.codeName);
    if (error?.name !== "AbortError" && !quiet) fail(error);
  }
}

function setUpSignIn() {
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    autofill?.abort();
    $("signed-in").hidden = true;
    busy($("sign-in"), () =>
      signIn($("login-name").value.trim(), "optional").catch((error) => {
        // Sign-in's own wording for the reasons it shares with enrolment (messages.js).
        if (error && typeof error === "object") error.signIn = true;
        throw error;
      }),
    );
  });
  // Autofill waits from the first focus of the user name field, not from page load: each attempt
  // is a session on the service.
  $("login-name").addEventListener("focus", () => autofill || startAutofill(), { once: true });
}

function setUpLink() {
  $("signin").hidden = true;
  $("who").hidden = true;
  $("settings").hidden = true;
  $("passkeys-title").textContent = "Add your passkey";
  $("passkey-table").hidden = true;
  $("no-passkeys").hidden = true;
  $("passkeys").hidden = false;
  checkLink();
}

// On load: whom the link is for, or that it is spent, expired or wrong (then no form to fill).
async function checkLink() {
  try {
    const { user } = await linkApis.verify.getUserByID({ userId });
    const name = nameOf(user);
    if (name) $("passkeys-title").textContent = `Add your passkey, ${name}`;
  } catch (error) {
    fail(error, $("add-passkey"));
    if (["CODE_USED", "CODE_EXPIRED", "CODE_INVALID"].includes(error.reason)) $("add-form").hidden = true;
  }
}

// WebAuthn needs a domain: on a loopback IP address the page offers the same page on localhost.
function offerLocalhost() {
  if (!/^(127\.\d+\.\d+\.\d+|\[::1\])$/.test(location.hostname)) return;
  const url = new URL(location.href);
  url.hostname = "localhost";
  $("localhost-link").href = url.href;
  $("use-localhost").hidden = false;
}

function setUpSettings() {
  $("transport").value = settings.transport;
  $("token").value = settings.token;
  $("settings-form").addEventListener("submit", (event) => {
    event.preventDefault();
    settings.transport = $("transport").value;
    settings.token = $("token").value.trim();
    sessionStorage.setItem("passkeys.token", settings.token);
    const url = new URL(location.href);
    url.searchParams.set("transport", settings.transport);
    history.replaceState(null, "", url);
    api = makeApi({ transport: settings.transport, credentials });
    say(`Settings saved: calls go over ${settings.transport === "rest" ? "REST" : "grpc-web"}.`);
    if (userId) busy($("save-settings"), refresh);
  });
}

function main() {
  offerLocalhost();
  setUpSettings();
  $("user-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("user-id").value.trim();
    busy(event.submitter ?? $("use-user"), async () => {
      const { user } = await api.getUserByID({ userId: id }); // "no such user" before the page switches
      selectUser(id, user);
      await refresh();
      say(`Managing the passkeys of user ${id}.`);
    });
  });
  $("new-user-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("create-user"), async () => {
      const profile = { givenName: $("given-name").value.trim(), familyName: $("family-name").value.trim() };
      const email = { email: $("email").value.trim() };
      const { userId: id } = await api.addHumanUser({ profile, email });
      selectUser(id, { human: { profile, email } });
      $("user-id").value = id;
      $("new-user").open = false;
      await refresh();
      say(`User created with ID ${id}. Now add a passkey.`);
    });
  });
  $("add-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("passkey-name").value.trim();
    busy($("add-passkey"), () => addPasskey(name, $("kind").value));
  });
  if (link) {
    setUpLink();
  } else {
    setUpSignIn();
    if (userId) {
      $("user-id").value = userId;
      selectUser(userId);
      busy($("use-user"), async () => {
        const { user } = await api.getUserByID({ userId });
        selectUser(userId, user);
        await refresh();
      });
    }
  }
  document.body.dataset.ready = "true";
}

main();
