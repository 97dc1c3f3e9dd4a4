"""A TCP proxy between the service and PostgreSQL, so tests can take the database away without
touching the shared server: `down()` closes every connection and refuses new ones, `freeze()`
keeps connections open but passes no byte either way (a hung database), `up()` restores."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

UP, DOWN, FROZEN = "up", "down", "frozen"
TICK_S = 0.05


class TcpProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = UP
        self.port = 0
        self.connections = 0  # accepted so far
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket | None]] = []
        self._listener: socket.socket | None = None
        self._closed = threading.Event()
        self._listen()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(TICK_S)
        self.port = listener.getsockname()[1]
        self._listener = listener

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            listener = self._listener
            if listener is None:
                time.sleep(TICK_S)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            if self.mode == FROZEN:
                with self._lock:
                    self._pairs.append((client, None))  # accepted, never answered
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while not self._closed.is_set() and self.mode != DOWN:
                if self.mode == FROZEN:
                    time.sleep(TICK_S)
                    continue
                readable, _, _ = select.select(list(peers), [], [], TICK_S)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):  # closed under us by down() or up()
            return
        finally:
            for sock in peers:
                with contextlib.suppress(OSError):
                    sock.close()

    def _close_all(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()

    def down(self) -> None:
        """The database is gone: connections closed, new ones refused (nothing listens)."""
        self.mode = DOWN
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self._close_all()

    def freeze(self) -> None:
        """The database hangs: connections stay open (new ones are accepted), nothing moves."""
        self.mode = FROZEN

    def up(self) -> None:
        if self.mode == FROZEN:
            self._close_all()  # a hung peer's sessions are lost, as after a database restart
        self.mode = UP
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self._closed.set()
        self.down()


@contextmanager
def tcp_proxy(target: tuple[str, int]) -> Iterator[TcpProxy]:
    proxy = TcpProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()
