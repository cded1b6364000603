"""A tiny sentence-transformers embedder built from config, for fast offline tests.

No download: a 2-layer ``BertModel`` (hidden size 32 by default) with random weights from a
fixed seed, a WordPiece tokenizer whose vocabulary is built by hand (special tokens, a few
common Portuguese/English words, every letter and digit both as a word start and as a
``##`` continuation, so any lower-cased, accent-stripped text tokenizes without ``[UNK]``),
mean pooling and L2 normalisation. The result is a standard sentence-transformers folder
that ``SentenceTransformer(path)`` (and so ``oracle.models.load_embedder(path)``) loads.

The embeddings mean nothing semantically, but they are deterministic, and texts sharing
words get closer vectors than unrelated ones (mean pooling over shared token embeddings).
The folder name contains no "e5", so :func:`oracle.models.embedder_prompts` gives it no
prompts: a query equal to a chunk's text embeds to the same vector (cosine 1.0).

Usage in a test, with the session-scoped fixture (tests/ is on sys.path under pytest)::

    from tiny_embedder import tiny_embedder_dir  # noqa: F401

    def test_x(tiny_embedder_dir):               # a str path to the folder
        model = SentenceTransformer(tiny_embedder_dir)

or call ``tiny_embedder_path()`` (built once per process, cached), or build a fresh one:
``build_tiny_embedder(tmp_path / "emb", dim=16)``.
"""

from __future__ import annotations

import os
import string
import tempfile
from pathlib import Path

import pytest

_WORDS_TEXT = (
    "a o e de da do das dos que em para com por uma um os as no na não é se "
    "the of and to in is for on with that by this it are be as or from "
    "documento arquivo pergunta resposta linux debian pacote sistema usuário senha rede "
    "document file question answer package system user password network"
)
_WORDS = tuple(_WORDS_TEXT.split())

_CACHE: dict[tuple[int, int, int], str] = {}


def _vocab() -> list[str]:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = specials + chars + ["##" + c for c in string.ascii_lowercase + string.digits]
    for word in _WORDS:
        if word not in vocab:
            vocab.append(word)
    return vocab


def build_tiny_embedder(path: str | os.PathLike, dim: int = 32, layers: int = 2, seed: int = 0) -> str:
    """Write a tiny sentence-transformers model to ``path`` and return the path as a string.

    Args:
        path: destination folder (created; its name should not contain "e5").
        dim: hidden size = embedding dimension (output vectors are ``[n, dim]``).
        layers: number of transformer layers.
        seed: torch seed for the random weights (same seed, same model).

    The model: ``BertModel(BertConfig(hidden_size=dim, num_hidden_layers=layers,
    num_attention_heads=2, intermediate_size=2*dim, max_position_embeddings=512))``,
    mean pooling, ``Normalize``; max_seq_length 256 tokens.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab = _vocab()
    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = Path(tmp) / "hf"
        tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        cls_id, sep_id = vocab.index("[CLS]"), vocab.index("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
        )
        tok.decoder = decoders.WordPiece()
        fast = BertTokenizerFast(tokenizer_object=tok, do_lower_case=True, model_max_length=512)
        fast.save_pretrained(hf_dir)

        torch.manual_seed(seed)
        config = BertConfig(
            vocab_size=len(vocab),
            hidden_size=dim,
            num_hidden_layers=layers,
            num_attention_heads=2,
            intermediate_size=2 * dim,
            max_position_embeddings=512,
        )
        BertModel(config).eval().save_pretrained(hf_dir)

        transformer = Transformer(str(hf_dir), max_seq_length=256)
        pooling = Pooling(dim, pooling_mode="mean")
        model = SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu")
        model.save(str(path))
    return str(path)


def tiny_embedder_path(dim: int = 32, layers: int = 2, seed: int = 0) -> str:
    """Path of a tiny embedder built once per process (in a temp folder) and reused.

    Tests that only read the model share this one; build your own with
    :func:`build_tiny_embedder` if a test needs a different dimension or seed.
    """
    key = (dim, layers, seed)
    if key not in _CACHE or not Path(_CACHE[key]).is_dir():
        root = Path(tempfile.mkdtemp(prefix="oracle-tiny-embedder-"))
        _CACHE[key] = build_tiny_embedder(root / f"tiny-embedder-d{dim}-l{layers}-s{seed}", dim, layers, seed)
    return _CACHE[key]


@pytest.fixture(scope="session")
def tiny_embedder_dir(tmp_path_factory) -> str:
    """Path (str) of the tiny embedder folder (dim 32), built once per test session."""
    return build_tiny_embedder(tmp_path_factory.mktemp("emb") / "tiny-embedder-d32-l2-s0")
