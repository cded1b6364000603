"""Errors a domain expert can act on.

Every error raised by the core is an :class:`OracleError`. It carries a message key and
parameters rather than a fixed sentence, so the same error reads in Brazilian Portuguese
or English (see :mod:`oracle.i18n`, the one place where strings live). ``str(err)`` gives
the message in the default language (``ORACLE_LANG``, ``pt`` unless set).

The UI turns these into ``gr.Error``/``gr.Warning`` at its boundary; the command line prints
``err.message(lang)`` and exits with status 2. Nothing here prints or logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class OracleError(Exception):
    """Base class: an error with a translatable message and a hint on what to do.

    Args:
        key: message key in :data:`oracle.i18n.STRINGS` (e.g. ``"err.pdf_encrypted"``).
        **params: values substituted into the message (``{file}``, ``{size_mb}``...).
    """

    key = "err.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.message())

    def message(self, lang: str | None = None) -> str:
        """The message in ``lang`` (``"pt"`` or ``"en"``; default from ``ORACLE_LANG``)."""
        from oracle.i18n import t

        return t(self.key, lang, **self.params)


class ConfigError(OracleError, ValueError):
    """A setting is out of range or inconsistent (raised by config ``__post_init__``).

    Key ``err.config`` (param ``detail``), or one of the constructors below, whose messages name
    the field (in backquotes) and its value in the reader's language::

        raise ConfigError.positive("top_k", self.top_k)
    """

    key = "err.config"

    @classmethod
    def positive(cls, name: str, value: Any) -> ConfigError:
        """``name`` must be > 0 (key ``err.config.positive``)."""
        return cls("err.config.positive", name=name, value=value)

    @classmethod
    def non_negative(cls, name: str, value: Any) -> ConfigError:
        """``name`` must be >= 0 (key ``err.config.non_negative``)."""
        return cls("err.config.non_negative", name=name, value=value)

    @classmethod
    def at_least(cls, name: str, value: Any, minimum: Any) -> ConfigError:
        """``name`` must be >= ``minimum`` (key ``err.config.at_least``)."""
        return cls("err.config.at_least", name=name, value=value, minimum=minimum)

    @classmethod
    def out_of_range(cls, name: str, value: Any, interval: str) -> ConfigError:
        """``name`` must lie in ``interval``, written as in mathematics: ``"[0, 1)"`` (key
        ``err.config.range``)."""
        return cls("err.config.range", name=name, value=value, interval=interval)

    @classmethod
    def not_one_of(cls, name: str, value: Any, choices: Iterable[str]) -> ConfigError:
        """``name`` must be one of ``choices`` (key ``err.config.choice``; ``value`` shown with repr)."""
        return cls("err.config.choice", name=name, value=repr(value), choices=", ".join(choices))


class IngestError(OracleError):
    """A file could not be read into a Document; ``params['file']`` names it."""

    key = "err.ingest"


class UnsupportedFileError(IngestError):
    key = "err.unsupported_type"


class TextEncodingError(UnsupportedFileError):
    """A ``.txt`` whose bytes decode as no known text encoding (UTF-8, UTF-16/32 with or without a
    byte-order mark, cp1252/Latin-1 repairs) or decode to control characters: the message asks to
    save the file as UTF-8 (issue 11, F3). Params ``file``, ``kind``."""

    key = "err.txt_undecodable"


class FileTooLargeError(IngestError):
    key = "err.too_large"


class EmptyDocumentError(IngestError):
    key = "err.empty"


class NoTextLayerError(IngestError):
    key = "err.no_text_layer"


class EncryptedPDFError(IngestError):
    key = "err.pdf_encrypted"


class CorruptFileError(IngestError):
    key = "err.corrupt"


class PdfTooComplexError(IngestError):
    """Reading a PDF hit the reader's memory limit (``err.pdf_too_complex``, params ``file``,
    ``limit_mb``) or its time limit (key ``err.pdf_too_slow``, params ``file``, ``timeout_s``):
    a decompression bomb, or a page too heavy to read. See :mod:`oracle.pdf_worker`."""

    key = "err.pdf_too_complex"


class OracleWarning(OracleError):
    """Not raised: a note on a file that was read, with a translatable message (same
    ``key``/``params``/``message(lang)`` as an error). Ingest returns them in
    :attr:`oracle.ingest.FileOutcome.warnings`."""

    key = "err.generic"


class EncodingRepairedWarning(OracleWarning):
    """A text file was UTF-8 except for a few bytes, read as cp1252/Latin-1; params ``file``,
    ``count`` (bytes repaired), ``line`` (1-based line of the first)."""

    key = "warn.encoding_repaired"


class ModelNotFoundError(OracleError):
    """A model name resolves to no bundled package, local folder or reachable hub id."""

    key = "err.model_not_found"


class ModelIntegrityError(OracleError):
    """Bundled weights fail their checksum (a broken or partial install)."""

    key = "err.model_integrity"


class GenerationError(OracleError):
    """The generator backend failed (server unreachable, bad key, out of memory...)."""

    key = "err.generation"


class IndexNotFoundError(OracleError):
    key = "err.index_not_found"


class IndexMismatchError(OracleError):
    """Chunks embedded with another embedder or dimension than the index was built with."""

    key = "err.index_mismatch"


class DocumentNotFoundError(OracleError):
    key = "err.document_not_found"


class AnswerNotFoundError(OracleError):
    """No stored answer (``data_qa/answers.jsonl``) has the id a rating refers to: keys
    ``err.no_answers``, ``err.answer_not_found`` (param ``answer_id``), ``err.answer_not_stored``."""

    key = "err.answer_not_found"


class ResourceBusyError(OracleError):
    """Another task held a resource's lock (an index being built or re-indexed, a model folder)
    for longer than :data:`oracle.schema.RESOURCE_LOCK_TIMEOUT_S`: params ``resource`` (its
    name) and ``minutes``."""

    key = "err.resource_busy"


class JobError(OracleError):
    """A background job could not be started, found, cancelled or resumed."""

    key = "err.job"


class GoldError(OracleError):
    """A gold set (evaluation questions) is missing, not JSONL, or malformed, or names a
    document that cannot be found: keys ``gold.*`` (whole sentences, so the message reads in the
    reader's language, in the UI and in a job's stored error alike), or ``err.gold`` + ``detail``."""

    key = "err.gold"
