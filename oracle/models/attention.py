"""Attention of local generators on a CPU: PyTorch's SDPA for a prompt, the model's own eager
attention for each decoded token (:func:`use_decode_attention`). torch and transformers are
imported inside the functions.
"""

from __future__ import annotations

import inspect
from functools import lru_cache
from typing import Any

DECODE_ATTENTION = "oracle_sdpa_eager_decode"
"""The name under which :func:`use_decode_attention` registers its attention function with
transformers' ``AttentionInterface`` (and SDPA's mask with ``AttentionMaskInterface``)."""


def _attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, **kwargs: Any):
    """One attention call: ``query`` ``[batch, heads, q_len, head_dim]``; ``key`` / ``value``
    ``[batch, kv_heads, kv_len, head_dim]``; ``attention_mask`` SDPA's (boolean, True = may attend,
    ``[batch, 1, q_len, kv_len]``) or None. ``q_len == 1`` (a decoded token): the model family's
    ``eager_attention_forward`` (from the module that defines ``type(module)``), with the boolean
    mask turned into the additive one eager attention adds; a model family without one, and every
    longer query (a prompt's prefill), goes to transformers' ``sdpa_attention_forward``. Returns
    what they return: ``(output [batch, q_len, heads, head_dim], weights or None)``."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    eager = getattr(_defining_module(type(module)), "eager_attention_forward", None)
    if query.shape[-2] != 1 or eager is None:
        return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    if attention_mask is not None and attention_mask.dtype == torch.bool:
        additive = torch.zeros(attention_mask.shape, dtype=query.dtype, device=query.device)
        attention_mask = additive.masked_fill_(~attention_mask, torch.finfo(query.dtype).min)
    kwargs.setdefault("scaling", getattr(module, "scaling", query.shape[-1] ** -0.5))
    return eager(module, query, key, value, attention_mask, **kwargs)


@lru_cache(maxsize=None)
def _defining_module(cls: type) -> Any:
    """The module that defines attention class ``cls`` (looked up once per class, not at every
    layer of every decoded token), or None."""
    return inspect.getmodule(cls)


@lru_cache(maxsize=1)
def _register() -> str:
    from transformers import AttentionInterface, AttentionMaskInterface
    from transformers.masking_utils import sdpa_mask

    AttentionInterface.register(DECODE_ATTENTION, _attention)
    AttentionMaskInterface.register(DECODE_ATTENTION, sdpa_mask)
    return DECODE_ATTENTION


def use_decode_attention(model: Any) -> bool:
    """Make ``model`` (a transformers causal LM on a CPU, before any peft wrapping) attend with SDPA
    over a prompt and with its own eager attention for each decoded token, in place. Returns True
    when set; False when the model keeps its attention (no ``set_attn_implementation``, or a model
    whose attention is not SDPA's, which is left as chosen).

    Why: PyTorch's SDPA CPU kernel (``_scaled_dot_product_flash_attention_for_cpu``) spent 1.9 ms
    per layer on one bf16 query over a 1,151-token prompt, a third of a decoded token of the 1.5B
    (torch's profiler, 2-core AMD EPYC without AMX, torch 2.13), while eager attention is two small
    matmuls and a softmax. Same run (``bench/bench_decode_attention.py``, bench/RESULTS.md, 1,151
    prompt tokens, int8 weights + bf16 compute, two runs): a decoded token of the 1.5B took 180 ms
    against 240, then 170 against 185; of the 0.5B 70 against 80, then 83 against 90 (8-25% less);
    the first token the same (SDPA still runs the prefill), and the same greedy answer there. In bf16 the two kernels round differently, so a close second token
    can win: on the dev sample of the gold sets 11 of 95 answers of the 1.5B changed (8 in wording),
    with the same key facts (25 of 60), one unanswerable question fewer refused, answer p95 35.3 →
    28.0 s. Uses transformers' ``AttentionInterface`` / ``AttentionMaskInterface`` extension points.
    """
    current = getattr(getattr(model, "config", None), "_attn_implementation", None)
    if current not in ("sdpa", DECODE_ATTENTION) or not hasattr(model, "set_attn_implementation"):
        return False
    model.set_attn_implementation(_register())
    return True
