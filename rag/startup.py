"""Getting an index ready to serve: build it when missing, update it when stale.

Used by :meth:`rag.Assistant.open` with ``build=True`` (the app, which serves whatever
folder it is pointed at). The CLI's ``ask`` and ``eval`` only load: for them a missing or
stale index is an error naming the ``rag index`` command that fixes it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .config import DEFAULT_SOURCE
from .embedding import Embedder
from .errors import IndexCorruptError, IndexMissingError
from .index import build_index, check_freshness, read_manifest

logger = logging.getLogger(__name__)

def prepare_index(root: Path, source: str | Path | None, embedder: Embedder) -> None:
    """Make ``root`` hold an up-to-date index of ``source`` made with ``embedder``'s model.

    A missing (or unreadable) index is built from ``source``, else ``seeds/``; a stale one,
    or one built from another folder than ``source``, is updated incrementally (fully when
    the model changed). Without ``source`` the index's own folder is used; when that folder
    is gone the index is left as it is and served read-only, with a warning.
    """
    try:
        manifest = read_manifest(root)
    except (IndexMissingError, IndexCorruptError) as exc:
        target = Path(source or DEFAULT_SOURCE)
        logger.info("%s; building it from %s", exc, target)
        build_index(target, root, embedder, full=True)
        return
    target = Path(source).resolve() if source else Path(manifest.source)
    fresh = check_freshness(manifest, embedder.name)
    if fresh.source_missing and not source:
        logger.warning("%s", fresh.describe())
    elif not fresh.fresh or target != Path(manifest.source):
        logger.info("index needs updating (%s)", fresh.describe() if not fresh.fresh else f"new source {target}")
        build_index(target, root, embedder, full=bool(fresh.model_mismatch))


def rebuild_damaged(root: Path, source: str | Path | None, embedder: Embedder, problem: Exception) -> None:
    """Rebuild ``root`` from scratch after loading or hashing it failed (an older format,
    files changed while it was read, damage): from ``source``, else the index's own folder."""
    logger.warning("%s; rebuilding", problem)
    build_index(source or read_manifest(root).source, root, embedder, full=True)
