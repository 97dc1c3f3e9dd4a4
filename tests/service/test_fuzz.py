"""Property-based hostile input: valid registration responses from the software authenticator,
changed at every layer (tests/support/mutations.py), sent through the real server.

Every answer must be a client error with a message and an ErrorInfo (never INTERNAL or
UNKNOWN), every table unchanged, and the server still answering. A change that leaves the
credential valid (an unknown JSON member, the backup-eligible flag, ...) may verify: then
exactly that passkey is READY, and the next examples start on a fresh registration.

PASSKEYS_FUZZ_EXAMPLES (default 200) examples per layer on SQLite, a quarter of that on
PostgreSQL; PASSKEYS_FUZZ_DERANDOMIZE=0 draws new examples each run (`make fuzz`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zitadel.user.v2 import user_service_pb2 as pb

from passkeys.config import Settings
from tests.conftest import ORIGIN, RP_ID
from tests.support import counts
from tests.support.databases import Snapshots, fresh_database
from tests.support.mutations import LAYERS, Credential
from tests.support.refusals import error_info
from tests.support.registration import Pending
from tests.support.servers import Client, running

EXAMPLES = int(os.environ.get("PASSKEYS_FUZZ_EXAMPLES", "200"))
DERANDOMIZE = os.environ.get("PASSKEYS_FUZZ_DERANDOMIZE", "1") != "0"
# What a hostile credential may be answered with; INVALID_ARGUMENT is what we expect of all
# but the valid ones, the others would be a finding to look at (the test prints the labels).
CLIENT_ERRORS = {grpc.StatusCode.INVALID_ARGUMENT}
FORMATS = ("none", "packed", "packed-x5c")
VERIFY = "/zitadel.user.v2.UserService/VerifyPasskeyRegistration"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


class Target:
    """The server, its database, and one pending registration per attestation format."""

    def __init__(self, client: Client, backend: str) -> None:
        self.client = client
        self.backend = backend
        self.snapshots = Snapshots(client.url)
        self.user_id = client.add_user()
        self.pending = {fmt: self._start(fmt) for fmt in FORMATS}
        self.outcomes: Counter[str] = Counter()
        self.verify = client.channel.unary_unary(
            VERIFY, request_serializer=None, response_deserializer=pb.VerifyPasskeyRegistrationResponse.FromString
        )

    def _start(self, fmt: str) -> Pending:
        return Pending(self.client, user_id=self.user_id, attestation=fmt)

    def send(self, fmt: str, label: str, credential: Credential) -> None:
        p = self.pending[fmt]
        request = pb.VerifyPasskeyRegistrationRequest(user_id=p.user_id, passkey_id=p.passkey_id, passkey_name="fuzz")
        struct = struct_pb2.Struct()
        struct.update(credential)
        # Field 3 appended as bytes: python's protobuf would refuse to copy a Struct nested
        # past its recursion limit into the request, but a client in another language can send it.
        body = request.SerializeToString() + _length_delimited(3, struct.SerializeToString())
        before = self.snapshots.take()
        try:
            self.verify(body, metadata=[("authorization", f"Bearer {self.client.admin_token}")], timeout=60)
        except grpc.RpcError as err:
            assert err.code() in CLIENT_ERRORS, (label, err.code(), (err.details() or "")[:500])
            assert err.details(), label
            info = error_info(err)
            assert info.domain == "passkeys" and info.reason, label
            assert self.snapshots.take() == before, label
            self.outcomes[f"{err.code().name} {info.reason} {info.metadata.get('check', '')}".strip()] += 1
            return
        # Verified: the change left a valid credential. Exactly this passkey became READY.
        listed = {
            k.id: k.state for k in self.client.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=p.user_id)).result
        }
        assert listed[p.passkey_id] == 2, label
        self.outcomes[f"OK {label}"] += 1
        self.pending[fmt] = self._start(fmt)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    with (
        fresh_database(request.param, tmp) as url,
        # A day's challenges: a long `make fuzz` keeps one pending registration for many minutes.
        running(Settings(database_url=url, rp_id=RP_ID, origins=(ORIGIN,), challenge_ttl_s=86400)) as client,
    ):
        t = Target(client, request.param)
        yield t
        t.snapshots.close()
        print(f"\nfuzz outcomes on {t.backend}: {dict(sorted(t.outcomes.items()))}")
        # Still serving after everything it was sent.
        assert client.add_user()


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_mutated_credentials_are_refused_cleanly(target: Target, layer: str) -> None:
    examples = EXAMPLES if target.backend == "sqlite" else max(EXAMPLES // 4, 3)

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=DERANDOMIZE,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        fmt = data.draw(st.sampled_from(FORMATS), label="format")
        label, credential = data.draw(LAYERS[layer](target.pending[fmt].credential), label="mutation")
        counts.record("fuzz", f"{layer}-{target.backend}")
        target.send(fmt, f"{fmt} {label}", credential)

    one()


# Any text a protobuf string can carry (valid UTF-8: no lone surrogates), NUL and controls included.
hostile_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300) | st.sampled_from(
    ["", " ", "\x00", "a\x00b", "x" * 201, "x" * 100_000, "../..", "%00", "' OR 1=1 --", "\u202e", "😀" * 60]
)


@pytest.mark.parametrize("rpc", ["register", "register_code", "verify", "list", "remove"])
def test_hostile_request_fields_are_refused_cleanly(target: Target, rpc: str) -> None:
    """Ids, names, domains and registration codes of any text: a client error, nothing stored
    (only a RegisterPasskey the text happens to be valid for may succeed)."""
    examples = max(EXAMPLES // 4, 10) if target.backend == "sqlite" else max(EXAMPLES // 16, 5)
    stub = target.client.stub
    known_user = target.user_id

    @settings(max_examples=examples, deadline=None, derandomize=DERANDOMIZE, suppress_health_check=list(HealthCheck))
    @given(a=hostile_text, b=hostile_text, known=st.booleans())
    def one(a: str, b: str, known: bool) -> None:
        p = target.pending["none"]
        user_id = known_user if known else a
        calls = {
            "register": lambda: stub.RegisterPasskey(pb.RegisterPasskeyRequest(user_id=user_id, domain=b)),
            "register_code": lambda: target.client.stub_for(None).RegisterPasskey(
                pb.RegisterPasskeyRequest(user_id=user_id, code={"id": a, "code": b})
            ),
            "verify": lambda: stub.VerifyPasskeyRegistration(
                p.request(user_id=user_id, passkey_id=p.passkey_id if known else b, passkey_name=b)
            ),
            "list": lambda: stub.ListPasskeys(pb.ListPasskeysRequest(user_id=a)),
            "remove": lambda: stub.RemovePasskey(pb.RemovePasskeyRequest(user_id=user_id, passkey_id=b)),
        }
        counts.record("fuzz", f"fields-{rpc}-{target.backend}")
        before = target.snapshots.take()
        try:
            calls[rpc]()
        except grpc.RpcError as err:
            allowed = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAUTHENTICATED}
            assert err.code() in allowed, (rpc, a[:50], b[:50], err.code(), (err.details() or "")[:300])
            assert err.details() and error_info(err).reason
            assert target.snapshots.take() == before
            target.outcomes[f"{rpc} {err.code().name} {error_info(err).reason}"] += 1
            return
        target.outcomes[f"{rpc} OK"] += 1
        if rpc == "verify":  # a valid name: the pending registration is used up
            target.pending["none"] = target._start("none")
        else:
            assert rpc in ("register", "list"), rpc

    one()
