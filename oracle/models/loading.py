"""Loading: a name -> a loaded embedder or generator, cached per process.

It puts the other modules together: :mod:`~oracle.models.resolve` for the folder,
:mod:`~oracle.models.device` for device, dtype and quantization mode, :mod:`~oracle.models.quant`
for the int8 layers. sentence-transformers, transformers, peft and torch are imported inside the
functions.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from oracle.errors import ModelNotFoundError
from oracle.models.attention import use_decode_attention
from oracle.models.device import (
    _dtype_forced,
    best_dtype,
    decode_quant,
    default_device,
    int8_compute_dtype,
    quant_setting,
)
from oracle.models.quant import _compute_in_bf16, precision_label, quantize_generator
from oracle.models.resolve import embedder_prompts, resolve_embedder, resolve_generator

logger = logging.getLogger(__name__)

_lock = threading.RLock()
_embedders: dict[tuple, Any] = {}
_generators: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
MAX_CACHED_GENERATORS = int(os.environ.get("ORACLE_MAX_GENERATORS", "2"))


def clear_cache() -> None:
    """Forget the models loaded in this process (they are freed once nothing else holds them)."""
    with _lock:
        _embedders.clear()
        _generators.clear()


def load_embedder(name: str, device: str | None = None, dtype=None):
    """A ``SentenceTransformer`` for ``name`` in eval mode, cached per (path, device, dtype).

    Args:
        name: bundled name, local folder or hub id (see :func:`resolve_embedder`).
        device: ``"cpu"``, ``"cuda"``...; default :func:`default_device`.
        dtype: torch dtype; default :func:`best_dtype` of the device.

    Its ``encode_query`` / ``encode_document`` (or ``encode(..., prompt_name="query")``) add
    the e5 prompts; embeddings have shape ``[n, dim]`` (384 for both bundled embedders) and
    unit length.

    Raises:
        ModelNotFoundError, ModelIntegrityError: see :func:`resolve_embedder`.
    """
    path = resolve_embedder(name)
    device = device or default_device()
    dtype = dtype or best_dtype(device)
    key = (path, device, str(dtype))
    with _lock:
        model = _embedders.get(key)
        if model is not None:
            return model
        from sentence_transformers import SentenceTransformer

        t0 = time.monotonic()
        model = SentenceTransformer(path, device=device)
        if not model.prompts or not any(model.prompts.values()):
            prompts = embedder_prompts(name)
            if prompts:
                model.prompts = prompts
        model.to(dtype)
        model.eval()
        logger.info("Loaded embedder %s (%s, %s) in %.1f s", name, device, dtype, time.monotonic() - t0)
        _embedders[key] = model
        return model


def load_generator(
    name: str,
    adapter: str | None = None,
    device: str | None = None,
    dtype=None,
    cache: bool = True,
    quant: str | None = None,
):
    """``(model, tokenizer)`` of a causal LM in eval mode, with a LoRA adapter when given.

    Args:
        name: bundled name, local folder or hub id (see :func:`resolve_generator`).
        adapter: folder written by peft ``save_pretrained`` (a LoRA adapter for this base
            model), applied with ``PeftModel.from_pretrained``; None for the base model.
        device: default :func:`default_device`.
        dtype: default ``best_dtype(device, workload="decode")`` (generation is decoding).
        cache: reuse / keep the loaded pair in this process (keyed by name, adapter, device,
            dtype, quantization; the ``ORACLE_MAX_GENERATORS`` most recent, default 2, are
            kept). Pass False for a private copy, e.g. to train it: a private copy is never
            quantized unless ``quant`` asks for it explicitly.
        quant: ``"auto"``, ``"none"``, ``"int8"`` or ``"int8-dynamic"`` (see
            :func:`decode_quant`, :func:`quantize_generator`); None reads ``ORACLE_QUANT``
            (default ``auto``: int8 weights on any CPU when ``dtype`` and ``ORACLE_DTYPE`` are
            unset). An int8 model is loaded in fp32, its adapter (if any) merged into the weights
            (``merge_and_unload``: the result is a plain transformers model, not a
            ``PeftModel``), then its linear layers quantized; on a CPU with bf16 instructions it
            then computes in bf16 (:func:`int8_compute_dtype`). Inference only.

    The tokenizer has a chat template and a pad token; ``model.generation_config`` stops at
    every end-of-turn token. ``model.oracle_precision`` records what the model computes in:
    ``{"dtype": "float32" | "bfloat16", "quant": "none" | "int8" | "int8-dynamic", "adapter": None |
    "peft" | "merged", ...}`` plus :func:`quantize_generator`'s figures when quantized;
    :func:`precision_label` turns it into a short label.

    Raises:
        ModelNotFoundError: see :func:`resolve_generator`, or ``adapter`` is not a folder.
        ModelIntegrityError: see :func:`resolve_generator`.
        ConfigError: ``quant`` / ``ORACLE_QUANT`` / ``ORACLE_DTYPE`` has an unknown value.
    """
    import torch

    path = resolve_generator(name)
    device = device or default_device()
    if quant is None and not cache:
        mode = "none"  # private copies (training) stay as they are unless asked explicitly
        quant_setting()  # still reject a bad ORACLE_QUANT
    else:
        mode = decode_quant(device, quant, dtype_chosen=dtype is not None or _dtype_forced())
    if mode != "none":
        if dtype is not None and dtype != torch.float32:
            logger.info("Generator %s: int8 quantization loads fp32, not %s", name, dtype)
        dtype = torch.float32
    dtype = dtype or best_dtype(device, workload="decode")
    adapter_path = None
    if adapter:
        a = Path(adapter).expanduser()
        if not (a / "adapter_config.json").is_file():
            raise ModelNotFoundError("err.adapter_not_found", name=str(adapter))
        adapter_path = str(a.resolve())
    key = (path, adapter_path, device, str(dtype), mode)
    with _lock:
        if cache and key in _generators:
            _generators.move_to_end(key)
            return _generators[key]
        from transformers import AutoModelForCausalLM, AutoTokenizer

        t0 = time.monotonic()
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        if cache and str(device).split(":", 1)[0] == "cpu":
            use_decode_attention(model)  # SDPA for the prompt, eager for each new token (faster on a CPU)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if model.generation_config.pad_token_id is None:
            model.generation_config.pad_token_id = tokenizer.pad_token_id
        precision: dict[str, Any] = {"dtype": str(dtype).replace("torch.", ""), "quant": mode, "adapter": None}
        if adapter_path:
            from peft import PeftModel

            # Keep the adapter in the model's dtype (peft would upcast it to fp32 otherwise).
            model = PeftModel.from_pretrained(model, adapter_path, autocast_adapter_dtype=False)
            precision["adapter"] = "peft"
            if mode != "none":
                # This base was loaded for this key alone: merging changes no other model.
                model = model.merge_and_unload()
                precision["adapter"] = "merged"
        model.to(device)
        model.eval()
        if mode != "none":
            with torch.no_grad():
                precision.update(quantize_generator(model, mode))
                precision["quant"] = precision["method"]
                if precision["quant"] == "int8" and int8_compute_dtype(device) == torch.bfloat16:
                    _compute_in_bf16(model)
                    precision["dtype"] = "bfloat16"
        model.oracle_precision = precision
        if not tokenizer.chat_template:
            logger.warning("Tokenizer of %s has no chat template", name)
        logger.info(
            "Loaded generator %s%s (%s, %s) in %.1f s",
            name,
            f" + {adapter}" if adapter else "",
            device,
            precision_label(model),
            time.monotonic() - t0,
        )
        pair = (model, tokenizer)
        if cache:
            _generators[key] = pair
            while len(_generators) > max(1, MAX_CACHED_GENERATORS):
                _generators.popitem(last=False)
        return pair
