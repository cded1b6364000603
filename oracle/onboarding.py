"""Where a workspace stands on the way a newcomer follows: send → index → ask → rate → improve.

The app's "Como começar" guide and the notices of tabs that need an earlier step read
:func:`getting_started`, which looks only at cheap facts of the workspace (file counts,
``index.json``, line counts of the JSONL logs, the ratings read through
:func:`oracle.feedback.rating_summary`): no document is parsed and no model loads, so it can
run on every page load and tab change.

Example::

    progress = getting_started(Workspace())
    progress.next_step.step        # "index": documents are there, no index yet
    blocking_step(progress, "chat")  # the "index" StepStatus: the chat needs an index
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from oracle.config import DEFAULT_INDEX, Workspace
from oracle.feedback import rating_summary

logger = logging.getLogger(__name__)

STEPS: tuple[str, ...] = ("upload", "index", "ask", "rate", "improve")
"""The steps in the order a person takes them."""

STEP_TAB: dict[str, str] = {
    "upload": "documents",
    "index": "index",
    "ask": "chat",
    "rate": "chat",
    "improve": "finetune",
}
"""The app tab (``oracle.ui.TABS`` id) where each step is done; ``improve`` is the "Melhorar o
Oráculo" tab (id ``finetune``), whose run writes its own training questions."""

TAB_NEEDS: dict[str, str] = {
    "qa": "upload",
    "index": "upload",
    "chat": "index",
    "ratings": "rate",
    "evaluation": "index",
    "finetune": "index",
}
"""The step a tab needs done before it is of use. Tabs not listed need nothing. "Melhorar o
Oráculo" (``finetune``) needs the chat's index only: its run writes the training questions itself
(:func:`oracle.improve.start` refuses a workspace without documents or index)."""

StepState = Literal["done", "next", "todo"]


@dataclass(frozen=True)
class StepStatus:
    """One step of the guide.

    Attributes:
        step: one of :data:`STEPS`.
        tab: the tab where it is done (:data:`STEP_TAB`).
        state: ``"done"``; ``"next"`` for the first step not done; ``"todo"`` for the later ones.
        count: what the step produced so far: documents sent, chunks indexed, answers given,
            answers rated, fine-tuning runs finished.
        partial: for ``"index"`` only, documents sent but not in the index yet (0 otherwise).
    """

    step: str
    tab: str
    state: StepState
    count: int = 0
    partial: int = 0


@dataclass(frozen=True)
class Progress:
    """The workspace's figures and the five steps (:func:`getting_started`).

    Attributes:
        n_documents: documents sent (``documents/*.json``).
        n_indexed: of those, documents in the chat's index.
        n_chunks: chunks in the chat's index (0 without an index).
        has_index: the chat's index exists (``indexes/default/index.json``).
        n_answers: answers logged (``data_qa/answers.jsonl`` lines).
        n_ratings: answers rated (the latest rating of each answer, :func:`oracle.feedback.current_ratings`).
        n_qa_pairs: question/answer pairs generated (``data_qa/*.qa.jsonl`` lines).
        n_runs: fine-tuning runs finished: folders of ``adapters/`` and ``embedders/`` with a run card
            (``train.json`` or ``merge.json``; :func:`oracle.training.card.list_runs`).
        steps: one :class:`StepStatus` per :data:`STEPS` entry, in order.
    """

    n_documents: int = 0
    n_indexed: int = 0
    n_chunks: int = 0
    has_index: bool = False
    n_answers: int = 0
    n_ratings: int = 0
    n_qa_pairs: int = 0
    n_runs: int = 0
    steps: tuple[StepStatus, ...] = field(default_factory=tuple)

    def step(self, name: str) -> StepStatus:
        """The :class:`StepStatus` of ``name``.

        Raises:
            KeyError: ``name`` is not one of :data:`STEPS`.
        """
        for status in self.steps:
            if status.step == name:
                return status
        raise KeyError(name)

    @property
    def next_step(self) -> StepStatus | None:
        """The first step not done, or None when every step is done."""
        return next((s for s in self.steps if s.state != "done"), None)

    @property
    def all_done(self) -> bool:
        """True when every step is done."""
        return self.next_step is None


def _count_lines(path: Path) -> int:
    """Non-blank lines of a text file (0 when it is missing or unreadable)."""
    try:
        with path.open("rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def _index_meta(workspace: Workspace) -> dict | None:
    path = workspace.home / "indexes" / DEFAULT_INDEX / "index.json"
    if not path.is_file():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("unreadable index metadata %s: %s", path, exc)
        return None
    return meta if isinstance(meta, dict) else None


def _files(folder: Path, pattern: str) -> list[Path]:
    try:
        return sorted(folder.glob(pattern)) if folder.is_dir() else []
    except OSError:
        return []


def getting_started(workspace: Workspace) -> Progress:
    """Read where ``workspace`` stands on the five steps of :data:`STEPS`.

    A step is done when: ``upload``, a document was sent; ``index``, the chat's index exists and
    holds every document sent; ``ask``, an answer was logged or rated; ``rate``, a rating was
    recorded; ``improve``, a fine-tuning run finished. The first step not done is ``"next"``,
    the later ones ``"todo"`` (a later step may be done before an earlier one: a rating survives
    deleting the documents).

    Cheap: counts files and lines, reads ``index.json`` and the (small, hand-made) ratings files;
    creates no folder.

    Returns:
        A :class:`Progress`.
    """
    home = workspace.home
    doc_ids = {p.stem for p in _files(home / "documents", "*.json")}
    meta = _index_meta(workspace)
    indexed_ids = set((meta or {}).get("documents") or {})
    n_chunks = int((meta or {}).get("n_chunks") or 0) if meta else 0
    data_qa = home / "data_qa"
    n_answers = _count_lines(data_qa / "answers.jsonl")
    n_ratings = rating_summary(workspace).n_current  # one per answer: the latest rating
    n_pairs = sum(_count_lines(p) for p in _files(data_qa, "*.qa.jsonl"))
    from oracle.training.card import list_runs

    n_runs = sum(1 for run in list_runs(workspace, recover=False) if run.finished)
    n_indexed = len(doc_ids & indexed_ids)
    missing = len(doc_ids - indexed_ids)

    done = {
        "upload": bool(doc_ids),
        "index": meta is not None and n_chunks > 0 and missing == 0,
        "ask": n_answers > 0 or n_ratings > 0,
        "rate": n_ratings > 0,
        "improve": n_runs > 0,
    }
    counts = {"upload": len(doc_ids), "index": n_chunks, "ask": max(n_answers, n_ratings), "rate": n_ratings,
              "improve": n_runs}  # fmt: skip
    steps: list[StepStatus] = []
    seen_next = False
    for name in STEPS:
        if done[name]:
            state: StepState = "done"
        elif not seen_next:
            state, seen_next = "next", True
        else:
            state = "todo"
        steps.append(StepStatus(name, STEP_TAB[name], state, counts[name], missing if name == "index" else 0))
    return Progress(
        n_documents=len(doc_ids),
        n_indexed=n_indexed,
        n_chunks=n_chunks,
        has_index=meta is not None and n_chunks > 0,
        n_answers=n_answers,
        n_ratings=n_ratings,
        n_qa_pairs=n_pairs,
        n_runs=n_runs,
        steps=tuple(steps),
    )


def blocking_step(progress: Progress, tab: str) -> StepStatus | None:
    """The earlier step that tab ``tab`` needs and that is not done yet, or None.

    The needs are :data:`TAB_NEEDS`: the chat, the Qualidade and the "Melhorar o Oráculo" tabs
    need an index (an index missing a few new documents still serves; "Melhorar o Oráculo" needs
    no QA pair nor rating, its run writes the training questions), the index and QA tabs need
    documents, the ratings tab needs a rating (made in the chat).
    """
    need = TAB_NEEDS.get(tab)
    if need is None:
        return None
    if need == "index" and progress.has_index:
        return None  # an index missing a few new documents still serves
    if need == "rate" and progress.n_ratings:
        return None
    for earlier in STEPS[: STEPS.index(need) + 1]:
        status = progress.step(earlier)
        if status.state != "done" and not (earlier == "index" and progress.has_index):
            return status
    return None
