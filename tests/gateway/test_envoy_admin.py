"""Envoy's admin (no authentication: it can raise the log level, dump the config, stop Envoy) is
reachable by the service's own user only, on a Unix socket of mode 0600, never over TCP."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from passkeys import gateway
from passkeys.envoy_config import Address


def listening_tcp_ports(pid: int) -> set[int]:
    """The TCP ports that process `pid` listens on (its socket inodes in /proc/net/tcp{,6})."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_the_admin_is_a_0600_unix_socket_in_a_private_folder_and_no_tcp_port(tmp_path: Path) -> None:
    with gateway.envoy(listen=Address("127.0.0.1", 0), upstream=Address("127.0.0.1", 9), origins=()) as proxy:
        sock = proxy.admin_socket
        assert stat.S_ISSOCK(sock.stat().st_mode)
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        # Envoy listens on its HTTP port and nothing else over TCP.
        assert listening_tcp_ports(proxy.process.pid) == {proxy.port}
        # The supervisor still reads Envoy's state through the socket.
        status, body = proxy.admin("/ready")
        assert (status, body.strip()) == (200, "LIVE")
        assert proxy.admin("/stats?filter=^server.live$")[1].strip() == "server.live: 1"
    assert not sock.exists()
