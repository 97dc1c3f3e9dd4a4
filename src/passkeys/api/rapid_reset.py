"""HTTP/2 rapid reset (a client opening streams and resetting them at once, CVE-2023-44487) on
the gRPC port: seen, counted, logged, and the connection closed.

gRPC core refuses most such streams itself (REFUSED_STREAM) but never closes the connection,
and the flood keeps costing CPU. Its channelz counts each connection's streams: a Guard thread
reads them every INTERVAL_S, and a connection whose streams failed (reset) FLOOD_STREAMS times
or more in that interval, with fewer succeeding, is a flood. grpc offers no way to close one
connection, so the Guard finds that connection's socket among this process's descriptors (by
its addresses in /proc/net/tcp) and shuts it down; gRPC then drops the connection as if the
client had gone.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import threading
from base64 import b64decode
from pathlib import Path

from grpc._cython import cygrpc  # channelz: grpcio_channelz's servicer reads the same

from passkeys.api import metrics

log = logging.getLogger(__name__)

INTERVAL_S = 1.0
FLOOD_STREAMS = 200


def _address(tcpip: dict[str, object]) -> tuple[str, int]:
    raw = b64decode(str(tcpip.get("ipAddress", "")))
    return str(ipaddress.ip_address(raw)) if raw else "", int(str(tcpip.get("port", 0)))


def _sockets(port: int) -> dict[str, tuple[tuple[str, int], int, int]]:
    """Each connection of the server listening on `port` in this process: channelz socket id ->
    (remote address, streams failed, streams succeeded)."""
    found = {}
    for server in json.loads(cygrpc.channelz_get_servers(0)).get("server", []):
        start = 0
        while True:
            page = json.loads(cygrpc.channelz_get_server_sockets(int(server["ref"]["serverId"]), start, 500))
            for ref in page.get("socketRef", []):
                start = max(start, int(ref["socketId"]) + 1)
                try:
                    data = json.loads(cygrpc.channelz_get_socket(int(ref["socketId"])))["socket"]
                except (ValueError, KeyError):  # gone meanwhile
                    continue
                if _address(data.get("local", {}).get("tcpipAddress", {}))[1] != port:
                    continue
                streams = data.get("data", {})
                found[ref["socketId"]] = (
                    _address(data.get("remote", {}).get("tcpipAddress", {})),
                    int(streams.get("streamsFailed", 0)),
                    int(streams.get("streamsSucceeded", 0)),
                )
            if page.get("end", True) or not page.get("socketRef"):
                break
    return found


def _inode(local_port: int, remote: tuple[str, int]) -> str | None:
    ip = ipaddress.ip_address(remote[0])
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_hex, remote_hex = fields[1], fields[2]
            if int(local_hex.rsplit(":", 1)[1], 16) != local_port:
                continue
            address_hex, port_hex = remote_hex.rsplit(":", 1)
            if int(port_hex, 16) != remote[1]:
                continue
            raw = bytes.fromhex(address_hex)
            # /proc prints each 32-bit word in host (little-endian) order.
            address = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            seen = ipaddress.ip_address(address)
            if seen == ip or (isinstance(seen, ipaddress.IPv6Address) and seen.ipv4_mapped == ip):
                return fields[9]
    return None


def close_connection(local_port: int, remote: tuple[str, int]) -> bool:
    """Shuts down this process's socket of the connection from `remote` to `local_port`."""
    inode = _inode(local_port, remote)
    if inode is None:
        return False
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != f"socket:[{inode}]":
                continue
            # A duplicate of gRPC's descriptor: shutdown acts on the connection, close on our copy only.
            with socket.socket(fileno=os.dup(int(fd))) as sock:
                sock.shutdown(socket.SHUT_RDWR)
            return True
        except OSError:
            continue
    return False


class Guard:
    def __init__(self, port: int, *, interval_s: float = INTERVAL_S, flood_streams: int = FLOOD_STREAMS) -> None:
        self.port = port
        self.interval_s = interval_s
        self.flood_streams = flood_streams
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grpc-reset-guard", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        before: dict[str, tuple[int, int]] = {}
        while not self._stop.wait(self.interval_s):
            try:
                now = _sockets(self.port)
            except Exception:
                log.exception("rapid reset guard: cannot read channelz")
                continue
            for socket_id, (remote, failed, succeeded) in now.items():
                failed_before, succeeded_before = before.get(socket_id, (0, 0))
                resets, served = failed - failed_before, succeeded - succeeded_before
                if resets >= self.flood_streams and resets > served:
                    closed = close_connection(self.port, remote)
                    metrics.RAPID_RESET_CONNECTIONS.inc()
                    log.warning(
                        "http2 rapid reset: connection closed" if closed else "http2 rapid reset: connection not found",
                        extra={"peer": f"{remote[0]}:{remote[1]}", "resets": resets, "interval_s": self.interval_s},
                    )
            before = {socket_id: (failed, succeeded) for socket_id, (_, failed, succeeded) in now.items()}

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
