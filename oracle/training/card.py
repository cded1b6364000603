"""The run card of a fine-tuning run: one typed record, written and read here only.

Every training run leaves a folder with its weights and a ``train.json`` beside them, as peft's
``PeftConfig`` leaves ``adapter_config.json``: what was trained (``kind``), from which base
model, on which data (files and their sha256), with which hyper-parameters, with which prompt
(for a generator adapter), the metrics, time and cost. :class:`RunCard` is that file as a
dataclass; :meth:`RunCard.save` writes it (atomically, sorted keys) and :meth:`RunCard.load`
reads it, including the ``train.json`` of older versions (no ``kind``: inferred from the files
beside it, :func:`infer_kind`) and the ``merge.json`` of a merged model.

Where runs live (:class:`oracle.config.Workspace`):

- ``adapters/<name>/``: LoRA adapters of the generator (peft files) and merged models;
- ``embedders/<name>/``: fine-tuned embedders (a sentence-transformers folder). Workspaces made
  before this folder existed keep theirs under ``adapters/``; they are read where they are
  (never moved) and told apart by their card or their files.

:func:`list_runs` is the one listing of runs (the app, the command line and "Melhorar o
Oráculo" all use it); :func:`find_run` finds one by name; :func:`generator_adapters` are the
runs the chat can apply to its generator.

Light: imports no heavy library (the app lists runs without loading torch).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from oracle.config import ADAPTERS_DIR, EMBEDDERS_DIR, Workspace
from oracle.errors import ConfigError, OracleError
from oracle.schema import now_iso, recover_folders, write_json_atomic

logger = logging.getLogger(__name__)

TRAIN_JSON = "train.json"
"""The run card's file, written last into a run's folder (its presence means the run finished)."""
MERGE_JSON = "merge.json"
"""What :func:`oracle.training.export.merge_adapter` writes into a merged model's folder (last)."""
ADAPTER_CONFIG = "adapter_config.json"
"""peft's own file: the folder is a peft adapter."""
ST_MARKERS = ("modules.json", "config_sentence_transformers.json")
"""Files that make a folder a sentence-transformers model (an embedder, not a generator adapter)."""

RunKind = Literal["lora", "embedding", "merged", "unknown"]
CARD_KINDS: tuple[str, ...] = ("lora", "embedding")
"""What a training run writes as ``kind``: a LoRA adapter of the generator, or a fine-tuned embedder."""
KINDS: tuple[str, ...] = CARD_KINDS + ("merged", "unknown")
"""What a card read from disk may say: also ``"merged"`` (a merged model, from ``merge.json``) and
``"unknown"`` (a folder that is neither, e.g. an empty one)."""

#: Keys of the card that are not saved (where it was read from).
_NOT_SAVED = ("folder", "source", "extra")


class RunCardError(OracleError):
    """A folder has no run card (``err.train.no_card``) or an unreadable one (``err.train.bad_card``);
    ``params['path']`` names the folder."""

    key = "err.train.no_card"


@dataclass
class RunCard:
    """What a training run was and what it gave: the content of ``train.json``.

    Unknown keys of a file are kept in :attr:`extra` and written back by :meth:`save` (a newer
    version's fields survive an older one's rewrite).

    Raises:
        ConfigError: ``kind`` not one of :data:`KINDS`, or a dict field that is not a dict.
    """

    kind: RunKind = field(metadata={"help": "'lora' (adapter of the generator), 'embedding' (fine-tuned "
                                            "embedder); read from disk also 'merged' or 'unknown'."})
    name: str = field(default="", metadata={"help": "The run's folder name."})
    base_model: str = field(default="", metadata={"help": "The base model as chosen (bundled name, folder "
                                                          "or hub id)."})
    base_model_path: str = field(default="", metadata={"help": "The folder the base model resolved to."})
    created_at: str = field(default="", metadata={"help": "When the run finished (ISO 8601, UTC)."})
    data: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "Training data: {'files': [{'path', 'sha256', ...}], counts (n_train, n_eval, or "
                "n_train_pairs...), split and RAFT statistics}."})
    hyperparameters: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "The run's config (LoraTrainConfig or EmbedTrainConfig as a dict)."})
    metrics: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "lora: eval_loss_before, eval_loss, train_loss, steps, tokens_seen...; embedding: "
                "before/after/validation scores, kept_epoch, improved (oracle.training.embedding)."})
    prompt_version: int | None = field(default=None, metadata={
        "help": "lora: oracle.rag.PROMPT_VERSION when trained (the sentences the model saw); None for an "
                "embedder or a card from before it was recorded."})
    prompt_style: str | None = field(default=None, metadata={
        "help": "lora: the prompt style the examples were built with (oracle.rag.DEFAULT_PROMPT)."})
    prompts: dict[str, str] | None = field(default=None, metadata={
        "help": "embedding: the query/document prompts saved with the model ({'query': 'query: ', ...})."})
    device: str = field(default="", metadata={"help": "Where it trained ('cpu', 'cuda', 'cuda:1'...)."})
    precision: str = field(default="", metadata={"help": "'bf16-autocast' or 'fp32'."})
    qlora: bool | None = field(default=None, metadata={"help": "lora: trained on a 4-bit base (QLoRA)."})
    wall_time_s: float | None = field(default=None, metadata={"help": "Wall time of the run in seconds "
                                                                      "(every resumed session counted)."})
    cost: dict[str, Any] | None = field(default=None, metadata={"help": "oracle.training.cost.run_cost: "
                                                                        "{'usd', 'brl', ...}."})
    versions: dict[str, str] = field(default_factory=dict, metadata={"help": "Library versions "
                                                                             "({'torch': '2.5.1', ...})."})
    extra: dict[str, Any] = field(default_factory=dict, metadata={"help": "Keys this version does not know "
                                                                          "(kept on save)."})
    folder: Path | None = field(default=None, compare=False, metadata={"help": "The run's folder when read "
                                                                                "from disk (not saved)."})
    source: str = field(default="", compare=False, metadata={
        "help": "What it was read from: 'train.json', 'merge.json', or '' (no card: kind and base "
                "inferred from the folder's files). Not saved."})

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError.not_one_of("kind", self.kind, KINDS)
        for name in ("data", "hyperparameters", "metrics", "versions", "extra"):
            if not isinstance(getattr(self, name), dict):
                raise ConfigError(detail=f"`{name}` must be a dict, got {type(getattr(self, name)).__name__}.")
        if self.folder is not None:
            self.folder = Path(self.folder)

    # --- properties -----------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The folder as a string (``""`` for a card not read from disk)."""
        return str(self.folder) if self.folder is not None else ""

    @property
    def display_name(self) -> str:
        """The run's name: :attr:`name`, else its folder's name."""
        return self.name or (self.folder.name if self.folder is not None else "")

    @property
    def data_files(self) -> list[dict[str, Any]]:
        """The data files trained on: ``[{"path": str, "sha256": str, ...}]`` (``[]`` when unknown)."""
        files = self.data.get("files") or []
        return [f for f in files if isinstance(f, dict)]

    @property
    def finished(self) -> bool:
        """True when the folder holds a card (``train.json`` or ``merge.json``, written last)."""
        return self.source in (TRAIN_JSON, MERGE_JSON)

    # --- dict / file ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``train.json``: every field but :data:`_NOT_SAVED`, optional fields left
        out when None, then :attr:`extra`'s keys (a known field wins over an extra key)."""
        out = dict(self.extra)
        for f in fields(self):
            if f.name in _NOT_SAVED:
                continue
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], folder: str | Path | None = None, source: str = "") -> "RunCard":
        """A card from a ``train.json`` object. A missing or unknown ``kind`` is inferred from
        ``folder``'s files (:func:`infer_kind`; ``"unknown"`` without a folder); keys this version
        does not know go to :attr:`extra`; a field of the wrong type is dropped (logged).

        Raises:
            ConfigError: ``data`` is not a dict.
        """
        if not isinstance(data, dict):
            raise ConfigError(detail=f"a run card must be a JSON object, got {type(data).__name__}.")
        known = {f.name for f in fields(cls)} - set(_NOT_SAVED)
        kwargs: dict[str, Any] = {}
        for key in known:
            if key in data:
                kwargs[key] = data[key]
        kind = kwargs.get("kind")
        if kind not in CARD_KINDS and kind != "merged":
            kwargs["kind"] = infer_kind(Path(folder)) if folder is not None else "unknown"
        for key, typ in (("data", dict), ("hyperparameters", dict), ("metrics", dict), ("versions", dict),
                         ("name", str), ("base_model", str), ("base_model_path", str), ("created_at", str),
                         ("device", str), ("precision", str)):
            if key in kwargs and not isinstance(kwargs[key], typ):
                if kwargs[key] is not None:
                    logger.warning("run card %s: `%s` is not a %s; ignored", folder or "", key, typ.__name__)
                del kwargs[key]
        extra = {k: v for k, v in data.items() if k not in known and k not in _NOT_SAVED}
        return cls(**kwargs, extra=extra, folder=Path(folder) if folder is not None else None, source=source)

    def save(self, folder: str | Path) -> Path:
        """Write ``<folder>/train.json`` atomically (temp file, fsync, rename; indented, sorted keys).
        Training writes it last into its staging folder, so its presence marks a finished run.

        Returns:
            The file written.

        Raises:
            ConfigError: ``kind`` is not one a training run writes (:data:`CARD_KINDS`).
            OSError: the folder cannot be written.
        """
        if self.kind not in CARD_KINDS:
            raise ConfigError(detail=f"a run card saved by training has kind {' or '.join(CARD_KINDS)}, "
                                     f"got {self.kind!r}.")
        path = Path(folder) / TRAIN_JSON
        write_json_atomic(path, self.to_dict())
        return path

    @classmethod
    def load(cls, folder: str | Path, missing_ok: bool = False) -> "RunCard | None":
        """The card of a run folder: its ``train.json``; else, for a merged model, its
        ``merge.json`` (kind ``"merged"``: the adapter's card with the merge's date and base).

        Args:
            folder: a run's folder (``adapters/<name>``, ``embedders/<name>``, any path).
            missing_ok: return None instead of raising when there is no card or it cannot be read.

        Returns:
            The card, with :attr:`folder` and :attr:`source` set.

        Raises:
            RunCardError: ``err.train.no_card`` (no ``train.json`` nor ``merge.json``) or
                ``err.train.bad_card`` (not a JSON object), unless ``missing_ok``.
        """
        folder = Path(folder).expanduser()
        for source in (TRAIN_JSON, MERGE_JSON):
            path = folder / source
            if not path.is_file():
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if source == MERGE_JSON:
                    return cls._from_merge(data, folder)
                return cls.from_dict(data, folder, source)
            except (OSError, ValueError) as err:  # ConfigError is a ValueError
                logger.warning("run card %s cannot be read: %s", path, err)
                if missing_ok:
                    return None
                raise RunCardError("err.train.bad_card", path=str(path)) from err
        if missing_ok:
            return None
        raise RunCardError("err.train.no_card", path=str(folder))

    @classmethod
    def _from_merge(cls, merge: Any, folder: Path) -> "RunCard":
        if not isinstance(merge, dict):
            raise ConfigError(detail="merge.json must be a JSON object.")
        train = merge.get("train") if isinstance(merge.get("train"), dict) else {}
        card = cls.from_dict({**train, "kind": "merged", "name": folder.name,
                              "created_at": merge.get("created_at", "")}, folder, MERGE_JSON)
        if not card.base_model and isinstance(merge.get("base_model"), str):
            card.base_model = merge["base_model"]
        card.extra["merge"] = {k: v for k, v in merge.items() if k != "train"}
        return card

    @classmethod
    def of_folder(cls, folder: str | Path) -> "RunCard":
        """The card of any run folder, never raising: :meth:`load`, else a card inferred from its
        files (:func:`infer_kind`; ``base_model`` from peft's ``adapter_config.json``), ``source`` ``""``."""
        folder = Path(folder)
        card = cls.load(folder, missing_ok=True)
        if card is not None:
            return card
        base = _peft_config(folder).get("base_model_name_or_path")
        return cls(kind=infer_kind(folder), name=folder.name, base_model=base if isinstance(base, str) else "",
                   folder=folder, source="")

    # --- what the folder is ---------------------------------------------------------------

    @property
    def is_generator_adapter(self) -> bool:
        """True when the folder holds a peft adapter the generator can load: the card's kind is
        ``"lora"``, the folder has ``adapter_config.json`` whose ``task_type`` is ``CAUSAL_LM`` or
        unset, and it is not a sentence-transformers model (:data:`ST_MARKERS`)."""
        folder = self.folder
        if self.kind != "lora" or folder is None or not (folder / ADAPTER_CONFIG).is_file():
            return False
        if any((folder / marker).exists() for marker in ST_MARKERS):
            return False
        peft_cfg = _peft_config(folder)
        return bool(peft_cfg) and peft_cfg.get("task_type") in (None, "", "CAUSAL_LM")


    @property
    def is_embedder(self) -> bool:
        """True when the folder holds an embedder sentence-transformers can load: the card's kind is
        ``"embedding"`` and the folder has ``modules.json``."""
        return self.kind == "embedding" and self.folder is not None and (self.folder / "modules.json").is_file()


def _peft_config(folder: Path) -> dict[str, Any]:
    """``adapter_config.json`` of ``folder`` as a dict, ``{}`` when absent or unreadable."""
    try:
        data = json.loads((Path(folder) / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def infer_kind(folder: str | Path) -> str:
    """The kind of a run folder from its files, for cards without ``kind`` and folders without a card:

    - a sentence-transformers model (:data:`ST_MARKERS`) -> ``"embedding"``;
    - a peft adapter (``adapter_config.json``) of a causal LM (``task_type`` ``CAUSAL_LM`` or
      unset) -> ``"lora"``;
    - a merged model (``merge.json``) -> ``"merged"``;
    - anything else -> ``"unknown"``.
    """
    folder = Path(folder)
    if any((folder / marker).exists() for marker in ST_MARKERS):
        return "embedding"
    if (folder / ADAPTER_CONFIG).is_file():
        peft_cfg = _peft_config(folder)
        if peft_cfg.get("task_type") in (None, "", "CAUSAL_LM"):
            return "lora"
        return "unknown"
    if (folder / MERGE_JSON).is_file():
        return "merged"
    return "unknown"


def new_card(kind: str, name: str, base_model: str, **values: Any) -> RunCard:
    """A card for a run finishing now (``created_at`` = :func:`oracle.schema.now_iso`); a
    generator adapter (``kind="lora"``) records :data:`oracle.rag.PROMPT_VERSION` and the prompt
    style of its examples (:data:`oracle.rag.DEFAULT_PROMPT`) unless ``values`` give them.

    Raises:
        ConfigError: bad ``kind`` or field types (:class:`RunCard`).
    """
    if kind == "lora":
        from oracle import rag

        values.setdefault("prompt_version", rag.PROMPT_VERSION)
        values.setdefault("prompt_style", rag.DEFAULT_PROMPT)
    values.setdefault("created_at", now_iso())
    return RunCard(kind=kind, name=name, base_model=base_model, **values)  # type: ignore[arg-type]


# --- where runs live ---------------------------------------------------------------------------


def run_dir(workspace: Workspace, kind: str, name: str) -> Path:
    """Where a new run of ``kind`` called ``name`` is written: ``embedders/<name>`` for an
    embedder, ``adapters/<name>`` otherwise (created parents)."""
    return (workspace.embedders if kind == "embedding" else workspace.adapters) / name


def run_folders(workspace: Workspace) -> list[Path]:
    """The folders holding runs, that exist: ``embedders/``, then ``adapters/`` (LoRA adapters,
    merged models, and the embedders of workspaces made before ``embedders/``). Creates nothing."""
    return [p for p in (workspace.home / EMBEDDERS_DIR, workspace.home / ADAPTERS_DIR) if p.is_dir()]


def _complete(folder: Path) -> bool:
    """A saved run or merged model: its ``train.json`` / ``merge.json`` is written last."""
    return (folder / TRAIN_JSON).is_file() or (folder / MERGE_JSON).is_file()


def list_runs(workspace: Workspace, kind: str | None = None, recover: bool = True) -> list[RunCard]:
    """Every run of the workspace, newest first (by ``created_at``), then those without a date by name.

    Reads ``embedders/*/`` and ``adapters/*/`` (hidden folders skipped): a folder's card
    (:meth:`RunCard.load`), else a card inferred from its files (:meth:`RunCard.of_folder`:
    :attr:`RunCard.source` ``""``, kind ``"lora"``, ``"embedding"`` or ``"unknown"``). An
    embedder left under ``adapters/`` by an older version is listed as an embedder where it is.

    Args:
        workspace: the workspace.
        kind: only runs of this kind (one of :data:`KINDS`); None for all.
        recover: first repair saves killed mid-swap (:func:`oracle.schema.recover_folders`; takes
            a folder's lock only where leftovers are).

    Returns:
        ``[RunCard]``, each with :attr:`RunCard.folder` set. ``[]`` when nothing can be read.
    """
    runs: list[RunCard] = []
    for parent in run_folders(workspace):
        try:
            if recover:
                recover_folders(parent, _complete)
            entries = sorted(parent.iterdir())
        except OSError as err:
            logger.warning("cannot list %s: %s", parent, err)
            continue
        for folder in entries:
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            card = RunCard.of_folder(folder)
            if kind is None or card.kind == kind:
                runs.append(card)
    dated = sorted((r for r in runs if r.created_at), key=lambda r: r.created_at, reverse=True)
    return dated + [r for r in runs if not r.created_at]


def find_run(workspace: Workspace, name: str | None, kind: str | None = None) -> RunCard | None:
    """The run called ``name`` (a folder name in ``embedders/`` or ``adapters/``), of ``kind`` if
    given, or None: no name, a name with a path separator or a leading dot, no such folder. When
    both folders hold ``name``, the one of the asked kind wins; without ``kind``, ``embedders/``."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    for parent in run_folders(workspace):
        folder = parent / name
        if folder.is_dir():
            card = RunCard.of_folder(folder)
            if kind is None or card.kind == kind:
                return card
    return None


def _in_adapters(workspace: Workspace, run: RunCard) -> bool:
    return run.folder is not None and run.folder.parent == workspace.home / ADAPTERS_DIR


def generator_adapters(workspace: Workspace) -> list[RunCard]:
    """The LoRA adapters of ``adapters/`` the generator can load (:attr:`RunCard.is_generator_adapter`),
    newest first as :func:`list_runs`. Embedders, merged models and other folders are left out."""
    return [r for r in list_runs(workspace, "lora") if r.is_generator_adapter and _in_adapters(workspace, r)]


def find_adapter(workspace: Workspace, name: str | None) -> RunCard | None:
    """The generator adapter called ``name`` in ``adapters/`` (as :func:`generator_adapters` lists
    it), or None: no name, a name with a path separator or a leading dot, or not such an adapter."""
    run = find_run(workspace, name, "lora")
    return run if run is not None and run.is_generator_adapter and _in_adapters(workspace, run) else None
