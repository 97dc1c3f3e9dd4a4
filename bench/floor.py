"""The floors: bare `webauthn.verify_registration_response` on one core, on responses made by
the software authenticator before the clock starts (the same kind the service is sent), and
bare `webauthn.verify_authentication_response` on its ES256 assertions (kind "assertion": user
verification required, as the sign-in rows of the bench ask)."""

from __future__ import annotations

import json
import os
import sys
import time

from webauthn import verify_authentication_response, verify_registration_response

from tests.support.authenticator import SoftAuthenticator

RP_ID = "localhost"
ORIGIN = "http://localhost:8080"


def floor_rate(attestation: str, seconds: float) -> dict[str, float]:
    """Verifies per second of one thread pinned to one core, and its CPU ms per verify."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    made = []
    for _ in range(400):
        challenge = os.urandom(32)
        made.append(
            (
                challenge,
                SoftAuthenticator().register(challenge=challenge, origin=ORIGIN, rp_id=RP_ID, attestation=attestation),
            )
        )
    done = 0
    start, cpu = time.perf_counter(), time.thread_time()
    while time.perf_counter() - start < seconds:
        for challenge, credential in made:
            verify_registration_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=RP_ID, expected_origin=ORIGIN
            )
        done += len(made)
    elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu
    return {"rate": round(done / elapsed, 1), "cpu_ms": round(cpu * 1000 / done, 4)}


def assertion_rate(seconds: float) -> dict[str, float]:
    """Assertion verifies per second of one thread pinned to one core, as the service calls it
    (origins as a list, user verification required, the stored counter 0)."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    made = []
    for _ in range(50):
        auth = SoftAuthenticator()
        made_for = os.urandom(32)
        credential = auth.register(challenge=made_for, origin=ORIGIN, rp_id=RP_ID)
        public_key = verify_registration_response(
            credential=credential, expected_challenge=made_for, expected_rp_id=RP_ID, expected_origin=ORIGIN
        ).credential_public_key
        for _ in range(8):
            challenge = os.urandom(32)
            signed = auth.authenticate(challenge=challenge, origin=ORIGIN, rp_id=RP_ID, user_handle=b"bench")
            made.append((challenge, signed, public_key))
    done = 0
    start, cpu = time.perf_counter(), time.thread_time()
    while time.perf_counter() - start < seconds:
        for challenge, signed, public_key in made:
            verify_authentication_response(
                credential=signed,
                expected_challenge=challenge,
                expected_rp_id=RP_ID,
                expected_origin=[ORIGIN],
                credential_public_key=public_key,
                credential_current_sign_count=0,
                require_user_verification=True,
            )
        done += len(made)
    elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu
    return {"rate": round(done / elapsed, 1), "cpu_ms": round(cpu * 1000 / done, 4)}


def main() -> None:
    """`python -m bench.floor [SECONDS] [ATTESTATION...]` (default: 2 s, none and packed; the
    kind "assertion" is the sign-in floor)."""
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    attestations = sys.argv[2:] or ["none", "packed"]
    print(
        json.dumps(
            {att: assertion_rate(seconds) if att == "assertion" else floor_rate(att, seconds) for att in attestations}
        )
    )


if __name__ == "__main__":
    main()
