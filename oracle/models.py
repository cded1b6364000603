"""CONTRACT STUB (to be replaced by the models helper).

Resolve model names (bundled package, local folder, hub id) to loadable folders; load them.
"""
from __future__ import annotations

EMBEDDERS: dict = {}   # name -> spec of bundled embedders: "multilingual-e5-small", "all-MiniLM-L6-v2"
GENERATORS: dict = {}  # name -> spec of bundled generators: "qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct"


def cache_dir():
    """Path: ORACLE_CACHE or platformdirs.user_cache_dir('oracle'); conversions live here."""
    raise NotImplementedError


def resolve_embedder(name: str) -> str:
    """Local path of a sentence-transformers folder (converted once, cached), an existing local
    folder as is, or a hub id when the hub is reachable. Raises ModelNotFoundError."""
    raise NotImplementedError


def resolve_generator(name: str) -> str:
    """Local path of a transformers causal-LM folder (GGUF parts concatenated, sha256-checked,
    dequantized and saved once), a local folder, or a hub id. Raises ModelNotFoundError,
    ModelIntegrityError."""
    raise NotImplementedError


def best_dtype(device: str = "cpu"):
    """torch.bfloat16 when the device runs bf16 fast (CPU with AMX/avx512_bf16, CUDA with bf16), else float32.
    ORACLE_DTYPE=float32|bfloat16 overrides."""
    raise NotImplementedError


def embedder_prompts(name: str) -> dict[str, str]:
    """{'query': 'query: ', 'document': 'passage: '} for e5 models, {} otherwise."""
    raise NotImplementedError


def load_embedder(name: str, device: str | None = None, dtype=None):
    """A SentenceTransformer (cached per (name, device, dtype) in this process), in best_dtype by default."""
    raise NotImplementedError


def load_generator(name: str, adapter: str | None = None, device: str | None = None, dtype=None):
    """(model, tokenizer) for a causal LM, eval mode, best_dtype by default, with the peft LoRA adapter
    folder applied when given. Cached per (name, adapter, device, dtype)."""
    raise NotImplementedError
