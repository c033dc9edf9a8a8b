"""A disk whose writes can hang (the real atomic writer, held on a threading.Event),
and a folder even root cannot write to."""

from collections import Counter
import fcntl
import os
from pathlib import Path
import struct
import threading

from custom_components.makerspace_hub.storage.state_files import AtomicFileWriter


class SlowDisk(AtomicFileWriter):
    """Write like the real writer, but hold writes of chosen files until released."""

    def __init__(self) -> None:
        """Nothing hangs yet."""
        self._gates: dict[str, threading.Event] = {}
        self._changed = threading.Condition()
        self.writes: Counter[str] = Counter()
        self.waiting: Counter[str] = Counter()

    def hang(self, file_name: str) -> threading.Event:
        """Hold every write of `file_name` until the returned event is set."""
        gate = self._gates[file_name] = threading.Event()
        return gate

    def release_all(self) -> None:
        """Let every held write go on."""
        for gate in self._gates.values():
            gate.set()

    def wait_until_held(self, file_name: str, count: int = 1, timeout: float = 10) -> bool:
        """Block until `count` writes of `file_name` are held (run it in the executor)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.waiting[file_name] >= count, timeout=timeout)

    def write(self, path: Path, data: bytes) -> None:
        """Wait while the file hangs, then write it for real."""
        if (gate := self._gates.get(path.name)) is not None and not gate.is_set():
            with self._changed:
                self.waiting[path.name] += 1
                self._changed.notify_all()
            gate.wait(timeout=60)
            with self._changed:
                self.waiting[path.name] -= 1
        super().write(path, data)
        self.writes[path.name] += 1


FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_IMMUTABLE_FL = 0x10


def set_immutable(path: Path, immutable: bool) -> None:
    """Set or clear the immutable attribute (`chattr +i`), which binds root too."""
    handle = os.open(path, os.O_RDONLY)
    try:
        flags = struct.unpack("i", fcntl.ioctl(handle, FS_IOC_GETFLAGS, struct.pack("i", 0)))[0]
        flags = flags | FS_IMMUTABLE_FL if immutable else flags & ~FS_IMMUTABLE_FL
        fcntl.ioctl(handle, FS_IOC_SETFLAGS, struct.pack("i", flags))
    finally:
        os.close(handle)
