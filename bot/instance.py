"""One delivering process per database: the instance lock.

`paperbot run` and `paperbot cycle` take an exclusive lock on `<database>.lock` and hold
it while they live; the system drops it when the process ends, killed or not. The holder
knows that no other paperbot is posting from the database, so posts another process left
claimed are a dead process's: they are taken over at once instead of after their lease.
Without the lock (another process holds it), the leases decide, as before.

On PostgreSQL there is no file beside the database: the lock is a session advisory lock
(bot/storage/postgresql.py), which the server drops when the process's connection ends.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path

from bot.deliver import Deliverer
from bot.storage.postgresql import AdvisoryLock, is_postgresql

log = logging.getLogger(__name__)


class InstanceLock:
    """An exclusive, non-blocking lock on a file, held until release() or the process ends."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._file = None

    def acquire(self) -> bool:
        """True if this process now holds the lock; False if another process does."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = self.path.open("a")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        self._file = file
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def instance_lock(database_path: str) -> InstanceLock | AdvisoryLock:
    """The instance lock of a database: a file beside a SQLite database, an advisory lock on
    a PostgreSQL one."""
    if is_postgresql(database_path):
        return AdvisoryLock(database_path)
    return InstanceLock(database_path + ".lock")


def take_over(
    database_path: str, deliverer: Deliverer | None
) -> InstanceLock | AdvisoryLock | None:
    """Lock the database for this process and take over what a dead one left claimed.

    Returns the lock, which the caller keeps for as long as it delivers; None when another
    process holds it.
    """
    lock = instance_lock(database_path)
    if not lock.acquire():
        log.info("another paperbot process delivers from %s: leases decide", database_path)
        return None
    if deliverer is not None:
        deliverer.take_over_claims()
    return lock
