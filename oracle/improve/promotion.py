"""Promotion: a run's new adapter and index become the chat's defaults (:mod:`oracle.defaults`).

The index is swapped in whole (the candidate index of the run, or a re-index with the promoted
embedder when documents changed since), then ``defaults.json`` is written: a kill between the two
leaves the old defaults pointing at a complete index.
"""

from __future__ import annotations

import logging
from typing import Any

from oracle.config import DEFAULT_INDEX, Workspace

logger = logging.getLogger(__name__)


def describe_defaults(workspace: Workspace, defaults: Any) -> dict[str, Any]:
    """``defaults`` (:class:`oracle.defaults.ChatDefaults`) as a dict, with ``embedder`` read from the
    index when the record has none (what the chat really answers with)."""
    from oracle.index import index_stats

    out = defaults.to_dict()
    if not out.get("embedder"):
        out["embedder"] = index_stats(workspace, defaults.index or DEFAULT_INDEX).get("embedder")
    return out


def install_index(workspace: Workspace, index_name: str, embedder: str | None, candidate: str | None) -> None:
    """Make ``indexes/<index_name>`` an index built with ``embedder``, swapped in whole: the candidate
    index ``candidate`` when it exists and holds the same chunks, else a re-index of the chat's
    chunks with ``embedder`` (:func:`oracle.training.embedding.reindex`: documents added since are
    kept). The replaced index stays as ``indexes/<index_name>.prev``. Nothing happens when the index
    already uses ``embedder`` or ``embedder`` is None."""
    import contextlib

    from oracle.index import index_lock, index_stats, load_index, same_embedder
    from oracle.training.embedding import reindex

    stats = index_stats(workspace, index_name)
    if embedder is None or (stats.get("embedder") and same_embedder(stats["embedder"], embedder)):
        return
    final = workspace.index_dir(index_name)
    if candidate and workspace.index_dir(candidate).is_dir():
        with contextlib.ExitStack() as held:
            held.enter_context(index_lock(final))
            old = load_index(workspace, index_name, cache=False)
            new = load_index(workspace, candidate, cache=False)
            if {c.chunk_id for c in old.chunks} == {c.chunk_id for c in new.chunks}:
                new.name = index_name
                new.save(final, previous=workspace.indexes / f"{index_name}.prev")
                return
    reindex(workspace, index_name, embedder)


def promote(workspace: Workspace, index_name: str, new: Any, candidate_index: str | None) -> dict[str, Any]:
    """Make ``new`` (:class:`oracle.defaults.ChatDefaults`) the chat's defaults: swap the index in
    first (when its embedder changes), then write ``defaults.json``. Returns the new defaults as
    :func:`describe_defaults` gives them."""
    from oracle.defaults import write_defaults

    install_index(workspace, index_name, new.embedder, candidate_index)
    new.index = index_name
    write_defaults(workspace, new)
    logger.info("improve: promoted (generator %s, adapter %s, embedder %s)", new.generator, new.adapter, new.embedder)
    return describe_defaults(workspace, new)
