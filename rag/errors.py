"""The library's one family of errors: what went wrong, in words for the user, and what kind of failure it is.

Every error the library means a user to read is a ``RagError``. It carries its
message in English and Chinese (``message(lang)``; ``str()`` gives both, as
``English / 中文``, or the language of the question for a ``QuestionError``), a
stable ``code`` for programs, and a ``Kind`` that front ends map once: the CLI
to its exit message, the app to its notice, the HTTP API to its status (an index
built with another model is a conflict that ``rag ingest`` resolves, never a
server error). Each class keeps the built-in parent it had, so ``except
ValueError`` and ``except FileNotFoundError`` written earlier still catch it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import ClassVar


class Kind(StrEnum):
    """What the user can do about it."""

    INPUT = "input"  # the question, date, shard or file given cannot be used: change it and try again
    NO_INDEX = "no_index"  # nothing is indexed yet: ingest documents first
    INDEX_MISMATCH = "index_mismatch"  # the index was built with another model or analyzer: run `rag ingest` to rebuild it
    INDEX_CORRUPT = "index_corrupt"  # the index cannot be read: rebuilding it fixes this
    UNAVAILABLE = "unavailable"  # a part the product relies on (the model files, a language model) cannot be used now
    SETTINGS = "settings"  # a RAG_* setting or an option has a value the product cannot run with


#: Between the English and the Chinese half of a message written in both.
SEPARATOR = " / "


def _halves(text: str) -> tuple[str, str]:
    """(English, Chinese) of a message written ``English / 中文``; a message in one language is both."""
    english, sep, chinese = text.rpartition(SEPARATOR)
    if sep and any("\u4e00" <= ch <= "\u9fff" for ch in chinese) and not any("\u4e00" <= ch <= "\u9fff" for ch in english):
        return english, chinese
    return text, text


class RagError(Exception):
    """An error with a message for the user; ``kind`` and ``code`` say what it is to front ends and programs."""

    kind: ClassVar[Kind] = Kind.INPUT
    code: ClassVar[str] = "invalid_request"

    def __init__(self, message: str, zh: str = "") -> None:
        self.en, self.zh = (message, zh) if zh else _halves(message)
        super().__init__(self.shown())

    def shown(self) -> str:
        """What ``str()`` gives: both languages, unless they are the same text."""
        return self.en if self.en == self.zh else f"{self.en}{SEPARATOR}{self.zh}"

    def message(self, lang: str) -> str:
        """The message in ``lang`` ("zh…" for Chinese, anything else English)."""
        return self.zh if lang.startswith("zh") else self.en


class InputError(RagError, ValueError):
    """A value the user gave (a date, a shard, an option) that cannot be used."""


class MissingFile(RagError, FileNotFoundError):
    """A file or folder the user named does not exist."""

    code = "file_not_found"


class QuestionError(RagError, ValueError):
    """A question that cannot be asked (empty, too long); ``str()`` is in the question's own language."""

    code = "invalid_question"

    def __init__(self, message: str, zh: str = "", language: str = "") -> None:
        self.language = language
        super().__init__(message, zh)

    def shown(self) -> str:
        return self.message(self.language) if self.language else super().shown()


class IngestError(RagError):
    """A file (or archive line) that cannot become a document; the message names the file."""

    code = "unparsable_file"

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        en, zh = _halves(reason)
        super().__init__(f"{path}: {en}", f"{path}: {zh}")

    def shown(self) -> str:
        return f"{self.path}: {self.reason}"


class FetchError(IngestError):
    """A web page or feed that could not be fetched or read: refused (not http(s), a private address),
    unreachable, an HTTP error, too slow or too large; the message names the URL and why."""

    code = "fetch_failed"


class SettingsError(RagError, ValueError):
    """A RAG_* setting (or the option that overrides it) has a value the product cannot run with."""

    kind = Kind.SETTINGS
    code = "invalid_setting"


class IndexMissing(RagError, FileNotFoundError):
    """No index has been built in this folder yet."""

    kind = Kind.NO_INDEX
    code = "no_index"


class IndexCorrupt(RagError, RuntimeError):
    """The index folder exists but cannot be read; rebuilding it fixes this."""

    kind = Kind.INDEX_CORRUPT
    code = "index_corrupt"


class IndexMismatch(IndexCorrupt):
    """The index was built with another embedding model: its vectors cannot be searched with this one."""

    kind = Kind.INDEX_MISMATCH
    code = "index_mismatch"


class EmbeddingError(RagError, RuntimeError):
    """The embedding model cannot be loaded; the message says what to do."""

    kind = Kind.UNAVAILABLE
    code = "model_unavailable"


class ModelSourceError(RagError, RuntimeError):
    """The package the offline model is built from is missing or not the expected file."""

    kind = Kind.UNAVAILABLE
    code = "model_unavailable"


class OnnxFidelityError(RagError, RuntimeError):
    """The int8 ONNX encoder strays too far from the model it was made from to be used."""

    kind = Kind.UNAVAILABLE
    code = "model_unavailable"


class CollectionError(InputError):
    """A collection name that cannot be used here: malformed, taken, or the default one asked to go."""

    code = "invalid_collection"


class CollectionMissing(RagError, LookupError):
    """No collection of that name exists (yet): ``rag collections create`` makes one."""

    code = "collection_not_found"


class LLMError(RagError, RuntimeError):
    """The language model could not be used (not reachable, an error, too slow); answers fall back to quotes."""

    kind = Kind.UNAVAILABLE
    code = "llm_unavailable"


__all__ = [
    "CollectionError",
    "CollectionMissing",
    "EmbeddingError",
    "FetchError",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexMissing",
    "IngestError",
    "InputError",
    "Kind",
    "LLMError",
    "MissingFile",
    "ModelSourceError",
    "OnnxFidelityError",
    "QuestionError",
    "RagError",
    "SettingsError",
]
