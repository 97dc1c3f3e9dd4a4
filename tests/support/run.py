"""`passkeys run` (what `make run` calls) as a child process, as a user starts it, its stderr read
line by line as it comes."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

# The line that says it serves: (gRPC address, REST and grpc-web address).
READY = re.compile(r"gRPC on (\S+); REST and grpc-web on http://(\S+) ")


class Run:
    """`env` over `environ` (this process's environment unless given)."""

    def __init__(self, cwd: Path, env: Mapping[str, str], *, environ: Mapping[str, str] = os.environ) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "passkeys", "run"],
            env={**environ, **env},
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if found := pattern.search(line):
                return found
        raise AssertionError(f"{pattern.pattern!r} not seen in:\n{''.join(self.seen)}")

    def ready(self, timeout: float = 60) -> str:
        """The REST and grpc-web address, once it serves."""
        return self.wait_for(READY, timeout).group(2)

    def finish(self, timeout: float = 30) -> tuple[int, str]:
        code = self.proc.wait(timeout)
        time.sleep(0.1)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, "".join(self.seen)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
