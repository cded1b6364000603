"""Dense retrieval: sentence-transformers embeddings in a FAISS inner-product index.

A :class:`VectorIndex` holds the chunks of a set of documents and one vector per chunk:

* vectors come from a sentence-transformers model (:func:`oracle.models.load_embedder`),
  encoded with the model's retrieval prompts (e5: ``"query: "`` for questions,
  ``"passage: "`` for chunks; :func:`oracle.models.embedder_prompts`) and L2-normalised, so
  the inner product is the cosine similarity (Reimers & Gurevych 2019, Sentence-BERT;
  Wang et al. 2022, "Text Embeddings by Weakly-Supervised Contrastive Pre-training", e5);
* they live in ``faiss.IndexIDMap2(faiss.IndexFlatIP(dim))`` (exact search; Johnson et al.
  2019, "Billion-scale similarity search with GPUs") under int64 ids assigned sequentially,
  which lets documents be added incrementally and removed (``remove_ids``);
* each chunk of more than :data:`WINDOW_SENTENCES` sentences also gets one vector per
  sentence window (:func:`sentence_windows`: 3 sentences, stride 2) in a second FAISS index,
  under ids ``chunk id * WINDOW_ID_BASE + k``. A chunk's dense score is its own cosine plus
  its best window's cosine (the chunk's own cosine again when it has no windows): a question
  about one sentence of a 256-token chunk matches that sentence's window better than the whole
  chunk's vector (multi-granularity or "small-to-big" retrieval; LlamaIndex's sentence-window
  retriever). Retrieval still returns chunks, in the one chunk-id space;
* optionally (``hybrid``), BM25 over the chunk texts (``bm25s``; Robertson & Zaragoza 2009) is
  fused with the dense score by a convex combination of min-max normalised scores over the
  candidates (:data:`DENSE_WEIGHT` 0.8 dense, 0.2 BM25; Bruch, Gai & Ingber 2023, "An Analysis
  of Fusion Functions for Hybrid Retrieval", which finds it better than reciprocal rank fusion).

On the three Portuguese gold sets (258 answerable questions) windows + this fusion raise hit@5
from 0.87 to 0.91 (MRR@10 0.755 → 0.78) against chunk vectors + reciprocal rank fusion, and on the
English Zaragoza FAQ (503) from 0.80 to 0.88; figures and commands in ``bench/RESULTS.md``.

On disk, ``indexes/<name>/`` holds these files and nothing else (never pickle: a pickle from
an upload is code execution):

* ``index.faiss``: ``faiss.write_index`` of the vectors, ``[n_chunks, dim]`` float32;
* ``windows.faiss``: the sentence-window vectors, ``[n_windows, dim]`` float32 (absent in an
  index written before windows existed: its chunks are windowed at the next build);
* ``chunks.jsonl``: one ``{"id": int, **Chunk.to_dict()}`` per line, in id order;
* ``index.json``: what made the index (embedder, dim, metric, prompts, chunking config), its
  relevance gate ``min_score`` (the embedder's default, :func:`oracle.models.embedder_min_score`;
  indexes written before the field existed derive it from their embedder on load), counts per
  document, creation/update times and the oracle/faiss versions.

The folder is swapped in whole (:meth:`VectorIndex.save`): the new version is written to a
sibling ``indexes/.<name>.<8 chars>.tmp/`` and fsynced; then the current folder is renamed
aside to ``.<name>.<8 chars>.old`` and the new one renamed to ``<name>`` (the commit point), and
the old one is deleted. A kill at any step leaves either the old or the new folder complete:
:func:`recover_index` (run by every loader and by :func:`list_indexes`) puts back the complete
version when the kill fell between the two renames and deletes the leftover dot-folders, which
are never listed as indexes. Saves, builds, re-indexes and recoveries of one index hold its
lock (:func:`index_lock`, a file lock ``indexes/.<name>.lock``: threads and processes alike).
On load the ids of ``index.faiss`` and ``chunks.jsonl`` are checked against each other; an
index torn by an older version (that swapped its files one at a time) is rebuilt from its
``chunks.jsonl`` by :func:`build_index`. The BM25 index is rebuilt in memory from
``chunks.jsonl`` on first hybrid use.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from oracle.config import DEFAULT_EMBEDDER, DEFAULT_INDEX, ChunkingConfig, Workspace, to_dict
from oracle.errors import IndexMismatchError, IndexNotFoundError, OracleError
from oracle.schema import (
    Chunk,
    Document,
    Hit,
    ProgressCallback,
    folder_lock,
    iter_jsonl,
    no_progress,
    now_iso,
    read_json,
    recover_folder,
    recover_folders,
    replace_folder,
    write_json_atomic,
)

logger = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
CHUNKS_FILE = "chunks.jsonl"
META_FILE = "index.json"
WINDOWS_FILE = "windows.faiss"
FORMAT = "oracle-index"
FORMAT_VERSION = 1
WINDOW_SENTENCES = 3
"""Sentences per window (:func:`sentence_windows`)."""
WINDOW_STRIDE = 2
"""Sentences between the starts of two windows (one sentence of overlap)."""
WINDOW_ID_BASE = 4096
"""Window ids are ``chunk id * WINDOW_ID_BASE + k``: at most this many windows per chunk."""
DENSE_WEIGHT = 0.8
"""Weight of the normalised dense score in hybrid fusion (BM25 gets ``1 - DENSE_WEIGHT``).
Chosen on the Portuguese and Zaragoza gold sets (0.7 and 0.8 within 0.005 of each other;
0.9 and 0.6 worse on both); ``bench/RESULTS.md``."""
DENSE_MIN_SPAN = 0.02
"""Smallest spread of dense scores (chunk + window cosine, in [-2, 2]) that min-max rescales to
[0, 1] in hybrid fusion. On the gold sets the 40 best dense scores of a question spread over at
least 0.022 (5th percentile 0.033), so this never changes their rankings; it keeps an embedder
that cannot tell the candidates apart (an untrained model: spread ~0.002) from drowning BM25
in rescaled noise."""


def sentence_windows(text: str) -> list[str]:
    """Overlapping windows of :data:`WINDOW_SENTENCES` sentences of a chunk's ``text``.

    Sentences come from :func:`oracle.grounding.split_sentences`; a window starts every
    :data:`WINDOW_STRIDE` sentences, and a last one ends on the last sentence. A text of
    :data:`WINDOW_SENTENCES` sentences or fewer has no windows (its chunk vector is its window).

    Returns:
        ``[str]``, at most :data:`WINDOW_ID_BASE` windows, in text order.
    """
    from oracle.grounding import split_sentences

    sentences = split_sentences(text)
    if len(sentences) <= WINDOW_SENTENCES:
        return []
    starts = list(range(0, len(sentences) - WINDOW_SENTENCES + 1, WINDOW_STRIDE))
    if starts[-1] + WINDOW_SENTENCES < len(sentences):
        starts.append(len(sentences) - WINDOW_SENTENCES)
    return [" ".join(sentences[i : i + WINDOW_SENTENCES]) for i in starts][:WINDOW_ID_BASE]


# --- embedding ------------------------------------------------------------------------


def same_embedder(a: str, b: str) -> bool:
    """True when two embedder names denote the same model (local paths compared resolved)."""
    if a == b:
        return True
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    if pa.exists() and pb.exists():
        return pa.resolve() == pb.resolve()
    return False


def _prompts(embedder: str) -> dict[str, str]:
    from oracle import models

    try:
        return dict(models.embedder_prompts(embedder) or {})
    except NotImplementedError:  # pragma: no cover - contract stub
        return {}


def encode(
    model: Any,
    texts: Sequence[str],
    kind: str,
    prompts: dict[str, str] | None = None,
    batch_size: int = 32,
) -> Any:
    """Embed ``texts`` with a SentenceTransformer for retrieval.

    Args:
        model: a ``sentence_transformers.SentenceTransformer``.
        texts: the strings to embed.
        kind: ``"query"`` (questions) or ``"document"`` (chunks).
        prompts: ``{"query": ..., "document": ...}`` prefixes (e5: ``"query: "``, ``"passage: "``).
            When ``kind`` has no prompt here, the model's own ``prompts`` (if any) apply through
            ``encode_query`` / ``encode_document``.
        batch_size: texts per forward pass.

    Returns:
        float32 numpy array ``[len(texts), dim]``, rows L2-normalised (inner product = cosine).
    """
    import numpy as np

    if kind not in ("query", "document"):
        raise ValueError(f"`kind` must be 'query' or 'document', got {kind!r}.")
    if not texts:
        dim = model.get_embedding_dimension()
        return np.zeros((0, dim), dtype="float32")
    method = model.encode_query if kind == "query" else model.encode_document
    prompt = (prompts or {}).get(kind)
    kwargs: dict[str, Any] = {
        "batch_size": batch_size,
        "normalize_embeddings": True,
        "convert_to_numpy": True,
        "show_progress_bar": False,
    }
    if prompt is not None:
        kwargs["prompt"] = prompt
    vectors = np.asarray(method(list(texts), **kwargs), dtype="float32")  # [n, dim]
    # A bf16 model normalises in bf16 (norms off by ~0.5%): renormalise in float32 so the
    # inner product is the cosine (<= 1) and FAISS gets contiguous float32.
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))


# --- BM25 (optional hybrid) -----------------------------------------------------------


class _BM25:
    """BM25 over chunk texts with ``bm25s`` (English + Portuguese stop words, no stemming)."""

    def __init__(self, ids: list[int], texts: list[str]) -> None:
        import bm25s
        from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_PORTUGUESE

        self._stopwords = list(STOPWORDS_EN) + list(STOPWORDS_PORTUGUESE)
        self.ids = ids
        self._pos: dict[int, int] | None = None
        self.retriever = bm25s.BM25()
        tokens = bm25s.tokenize(texts, stopwords=self._stopwords, show_progress=False)
        self.retriever.index(tokens, show_progress=False)

    def positions(self, chunk_ids: Iterable[int]) -> list[int]:
        """Positions in :meth:`scores`' array of ``chunk_ids`` (all indexed)."""
        if self._pos is None:
            self._pos = {cid: j for j, cid in enumerate(self.ids)}
        return [self._pos[i] for i in chunk_ids]

    def scores(self, query: str) -> Any:
        """BM25 score of ``query`` against every chunk: float32 ``[len(self.ids)]``, aligned with
        ``self.ids`` (all zeros when no query word is in the vocabulary)."""
        import bm25s
        import numpy as np

        tokens = bm25s.tokenize([query], stopwords=self._stopwords, return_ids=False, show_progress=False)[0]
        vocab = self.retriever.vocab_dict or {}
        known = [tok for tok in tokens if tok in vocab]
        if not self.ids or not known:
            return np.zeros(len(self.ids), dtype="float32")
        return np.asarray(self.retriever.get_scores(known), dtype="float32")


def _minmax(values: dict[int, float], min_span: float = 0.0) -> dict[int, float]:
    """``values`` rescaled by ``(v - min) / max(max - min, min_span)``: into [0, 1], or into
    [0, span / min_span] when they spread less than ``min_span`` (all 0 when all equal)."""
    lo, hi = min(values.values()), max(values.values())
    span = max(hi - lo, min_span)
    return {k: (v - lo) / span if span > 0 else 0.0 for k, v in values.items()}


# --- the index ------------------------------------------------------------------------


class VectorIndex:
    """Chunks and their vectors in ``faiss.IndexIDMap2(faiss.IndexFlatIP(dim))``.

    Attributes:
        name: the index name (folder under ``indexes/``).
        embedder: the embedder name or local path the vectors came from.
        dim: embedding dimension.
        chunking: the chunking config (dict) that produced the chunks, for the record.
        path: the folder it was loaded from / saved to, or None.
        min_score: (read-only property) the index's relevance gate, a cosine: the chat answers
            "not found" when the best hit scores under it (unless ``RAGConfig.min_score`` overrides).

    ``len(index)`` is the number of chunks. Methods are thread-safe (one lock per index).
    Build one with :meth:`create` or :meth:`load`, not with the constructor.
    """

    def __init__(
        self,
        name: str,
        embedder: str,
        dim: int,
        faiss_index: Any = None,
        chunks: dict[int, Chunk] | None = None,
        chunking: dict[str, Any] | None = None,
        created_at: str | None = None,
        updated_at: str | None = None,
        next_id: int = 0,
        model: Any = None,
        min_score: float | None = None,
        windows_index: Any = None,
        windowed: bool = True,
    ) -> None:
        import faiss

        from oracle.models import embedder_min_score

        self.name = name
        self.embedder = embedder
        self.dim = int(dim)
        self.index = (
            faiss_index if faiss_index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        )
        # sentence-window vectors under ids chunk id * WINDOW_ID_BASE + k (module docstring)
        self.windows = (
            windows_index if windows_index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        )
        self._n_windows: dict[int, int] = {}  # {chunk id: number of windows}, chunks with windows only
        if self.windows.ntotal:
            for wid in faiss.vector_to_array(self.windows.id_map).tolist():
                owner = wid // WINDOW_ID_BASE
                self._n_windows[owner] = self._n_windows.get(owner, 0) + 1
        # False for an index written before windows existed: its chunks get windows at the next add
        self.windowed = bool(windowed)
        self._chunks: dict[int, Chunk] = dict(chunks or {})
        self._ids: dict[str, int] = {c.chunk_id: i for i, c in self._chunks.items()}
        self.chunking = chunking
        self.created_at = created_at or now_iso()
        self.updated_at = updated_at or self.created_at
        self.next_id = max([next_id, *(i + 1 for i in self._chunks)])
        self.path: Path | None = None
        self.prompts = _prompts(embedder)
        self._min_score = float(min_score) if min_score is not None else embedder_min_score(embedder)
        self._model = model
        self._bm25: _BM25 | None = None
        self._lock = threading.RLock()

    # --- construction -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        embedder: str = DEFAULT_EMBEDDER,
        name: str = DEFAULT_INDEX,
        chunking: ChunkingConfig | dict | None = None,
        model: Any = None,
    ) -> VectorIndex:
        """An empty index for ``embedder``; loads the model to learn its dimension.

        Args:
            embedder: a name :func:`oracle.models.load_embedder` resolves (bundled name,
                local sentence-transformers folder, hub id).
            name: the index name.
            chunking: the chunking config of the chunks that will be added (recorded only).
            model: an already loaded SentenceTransformer to use instead of loading ``embedder``.

        Raises:
            ModelNotFoundError: the embedder cannot be resolved.
        """
        local = Path(embedder).expanduser()
        if local.is_dir():  # a local folder is recorded absolute: the index loads from any cwd
            embedder = str(local.resolve())
        if model is None:
            from oracle.models import load_embedder

            model = load_embedder(embedder)
        dim = model.get_embedding_dimension()
        if isinstance(chunking, ChunkingConfig):
            chunking = to_dict(chunking)
        return cls(name=name, embedder=embedder, dim=dim, chunking=chunking, model=model)

    @classmethod
    def load(cls, path: str | os.PathLike, embedder: str | None = None, model: Any = None) -> VectorIndex:
        """Read an index folder written by :meth:`save` (``faiss.read_index``, JSON; no pickle).

        What a killed save left behind is repaired first (:func:`recover_index`); files that
        disagree are read again under :func:`index_lock` (a save may have swapped the folder
        between two reads) before they count as corrupt.

        Args:
            path: the ``indexes/<name>`` folder.
            embedder: if given, the embedder the caller expects; a different one raises.
            model: an already loaded SentenceTransformer for the index's embedder.

        Raises:
            IndexNotFoundError: the folder or one of its three files is missing.
            IndexMismatchError: ``embedder`` differs from the one the index was built with.
            OracleError (keys ``err.index_corrupt.*``: ``format``, ``dimension``, ``counts``,
                ``windows``): the files disagree.
        """
        path = Path(path)
        if not recover_index(path):
            raise IndexNotFoundError(name=path.name)
        try:
            return cls._read(path, embedder, model)
        except OracleError as err:
            if not err.key.startswith("err.index_corrupt."):
                raise
        except (OSError, RuntimeError):  # faiss: RuntimeError; the folder was renamed mid-read
            pass
        with index_lock(path):  # a save may have swapped the folder while we read it: read again
            recover_index(path)
            if not _complete(path):
                raise IndexNotFoundError(name=path.name)
            return cls._read(path, embedder, model)

    @classmethod
    def _read(cls, path: Path, embedder: str | None, model: Any) -> VectorIndex:
        import faiss
        import numpy as np

        name = path.name
        meta = read_json(path / META_FILE)
        if meta.get("format") != FORMAT:
            raise OracleError("err.index_corrupt.format", name=name, file=META_FILE, format=repr(FORMAT))
        if embedder is not None and not same_embedder(meta["embedder"], embedder):
            raise IndexMismatchError(name=name, expected=meta["embedder"], got=embedder)
        faiss_index = faiss.read_index(str(path / INDEX_FILE))
        chunks: dict[int, Chunk] = {}
        for row in iter_jsonl(path / CHUNKS_FILE):
            chunks[int(row["id"])] = Chunk.from_dict(row)
        ids = faiss.vector_to_array(faiss_index.id_map) if faiss_index.ntotal else np.zeros(0, "int64")
        if faiss_index.d != int(meta["dim"]):
            raise OracleError("err.index_corrupt.dimension", name=name, file=INDEX_FILE, got=faiss_index.d,
                              meta=META_FILE, expected=meta["dim"])
        if set(ids.tolist()) != set(chunks):
            raise OracleError("err.index_corrupt.counts", name=name, file=INDEX_FILE, vectors=len(ids),
                              chunks_file=CHUNKS_FILE, chunks=len(chunks))
        windowed = bool(meta.get("windows")) and (path / WINDOWS_FILE).is_file()
        windows_index = faiss.read_index(str(path / WINDOWS_FILE)) if windowed else None
        if windows_index is not None and windows_index.ntotal:
            owners = set((faiss.vector_to_array(windows_index.id_map) // WINDOW_ID_BASE).tolist())
            if windows_index.d != faiss_index.d or not owners <= set(chunks):
                raise OracleError("err.index_corrupt.windows", name=name, file=WINDOWS_FILE)
        index = cls(
            name=meta.get("name", name),
            embedder=meta["embedder"],
            dim=int(meta["dim"]),
            faiss_index=faiss_index,
            chunks=dict(sorted(chunks.items())),
            chunking=meta.get("chunking"),
            created_at=meta.get("created_at"),
            updated_at=meta.get("updated_at"),
            next_id=int(meta.get("next_id", 0)),
            model=model,
            min_score=_meta_min_score(meta),
            windows_index=windows_index,
            windowed=windowed,
        )
        index.path = path
        return index

    @property
    def min_score(self) -> float:
        """The relevance gate (cosine in [-1, 1]) recorded with this index: its embedder's default
        (:func:`oracle.models.embedder_min_score`) when built; 0.0 means no gate."""
        return self._min_score

    # --- model --------------------------------------------------------------------

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded on first use (cached by :mod:`oracle.models`).

        Raises:
            IndexMismatchError: the loaded model's dimension differs from the index's.
        """
        if self._model is None:
            from oracle.models import load_embedder

            model = load_embedder(self.embedder)
            got = model.get_embedding_dimension()
            if got != self.dim:
                raise IndexMismatchError(
                    name=self.name,
                    expected=f"{self.embedder} (dim {self.dim})",
                    got=f"{self.embedder} (dim {got})",
                )
            self._model = model
        return self._model

    def embed_queries(self, queries: Sequence[str]) -> Any:
        """Query vectors ``[len(queries), dim]`` float32, with the query prompt."""
        return encode(self.model, queries, "query", self.prompts)

    def embed_documents(self, texts: Sequence[str], batch_size: int = 32) -> Any:
        """Chunk vectors ``[len(texts), dim]`` float32, with the document prompt."""
        return encode(self.model, texts, "document", self.prompts, batch_size=batch_size)

    # --- content ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._chunks)

    @property
    def chunks(self) -> list[Chunk]:
        """The chunks in id (insertion) order."""
        with self._lock:
            return list(self._chunks.values())

    def __contains__(self, chunk_id: object) -> bool:
        return chunk_id in self._ids

    def documents(self) -> dict[str, int]:
        """``{doc_id: number of chunks}`` in insertion order."""
        counts: dict[str, int] = {}
        with self._lock:
            for chunk in self._chunks.values():
                counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
        return counts

    def add(
        self,
        chunks: Iterable[Chunk],
        progress: ProgressCallback | None = None,
        embedder: str | None = None,
        batch_size: int = 32,
        progress_every: int = 32,
    ) -> int:
        """Embed and add chunks whose ``chunk_id`` is not in the index yet, with their sentence
        windows (:func:`sentence_windows`).

        Texts (chunks and windows) are sorted by length before batching (less padding),
        embedded with the document prompt and added under new sequential ids. An index written
        before windows existed gets the windows of all its chunks here too (one extra embedding
        pass, once).

        Args:
            chunks: the chunks; duplicates (already indexed, or repeated in the input) are skipped.
            progress: ``progress(done, total, message)`` after every ``progress_every`` chunks
                (each embedded with its windows: about 4 per 256-token chunk of prose).
            embedder: if given, the embedder the caller's chunks are meant for; must match.
            batch_size: texts per forward pass of the model.
            progress_every: chunks per progress step (one ``encode`` call each). One batch by
                default: with 256, the Debian Edu manual's 320 chunks sat at "0 de 320" for about
                a minute (the longest texts come first) and then jumped to 256 (issue 11, U6).

        Returns:
            The number of chunks added.

        Raises:
            IndexMismatchError: ``embedder`` differs from the index's, or the model's dimension does.
        """
        import numpy as np

        from oracle.i18n import t

        if embedder is not None and not same_embedder(self.embedder, embedder):
            raise IndexMismatchError(name=self.name, expected=self.embedder, got=embedder)
        progress = progress or no_progress
        with self._lock:
            new: list[Chunk] = []
            seen: set[str] = set()
            for chunk in chunks:
                if chunk.chunk_id in self._ids or chunk.chunk_id in seen:
                    continue
                seen.add(chunk.chunk_id)
                new.append(chunk)
            # an index from before windows existed: window its chunks now, once
            backlog = [] if self.windowed else [(i, c) for i, c in self._chunks.items() if i not in self._n_windows]
        windows = [sentence_windows(c.text) for c in new]
        backlog_windows = [sentence_windows(c.text) for _, c in backlog]
        # one unit of work per chunk: its own text and its windows, embedded in the same step
        units = [[c.text, *ws] for c, ws in zip(new, windows)] + backlog_windows
        total = len(units)
        if not sum(len(u) for u in units):
            with self._lock:
                self.windowed = True
            return 0
        # Embed without holding the lock: searches go on while a large batch is embedded.
        order = sorted(range(total), key=lambda i: len(units[i][0]) if units[i] else 0, reverse=True)
        embedded: list[Any] = [None] * total  # per unit: [len(unit), dim]
        done = 0
        progress(0, total, t("index.embedding", done=0, total=total))
        for start in range(0, total, progress_every):
            part = order[start : start + progress_every]
            texts = [text for i in part for text in units[i]]
            vectors = self.embed_documents(texts, batch_size=batch_size) if texts else np.zeros((0, self.dim), "float32")
            row = 0
            for i in part:
                embedded[i] = vectors[row : row + len(units[i])]
                row += len(units[i])
            done += len(part)
            progress(done, total, t("index.embedding", done=done, total=total))
        with self._lock:
            for (chunk_id, _), vectors in zip(backlog, embedded[len(new) :]):
                if len(vectors) and chunk_id in self._chunks and chunk_id not in self._n_windows:
                    self._add_windows(chunk_id, vectors)
            self.windowed = True
            if not new:
                return 0
            chunk_vectors = np.stack([v[0] for v in embedded[: len(new)]])  # [len(new), dim]
            return self.add_embeddings(new, chunk_vectors, [v[1:] for v in embedded[: len(new)]])

    def add_embeddings(self, chunks: Sequence[Chunk], vectors: Any, window_vectors: Sequence[Any] | None = None) -> int:
        """Add chunks with vectors computed elsewhere (same embedder, same prompts).

        Args:
            chunks: the chunks; those already in the index (by ``chunk_id``) are skipped.
            vectors: float32 ``[len(chunks), dim]``, one row per chunk, L2-normalised.
            window_vectors: for each chunk, the vectors of its :func:`sentence_windows`, float32
                ``[n_windows, dim]`` (``[0, dim]`` for a chunk without windows); None: no
                windows (the chunks' dense score is then their own cosine, twice).

        Returns:
            The number of chunks added.

        Raises:
            IndexMismatchError: ``vectors`` do not have the index's dimension.
        """
        import numpy as np

        vectors = np.ascontiguousarray(np.asarray(vectors, dtype="float32"))
        if vectors.ndim != 2 or vectors.shape[0] != len(chunks) or vectors.shape[1] != self.dim:
            raise IndexMismatchError(
                name=self.name, expected=f"{self.embedder} (dim {self.dim})", got=f"vectors {vectors.shape}"
            )
        with self._lock:
            keep, seen = [], set()
            for row, chunk in enumerate(chunks):
                if chunk.chunk_id not in self._ids and chunk.chunk_id not in seen:
                    seen.add(chunk.chunk_id)
                    keep.append(row)
            added = self._add_vectors([chunks[i] for i in keep], vectors[keep])
            if window_vectors is not None:
                for chunk_id, row in zip(range(self.next_id - added, self.next_id), keep):
                    self._add_windows(chunk_id, window_vectors[row])
            return added

    def _add_vectors(self, chunks: list[Chunk], vectors: Any) -> int:
        import numpy as np

        total = len(chunks)
        if not total:
            return 0
        ids = np.arange(self.next_id, self.next_id + total, dtype="int64")
        self.index.add_with_ids(vectors, ids)
        for chunk_id, chunk in zip(ids.tolist(), chunks):
            self._chunks[chunk_id] = chunk
            self._ids[chunk.chunk_id] = chunk_id
        self.next_id += total
        self.updated_at = now_iso()
        self._bm25 = None
        logger.info("index %s: added %d chunks (%d in all)", self.name, total, len(self._chunks))
        return total

    def _add_windows(self, chunk_id: int, vectors: Any) -> None:
        """Add the window vectors ``[n_windows, dim]`` of chunk ``chunk_id`` (caller holds the lock)."""
        import numpy as np

        vectors = np.ascontiguousarray(np.asarray(vectors, dtype="float32")[:WINDOW_ID_BASE])
        if not len(vectors):
            return
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise IndexMismatchError(
                name=self.name, expected=f"{self.embedder} (dim {self.dim})", got=f"window vectors {vectors.shape}"
            )
        ids = chunk_id * WINDOW_ID_BASE + np.arange(len(vectors), dtype="int64")
        self.windows.add_with_ids(vectors, ids)
        self._n_windows[chunk_id] = len(vectors)

    def _window_ids(self, chunk_ids: Iterable[int]) -> Any:
        """The window ids of ``chunk_ids``: int64 ``[n]``."""
        import numpy as np

        parts = [i * WINDOW_ID_BASE + np.arange(self._n_windows[i], dtype="int64") for i in chunk_ids if i in self._n_windows]
        return np.concatenate(parts) if parts else np.zeros(0, dtype="int64")

    def remove_document(self, doc_id: str) -> int:
        """Remove every chunk of ``doc_id`` (``IndexIDMap2.remove_ids``). Returns how many."""
        import numpy as np

        with self._lock:
            ids = [i for i, c in self._chunks.items() if c.doc_id == doc_id]
            if not ids:
                return 0
            removed = self.index.remove_ids(np.asarray(ids, dtype="int64"))
            if removed != len(ids):  # pragma: no cover - would mean the files disagreed
                logger.warning("index %s: removed %d vectors for %d chunks", self.name, removed, len(ids))
            window_ids = self._window_ids(ids)
            if len(window_ids):
                self.windows.remove_ids(window_ids)
            for i in ids:
                self._n_windows.pop(i, None)
                chunk = self._chunks.pop(i)
                self._ids.pop(chunk.chunk_id, None)
            self.updated_at = now_iso()
            self._bm25 = None
            return len(ids)

    # --- search -------------------------------------------------------------------

    def search(self, query: str, top_k: int = 4, hybrid: bool = False) -> list[Hit]:
        """The ``top_k`` chunks closest to ``query``, best first.

        Args:
            query: the question (embedded with the query prompt).
            top_k: how many hits at most (fewer when the index is smaller).
            hybrid: fuse BM25 with the dense score (convex combination, module docstring).

        Returns:
            ``[Hit]`` with ``rank`` from 1 and ``score`` = cosine similarity of query and chunk
            vector (the relevance gate's scale; the order comes from the chunk + window score,
            and under ``hybrid`` from the fusion).
        """
        return self.search_batch([query], top_k, hybrid=hybrid)[0]

    def search_batch(self, queries: Sequence[str], top_k: int = 4, hybrid: bool = False) -> list[list[Hit]]:
        """:meth:`search` for many queries in one encode/search call. Returns ``[[Hit]]``."""
        if top_k <= 0:
            raise ValueError(f"`top_k` must be positive, got {top_k}.")
        if not queries:
            return []
        vectors = self.embed_queries(queries)  # [n_queries, dim]
        return self.search_vectors(vectors, top_k, queries=queries if hybrid else None)

    def search_vectors(
        self, vectors: Any, top_k: int = 4, queries: Sequence[str] | None = None
    ) -> list[list[Hit]]:
        """Search with query vectors already embedded (``[n_queries, dim]`` float32, normalised).

        Candidates are the best ``max(4 * top_k, 20)`` chunks by chunk vector, the chunks of the
        best ``4 *`` as many windows and, with ``queries`` (the texts: hybrid), the best as many
        by BM25. Each candidate's dense score is its chunk cosine plus its best window cosine
        (both exact: vectors the searches did not return are read back from FAISS); with
        ``queries`` it is fused with BM25 (module docstring).
        """
        import numpy as np

        vectors = np.ascontiguousarray(np.asarray(vectors, dtype="float32"))
        with self._lock:
            n = len(self._chunks)
            if n == 0:
                return [[] for _ in range(len(vectors))]
            depth = min(n, max(4 * top_k, 20))
            scores, ids = self.index.search(vectors, depth)  # [n_queries, depth] each
            n_windows = self.windows.ntotal
            if n_windows:
                w_scores, w_ids = self.windows.search(vectors, min(n_windows, 4 * depth))  # [n_queries, 4 depth]
            if queries is not None and self._bm25 is None:
                chunk_ids = list(self._chunks)
                self._bm25 = _BM25(chunk_ids, [self._chunks[i].text for i in chunk_ids])
            results: list[list[Hit]] = []
            for row, vector in enumerate(vectors):
                cosine = {int(i): float(s) for i, s in zip(ids[row], scores[row]) if i >= 0}
                window: dict[int, float] = {}
                if n_windows:
                    for wid, ws in zip(w_ids[row], w_scores[row]):  # best first
                        if wid >= 0:
                            window.setdefault(int(wid) // WINDOW_ID_BASE, float(ws))
                lexical: dict[int, float] = {}
                if queries is not None:
                    bm = self._bm25.scores(queries[row])  # [n_chunks]
                    best = np.argsort(-bm, kind="stable")[:depth]
                    lexical = {self._bm25.ids[j]: float(bm[j]) for j in best if bm[j] > 0}
                candidates = list(dict.fromkeys([*cosine, *window, *lexical]))
                dense = self._dense_scores(vector, candidates, cosine, window)
                if queries is None:
                    fused = dense
                else:
                    bm_all = {i: float(bm[j]) for i, j in zip(candidates, self._bm25.positions(candidates))}
                    d, b = _minmax(dense, DENSE_MIN_SPAN), _minmax(bm_all)
                    fused = {i: DENSE_WEIGHT * d[i] + (1.0 - DENSE_WEIGHT) * b[i] for i in candidates}
                order = sorted(candidates, key=lambda i: -fused[i])[:top_k]
                results.append(
                    [Hit(chunk=self._chunks[i], score=cosine[i], rank=r) for r, i in enumerate(order, start=1)]
                )
            return results

    def _dense_scores(
        self, vector: Any, candidates: list[int], cosine: dict[int, float], window: dict[int, float]
    ) -> dict[int, float]:
        """``{chunk id: chunk cosine + best window cosine}`` for ``candidates`` (the chunk cosine
        twice for a chunk without windows). Fills ``cosine`` and ``window`` with the exact values
        the searches did not return (caller holds the lock)."""
        import numpy as np

        query = np.asarray(vector, dtype="float32")
        missing = [i for i in candidates if i not in cosine]
        if missing:
            stored = self.index.reconstruct_batch(np.asarray(missing, dtype="int64"))  # [m, dim]
            cosine.update(zip(missing, (stored @ query).tolist()))
        unscored = [i for i in candidates if i not in window and i in self._n_windows]
        if unscored:
            wids = self._window_ids(unscored)
            stored = self.windows.reconstruct_batch(wids)  # [m windows, dim]
            for wid, ws in zip(wids.tolist(), (stored @ query).tolist()):
                owner = wid // WINDOW_ID_BASE
                window[owner] = max(window.get(owner, -2.0), ws)
        return {i: cosine[i] + window.get(i, cosine[i]) for i in candidates}

    # --- files --------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The content of ``index.json``."""
        import faiss

        from oracle import __version__

        docs: dict[str, dict[str, Any]] = {}
        for chunk in self.chunks:
            entry = docs.setdefault(chunk.doc_id, {"name": chunk.doc_name, "n_chunks": 0})
            entry["n_chunks"] += 1
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "embedder": self.embedder,
            "dim": self.dim,
            "metric": "inner_product",
            "normalized": True,
            "faiss_index": "IndexIDMap2(IndexFlatIP)",
            "windows": (
                {"sentences": WINDOW_SENTENCES, "stride": WINDOW_STRIDE, "id_base": WINDOW_ID_BASE,
                 "n_windows": int(self.windows.ntotal)}
                if self.windowed else None
            ),
            "hybrid_fusion": {"method": "convex_minmax", "dense_weight": DENSE_WEIGHT},
            "prompts": self.prompts,
            "min_score": self.min_score,
            "chunking": self.chunking,
            "n_chunks": len(self),
            "n_documents": len(docs),
            "documents": docs,
            "next_id": self.next_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "oracle_version": __version__,
            "faiss_version": faiss.__version__,
            "files": [INDEX_FILE, *([WINDOWS_FILE] if self.windowed else []), CHUNKS_FILE, META_FILE],
        }

    def save(self, path: str | os.PathLike | None = None, previous: str | os.PathLike | None = None) -> Path:
        """Write ``index.faiss``, ``windows.faiss``, ``chunks.jsonl`` and ``index.json`` and swap
        the folder in whole.

        The files go to a new sibling folder ``.<name>.<8 chars>.tmp``, each fsynced
        (``index.json`` last); then :func:`oracle.schema.replace_folder` swaps it in as ``path``
        (the old folder renamed aside, the new one renamed in, the old one deleted). A kill at any step leaves the old
        or the new index loadable (:func:`recover_index`). Runs under :func:`index_lock`. No pickle.

        Args:
            path: the folder; default: where the index was loaded from / last saved.
            previous: keep the replaced version there (replacing what was there) instead of
                deleting it (a re-index keeps ``<name>.prev``).

        Returns:
            The folder.
        """
        if path is None:
            if self.path is None:
                raise ValueError("VectorIndex.save needs a path: this index was never saved or loaded.")
            path = self.path
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with index_lock(path), self._lock:
            recover_index(path)
            replace_folder(path, self._write_files, previous=previous)
            self.path = path
        logger.info("index %s saved to %s (%d chunks)", self.name, path, len(self))
        return path

    def _write_files(self, folder: Path) -> None:
        """The files into ``folder``, each fsynced, ``index.json`` last."""
        import faiss

        from oracle.schema import _dumps

        faiss.write_index(self.index, str(folder / INDEX_FILE))
        files = [INDEX_FILE, CHUNKS_FILE]
        if self.windowed:
            faiss.write_index(self.windows, str(folder / WINDOWS_FILE))
            files.append(WINDOWS_FILE)
        with open(folder / CHUNKS_FILE, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(_dumps({"id": i, **chunk.to_dict()}) + "\n" for i, chunk in self._chunks.items())
        for fname in files:
            _fsync(folder / fname)
        write_json_atomic(folder / META_FILE, self.metadata())
        _fsync_dir(folder)


# --- the folder swap and its recovery -------------------------------------------------


def index_lock(path: str | os.PathLike):
    """The lock of the index folder ``path`` (``.<name>.lock`` beside it): held by every save,
    build, re-index and recovery of that index, so they never interleave (threads and processes).
    Re-entrant within a thread (:func:`oracle.schema.folder_lock`)."""
    return folder_lock(path)


def _complete(folder: Path) -> bool:
    """True when ``folder`` holds the three files (``index.json`` is written last)."""
    return all((folder / f).is_file() for f in (META_FILE, INDEX_FILE, CHUNKS_FILE))


def recover_index(path: str | os.PathLike) -> bool:
    """Repair what a killed save left beside the index folder ``path``
    (:func:`oracle.schema.recover_folder`: a kill between the two renames of the switch is
    completed, leftover ``.<name>.*.tmp``/``.old`` folders are deleted). Cheap when nothing
    was left (no lock taken).

    Returns:
        True when ``path`` holds a complete index afterwards.
    """
    return recover_folder(path, _complete)


def _meta_min_score(meta: dict[str, Any]) -> float | None:
    """The ``min_score`` of an ``index.json`` dict; None when absent or not a number in [-1, 1]
    (an index written before the field existed: the gate is then derived from its embedder)."""
    value = meta.get("min_score")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and -1.0 <= value <= 1.0:
        return float(value)
    return None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        _fsync(path)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass


# --- workspace functions ---------------------------------------------------------------

_LOADED: dict[str, tuple[int, VectorIndex]] = {}
_LOADED_LOCK = threading.Lock()


def load_index(
    workspace: Workspace, name: str = DEFAULT_INDEX, embedder: str | None = None, cache: bool = True
) -> VectorIndex:
    """The index ``indexes/<name>`` of ``workspace``.

    Args:
        workspace: the workspace.
        name: index name.
        embedder: if given, the expected embedder (a different one raises).
        cache: reuse the object loaded earlier in this process while ``index.json`` is
            unchanged on disk (the chat loads the index for every question).

    Raises:
        IndexNotFoundError: no such index.
        IndexMismatchError: built with another embedder than ``embedder``.
    """
    path = workspace.index_dir(name)
    meta = path / META_FILE
    if not recover_index(path):
        raise IndexNotFoundError(name=name)
    key = str(path)
    stamp = meta.stat().st_mtime_ns
    with _LOADED_LOCK:
        cached = _LOADED.get(key)
    if cache and cached and cached[0] == stamp:
        index = cached[1]
        if embedder is not None and not same_embedder(index.embedder, embedder):
            raise IndexMismatchError(name=name, expected=index.embedder, got=embedder)
        return index
    index = VectorIndex.load(path, embedder=embedder)
    if cache:
        with _LOADED_LOCK:
            _LOADED[key] = (stamp, index)
    return index


def _remember(index: VectorIndex) -> None:
    if index.path is None:
        return
    meta = index.path / META_FILE
    with _LOADED_LOCK:
        _LOADED[str(index.path)] = (meta.stat().st_mtime_ns, index)


def build_index(
    documents: Iterable[Document],
    workspace: Workspace,
    name: str = DEFAULT_INDEX,
    embedder: str | None = None,
    chunking: ChunkingConfig | None = None,
    progress: ProgressCallback | None = None,
    on_rechunk: Callable[[Any], None] | None = None,
) -> VectorIndex:
    """Embed the documents' chunks that are new, add them to ``indexes/<name>`` and save.

    The chunks are the documents' stored ones (:func:`oracle.chunking.document_chunks`), the
    same ids QA pairs and training data refer to. A ``chunking`` other than a document's stored
    one re-chunks it explicitly: ``on_rechunk`` gets the
    :class:`oracle.chunking.RechunkReport` (chunk ids removed, QA pairs left without their gold
    chunk), which is also logged as a warning when QA pairs are affected.

    Incremental: an existing index is loaded and only chunks it lacks are embedded. A
    document already indexed with different chunks (another chunking config) has its old
    chunks removed first, so it is never indexed twice. The whole load-add-save runs under
    :func:`index_lock`, so a re-index (:func:`oracle.training.embedding.reindex`) started at the
    same time runs before or after it, never across it. An index whose files disagree (torn by
    an older version's save) is rebuilt from its recorded chunks.

    Args:
        documents: parsed documents (:func:`oracle.ingest.ingest_file`).
        workspace: where ``indexes/<name>`` lives.
        name: index name.
        embedder: embedder name; default: the existing index's, else ``DEFAULT_EMBEDDER``.
        chunking: chunking config (default ``ChunkingConfig()``).
        progress: ``progress(done, total, message)``.
        on_rechunk: ``on_rechunk(report)`` for each document re-chunked by this build.

    Returns:
        The saved index.

    Raises:
        IndexMismatchError: the existing index was built with another embedder.
        ModelNotFoundError: the embedder cannot be loaded.
    """
    chunking = chunking or ChunkingConfig()
    path = workspace.index_dir(name)
    with index_lock(path):  # one writer at a time: a re-index job waits, and so does this
        return _build_locked(list(documents), workspace, name, path, embedder, chunking, progress, on_rechunk)


def _build_locked(
    documents: list[Document],
    workspace: Workspace,
    name: str,
    path: Path,
    embedder: str | None,
    chunking: ChunkingConfig,
    progress: ProgressCallback | None,
    on_rechunk: Callable[[Any], None] | None,
) -> VectorIndex:
    from oracle.chunking import document_chunks

    if recover_index(path):
        try:
            index = load_index(workspace, name, embedder=embedder, cache=True)
        except OracleError as err:
            if not err.key.startswith("err.index_corrupt."):
                raise
            index = _rebuild_from_chunks(path, embedder, progress)
        if index.chunking and index.chunking != to_dict(chunking):
            logger.info("index %s: chunking changed from %s to %s", name, index.chunking, to_dict(chunking))
        index.chunking = to_dict(chunking)
    else:
        index = VectorIndex.create(embedder or DEFAULT_EMBEDDER, name=name, chunking=chunking)
    chunks = [c for doc in documents for c in document_chunks(workspace, doc, chunking, on_rechunk)]
    by_doc: dict[str, set[str]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, set()).add(chunk.chunk_id)
    existing: dict[str, set[str]] = {}
    for chunk in index.chunks:
        existing.setdefault(chunk.doc_id, set()).add(chunk.chunk_id)
    for doc_id, ids in by_doc.items():
        if doc_id in existing and existing[doc_id] != ids:
            removed = index.remove_document(doc_id)
            logger.info("index %s: re-chunked %s, removed %d old chunks", name, doc_id, removed)
    index.add(chunks, progress=progress)
    index.save(path)
    _remember(index)
    return index


def _rebuild_from_chunks(path: Path, embedder: str | None, progress: ProgressCallback | None) -> VectorIndex:
    """A new index from the ``chunks.jsonl`` and ``index.json`` of a torn folder (an older save,
    killed between its per-file swaps, left ``index.faiss`` from another version): every
    recorded chunk is embedded again with the recorded embedder. Not saved here."""
    meta = read_json(path / META_FILE)
    if embedder is not None and not same_embedder(meta["embedder"], embedder):
        raise IndexMismatchError(name=path.name, expected=meta["embedder"], got=embedder)
    chunks = [Chunk.from_dict(row) for row in iter_jsonl(path / CHUNKS_FILE)]
    logger.warning("index %s: files disagree; rebuilding it from its %d recorded chunks", path.name, len(chunks))
    index = VectorIndex.create(meta["embedder"], name=meta.get("name", path.name), chunking=meta.get("chunking"))
    index.created_at = meta.get("created_at") or index.created_at
    index.add(chunks, progress=progress)
    return index


def remove_document(workspace: Workspace, doc_id: str, name: str = DEFAULT_INDEX) -> int:
    """Remove a document's chunks from ``indexes/<name>`` and save.

    Returns:
        The number of chunks removed: 0 when the document (or the index itself) is not there.
    """
    path = workspace.index_dir(name)
    with index_lock(path):
        if not recover_index(path):
            return 0
        index = load_index(workspace, name)
        removed = index.remove_document(doc_id)
        if removed:
            index.save()
            _remember(index)
        return removed


def delete_index(workspace: Workspace, name: str = DEFAULT_INDEX) -> bool:
    """Delete ``indexes/<name>`` (and what killed saves left beside it) under its lock, so a build
    or re-index of it never runs across the deletion. Returns False when there was none."""
    path = workspace.index_dir(name)
    with index_lock(path):
        recover_index(path)
        if not path.exists():
            return False
        shutil.rmtree(path)
        with _LOADED_LOCK:
            _LOADED.pop(str(path), None)
        return True


def list_indexes(workspace: Workspace) -> list[str]:
    """Names of the indexes of ``workspace``, sorted: complete folders (three files), after
    repairing what killed saves left (:func:`recover_index`). A save's temporary
    ``.<name>.*.tmp``/``.old`` folders and lock files are never listed."""
    recover_folders(workspace.indexes, _complete)
    return sorted(
        p.name for p in workspace.indexes.iterdir() if not p.name.startswith(".") and _complete(p)
    )


def index_stats(workspace: Workspace, name: str = DEFAULT_INDEX) -> dict[str, Any]:
    """What the UI shows about an index, read from ``index.json`` only (cheap, no FAISS load).

    Returns:
        ``{"name", "exists", "embedder", "dim", "min_score", "n_chunks", "n_documents",
        "documents": [{"doc_id", "name", "n_chunks"}], "chunking", "created_at", "updated_at"}``
        (``min_score``: the index's relevance gate, derived from the embedder for an index written
        without it); for a missing index ``exists`` is False, counts are 0 and the other fields None.
    """
    meta_path = workspace.index_dir(name) / META_FILE
    if not recover_index(meta_path.parent):
        return {
            "name": name, "exists": False, "embedder": None, "dim": None, "min_score": None, "n_chunks": 0,
            "n_documents": 0, "documents": [], "chunking": None, "created_at": None, "updated_at": None,
        }  # fmt: skip
    meta = read_json(meta_path)
    docs = [{"doc_id": d, **info} for d, info in (meta.get("documents") or {}).items()]
    gate = _meta_min_score(meta)
    if gate is None and meta.get("embedder"):
        from oracle.models import embedder_min_score

        gate = embedder_min_score(meta["embedder"])
    return {
        "name": name,
        "exists": True,
        "embedder": meta.get("embedder"),
        "dim": meta.get("dim"),
        "min_score": gate,
        "n_chunks": meta.get("n_chunks", 0),
        "n_documents": meta.get("n_documents", len(docs)),
        "documents": sorted(docs, key=lambda d: d.get("name", "")),
        "chunking": meta.get("chunking"),
        "created_at": meta.get("created_at"),
        "updated_at": meta.get("updated_at"),
    }
