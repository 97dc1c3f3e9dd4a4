"""Children that die with their parent, however it dies (kill -9 included, at any moment).

Linux's PR_SET_PDEATHSIG asks the kernel to send a signal to a process when its parent exits;
it survives execve, so Envoy gets it through `python -m passkeys.lifeline PARENT_PID envoy ...`
(this module as a launcher: set it, check the parent is still the one that started us, exec).
Workers set it first thing, and also watch a pipe to the parent (workers.py). The signal follows
the *thread* that started the child: children are started from the main thread.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when its parent exits; exit now if the parent is already gone (it may
    have died before the signal was set: the process was adopted, its parent id changed)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:
        os._exit(1)


def launcher(parent_pid: int, command: list[str]) -> list[str]:
    """`command`, started so that it dies with `parent_pid`."""
    return [sys.executable, "-m", "passkeys.lifeline", str(parent_pid), *command]


if __name__ == "__main__":
    die_with_parent(int(sys.argv[1]))
    os.execv(sys.argv[2], sys.argv[2:])
