"""Weight-only int8 for CPU decoding: the int8 Linear (:func:`_int8_linear_class`), the in-place
replacement of a generator's linears (:func:`quantize_generator`), bf16 compute under int8 weights
(:func:`_compute_in_bf16`) and the precision label. Which mode a device uses is
:func:`oracle.models.device.decode_quant`. torch is imported inside the functions.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Any, Literal

from oracle.errors import ConfigError

logger = logging.getLogger(__name__)

INT8_PACK_MAX_ROWS = 16
"""Products with at most this many rows (decoding, small batches) use the int8 kernel; longer
ones (a prompt's prefill) use oneDNN's bf16 matmul with the weight dequantized to bf16."""

PREFILL_BF16_CACHE = os.environ.get("ORACLE_PREFILL_CACHE", "1") != "0"
"""Keep a bf16 copy of each int8 weight for prefill (2 more bytes per weight: +1 GB for the
0.5B, +3 GB for the 1.5B) instead of dequantizing it at every prefill call. ``ORACLE_PREFILL_CACHE=0``
turns it off where memory is short."""


@lru_cache(maxsize=1)
def _int8_linear_class():
    """The :class:`torch.nn.Module` class of weight-only int8 linears (built lazily: torch is heavy)."""
    import torch
    import torch.nn.functional as F

    # Kept over torchao's Int8WeightOnlyConfig: it decoded 1.4-15x faster in one run (prefill: alike in
    # bf16; 4-8x slower in fp32 on AVX2 then, when every prefill was bf16, which prefill_dtype() has
    # since fixed): bench/RESULTS.md, "int8 weight-only: ours against torchao".
    class Int8WeightOnlyLinear(torch.nn.Module):
        """``y = x · (q · s)ᵀ + b`` with int8 weights ``q`` [out, in], one bf16 scale per output row.

        Quantization: symmetric per-channel absmax, ``s = max|w_row| / 127``, ``q = round(w / s)``
        (as torchao's ``Int8WeightOnlyConfig`` and gpt-fast do). Inputs are cast to bf16 for the
        int8 kernel and the bf16 prefill (a no-op when the model computes in bf16,
        :func:`oracle.models.device.int8_compute_dtype`) and the result back to the input dtype; the
        bias keeps the loaded model's dtype. Up to :data:`INT8_PACK_MAX_ROWS` rows: PyTorch's
        ``aten._weight_int8pack_mm`` CPU kernel reads the int8 weight directly (a quarter of fp32's
        memory traffic: decoding is memory-bound). More rows (prefill), in :func:`prefill_dtype`:
        on a CPU without bf16 instructions an fp32 product with the weight dequantized per call
        (there oneDNN emulates bf16: 26.5 s against 4.0 s for [1000x1536]·[1536x8960] on an AVX2
        EPYC, bench/RESULTS.md "Prefill on a CPU without bf16 instructions"); else oneDNN's bf16 matmul
        (AVX512-BF16 / AMX) with a bf16 copy of the dequantized weight, made once and kept
        (:data:`PREFILL_BF16_CACHE`) instead of dequantizing per call (an int8 → bf16 copy and a
        multiply of the whole weight): on 2 quiet cores the 1.5B's prefill of 619 / 1,151 tokens
        took 4.4 / 8.8 s against 5.3 / 9.7 s, and far less under load, when the copies compete for
        memory bandwidth (``bench/bench_prefill.py``, bench/RESULTS.md). Memory: 1 byte per weight
        for int8, plus 2 for the bf16 copy (3 in all, fp32's 4). Inference only: no gradients, not
        saveable with ``save_pretrained``.
        """

        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            self.in_features, self.out_features = linear.in_features, linear.out_features
            w = linear.weight.detach().float()  # [out, in]
            scale = w.abs().amax(dim=1).clamp(min=1e-12) / 127.0  # [out]
            q = torch.round(w / scale[:, None]).clamp_(-127, 127).to(torch.int8).contiguous()
            self.register_buffer("weight_int8", q)
            self.register_buffer("scales", scale.to(torch.bfloat16))
            bias = None if linear.bias is None else linear.bias.detach().clone()  # in the model's dtype
            self.register_buffer("bias", bias)
            self.prefill_dtype = prefill_dtype()
            # [out, in] bf16, or None: dequantized per prefill call (always, when prefill is in fp32)
            cache = PREFILL_BF16_CACHE and self.prefill_dtype == torch.bfloat16
            self.weight_bf16 = (q.to(torch.bfloat16) * self.scales[:, None]).contiguous() if cache else None

        def dequantized(self, rows: torch.Tensor | None = None) -> torch.Tensor:
            """The weight as float32, ``[out, in]``, or only ``rows`` (a ``[n]`` long tensor of
            output indices): ``[n, in]``. int8 times its row's scale."""
            q, scales = self.weight_int8, self.scales
            if rows is not None:
                q, scales = q[rows], scales[rows]
            return q.float() * scales.float()[:, None]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            shape = x.shape
            x2 = x.reshape(-1, self.in_features)  # [rows, in]
            if x2.shape[0] <= INT8_PACK_MAX_ROWS:
                y = torch._weight_int8pack_mm(x2.to(torch.bfloat16), self.weight_int8, self.scales)  # [rows, out]
            elif self.prefill_dtype != torch.bfloat16:  # no bf16 instructions: an fp32 product
                y = F.linear(x2.float(), self.dequantized())
            elif self.weight_bf16 is not None:
                y = F.linear(x2.to(torch.bfloat16), self.weight_bf16)
            else:
                y = F.linear(x2.to(torch.bfloat16), self.weight_int8.to(torch.bfloat16) * self.scales[:, None])
            y = y.to(x.dtype).reshape(*shape[:-1], self.out_features)
            return y if self.bias is None else y + self.bias.to(x.dtype)

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    return Int8WeightOnlyLinear


def _compute_in_bf16(model) -> None:
    """Cast the parameters of an int8-quantized ``model`` (embedding, norms) and its int8 layers'
    biases to bf16, in place. Buffers stay as they are: the rotary embedding's ``inv_freq`` must
    stay fp32 (positions times a bf16-rounded frequency drift by radians within 1,000 tokens)."""
    import torch

    for param in model.parameters():
        param.data = param.data.to(torch.bfloat16)
    int8 = _int8_linear_class()
    for module in model.modules():
        if isinstance(module, int8) and module.bias is not None:
            module.bias = module.bias.to(torch.bfloat16)


def prefill_dtype():
    """The dtype of the int8 linears' products over many rows (a prompt's prefill):
    :func:`oracle.models.device.best_dtype` for ``"batch"`` on the CPU when it is bf16 (a CPU with
    ``avx512_bf16`` or ``amx_bf16``, or ``ORACLE_DTYPE=bfloat16``), else ``torch.float32``: without
    bf16 instructions oneDNN emulates bf16 and a prefill is ~6x slower than in fp32."""
    import torch

    from oracle.models.device import best_dtype

    return torch.bfloat16 if best_dtype("cpu", workload="batch") == torch.bfloat16 else torch.float32


def int8_kernel_available() -> bool:
    """True when this torch has the CPU kernel of weight-only int8 (``aten._weight_int8pack_mm``)."""
    import torch

    return hasattr(torch.ops.aten, "_weight_int8pack_mm")


def quantize_generator(model, method: Literal["int8", "int8-dynamic"] = "int8") -> dict[str, Any]:
    """Replace every ``nn.Linear`` of ``model`` (a causal LM on CPU, eval, fp32 or bf16) with an int8 one, in place.

    Methods:

    * ``"int8"``: weight-only int8, per output channel (:func:`_int8_linear_class`); activations
      stay floating point (bf16 inside the product). Falls back to ``"int8-dynamic"`` when this
      torch lacks ``aten._weight_int8pack_mm`` (torch < 2.3).
    * ``"int8-dynamic"``: PyTorch dynamic quantization (``torch.ao.quantization.quantize_dynamic``
      with ``per_channel_dynamic_qconfig``; fbgemm / x86 kernels): int8 weights per channel *and*
      activations quantized to 8 bits per call. Faster (prefill ~1.4x, decode ~1.3x faster than
      ``"int8"`` on 2 EPYC cores) but activation quantization loses accuracy on LLMs, whose
      activations have outlier channels (Dettmers et al. 2022, LLM.int8(); Xiao et al. 2023,
      SmoothQuant). torch.ao.quantization is deprecated; its warnings are silenced here.

    Measured on Qwen2.5-Coder-0.5B-Instruct (2-core AMD EPYC, AVX512-BF16/VNNI, no AMX, 1 thread,
    628-token Portuguese RAG prompt): decode 168 ms/token fp32, 46 ``"int8"``, 35 ``"int8-dynamic"``;
    prefill 7.9 s, 2.8 s, 1.9 s. Against fp32 greedy answers on 7 RAG prompts (48 new tokens at
    most): ``"int8"`` 7/7 identical, 100% teacher-forced token agreement; ``"int8-dynamic"`` 0/4
    identical, 83%.

    The input embedding is left as is (a lookup, not a product); a tied ``lm_head`` gets its own
    int8 copy.

    Returns:
        ``{"method": str, "n_linear": int, "bytes_fp32": int, "bytes_int8": int,
        "bytes_prefill_bf16": int}``: the method used, how many layers were replaced, their weight
        bytes in fp32 and in int8 (scales not counted), and the bytes of the prefill's bf16 copies
        (:data:`PREFILL_BF16_CACHE`; 0 when off or when :func:`prefill_dtype` is fp32).

    Raises:
        ConfigError: ``method`` is not ``"int8"`` or ``"int8-dynamic"``.
    """
    import torch

    if method not in ("int8", "int8-dynamic"):
        raise ConfigError.not_one_of("method", method, ("int8", "int8-dynamic"))
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    before = sum(m.weight.numel() * 4 for _, m in linears)  # as fp32, whatever the model was loaded in
    after = sum(m.weight.numel() for _, m in linears)  # one byte per weight (scales not counted)
    if method == "int8" and not int8_kernel_available():
        logger.warning("torch %s has no aten._weight_int8pack_mm: using dynamic int8 instead", torch.__version__)
        method = "int8-dynamic"
    if method == "int8":
        cls = _int8_linear_class()
        by_name = dict(model.named_modules())
        for name, lin in linears:
            parent_name, _, child = name.rpartition(".")
            setattr(by_name[parent_name] if parent_name else model, child, cls(lin))
    else:
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated", category=DeprecationWarning)
            warnings.filterwarnings("ignore", message=r".*quantize_per_(tensor|channel)", category=UserWarning)
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=True)
    cache = 2 * after if method == "int8" and PREFILL_BF16_CACHE and prefill_dtype() == torch.bfloat16 else 0
    return {"method": method, "n_linear": len(linears), "bytes_fp32": int(before), "bytes_int8": int(after),
            "bytes_prefill_bf16": int(cache)}


def precision_label(model) -> str:
    """What a loaded generator computes in, for the UI and benchmarks: ``"float32"``, ``"bfloat16"``,
    ``"int8 weights (per-channel) + float32"``, ``"int8 dynamic (weights + activations) + float32"``.

    Reads ``model.oracle_precision`` (set by :func:`oracle.models.load_generator`); other models
    give their dtype.
    """
    info = getattr(model, "oracle_precision", None) or {}
    dtype = info.get("dtype") or str(getattr(model, "dtype", "")).replace("torch.", "")
    quant = info.get("quant", "none")
    if quant == "int8":
        return f"int8 weights (per-channel) + {dtype}"
    if quant == "int8-dynamic":
        return f"int8 dynamic (weights + activations) + {dtype}"
    return dtype
