"""The watchdog cuts a connection blocked past its guard's limit, and only such a one."""

from __future__ import annotations

import socket
import time

from passkeys.store.watchdog import Watchdog


class Conn:
    """What the watchdog needs of a DB-API connection: its socket's descriptor."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def fileno(self) -> int:
        return self.sock.fileno()


def test_a_blocked_read_past_the_limit_is_cut() -> None:
    dog = Watchdog()
    ours, peer = socket.socketpair()  # the peer never answers, like a hung database
    try:
        started = time.monotonic()
        with dog.guard(0.3):
            dog.attach(Conn(ours))
            assert ours.recv(1) == b""  # returns once the watchdog shuts the socket down
        assert 0.3 <= time.monotonic() - started < 1.5
    finally:
        dog.stop()
        ours.close()
        peer.close()


def test_a_connection_checked_in_or_within_its_limit_is_left_alone() -> None:
    dog = Watchdog()
    a, a_peer = socket.socketpair()
    b, b_peer = socket.socketpair()
    try:
        with dog.guard(0.2):
            dog.attach(Conn(a))
            dog.detach(Conn(b))  # not the attached one: no effect
        with dog.guard(0.2):
            conn = Conn(b)
            dog.attach(conn)
            dog.detach(conn)  # back in the pool
            time.sleep(0.5)
        with dog.guard(5):
            dog.attach(Conn(a))
            time.sleep(0.3)
        for sock, peer in ((a, a_peer), (b, b_peer)):
            peer.sendall(b"x")
            assert sock.recv(1) == b"x"  # still open both ways
    finally:
        dog.stop()
        for s in (a, a_peer, b, b_peer):
            s.close()
