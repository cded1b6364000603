"""Settings as dataclasses with defaults, help text and validation; workspace paths.

Each field carries ``metadata={"help": ...}`` (the command line builds its ``--help`` from it)
and ``__post_init__`` raises :class:`oracle.errors.ConfigError` on bad values (never
``assert``: it vanishes under ``python -O``).

The workspace is ``ORACLE_HOME`` (default: the current folder; on Hugging Face Spaces with
persistent storage, ``/data``)::

    documents/   uploaded originals and their parsed form (<doc_id>.json)
    data_qa/     <doc_id>.qa.jsonl, validated.jsonl, invalid.jsonl, answers.jsonl
    indexes/     <name>/index.faiss, chunks.jsonl, index.json
    adapters/    <name>/ (LoRA adapter of the generator: peft files + train.json; merged models)
    embedders/   <name>/ (fine-tuned embedder: sentence-transformers folder + train.json)
    jobs/        background jobs: <id>/status.json, log.jsonl
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from oracle.errors import ConfigError

DEFAULT_EMBEDDER = "multilingual-e5-small"
DEFAULT_GENERATOR = "qwen2.5-coder-1.5b-instruct"
"""The generator that answers when nobody chooses (chat, ``ask``, ``eval``, QA generation): the
bundled 1.5B ("preciso"). On the Portuguese gold sets it finds the key facts of more answers,
refuses more unanswerable questions and cites better than the 0.5B, and with int8 weights and
bf16 compute (:func:`oracle.models.int8_compute_dtype`) its full answer takes ~11 s on 2 cores
(bench/RESULTS.md, "The 1.5B as the default generator")."""

FAST_GENERATOR = "qwen2.5-coder-0.5b-instruct"
"""The fast generator ("rápido"): the default base of a LoRA adapter and the student of
"Melhorar o Oráculo" (:mod:`oracle.improve`), which learns to answer like the 1.5B at its speed."""
DEFAULT_INDEX = "default"
ADAPTERS_DIR = "adapters"
"""Workspace folder of the generator's LoRA adapters and merged models."""
EMBEDDERS_DIR = "embedders"
"""Workspace folder of fine-tuned embedders (older workspaces have theirs under ``adapters/``;
:func:`oracle.training.card.list_runs` reads both)."""


def help_of(cls: type, name: str) -> str:
    """The help text of field ``name`` of dataclass ``cls``."""
    for f in fields(cls):
        if f.name == name:
            return f.metadata.get("help", "")
    raise KeyError(name)


def _positive(name: str, value: float) -> None:
    if value <= 0:
        raise ConfigError.positive(name, value)


#: Where a Hugging Face Space mounts its persistent storage (when the Space has it).
SPACES_DATA = Path("/data")


def default_home() -> Path:
    """``ORACLE_HOME`` if set; else :data:`SPACES_DATA` (``/data``) on a Space (``SPACE_ID`` set)
    with persistent storage (the folder exists and is writable); else the current folder."""
    env = os.environ.get("ORACLE_HOME")
    if env:
        return Path(env).expanduser()
    if os.environ.get("SPACE_ID") and SPACES_DATA.is_dir() and os.access(SPACES_DATA, os.W_OK):
        return SPACES_DATA
    return Path.cwd()


@dataclass
class Workspace:
    """Folders of one workspace; created on first use."""

    home: Path = field(default_factory=default_home, metadata={"help": "Workspace root (ORACLE_HOME)."})

    def __post_init__(self) -> None:
        self.home = Path(self.home).expanduser().resolve()

    def _dir(self, name: str) -> Path:
        path = self.home / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def documents(self) -> Path:
        return self._dir("documents")

    @property
    def data_qa(self) -> Path:
        return self._dir("data_qa")

    @property
    def indexes(self) -> Path:
        return self._dir("indexes")

    @property
    def adapters(self) -> Path:
        """LoRA adapters of the generator and merged models (``adapters/<name>/``)."""
        return self._dir(ADAPTERS_DIR)

    @property
    def embedders(self) -> Path:
        """Fine-tuned embedders (``embedders/<name>/``) written from now on; an older workspace may
        also hold some under :attr:`adapters` (:func:`oracle.training.card.list_runs` reads both)."""
        return self._dir(EMBEDDERS_DIR)

    @property
    def jobs(self) -> Path:
        return self._dir("jobs")

    @property
    def validated(self) -> Path:
        return self.data_qa / "validated.jsonl"

    @property
    def invalid(self) -> Path:
        return self.data_qa / "invalid.jsonl"

    @property
    def answers(self) -> Path:
        """Log of every answer given (JSONL), so an answer can be rated later by its id."""
        return self.data_qa / "answers.jsonl"

    def qa_file(self, doc_id: str) -> Path:
        return self.data_qa / f"{doc_id}.qa.jsonl"

    def index_dir(self, name: str = DEFAULT_INDEX) -> Path:
        return self.indexes / name


@dataclass
class IngestConfig:
    max_file_mb: float = field(
        default_factory=lambda: float(os.environ.get("ORACLE_MAX_UPLOAD_MB", "50")),
        metadata={"help": "Largest accepted file, in MB (env ORACLE_MAX_UPLOAD_MB)."},
    )
    min_chars_per_page: int = field(
        default=20,
        metadata={"help": "A PDF whose pages average fewer characters than this has no text layer."},
    )
    clean_pages: bool = field(
        default=True,
        metadata={"help": "PDFs only: remove running headers/footers, page-number lines and "
                          "table-of-contents lines (oracle.ingest.clean_pdf_pages); page numbers "
                          "are kept, a page left empty keeps its number."},
    )
    pdf_memory_mb: int = field(
        default_factory=lambda: int(os.environ.get("ORACLE_PDF_MEMORY_MB", "1024")),
        metadata={"help": "Address-space limit, in MB, of the process that reads PDFs (oracle.pdf_worker); a PDF "
                          "that needs more (a decompression bomb) fails alone. 0: no limit. The three corpus "
                          "manuals need under 60 MB (env ORACLE_PDF_MEMORY_MB)."},
    )
    pdf_timeout_s: float = field(
        default_factory=lambda: float(os.environ.get("ORACLE_PDF_TIMEOUT_S", "120")),
        metadata={"help": "Seconds allowed to read one PDF before its reader is stopped; the 268-page Debian "
                          "Reference takes under 1 s (env ORACLE_PDF_TIMEOUT_S)."},
    )

    def __post_init__(self) -> None:
        _positive("max_file_mb", self.max_file_mb)
        _positive("pdf_timeout_s", self.pdf_timeout_s)
        if self.pdf_memory_mb < 0:  # 0: no limit
            raise ConfigError.non_negative("pdf_memory_mb", self.pdf_memory_mb)
        if self.min_chars_per_page < 0:
            raise ConfigError.non_negative("min_chars_per_page", self.min_chars_per_page)


@dataclass
class ChunkingConfig:
    chunk_size: int = field(default=256, metadata={"help": "Largest chunk, in tokens (tiktoken cl100k_base)."})
    chunk_overlap: int = field(default=32, metadata={"help": "Tokens shared by consecutive chunks."})
    encoding: str = field(default="cl100k_base", metadata={"help": "tiktoken encoding used to count tokens."})

    def __post_init__(self) -> None:
        _positive("chunk_size", self.chunk_size)
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ConfigError.out_of_range("chunk_overlap", self.chunk_overlap, f"[0, chunk_size={self.chunk_size})")


@dataclass
class QAConfig:
    pairs_per_chunk: int = field(default=2, metadata={"help": "Question/answer pairs asked for per chunk."})
    max_retries: int = field(default=2, metadata={"help": "Extra attempts when the model's JSON is invalid."})
    max_new_tokens: int = field(default=384, metadata={"help": "Token budget of one generation."})
    temperature: float = field(default=0.3, metadata={"help": "Sampling temperature (0 = greedy)."})
    min_chunk_tokens: int = field(default=40, metadata={"help": "Chunks shorter than this (tokens) are skipped."})

    def __post_init__(self) -> None:
        _positive("pairs_per_chunk", self.pairs_per_chunk)
        _positive("max_new_tokens", self.max_new_tokens)
        for name in ("max_retries", "temperature"):
            if getattr(self, name) < 0:
                raise ConfigError.non_negative(name, getattr(self, name))


PROMPT_STYLES = ("v1", "v2", "v3", "v4", "v5", "v6", "v7")
"""The prompt styles of RAG chat (:data:`oracle.rag.PROMPT_STYLES`, where each is described)."""


@dataclass
class RAGConfig:
    top_k: int = field(default=4, metadata={"help": "Chunks retrieved and shown to the generator."})
    min_score: float | None = field(
        default=None,
        metadata={
            "help": (
                "Relevance gate: when the best chunk's cosine similarity is under this, the answer is "
                "'not found' and the generator is not called. Unset: the index's own gate, recorded "
                "when it was built from its embedder (multilingual-e5-small 0.82: its cosines are "
                "compressed, on-topic 0.83-0.95, off-topic 0.71-0.84; all-MiniLM-L6-v2 0.28; a "
                "fine-tuned embedder inherits its base's; unknown embedders 0, no gate). A number "
                "in [-1, 1] overrides it."
            ),
            "cli_default": "the index's",
        },
    )
    max_new_tokens: int = field(default=256, metadata={"help": "Token budget of the answer."})
    temperature: float = field(default=0.0, metadata={"help": "Sampling temperature (0 = greedy)."})
    hybrid: bool = field(
        default=True,
        metadata={"help": "Fuse BM25 with dense retrieval (convex combination of normalised scores). On the three Portuguese gold sets "
                          "(bench/gold) the answer passage is in the top 4 for 85% of questions, against 77% dense only."},
    )
    guard: bool = field(
        default=True,
        metadata={
            "help": (
                "Answer guards: a lexical relevance gate next to the cosine, one retry when the answer "
                "echoes the question, and 'not found' instead of an answer whose numbers or names are in "
                "no source."
            )
        },
    )
    prompt: str = field(
        default="v1",
        metadata={
            "help": (
                "Prompt style (oracle.rag.PROMPT_STYLES): v1 context then question; v2 the question before and "
                "after the context, answer-first instructions; v3 v2 plus a one-shot example; v4 v1 asking for the "
                "context's exact words (extractive); v5 v1 with the best source last, next to the question; v6 v1 "
                "asking to answer every part of the question with the context's exact names, numbers and "
                "commands; v7 v1 asking a yes/no question to start with Sim or Não and say why."
            )
        },
    )
    min_coverage: float = field(
        default=0.3,
        metadata={
            "help": (
                "Lexical gate (with guard): the share of the question's rare words (IDF-weighted) that the "
                "retrieved chunks must contain, and then the chunks the answer cites; under it the answer is "
                "'not found'. On the Portuguese gold sets, 0.3 on the retrieved chunks refuses 31% of the "
                "unanswerable questions and 2% of the answerable ones (bench/bench_gate.py)."
            )
        },
    )
    min_answerable: float = field(
        default=0.5,
        metadata={
            "help": (
                "Self-check (with guard): the generator is asked whether the sources hold what the question "
                "asks (Sim/Não), after its answer, or before it when the lexical gate would refuse; under "
                "this probability of 'Sim' the answer is 'not found'. Over it, the bundled 1.5B overrules the "
                "lexical gates (the one before the answer only from 0.05 over it: oracle.rag.OVERRULE_MARGIN); "
                "other generators (the 0.5B, adapters: weaker judges) keep them. "
                "0.5: refused when it finds 'Não' likelier. The 1.5B judges a Portuguese yes/no question with three choices "
                "(sim / não / the sources do not say), which needs 0.1 more (oracle.rag.judge_threshold). "
                "0 turns it off; a generator that gives no token "
                "probabilities (an API) keeps the lexical gates."
            )
        },
    )

    def __post_init__(self) -> None:
        _positive("top_k", self.top_k)
        _positive("max_new_tokens", self.max_new_tokens)
        if self.prompt not in PROMPT_STYLES:
            raise ConfigError.not_one_of("prompt", self.prompt, PROMPT_STYLES)
        if not 0.0 <= self.min_coverage <= 1.0:
            raise ConfigError.out_of_range("min_coverage", self.min_coverage, "[0, 1]")
        if not 0.0 <= self.min_answerable <= 1.0:
            raise ConfigError.out_of_range("min_answerable", self.min_answerable, "[0, 1]")
        if self.min_score is not None and not -1.0 <= self.min_score <= 1.0:
            raise ConfigError.out_of_range("min_score", self.min_score, "[-1, 1]")


def to_dict(cfg: Any) -> dict[str, Any]:
    """A config dataclass as a JSON-ready dict."""
    return {f.name: (str(v) if isinstance(v := getattr(cfg, f.name), Path) else v) for f in fields(cfg)}
