"""CONTRACT STUB (to be replaced by the llm helper)."""
from __future__ import annotations


def generate_qa(document, generator, workspace, cfg=None, chunking=None, progress=None, max_chunks=None):
    """Document -> QAReport(pairs, n_chunks, n_done, n_skipped, n_invalid, n_duplicates); appends to
    data_qa/<doc_id>.qa.jsonl; resumes (chunks already done are skipped)."""
    raise NotImplementedError


def load_qa(workspace, doc_id: str | None = None) -> list:
    raise NotImplementedError


def save_qa(workspace, doc_id: str, pairs: list) -> None:
    """Replace the QA file of doc_id (review edits), atomically."""
    raise NotImplementedError
