"""Envoy's memory under clients holding request bodies just under the limit (each buffered
whole): as its heap fills, held streams are cut off and normal calls are served."""

from __future__ import annotations

import time

from passkeys.config import Settings
from passkeys.limits import MAX_REQUEST_BYTES
from tests.support.body_holders import hold_bodies, memory_mib, still_open
from tests.support.gateway import serving

HOLDERS = 800
# 800 bodies of 1.06 MiB arrive faster than any timer here (loopback): the peak is about what
# they weigh; without the overload actions they stayed buffered for the 60 s request timeout.
PEAK_BOUND_MIB = 1200


def test_800_held_bodies_are_cut_off_within_seconds_and_normal_calls_are_served(settings: Settings) -> None:
    if "postgres" in settings.database_url:  # Envoy's memory does not depend on the database
        return
    with serving(settings) as gw:
        pid = gw.envoy.process.pid
        before, _ = memory_mib(pid)
        held = hold_bodies(gw.envoy.port, HOLDERS, MAX_REQUEST_BYTES - 1)
        try:
            at_bodies, _ = memory_mib(pid)
            deadline = time.monotonic() + 10
            while (left := still_open(held)) and time.monotonic() < deadline:
                time.sleep(0.2)
            seconds = 10 - (deadline - time.monotonic())
            now, peak = memory_mib(pid)
            print(
                f"Envoy RSS: {before} MiB before, {at_bodies} MiB with {HOLDERS} bodies sent, peak {peak} MiB, "
                f"{now} MiB after; held connections closed within {seconds:.1f} s ({left} left)"
            )
            assert left == 0
            assert peak < PEAK_BOUND_MIB
            # Normal calls are served again (new requests are refused only while the heap is full).
            deadline = time.monotonic() + 10
            while (
                status := gw.rest("POST", f"/v2/users/{gw.grpc.add_user()}/passkeys/_search", {}).status_code
            ) != 200:
                assert time.monotonic() < deadline, status
                time.sleep(0.2)
        finally:
            for connection in held:
                connection.close()
