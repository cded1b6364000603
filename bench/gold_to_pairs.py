"""Gold sets as approved QA pairs: a person's questions and answers, as ratings with corrections
would bring them, for a LoRA run on data a person wrote (bench/RESULTS.md, session 28).

Each answerable gold question becomes one :class:`oracle.schema.QAPair` (``status: approved``,
``generator: gold``, the reference as its answer) on the chunk of the workspace's index that is
relevant to it (:meth:`oracle.gold_eval.GoldItem.relevant`: gold page or evidence) and holds the
most of its key facts; a question with no chunk holding every key fact is left out and counted.

    python bench/gold_to_pairs.py --workspace WS --gold bench/gold/debian-edu.pt.jsonl \\
        --gold bench/gold/focalinux.pt.jsonl --gold bench/gold/ubuntu-packaging.pt.jsonl
    ORACLE_HOME=WS python -m oracle train lora --qa-file WS/data_qa/gold.qa.jsonl --no-ratings

``WS`` is a workspace whose default index holds the gold sets' documents (a copy of the one
``oracle eval`` builds under ``eval/cache/``).

With ``--unanswerable-ratings``, each unanswerable gold question that the chat would put to the
model (its hits pass the relevance gate and the lexical gate, :func:`oracle.rag.stream_answer`'s
order) also becomes a 👎 rating in ``data_qa/invalid.jsonl`` whose correction is the chat's
not-found sentence and whose ``retrieved_chunk_ids`` are the chat's top-k hits: what a person
correcting an invented answer with "the documents do not say" would leave. ``train lora --ratings``
then trains on those chunks with that target (bench/RESULTS.md, session 32).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, required=True, help="Workspace with the documents indexed.")
    parser.add_argument("--gold", action="append", type=Path, required=True)
    parser.add_argument("--out", default="gold.qa.jsonl", help="File name under the workspace's data_qa/.")
    parser.add_argument("--unanswerable-ratings", action="store_true",
                        help="Also record unanswerable questions the chat would put to the model "
                             "as 👎 ratings corrected to the not-found sentence.")
    args = parser.parse_args()

    from oracle.config import Workspace
    from oracle.gold_eval import load_gold
    from oracle.grounding import keyfact_scores
    from oracle.index import load_index
    from oracle.schema import QAPair, write_jsonl_atomic

    workspace = Workspace(args.workspace)
    index = load_index(workspace)
    chunks = index.chunks
    rows, left_out = [], 0
    for gold in args.gold:
        for item in load_gold(gold):
            if not item.answerable:
                continue
            relevant = [c for c in chunks if c.doc_name == item.doc and item.relevant(c)]
            best = max(relevant, default=None,
                       key=lambda c: (keyfact_scores(c.text, item.keyfacts)[1], -len(c.text)))
            if best is None or not keyfact_scores(best.text, item.keyfacts)[0]:
                left_out += 1
                continue
            rows.append(QAPair(question=item.question, answer=item.reference, doc_id=best.doc_id,
                               doc_name=best.doc_name, chunk_id=best.chunk_id, page=best.page_start,
                               language="pt", generator="gold", status="approved").to_dict())
    out = Path(workspace.home) / "data_qa" / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(out, rows)
    print(f"{len(rows)} pairs written to {out}; {left_out} questions without a chunk holding every key fact")
    if args.unanswerable_ratings:
        _unanswerable_ratings(workspace, index, args.gold)


def _unanswerable_ratings(workspace, index, golds: list[Path]) -> None:
    """Record the gold sets' unanswerable questions that reach the model as corrected 👎 ratings."""
    from oracle import rag
    from oracle.feedback import load_ratings, record_rating
    from oracle.gold_eval import load_gold
    from oracle.schema import Rating

    cfg = rag.RAGConfig()
    gate = rag.relevance_gate(index, cfg)
    # a rerun records none twice
    done = {r.question for r in load_ratings(workspace, valid=False) if r.user == "gold"}
    recorded = gated = 0
    for gold in golds:
        for item in load_gold(gold):
            if item.answerable or item.question in done:
                continue
            hits = rag.retrieve(index, item.question, cfg)
            if not hits or max(h.score for h in hits) < gate \
                    or rag.lexical_coverage(index, item.question, hits) < cfg.min_coverage:
                gated += 1  # the chat answers "not found" without the model: nothing to correct
                continue
            record_rating(Rating(question=item.question, answer="", valid=False, user="gold",
                                 corrected_answer=rag.not_found_sentence("pt"),
                                 retrieved_chunk_ids=[h.chunk.chunk_id for h in hits]), workspace)
            recorded += 1
    print(f"{recorded} unanswerable questions recorded as corrected ratings; "
          f"{gated} refused by the chat's gates")


if __name__ == "__main__":
    main()
