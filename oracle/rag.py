"""CONTRACT STUB (to be replaced by the index helper)."""
from __future__ import annotations


def build_messages(question: str, hits: list, language: str = "pt") -> list[dict]:
    """The prompt of RAG chat: system instructions + numbered sources [1]..[k] + question.
    Fine-tuning uses this same function (train and serve must match)."""
    raise NotImplementedError


def retrieve(index, question: str, cfg=None) -> list:
    raise NotImplementedError


def stream_answer(question: str, index, generator, cfg=None, language: str | None = None):
    """Yield str pieces of the answer, then the final Answer as the last item."""
    raise NotImplementedError


def answer(question: str, index, generator, cfg=None, language: str | None = None):
    """-> Answer (runs stream_answer to the end)."""
    raise NotImplementedError
