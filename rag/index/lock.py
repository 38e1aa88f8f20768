"""One build at a time per index folder (``index/.lock``), and the clean-up of builds that
were killed."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from .. import config
from ..errors import IndexBusyError
from .layout import LOCK_FILE, POINTER_TMP_PREFIX, TMP_PREFIX

logger = logging.getLogger(__name__)


@contextmanager
def build_lock(root: Path, wait_s: float | None = None) -> Iterator[None]:
    """Hold the build lock of an index folder. A second build waits up to ``wait_s`` (default
    ``rag.config.BUILD_LOCK_WAIT_S``) for the first to finish, then stops with a message."""
    root.mkdir(parents=True, exist_ok=True)
    wait_s = config.BUILD_LOCK_WAIT_S if wait_s is None else wait_s
    with open(root / LOCK_FILE, "a+", encoding="utf-8") as fh:
        _acquire(fh, root, time.monotonic() + wait_s)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _acquire(fh: TextIO, root: Path, deadline: float) -> None:
    waiting = False
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        fh.seek(0)
        holder = fh.read().strip() or "unknown process"
        if time.monotonic() >= deadline:
            raise IndexBusyError(
                f"another build of the index in {str(root)!r} is running ({holder}); "
                f"wait for it to finish, then run the command again"
            )
        if not waiting:
            logger.warning("waiting for another build of %s to finish (%s)", root, holder)
            waiting = True
        time.sleep(config.LOCK_POLL_S)


def remove_leftovers(root: Path) -> None:
    """Temporary folders and pointer files of builds that were killed (called under the lock)."""
    for path in root.glob(f"{TMP_PREFIX}*"):
        logger.info("removing %s, left by an interrupted build", path.name)
        shutil.rmtree(path, ignore_errors=True)
    for path in root.glob(f"{POINTER_TMP_PREFIX}*"):
        path.unlink(missing_ok=True)
