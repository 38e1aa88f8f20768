"""The learned extractive reader (issue 8): network, offline loading, and the combiner."""

from .combiner import COMBINER_FILE, Combiner
from .runtime import Reader, ReaderConfig, Span, default_path, file_digest, verify, write_checksums

__all__ = [
    "COMBINER_FILE",
    "Combiner",
    "Reader",
    "ReaderConfig",
    "Span",
    "default_path",
    "file_digest",
    "verify",
    "write_checksums",
]
