"""The chat's defaults: which generator, LoRA adapter and index answer when nobody chooses.

One small record in the workspace, ``defaults.json``, written atomically
(:func:`oracle.schema.write_json_atomic`). Before any "Melhorar o Oráculo" run promoted
anything there is no file and :func:`read_defaults` gives the built-in defaults: the bundled
fast generator, no adapter, the index ``default``. A promotion (:mod:`oracle.improve`) or a
rollback rewrites it; the chat and the command line read it to pre-select their choices.

The index itself is always ``indexes/<index>``: a promoted embedder is swapped *into* that folder
(the folder swap of :meth:`oracle.index.VectorIndex.save`), so everything that loads the index by
name already answers with it; ``embedder`` records which model that is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from oracle.config import DEFAULT_GENERATOR, DEFAULT_INDEX, Workspace
from oracle.schema import Record, now_iso, read_json, write_json_atomic

DEFAULTS_FILE = "defaults.json"


@dataclass
class ChatDefaults(Record):
    """Content of ``defaults.json``.

    Attributes:
        generator: generator spec of the chat (bundled name, folder, ``openai:<model>``).
        adapter: folder name under ``adapters/`` of the LoRA adapter applied to it, or None.
        index: index name under ``indexes/``.
        embedder: the embedder of that index when it was promoted (a name or a folder), or None
            when never changed.
        run_id: the improvement run that set these values, or None (built-in defaults).
        updated_at: ISO 8601 UTC time of the last change.
    """

    generator: str = DEFAULT_GENERATOR
    adapter: str | None = None
    index: str = DEFAULT_INDEX
    embedder: str | None = None
    run_id: str | None = None
    updated_at: str = ""


def defaults_path(workspace: Workspace) -> Path:
    """``<home>/defaults.json``."""
    return workspace.home / DEFAULTS_FILE


def read_defaults(workspace: Workspace) -> ChatDefaults:
    """The workspace's chat defaults; the built-in ones when there is no readable file."""
    path = defaults_path(workspace)
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return ChatDefaults()
    return ChatDefaults.from_dict(data) if isinstance(data, dict) else ChatDefaults()


def write_defaults(workspace: Workspace, defaults: ChatDefaults) -> ChatDefaults:
    """Write ``defaults`` (``updated_at`` set now) atomically; returns what was written."""
    defaults.updated_at = now_iso()
    write_json_atomic(defaults_path(workspace), defaults.to_dict())
    return defaults
