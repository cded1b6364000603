"""Relevance-gate signals on the gold sets: how well each retrieval-side signal separates
answerable from unanswerable questions, before any generation.

For every gold question it retrieves the top-k chunks (as chat does) and records the best
cosine (the embedder gate), the lexical coverage of the question by the hits
(:func:`oracle.rag.lexical_coverage`, IDF-weighted), and the share of the question's content
words that occur nowhere in the indexed documents. It then prints, for a grid of thresholds,
the abstention on unanswerable questions and the over-abstention on answerable ones, so that
the gate's defaults are chosen on all gold sets together, never on one question.

    python bench/bench_gate.py --gold bench/gold/debian-edu.pt.jsonl --gold bench/gold/focalinux.pt.jsonl \\
        --gold bench/gold/ubuntu-packaging.pt.jsonl --docs ../shared/corpus
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", action="append", type=Path, required=True)
    parser.add_argument("--docs", action="append", type=Path, default=[])
    parser.add_argument("--home", type=Path, default=Path("/tmp/oracle-eval"))
    parser.add_argument("--top-k", type=int, default=4)
    parser.add_argument("--hybrid", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="Write per-question signals as JSONL here.")
    args = parser.parse_args()

    from oracle.config import DEFAULT_EMBEDDER, ChunkingConfig, Workspace
    from oracle.gold_eval import eval_workspace, find_documents, load_gold, prepare_index
    from oracle.grounding import content_words
    from oracle.rag import lexical_coverage

    items = [i for g in args.gold for i in load_gold(g)]
    files = find_documents(items, [g.parent for g in args.gold] + args.docs)
    ws = Workspace(args.home)
    ews = eval_workspace(ws.home / "eval" / "cache", files, DEFAULT_EMBEDDER, ChunkingConfig())
    index = prepare_index(files, ews, DEFAULT_EMBEDDER, ChunkingConfig())
    vocabulary: set[str] = set()
    for chunk in index.chunks:
        vocabulary |= content_words(chunk.text)
    results = index.search_batch([i.question for i in items], top_k=args.top_k, hybrid=args.hybrid)
    rows = []
    for item, hits in zip(items, results):
        words = content_words(item.question)
        rows.append({
            "id": item.id,
            "answerable": item.answerable,
            "cosine": max((h.score for h in hits), default=0.0),
            "coverage": lexical_coverage(index, item.question, hits),
            "oov": (sum(1 for w in words if w not in vocabulary) / len(words)) if words else 0.0,
            "gold_in_hits": any(item.relevant(h.chunk) for h in hits),
        })
    if args.out:
        args.out.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    print(f"{len(ans)} answerable, {len(una)} unanswerable; gold in top-{args.top_k}: "
          f"{sum(r['gold_in_hits'] for r in ans) / len(ans):.2f}")
    for key in ("cosine", "coverage", "oov"):
        def mean(rs):
            return sum(r[key] for r in rs) / len(rs) if rs else 0.0
        print(f"{key:9s} mean answerable {mean(ans):.3f}  unanswerable {mean(una):.3f}")
    print("\nthreshold on coverage: abstention (unanswerable) / over-abstention (answerable)")
    for cut in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        a = sum(r["coverage"] < cut for r in una) / len(una)
        o = sum(r["coverage"] < cut for r in ans) / len(ans)
        print(f"  coverage < {cut:.1f}: {a:.0%} / {o:.0%}")
    print("\nthreshold on out-of-corpus words: abstention / over-abstention")
    for cut in (0.01, 0.2, 0.34, 0.5):
        a = sum(r["oov"] >= cut for r in una) / len(una)
        o = sum(r["oov"] >= cut for r in ans) / len(ans)
        print(f"  oov >= {cut:.2f}: {a:.0%} / {o:.0%}")


if __name__ == "__main__":
    main()
