"""Temporary folders of one run (Envoy's config, the workers' metrics files), removed when the run
ends, and at the next start when it could not (kill -9). A run holds an exclusive lock on its
folder's `.lock` file while it lives: a folder whose lock can be taken belongs to no live run."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

LOCK = ".lock"
# A folder without a lock file is one being created right now, or older code's: left this long.
UNLOCKED_GRACE_S = 60


class RunFolder:
    def __init__(self, prefix: str) -> None:
        remove_stale(prefix)
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        self._lock = os.open(self.path / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1


def remove_stale(prefix: str) -> None:
    for folder in Path(tempfile.gettempdir()).glob(f"{prefix}*"):
        if not folder.is_dir():
            continue
        try:
            fd = os.open(folder / LOCK, os.O_RDWR)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - folder.stat().st_mtime > UNLOCKED_GRACE_S:
                    shutil.rmtree(folder, ignore_errors=True)
            continue
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live run's
        else:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            os.close(fd)
