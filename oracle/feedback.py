"""Answers of record and their ratings: valid ones and corrected ones feed fine-tuning.

Answers: every answer either face gives (the app's chat, ``python -m oracle ask``) is stored
on the server, one :class:`~oracle.schema.Answer` per line of ``data_qa/answers.jsonl``
(:func:`store_answer`, or :func:`stream_and_store` around :func:`oracle.rag.stream_answer`).
That line is the answer of record: a rating names it by ``answer_id`` and copies its question,
text, citations and retrieved chunk ids from it (:func:`rate_stored_answer`), never from what
a browser sends back.

Ratings: a person marks a stored answer valid or invalid, optionally with a corrected answer
and a comment. The :class:`~oracle.schema.Rating` is appended as one JSON line to
``data_qa/validated.jsonl`` (valid) or ``data_qa/invalid.jsonl`` (invalid). Fine-tuning
(:func:`oracle.training.data.load_examples`) learns from an answer whose latest rating is valid
(its correction, when given, replaces the model's text) and from one whose latest rating is
invalid **with** a corrected answer (question -> correction, with the chunks chat retrieved as
context); an invalid rating without a correction is kept but never trains. The files are
append-only (the history is never lost), and **the latest rating of an answer replaces the
earlier ones**: :func:`current_ratings` is the one reader that resolves them, and every
consumer (the Avaliações tab, its exports, the first page's counts, training data) goes
through it. Order: ``created_at`` (microseconds on new lines), then the line order within a
file; on a tie between the two files the invalid rating wins, so a doubtful answer never
trains as the model wrote it (only a person's correction of it can).

All files are JSONL (loadable with ``datasets.load_dataset("json", data_files=...)``).
Appends go through :func:`oracle.schema.append_jsonl`: a ``filelock`` lock on ``<file>.lock``
plus one ``os.write`` of whole lines on an ``O_APPEND`` descriptor, then fsync, so many
writers (threads or processes) never lose, tear or interleave a line.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from oracle.config import Workspace
from oracle.errors import AnswerNotFoundError
from oracle.schema import Answer, Rating, append_jsonl, iter_jsonl, read_jsonl

logger = logging.getLogger(__name__)

LAST = "last"
"""The answer reference that means the latest stored answer (:func:`resolve_answer`)."""


def _clean(value: str | None) -> str | None:
    """``None`` for missing or blank text, else the text stripped."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


# --- answers of record -----------------------------------------------------------------


def store_answer(answer: Answer, workspace: Workspace) -> Path:
    """Append ``answer`` as one JSON line to ``data_qa/answers.jsonl`` (append-safe).

    Returns:
        The answers file.

    Raises:
        OSError: the file could not be written (disk full, permissions).
    """
    path = workspace.answers
    append_jsonl(path, [answer])
    logger.info("answer %s stored in %s", answer.answer_id, path.name)
    return path


def stream_and_store(
    question: str,
    index: Any,
    generator: Any,
    workspace: Workspace,
    cfg: Any = None,
    language: str | None = None,
) -> Iterator[str | Answer]:
    """:func:`oracle.rag.stream_answer`, with the final Answer stored before it is yielded.

    Both faces answer through this, so every answer shown can be rated by its id.

    Args:
        question, index, generator, cfg, language: as :func:`oracle.rag.stream_answer`.
        workspace: where ``data_qa/answers.jsonl`` lives.

    Yields:
        What :func:`oracle.rag.stream_answer` yields: a :class:`~oracle.schema.Retrieved` when the
        generator is about to read the sources, ``str`` pieces, then the final :class:`Answer`. When the
        answer cannot be stored (an ``OSError``), the error is logged and the answer is still
        yielded; rating it then fails with :class:`AnswerNotFoundError`.

    Raises:
        GenerationError: the generator failed.
    """
    from oracle.rag import stream_answer

    for item in stream_answer(question, index, generator, cfg, language):
        if isinstance(item, Answer):
            try:
                store_answer(item, workspace)
            except OSError:
                logger.exception("could not store answer %s", item.answer_id)
        yield item


def load_answers(workspace: Workspace) -> list[Answer]:
    """Every stored answer, oldest first (file order)."""
    return read_jsonl(workspace.answers, Answer)


def find_answer(workspace: Workspace, answer_id: str) -> Answer | None:
    """The stored answer whose id is exactly ``answer_id``, else None.

    Reads ``answers.jsonl`` line by line and parses only lines that contain the id.
    """
    if not answer_id or not workspace.answers.exists():
        return None
    found = None
    with workspace.answers.open("r", encoding="utf-8") as f:
        for line in f:
            if answer_id not in line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and row.get("answer_id") == answer_id:
                found = Answer.from_dict(row)  # ids are unique; the last copy wins
    return found


def resolve_answer(workspace: Workspace, ref: str) -> Answer:
    """The stored answer a person names: ``"last"``, a whole id, or an unambiguous id prefix.

    Raises:
        AnswerNotFoundError: no answer stored yet (``err.no_answers``), or no single answer
            matches ``ref`` (``err.answer_not_found``).
    """
    ref = (ref or "").strip()
    if ref != LAST:
        exact = find_answer(workspace, ref)
        if exact is not None:
            return exact
    answers = load_answers(workspace)
    if not answers:
        raise AnswerNotFoundError("err.no_answers")
    if ref == LAST:
        return answers[-1]
    matches = {a.answer_id: a for a in answers if ref and a.answer_id.startswith(ref)}
    if len(matches) != 1:
        raise AnswerNotFoundError("err.answer_not_found", answer_id=ref)
    return next(iter(matches.values()))


# --- ratings ---------------------------------------------------------------------------


def ratings_file(workspace: Workspace, valid: bool) -> Path:
    """``data_qa/validated.jsonl`` when ``valid`` else ``data_qa/invalid.jsonl``."""
    return workspace.validated if valid else workspace.invalid


def retrieved_chunk_ids(answer: Answer) -> list[str]:
    """The chunk ids of every source given to the model for ``answer`` (cited or not), in rank
    order, without repeats; falls back to the cited ones for answers stored without sources."""
    sources = answer.sources or answer.citations
    return list(dict.fromkeys(c.chunk_id for c in sources if c.chunk_id))


def rate_answer(
    answer: Answer,
    valid: bool,
    workspace: Workspace,
    user: str = "anonymous",
    corrected_answer: str | None = None,
    comment: str | None = None,
) -> Rating:
    """Record a person's judgement of ``answer``; the answer is stored first if it is not yet.

    Rating an answer again later appends a new rating, which replaces this one
    (:func:`current_ratings`).

    Args:
        answer: the RAG answer being rated.
        valid: True: correct and well supported (-> validated.jsonl); False -> invalid.jsonl.
        workspace: where ``data_qa/`` lives.
        user: who rated (free text; "anonymous" when blank).
        corrected_answer: the right answer, when the person gives one (blank -> None).
        comment: free comment (blank -> None).

    Returns:
        The :class:`Rating` written (``answer_id`` = the stored answer's id,
        ``retrieved_chunk_ids`` from its sources).
    """
    if find_answer(workspace, answer.answer_id) is None:
        store_answer(answer, workspace)
    return _rate(answer, valid, workspace, user, corrected_answer, comment)


def _rate(answer: Answer, valid: bool, workspace: Workspace, user: str | None, corrected_answer: str | None,
          comment: str | None) -> Rating:  # fmt: skip
    """Build the :class:`Rating` of the stored ``answer`` and append it (see :func:`rate_answer`)."""
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
        retrieved_chunk_ids=retrieved_chunk_ids(answer),
    )
    record_rating(rating, workspace)
    return rating


def rate_stored_answer(
    workspace: Workspace,
    answer_id: str,
    valid: bool,
    user: str = "anonymous",
    corrected_answer: str | None = None,
    comment: str | None = None,
) -> Rating:
    """Rate the stored answer ``answer_id``, with the server's record of it (not a copy that a
    browser kept). Arguments and result as :func:`rate_answer`.

    Raises:
        AnswerNotFoundError: no stored answer has that id (``err.answer_not_stored``).
    """
    answer = find_answer(workspace, answer_id)
    if answer is None:
        raise AnswerNotFoundError("err.answer_not_stored", answer_id=answer_id)
    return _rate(answer, valid, workspace, user, corrected_answer, comment)


def record_rating(rating: Rating, workspace: Workspace) -> Path:
    """Append ``rating`` as one JSON line to the validated or invalid file. Returns that file."""
    path = ratings_file(workspace, rating.valid)
    append_jsonl(path, [rating])
    logger.info(
        "rating %s (%s) appended to %s", rating.rating_id, "valid" if rating.valid else "invalid", path.name
    )
    return path


def _when(created_at: str) -> datetime:
    """``created_at`` as an aware datetime (naive -> UTC); unreadable -> the earliest time."""
    try:
        when = datetime.fromisoformat(str(created_at))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _history(workspace: Workspace, valid: bool | None) -> list[Rating]:
    """Every rating line, oldest first: by time, then invalid after valid on a tie, then line."""
    flags = [True, False] if valid is None else [bool(valid)]
    rows: list[tuple[datetime, int, int, Rating]] = []
    for flag in flags:
        path = ratings_file(workspace, flag)
        for line_no, row in enumerate(iter_jsonl(path)):
            try:
                rating = Rating.from_dict(row)
            except (TypeError, ValueError, AttributeError) as exc:  # not a rating: skipped, never fatal
                logger.warning("%s line %d is not a rating, skipped: %s", path.name, line_no + 1, exc)
                continue
            rows.append((_when(rating.created_at), 0 if flag else 1, line_no, rating))
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows]


def load_ratings(workspace: Workspace, valid: bool | None = None) -> list[Rating]:
    """The whole rating history (every line, replaced ratings included), newest first.

    For what counts now, use :func:`current_ratings`.

    Args:
        workspace: the workspace.
        valid: True: validated.jsonl only; False: invalid.jsonl only; None: both.

    Returns:
        ``[Rating]`` newest first (``created_at``; later lines first on equal times).
    """
    return _history(workspace, valid)[::-1]


def rating_key(rating: Rating) -> str:
    """What a rating judges: its ``answer_id``; a line without one stands alone (its ``rating_id``)."""
    return rating.answer_id or f"rating:{rating.rating_id}"


def _latest(history: list[Rating]) -> list[Rating]:
    """The latest rating of each :func:`rating_key` in ``history`` (oldest first), newest first."""
    latest: dict[str, Rating] = {}
    for rating in history:
        key = rating_key(rating)
        latest.pop(key, None)  # re-inserted last: dict order is the order of the latest ratings
        latest[key] = rating
    return list(latest.values())[::-1]


def current_ratings(workspace: Workspace, valid: bool | None = None) -> list[Rating]:
    """The rating that counts for each answer: the latest one, newest first.

    Both files are read whatever ``valid`` is, so an answer rated 👍 and later 👎 is invalid
    (and not returned with ``valid=True``); 👎 then 👍 is valid. A line without ``answer_id``
    (written before answers were stored) counts on its own.

    Args:
        workspace: the workspace.
        valid: True: only answers whose latest rating is valid; False: only invalid; None: all.

    Returns:
        ``[Rating]``, one per answer, newest first.
    """
    out = _latest(_history(workspace, None))
    if valid is not None:
        out = [r for r in out if r.valid == bool(valid)]
    return out


def rating_verdicts(workspace: Workspace) -> dict[str, bool]:
    """``{answer_id: valid}`` of the latest rating of every rated answer (lines without an
    ``answer_id`` are left out)."""
    return {r.answer_id: bool(r.valid) for r in current_ratings(workspace) if r.answer_id}


@dataclass(frozen=True)
class RatingSummary:
    """What the ratings of a workspace add up to (:func:`rating_summary`).

    Attributes:
        n_valid: answers whose latest rating is valid.
        n_invalid: answers whose latest rating is invalid.
        n_corrected: answers whose latest rating carries a corrected answer (valid or invalid:
            every one of them trains, on the correction).
        n_invalid_corrected: of ``n_invalid``, those with a corrected answer (they train).
        n_replaced: rating lines replaced by a later rating of the same answer (kept in the files).
    """

    n_valid: int = 0
    n_invalid: int = 0
    n_corrected: int = 0
    n_invalid_corrected: int = 0
    n_replaced: int = 0

    @property
    def n_current(self) -> int:
        """Rated answers: ``n_valid + n_invalid``."""
        return self.n_valid + self.n_invalid

    @property
    def n_training(self) -> int:
        """Rated answers that fine-tuning learns from: ``n_valid + n_invalid_corrected`` (before
        de-duplication against QA pairs, see :func:`oracle.training.data.load_examples`)."""
        return self.n_valid + self.n_invalid_corrected


def rating_summary(workspace: Workspace) -> RatingSummary:
    """Count the current ratings of ``workspace`` (see :class:`RatingSummary`)."""
    history = _history(workspace, None)
    current = _latest(history)
    n_valid = sum(1 for r in current if r.valid)
    return RatingSummary(
        n_valid=n_valid,
        n_invalid=len(current) - n_valid,
        n_corrected=sum(1 for r in current if r.corrected_answer),
        n_invalid_corrected=sum(1 for r in current if not r.valid and r.corrected_answer),
        n_replaced=len(history) - len(current),
    )
