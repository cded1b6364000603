"""Device and dtype policy, shared by inference and training: where models run
(:func:`default_device`, ``ORACLE_DEVICE``), in which dtype (:func:`best_dtype`, ``ORACLE_DTYPE``,
from the CPU's flags), whether a generator decodes with int8 weights (:func:`decode_quant`,
``ORACLE_QUANT``) and whether it computes in bf16 under them (:func:`int8_compute_dtype`).
torch is imported inside the functions.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from oracle.errors import ConfigError

logger = logging.getLogger(__name__)

@lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


_DTYPE_NAMES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
}


def best_dtype(device: str = "cpu", workload: Literal["batch", "decode"] = "batch"):
    """The fastest accurate dtype for ``device`` and ``workload``: ``torch.bfloat16`` or ``torch.float32``.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        workload: ``"batch"`` for products over many rows (embedding a batch, training,
            a prompt's prefill); ``"decode"`` for token-by-token generation (one row per
            product, bound by memory traffic and per-call overhead).

    CUDA: bf16 when the GPU supports it. CPU (flags from ``/proc/cpuinfo``): for ``batch``,
    bf16 with ``amx_bf16`` or ``avx512_bf16``; for ``decode``, float32 (which
    :func:`decode_quant` then pairs with int8 weights). Measured on 2 cores with torch 2.13:
    on an AMD EPYC with ``avx512_bf16`` and no AMX, oneDNN's bf16 matmul
    (``brg_matmul:avx512_core_bf16``) costs as much for 1 row as for 64 (~13-20 ms for
    [1x896]·[896x4864] against ~2 ms in fp32), so decoding in bf16 there is several times slower;
    on an Intel Xeon with AMX, int8 weights + fp32 decoded 1.6x (Qwen2.5-Coder 0.5B) and 2.0x
    (1.5B) faster than bf16 on a 649-token RAG prompt, with a first token within 10% (1.5B:
    11.0 s against 17.7 s for a 15-word answer). Elsewhere float32.
    ``ORACLE_DTYPE=float32|bfloat16|float16`` (or ``fp32``/``bf16``/``fp16``) overrides both.

    Raises:
        ConfigError: ``ORACLE_DTYPE`` names no known dtype.
    """
    import torch

    env = os.environ.get("ORACLE_DTYPE", "").strip().lower()
    if env and env != "auto":
        if env not in _DTYPE_NAMES:
            raise ConfigError("err.config.env_choice", name="ORACLE_DTYPE", value=repr(env),
                              choices=", ".join(("auto", *_DTYPE_NAMES)))
        return getattr(torch, _DTYPE_NAMES[env])
    kind = torch.device(device).type
    if kind == "cuda":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    if kind == "cpu":
        flags = _cpu_flags()
        fast = set() if workload == "decode" else {"amx_bf16", "avx512_bf16"}
        return torch.bfloat16 if flags & fast else torch.float32
    return torch.float32


def default_device() -> str:
    """``ORACLE_DEVICE`` if set, else ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    env = os.environ.get("ORACLE_DEVICE")
    if env:
        return env
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


QUANT_MODES = ("auto", "none", "int8", "int8-dynamic")
"""Values of ``ORACLE_QUANT`` / the ``quant`` argument of :func:`oracle.models.load_generator`."""


def _dtype_forced() -> bool:
    """True when ``ORACLE_DTYPE`` names a dtype (the operator chose one: ``auto`` keeps int8 off)."""
    return os.environ.get("ORACLE_DTYPE", "").strip().lower() not in ("", "auto")


def quant_setting(quant: str | None = None) -> str:
    """The requested quantization mode: ``quant`` if given, else ``ORACLE_QUANT`` (default ``"auto"``).

    Raises:
        ConfigError: the value is not one of :data:`QUANT_MODES`.
    """
    value = (quant if quant is not None else os.environ.get("ORACLE_QUANT", "")).strip().lower() or "auto"
    if value not in QUANT_MODES:
        if quant is not None:
            raise ConfigError.not_one_of("quant", value, QUANT_MODES)
        raise ConfigError("err.config.env_choice", name="ORACLE_QUANT", value=repr(value), choices=", ".join(QUANT_MODES))
    return value


def decode_quant(device: str = "cpu", quant: str | None = None, dtype_chosen: bool = False) -> str:
    """The quantization a generator decodes with: ``"none"``, ``"int8"`` or ``"int8-dynamic"``.

    Args:
        device: where the generator runs (``"cpu"``, ``"cuda"``, ``"cuda:1"``...).
        quant: ``"auto"``, ``"none"``, ``"int8"`` or ``"int8-dynamic"``; None reads ``ORACLE_QUANT``.
        dtype_chosen: the caller (or ``ORACLE_DTYPE``) fixed the dtype; ``auto`` then keeps it.

    ``auto`` is ``"int8"`` on a CPU (where float32 is the decoding dtype, see :func:`best_dtype`)
    unless the dtype was chosen, else ``"none"``. Quantization is CPU-only:
    on CUDA every mode gives ``"none"`` (with a warning when int8 was asked for).

    Raises:
        ConfigError: unknown mode (see :func:`quant_setting`).
    """
    mode = quant_setting(quant)
    if mode == "none":
        return "none"
    if str(device).split(":", 1)[0] != "cpu":
        if mode != "auto":
            logger.warning("Quantization %r is for CPU decoding only; %s decodes unquantized", mode, device)
        return "none"
    if mode == "auto":
        import torch

        return "none" if dtype_chosen or best_dtype(device, workload="decode") != torch.float32 else "int8"
    return mode


def int8_compute_dtype(device: str = "cpu"):
    """The dtype a weight-only int8 generator computes in (activations, norms, attention, KV cache):
    ``torch.bfloat16`` on a CPU with bf16 instructions (``avx512_bf16`` or ``amx_bf16``, as
    :func:`best_dtype` for ``"batch"``), else ``torch.float32``.

    The int8 linears multiply in bf16 anyway (:func:`oracle.models.quant._int8_linear_class`); in an
    fp32 model every one of them casts its input to bf16 and its output back, and the norms,
    activations and attention run in fp32. A profile of the 1.5B's prefill of 1,000 tokens (2-core
    Xeon with AMX, torch 2.13) spent 54% of its time in matmuls, 14% in those casts and ~25% in
    element-wise ops and attention; computing in bf16 removes the casts and halves the element-wise
    memory traffic. Measured in the same run: prefill ~25% faster, same next token (scratch), and on
    the gold sets (bench/RESULTS.md, "The 1.5B as the default generator, with bf16 compute under
    int8 weights").
    """
    import torch

    return best_dtype(device, workload="batch") if str(device).split(":", 1)[0] == "cpu" else torch.float32
