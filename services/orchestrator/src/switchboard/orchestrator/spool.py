"""A local directory of events the usage stream has not confirmed yet: one JSON file per event, named by its id.

Files are written atomically (temp file, fsync, rename, fsync of the directory), so after a crash a file is
either whole or absent; a leftover ``.tmp`` is an unfinished write and a ``.rejected`` file one that can
never be published: neither is replayed. The methods block on the
disk: call them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Spool", "SpooledEvent"]

_SUFFIX = ".json"
_TEMP_SUFFIX = ".tmp"
_REJECTED_SUFFIX = ".rejected"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class SpooledEvent:
    path: Path
    payload: bytes


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_for(self, event_id: str) -> Path:
        # Event ids are made of safe characters; the substitution only guards against a path escaping the spool.
        return self.directory / f"{_UNSAFE.sub('_', event_id)}{_SUFFIX}"

    def write(self, event_id: str, payload: bytes) -> Path:
        """Store ``payload`` durably; writing the same id again replaces the file (same event, same content)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.path_for(event_id)
        temp = final.with_name(f"{final.name}.{os.getpid()}{_TEMP_SUFFIX}")
        with temp.open("wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        temp.replace(final)
        self._sync_directory()
        return final

    def pending(self) -> list[Path]:
        """Spooled events, oldest first (by modification time, then name)."""
        if not self.directory.is_dir():
            return []
        found: list[tuple[int, str, Path]] = []
        for path in self.directory.iterdir():
            if path.name.endswith(_SUFFIX):
                with contextlib.suppress(FileNotFoundError):  # another replica sharing the spool removed it
                    found.append((path.stat().st_mtime_ns, path.name, path))
        return [path for _, _, path in sorted(found)]

    def read(self, path: Path) -> SpooledEvent | None:
        """The event at ``path``, or ``None`` if it is gone (another replica sharing the spool published it)."""
        try:
            return SpooledEvent(path, path.read_bytes())
        except FileNotFoundError:
            return None

    def remove(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def set_aside(self, path: Path) -> Path:
        """Rename a file that can never be published so that it stops blocking the others (kept for a human)."""
        target = path.with_name(f"{path.name}{_REJECTED_SUFFIX}")
        with contextlib.suppress(FileNotFoundError):
            path.replace(target)
        return target

    def _sync_directory(self) -> None:
        """Make the rename itself durable (POSIX only; elsewhere the rename is as durable as the OS makes it)."""
        if not hasattr(os, "O_DIRECTORY"):
            return
        descriptor = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
