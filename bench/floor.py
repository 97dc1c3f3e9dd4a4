"""The floor: bare `webauthn.verify_registration_response` on one core, on responses made by
the software authenticator before the clock starts (the same kind the service is sent)."""

from __future__ import annotations

import json
import os
import sys
import time

from webauthn import verify_registration_response

from tests.support.authenticator import SoftAuthenticator

RP_ID = "localhost"
ORIGIN = "http://localhost:8080"


def floor_rate(attestation: str, seconds: float) -> float:
    """Verifies per second of one thread, pinned to one core."""
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
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for challenge, credential in made:
            verify_registration_response(
                credential=credential, expected_challenge=challenge, expected_rp_id=RP_ID, expected_origin=ORIGIN
            )
        done += len(made)
    return done / (time.perf_counter() - start)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    print(json.dumps({att: round(floor_rate(att, seconds), 1) for att in ("none", "packed")}))


if __name__ == "__main__":
    main()
