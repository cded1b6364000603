"""Query expansion by the generator (query2doc / HyDE), measured on retrieval alone.

For every answerable gold question the bundled default generator (the chat's, greedy) first writes
a short guess at the answer "as a technical manual would put it", with the likely command, file
and option names; the guess is then added to the query, as in query2doc (Wang et al. 2023,
"Query2doc: Query Expansion with Large Language Models") and HyDE (Gao et al. 2022, "Precise
Zero-Shot Dense Retrieval without Relevance Labels"). Three rankings of the same index, as the
chat ranks (hybrid: dense + BM25 fusion, :meth:`oracle.index.VectorIndex.search_vectors`):

* ``question``: the question alone (what the chat does);
* ``bm25+guess``: the dense side embeds the question, BM25 reads the question and the guess;
* ``both+guess``: both sides read the question and the guess.

Printed for each: hit@5 (a relevant chunk, :meth:`oracle.gold_eval.GoldItem.relevant`, among the
first 5), facts@4 (the first 4 chunks, the chat's top-k, hold every key fact:
:func:`oracle.grounding.keyfact_scores`), and the guess's time in seconds (p50), which a chat
answer would pay before retrieval.

    python bench/bench_query_expansion.py --gold bench/gold/debian-edu.pt.jsonl \\
        --gold bench/gold/focalinux.pt.jsonl --gold bench/gold/ubuntu-packaging.pt.jsonl \\
        --docs ../shared/corpus --limit 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GUESS_PROMPT = (
    "Escreva, em uma ou duas frases curtas, como um manual técnico em português responderia a esta "
    "pergunta, com os nomes de comandos, arquivos, opções e termos técnicos prováveis. "
    "Não explique.\nPergunta: {question}"
)
GUESS_TOKENS = 48


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", action="append", type=Path, required=True)
    parser.add_argument("--docs", action="append", type=Path, default=[])
    parser.add_argument("--limit", type=int, default=0,
                        help="Answerable questions per gold file, evenly spaced as `oracle eval --limit` "
                             "picks them (0: all).")
    parser.add_argument("--home", type=Path, default=Path("/tmp/oracle-eval"),
                        help="Workspace whose eval/ cache holds the index (the one `oracle eval` builds).")
    args = parser.parse_args()

    from oracle.config import DEFAULT_EMBEDDER, DEFAULT_GENERATOR, ChunkingConfig, Workspace
    from oracle.gold_eval import eval_workspace, find_documents, load_gold, prepare_index, spread
    from oracle.grounding import keyfact_scores
    from oracle.llm import get_generator

    items = []
    for gold in args.gold:
        answerable = [i for i in load_gold(gold) if i.answerable]
        items += spread(answerable, args.limit) if args.limit else answerable
    files = find_documents(items, [g.parent for g in args.gold] + args.docs)
    chunking = ChunkingConfig()
    ews = eval_workspace(Workspace(args.home).home / "eval" / "cache", files, DEFAULT_EMBEDDER, chunking)
    index = prepare_index(files, ews, DEFAULT_EMBEDDER, chunking)
    generator = get_generator(DEFAULT_GENERATOR)
    generator.generate([{"role": "user", "content": "Olá"}], max_new_tokens=2)  # load before timing

    seconds, tallies = [], {"question": [0, 0], "bm25+guess": [0, 0], "both+guess": [0, 0]}
    for item in items:
        start = time.perf_counter()
        guess = generator.generate([{"role": "user", "content": GUESS_PROMPT.format(question=item.question)}],
                                   max_new_tokens=GUESS_TOKENS)
        seconds.append(time.perf_counter() - start)
        expanded = f"{item.question} {guess}"
        vectors = index.embed_queries([item.question, expanded])  # [2, dim]
        rankings = {
            "question": index.search_vectors(vectors[:1], 5, queries=[item.question])[0],
            "bm25+guess": index.search_vectors(vectors[:1], 5, queries=[expanded])[0],
            "both+guess": index.search_vectors(vectors[1:], 5, queries=[expanded])[0],
        }
        for name, hits in rankings.items():
            tallies[name][0] += any(item.relevant(h.chunk) for h in hits[:5])
            tallies[name][1] += keyfact_scores(" ".join(h.chunk.text for h in hits[:4]), item.keyfacts)[0]
    n = len(items)
    print(f"{n} answerable questions, {len(index)} chunks; guess by {DEFAULT_GENERATOR}, "
          f"p50 {statistics.median(seconds):.2f} s")
    print("| query | hit@5 | facts@4 |")
    print("|---|---|---|")
    for name, (hit, facts) in tallies.items():
        print(f"| {name} | {hit / n:.3f} | {facts / n:.3f} |")


if __name__ == "__main__":
    main()
