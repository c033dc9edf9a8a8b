"""A disk whose writes can hang: the real atomic writer, held on a threading.Event."""

from collections import Counter
from pathlib import Path
import threading

from custom_components.makerspace_hub.persistence import AtomicFileWriter


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
