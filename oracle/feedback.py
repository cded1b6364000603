"""CONTRACT STUB (to be replaced by the index helper)."""
from __future__ import annotations


def rate_answer(answer, valid: bool, workspace, user: str = "anonymous", corrected_answer=None, comment=None):
    """Answer -> Rating appended to validated.jsonl (valid) or invalid.jsonl. -> Rating"""
    raise NotImplementedError


def record_rating(rating, workspace):
    raise NotImplementedError


def load_ratings(workspace, valid: bool | None = None) -> list:
    raise NotImplementedError
