"""End-to-end fine-tuning on one real PDF, on this CPU, with the bundled models.

Steps (each resumable: rerun the same command to continue):

1. ingest the PDF, build the index with the default embedder (multilingual-e5-small);
2. generate about ``--pairs`` QA pairs with the bundled Qwen model from chunks spread over
   the whole document (every n-th chunk);
3. embedding fine-tune (job ``embedding``): hit@1/5/10, MRR@10, nDCG@10 on the held-out
   questions before and after;
4. generator: held-out answers through RAG chat (base index) scored with token F1 and
   ROUGE-L with the base model, then a LoRA run (job ``lora``, as the app starts it, wall
   time measured), then the same questions with the adapter.

Usage::

    python bench/finetune_pdf.py --pdf ../shared/corpus/debian-edu-bookworm-manual.pt-br.pdf \\
        --home /tmp/oracle-ft --pairs 100

Writes ``<home>/finetune_report.json`` and appends a section to ``bench/RESULTS.md``
(unless ``--no-write``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--pdf", default=str(ROOT.parent / "shared/corpus/debian-edu-bookworm-manual.pt-br.pdf")
    )
    parser.add_argument("--home", default="/tmp/oracle-ft", help="workspace (ORACLE_HOME) of the run")
    parser.add_argument("--pairs", type=int, default=100, help="QA pairs to reach (2 asked per chunk)")
    parser.add_argument("--qa-batch", type=int, default=8, help="chunks per QA batch (resumable)")
    parser.add_argument(
        "--adapter",
        help="score this adapter folder (e.g. one trained from the app) instead of submitting the LoRA job",
    )
    parser.add_argument("--generator", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--eval-fraction", type=float, default=0.15)
    parser.add_argument("--lora-epochs", type=float, default=1.0)
    parser.add_argument("--k-distractors", type=int, default=2, help="RAFT distractors of the LoRA run")
    parser.add_argument("--max-seq-len", type=int, default=1024, help="LoRA example length cap (tokens)")
    parser.add_argument("--skip-embedding", action="store_true")
    parser.add_argument(
        "--no-lora", action="store_true",
        help="stop before the LoRA job (train it from the app: bench/app_finetune.py), then rerun with --adapter",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    os.environ["ORACLE_HOME"] = args.home

    from oracle import jobs
    from oracle.config import QAConfig, Workspace
    from oracle.evaluation import evaluate_generator
    from oracle.index import build_index, load_index
    from oracle.ingest import ingest_file, list_documents
    from oracle.llm import get_generator
    from oracle.qa_generation import generate_qa
    from oracle.training.data import load_examples, split_examples
    from oracle.training.embedding import EmbedTrainConfig, evaluate_embedder
    from oracle.training.lora import LoraTrainConfig
    from oracle.training.specs import EmbeddingJob, LoraJob

    ws = Workspace(args.home)
    report_path = ws.home / "finetune_report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    if report.get("pairs_asked") != args.pairs:  # a bigger run: QA resumes (done chunks skipped), the rest reruns
        report = {"pairs_asked": args.pairs, "qa": report.get("qa", {"seconds": 0.0, "chunks": 0, "invalid": 0})}

    def save() -> None:
        report_path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))

    t0 = time.perf_counter()
    docs = list_documents(ws)
    doc = docs[0] if docs else ingest_file(args.pdf, ws)
    index = build_index([doc], ws)
    report["document"] = {"name": doc.name, "pages": len(doc.pages), "chunks": len(index)}
    log(
        f"document {doc.name}: {len(doc.pages)} pages, {len(index)} chunks ({time.perf_counter() - t0:.0f} s)"
    )

    # 2. QA pairs from chunks spread over the whole document, in batches until --pairs is reached
    chunks = [c for c in index.chunks if c.doc_id == doc.doc_id]
    qa = report.setdefault("qa", {"seconds": 0.0, "chunks": 0, "invalid": 0})
    qa.setdefault("pairs_at_start", len(load_examples(ws, use_ratings=False).examples))

    def n_pairs() -> int:
        return len(load_examples(ws, use_ratings=False).examples)

    gen = None
    while n_pairs() < args.pairs:
        gen = gen or get_generator(f"local:{args.generator}")
        batch = max(2, min(args.qa_batch, round((args.pairs - n_pairs()) / 1.4)))
        t = time.perf_counter()
        rep = generate_qa(
            doc, gen, ws, QAConfig(pairs_per_chunk=2), chunks=chunks, max_chunks=batch,
            progress=lambda d, n, m: None,
        )
        qa["seconds"] = round(qa["seconds"] + time.perf_counter() - t, 1)
        qa["chunks"] += rep.n_done
        qa["invalid"] += rep.n_invalid
        qa["pairs"] = n_pairs()
        save()
        log(f"qa: +{len(rep.pairs)} pairs from {rep.n_done} chunks, {qa['pairs']} in all ({qa['seconds']:.0f} s)")
        if rep.n_done == 0:
            break  # every eligible chunk is done
    qa["pairs"] = n_pairs()
    log(f"qa: {report['qa']}")
    src = load_examples(ws)
    train, held = split_examples(src.examples, args.eval_fraction)
    report["split"] = {"train": len(train), "held_out": len(held)}
    log(f"split: {report['split']}")

    # 3. embedding fine-tune
    if not args.skip_embedding and "embedding" not in report:
        base = evaluate_embedder(ws, load_index(ws).embedder, eval_fraction=args.eval_fraction)
        st = jobs.submit(
            ws,
            EmbeddingJob(
                name="pdf-embedder",
                index_name="default",
                config=EmbedTrainConfig(eval_fraction=args.eval_fraction, epochs=3),
            ),
        )
        t = time.perf_counter()
        done = jobs.wait(ws, st.job_id, 3 * 3600, poll_s=5)
        report["embedding"] = {
            "state": done.state,
            "wall_s": round(time.perf_counter() - t, 1),
            "before_evaluate_embedder": base,
            **done.result.get("metrics", {}),
        }
        save()
    log(f"embedding: {report.get('embedding')}")

    # 4. generator before / LoRA / after (base index for both, to isolate the generator)
    index = load_index(ws)
    if "generator_before" not in report:
        res = evaluate_generator(
            held,
            index,
            get_generator(f"local:{args.generator}"),
            progress=lambda d, n, q: log(f"before {d}/{n}"),
        )
        report["generator_before"] = res
        save()
    if args.adapter and report.get("lora", {}).get("adapter_dir") != str(Path(args.adapter).resolve()):
        from oracle.training.card import RunCard

        meta = RunCard.load(args.adapter).to_dict()
        report["lora"] = {"state": "given (--adapter)", "adapter_dir": str(Path(args.adapter).resolve()), **meta}
        report.pop("generator_after", None)
        save()
    if "lora" not in report and args.no_lora:
        log("--no-lora: stopping before the LoRA run")
        return 0
    if "lora" not in report:
        st = jobs.submit(
            ws,
            LoraJob(
                base_model=args.generator,
                name="pdf-lora",
                index_name="default",
                config=LoraTrainConfig(
                    eval_fraction=args.eval_fraction,
                    epochs=args.lora_epochs,
                    k_distractors=args.k_distractors,
                    max_seq_len=args.max_seq_len,
                ),
            ),
        )
        t = time.perf_counter()
        done = jobs.wait(ws, st.job_id, 3 * 3600, poll_s=5)
        report["lora"] = {
            "state": done.state,
            "wall_s_from_submit": round(time.perf_counter() - t, 1),
            **done.result,
        }
        save()
    log(f"lora: {report['lora'].get('state')} {report['lora'].get('wall_s_from_submit')} s")
    if "generator_after" not in report and report["lora"].get("adapter_dir"):
        res = evaluate_generator(
            held,
            index,
            get_generator(f"local:{args.generator}", adapter=report["lora"]["adapter_dir"]),
            progress=lambda d, n, q: log(f"after {d}/{n}"),
        )
        report["generator_after"] = res
        save()

    def brief(r):
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in (r or {}).items() if k != "rows"}

    summary = {
        "document": report["document"],
        "qa": report["qa"],
        "split": report["split"],
        "embedding": {
            k: report.get("embedding", {}).get(k) for k in ("before", "after", "wall_s", "n_pairs")
        },
        "generator_before": brief(report.get("generator_before")),
        "generator_after": brief(report.get("generator_after")),
        "lora": {
            k: report["lora"].get(k)
            for k in ("state", "wall_s_from_submit", "wall_time_s", "metrics", "cost")
        },
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    if not args.no_write:
        cmd = "python bench/finetune_pdf.py" + "".join(f" {a}" for a in sys.argv[1:])
        date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            "",
            f"## Fine-tuning on one real PDF, CPU, bundled models ({date})",
            "",
            f"Command: `{cmd}`",
            "",
            "```json",
            json.dumps(summary, indent=2, ensure_ascii=False, default=str),
            "```",
            "",
        ]
        with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as f:
            f.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
