"""Build, store and load the index: sentences, chunks, vectors, FAISS and BM25.

One module per concern:

- :mod:`~rag.index.layout`: the folder layout, the live version, the format version
- :mod:`~rag.index.manifest`: the typed :class:`Manifest` (``manifest.json``) and :class:`DocRecord`
- :mod:`~rag.index.freshness`: whether the index still matches its source folder and model
- :mod:`~rag.index.integrity`: sizes and SHA-256 of every index file
- :mod:`~rag.index.dense`: FAISS choice, ``nprobe`` calibration, the :class:`VectorStore` boundary
- :mod:`~rag.index.lexical`: BM25 and the terms' document frequencies (idf)
- :mod:`~rag.index.tables`: sentence and chunk tables (offset rows) from parsed files
- :mod:`~rag.index.build`, :mod:`~rag.index.write`, :mod:`~rag.index.lock`: incremental
  builds, writing a version and swapping it in atomically, one build at a time
- :mod:`~rag.index.store`: :class:`IndexData` (a loaded version and its queries), :class:`Texts`

A build writes a new version folder and then swaps ``CURRENT``, so a reader never sees a
half-written index. Nothing is pickled: JSON, ``.npy`` without objects, FAISS's own format.
The manifest records the size and SHA-256 of every other file of its version; loading
checks every size and the hashes of the small files, ``verify_index`` hashes them all.
One build at a time per index folder (``index/.lock``); a build removes the temporary
folders of builds that were killed.
"""

from ..config import DEFAULT_INDEX, FLAT_MAX_CHUNKS, INDEX_ENV, IVF_NPROBES, RECALL_K
from .build import EMBED_END, EMBED_START, BuildReport, Progress, build_index
from .dense import FaissStore, VectorStore, build_faiss, chunk_vectors, faiss_threads, ivf_nlist, recall_at_k
from .freshness import Freshness, check_freshness, folder_stamps, unchanged_by_stamps
from .integrity import Integrity, check_integrity, sha256_file, verify_index
from .layout import FORMAT_VERSION, index_dir
from .lexical import Bm25Store, TermStats, bm25_idf
from .lock import build_lock
from .manifest import DocRecord, FaissSpec, Manifest, index_command, read_manifest, recorded_source
from .store import IndexData, Texts, load_index
from .tables import CHUNK_DTYPE, SECTIONS, SENTENCE_DTYPE

__all__ = [
    "CHUNK_DTYPE", "DEFAULT_INDEX", "EMBED_END", "EMBED_START", "FLAT_MAX_CHUNKS", "FORMAT_VERSION", "INDEX_ENV",
    "IVF_NPROBES", "RECALL_K", "SECTIONS", "SENTENCE_DTYPE", "Bm25Store", "BuildReport", "DocRecord", "FaissSpec",
    "FaissStore", "Freshness", "IndexData", "Integrity", "Manifest", "Progress", "TermStats", "Texts", "VectorStore",
    "bm25_idf", "build_faiss", "build_index", "build_lock", "check_freshness", "check_integrity", "chunk_vectors",
    "faiss_threads", "folder_stamps", "index_command", "index_dir", "ivf_nlist", "load_index", "read_manifest",
    "recall_at_k", "recorded_source", "sha256_file", "unchanged_by_stamps", "verify_index",
]
