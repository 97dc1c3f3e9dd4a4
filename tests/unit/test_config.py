from __future__ import annotations

import os

import pytest

from passkeys.config import ConfigError, Settings, load_settings


def test_defaults() -> None:
    s = load_settings({})
    assert s == Settings()
    assert s.database_url == "sqlite:///./data/passkeys.db"
    assert (s.http_addr, s.envoy_bin) == ("127.0.0.1:8080", "")
    assert s.attestation == "none"
    assert (s.grpc_addr, s.rp_id, s.origins, s.challenge_ttl_s) == (
        "127.0.0.1:50051",
        "localhost",
        ("http://localhost:8080",),
        300,
    )


def test_workers_default_to_the_usable_cores_and_the_token_cache_to_a_second() -> None:
    s = load_settings({})
    assert s.workers == len(os.sched_getaffinity(0))
    assert s.token_cache_s == 1
    assert (
        load_settings({"PASSKEYS_WORKERS": "3"}).workers,
        load_settings({"PASSKEYS_TOKEN_CACHE_S": "0"}).token_cache_s,
    ) == (
        3,
        0,
    )


def test_values_are_parsed() -> None:
    s = load_settings(
        {
            "PASSKEYS_ORIGINS": "https://a.example.com, https://b.example.com:8443/",
            "PASSKEYS_RP_ID": "Example.COM",
            "PASSKEYS_CHALLENGE_TTL_S": "60",
            "PASSKEYS_REQUIRE_USER_VERIFICATION": "false",
            "PASSKEYS_ALGORITHMS": "-7",
            "PASSKEYS_HTTP_ADDR": " 0.0.0.0:9090 ",
            "PASSKEYS_ENVOY_BIN": "/opt/envoy/bin/envoy",
            "PASSKEYS_ATTESTATION": " Direct ",
        }
    )
    assert s.attestation == "direct"
    assert s.http_addr == "0.0.0.0:9090"
    assert s.envoy_bin == "/opt/envoy/bin/envoy"
    assert s.origins == ("https://a.example.com", "https://b.example.com:8443")
    assert s.rp_id == "example.com"
    assert s.challenge_ttl_s == 60
    assert s.require_user_verification is False
    assert s.algorithms == (-7,)


def test_metrics_and_connection_limits() -> None:
    d = load_settings({})
    assert (d.metrics_addr, d.max_connection_age_s, d.connection_grace_s) == ("127.0.0.1:9464", 120, 10)
    s = load_settings(
        {
            "PASSKEYS_METRICS_ADDR": " 0.0.0.0:9100 ",
            "PASSKEYS_MAX_CONNECTION_AGE_S": "30",
            "PASSKEYS_CONNECTION_GRACE_S": "0",
        }
    )
    assert (s.metrics_addr, s.max_connection_age_s, s.connection_grace_s) == ("0.0.0.0:9100", 30, 0)
    assert load_settings({"PASSKEYS_METRICS_ADDR": ""}).metrics_addr == ""  # off


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("PASSKEYS_CHALLENGE_TTL_S", "0"),
        ("PASSKEYS_ORIGINS", ""),
        ("PASSKEYS_ORIGINS", "ftp://x.example"),
        ("PASSKEYS_ALGORITHMS", "-7,12345"),
        ("PASSKEYS_REQUIRE_USER_VERIFICATION", "maybe"),
        ("PASSKEYS_ATTESTATION_ROOTS_DIR", "/nonexistent"),
        ("PASSKEYS_LOG_LEVEL", "LOUD"),
        ("PASSKEYS_ATTESTATION", "self"),
        ("PASSKEYS_HTTP_ADDR", "8080"),
        ("PASSKEYS_HTTP_ADDR", "127.0.0.1:http"),
        ("PASSKEYS_GRPC_ADDR", "127.0.0.1:70000"),
        ("PASSKEYS_METRICS_ADDR", "9464"),
        ("PASSKEYS_MAX_CONNECTION_AGE_S", "0"),
        ("PASSKEYS_CONNECTION_GRACE_S", "-1"),
        ("PASSKEYS_WORKERS", "0"),
        ("PASSKEYS_WORKERS", "two"),
        ("PASSKEYS_TOKEN_CACHE_S", "-1"),
        ("PASSKEYS_SIGN_COUNT_POLICY", "ignore"),
    ],
)
def test_bad_values_name_the_variable(var: str, value: str) -> None:
    with pytest.raises(ConfigError, match=var):
        load_settings({var: value})


def test_jwt_settings_come_together(tmp_path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": [{"kty": "EC"}]}')
    s = load_settings(
        {"PASSKEYS_JWT_ISSUER": "https://i.example", "PASSKEYS_JWT_AUDIENCE": "api", "PASSKEYS_JWKS_PATH": str(jwks)}
    )
    assert (s.jwt_issuer, s.jwt_audience, s.jwks_path) == ("https://i.example", "api", str(jwks))
    with pytest.raises(ConfigError, match="PASSKEYS_JWKS_PATH"):
        load_settings({"PASSKEYS_JWT_ISSUER": "https://i.example", "PASSKEYS_JWT_AUDIENCE": "api"})
    with pytest.raises(ConfigError, match="PASSKEYS_JWKS_PATH"):
        load_settings(
            {
                "PASSKEYS_JWT_ISSUER": "https://i.example",
                "PASSKEYS_JWT_AUDIENCE": "api",
                "PASSKEYS_JWKS_PATH": str(tmp_path / "missing.json"),
            }
        )
    with pytest.raises(ConfigError, match="PASSKEYS_ADMIN_PAT_PATH"):
        load_settings({"PASSKEYS_ADMIN_PAT_PATH": str(tmp_path)})
    with pytest.raises(ConfigError, match="PASSKEYS_LINK_URL_TEMPLATE"):
        load_settings({"PASSKEYS_LINK_URL_TEMPLATE": "ftp://x/{{.Code}}"})


def test_jwks_from_a_url_instead_of_a_file(tmp_path) -> None:
    base = {"PASSKEYS_JWT_ISSUER": "https://i.example", "PASSKEYS_JWT_AUDIENCE": "api"}
    s = load_settings({**base, "PASSKEYS_JWKS_URL": "https://i.example/jwks"})
    assert (s.jwks_url, s.jwks_path) == ("https://i.example/jwks", None)
    with pytest.raises(ConfigError, match="PASSKEYS_JWKS_URL"):
        load_settings({**base, "PASSKEYS_JWKS_URL": "file:///etc/jwks"})
    with pytest.raises(ConfigError, match="not both"):
        load_settings({**base, "PASSKEYS_JWKS_URL": "https://i.example/jwks", "PASSKEYS_JWKS_PATH": "x"})


def test_sign_count_policy() -> None:
    assert load_settings({}).sign_count_policy == "refuse"
    assert load_settings({"PASSKEYS_SIGN_COUNT_POLICY": "flag"}).sign_count_policy == "flag"


def test_the_names_config_repeats_are_registrations() -> None:
    """config.py spells them out so that reading settings loads no webauthn; they must agree."""
    from webauthn.helpers.cose import COSEAlgorithmIdentifier

    from passkeys import config
    from passkeys.registration import attestation_policy, metadata

    assert config.ATTESTATION_POLICIES == attestation_policy.POLICIES
    assert config.CERTIFICATION_LEVELS == metadata.CERTIFICATION_LEVELS
    assert {a.value for a in COSEAlgorithmIdentifier} == config.SUPPORTED_ALGORITHMS


def test_help_lists_every_setting_load_settings_reads() -> None:
    import re
    from pathlib import Path

    from passkeys import config

    read = set(re.findall(r'"(PASSKEYS_[A-Z_]+)"', Path(config.__file__).read_text()))
    assert read == set(config.ENV_FIELDS)
    shown = config.settings_help()
    assert all(f"  {var}=" in shown for var in read)
    assert "PASSKEYS_HTTP_ADDR=127.0.0.1:8080" in shown and "PASSKEYS_TOP_ORIGINS=(none)" in shown
