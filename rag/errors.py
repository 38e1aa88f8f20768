"""Domain exceptions. Interfaces convert them at their edges (click, gradio)."""


class RagError(Exception):
    """Base class for errors a user can act on; the message says how."""


class ConfigError(RagError, ValueError):
    """A configuration value is invalid; the message names it and the valid options."""


class CorpusError(RagError):
    """The source folder cannot be read or holds no usable documents."""


class IndexMissingError(RagError):
    """No index has been built in the given folder."""


class IndexStaleError(RagError):
    """The index no longer matches the files or the model."""


class IndexCorruptError(RagError):
    """The index files cannot be read back."""


class QuestionError(RagError, ValueError):
    """The question cannot be answered as given (for example, it is empty)."""


class IndexBusyError(RagError):
    """Another build of the same index folder is running."""


class FormatError(RagError):
    """A file cannot be turned into text (unknown type, damaged, or no text layer); the message says why."""


class FilterError(QuestionError):
    """A source filter (--source, --since/--until, ticked sources) is invalid or matches no document."""


class UploadError(RagError, ValueError):
    """An uploaded file is refused (type, size or name); the message names the file and the limit."""
