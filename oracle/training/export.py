"""Export: merge a LoRA adapter into a standalone model; push adapters, merged models and
embedders to the Hugging Face Hub with a model card.

Merging uses peft's ``merge_and_unload`` (``W + (alpha / r) B A`` folded into each base
weight), so the result loads with ``AutoModelForCausalLM.from_pretrained`` alone, serves
with any engine (vLLM, TGI, llama.cpp after conversion) and runs without peft.

Pushing uses ``huggingface_hub.HfApi`` (``create_repo`` + ``upload_folder``). The token comes
from the ``token`` argument (the app's password field) or the ``HF_TOKEN`` environment
variable; it is passed to the library and nowhere else: never logged, never written to a
file, never put in a job's parameters.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from oracle.errors import OracleError
from oracle.schema import now_iso, replace_folder, write_json_atomic, write_text_atomic
from oracle.training.card import MERGE_JSON, RunCard

logger = logging.getLogger(__name__)


def base_model_of(adapter_dir: str | Path) -> str:
    """The base model of an adapter: its run card's ``base_model`` (:class:`RunCard`), else peft's
    ``adapter_config.json`` ``base_model_name_or_path``.

    Raises:
        OracleError: ``err.train.not_adapter`` when the folder is not a peft adapter.
    """
    card = RunCard.load(adapter_dir, missing_ok=True)
    if card is not None and card.base_model:
        return card.base_model
    cfg = Path(adapter_dir) / "adapter_config.json"
    if cfg.exists():
        return json.loads(cfg.read_text(encoding="utf-8")).get("base_model_name_or_path", "")
    raise OracleError("err.train.not_adapter", path=str(adapter_dir))


def merge_adapter(
    adapter_dir: str | Path,
    output_dir: str | Path | None = None,
    base_model: str | None = None,
    dtype: str = "auto",
) -> str:
    """Fold a LoRA adapter into its base model and save a standalone transformers folder.

    Args:
        adapter_dir: folder written by :func:`oracle.training.lora.train_lora`.
        output_dir: destination (default ``<adapter_dir>-merged`` next to it); written to a
            temp folder first and renamed, so a crash leaves no half model.
        base_model: base model name or folder (default :func:`base_model_of`).
        dtype: ``"auto"`` (the base config's dtype), ``"float32"``, ``"bfloat16"``, ``"float16"``.

    Returns:
        The output folder (str). It holds the model, the tokenizer and ``merge.json`` (base,
        adapter, its ``train.json``, time).

    Raises:
        OracleError: not an adapter; ModelNotFoundError: base model unavailable.
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from oracle.training.lora import resolve_base

    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / "adapter_config.json").exists():
        raise OracleError("err.train.not_adapter", path=str(adapter_dir))
    base = base_model or base_model_of(adapter_dir)
    base_path = resolve_base(base)
    out = Path(output_dir) if output_dir else adapter_dir.parent / f"{adapter_dir.name}-merged"
    load_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}.get(dtype, "auto")
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)  # merge in fp32
    model = PeftModel.from_pretrained(model, str(adapter_dir))
    merged = model.merge_and_unload()
    if load_dtype == "auto":
        cfg_dtype = getattr(merged.config, "dtype", None) or getattr(merged.config, "torch_dtype", None)
        load_dtype = cfg_dtype if isinstance(cfg_dtype, torch.dtype) else getattr(torch, str(cfg_dtype or "float32"), torch.float32)
    merged = merged.to(load_dtype)
    tokenizer_src = adapter_dir if (adapter_dir / "tokenizer_config.json").exists() else base_path
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_src))
    card = RunCard.load(adapter_dir, missing_ok=True)

    def write(tmp: Path) -> None:  # merge.json last: the folder is whole or the old one stays
        merged.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        write_json_atomic(tmp / MERGE_JSON, {"base_model": base, "adapter": str(adapter_dir),
                                             "dtype": str(load_dtype), "created_at": now_iso(),
                                             "train": card.to_dict() if card is not None else {}})

    replace_folder(out, write)
    logger.info("merged %s into %s", adapter_dir, out)
    return str(out)


def _upstream(name: str) -> tuple[str, str]:
    """(hub id, licence) of a bundled model name; ``(name, "")`` otherwise."""
    try:
        from oracle import models

        for table in (models.GENERATORS, models.EMBEDDERS):
            spec = table.get(name)
            if spec is not None:
                return getattr(spec, "upstream", "") or name, getattr(spec, "licence", "")
    except Exception:  # noqa: BLE001 - a card must never fail on metadata
        pass
    return name, ""


def model_card(folder: str | Path, repo_id: str = "") -> str:
    """A README.md (YAML front matter + text) describing the folder from its run card
    (:meth:`RunCard.of_folder`: ``train.json``, a merged model's ``merge.json``, else what its files
    say): kind, base model (the upstream hub id for bundled models), data, hyper-parameters,
    metrics, wall time and cost."""
    folder = Path(folder)
    card = RunCard.of_folder(folder)
    info = card.to_dict()
    merge = (folder / MERGE_JSON).exists()
    kind = "embedding" if card.kind == "embedding" else "lora"  # a merged model is a LoRA run folded in
    base, licence = _upstream(info.get("base_model", ""))
    is_adapter = (folder / "adapter_config.json").exists()
    library = "peft" if is_adapter else ("sentence-transformers" if kind == "embedding" else "transformers")
    tags = ["oracle", "rag", "raft"] + (["lora"] if kind == "lora" else ["sentence-similarity"])
    front = ["---", f"library_name: {library}"]
    if base and "/" in base:
        front.append(f"base_model: {base}")
    if licence:
        front.append(f"license: {licence.lower()}")
    front.append("tags:")
    front += [f"- {t}" for t in tags]
    front.append("---")
    title = repo_id or info.get("name") or folder.name
    lines = [*front, "", f"# {title}", ""]
    if kind == "embedding":
        lines.append(f"Sentence-transformers embedder fine-tuned from `{base}` with Oráculo on (question -> source chunk) "
                     "pairs generated from the user's documents, with hard negatives mined from the index "
                     "(MultipleNegativesRankingLoss).")
    else:
        what = "merged into the base model" if merge else "a LoRA adapter (peft)"
        lines.append(f"Fine-tuned from `{base}` with Oráculo: {what}, trained with the RAFT recipe (Zhang et al., 2024) "
                     "on question/answer pairs generated from the user's documents and on rated answers (valid, or corrected). "
                     "Prompts are Oráculo's RAG chat prompt (numbered sources, answers cite [n]).")
        if "Q4" in json.dumps(info.get("base_model_path", "")) or info.get("base_model", "").startswith("qwen2.5-coder"):
            lines.append("")
            lines.append("Note: the base weights used in training were the Q4_K_M GGUF of the base model, dequantized.")
    data = info.get("data", {})
    if data:
        lines += ["", "## Data", "", f"- training examples: {data.get('n_train', data.get('n_train_pairs', '?'))}, "
                  f"held-out: {data.get('n_eval', '?')}"]
        for f in data.get("files", []):
            lines.append(f"- `{Path(f.get('path', '')).name}` sha256 `{f.get('sha256', '')[:16]}…` ({f.get('n_examples', '?')} examples)")
    if info.get("hyperparameters"):
        lines += ["", "## Hyper-parameters", "", "```json", json.dumps(info["hyperparameters"], indent=2, sort_keys=True), "```"]
    if info.get("metrics"):
        metrics = {k: v for k, v in info["metrics"].items() if not isinstance(v, (list,))}
        lines += ["", "## Metrics (held-out questions)", "", "```json", json.dumps(metrics, indent=2, sort_keys=True, default=str), "```"]
    if info.get("wall_time_s") is not None:
        lines += ["", f"Wall time: {info['wall_time_s']} s on {info.get('device', '?')} ({info.get('precision', '?')})."]
    return "\n".join(lines) + "\n"


def push_to_hub(
    folder: str | Path,
    repo_id: str,
    token: str | None = None,
    private: bool = True,
    commit_message: str | None = None,
) -> str:
    """Upload an adapter, merged model or embedder folder to the Hugging Face Hub.

    Writes the model card (:func:`model_card`) as ``README.md`` in the folder first, then
    ``create_repo(exist_ok=True)`` and ``upload_folder`` (checkpoints and hidden files left out).

    Args:
        folder: the folder to upload.
        repo_id: ``"user/name"``.
        token: a Hugging Face write token; default ``HF_TOKEN`` from the environment. Never
            logged or stored.
        private: create the repository private.

    Returns:
        The repository URL.

    Raises:
        OracleError: ``err.train.no_token`` (no token), ``err.train.bad_repo`` (repo id not
            ``user/name``), ``err.train.push_failed`` (the hub refused or is unreachable).
    """
    folder = Path(folder)
    token = token or os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    if not token:
        raise OracleError("err.train.no_token")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise OracleError("err.train.bad_repo", repo=repo_id)
    write_text_atomic(folder / "README.md", model_card(folder, repo_id))
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=commit_message or "Upload from Oráculo",
                          ignore_patterns=["checkpoints/*", ".*", "*.tmp"])
    except Exception as err:  # noqa: BLE001 - network, auth, quota: all reported the same way
        detail = f"{type(err).__name__}: {err}".replace(token, "***")[:300]
        logger.warning("push of %s to %s failed: %s", folder, repo_id, detail)
        raise OracleError("err.train.push_failed", repo=repo_id, detail=detail) from None
    logger.info("pushed %s to %s", folder, repo_id)
    return str(url)
