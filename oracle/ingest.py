"""Files -> :class:`~oracle.schema.Document`: ``.txt`` in any common encoding, ``.pdf`` page by page.

The type is decided by the bytes, not by the name: a file starting with ``%PDF-`` is a PDF;
a file that decodes as text and holds no NUL bytes is text; anything else (an image, a
.docx, an executable) raises :class:`~oracle.errors.UnsupportedFileError` naming the kind
found (a MIME type such as ``image/png``).

Text encodings: a BOM decides first (UTF-8, UTF-16, UTF-32); then UTF-16 without a BOM
(told by its NUL bytes); then strict UTF-8; then UTF-8 with a few stray single-byte
characters, each bad byte repaired through cp1252 (a warning says so); then
``charset-normalizer`` restricted to the Western single-byte code pages (cp1252, latin-1,
cp850, mac-roman), because unrestricted it reads Portuguese Latin-1 as cp1250 and turns
``ã`` into ``ă``. Latin-1 and cp1252 differ only in bytes 0x80-0x9F (C1 control characters
in Latin-1, “smart quotes”, dashes and ``€`` in cp1252), so those bytes decide between them.

PDFs are read with ``pypdfium2`` (PDFium), one page at a time; measured on real Portuguese
manuals it keeps word spaces where ``pypdf`` glues words together, and is ~10x faster.
PDFium runs in a separate process with a memory limit and a timeout
(:mod:`oracle.pdf_worker`), so a decompression bomb fails alone with
:class:`~oracle.errors.PdfTooComplexError`. PDFium reports a line-end hyphenation as U+FFFE;
:func:`normalize_text` repairs it.

Display names lose control and bidirectional-override characters (newline, NUL, U+202E...):
a name cannot forge an output line or reverse its extension on screen.

Every file fails alone: :func:`ingest_files` records ``(file name, OracleError)`` and goes
on; :attr:`IngestResult.outcomes` has one entry per input, in input order (two uploads
with the same name stay apart). Parsed documents are saved as ``documents/<doc_id>.json`` and the original as
``documents/<doc_id>/<safe file name>`` in the workspace (both atomic writes).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from oracle.config import IngestConfig, Workspace
from oracle.errors import (
    CorruptFileError,
    DocumentNotFoundError,
    EmptyDocumentError,
    EncodingRepairedWarning,
    EncryptedPDFError,
    FileTooLargeError,
    IngestError,
    NoTextLayerError,
    OracleError,
    OracleWarning,
    PdfTooComplexError,
    TextEncodingError,
    UnsupportedFileError,
)
from oracle.schema import (
    PAGE_SEPARATOR,
    Document,
    Page,
    ProgressCallback,
    clean_name,
    read_json,
    write_bytes_atomic,
    write_json_atomic,
)

logger = logging.getLogger(__name__)

#: Code pages tried by charset-normalizer for non-UTF-8 text (Python codec names).
SINGLE_BYTE_CANDIDATES = ("cp1252", "latin_1", "cp850", "mac_roman")

#: Characters of text sampled for language detection, in LANGUAGE_WINDOWS windows.
LANGUAGE_SAMPLE_CHARS = 12000
LANGUAGE_WINDOWS = 12
#: Fewer letters than this and the language is ``"und"``.
LANGUAGE_MIN_LETTERS = 20

_DOC_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")

# Magic numbers of common non-text files, checked in order: (prefix, offset, MIME type).
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
    (b"RIFF", 0, "audio/video (RIFF)"),
    (b"PK\x03\x04", 0, "application/zip (.docx, .xlsx, .odt, .epub...)"),
    (b"PK\x05\x06", 0, "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "application/msword (.doc, .xls, .ppt)"),
    (b"{\\rtf", 0, "application/rtf"),
    (b"\x1f\x8b", 0, "application/gzip"),
    (b"BZh", 0, "application/x-bzip2"),
    (b"\xfd7zXZ\x00", 0, "application/x-xz"),
    (b"7z\xbc\xaf\x27\x1c", 0, "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", 0, "application/vnd.rar"),
    (b"\x7fELF", 0, "application/x-executable"),
    (b"MZ", 0, "application/x-msdownload"),
    (b"ID3", 0, "audio/mpeg"),
    (b"OggS", 0, "audio/ogg"),
    (b"ftyp", 4, "video/mp4"),
    (b"SQLite format 3\x00", 0, "application/vnd.sqlite3"),
)

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # (BOM, Python codec that strips it, name reported)
    (b"\x00\x00\xfe\xff", "utf-32", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig", "utf-8-sig"),
    (b"\xfe\xff", "utf-16", "utf-16"),
    (b"\xff\xfe", "utf-16", "utf-16"),
)

# Reported names of Python codecs.
_ENCODING_NAMES = {"latin_1": "latin-1", "cp1252": "cp1252", "cp850": "cp850", "mac_roman": "mac-roman"}


@dataclass
class FileOutcome:
    """What became of one input file of a batch.

    Attributes:
        name: the file's display name (control characters removed).
        document: the Document read, or None when the file failed.
        error: why it failed, or None.
        warnings: notes on a file that was read (a repaired encoding...), each with
            ``message(lang)``.
    """

    name: str
    document: Document | None = None
    error: OracleError | None = None
    warnings: list[OracleWarning] = field(default_factory=list)


@dataclass
class IngestResult:
    """What a batch produced.

    Attributes:
        documents: the Documents read, in input order.
        errors: ``(file name, OracleError)`` for each file that failed; its message names
            the file and says what to do.
        outcomes: one :class:`FileOutcome` per input, in input order: the way to pair each
            input with its result (names may repeat in one batch).
    """

    documents: list[Document] = field(default_factory=list)
    errors: list[tuple[str, OracleError]] = field(default_factory=list)
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def warnings(self) -> list[tuple[str, OracleWarning]]:
        """``(file name, warning)`` for every warning, in input order."""
        return [(o.name, w) for o in self.outcomes for w in o.warnings]


# --- names and ids --------------------------------------------------------------------


def slugify(text: str, max_len: int = 48, default: str = "doc") -> str:
    """Lowercase ASCII slug: accents stripped, runs of other characters -> ``-``, at most ``max_len`` chars.

    ``"Edital nº 12/2026 — São João"`` -> ``"edital-no-12-2026-sao-joao"``.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    slug = slug[:max_len].rstrip("-")
    return slug or default


def safe_filename(name: str, max_len: int = 120) -> str:
    """A file name safe to store: no folder parts, ASCII letters/digits/``._-`` only, no leading dot.

    The extension (lowercased) is kept: ``"../Relatório Final (v2).PDF"`` -> ``"Relatorio_Final_v2.pdf"``.
    """
    base = re.split(r"[\\/]", name)[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    def clean(s: str) -> str:
        s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
        s = re.sub(r"[^A-Za-z0-9._-]+", "_", s)
        return re.sub(r"_+", "_", s).strip("._-")
    stem, ext = clean(stem) or "file", clean(ext).lower()[:10]
    stem = stem[: max_len - len(ext) - 1]
    return f"{stem}.{ext}" if ext else stem


def make_doc_id(name: str, sha256: str) -> str:
    """``<slug of the name's stem, <= 48 chars>-<first 8 hex of sha256>``: same file and name, same id."""
    stem = Path(re.split(r"[\\/]", name)[-1]).stem
    return f"{slugify(stem)}-{sha256[:8]}"


# --- type and encoding --------------------------------------------------------------------


def sniff_binary_kind(data: bytes) -> str | None:
    """MIME type of a known non-text format from its magic number, or None."""
    for magic, offset, kind in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return kind
    return None


def is_pdf(data: bytes) -> bool:
    """True if ``%PDF-`` appears in the first 1024 bytes (where readers look for it)."""
    return b"%PDF-" in data[:1024]


#: A UTF-16 file without a BOM: at least this share of the bytes on one side (odd offsets
#: for little-endian) are NUL, and NULs on the other side are at most 1/20 of those. Latin
#: text has a NUL in ~100% of its high bytes; text in other scripts (no NULs) is not detected.
UTF16_MIN_NUL_SHARE = 0.4
#: ... and the file holds at least this many UTF-16 code units.
UTF16_MIN_UNITS = 4

#: Mixed files: UTF-8 is kept (bad bytes repaired) when the invalid bytes are at most this
#: many times the valid multi-byte characters; past it the file is single-byte text in which
#: a few byte pairs happen to be valid UTF-8.
MIXED_MAX_BAD_PER_VALID = 20

_RE_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # bytes that surrogateescape could not decode


def _cp1252_or_latin1(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: undefined in cp1252
        return chr(byte)


#: surrogateescape's U+DC80-U+DCFF back to the cp1252 character of the byte (str.translate table).
_ESCAPED_TO_CP1252 = {0xDC00 + b: _cp1252_or_latin1(b) for b in range(0x80, 0x100)}


@dataclass
class DecodedText:
    """A text file's bytes decoded (:func:`decode_text_detail`).

    Attributes:
        text: the text (BOM removed).
        encoding: ``utf-8``, ``utf-8-sig``, ``utf-16``, ``utf-16-le``, ``utf-16-be``, ``utf-32``,
            ``cp1252``, ``latin-1``, ``cp850`` or ``mac-roman``.
        repaired: bytes of a UTF-8 file that were not valid UTF-8 and were decoded one by
            one through cp1252 (Latin-1 for the five bytes cp1252 leaves undefined).
        first_repaired_line: 1-based line of the first repaired byte, None when none.
    """

    text: str
    encoding: str
    repaired: int = 0
    first_repaired_line: int | None = None


def _utf16_without_bom(data: bytes) -> DecodedText | None:
    """UTF-16 text without a byte-order mark, told by where its NUL bytes fall; else None.

    Latin text in UTF-16LE has a NUL in (almost) every odd byte and none in the even ones;
    binary data has NULs on both sides. The decoding must also be strict (no lone surrogates).
    """
    n = len(data) // 2
    if n < UTF16_MIN_UNITS:
        return None
    nul_even, nul_odd = data[0 : 2 * n : 2].count(0), data[1 : 2 * n : 2].count(0)
    for codec, nul_high, nul_low in (("utf-16-le", nul_odd, nul_even), ("utf-16-be", nul_even, nul_odd)):
        if nul_high >= UTF16_MIN_NUL_SHARE * n and nul_low * 20 <= nul_high:
            try:
                return DecodedText(data[: 2 * n].decode(codec), codec)
            except UnicodeDecodeError:
                return None
    return None


def _utf8_repaired(data: bytes) -> DecodedText | None:
    """UTF-8 with a few bytes of another encoding pasted in: each bad byte decoded through cp1252.

    None when the bytes hold no valid multi-byte UTF-8 character, or far more bad bytes than
    valid characters (:data:`MIXED_MAX_BAD_PER_VALID`): single-byte text, not UTF-8.
    """
    lossy = data.decode("utf-8", errors="surrogateescape")  # each bad byte -> U+DC80..U+DCFF
    n_bad = len(_RE_ESCAPED_BYTE.findall(lossy))
    n_valid = len(lossy) - len(lossy.encode("ascii", errors="ignore")) - n_bad  # multi-byte characters
    if n_valid < 1 or n_bad > MIXED_MAX_BAD_PER_VALID * n_valid:
        return None
    first = _RE_ESCAPED_BYTE.search(lossy)
    line = lossy.count("\n", 0, first.start()) + 1 if first else None
    return DecodedText(lossy.translate(_ESCAPED_TO_CP1252), "utf-8", repaired=n_bad, first_repaired_line=line)


def decode_text_detail(data: bytes) -> DecodedText:
    """Decode the bytes of a text file, saying what was repaired.

    Order: a byte-order mark; UTF-16 without a BOM (:func:`_utf16_without_bom`); strict
    UTF-8 (a character cut at the very end is dropped); UTF-8 with a few bytes of a
    single-byte encoding pasted in, each bad byte decoded through cp1252 and counted in
    ``repaired`` (:func:`_utf8_repaired`); then ``charset-normalizer`` among
    :data:`SINGLE_BYTE_CANDIDATES`, with Latin-1 vs cp1252 decided by the presence of bytes
    0x80-0x9F.

    Raises:
        UnicodeError: the bytes are binary (NUL bytes, and neither a UTF-16/32 BOM nor the
            NUL pattern of UTF-16 text); the caller turns this into UnsupportedFileError.
    """
    for bom, codec, reported in _BOMS:
        if data.startswith(bom):
            return DecodedText(data.decode(codec), reported)
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise UnicodeError("NUL bytes: binary data")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as e:
        if e.reason == "unexpected end of data" and e.start >= len(data) - 3:
            logger.warning("UTF-8 text cut inside a character at its end; last %d byte(s) dropped",
                           len(data) - e.start)
            return DecodedText(data[: e.start].decode("utf-8"), "utf-8")
    mixed = _utf8_repaired(data)
    if mixed is not None:
        logger.warning("text is UTF-8 with %d invalid byte(s), first on line %s; decoded through cp1252",
                       mixed.repaired, mixed.first_repaired_line)
        return mixed

    import charset_normalizer

    best = charset_normalizer.from_bytes(data, cp_isolation=list(SINGLE_BYTE_CANDIDATES)).best()
    codec = best.encoding if best is not None else "latin_1"
    if codec in ("cp1252", "latin_1"):
        # Identical except 0x80-0x9F: printable in cp1252, C1 controls (never real text) in Latin-1.
        has_c1 = any(0x80 <= b <= 0x9F for b in data)
        codec = "latin_1"
        if has_c1:
            try:
                return DecodedText(data.decode("cp1252"), "cp1252")
            except UnicodeDecodeError:
                pass
    return DecodedText(data.decode(codec), _ENCODING_NAMES.get(codec, codec))


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode the bytes of a text file: ``(text, encoding)``; see :func:`decode_text_detail`.

    Raises:
        UnicodeError: binary bytes.
    """
    decoded = decode_text_detail(data)
    return decoded.text, decoded.encoding


def _looks_binary(text: str) -> bool:
    """More than 1% control characters (other than tab, newlines, form feed) means binary."""
    sample = text[:20000]
    if not sample:
        return False
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    return controls > len(sample) / 100


# --- text repair ----------------------------------------------------------------------------

_LOWER = "a-zà-öø-ÿ"  # Latin lowercase letters incl. accented (after NFC)
_RE_FFFE_JOIN = re.compile(rf"(?<=[{_LOWER}])\ufffe\s*(?=[{_LOWER}])")
_RE_HYPHEN_NL = re.compile(rf"(?<=[{_LOWER}])-[ \t]*\n[ \t]*(?=[{_LOWER}])")
_RE_SOFT_HYPHEN = re.compile(r"\u00ad[ \t]*(\n[ \t]*)?")
_RE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufeff\ufffe\uffff]")
_RE_TRAILING_WS = re.compile(r"[ \t]+\n")
_RE_MANY_NL = re.compile(r"\n{3,}")
_RE_LIST_START = re.compile(r"^(\d{1,3}(\.\d{1,3})*[.)]?\s|[-*•–—·▪►○●]\s|[a-zA-Z][.)]\s)")
_TERMINAL = ".!?:;"


def repair_hyphenation(text: str) -> str:
    """Join words broken at line ends: PDFium's U+FFFE marker, ``-\\n`` and soft hyphens (U+00AD).

    U+FFFE and ``-\\n`` between two lowercase letters join the halves (``inscri\\ufffeções`` ->
    ``inscrições``); a U+FFFE elsewhere (``Procuradoria\\ufffeGeral``) becomes a plain ``-``.
    """
    text = _RE_SOFT_HYPHEN.sub("", text)
    text = _RE_FFFE_JOIN.sub("", text)
    text = text.replace("\ufffe", "-")
    return _RE_HYPHEN_NL.sub("", text)


def _line_width(lines: Sequence[str]) -> int:
    """Typical full line length: the 90th percentile of non-empty line lengths (characters)."""
    lengths = sorted(len(line) for line in lines if line.strip())
    if not lengths:
        return 0
    return lengths[min(len(lengths) - 1, int(len(lengths) * 0.9))]


def rejoin_lines(text: str, min_fill: float = 0.6) -> str:
    """Join lines that a layout wrapped inside a paragraph, where that is safe.

    A line is joined to the next (with one space) when it fills at least ``min_fill`` of
    the typical line width, does not end in ``.!?:;``, and the next line continues the
    sentence: it starts with a lowercase letter, or the line ends in a lowercase letter or
    comma and the next line is not a heading or list item (``1.2 Título``, ``• item``).
    Short lines (code, headings, list items, last lines of paragraphs) are left alone.
    """
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    width = _line_width(lines)
    if width < 30:
        return text
    threshold = width * min_fill
    out: list[str] = [lines[0]]
    for line in lines[1:]:
        prev = out[-1]
        prev_s, nxt = prev.rstrip(), line.strip()
        if (
            nxt
            and prev_s.strip()
            and len(prev_s) >= threshold
            and prev_s[-1] not in _TERMINAL
            and (
                nxt[0].islower()
                or ((prev_s[-1].islower() or prev_s[-1] == ",") and not _RE_LIST_START.match(nxt))
            )
        ):
            out[-1] = prev_s + " " + nxt
        else:
            out.append(line)
    return "\n".join(out)


def normalize_text(text: str, rejoin: bool = True) -> str:
    """Clean one page (or one text file): the same rules for PDF and .txt.

    NFC-normalises; ``\\r\\n`` and ``\\r`` -> ``\\n``; form feed -> blank line; repairs
    hyphenation (:func:`repair_hyphenation`); drops other control characters; strips
    trailing spaces; rejoins wrapped lines (:func:`rejoin_lines`) when ``rejoin``; collapses
    3+ newlines to 2; strips the ends.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n\n")
    text = _RE_TRAILING_WS.sub("\n", text)
    text = repair_hyphenation(text)
    text = _RE_CONTROL.sub("", text)
    if rejoin:
        text = rejoin_lines(text)
    text = _RE_TRAILING_WS.sub("\n", text)
    text = _RE_MANY_NL.sub("\n\n", text)
    return text.strip()


# --- readers ---------------------------------------------------------------------------------


def _read_pdf(data: bytes, name: str, cfg: IngestConfig | None = None) -> tuple[list[str], list[str | None]]:
    """Raw text and printed label of each page of the PDF ``data`` (PDFium), in order.

    PDFium runs in the bounded child process of :mod:`oracle.pdf_worker`
    (``cfg.pdf_memory_mb`` of address space, ``cfg.pdf_timeout_s`` seconds).

    Returns:
        ``(texts, labels)``, one entry per page: the page's text ('' for a page PDFium
        cannot read) and its label from the PDF's /PageLabels (``"vii"``, ``"12"``), None
        where the PDF defines none.

    Raises:
        EncryptedPDFError: a user password is needed to open it.
        CorruptFileError: PDFium cannot load it, or no page can be read.
        PdfTooComplexError: the reader ran out of memory or time (a decompression bomb).
    """
    from oracle import pdf_worker

    cfg = cfg or IngestConfig()
    try:
        pages = pdf_worker.read_pdf(data, memory_mb=cfg.pdf_memory_mb, timeout_s=cfg.pdf_timeout_s)
    except pdf_worker.PdfReadError as e:
        if e.code == "encrypted":
            raise EncryptedPDFError(file=name) from None
        raise CorruptFileError(file=name, kind="PDF", detail=e.detail) from None
    except pdf_worker.PdfLimitError as e:
        logger.warning("%s: the PDF reader hit its %s limit (%s)", name, e.reason, e.detail)
        if e.reason == "timeout":
            raise PdfTooComplexError("err.pdf_too_slow", file=name, timeout_s=cfg.pdf_timeout_s) from None
        raise PdfTooComplexError(file=name, limit_mb=cfg.pdf_memory_mb) from None
    for number in pages["failed"]:
        logger.warning("%s: page %d could not be read; it is left empty", name, number)
    return pages["texts"], pages["labels"]


def _pages_from_texts(texts: Sequence[str], labels: Sequence[str | None] | None = None) -> list[Page]:
    """Pages numbered from 1, ``start`` offsets into ``PAGE_SEPARATOR.join(texts)``, printed ``labels``."""
    pages, start = [], 0
    for number, text in enumerate(texts, start=1):
        label = labels[number - 1] if labels else None
        pages.append(Page(number=number, text=text, start=start, label=label))
        start += len(text) + len(PAGE_SEPARATOR)
    return pages


# --- page cleaning (PDFs) -------------------------------------------------------------------
#
# Printed books and manuals repeat a title and a page number on every page and open with a
# table of contents. Left in, each such line lands in some chunk, and chunks made of them
# ("Manual do Sistema 82 / 98", "3.1 Rede . . . . . 2") are short, alike and match any
# question: measured on the Debian Edu manual, a header chunk scored 0.83 cosine for an
# off-topic question. :func:`clean_pdf_pages` removes them, line by line, before the lines
# of a paragraph are rejoined.

#: A line must recur on at least this share of a PDF's pages with text (and on at least
#: RUNNING_MIN_PAGES pages) to be a running header or footer.
RUNNING_MIN_SHARE = 0.3
RUNNING_MIN_PAGES = 3
#: Header/footer candidates: this many non-empty lines at the top and at the bottom of a page.
EDGE_LINES = 2
#: A page (or a block of consecutive lines) is a table of contents when at least this share
#: of its non-empty lines are table-of-contents entries.
TOC_MIN_SHARE = 0.6
#: Non-entry lines allowed between two entries of the same table-of-contents block.
TOC_MAX_GAP = 2

# A roman numeral up to 3999, lowercase (the form page numbers take); the lookahead keeps it non-empty.
_ROMAN = r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"
_PAGE_TOKEN = rf"(?:\d{{1,4}}|{_ROMAN})"
#: A table-of-contents entry: dot leaders (``....``, ``. . . .``, ``· · ·``, ``……``), a page number.
_RE_TOC_ENTRY = re.compile(
    r"(?:\.{4,}|(?:\.[ \t]+){3,}\.?|(?:[·∙•][ \t]*){3,}|(?:…[ \t]*){2,})"
    rf"[ \t]*{_PAGE_TOKEN}[ \t]*$"
)
_LEADER_HINTS = ("....", ". . .", "·", "∙", "•", "…")
#: An entry of a table of contents without leaders (``2.1 Instalação 14``), only counted
#: on a page whose first line is a table-of-contents title.
_RE_TOC_PLAIN_ENTRY = re.compile(rf"\S.*[ \t]{_PAGE_TOKEN}$")
_RE_TOC_TITLE = re.compile(
    r"^(?:sum[áa]rio|[íi]ndice(?: geral| analítico)?|conte[úu]dos?|tabela de conte[úu]dos?|"
    r"lista de (?:figuras|tabelas|quadros|exemplos|ilustrações)|table of contents|contents|"
    r"list of (?:figures|tables|examples))$",
    re.IGNORECASE,
)
#: A line that is only a page number: ``7``, ``vii``, ``- 7 -``, ``82 / 98``, ``Página 3 de 10``, ``p. 4``.
_RE_BARE_PAGE = re.compile(
    rf"^(?:[-–—][ \t]*)?(?:(?i:p[áa]gina|p[áa]g\.?|page|p\.)[ \t]*)?(?P<n>{_PAGE_TOKEN})"
    rf"(?:[ \t]*(?:/|(?i:de|of))[ \t]*\d{{1,4}})?(?:[ \t]*[-–—])?$"
)
#: A page number at the end or the start of a header/footer line (``Manual 82 / 98``,
#: ``Página 3 de 10``, ``4 Capítulo``).
_RE_PAGE_AT_END = re.compile(
    rf"(?:^|(?<=\s))(?P<n>{_PAGE_TOKEN})(?:[ \t]*(?:/|(?i:de|of))[ \t]*\d{{1,4}})?[ \t]*$"
)
_RE_PAGE_AT_START = re.compile(rf"^(?P<n>{_PAGE_TOKEN})(?:[ \t]*/[ \t]*\d{{1,4}})?(?=\s)")
_RE_DIGITS = re.compile(r"\d+")
_RE_SPACES = re.compile(r"\s+")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


def is_toc_line(line: str) -> bool:
    """True for a table-of-contents entry: dot leaders followed by a page number.

    ``"3.1 Rede . . . . . . . 2"``, ``"Introdução ........ 7"``, ``"Prefácio · · · · xiii"``
    -> True; ``"Veja a seção 3.1 na página 7."`` -> False.
    """
    if not any(leader in line for leader in _LEADER_HINTS):  # cheap test first: most lines have none
        return False
    return bool(_RE_TOC_ENTRY.search(line.rstrip()))


def _page_value(token: str) -> int:
    """Value of a page token: ``"12"`` -> 12, ``"xiv"`` -> 14."""
    if token.isdigit():
        return int(token)
    total = 0
    for ch, nxt in zip(token, token[1:] + " "):
        v = _ROMAN_VALUES[ch]
        total += -v if nxt != " " and _ROMAN_VALUES[nxt] > v else v
    return total


def _edge_key(line: str) -> str:
    """What a running header/footer line has in common across pages.

    The page number at its end or start (``82 / 98``, ``vii``) and every other run of
    digits become ``#``; whitespace is collapsed; case is folded. ``"Manual 82 / 98"`` and
    ``"Manual vii"`` share the key ``"manual #"``.
    """
    s = line.strip()
    s = _RE_PAGE_AT_END.sub("#", s)
    s = _RE_PAGE_AT_START.sub("#", s)
    s = _RE_DIGITS.sub("#", s)
    return _RE_SPACES.sub(" ", s).casefold()


def _edge_indices(lines: Sequence[str]) -> list[int]:
    """Indices of the first and last :data:`EDGE_LINES` non-empty lines (each once)."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))


def _label_of(line: str) -> str | None:
    """The page number a header/footer line prints at its end or start, or None."""
    m = _RE_PAGE_AT_END.search(line.strip()) or _RE_PAGE_AT_START.search(line.strip())
    return m.group("n") if m else None


def _increasing(tokens: Sequence[str]) -> bool:
    """True when arabic and roman tokens, each kind in page order, strictly increase."""
    for kind in (str.isdigit, lambda t: not t.isdigit()):
        values = [_page_value(t) for t in tokens if kind(t)]
        if any(b <= a for a, b in zip(values, values[1:])):
            return False
    return True


@dataclass
class PageCleaning:
    """What :func:`clean_pdf_pages` did to a PDF's pages.

    Attributes:
        texts: the cleaned text of each page, same length and order as the input ('' for
            a page left empty).
        labels: the printed page label of each page (``"7"``, ``"vii"``) or None.
        header_footer: ``(page number, line)`` for each running header/footer or
            page-number line removed.
        toc: ``(page number, line)`` for each table-of-contents line removed.
        emptied: numbers of the pages that had text and have none left.
    """

    texts: list[str]
    labels: list[str | None]
    header_footer: list[tuple[int, str]] = field(default_factory=list)
    toc: list[tuple[int, str]] = field(default_factory=list)
    emptied: list[int] = field(default_factory=list)


def _toc_lines(lines: Sequence[str]) -> set[int]:
    """Indices of the table-of-contents lines of one page (already without headers/footers).

    The whole page when :data:`TOC_MIN_SHARE` of its non-empty lines are entries (dot
    leaders and a page number; or, under a title such as ``Sumário``, any line ending in
    a page number). Otherwise each entry, and each block of entries (entries at most
    :data:`TOC_MAX_GAP` lines apart) made :data:`TOC_MIN_SHARE` of entries, with a
    table-of-contents title right above it.
    """
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if not filled:
        return set()
    entries = [i for i in filled if is_toc_line(lines[i])]
    if _RE_TOC_TITLE.match(lines[filled[0]].strip()) and len(filled) > 1:
        plain = [i for i in filled[1:] if _RE_TOC_PLAIN_ENTRY.match(lines[i].strip())]
        if len(plain) >= TOC_MIN_SHARE * (len(filled) - 1):
            return set(filled)
    if not entries:
        return set()
    if len(entries) >= TOC_MIN_SHARE * len(filled):
        return set(filled)
    removed = set(entries)
    pos = {line_index: k for k, line_index in enumerate(filled)}  # line index -> rank among non-empty
    block = [entries[0]]
    for i in entries[1:] + [None]:
        if i is not None and pos[i] - pos[block[-1]] - 1 <= TOC_MAX_GAP:
            block.append(i)
            continue
        span = filled[pos[block[0]] : pos[block[-1]] + 1]
        if len(block) > 1 and len(block) >= TOC_MIN_SHARE * len(span):
            removed.update(span)
            above = pos[block[0]] - 1
            if above >= 0 and _RE_TOC_TITLE.match(lines[filled[above]].strip()):
                removed.add(filled[above])
        if i is not None:
            block = [i]
    return removed


def clean_pdf_pages(texts: Sequence[str], pdf_labels: Sequence[str | None] | None = None) -> PageCleaning:
    """Remove running headers/footers, page-number lines and tables of contents from PDF pages.

    Deterministic, line by line, page count unchanged (page n stays page n, possibly '').

    1. Running headers/footers: among the first and last :data:`EDGE_LINES` non-empty
       lines of each page, a line whose :func:`_edge_key` (page number and digits -> ``#``,
       whitespace collapsed, case folded) appears on at least :data:`RUNNING_MIN_SHARE`
       of the pages with text, and on at least :data:`RUNNING_MIN_PAGES` pages, is removed.
    2. Page-number lines: then, at the top and the bottom of each page, up to two lines
       that are only a page number (``7``, ``vii``, ``82 / 98``, ``Página 3 de 10``; roman
       numerals in lowercase) whose value is at most the page's index are removed (front
       matter makes printed numbers smaller than the index, never larger; a PDF that
       starts at printed page 200 has its numbers caught by rule 1 instead).
    3. Tables of contents: see :func:`_toc_lines`; a table-of-contents page becomes ''.

    Printed labels: the PDF's own /PageLabels (``pdf_labels``) when it has any; else the
    number a removed header/footer line prints (``"Manual 82 / 98"`` -> ``"82"``), taken
    only from lines whose numbers strictly increase from page to page (a repeated year or
    chapter number is not a page number), or a removed page-number line.

    Args:
        texts: each page's text, lines separated by ``\\n`` (normalised, not yet rejoined).
        pdf_labels: the PDF's page labels, one per page ('' or None where it has none).

    Returns:
        PageCleaning: cleaned texts (trailing and leading blank lines stripped), labels,
        and the removed lines, for logs and measurements.
    """
    pages = [text.split("\n") for text in texts]
    n_pages = len(pages)
    with_text = sum(1 for lines in pages if any(line.strip() for line in lines))
    min_pages = max(RUNNING_MIN_PAGES, math.ceil(RUNNING_MIN_SHARE * with_text))

    # 1. running headers and footers
    edges = [{i: _edge_key(lines[i]) for i in _edge_indices(lines)} for lines in pages]  # line index -> key
    page_count: dict[str, int] = {}
    for keys in edges:
        for key in set(keys.values()):
            page_count[key] = page_count.get(key, 0) + 1
    running = {key for key, count in page_count.items() if count >= min_pages}
    removed: list[set[int]] = []
    groups: dict[str, list[tuple[int, str]]] = {}  # key -> [(page index, printed number)]
    result = PageCleaning(texts=[], labels=[None] * n_pages)
    for p, (lines, keys) in enumerate(zip(pages, edges)):
        gone: set[int] = set()
        for i, key in keys.items():
            if key in running:
                gone.add(i)
                result.header_footer.append((p + 1, lines[i].strip()))
                token = _label_of(lines[i])
                if token is not None:
                    groups.setdefault(key, []).append((p, token))
        removed.append(gone)
    found_labels: dict[int, str] = {}
    for members in groups.values():
        if _increasing([token for _p, token in members]):
            for p, token in members:
                found_labels.setdefault(p, token)

    # 2. page-number lines at the top and the bottom
    for p, lines in enumerate(pages):
        gone = removed[p]
        for direction in (1, -1):
            order = range(len(lines)) if direction == 1 else range(len(lines) - 1, -1, -1)
            stripped = 0
            for i in order:
                if i in gone or not lines[i].strip():
                    continue
                m = _RE_BARE_PAGE.match(lines[i].strip())
                # a printed number beyond the page's index is content (a total, a year), not its number
                if stripped >= 2 or not m or _page_value(m.group("n")) > p + 1:
                    break
                gone.add(i)
                stripped += 1
                result.header_footer.append((p + 1, lines[i].strip()))
                found_labels.setdefault(p, m.group("n"))

    # 3. tables of contents, then the pages' new texts
    for p, lines in enumerate(pages):
        kept = [line for i, line in enumerate(lines) if i not in removed[p]]  # headers/footers dropped
        toc = _toc_lines(kept)
        result.toc.extend((p + 1, kept[i].strip()) for i in sorted(toc))
        # a table of contents inside a page leaves a paragraph break, so rejoining cannot
        # glue the text above it to the text below it
        text = "\n".join("" if i in toc else line for i, line in enumerate(kept))
        text = _RE_MANY_NL.sub("\n\n", text).strip()
        if not text and texts[p].strip():
            result.emptied.append(p + 1)
        result.texts.append(text)

    if pdf_labels and any(pdf_labels):
        result.labels = [label or None for label in pdf_labels]
    else:
        result.labels = [found_labels.get(p) for p in range(n_pages)]
    return result


def detect_language(text: str) -> str:
    """ISO 639-1 code (``"pt"``, ``"en"``...) of ``text``, or ``"und"`` when it has under 20 letters.

    Uses ``py3langid`` (langid.py, Lui & Baldwin 2012). A long text is classified in up to
    :data:`LANGUAGE_WINDOWS` windows of 1000 characters spread over it, and the language
    with the most characters wins (a manual with English passages stays ``"pt"`` when
    Portuguese dominates).
    """
    if sum(1 for ch in text[:20000] if ch.isalpha()) < LANGUAGE_MIN_LETTERS:
        return "und"
    import py3langid

    if len(text) <= LANGUAGE_SAMPLE_CHARS:
        lang, _score = py3langid.classify(text)
        return lang or "und"
    size = LANGUAGE_SAMPLE_CHARS // LANGUAGE_WINDOWS
    step = (len(text) - size) / (LANGUAGE_WINDOWS - 1)
    votes: dict[str, int] = {}
    for i in range(LANGUAGE_WINDOWS):
        window = text[int(i * step) : int(i * step) + size]
        letters = sum(1 for ch in window if ch.isalpha())
        if letters < LANGUAGE_MIN_LETTERS:
            continue
        lang, _score = py3langid.classify(window)
        votes[lang] = votes.get(lang, 0) + letters
    if not votes:
        return "und"
    return max(votes.items(), key=lambda kv: kv[1])[0]


# --- the stage -------------------------------------------------------------------------------


def _clean_and_rejoin(
    texts: list[str], pdf_labels: list[str | None], name: str
) -> tuple[list[str], list[str | None]]:
    """:func:`clean_pdf_pages`, then :func:`normalize_text` (rejoining lines) on each page; logs the counts.

    A PDF that cleaning would leave without any text (nothing but a table of contents,
    say) is kept as read, with a warning: an empty document helps no one.

    Returns:
        ``(texts, labels)``: one cleaned text and one printed label (or None) per page.
    """
    cleaned = clean_pdf_pages(texts, pdf_labels)
    if not any(cleaned.texts):
        logger.warning("%s: cleaning the pages would leave no text; headers and contents kept", name)
        return [_rejoin_page(t) for t in texts], cleaned.labels
    n_empty = sum(1 for t in cleaned.texts if not t)
    logger.info(
        "%s: page cleaning removed %d header/footer line(s) and %d table-of-contents line(s); "
        "%d page(s) emptied by it, %d of %d page(s) empty in all",
        name, len(cleaned.header_footer), len(cleaned.toc), len(cleaned.emptied), n_empty, len(texts),
    )
    return [_rejoin_page(t) for t in cleaned.texts], cleaned.labels


def _rejoin_page(text: str) -> str:
    """The last steps of :func:`normalize_text` for a page normalised with ``rejoin=False``."""
    text = _RE_TRAILING_WS.sub("\n", rejoin_lines(text))
    return _RE_MANY_NL.sub("\n\n", text).strip()


def parse_bytes(
    data: bytes, name: str, cfg: IngestConfig | None = None, warnings: list[OracleWarning] | None = None
) -> Document:
    """Parse a file's bytes into a Document (not saved); ``name`` is the display name.

    Args:
        warnings: when given, notes on the file are appended to it (an
            :class:`~oracle.errors.EncodingRepairedWarning` when bytes of a UTF-8 file were
            repaired); they are logged either way.

    Raises:
        UnsupportedFileError, EmptyDocumentError, NoTextLayerError, EncryptedPDFError,
        CorruptFileError, PdfTooComplexError: each naming ``name``.
    """
    cfg = cfg or IngestConfig()
    name = clean_name(name)
    if not data.strip():
        raise EmptyDocumentError(file=name)
    sha = hashlib.sha256(data).hexdigest()
    encoding: str | None = None
    labels: list[str | None] | None = None
    if is_pdf(data):
        kind = "pdf"
        raw_pages, pdf_labels = _read_pdf(data, name, cfg)
        if not raw_pages:
            raise EmptyDocumentError(file=name)
        # Lines are rejoined after cleaning, so a footer is never glued to the last sentence.
        texts = [normalize_text(t, rejoin=not cfg.clean_pages) for t in raw_pages]
        n_chars = sum(len(t) for t in texts)
        if n_chars / len(texts) < cfg.min_chars_per_page:
            raise NoTextLayerError(file=name)
        empty = [i + 1 for i, t in enumerate(texts) if len(t) < cfg.min_chars_per_page]
        if empty:
            logger.warning("%s: %d of %d page(s) have (almost) no text (scanned?): %s",
                           name, len(empty), len(texts), empty[:20])
        if cfg.clean_pages:
            texts, labels = _clean_and_rejoin(texts, pdf_labels, name)
        else:
            labels = [label or None for label in pdf_labels] if any(pdf_labels) else None
    else:
        kind = "txt"
        binary_kind = sniff_binary_kind(data)
        if binary_kind:
            raise UnsupportedFileError(file=name, kind=binary_kind)
        try:
            decoded = decode_text_detail(data)
        except UnicodeError:
            raise TextEncodingError(file=name, kind="application/octet-stream") from None
        raw, encoding = decoded.text, decoded.encoding
        if decoded.repaired and warnings is not None:
            warnings.append(EncodingRepairedWarning(file=name, count=decoded.repaired,
                                                    line=decoded.first_repaired_line))  # fmt: skip
        if _looks_binary(raw):
            raise TextEncodingError(file=name, kind="application/octet-stream")
        texts = [normalize_text(raw)]
        if not texts[0]:
            raise EmptyDocumentError(file=name)
    pages = _pages_from_texts(texts, labels)
    doc = Document(
        doc_id=make_doc_id(name, sha),
        name=name,
        sha256=sha,
        pages=pages,
        language=detect_language(PAGE_SEPARATOR.join(texts)),
        encoding=encoding,
        kind=kind,
    )
    return doc


def ingest_file(
    path: str | os.PathLike,
    workspace: Workspace | None = None,
    cfg: IngestConfig | None = None,
    name: str | None = None,
    warnings: list[OracleWarning] | None = None,
) -> Document:
    """Read one ``.txt`` or ``.pdf`` file into a Document; save it when ``workspace`` is given.

    Args:
        path: the file.
        workspace: where to save ``documents/<doc_id>.json`` and the original; None: not saved.
        cfg: size limit (MB) and text-layer threshold (characters per page).
        name: display name (an upload's original name); default: the file's name. It is
            the name in error messages, citations and the doc_id (control and format
            characters removed).
        warnings: as in :func:`parse_bytes`.

    Returns:
        The Document; ``path`` is the stored original's absolute path ('' if not saved).
        Ingesting the same bytes under the same name again gives the same doc_id and
        replaces the saved copy.

    Raises:
        FileTooLargeError: over ``cfg.max_file_mb``.
        UnsupportedFileError: neither PDF nor text by content.
        EmptyDocumentError, NoTextLayerError, EncryptedPDFError, CorruptFileError,
        PdfTooComplexError (a PDF over the reader's memory or time limit).
        IngestError: the file cannot be opened (missing or a folder: key ``err.file_not_found``;
            no permission: ``err.ingest`` with the system's reason).
    """
    cfg = cfg or IngestConfig()
    path = Path(path)
    name = clean_name(name or path.name)
    if not path.is_file():
        raise IngestError("err.file_not_found", file=name)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise IngestError(file=name, detail=e.strerror or type(e).__name__) from e
    limit = cfg.max_file_mb * 1024 * 1024
    if size > limit:
        raise FileTooLargeError(file=name, size_mb=size / 1024 / 1024, limit_mb=cfg.max_file_mb)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise IngestError(file=name, detail=e.strerror or type(e).__name__) from e
    doc = parse_bytes(data, name, cfg, warnings=warnings)
    logger.info("read %s: %s, %d page(s), %d chars, language %s, encoding %s",
                name, doc.kind, len(doc.pages), doc.n_chars, doc.language, doc.encoding)
    if workspace is not None:
        save_document(workspace, doc, original=data)
    return doc


def save_document(workspace: Workspace, doc: Document, original: bytes | None = None) -> Path:
    """Save ``doc`` as ``documents/<doc_id>.json`` (and ``original`` under ``documents/<doc_id>/``).

    The JSON stores the original's path relative to the workspace home; loaded Documents
    carry it as an absolute path. Returns the JSON path.
    """
    folder = workspace.documents
    if original is not None:
        stored = folder / doc.doc_id / safe_filename(doc.name)
        write_bytes_atomic(stored, original)
        doc.path = str(stored)
    data = doc.to_dict()
    if doc.path:
        try:
            data["path"] = Path(doc.path).relative_to(workspace.home).as_posix()
        except ValueError:
            pass
    target = folder / f"{doc.doc_id}.json"
    write_json_atomic(target, data)
    return target


def _normalize_items(paths: Iterable) -> list[tuple[Path, str]]:
    items = []
    for item in paths:
        if isinstance(item, (tuple, list)):
            p, n = item
            items.append((Path(p), clean_name(str(n))))
        else:
            items.append((Path(item), clean_name(Path(item).name)))
    return items


def ingest_files(
    paths: Iterable[str | os.PathLike | tuple[str | os.PathLike, str]],
    workspace: Workspace | None = None,
    cfg: IngestConfig | None = None,
    progress: ProgressCallback | None = None,
) -> IngestResult:
    """Ingest a batch; each file fails alone.

    Args:
        paths: files, or ``(path, display name)`` pairs (uploads whose temp name differs).
        workspace, cfg: as in :func:`ingest_file`.
        progress: ``progress(done, total, file name)``, called before each file and once at the end.

    Returns:
        IngestResult: the Documents read, ``(file name, OracleError)`` for each failure and
        one :class:`FileOutcome` per input in input order (with its warnings). An unexpected
        exception is logged with its traceback and recorded as an :class:`IngestError` with
        the exception as detail. Never raises for one bad file.
    """
    items = _normalize_items(paths)
    result = IngestResult()
    total = len(items)
    for i, (path, name) in enumerate(items):
        if progress:
            progress(i, total, name)
        outcome = FileOutcome(name=name)
        result.outcomes.append(outcome)
        try:
            outcome.document = ingest_file(path, workspace=workspace, cfg=cfg, name=name,
                                           warnings=outcome.warnings)  # fmt: skip
            result.documents.append(outcome.document)
        except OracleError as e:
            logger.warning("could not ingest %s: %s", name, e.message("en"))
            outcome.error = e
            result.errors.append((name, e))
        except Exception as e:  # noqa: BLE001 - one bad file must not stop the batch
            logger.exception("unexpected error ingesting %s", name)
            outcome.error = IngestError(file=name, detail=f"{type(e).__name__}: {e}")
            result.errors.append((name, outcome.error))
    if progress:
        progress(total, total, items[-1][1] if items else "")
    return result


# --- stored documents ----------------------------------------------------------------------


def _load_json(workspace: Workspace, path: Path) -> Document:
    doc = Document.from_dict(read_json(path))
    if doc.path and not Path(doc.path).is_absolute():
        doc.path = str(workspace.home / doc.path)
    return doc


def list_documents(workspace: Workspace) -> list[Document]:
    """Every Document saved in the workspace, sorted by name (then doc_id).

    Unreadable JSON files are skipped with a warning.
    """
    docs = []
    for path in workspace.documents.glob("*.json"):
        try:
            docs.append(_load_json(workspace, path))
        except (OSError, ValueError, TypeError) as e:
            logger.warning("skipping unreadable document file %s: %s", path, e)
    return sorted(docs, key=lambda d: (d.name.lower(), d.doc_id))


def load_document(workspace: Workspace, doc_id: str) -> Document:
    """The saved Document ``doc_id``.

    Raises:
        DocumentNotFoundError: no such document (or a malformed id).
    """
    path = workspace.documents / f"{doc_id}.json"
    if not _DOC_ID_RE.match(doc_id or "") or not path.is_file():
        raise DocumentNotFoundError(name=doc_id)
    return _load_json(workspace, path)


def delete_document(workspace: Workspace, doc_id: str) -> None:
    """Remove the parsed document and its stored original (index and QA files are the callers').

    Raises:
        DocumentNotFoundError: neither the JSON nor the original's folder exists.
    """
    if not _DOC_ID_RE.match(doc_id or ""):
        raise DocumentNotFoundError(name=doc_id)
    json_path = workspace.documents / f"{doc_id}.json"
    folder = workspace.documents / doc_id
    if not json_path.exists() and not folder.exists():
        raise DocumentNotFoundError(name=doc_id)
    json_path.unlink(missing_ok=True)
    if folder.is_dir():
        shutil.rmtree(folder)
    logger.info("deleted document %s", doc_id)
