"""The /metrics endpoint's own small HTTP server: bounded threads, connections and idle time.

prometheus_client's start_http_server gives every connection a thread and never closes an idle
one: a few hundred idle connections hold as many threads and file descriptors, and starve the
gRPC server of descriptors. Here one thread accepts and waits on every connection with a
selector (no thread per connection); a connection that has sent nothing within IDLE_TIMEOUT_S is
closed, beyond MAX_CONNECTIONS new ones are closed at once, and only a connection with bytes to
read is handed to a pool of THREADS, which answers one request (HTTP/1.0) and closes it. A
request must then arrive whole within IDLE_TIMEOUT_S of its first byte.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from prometheus_client import CollectorRegistry, MetricsHandler

log = logging.getLogger(__name__)

THREADS = 4
IDLE_TIMEOUT_S = 5.0
MAX_CONNECTIONS = 64


class MetricsServer:
    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry,
        *,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
        threads: int = THREADS,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._listener.bind((host, port))
            self._listener.listen(128)
        except OSError:
            self._listener.close()
            raise
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._handler = MetricsHandler.factory(registry)
        self._idle_timeout_s = idle_timeout_s
        self._max_connections = max_connections
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="metrics")
        self._open = 0  # connections accepted and not yet closed (waiting or being answered)
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._stopped = threading.Event()
        threading.Thread(target=self._loop, name="metrics-accept", daemon=True).start()

    def _loop(self) -> None:
        waiting: dict[socket.socket, float] = {}  # connection -> when it is closed if still silent
        self._selector.register(self._listener, selectors.EVENT_READ)
        while not self._stopped.is_set():
            for key, _ in self._selector.select(timeout=0.5):
                if key.fileobj is self._listener:
                    self._accept(waiting)
                else:
                    connection = key.fileobj
                    assert isinstance(connection, socket.socket)
                    self._selector.unregister(connection)
                    del waiting[connection]
                    self._pool.submit(self._answer, connection)
            now = time.monotonic()
            for connection in [c for c, until in waiting.items() if until <= now]:
                self._selector.unregister(connection)
                del waiting[connection]
                self._close(connection)
        for connection in waiting:
            connection.close()
        self._selector.close()
        self._listener.close()

    def _accept(self, waiting: dict[socket.socket, float]) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors: leave it in the backlog for now
                log.warning("metrics: cannot accept", extra={"error": str(exc)})
                return
            with self._lock:
                full = self._open >= self._max_connections
                if not full:
                    self._open += 1
            if full:
                connection.close()
                continue
            connection.setblocking(False)
            waiting[connection] = time.monotonic() + self._idle_timeout_s
            self._selector.register(connection, selectors.EVENT_READ)

    def _answer(self, connection: socket.socket) -> None:
        try:
            connection.setblocking(True)
            connection.settimeout(self._idle_timeout_s)
            self._handler(connection, connection.getpeername(), self)
        except OSError:  # a client that went away or timed out; nothing to answer
            pass
        finally:
            self._close(connection)

    def _close(self, connection: socket.socket) -> None:
        try:
            connection.close()
        finally:
            with self._lock:
                self._open -= 1

    def stop(self) -> None:
        self._stopped.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
