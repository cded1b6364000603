"""CONTRACT STUB (to be replaced by the ingest helper)."""
from __future__ import annotations


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    raise NotImplementedError


def chunk_document(doc, cfg=None) -> list:
    """Document -> [Chunk] with stable ids and provenance; sizes in tokens per ChunkingConfig."""
    raise NotImplementedError


def chunk_documents(docs, cfg=None) -> list:
    raise NotImplementedError
