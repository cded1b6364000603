"""Query latency over >= 10,000 chunks: ``oracle.rag.retrieve`` against the raw libraries.

The Portuguese documents of ``../shared/corpus`` (Debian Edu manual, Debian Reference, Ubuntu
Packaging Guide, Foca Linux) are ingested and chunked with Oráculo's own pipeline (default
ChunkingConfig: 256 tokens, overlap 32; about 2,100 chunks). Embedding all of them, and then
10,000, would take many minutes on 2 shared cores, and what is measured is the latency of one
query, not the vectors' content; so ``--embed`` chunks (default 512, evenly spread over the
corpus) are embedded for real with the default embedder, and the index is filled to
``--total`` chunks (default 10,240) with copies of those chunks whose vectors get small
Gaussian noise (sigma 0.01 per dimension, then renormalised). Both sides search exactly the
same vectors.

Per query (``time.perf_counter``, milliseconds):

* ours: ``retrieve(index, question, RAGConfig())``: e5 ``"query: "`` prompt, encode with the
  model :func:`oracle.models.load_embedder` gives (bf16 here), normalise, search
  ``IndexIDMap2(IndexFlatIP)`` for the top 4, build :class:`oracle.schema.Hit` objects;
* raw: ``model.encode(["query: " + q], normalize_embeddings=True)`` with the SAME model object
  + ``faiss.IndexFlatIP.search`` (k=4) on a plain index with the same vectors: the overhead
  of our code, the ratio the target is about;
* raw fp32 (context): the same with a separate fp32 copy of the model, what a user who loads
  ``SentenceTransformer(path)`` without choosing a dtype gets.

Queries are word windows (8-14 words) from random chunks (seed 0), ``--queries`` of them
(default 200), after 10 warm-up queries; the three sides run interleaved, cycling through
all six orders, so load from other processes and cache effects hit them alike. p50 and p95 are printed with their ratios and
appended to ``bench/RESULTS.md``.

Run: ``python bench/bench_query.py`` (about 2-4 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CORPUS = ROOT.parent / "shared" / "corpus"
PT_FILES = [
    "debian-edu-bookworm-manual.pt-br.pdf",
    "debian-reference.pt-br.pdf",
    "ubuntu-packaging-guide.pt-br.pdf",
    "focalinux-iniciante.latin1.txt",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="Folder with the Portuguese documents.")
    parser.add_argument("--embedder", default=None, help="Embedder name (default: config.DEFAULT_EMBEDDER).")
    parser.add_argument("--embed", type=int, default=512, help="Chunks embedded for real.")
    parser.add_argument("--total", type=int, default=10_240, help="Chunks in the index (>= 10,000).")
    parser.add_argument("--queries", type=int, default=200, help="Timed queries (>= 100).")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default).")
    parser.add_argument("--no-write", action="store_true", help="Do not append to bench/RESULTS.md.")
    args = parser.parse_args()

    import faiss
    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from bench_index import append_results, command_line, cpu_name
    from sentence_transformers import SentenceTransformer

    from oracle.chunking import chunk_documents
    from oracle.config import DEFAULT_EMBEDDER, ChunkingConfig, RAGConfig
    from oracle.index import VectorIndex
    from oracle.ingest import ingest_file
    from oracle.models import embedder_prompts, load_embedder, resolve_embedder
    from oracle.rag import retrieve

    name = args.embedder or DEFAULT_EMBEDDER
    load_start = os.getloadavg()[0]
    cfg = RAGConfig()
    rng = random.Random(0)

    # --- corpus -> chunks (our pipeline) ---------------------------------------------
    t0 = time.perf_counter()
    docs = [ingest_file(args.corpus / f) for f in PT_FILES if (args.corpus / f).exists()]
    chunks = chunk_documents(docs, ChunkingConfig())
    print(f"{len(docs)} documents -> {len(chunks)} chunks in {time.perf_counter() - t0:.1f} s")
    step = max(1, len(chunks) // args.embed)
    real = chunks[::step][: args.embed]

    # --- vectors: embed `real`, fill to `total` with noisy copies ------------------------
    model = load_embedder(name)
    dtype = str(next(model.parameters()).dtype).replace("torch.", "")
    index = VectorIndex.create(name, name="bench-query", model=model)
    t0 = time.perf_counter()
    base = index.embed_documents([c.text for c in real])  # [n_real, dim]
    print(f"embedded {len(real)} chunks in {time.perf_counter() - t0:.1f} s ({dtype})")
    all_chunks, all_vectors = list(real), [base]
    np_rng = np.random.default_rng(0)
    copy = 0
    while len(all_chunks) < args.total:
        copy += 1
        take = min(len(real), args.total - len(all_chunks))
        noisy = base[:take] + np_rng.normal(0.0, 0.01, size=base[:take].shape).astype("float32")
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        all_vectors.append(noisy)
        for c in real[:take]:
            all_chunks.append(c.__class__.from_dict({**c.to_dict(), "chunk_id": f"{c.chunk_id}#copy{copy}"}))
    vectors = np.ascontiguousarray(np.concatenate(all_vectors).astype("float32"))  # [total, dim]
    index.add_embeddings(all_chunks, vectors)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    n_chunks = len(index)
    assert n_chunks == flat.ntotal == args.total

    raw32 = SentenceTransformer(resolve_embedder(name), device="cpu")
    raw32.to(torch.float32)
    q_prompt = embedder_prompts(name).get("query", "")

    # --- queries ---------------------------------------------------------------------
    queries = []
    while len(queries) < args.queries + 10:
        words = rng.choice(chunks).text.split()
        if len(words) < 16:
            continue
        size = rng.randint(8, 14)
        start = rng.randint(0, len(words) - size)
        queries.append(" ".join(words[start : start + size]))

    def ours(q: str):
        return retrieve(index, q, cfg)

    def raw_same(q: str):
        v = model.encode([q_prompt + q], normalize_embeddings=True, convert_to_numpy=True)
        return flat.search(np.asarray(v, dtype="float32"), cfg.top_k)

    def raw_fp32(q: str):
        v = raw32.encode([q_prompt + q], normalize_embeddings=True, convert_to_numpy=True)
        return flat.search(np.asarray(v, dtype="float32"), cfg.top_k)

    sides = {"ours": ours, "raw": raw_same, "raw_fp32": raw_fp32}
    times: dict[str, list[float]] = {k: [] for k in sides}
    orders = list(itertools.permutations(sides))
    agree = 0
    for i, q in enumerate(queries):
        # All 6 orders in turn: each side follows each other side equally often (a fixed
        # rotation would always run ours right after the fp32 model, with a cold cache).
        order = orders[i % len(orders)]
        results = {}
        for key in order:
            t0 = time.perf_counter()
            results[key] = sides[key](q)
            elapsed = (time.perf_counter() - t0) * 1000.0
            if i >= 10:
                times[key].append(elapsed)
        if i >= 10:
            ours_ids = [index._ids[h.chunk.chunk_id] for h in results["ours"]]
            agree += ours_ids[:1] == results["raw"][1][0][:1].tolist()

    stats = {k: (float(np.percentile(v, 50)), float(np.percentile(v, 95))) for k, v in times.items()}
    r50, r95 = stats["ours"][0] / stats["raw"][0], stats["ours"][1] / stats["raw"][1]
    f50, f95 = stats["ours"][0] / stats["raw_fp32"][0], stats["ours"][1] / stats["raw_fp32"][1]
    n_q = len(times["ours"])
    lines = [
        (
            f"index: {n_chunks} chunks ({len(real)} embedded, the rest noisy copies), dim {vectors.shape[1]}, "
            f"{n_q} queries, top_k {cfg.top_k}, torch threads {torch.get_num_threads()}"
        ),
        f"ours  retrieve ({dtype}):           p50 {stats['ours'][0]:.1f} ms  p95 {stats['ours'][1]:.1f} ms",
        f"raw   encode+search (same model):  p50 {stats['raw'][0]:.1f} ms  p95 {stats['raw'][1]:.1f} ms",
        f"raw   encode+search (fp32 model):  p50 {stats['raw_fp32'][0]:.1f} ms  p95 {stats['raw_fp32'][1]:.1f} ms",
        f"ratio ours/raw same model: p50 {r50:.2f}x  p95 {r95:.2f}x (target <= 1.2x)",
        f"ratio ours/raw fp32:       p50 {f50:.2f}x  p95 {f95:.2f}x",
        f"top-1 agreement ours vs raw (same model): {agree}/{n_q}",
    ]
    print("\n".join(lines))
    if not args.no_write:
        date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        append_results(
            f"## Query latency over {n_chunks} chunks ({date})\n\n"
            f"Command: `{command_line()}`  \nMachine: {cpu_name()}, {os.cpu_count()} cores (shared), "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads; load average {load_start:.1f} at start, "
            f"{os.getloadavg()[0]:.1f} at end\n\n"
            "| per query (ms) | p50 | p95 |\n|---|---:|---:|\n"
            f"| ours: `rag.retrieve` ({dtype}) | {stats['ours'][0]:.1f} | {stats['ours'][1]:.1f} |\n"
            f"| raw: `model.encode` + `IndexFlatIP.search`, same model | {stats['raw'][0]:.1f} | {stats['raw'][1]:.1f} |\n"
            f"| raw: `model.encode` + `IndexFlatIP.search`, fp32 model | {stats['raw_fp32'][0]:.1f} | {stats['raw_fp32'][1]:.1f} |\n\n"
            f"Ratio ours/raw (same model): **p50 {r50:.2f}x, p95 {r95:.2f}x** (target <= 1.2x); "
            f"against the fp32 model: p50 {f50:.2f}x, p95 {f95:.2f}x. "
            f"{len(docs)} Portuguese documents chunked by Oráculo ({len(chunks)} chunks); {len(real)} embedded, "
            f"filled to {n_chunks} with noisy copies (sigma 0.01, renormalised); {n_q} queries (8-14-word windows "
            f"of random chunks) after 10 warm-up, sides interleaved in all 6 orders; top-1 agreement {agree}/{n_q}.\n"
        )  # fmt: skip


if __name__ == "__main__":
    main()
