"""Oráculo: answer questions from your own documents, and make the answers better by rating them.

The core is a set of plain functions over the dataclasses in :mod:`oracle.schema`:
ingest -> chunking -> qa_generation / index -> rag -> feedback. Heavy libraries (torch,
transformers, sentence-transformers, faiss) are imported inside the functions that need
them, so importing :mod:`oracle` is cheap.
"""

__version__ = "0.1.0"
