"""The learned extractive reader (issue 8): network, offline loading, and the combiner."""

from .checksums import file_digest, verify, write_checksums
from .combiner import COMBINER_FILE, Combiner
from .network import ReaderRuntime
from .runtime import Reader, ReaderConfig, Span, default_path

__all__ = [
    "COMBINER_FILE",
    "Combiner",
    "Reader",
    "ReaderConfig",
    "ReaderRuntime",
    "Span",
    "default_path",
    "file_digest",
    "verify",
    "write_checksums",
]
