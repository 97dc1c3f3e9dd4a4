"""Clients that each send a REST request's headers and its body but for the last byte, and
hold the connection (Envoy buffers such a body whole, for the transcoder); and Envoy's memory."""

from __future__ import annotations

import socket
import time
from pathlib import Path


def memory_mib(pid: int) -> tuple[int, int]:
    """(resident now, resident at its peak) of process `pid`, in MiB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) // 1024, int(status["VmHWM"].split()[0]) // 1024


def hold_bodies(port: int, count: int, size: int, *, path: str = "/v2/users/human") -> list[socket.socket]:
    """`count` connections, each with a request whose `size`-byte body lacks its last byte."""
    head = f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n"
    body = b"{" + b" " * (size - 2)  # one byte short
    connections = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.sendall(head.encode())
        connection.setblocking(False)
        connections.append(connection)
    pending = {c: memoryview(body) for c in connections}
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        for connection in list(pending):
            try:
                sent = connection.send(pending[connection][:262144])
            except BlockingIOError:
                continue
            except OSError:  # closed by Envoy already
                del pending[connection]
                continue
            pending[connection] = pending[connection][sent:]
            if not pending[connection]:
                del pending[connection]
        time.sleep(0.001)
    return connections


def still_open(connections: list[socket.socket]) -> int:
    """How many of `connections` Envoy has not closed (what it answered is read and dropped)."""
    count = 0
    for connection in connections:
        try:
            while connection.recv(65536):
                pass
        except BlockingIOError:
            count += 1
        except OSError:
            pass
    return count
