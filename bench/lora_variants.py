"""Stage 3 of a finished "Melhorar o Oráculo" run again, with other RAFT and training settings: the
same training questions (the run's ``train_pairs.jsonl``), the same retriever (the run's candidate
index when its embedder won, else the chat's), a new adapter under ``adapters/NAME``. Score it
afterwards with ``python -m oracle eval ... --generator <student> --adapter <workspace>/adapters/NAME``
on the run's ``heldout.gold.jsonl`` and your gold set (bench/RESULTS.md, session 11).

    ORACLE_HOME=/tmp/imp10 python bench/lora_variants.py --run 20261202-232944-improve-8d37e4 \\
        --name s11-lora-distill --k-distractors 3 --p-no-gold 0.2 --epochs 1 --distill --no-quote

``--distill`` asks the run's teacher (or ``--teacher``) for its own answers
(:mod:`oracle.improve.distill`); ``--no-quote`` leaves out the ``Trecho: "..."`` line the pipeline
puts at the start of targets (:func:`oracle.improve.stages.add_quotes`); ``--style sentence`` makes
the quote itself the target (:func:`oracle.improve.stages.sentence_target`); ``--supported-only``
leaves out the pairs whose quote does not state the answer (stage 1's ``quote_unsupported``);
``--roundtrip`` leaves out the pairs whose own chunk the chat's retriever does not put in its top-k
for their question; ``--min-answer-words N`` leaves out the pairs whose answer is shorter than N
words; ``--add-pairs FILE`` trains on another run's pairs about the same documents as well (its
``train_pairs.jsonl``; session 31); ``--self-check`` and ``--gold-order`` set
:class:`~oracle.training.lora.LoraTrainConfig`'s options of the same names. Pass
``--max-seq-len 1024`` to match the pipeline's own stage 3.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    from oracle.config import Workspace, default_home
    from oracle.improve.distill import distill_targets
    from oracle.improve.runs import run_dir
    from oracle.improve.config import TARGET_STYLES
    from oracle.improve.stages import SNAPSHOT_FILE, add_quotes, free_models, pair_facts, pair_quotes
    from oracle.index import load_index
    from oracle.llm import get_generator
    from oracle.schema import iter_jsonl, read_json
    from oracle.training.data import GOLD_ORDERS, prepare
    from oracle.training.lora import LoraTrainConfig, train_lora

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, default=None, help="Workspace (default: ORACLE_HOME).")
    ap.add_argument("--run", required=True, help="Run id of a finished improve run.")
    ap.add_argument("--name", required=True, help="Adapter name (folder under adapters/).")
    ap.add_argument("--k-distractors", type=int, default=None)
    ap.add_argument("--p-no-gold", type=float, default=None)
    ap.add_argument("--epochs", type=float, default=None)
    ap.add_argument("--self-check", type=float, default=None,
                    help="Share of examples that also give a self-check example "
                         "(LoraTrainConfig.self_check).")
    ap.add_argument("--gold-order", choices=GOLD_ORDERS, default=None,
                    help="Where the gold chunk goes among the distractors (LoraTrainConfig.gold_order).")
    ap.add_argument("--max-seq-len", type=int, default=1536)
    ap.add_argument("--distill", action="store_true", help="Targets: the teacher's own chat answers where they "
                                                          "hold the pair's key facts.")
    ap.add_argument("--teacher", default="", help="Teacher for --distill (default: the run's).")
    ap.add_argument("--no-quote", action="store_true", help="No 'Trecho: \"...\"' line in the targets.")
    ap.add_argument("--style", choices=TARGET_STYLES, default="quote_first",
                    help="How targets carry the quote (oracle.improve.config.TARGET_STYLES).")
    ap.add_argument("--supported-only", action="store_true",
                    help="Train only on pairs whose quote states the answer (oracle.grounding.quote_support).")
    ap.add_argument("--roundtrip", action="store_true",
                    help="Train only on pairs whose own passage the chat's retriever puts in its top-k for "
                         "the pair's question (oracle.improve.pairs.retrieves_own_passage).")
    ap.add_argument("--add-pairs", type=Path, action="append", default=[],
                    help="Pairs file of another run on the same documents (its train_pairs.jsonl) to train "
                         "on as well; repeatable; a question already present is not added twice.")
    ap.add_argument("--min-answer-words", type=int, default=0,
                    help="Train only on pairs whose answer has at least this many words (a sentence, not a "
                         "bare value such as \"msmtp\" or \"3007\").")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    ws = Workspace(home=args.home or default_home())
    folder = run_dir(ws, args.run)
    run = read_json(folder / "run.json")
    report = read_json(folder / "report.json") if (folder / "report.json").exists() else {}
    settings = dict(run["config"]["lora"], max_seq_len=args.max_seq_len)
    options = (("k_distractors", args.k_distractors), ("p_no_gold", args.p_no_gold), ("epochs", args.epochs),
               ("self_check", args.self_check), ("gold_order", args.gold_order))
    for key, value in options:
        if value is not None:
            settings[key] = value
    lcfg = LoraTrainConfig(**settings)
    emb = (((report.get("stages") or {}).get("embedder") or {}).get("output") or {})
    index = load_index(ws, emb.get("candidate_index") or run["config"]["index_name"])
    snapshot = folder / SNAPSHOT_FILE
    keep: list[tuple[str, Callable[[dict], bool]]] = []  # (what, test): filters of the run's pairs
    if args.supported_only:  # without those stage 1 now drops as quote_unsupported
        from oracle.improve.pairs import quote_states_answer

        keep.append(("quote states the answer",
                     lambda r: r.get("status") == "approved" or quote_states_answer(r)))
    if args.roundtrip:  # those whose passage the chat would retrieve for their question
        from oracle.config import RAGConfig
        from oracle.improve.pairs import retrieves_own_passage

        keep.append(("round trip", lambda r: retrieves_own_passage(index, r, RAGConfig().top_k)))
    if args.min_answer_words:  # those whose answer is a sentence
        keep.append((f"answers of {args.min_answer_words}+ words",
                     lambda r: len(r.get("answer", "").split()) >= args.min_answer_words))
    if keep or args.add_pairs:
        from oracle.schema import write_jsonl_atomic
        from oracle.training.data import question_key

        pool, seen = [], set()
        for source in [snapshot, *args.add_pairs]:
            for r in iter_jsonl(source):
                key = question_key(r.get("question", ""))
                if key not in seen:
                    seen.add(key)
                    pool.append(r)
        kept = [r for r in pool if all(test(r) for _, test in keep)]
        logging.info("%d pairs (%d files); %s: %d kept", len(pool), 1 + len(args.add_pairs),
                     ", ".join(what for what, _ in keep) or "no filter", len(kept))
        snapshot = Path(ws.home) / "improve" / args.run / f"train_pairs.{args.name}.jsonl"
        write_jsonl_atomic(snapshot, kept)
    data = prepare(ws, index, [str(snapshot)], run["config"]["use_ratings"], lcfg.eval_fraction, lcfg.k_distractors,
                   lcfg.p_no_gold, lcfg.seed, lcfg.max_examples, lcfg.cite_sources, lcfg.gold_order)
    rows = list(iter_jsonl(snapshot))
    figures: dict = {"settings": settings, "n_train": len(data.train), "n_eval": len(data.eval), **data.stats}
    if args.distill:
        teacher_name = args.teacher or report.get("teacher") or run["config"]["teacher"]
        facts = pair_facts(rows)
        teacher = get_generator(teacher_name)
        out = Path(ws.home) / "improve" / args.run / f"distill-{args.name}"
        out.mkdir(parents=True, exist_ok=True)
        figures["distill"] = distill_targets(data.train, teacher, facts, out).to_dict()
        del teacher
        free_models()
    if not args.no_quote:
        quotes = pair_quotes(rows)
        figures["n_quoted"] = add_quotes(data.train, quotes, args.style) + add_quotes(data.eval, quotes, args.style)
    for ex in data.train[:3]:
        logging.info("target: %r", ex.target)
    start = time.perf_counter()
    result = train_lora(ws, run["config"]["student"], args.name, lcfg, data=data)
    figures.update(status=result.status, seconds=round(time.perf_counter() - start),
                   metrics=result.info.get("metrics", {}), adapter_dir=str(result.adapter_dir))
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
