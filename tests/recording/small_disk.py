"""A small recordings disk: a size-limited tmpfs mounted on the config's media folder.

The integration reads free space through `shutil.disk_usage` and writes and deletes
real files; so do these tests. Where mounting is not allowed (not root), the disk is
counted instead: `shutil.disk_usage` of the folder reports the capacity minus what
the files under it take on their disk. Either way the disk can also hang: its
`disk_usage` then blocks until released, as `statvfs` on a hung disk does.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
import os
from pathlib import Path
import shutil
import subprocess
import threading
from typing import Any
from unittest.mock import patch

PAGE = 4096


class SmallDisk:
    """A disk of `size` bytes on `folder`."""

    def __init__(self, folder: Path, size: int) -> None:
        self.folder = folder
        self.size = size
        self.mounted = False
        self._gate: threading.Event | None = None
        self._real_disk_usage: Callable[[Any], Any] = shutil.disk_usage

    @contextmanager
    def attached(self) -> Iterator["SmallDisk"]:
        mount = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs", str(self.folder)],
            check=False,
            capture_output=True,
        )
        self.mounted = mount.returncode == 0
        try:
            with patch.object(shutil, "disk_usage", self._disk_usage):
                yield self
        finally:
            self.release()
            if self.mounted:
                subprocess.run(["umount", "-l", str(self.folder)], check=False)

    def _disk_usage(self, path: Any) -> Any:
        inside = Path(path).resolve().is_relative_to(self.folder.resolve())
        if inside and self._gate is not None:
            self._gate.wait(timeout=60)
        if not inside or self.mounted:
            return self._real_disk_usage(path)
        used = self.used()
        return shutil._ntuple_diskusage(self.size, used, max(self.size - used, 0))  # type: ignore[attr-defined]

    def used(self) -> int:
        """Return the bytes the files under the folder take (counted disk)."""
        total = 0
        for root, _dirs, files in os.walk(self.folder):
            for name in files:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
        return total

    @property
    def free(self) -> int:
        return int(self._disk_usage(self.folder).free)

    def fill(self, path: Path, size: int) -> Path:
        """Write `size` bytes to `path` on the disk (something that is not a recording)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\1" * size)
        return path

    def hang(self) -> None:
        """Hold every free-space check of the disk until `release`."""
        self._gate = threading.Event()

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()
            self._gate = None
