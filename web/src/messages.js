// Errors in words a person understands: from the service (ApiError) or from the browser's
// navigator.credentials.create() and .get() (a DOMException).

const CHECKS = {
  user_verification:
    "Your authenticator did not verify you (no PIN, fingerprint or face check), so the passkey was not saved. " +
    "Use an authenticator that can verify you, or set up a PIN on it.",
  user_presence: "Your authenticator did not confirm that you were there (no touch), so the passkey was not saved.",
  origin: "This page's address is not one the service accepts passkeys from.",
  rp_id_hash: "The passkey was made for a different site than this one.",
  challenge: "The answer from your authenticator does not belong to this request. Please try again.",
  algorithm: "Your authenticator uses a signature type this service does not accept.",
  attestation_statement: "Your authenticator's proof of where it comes from could not be checked.",
};

const FIELDS = {
  passkey_name: "The passkey name must be 1 to 200 characters long.",
  // RenamePasskey's field.
  name: "The passkey name must be 1 to 200 characters long, without invisible or control characters.",
  user_id: "The user ID must be 1 to 200 characters long.",
  email: "Please enter a valid email address.",
  given_name: "Please enter a given name (up to 200 characters).",
  family_name: "Please enter a family name (up to 200 characters).",
};

// Sign-in (SetSession) refusals: ASSERTION_REJECTED's checks, then other reasons.
const SIGN_IN_CHECKS = {
  user_verification: "Your authenticator did not verify you (no PIN, fingerprint or face check), so you were not signed in.",
  user_handle: "This passkey belongs to another account.",
  origin: "This page's address is not one the service accepts sign-ins from.",
  challenge: "The answer from your authenticator does not belong to this sign-in. Please try again.",
};
const SIGN_IN_REASONS = {
  PASSKEY_NOT_FOUND: "This passkey is not (or no longer) registered for this account.",
  USER_NOT_FOUND: "There is no user with this user name.",
};

const CODES = {
  UNAUTHENTICATED: "The service did not accept your access: enter a valid access token under Settings.",
  PERMISSION_DENIED: "You are not allowed to manage this user's passkeys.",
  UNAVAILABLE: "The service is unavailable at the moment. Please try again shortly.",
  DEADLINE_EXCEEDED: "The service took too long to answer. Please try again.",
  RESOURCE_EXHAUSTED: "The request was too large or too frequent. Please try again later.",
};

// One entry for every reason the service raises (passkeys.errors.Reason; tests/unit/test_reasons.py
// checks both ways): words, or a function of the error where the service's message says more.
const refused = (error) => `The service refused the request: ${error.message}`;
const REASONS = {
  INVALID_FIELD: refused, // FIELDS first, for the fields a person types
  UNSUPPORTED_FIELD: refused, // the page sets none of them; the message names the field
  MALFORMED_REQUEST: refused,
  DOMAIN_NOT_ALLOWED: "This site may not create passkeys for the domain it asked for.",
  CREDENTIAL_REJECTED: (error) =>
    `The passkey was refused by the service (the ${error.metadata?.check || "WebAuthn"} check failed).`, // CHECKS first
  CREDENTIAL_EXISTS: "This passkey is already registered. Each authenticator can be added only once.",
  CHALLENGE_EXPIRED: "That took too long and the request expired. Please try again.",
  PASSKEY_ALREADY_VERIFIED: "This passkey has already been added.",
  PASSKEY_NOT_READY: "This passkey is not finished yet: add it first, then rename it.",
  PASSKEY_NOT_FOUND: "This passkey does not exist (any more). It may have been removed already.",
  USER_NOT_FOUND: "There is no user with this ID.",
  USER_EXISTS: "A user with this ID or email already exists.",
  USERNAME_TAKEN: "This username is taken. Please choose another one.",
  ORGANIZATION_NOT_FOUND: "This organization does not exist.",
  ORGANIZATION_EXISTS: "An organization with this domain already exists.",
  MACHINE_USER_EXISTS: "A machine user with this name already exists.",
  PERMISSION_DENIED: CODES.PERMISSION_DENIED,
  TOKEN_MISSING: CODES.UNAUTHENTICATED,
  TOKEN_MALFORMED: CODES.UNAUTHENTICATED,
  TOKEN_INVALID: CODES.UNAUTHENTICATED,
  TOKEN_EXPIRED: CODES.UNAUTHENTICATED,
  CODE_USED: "This registration link has been used already. Please ask for a new one.",
  CODE_EXPIRED: "This registration link has expired. Please ask for a new one.",
  CODE_INVALID: "This registration link is not valid (any more). Please ask for a new one.",
  DATABASE_UNAVAILABLE: "The service cannot reach its database at the moment. Please try again shortly.",
  JWKS_UNAVAILABLE: CODES.UNAVAILABLE,
  DEADLINE_EXCEEDED: CODES.DEADLINE_EXCEEDED,
  SERVER_FAULT: refused,
  SERVER_RESOURCES_EXHAUSTED: CODES.UNAVAILABLE,
  INTERNAL: refused,
  ASSERTION_REJECTED: "The passkey was refused by the service.",
  SIGN_COUNT_REGRESSED: "This passkey's counter went back: the authenticator may have been copied. Sign-in refused.",
  CHALLENGE_MISSING: "This sign-in was already used. Please sign in again.",
  SESSION_NOT_FOUND: "This sign-in session does not exist (any more). Please sign in again.",
  SESSION_EXPIRED: "This sign-in session has expired. Please sign in again.",
  SESSION_USER_CHANGED: "This sign-in session belongs to another user.",
  SESSION_CHANGED: "The sign-in changed meanwhile. Please try again.",
  PASSKEY_CHANGED: "The passkey was used or changed meanwhile. Please sign in again.",
  SESSION_TOKEN_INVALID: "This sign-in's token is not valid (any more).",
  CHECK_NOT_SUPPORTED: "This kind of sign-in check is not supported here.",
  CHALLENGE_NOT_SUPPORTED: "This kind of sign-in challenge is not supported here.",
  QUERY_NOT_SUPPORTED: "This kind of session search is not supported here.",
};

const BROWSER = {
  NotAllowedError:
    "No passkey was created: the request was cancelled or timed out, or your authenticator cannot verify you " +
    "(with a PIN, fingerprint or face), which this service requires.",
  InvalidStateError:
    "This authenticator already holds a passkey for this account. Use another authenticator, or remove the old passkey first.",
  NotSupportedError: "Your authenticator supports none of the signature types this service accepts.",
  SecurityError: "This page's address may not create passkeys for this site.",
  AbortError: "Creating the passkey was cancelled.",
};
const SIGN_IN_BROWSER = {
  NotAllowedError: "No passkey was used: the request was cancelled or timed out, or no passkey of this site is here.",
  AbortError: "The sign-in was cancelled.",
};

export function explain(error) {
  if (error?.name === "ApiError") {
    if (error.reason === "CREDENTIAL_REJECTED") {
      const check = error.metadata?.check ?? "";
      return CHECKS[check] ?? REASONS.CREDENTIAL_REJECTED(error);
    }
    if (error.reason === "ASSERTION_REJECTED") {
      const check = error.metadata?.check ?? "";
      return SIGN_IN_CHECKS[check] ?? `The passkey was refused by the service (the ${check || "WebAuthn"} check failed).`;
    }
    if (error.signIn && SIGN_IN_REASONS[error.reason]) return SIGN_IN_REASONS[error.reason];
    if (error.reason === "INVALID_FIELD" && FIELDS[error.metadata?.field]) return FIELDS[error.metadata.field];
    const words = REASONS[error.reason] ?? CODES[error.codeName] ?? refused;
    return typeof words === "function" ? words(error) : words;
  }
  if (error instanceof DOMException && error.signIn && SIGN_IN_BROWSER[error.name]) return SIGN_IN_BROWSER[error.name];
  if (error instanceof DOMException && BROWSER[error.name]) return BROWSER[error.name];
  return `Something went wrong: ${error?.message ?? error}`;
}
