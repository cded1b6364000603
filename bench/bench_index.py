"""Indexing throughput and retrieval quality: Oráculo's pipeline against the raw libraries.

The Zaragoza construction FAQ (503 English question/answer pairs, ``../shared/corpus``): every
answer becomes one chunk, every question must retrieve its own answer.

* ours: ``VectorIndex.add`` with the default embedder as :func:`oracle.models.load_embedder`
  gives it (multilingual-e5-small, bf16 on a CPU with AMX / AVX512-BF16), e5 prompts;
* raw: ``SentenceTransformer(same folder)`` in fp32, ``model.encode(["passage: " + a, ...],
  normalize_embeddings=True)`` then ``faiss.IndexFlatIP.add``: what a user of the libraries
  writes by hand.

Both sides are warmed up on a few texts first; model loading is not timed. The chunks go in
groups of ``--group`` (64), the two sides alternating group by group (which side goes first
rotates), so that load from other processes on a shared machine hits both alike. Throughput
is chunks per second over encode + add, summed over the groups (``time.perf_counter``). MRR@10 (mean reciprocal rank of
the question's own answer among the first 10 hits, 0 when absent) is computed for both with
the ``"query: "`` prompt. The figures and their ratio are printed and appended to
``bench/RESULTS.md`` with the command that made them.

Run: ``python bench/bench_index.py`` (about 1-2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_FAQ = ROOT.parent / "shared" / "corpus" / "zaragoza-construction-faq.en.jsonl"
RESULTS = ROOT / "bench" / "RESULTS.md"


def append_results(section: str, path: Path = RESULTS) -> None:
    """Append a Markdown section to ``bench/RESULTS.md`` (re-read under a lock; atomic rewrite)."""
    from oracle.schema import file_lock, write_text_atomic

    with file_lock(path):
        old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
        write_text_atomic(path, old.rstrip("\n") + "\n\n" + section.strip("\n") + "\n")


def command_line() -> str:
    return "python " + " ".join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])


def mrr_at_10(ranked_ids, gold) -> float:
    """Mean over queries of 1/rank of ``gold[i]`` in ``ranked_ids[i]`` (first 10), 0 if absent."""
    total = 0.0
    for ids, want in zip(ranked_ids, gold):
        ids = list(ids)[:10]
        total += 1.0 / (ids.index(want) + 1) if want in ids else 0.0
    return total / len(gold)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faq", type=Path, default=DEFAULT_FAQ, help="JSONL with fields q, a.")
    parser.add_argument("--embedder", default=None, help="Embedder name (default: config.DEFAULT_EMBEDDER).")
    parser.add_argument("--limit", type=int, default=0, help="Use only the first N pairs (0 = all).")
    parser.add_argument("--batch-size", type=int, default=32, help="Texts per forward pass, both sides.")
    parser.add_argument("--group", type=int, default=64, help="Chunks per timed step (sides alternate).")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default).")
    parser.add_argument("--no-write", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    import faiss
    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from sentence_transformers import SentenceTransformer

    from oracle.config import DEFAULT_EMBEDDER
    from oracle.index import VectorIndex
    from oracle.models import embedder_prompts, load_embedder, resolve_embedder
    from oracle.schema import Chunk

    name = args.embedder or DEFAULT_EMBEDDER
    load_start = os.getloadavg()[0]
    rows = [json.loads(line) for line in args.faq.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.limit:
        rows = rows[: args.limit]
    questions = [r["q"] for r in rows]
    answers = [r["a"] for r in rows]
    chunks = [
        Chunk(chunk_id=f"faq:{i}", doc_id="faq", doc_name=args.faq.name, text=a, page_start=1, page_end=1,
              char_start=0, char_end=len(a))
        for i, a in enumerate(answers)
    ]  # fmt: skip
    prompts = embedder_prompts(name)
    q_prompt, d_prompt = prompts.get("query", ""), prompts.get("document", "")
    warm = answers[:8]

    model = load_embedder(name)
    ours_dtype = str(next(model.parameters()).dtype).replace("torch.", "")
    index = VectorIndex.create(name, name="bench", model=model)
    raw = SentenceTransformer(resolve_embedder(name), device="cpu")
    raw.to(torch.float32)
    flat = faiss.IndexFlatIP(index.dim)
    index.embed_documents(warm)
    raw.encode([d_prompt + a for a in warm], normalize_embeddings=True)

    def ours_add(group: list) -> None:  # our pipeline
        index.add(group, batch_size=args.batch_size)

    def raw_add(group: list) -> None:  # what a user of the raw libraries writes
        vectors = raw.encode(
            [d_prompt + c.text for c in group],
            batch_size=args.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        flat.add(np.asarray(vectors, dtype="float32"))

    # Interleave the two sides group by group (rotating which goes first), so load from
    # other processes on this shared machine hits both alike; sum the times.
    ours_s = raw_s = 0.0
    for g, start in enumerate(range(0, len(chunks), args.group)):
        group = chunks[start : start + args.group]
        for side in ("ours", "raw") if g % 2 == 0 else ("raw", "ours"):
            t0 = time.perf_counter()
            (ours_add if side == "ours" else raw_add)(group)
            if side == "ours":
                ours_s += time.perf_counter() - t0
            else:
                raw_s += time.perf_counter() - t0
    assert len(index) == flat.ntotal == len(chunks)

    id_of = {c.chunk_id: i for i, c in enumerate(chunks)}
    ours_hits = index.search_batch(questions, top_k=10)
    ours_ranked = [[id_of[h.chunk.chunk_id] for h in hits] for hits in ours_hits]
    q_vectors = raw.encode(
        [q_prompt + q for q in questions], batch_size=args.batch_size, normalize_embeddings=True
    )
    _, raw_ranked = flat.search(np.asarray(q_vectors, dtype="float32"), 10)

    gold = list(range(len(rows)))
    n = len(chunks)
    ours_rate, raw_rate = n / ours_s, n / raw_s
    ours_mrr, raw_mrr = mrr_at_10(ours_ranked, gold), mrr_at_10(raw_ranked.tolist(), gold)
    speedup = ours_rate / raw_rate
    lines = [
        f"chunks: {n} ({args.faq.name}), embedder {name}, batch size {args.batch_size}, torch threads {torch.get_num_threads()}",
        f"ours (VectorIndex.add, {ours_dtype}): {ours_rate:.1f} chunks/s ({ours_s:.1f} s), MRR@10 {ours_mrr:.4f}",
        f"raw  (SentenceTransformer.encode fp32 + IndexFlatIP.add): {raw_rate:.1f} chunks/s ({raw_s:.1f} s), MRR@10 {raw_mrr:.4f}",
        f"speed ratio ours/raw: {speedup:.2f}x (target >= 2x)",
        f"MRR@10 difference ours - raw: {ours_mrr - raw_mrr:+.4f} (target within 0.01)",
    ]  # fmt: skip
    print("\n".join(lines))
    if not args.no_write:
        date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        append_results(
            f"## Indexing throughput and MRR@10: Zaragoza FAQ ({date})\n\n"
            f"Command: `{command_line()}`  \nMachine: {cpu_name()}, {os.cpu_count()} cores (shared), "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads; load average {load_start:.1f} at start, "
            f"{os.getloadavg()[0]:.1f} at end\n\n"
            "| | chunks/s | seconds | MRR@10 |\n|---|---:|---:|---:|\n"
            f"| ours: `VectorIndex.add` ({ours_dtype}) | {ours_rate:.1f} | {ours_s:.1f} | {ours_mrr:.4f} |\n"
            f"| raw: `SentenceTransformer.encode` fp32 + `IndexFlatIP.add` | {raw_rate:.1f} | {raw_s:.1f} | {raw_mrr:.4f} |\n\n"
            f"Ratio ours/raw: **{speedup:.2f}x** chunks/s (target >= 2x); "
            f"MRR@10 difference **{ours_mrr - raw_mrr:+.4f}** (target within 0.01). "
            f"{n} answers as chunks, {len(questions)} questions, e5 prompts on both sides, "
            f"batch size {args.batch_size}, groups of {args.group} chunks with the sides alternating; "
            "model loading and a warm-up excluded.\n"
        )  # fmt: skip


if __name__ == "__main__":
    main()
