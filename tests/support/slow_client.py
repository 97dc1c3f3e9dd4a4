"""A client that trickles one gRPC request over raw HTTP/2 (h2): headers, then the message a
byte at a time, as a slow or hostile client would, to see how long the server lets it hold on."""

from __future__ import annotations

import socket
import struct
import threading
import time

import h2.config
import h2.connection
import h2.events
import h2.exceptions


class SlowClient:
    """Opens a connection and starts a unary call to `method`; `trickle()` sends its bytes."""

    def __init__(self, port: int, method: str, message: bytes, *, token: str = "") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.stream_id = self.conn.get_next_available_stream_id()
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", method),
            (":authority", f"127.0.0.1:{port}"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            *([("authorization", f"Bearer {token}")] if token else []),
        ]
        self.conn.send_headers(self.stream_id, headers)
        self.sock.sendall(self.conn.data_to_send())
        self.body = b"\x00" + struct.pack(">I", len(message)) + message
        self.sent = 0
        self.goaway_at: float | None = None
        self.closed_at: float | None = None
        self._lock = threading.Lock()  # h2's state is shared by the reader and the trickler
        self.opened_at = time.monotonic()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        self.sock.settimeout(None)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                with self._lock:
                    events = self.conn.receive_data(data)
                    self.sock.sendall(self.conn.data_to_send())  # settings and ping acks
                for event in events:
                    if isinstance(event, h2.events.ConnectionTerminated) and self.goaway_at is None:
                        self.goaway_at = time.monotonic()
        except h2.exceptions.ProtocolError:
            # h2 stops at a GOAWAY (frames after it in the same read are an error to it): the
            # server said goodbye; wait, unparsed, for it to close the socket.
            if self.goaway_at is None:
                self.goaway_at = time.monotonic()
            self._drain()
        except OSError:
            pass
        self.closed_at = time.monotonic()

    def _drain(self) -> None:
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass

    def trickle(self, *, every_s: float, until_s: float) -> None:
        """One byte every `every_s`, never the last one, for up to `until_s` or until closed."""
        end = time.monotonic() + until_s
        while time.monotonic() < end and self.closed_at is None and self.sent < len(self.body) - 1:
            try:
                with self._lock:
                    # A DATA frame by hand: h2 would refuse to send once it has seen a GOAWAY,
                    # and a hostile client would not stop there.
                    frame = struct.pack(">I", 1)[1:] + b"\x00\x00" + struct.pack(">I", self.stream_id)
                    self.sock.sendall(frame + self.body[self.sent : self.sent + 1])
            except OSError:
                break
            self.sent += 1
            time.sleep(every_s)

    def close(self) -> None:
        self.sock.close()
        self._reader.join(5)
