"""Ratings of answers: valid ones feed fine-tuning, invalid ones are kept for analysis.

A person marks an :class:`~oracle.schema.Answer` valid or invalid, optionally with a
corrected answer and a comment. The :class:`~oracle.schema.Rating` (question, answer text,
citations, model, adapter, user, time, answer id) is appended as one JSON line to
``data_qa/validated.jsonl`` (valid) or ``data_qa/invalid.jsonl`` (invalid).

The files are append-only, one JSON object per line (loadable with
``datasets.load_dataset("json", data_files=...)``). Appends go through
:func:`oracle.schema.append_jsonl`: a ``filelock`` lock on ``<file>.lock`` plus one
``os.write`` of whole lines on an ``O_APPEND`` descriptor, then fsync, so many writers
(threads or processes) never lose, tear or interleave a line.
"""

from __future__ import annotations

import logging
from pathlib import Path

from oracle.config import Workspace
from oracle.schema import Answer, Rating, append_jsonl, read_jsonl

logger = logging.getLogger(__name__)


def _clean(value: str | None) -> str | None:
    """``None`` for missing or blank text, else the text stripped."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def ratings_file(workspace: Workspace, valid: bool) -> Path:
    """``data_qa/validated.jsonl`` when ``valid`` else ``data_qa/invalid.jsonl``."""
    return workspace.validated if valid else workspace.invalid


def rate_answer(
    answer: Answer,
    valid: bool,
    workspace: Workspace,
    user: str = "anonymous",
    corrected_answer: str | None = None,
    comment: str | None = None,
) -> Rating:
    """Record a person's judgement of ``answer``.

    Args:
        answer: the RAG answer being rated.
        valid: True: correct and well supported (-> validated.jsonl); False -> invalid.jsonl.
        workspace: where ``data_qa/`` lives.
        user: who rated (free text; "anonymous" when blank).
        corrected_answer: the right answer, when the person gives one (blank -> None).
        comment: free comment (blank -> None).

    Returns:
        The :class:`Rating` written.
    """
    rating = Rating(
        question=answer.question,
        answer=answer.text,
        valid=bool(valid),
        citations=list(answer.citations),
        model=answer.model,
        adapter=answer.adapter,
        user=_clean(user) or "anonymous",
        corrected_answer=_clean(corrected_answer),
        comment=_clean(comment),
        answer_id=answer.answer_id,
    )
    record_rating(rating, workspace)
    return rating


def record_rating(rating: Rating, workspace: Workspace) -> Path:
    """Append ``rating`` as one JSON line to the validated or invalid file. Returns that file."""
    path = ratings_file(workspace, rating.valid)
    append_jsonl(path, [rating])
    logger.info(
        "rating %s (%s) appended to %s", rating.rating_id, "valid" if rating.valid else "invalid", path.name
    )
    return path


def load_ratings(workspace: Workspace, valid: bool | None = None) -> list[Rating]:
    """Ratings of the workspace, newest first.

    Args:
        workspace: the workspace.
        valid: True: validated.jsonl only; False: invalid.jsonl only; None: both.

    Returns:
        ``[Rating]`` sorted by ``created_at`` descending (later lines first on equal times).
    """
    flags = [True, False] if valid is None else [bool(valid)]
    rows: list[tuple[str, int, Rating]] = []
    for flag in flags:
        for line_no, rating in enumerate(read_jsonl(ratings_file(workspace, flag), Rating)):
            rows.append((rating.created_at, line_no, rating))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    return [r[2] for r in rows]
