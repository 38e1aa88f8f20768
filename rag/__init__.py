"""Local, citation-first question answering over a folder of news articles.

Public API (importing this package stays light: torch and faiss load on first use)::

    from rag import Assistant, build_index
    build_index("seeds", "index")
    answer = Assistant("index").ask("Where is Ishiba planning to travel?")
"""

from .answer import AnswerConfig, AnswerKind, AnswerStrategy
from .chunking import ChunkingConfig
from .embedding import DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder, make_embedder
from .errors import (
    ConfigError,
    CorpusError,
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    QuestionError,
    RagError,
)
from .hashing import HashingEmbedder
from .index import BuildReport, IndexData, Manifest, build_index, check_freshness, load_index, read_manifest
from .pipeline import Assistant
from .retrieval import FusionStrategy, RetrievalConfig
from .types import Answer, Chunk, Citation, Document, Hit, Passage, Section, Sentence, ShortAnswer

__all__ = [
    "DEFAULT_MODEL", "Answer", "AnswerConfig", "AnswerKind", "AnswerStrategy", "Assistant", "BuildReport", "Chunk",
    "ChunkingConfig", "Citation", "ConfigError", "CorpusError", "Document", "Embedder", "FusionStrategy",
    "HashingEmbedder", "Hit", "IndexCorruptError", "IndexData", "IndexMissingError", "IndexStaleError", "Manifest",
    "Passage", "QuestionError", "RagError", "RetrievalConfig", "Section", "Sentence", "SentenceTransformerEmbedder",
    "ShortAnswer", "build_index", "check_freshness", "load_index", "make_embedder", "read_manifest",
]
