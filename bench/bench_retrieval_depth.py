"""How deep the answer sits in the ranking: hit@k and "key facts in the top k" on the gold sets,
before any generation.

For every answerable gold question it retrieves the top 50 chunks as chat ranks them (hybrid:
dense + BM25 fusion, :meth:`oracle.index.VectorIndex.search_batch`) and prints, for k in
1, 2, 3, 4, 5, 6, 10, 20, 50:

* hit@k: the share of questions with a relevant chunk (gold page or evidence,
  :meth:`oracle.gold_eval.GoldItem.relevant`) among the first k;
* facts@k: the share whose first k chunks, read together, hold every key fact
  (:func:`oracle.grounding.keyfact_scores`): an upper bound of the generator's key-fact accuracy
  with top-k = k;
* chars@k: the mean characters of the first k chunks (the prompt grows with it; prefill is most
  of an answer's time on CPU).

It says what a reranker over the top 20 could recover (hit@20 against hit@4) and what a shorter
or longer context costs in facts, so that top-k is chosen on all gold sets together.

    python bench/bench_retrieval_depth.py --gold bench/gold/debian-edu.pt.jsonl \\
        --gold bench/gold/focalinux.pt.jsonl --gold bench/gold/ubuntu-packaging.pt.jsonl --docs ../shared/corpus
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEPTHS = (1, 2, 3, 4, 5, 6, 10, 20, 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", action="append", type=Path, required=True)
    parser.add_argument("--docs", action="append", type=Path, default=[])
    parser.add_argument("--home", type=Path, default=Path("/tmp/oracle-eval"),
                        help="Workspace whose eval/ cache holds the index (the one `oracle eval` builds).")
    parser.add_argument("--dense", action="store_true", help="Dense retrieval only (default: hybrid, as chat).")
    parser.add_argument("--chunk-size", type=int, default=None, help="Chunk size in tokens (default: the chat's).")
    parser.add_argument("--chunk-overlap", type=int, default=None, help="Chunk overlap in tokens (default: the chat's).")
    args = parser.parse_args()

    from oracle.config import DEFAULT_EMBEDDER, ChunkingConfig, Workspace
    from oracle.gold_eval import eval_workspace, find_documents, load_gold, prepare_index
    from oracle.grounding import keyfact_scores

    items = [i for g in args.gold for i in load_gold(g) if i.answerable]
    files = find_documents(items, [g.parent for g in args.gold] + args.docs)
    given = {"chunk_size": args.chunk_size, "chunk_overlap": args.chunk_overlap}
    chunking = ChunkingConfig(**{k: v for k, v in given.items() if v is not None})  # validated there
    ews = eval_workspace(Workspace(args.home).home / "eval" / "cache", files, DEFAULT_EMBEDDER, chunking)
    index = prepare_index(files, ews, DEFAULT_EMBEDDER, chunking)
    results = index.search_batch([i.question for i in items], top_k=max(DEPTHS), hybrid=not args.dense)
    n = len(items)
    print(f"{n} answerable questions, {len(index)} chunks of at most {chunking.chunk_size} tokens "
          f"(overlap {chunking.chunk_overlap}), {'dense' if args.dense else 'hybrid'} retrieval")
    print("| k | hit@k | facts@k | chars@k |")
    print("|---|---|---|---|")
    for k in DEPTHS:
        hit = sum(any(item.relevant(h.chunk) for h in hits[:k]) for item, hits in zip(items, results))
        facts = sum(keyfact_scores(" ".join(h.chunk.text for h in hits[:k]), item.keyfacts)[0]
                    for item, hits in zip(items, results))
        chars = sum(sum(len(h.chunk.text) for h in hits[:k]) for hits in results)
        print(f"| {k} | {hit / n:.3f} | {facts / n:.3f} | {chars / n:.0f} |")


if __name__ == "__main__":
    main()
