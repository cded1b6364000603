"""Command line: ``python -m oracle <stage> ...``, one sub-command per stage, same core calls as the app.

Sub-commands::

    ingest FILES...      parse .txt/.pdf into the workspace (documents/)
    qa [--doc ID]...     generate question/answer pairs into data_qa/<doc_id>.qa.jsonl
    index [--doc ID]...  chunk, embed and add documents to indexes/<name>/
    ask QUESTION         answer from the index with numbered citations (streamed); stored in data_qa/answers.jsonl
    rate ID valid|invalid  rate a stored answer into data_qa/validated.jsonl or invalid.jsonl (the latest rating counts)
    demo [FILES...]      the whole chain on the given files (default: the bundled example)
    train lora|embedder  fine-tune (a background job followed in the foreground; Ctrl-C cancels)
    train reindex|merge|export|push|resume|follow|cancel|jobs|list   the rest of the "Ajuste fino" tab
    improve              "Melhorar o Oráculo": questions -> embedder -> LoRA -> before/after -> promotion (a job)

The workspace is ``--home`` or ``ORACLE_HOME`` (default: the current folder). Messages follow
``ORACLE_LANG`` (``pt`` by default, or ``en``). Errors print one line that says what to do and
exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from oracle import config as C
from oracle.errors import OracleError
from oracle.i18n import current_lang, format_seconds, t

logger = logging.getLogger("oracle")

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
DEMO_QUESTION = {
    "pt": "Qual é o prazo final para a inscrição e quais documentos são exigidos?",
    "en": "What is the deadline for registration and which documents are required?",
}


def _progress(stage: str):
    """A ProgressCallback that writes ``[stage] done/total description`` to stderr, at most 4 times/s."""
    last = [0.0]

    def report(done: int, total: int, description: str = "") -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 0.25:
            return
        last[0] = now
        size = f"{done}/{total}" if total else str(done)
        sys.stderr.write(f"[{stage}] {size} {description}\n")
        sys.stderr.flush()

    return report


# Why not transformers.HfArgumentParser (issue 9 asked; measured by bench/bench_cli_start.py, section
# "Dataclass options: ours against HfArgumentParser" of bench/RESULTS.md): it does not import torch,
# but `from transformers.hf_argparser import HfArgumentParser` loads the whole `transformers` package
# (numpy, huggingface_hub: 653 modules against our 207): on the 2-core machine `python -m oracle
# --help` would go from 0.42 to 2.18 s (0.74 to 3.31 s in a busier run; medians of 5), 1.8-2.6 s more.
# It also adds whole dataclasses only (a sub-command's subset of fields would need its private
# per-field builder), spells each multi-word option twice (`--top_k` and `--top-k`), turns bools into
# `--hybrid [HYBRID]` strings, has no `--no-x` for bools that default to False, and rejects our
# `cli_default` metadata. So ours stays; tests/test_cli.py::
# test_config_options_keep_names_defaults_types_and_help holds its behaviour.
def _add_config_args(parser: argparse.ArgumentParser, cls: type, names: Sequence[str] | None = None,
                     aliases: dict[str, str] | None = None) -> None:
    """Expose dataclass fields as ``--options``, with the field's help text and default.

    Each field ``snake_name`` becomes ``--snake-name`` (``dest`` the field's name), typed by its
    default's type (``X | None`` fields by ``X``); a ``bool`` field becomes a ``--x/--no-x`` pair.
    The help is ``metadata["help"]``, followed (bool fields aside) by ``(default: ...)`` showing
    ``metadata["cli_default"]`` when the field has one (``RAGConfig.min_score``: "the index's").
    ``default_factory`` fields are read when the parser is built (environment overrides included).

    Args:
        parser: The (sub-)parser that receives the options.
        cls: A config dataclass (``oracle.config.RAGConfig``, ``LoraTrainConfig``...).
        names: Field names to expose, in the class's order; None exposes every field.
        aliases: Extra spellings, field name -> option (``{"learning_rate": "--lr"}``).

    Raises:
        argparse.ArgumentError: an option already on ``parser`` (two configs sharing a field name).
    """
    from dataclasses import MISSING, fields

    aliases = aliases or {}
    for f in fields(cls):
        if names is not None and f.name not in names:
            continue
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        kind = type(default) if default is not None else _optional_type(f.type)
        text = f.metadata.get("help", "").replace("%", "%%")  # argparse formats help with %
        shown = str(f.metadata.get("cli_default", default)).replace("%", "%%")
        options = ["--" + f.name.replace("_", "-")] + ([aliases[f.name]] if f.name in aliases else [])
        if kind is bool:
            parser.add_argument(*options, dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                                help=text)
        else:
            parser.add_argument(*options, dest=f.name, type=kind, default=default,
                                help=f"{text} (default: {shown})")


def _optional_type(annotation: Any) -> type:
    """The value type of an ``X | None`` field annotation (a string under postponed annotations):
    ``"float | None"`` -> float. Unknown spellings give str."""
    if isinstance(annotation, type):
        return annotation
    parts = [p.strip() for p in str(annotation).replace("Optional[", "").rstrip("]").split("|")]
    known = {"float": float, "int": int, "str": str}
    return next((known[p] for p in parts if p in known), str)


def _config(cls: type, args: argparse.Namespace):
    from dataclasses import fields

    return cls(**{f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)})


def _generator(args: argparse.Namespace):
    from oracle.llm import get_generator

    kwargs = {}
    if getattr(args, "base_url", None):
        kwargs["base_url"] = args.base_url
    return get_generator(args.generator, adapter=getattr(args, "adapter", None), **kwargs)


def _documents(ws: C.Workspace, doc_ids: Sequence[str] | None):
    from oracle.ingest import list_documents, load_document

    if doc_ids:
        return [load_document(ws, d) for d in doc_ids]
    return list_documents(ws)


# --- stages -------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.chunking import document_chunks
    from oracle.ingest import ingest_files

    cfg = _config(C.IngestConfig, args)
    result = ingest_files([Path(p) for p in args.files], workspace=ws, cfg=cfg, progress=_progress("ingest"))
    for doc in result.documents:
        document_chunks(ws, doc)  # chunked once, here: QA pairs, the index and training share these ids
        print(t("cli.ingested", doc_id=doc.doc_id, name=doc.name, pages=len(doc.pages),
                chars=doc.n_chars, language=doc.language))
    for name, err in result.errors:
        print(t("cli.failed", name=name, message=err.message()), file=sys.stderr)
    for _name, warning in result.warnings:  # a text file whose encoding was repaired...
        print(warning.message(), file=sys.stderr)
    if result.errors and not result.documents:
        return 2
    return 1 if result.errors else 0


def cmd_qa(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.qa_generation import generate_qa

    generator = _generator(args)
    qa_cfg = _config(C.QAConfig, args)
    chunking = _config(C.ChunkingConfig, args)
    docs = _documents(ws, args.doc)
    if not docs:
        print(t("cli.no_documents"), file=sys.stderr)
        return 2
    for doc in docs:
        report = generate_qa(doc, generator, ws, cfg=qa_cfg, chunking=chunking,
                             progress=_progress(f"qa {doc.doc_id}"), max_chunks=args.max_chunks)
        print(t("cli.qa_done", name=doc.name, n_pairs=len(report.pairs), n_done=report.n_done,
                n_skipped=report.n_skipped, n_invalid=report.n_invalid, n_duplicates=report.n_duplicates,
                seconds=report.seconds, path=ws.qa_file(doc.doc_id)))
    return 0


def cmd_index(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.index import build_index

    docs = _documents(ws, args.doc)
    if not docs:
        print(t("cli.no_documents"), file=sys.stderr)
        return 2
    start = time.perf_counter()
    index = build_index(docs, ws, name=args.name, embedder=args.embedder,
                        chunking=_config(C.ChunkingConfig, args), progress=_progress("index"),
                        on_rechunk=lambda report: print(report.message(), file=sys.stderr))
    print(t("cli.index_done", name=args.name, n_chunks=len(index), dim=index.dim, embedder=index.embedder,
            seconds=time.perf_counter() - start, path=ws.index_dir(args.name)))
    return 0


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    lang = answer.language
    cited = answer.citations or []
    if answer.verdict == "unsupported" and answer.unsupported:
        print("\n" + t("cli.unsupported", lang, claims=", ".join(answer.unsupported)))
    if cited:
        print("\n" + t("cli.sources", lang))
        for c in cited:
            page = f"{c.page} ({c.page_label})" if c.page_label and str(c.page_label) != str(c.page) else c.page
            print(f"  [{c.n}] {c.doc_name}, p. {page}: \"{c.snippet}\"")
    elif answer.sources:
        print("\n" + t("cli.retrieved", lang))
        for c in answer.sources:
            print(f"  [{c.n}] {c.doc_name}, p. {c.page} (score {c.score:.3f})")
    print("\n" + t("cli.answer_id", lang, answer_id=answer.answer_id, seconds=answer.elapsed_s))


def _ask(question: str, index, generator, rag_cfg, ws: C.Workspace, as_json: bool):
    from oracle.feedback import stream_and_store
    from oracle.rag import sources_label
    from oracle.schema import Answer, Retrieved

    answer = None
    streamed: list[str] = []
    for piece in stream_and_store(question, index, generator, ws, cfg=rag_cfg):  # stored in answers.jsonl
        if isinstance(piece, str):
            streamed.append(piece)
            if not as_json:
                sys.stdout.write(piece)
                sys.stdout.flush()
        elif isinstance(piece, Retrieved):  # seconds of prefill follow: say what is being read
            if not as_json:
                print(t("cli.reading", sources=sources_label(piece.hits)), file=sys.stderr)
        elif isinstance(piece, Answer):
            answer = piece
    if answer is None:  # pragma: no cover - stream_answer always ends with an Answer
        raise OracleError("err.generic", detail="no answer")
    if not as_json and answer.text != "".join(streamed).strip():  # citations attributed after the stream
        print("\n\n" + answer.text)
    _print_answer(answer, as_json)
    return answer


def cmd_ask(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.defaults import read_defaults
    from oracle.index import load_index

    # What is not given comes from the chat's defaults (defaults.json: what "Melhorar o Oráculo"
    # promoted), the adapter only with the default generator it was trained for.
    chat = read_defaults(ws)
    args.name = args.name or chat.index
    if args.generator is None:
        args.generator = chat.generator
        if args.adapter is None and chat.adapter:
            args.adapter = str(ws.adapters / chat.adapter)
    index = load_index(ws, args.name)
    _ask(args.question, index, _generator(args), _config(C.RAGConfig, args), ws, args.json)
    return 0


def cmd_rate(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.feedback import rate_answer, ratings_file, resolve_answer

    answer = resolve_answer(ws, args.answer_id)  # AnswerNotFoundError: printed, exit 2
    rating = rate_answer(answer, args.verdict == "valid", ws, user=args.user,
                         corrected_answer=args.corrected, comment=args.comment)
    print(t("cli.rated", rating_id=rating.rating_id, path=ratings_file(ws, rating.valid)))
    return 0


def cmd_demo(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.index import build_index
    from oracle.ingest import ingest_files
    from oracle.qa_generation import generate_qa

    files = [Path(f) for f in args.files] or sorted(EXAMPLES_DIR.glob("*.pdf"))
    if not files:
        print(t("cli.no_documents"), file=sys.stderr)
        return 2
    lang = current_lang()
    print(t("cli.demo_step", step="1/4", what="ingest"))
    result = ingest_files(files, workspace=ws, cfg=_config(C.IngestConfig, args), progress=_progress("ingest"))
    for name, err in result.errors:
        print(t("cli.failed", name=name, message=err.message()), file=sys.stderr)
    if not result.documents:
        return 2
    chunking = _config(C.ChunkingConfig, args)
    generator = _generator(args)
    print(t("cli.demo_step", step="2/4", what="qa"))
    for doc in result.documents:
        report = generate_qa(doc, generator, ws, cfg=_config(C.QAConfig, args), chunking=chunking,
                             progress=_progress("qa"), max_chunks=args.max_chunks)
        print(t("cli.qa_done", name=doc.name, n_pairs=len(report.pairs), n_done=report.n_done,
                n_skipped=report.n_skipped, n_invalid=report.n_invalid, n_duplicates=report.n_duplicates,
                seconds=report.seconds, path=ws.qa_file(doc.doc_id)))
        for pair in report.pairs[:4]:
            print(f"  P: {pair.question}\n  R: {pair.answer}  (p. {pair.page})")
    print(t("cli.demo_step", step="3/4", what="index"))
    start = time.perf_counter()
    index = build_index(result.documents, ws, name=args.name, embedder=args.embedder, chunking=chunking,
                        progress=_progress("index"))
    print(t("cli.index_done", name=args.name, n_chunks=len(index), dim=index.dim, embedder=index.embedder,
            seconds=time.perf_counter() - start, path=ws.index_dir(args.name)))
    question = args.question or DEMO_QUESTION[lang]
    print(t("cli.demo_step", step="4/4", what="ask"))
    print(f"? {question}\n")
    _ask(question, index, generator, _config(C.RAGConfig, args), ws, as_json=False)
    return 0


# --- train ------------------------------------------------------------------------------
# Fine-tuning from the command line: the same jobs as the "Ajuste fino" tab (oracle.jobs runs
# oracle.training.run in its own process); this side submits, follows the job's files and
# prints what they say. Nothing of the training itself lives here.

POLL_S = 0.5
"""Seconds between two reads of a followed job's ``status.json``/``log.jsonl``."""


def eval_runs(args: argparse.Namespace) -> list:
    """The :class:`oracle.gold_eval.EvalRun` s of ``oracle eval``: every combination of
    ``--embedder``, ``--generator`` (and ``--adapter``), ``--mode`` and ``--retrieval``; a ``norag``
    run does not retrieve, so it is made once per generator. Labels name only what varies."""
    from dataclasses import replace

    from oracle.gold_eval import EvalRun

    base = _config(C.RAGConfig, args)
    embedders = args.embedder or [None]
    models = [(g, None) for g in (args.generator or [C.DEFAULT_GENERATOR])]
    models += [((args.generator or [C.DEFAULT_GENERATOR])[0], a) for a in (args.adapter or [])]
    modes = args.mode or ["rag"]
    retrievals = args.retrieval or ["hybrid" if base.hybrid else "dense"]
    prompts = args.prompt_style or [base.prompt]
    runs, seen = [], set()
    for emb in embedders:
        for gen, adapter in models:
            for mode in modes:
                for retrieval in (retrievals if mode != "norag" else ["-"]):
                    for prompt in (prompts if mode not in ("norag", "retrieval") else [base.prompt]):
                        key = (None if mode == "norag" else emb, gen, adapter, mode, retrieval, prompt)
                        if key in seen:
                            continue
                        seen.add(key)
                        parts = [mode]
                        if len(models) > 1:
                            parts.append(Path(adapter).name if adapter else gen.split(":")[-1])
                        if len(retrievals) > 1 and mode != "norag":
                            parts.append(retrieval)
                        if len(prompts) > 1 and mode not in ("norag", "retrieval"):
                            parts.append(f"prompt {prompt}")
                        if len(embedders) > 1 and mode != "norag":
                            parts.append(str(emb))
                        rag_cfg = replace(base, prompt=prompt,
                                          hybrid=(retrieval == "hybrid") if retrieval != "-" else base.hybrid)
                        runs.append(EvalRun(label=" · ".join(parts), generator=gen, adapter=adapter, mode=mode,
                                            rag=rag_cfg, embedder=emb))
    return runs


def cmd_eval(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.gold_eval import evaluate

    runs = eval_runs(args)
    report = evaluate(args.gold, runs, docs=args.docs or [], out_dir=args.out, limit=args.limit, workspace=ws,
                      chunking=_config(C.ChunkingConfig, args), ingest=_config(C.IngestConfig, args),
                      progress=_progress("eval"))
    if args.json:
        print(report.to_json())
    else:
        print(report.markdown(current_lang()))
        out = Path(args.out) if args.out else ws.home / "eval"
        print(t("cli.eval_saved", path=out))
    return 0


def cmd_compare(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.gold_eval import compare_reports, comparison_markdown, read_report

    comparison = compare_reports(read_report(args.before), read_report(args.after), *args.run)
    if args.json:
        print(json.dumps(comparison, ensure_ascii=False, indent=2))
    else:
        print(comparison_markdown(comparison, current_lang()))
    return 0


def _pause(seconds: float) -> None:
    """Sleep between polls (a seam for tests, which raise KeyboardInterrupt here)."""
    time.sleep(seconds)


def _num(value, digits: int = 4) -> str:
    return "?" if value is None else f"{value:.{digits}f}"


def _epoch(value) -> str:
    """An epoch count as ``2`` or ``1.5`` (``?`` when unknown)."""
    return "?" if value is None else f"{float(value):g}"


def _money(value) -> str:
    """An amount with 2 decimals, or 4 when it is under one cent (a short run on a CPU)."""
    return "?" if value is None else f"{value:.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:.4f}"


def _progress_line(kind: str, record: dict) -> str:
    """One log record of a job (``step, total, loss, eval_loss, tokens_per_s, eta_s`` and, for
    the embedder, ``mrr@10`` on validation and ``test_mrr@10`` before/after; ``note`` for
    re-indexing) as ``[kind] 3/10 loss 2.3 ...``."""
    if record.get("event") and record.get("stage"):  # a stage of an improvement run starts or ends
        state = {"start": "running"}.get(record["event"], record["event"])
        return t("cli.improve.stage", stage=t(f"improve.stage.{record['stage']}"), state=t(f"improve.state.{state}"))
    parts = [f"[{kind}] {record.get('step', 0)}/{record.get('total') or '?'}"]
    if record.get("note"):
        parts.append(str(record["note"]))
    for key in ("loss", "eval_loss", "mrr@10", "test_mrr@10"):
        if record.get(key) is not None:
            parts.append(f"{key} {record[key]:.4f}")
    if record.get("tokens_per_s"):
        parts.append(f"{record['tokens_per_s']:.0f} tokens/s")
    if record.get("eta_s") is not None and record.get("total") and record.get("step", 0) < record["total"]:
        parts.append(t("cli.train.eta", eta=format_seconds(record["eta_s"])))
    return "  ".join(parts)


def _find_job(ws: C.Workspace, ref: str):
    """The job named by ``ref``: an id, a unique prefix of one, or ``last`` (the newest).

    Raises:
        OracleError: ``cli.train.job_not_found`` when none or several match.
    """
    from oracle import jobs

    listed = jobs.list_jobs(ws)
    if ref == "last" and listed:
        return listed[0]
    matches = [s for s in listed if s.job_id == ref] or [s for s in listed if s.job_id.startswith(ref)]
    if len(matches) != 1:
        raise OracleError("cli.train.job_not_found", job_id=ref)
    return matches[0]


def _job_error(ws: C.Workspace, status) -> str:
    """The one-line reason a job failed, translated when the job recorded an OracleError key."""
    from oracle import jobs

    message = status.error_message() or "?"
    return t("cli.train.failed", job_id=status.job_id, message=message,
             log=jobs.job_dir(ws, status.job_id) / jobs.PROCESS_LOG)


def _follow(ws: C.Workspace, job_id: str, since: int = 0) -> tuple[object, bool]:
    """Print a job's log records from line ``since`` on (stderr) until it finishes; Ctrl-C cancels it.

    Calls :func:`oracle.jobs.reconcile` at every poll, so this process starts the job when it
    is queued behind a finished one and notices a job process that died. On Ctrl-C the job's
    cancel flag is set (it saves a checkpoint after the current step and stops); a second
    Ctrl-C sends SIGTERM at once.

    Returns:
        ``(final JobStatus, interrupted)``; ``interrupted`` is True when Ctrl-C cancelled it.
    """
    from oracle import jobs

    shown_state = None
    kind = jobs.get_job(ws, job_id).kind

    def drain() -> None:
        nonlocal since
        records = jobs.read_log(ws, job_id, since)
        since += len(records)
        for record in records:
            sys.stderr.write(_progress_line(kind, record) + "\n")
        if records:
            sys.stderr.flush()

    try:
        while True:
            jobs.reconcile(ws)
            status = jobs.get_job(ws, job_id)
            if status.state != shown_state and not status.finished:
                shown_state = status.state
                if status.state == jobs.QUEUED:
                    running = jobs.running_job(ws)
                    print(t("cli.train.queued", job_id=job_id, running=running.job_id if running else "?"),
                          file=sys.stderr)
                elif status.state == jobs.RUNNING:
                    print(t("cli.train.running", job_id=job_id, kind=kind), file=sys.stderr)
            drain()
            if status.finished:
                return status, False
            _pause(POLL_S)
    except KeyboardInterrupt:
        pass
    print(t("cli.train.cancelling", job_id=job_id), file=sys.stderr)
    jobs.cancel(ws, job_id)
    forced = False
    while True:
        try:
            jobs.reconcile(ws)
            drain()
            status = jobs.get_job(ws, job_id)
            if status.finished:
                return status, True
            _pause(POLL_S)
        except KeyboardInterrupt:
            if not forced:
                forced = True
                jobs.cancel(ws, job_id, force=True)


def _finish(ws: C.Workspace, status, interrupted: bool) -> int:
    """Print the outcome of a followed job; the exit status (0 completed, 1 cancelled,
    2 failed, 130 cancelled by Ctrl-C)."""
    from oracle import jobs

    if status.state == jobs.COMPLETED:
        _print_result(status)
        return 0
    if status.state == jobs.CANCELLED:
        key = "cli.train.cancelled" if status.resumable else "cli.train.cancelled_fresh"
        print(t(key, job_id=status.job_id), file=sys.stderr)
        return 130 if interrupted else 1
    print(_job_error(ws, status), file=sys.stderr)
    return 2


def _print_result(status) -> None:
    """What a completed job produced, in one or two lines (stdout)."""
    r = status.result or {}
    if status.kind == "lora":
        m, money = r.get("metrics", {}), r.get("cost") or {}
        print(t("cli.train.lora_done", name=r.get("name"), path=r.get("adapter_dir"),
                before=_num(m.get("eval_loss_before")), after=_num(m.get("eval_loss")), steps=m.get("steps"),
                time=format_seconds(r.get("wall_time_s")), brl=_money(money.get("brl")), usd=_money(money.get("usd")),
                base=r.get("base_model")))
    elif status.kind == "embedding":
        m = r.get("metrics", {})
        b, a = m.get("before", {}), m.get("after", {})
        keys = ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10")
        print(t("cli.train.embedding_done", name=r.get("name"), path=r.get("model_dir"),
                before=" ".join(f"{k} {_num(b.get(k), 3)}" for k in keys),
                after=" ".join(f"{k} {_num(a.get(k), 3)}" for k in keys), time=format_seconds(r.get("wall_time_s"))))
        for line in _embedding_notes(m):
            print(line)
    elif status.kind == "reindex":
        print(t("cli.train.reindex_done", index=r.get("index"), embedder=r.get("embedder"), n=r.get("n_chunks"),
                seconds=r.get("seconds"), previous=r.get("previous") or "-"))
    elif status.kind == "merge":
        print(t("cli.train.merge_done", path=r.get("merged_dir")))
    elif status.kind == "improve":
        _print_improve_report(r.get("run_dir"))
    else:
        print(json.dumps(r, ensure_ascii=False, default=str))


def _embedding_notes(metrics: dict) -> list[str]:
    """Lines after an embedding run's result: which epoch was kept and how (validation or the
    last epoch, and why), then the warning that re-indexing is not recommended when the tuned
    model did not beat the base (``metrics["improved"]`` False, see
    :func:`oracle.training.embedding.train_embedder`)."""
    from oracle.training.embedding import MIN_TRAIN_FOR_VALIDATION, outcome

    o, lines = outcome(metrics), []
    if o["selection"] == "validation_mrr@10":
        lines.append(t("cli.train.embedding_kept_val", epoch=_epoch(o["kept_epoch"]), n=metrics.get("n_val_queries", "?"),
                       base=_num(o["val_before"], 3), best=_num(o["val_best"], 3)))
    elif o["selection"] == "last_epoch":
        reason = t(f"train.no_val.{metrics.get('selection_reason') or 'no_evaluation'}", min=MIN_TRAIN_FOR_VALIDATION)
        lines.append(t("cli.train.embedding_kept_last", epoch=_epoch(o["kept_epoch"]), reason=reason))
    if o["improved"] is False:
        lines.append(t("cli.train.embedding_not_improved", test_before=_num(o["test_before"], 3),
                       test_after=_num(o["test_after"], 3), val_before=_num(o["val_before"], 3),
                       val_best=_num(o["val_best"], 3)))
    return lines


def _run_job(ws: C.Workspace, spec, name: str, detach: bool) -> tuple[int, object]:
    """Submit a job (:func:`oracle.jobs.submit` of ``spec``, an :mod:`oracle.training.specs`
    class) and follow it unless ``detach``.

    Returns ``(exit status, final JobStatus or None when detached)``.
    """
    from oracle import jobs

    kind = spec.kind
    status = jobs.submit(ws, spec, name=name)
    key = "cli.train.submitted" if kind in ("lora", "embedding") else "cli.train.submitted_plain"
    print(t(key, job_id=status.job_id, kind=kind), file=sys.stderr)
    if detach:
        print(t("cli.train.detached", job_id=status.job_id))
        return 0, None
    final, interrupted = _follow(ws, status.job_id)
    return _finish(ws, final, interrupted), final


def _qa_files(ws: C.Workspace, args: argparse.Namespace) -> list[str] | None:
    """The QA files chosen with ``--qa-file`` (absolute paths: the job runs in another folder),
    ``[]`` with ``--no-qa`` (ratings only), None for every ``data_qa/*.qa.jsonl``.

    Raises:
        OracleError: ``cli.train.qa_file_missing`` for a name that is no file.
    """
    from oracle.training.data import qa_files

    if args.no_qa:
        return []
    if not args.qa_file:
        return None
    out = []
    for ref in args.qa_file:
        for candidate in (Path(ref).expanduser(), ws.data_qa / ref, ws.qa_file(ref)):
            if candidate.is_file():
                out.append(str(candidate.resolve()))
                break
        else:
            available = ", ".join(p.name for p in qa_files(ws)) or "-"
            raise OracleError("cli.train.qa_file_missing", name=ref, folder=ws.data_qa, available=available)
    return out


def _check_data(ws: C.Workspace, files: list[str] | None, use_ratings: bool, eval_fraction: float) -> int:
    """Count the examples a run would read (:func:`oracle.training.data.load_examples`) and say
    so; returns the number of training examples.

    Raises:
        OracleError: ``cli.train.no_data`` when there is nothing to train on.
    """
    from oracle.training.data import load_examples, split_examples

    source = load_examples(ws, files, use_ratings)
    train, held = split_examples(source.examples, eval_fraction)
    if not train:
        raise OracleError("cli.train.no_data", path=ws.data_qa)
    print(t("cli.train.data", n=len(source.examples), n_ratings=source.n_ratings, n_files=len(source.files),
            n_train=len(train), n_eval=len(held)), file=sys.stderr)
    return len(train)


def _model_ref(ws: C.Workspace, ref: str, kind: str | None = None) -> str:
    """A model reference for a job: an existing path, or the folder of the run called ``ref``
    (``embedders/<ref>`` or ``adapters/<ref>``, :func:`oracle.training.card.find_run`; of ``kind``
    when both hold one), made absolute (the job process runs in another folder); else ``ref`` as
    given (bundled name, hub id)."""
    from oracle.training.card import find_run

    if ref and Path(ref).expanduser().exists():
        return str(Path(ref).expanduser().resolve())
    run = find_run(ws, ref, kind) or find_run(ws, ref)
    return str(run.folder.resolve()) if run is not None and run.folder is not None else ref


def _cost(args: argparse.Namespace):
    """The :class:`~oracle.training.cost.CostConfig` of the options (ConfigError before a job starts)."""
    from oracle.training.cost import CostConfig

    return CostConfig(hourly_price_usd=args.hourly_price_usd, fallback_usd_brl=args.fallback_usd_brl)


def cmd_train_lora(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.training.lora import LoraTrainConfig
    from oracle.training.specs import LoraJob

    cfg = _config(LoraTrainConfig, args)  # ConfigError before anything starts
    files = _qa_files(ws, args)
    _check_data(ws, files, args.ratings, cfg.eval_fraction)
    base = _model_ref(ws, args.base, "merged")
    if args.estimate:
        return _estimate_lora(ws, args, cfg, files, base)
    name = args.name.strip() if args.name else None
    spec = LoraJob(base_model=base, name=name, files=files, use_ratings=args.ratings, index_name=args.index,
                   config=cfg, cost=_cost(args))
    code, _ = _run_job(ws, spec, name or "", args.detach)
    return code


def _estimate_lora(ws: C.Workspace, args: argparse.Namespace, cfg, files, base: str) -> int:
    """Time two real training steps here (:func:`oracle.training.lora.estimate_lora`) and print
    the extrapolated run: steps, tokens, time, cost in US$ and R$."""
    from oracle import jobs
    from oracle.training.lora import estimate_lora

    running = jobs.running_job(ws)
    if running is not None:
        print(t("cli.train.estimate_busy", job_id=running.job_id), file=sys.stderr)
    est = estimate_lora(ws, base, cfg, files=files, use_ratings=args.ratings, index_name=args.index,
                        cost_cfg=_cost(args))
    if args.json:
        print(json.dumps(est, ensure_ascii=False, indent=2))
        return 0
    print(t("cli.train.estimate", n_train=est["n_train"], n_eval=est["n_eval"], avg=est["avg_tokens"],
            steps=est["steps"], tokens=est["tokens"], tps=_num(est["tokens_per_s"], 1), device=est.get("device", "?"),
            time=format_seconds(est["seconds"]), usd=_money(est["usd"]), brl=_money(est.get("brl")),
            rate=_num(est.get("usd_brl"), 4), source=est.get("rate_source", "?")))
    return 0


def cmd_train_embedder(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.errors import IndexNotFoundError
    from oracle.training.embedding import EmbedTrainConfig, estimate_embedding
    from oracle.training.specs import EmbeddingJob, ReindexJob

    cfg = _config(EmbedTrainConfig, args)
    files = _qa_files(ws, args)
    _check_data(ws, files, args.ratings, cfg.eval_fraction)
    if not (ws.index_dir(args.index) / "index.json").exists():  # the corpus and hard negatives come from it
        raise IndexNotFoundError(name=args.index)
    if args.estimate:  # the app shows the same estimate
        print(t("cli.train.estimate_embedding", **estimate_embedding(ws, cfg, files, args.ratings)))
        return 0
    name = args.name.strip() if args.name else None
    spec = EmbeddingJob(base_embedder=_model_ref(ws, args.base, "embedding") if args.base else None, name=name,
                        files=files, use_ratings=args.ratings, index_name=args.index, config=cfg)
    code, final = _run_job(ws, spec, name or "", args.detach)
    if code != 0 or not args.reindex or final is None:
        return code
    model_dir = (final.result or {}).get("model_dir")
    code, _ = _run_job(ws, ReindexJob(embedder=model_dir, index_name=args.index), args.index, False)
    return code


def cmd_train_reindex(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.errors import IndexNotFoundError
    from oracle.training.specs import ReindexJob

    if not (ws.index_dir(args.index) / "index.json").exists():
        raise IndexNotFoundError(name=args.index)
    from oracle.training.card import RunCard

    embedder = _model_ref(ws, args.embedder, "embedding")
    folder = Path(embedder)
    if folder.is_dir() and not RunCard.of_folder(folder).is_embedder:  # a folder, not a sentence-transformers model
        raise OracleError("cli.train.not_embedder", path=embedder)
    spec = ReindexJob(embedder=embedder, index_name=args.index, target_name=args.target)
    code, _ = _run_job(ws, spec, args.target or args.index, args.detach)
    return code


def cmd_train_resume(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle import jobs

    job_id = _find_job(ws, args.job_id).job_id
    since = len(jobs.read_log(ws, job_id))  # show what this attempt logs, not the history
    status = jobs.resume(ws, job_id)
    print(t("cli.train.resumed", job_id=status.job_id, attempt=status.attempts + (status.state == jobs.QUEUED)),
          file=sys.stderr)
    if args.detach:
        print(t("cli.train.detached", job_id=status.job_id))
        return 0
    return _finish(ws, *_follow(ws, status.job_id, since))


def cmd_train_follow(args: argparse.Namespace, ws: C.Workspace) -> int:
    return _finish(ws, *_follow(ws, _find_job(ws, args.job_id).job_id))


def cmd_train_cancel(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle import jobs

    status = jobs.cancel(ws, _find_job(ws, args.job_id).job_id, force=args.force)
    print(t("cli.train.cancel_requested", job_id=status.job_id, state=status.state))
    return 0


def cmd_train_jobs(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle import jobs

    jobs.reconcile(ws)  # marks dead processes, starts what is queued
    listed = jobs.list_jobs(ws)
    if args.json:
        print(json.dumps([s.to_dict() for s in listed], ensure_ascii=False, indent=2, default=str))
        return 0
    if not listed:
        print(t("cli.train.no_jobs"))
        return 0
    for s in listed:
        flags = " resumable" if s.resumable and s.state != jobs.COMPLETED else ""
        print(f"{s.job_id}  {s.kind:<9} {s.name or '-':<24} {s.state:<9}{flags}  {s.step}/{s.total or '?'}  "
              f"loss {_num(s.loss)}  eval_loss {_num(s.eval_loss)}  {s.created_at.replace('T', ' ')[:19]}")
    return 0


def cmd_train_list(args: argparse.Namespace, ws: C.Workspace) -> int:
    """Every run (``adapters/`` and ``embedders/``, :func:`oracle.training.card.list_runs`) with its
    metrics; ``--json``: each run card (:meth:`oracle.training.card.RunCard.to_dict`) with ``"path"``."""
    from oracle.training.card import list_runs

    runs = list_runs(ws)
    if args.json:
        print(json.dumps([{**run.to_dict(), "path": run.path} for run in runs], ensure_ascii=False, indent=2,
                         default=str))
        return 0
    if not runs:
        print(t("cli.train.no_runs", path=f"{ws.adapters}, {ws.embedders}"))
        return 0
    for run in runs:
        m, kind = run.metrics, run.kind
        if kind == "embedding":
            b, a = m.get("before", {}), m.get("after", {})
            metrics = (f"mrr@10 {_num(b.get('mrr@10'), 3)} -> {_num(a.get('mrr@10'), 3)}  "
                       f"hit@1 {_num(b.get('hit@1'), 3)} -> {_num(a.get('hit@1'), 3)}")
            if m.get("improved") is False:
                metrics += "  " + t("cli.train.no_gain")
            n = run.data.get("n_train_pairs")
        elif kind == "lora":
            metrics = f"eval_loss {_num(m.get('eval_loss_before'))} -> {_num(m.get('eval_loss'))}"
            n = run.data.get("n_train")
        else:
            metrics, n = "-", None
        money = run.cost or {}
        cost = f"R$ {_money(money['brl'])} (US$ {_money(money.get('usd'))})" if money.get("brl") is not None else "-"
        print(t("cli.train.run_line", name=run.display_name, kind=kind, base=run.base_model or "?",
                n="?" if n is None else n, metrics=metrics, time=format_seconds(run.wall_time_s), cost=cost,
                path=run.path))
    return 0


def cmd_train_merge(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.training.specs import MergeJob

    adapter = Path(_model_ref(ws, args.adapter, "lora"))
    if not (adapter / "adapter_config.json").exists():
        raise OracleError("err.train.not_adapter", path=str(adapter))
    out = Path(args.out).expanduser().resolve() if args.out else adapter.parent / f"{adapter.name}-merged"
    spec = MergeJob(adapter_dir=str(adapter), output_dir=str(out),
                    base_model=_model_ref(ws, args.base) if args.base else None)
    code, _ = _run_job(ws, spec, out.name, args.detach)
    return code


def cmd_train_export(args: argparse.Namespace, ws: C.Workspace) -> int:
    """RAFT examples of the training split as alpaca/sharegpt JSONL
    (:func:`oracle.training.data.prepare` + :func:`~oracle.training.data.export_dataset`)."""
    from oracle.training.data import export_dataset, hard_negative_index, prepare
    from oracle.training.lora import LoraTrainConfig

    cfg = _config(LoraTrainConfig, args)
    files = _qa_files(ws, args)
    _check_data(ws, files, args.ratings, cfg.eval_fraction)
    data = prepare(ws, hard_negative_index(ws, args.index), files, args.ratings, cfg.eval_fraction, cfg.k_distractors,
                   cfg.p_no_gold, cfg.seed, cfg.max_examples, cfg.cite_sources, cfg.gold_order)
    out = Path(args.out).expanduser()
    n = export_dataset(data.eval if args.split == "eval" else data.train, out, args.format)
    Path(str(out) + ".lock").unlink(missing_ok=True)  # the atomic writer's lock file, not data
    print(t("cli.train.exported", n=n, fmt=args.format, path=out, split=args.split,
            held=len(data.eval) if args.split == "train" else len(data.train)))
    return 0


def cmd_train_push(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.training.export import push_to_hub

    folder = Path(_model_ref(ws, args.run))
    if not folder.is_dir():
        raise OracleError("err.train.not_adapter", path=str(folder))
    url = push_to_hub(folder, args.repo, private=not args.public)  # token: HF_TOKEN, never an argument
    print(t("cli.train.pushed", url=url))
    return 0


def _print_improve_report(folder: str | None) -> None:
    """The stages, the before/after table and the decision of an improvement run (stdout), from the
    ``report.json`` in its ``folder`` (``improve/<run_id>/``)."""
    from oracle.improve import STAGES, comparison
    from oracle.improve.runs import REPORT_JSON, REPORT_MD, chains_text, comparison_headers, reason_text
    from oracle.schema import read_json

    if not folder or not (Path(folder) / REPORT_JSON).is_file():
        return
    report = read_json(Path(folder) / REPORT_JSON)
    for name in STAGES:
        rec = (report.get("stages") or {}).get(name) or {}
        state = t(f"improve.state.{rec.get('state') or 'pending'}")
        out = rec.get("output") or {}
        if rec.get("state") == "skipped" and out.get("reason"):
            state += ": " + reason_text(out["reason"], out.get("params"))
        print(t("cli.improve.stage", stage=t(f"improve.stage.{name}"), state=state) + f" ({format_seconds(rec.get('seconds'))})")
    if report.get("before") and report.get("after"):
        for label, *values in [comparison_headers(report), *comparison(report)]:
            print(f"  {label:<40} " + " ".join(f"{v:>20}" for v in values))
        chains = chains_text(report)
        if chains:
            print(chains)
    if report.get("reason"):
        print(reason_text(report["reason"], report.get("params")))
    print(t("cli.improve.report", path=Path(folder) / REPORT_MD))


def cmd_improve(args: argparse.Namespace, ws: C.Workspace) -> int:
    """``improve``: the data summary, past runs, a rollback, or a new run as a job (followed unless --detach)."""
    from oracle import improve
    from oracle.improve import ImproveConfig

    if args.list:
        runs = improve.list_runs(ws)
        if args.json:
            print(json.dumps(runs, ensure_ascii=False, indent=2))
        elif not runs:
            print(t("cli.improve.no_runs"))
        for r in [] if args.json else runs:
            mark = "*" if r["current"] else " "
            print(f"{mark} {r['run_id']}  {t('improve.state.' + (r['state'] or 'pending')):<12} "
                  f"{t('improve.report.before')} {_num(r['keyfacts_before'], 2)} -> {_num(r['keyfacts_after'], 2)}  "
                  f"{t('cli.improve.promoted') if r['promoted'] else '-':<10} {format_seconds(r['seconds'])}")
        return 0
    if args.rollback:
        now = improve.rollback(ws, args.rollback)
        print(t("cli.improve.rolled_back", run_id=args.rollback, generator=now.get("generator"),
                adapter=now.get("adapter") or "-", embedder=now.get("embedder") or "-"))
        return 0
    cfg = _config(ImproveConfig, args)
    cfg.stages = args.stage or cfg.stages
    cfg.gold = [str(Path(g).expanduser().resolve()) for g in (args.gold or [])]
    for name, value in (("max_steps", args.lora_max_steps), ("epochs", args.lora_epochs),
                        ("max_seq_len", args.lora_max_seq_len)):
        if value is not None:
            setattr(cfg.lora, name, value)
    if args.embed_epochs is not None:
        cfg.embedding.epochs = args.embed_epochs
    cfg = ImproveConfig.from_dict(cfg.to_dict())  # validates the nested values too
    summary = improve.data_summary(ws)
    print(summary["text"])
    for warning in summary["warnings"]:
        print("⚠️ " + warning, file=sys.stderr)
    estimate = improve.estimate_text(improve.estimate(ws, cfg))
    if estimate:
        print(estimate.replace("**", ""))  # Markdown bold means nothing in a terminal
    if args.summary:
        return 0
    job_id = improve.start(ws, cfg)
    print(t("cli.improve.submitted", job_id=job_id), file=sys.stderr)
    if args.detach:
        print(t("cli.train.detached", job_id=job_id))
        return 0
    return _finish(ws, *_follow(ws, job_id))


def _add_improve_parser(sub) -> None:
    """``improve``: options derived from :class:`oracle.improve.ImproveConfig`'s help text."""
    from oracle.improve import STAGES, ImproveConfig

    p = sub.add_parser(
        "improve", help="'Melhorar o Oráculo': training questions -> embedder -> LoRA -> before/after -> promotion.",
        description="One background job in four stages (training questions with verified quotes, embedder "
                    "fine-tune gated on validation MRR, LoRA of the fast model on RAFT examples, before/after "
                    "evaluation); the new models become the chat's defaults only when key-fact accuracy improves "
                    "and abstention does not fall. Ctrl-C cancels; 'train resume JOB' continues from the "
                    "interrupted stage.")
    p.add_argument("--summary", action="store_true", help="Only show the data a run would use, with warnings, "
                                                          "and how long the run would take (an estimate).")
    p.add_argument("--list", action="store_true", help="List past runs with their before/after figures.")
    p.add_argument("--json", action="store_true", help="With --list: print JSON.")
    p.add_argument("--rollback", metavar="RUN", default=None,
                   help="Give the chat back the defaults that run RUN left (generator, adapter, index).")
    p.add_argument("--stage", action="append", choices=list(STAGES),
                   help="Run only these stages (repeatable; default: all four, in order).")
    p.add_argument("--gold", action="append", type=Path, help="Gold set of your documents, scored before and after "
                                                              "(repeatable; format in bench/gold/README.md).")
    p.add_argument("--lora-max-steps", type=int, default=None, help="LoRA: stop after this many optimizer steps.")
    p.add_argument("--lora-epochs", type=float, default=None, help="LoRA: passes over the training examples.")
    p.add_argument("--lora-max-seq-len", type=int, default=None, help="LoRA: longest example in tokens.")
    p.add_argument("--embed-epochs", type=float, default=None, help="Embedder: passes over the (question, chunk) pairs.")
    p.add_argument("--detach", action="store_true", help="Submit the job and return at once (follow it with "
                                                         "'train follow JOB').")
    _add_config_args(p, ImproveConfig, ["teacher", "base_url", "concurrency", "max_chunks", "pairs_per_chunk",
                                        "max_new_tokens", "temperature", "max_retries", "round_trip_k",
                                        "use_existing_pairs", "reviewed_only", "use_ratings", "eval_fraction",
                                        "eval_limit", "n_offtopic",
                                        "index_name", "student", "min_mrr_gain", "min_keyfact_gain", "distill",
                                        "target_style", "seed"])
    p.set_defaults(func=cmd_improve)


def _add_train_parser(sub) -> None:
    """``train`` and its sub-commands; options derived from the config dataclasses' help text."""
    from oracle.training.cost import CostConfig
    from oracle.training.embedding import EmbedTrainConfig
    from oracle.training.lora import LoraTrainConfig

    train = sub.add_parser("train", help="Fine-tune the generator (LoRA) or the embedder; jobs, runs, export.",
                           description="Fine-tuning on the workspace's QA pairs and validated ratings, through the "
                                       "same background jobs as the app's 'Ajuste fino' tab.")
    tsub = train.add_subparsers(dest="train_command", required=True, metavar="ACTION")

    def data_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--qa-file", action="append", default=None, metavar="FILE",
                       help="QA file: a name in data_qa/, a document id or a path (repeatable; default: every "
                            "data_qa/*.qa.jsonl).")
        p.add_argument("--no-qa", action="store_true", help="Use no QA file: validated ratings only.")
        p.add_argument("--ratings", action=argparse.BooleanOptionalAction, default=True,
                       help="Also train on answers rated valid in data_qa/validated.jsonl (minus those later "
                            "rated invalid).")
        p.add_argument("--index", default=C.DEFAULT_INDEX,
                       help="Index giving the chunks and the hard negatives (distractors).")

    def job_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--detach", action="store_true",
                       help="Submit the job and return at once (follow it with 'train follow JOB').")

    p = tsub.add_parser("lora", help="Train a LoRA adapter of a generator (RAFT examples).")
    p.add_argument("--base", default=C.FAST_GENERATOR,
                   help=f"Generator to adapt: bundled name, folder or hub id. Default: {C.FAST_GENERATOR}.")
    p.add_argument("--name", default=None, help="Adapter folder under adapters/ (default: lora-<base>-<time>).")
    p.add_argument("--estimate", action="store_true",
                   help="Time two real training steps, print the estimated time and cost, and exit.")
    p.add_argument("--json", action="store_true", help="With --estimate: print the estimate as JSON.")
    data_args(p)
    job_args(p)
    _add_config_args(p, LoraTrainConfig, aliases={"learning_rate": "--lr"})
    _add_config_args(p, CostConfig, ["hourly_price_usd", "fallback_usd_brl"])
    p.set_defaults(func=cmd_train_lora)

    p = tsub.add_parser("embedder", help="Fine-tune the embedding model on (question -> chunk) pairs.")
    p.add_argument("--base", default=None,
                   help="Embedder to start from: bundled name, folder, a run's name (embedders/<name>) or hub id "
                        "(default: the index's embedder).")
    p.add_argument("--name", default=None, help="Output folder under embedders/ (default: emb-<base>-<time>-embedder).")
    p.add_argument("--reindex", action="store_true",
                   help="When training completes, rebuild the index with the tuned embedder (not with "
                        "--detach; the old one stays as <index>.prev).")
    p.add_argument("--estimate", action="store_true", help="Print the number of pairs and steps, and exit.")
    data_args(p)
    job_args(p)
    _add_config_args(p, EmbedTrainConfig, aliases={"learning_rate": "--lr"})
    p.set_defaults(func=cmd_train_embedder)

    p = tsub.add_parser("reindex", help="Re-embed every chunk of an index with another (e.g. tuned) embedder.")
    p.add_argument("--embedder", required=True,
                   help="embedders/<name>, a name in embedders/ (or adapters/), a folder or a bundled name.")
    p.add_argument("--index", default=C.DEFAULT_INDEX, help="Index to rebuild (the old one stays as <index>.prev).")
    p.add_argument("--target", default=None, help="Save as this index name instead of replacing (to compare).")
    job_args(p)
    p.set_defaults(func=cmd_train_reindex)

    p = tsub.add_parser("resume", help="Resume a cancelled or failed job from its last checkpoint.")
    p.add_argument("job_id", help="Job id (or a unique prefix, or 'last'); see 'train jobs'.")
    job_args(p)
    p.set_defaults(func=cmd_train_resume)

    p = tsub.add_parser("follow", help="Follow a running or queued job (Ctrl-C cancels it).")
    p.add_argument("job_id", help="Job id (or a unique prefix, or 'last').")
    p.set_defaults(func=cmd_train_follow)

    p = tsub.add_parser("cancel", help="Cancel a job (it saves a checkpoint and stops after the current step).")
    p.add_argument("job_id", help="Job id (or a unique prefix, or 'last').")
    p.add_argument("--force", action="store_true", help="Also send SIGTERM now.")
    p.set_defaults(func=cmd_train_cancel)

    p = tsub.add_parser("jobs", help="List jobs (queued, running, finished) with their progress.")
    p.add_argument("--json", action="store_true", help="Print the job statuses as JSON.")
    p.set_defaults(func=cmd_train_jobs)

    p = tsub.add_parser("list", help="List finished runs (adapters/ and embedders/, their train.json) with their metrics.")
    p.add_argument("--json", action="store_true", help="Print the train.json contents as JSON.")
    p.set_defaults(func=cmd_train_list)

    p = tsub.add_parser("merge", help="Fold a LoRA adapter into its base model (a standalone transformers folder).")
    p.add_argument("adapter", help="Adapter: a name in adapters/ or a folder.")
    p.add_argument("--out", default=None, help="Output folder (default: <adapter>-merged next to it).")
    p.add_argument("--base", default=None, help="Base model (default: the one in train.json).")
    job_args(p)
    p.set_defaults(func=cmd_train_merge)

    p = tsub.add_parser("export", help="Export the RAFT training examples as alpaca or sharegpt JSONL.")
    p.add_argument("--format", choices=["alpaca", "sharegpt"], default="alpaca", help="Record format.")
    p.add_argument("--out", required=True, help="Output .jsonl file.")
    p.add_argument("--split", choices=["train", "eval"], default="train",
                   help="Which side of the held-out split to export (default: train).")
    data_args(p)
    _add_config_args(p, LoraTrainConfig, ["eval_fraction", "k_distractors", "p_no_gold", "seed", "max_examples",
                                          "cite_sources", "gold_order"])
    p.set_defaults(func=cmd_train_export)

    p = tsub.add_parser("push", help="Upload an adapter, merged model or embedder to the Hugging Face Hub "
                                     "(token from HF_TOKEN).")
    p.add_argument("run", help="A name in adapters/ or embedders/, or a folder.")
    p.add_argument("--repo", required=True, help="Repository id, user/name.")
    p.add_argument("--public", action="store_true", help="Create the repository public (default: private).")
    p.set_defaults(func=cmd_train_push)



# --- parser ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m oracle",
        description="Oráculo: answers from your documents, with citations (ORACLE_HOME = workspace).",
    )
    parser.add_argument("--home", type=Path, default=None, help="Workspace folder (default: ORACLE_HOME or cwd).")
    parser.add_argument("-v", "--verbose", action="store_true", help="Log debug messages.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def generator_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--generator", default=C.DEFAULT_GENERATOR,
                       help="Generator: a bundled name (qwen2.5-coder-1.5b-instruct, qwen2.5-coder-0.5b-instruct, "
                            "smollm2-135m-instruct), "
                            "local:<folder or hub id>, or openai:<model> (OPENAI_API_KEY, OPENAI_BASE_URL). "
                            f"Default: {C.DEFAULT_GENERATOR}.")
        p.add_argument("--base-url", default=None, help="Base URL of an OpenAI-compatible server (openai:...).")
        p.add_argument("--adapter", default=None, help="LoRA adapter folder for a local generator.")

    p = sub.add_parser("ingest", help="Parse .txt/.pdf files into the workspace.")
    p.add_argument("files", nargs="+", help="Files to ingest (.txt in UTF-8/Latin-1/cp1252, .pdf).")
    _add_config_args(p, C.IngestConfig, ["max_file_mb"])
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("qa", help="Generate question/answer pairs from ingested documents.")
    p.add_argument("--doc", action="append", help="Document id (repeatable; default: all).")
    p.add_argument("--max-chunks", type=int, default=None, help="Stop after this many chunks per document.")
    generator_args(p)
    _add_config_args(p, C.QAConfig, ["pairs_per_chunk", "max_retries", "max_new_tokens", "temperature"])
    _add_config_args(p, C.ChunkingConfig, ["chunk_size", "chunk_overlap"])
    p.set_defaults(func=cmd_qa)

    p = sub.add_parser("index", help="Build or update a FAISS index of the documents.")
    p.add_argument("--doc", action="append", help="Document id (repeatable; default: all).")
    p.add_argument("--name", default=C.DEFAULT_INDEX, help="Index name (folder under indexes/).")
    p.add_argument("--embedder", default=None,
                   help="Embedding model (bundled name, folder or hub id); default: the existing index's own, "
                        f"else {C.DEFAULT_EMBEDDER}.")
    _add_config_args(p, C.ChunkingConfig, ["chunk_size", "chunk_overlap"])
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="Answer a question from the index, with citations. Generator, adapter and "
                                   "index default to the chat's (defaults.json, set by 'improve').")
    p.add_argument("question")
    p.add_argument("--name", default=None, help="Index name. Default: the chat's (defaults.json), else "
                                                f"{C.DEFAULT_INDEX}.")
    p.add_argument("--json", action="store_true", help="Print the Answer as JSON.")
    generator_args(p)
    p.set_defaults(generator=None)  # the chat's generator and adapter (cmd_ask reads defaults.json)
    _add_config_args(p, C.RAGConfig, ["top_k", "min_score", "max_new_tokens", "temperature", "hybrid", "guard",
                                      "min_coverage", "min_answerable", "prompt"])
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("rate", help="Rate a stored answer: valid -> validated.jsonl, invalid -> invalid.jsonl; "
                                          "rating it again replaces the earlier rating.")
    p.add_argument("answer_id", help="Answer id (or a unique prefix) printed by 'ask', or 'last'.")
    p.add_argument("verdict", choices=["valid", "invalid"])
    p.add_argument("--corrected", default=None, help="Corrected answer.")
    p.add_argument("--comment", default=None, help="Comment.")
    p.add_argument("--user", default="cli", help="Who rates (recorded in the rating).")
    p.set_defaults(func=cmd_rate)

    p = sub.add_parser("demo", help="Run the whole chain on files and print a cited answer.")
    p.add_argument("files", nargs="*", help="Files (default: the bundled examples/*.pdf).")
    p.add_argument("--question", default=None, help="Question to ask at the end.")
    p.add_argument("--max-chunks", type=int, default=3, help="Chunks per document sent to QA generation.")
    p.add_argument("--name", default=C.DEFAULT_INDEX, help="Index name.")
    p.add_argument("--embedder", default=C.DEFAULT_EMBEDDER, help="Embedding model.")
    generator_args(p)
    _add_config_args(p, C.IngestConfig, ["max_file_mb"])
    _add_config_args(p, C.QAConfig, ["pairs_per_chunk"])
    _add_config_args(p, C.ChunkingConfig, ["chunk_size", "chunk_overlap"])
    _add_config_args(p, C.RAGConfig, ["top_k", "min_score", "max_new_tokens"])
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("eval", help="Score answers on gold sets: retrieval, key facts, abstention, "
                                    "unsupported claims, echo, citations, latency; runs side by side.")
    p.add_argument("--gold", action="append", required=True, type=Path,
                   help="Gold JSONL (repeatable; format in bench/gold/README.md).")
    p.add_argument("--docs", action="append", type=Path,
                   help="Folder holding the documents the gold set names (repeatable; the gold file's "
                        "folder is searched first).")
    p.add_argument("--generator", action="append",
                   help=f"Generator to score (repeatable; default {C.DEFAULT_GENERATOR}).")
    p.add_argument("--adapter", action="append", help="LoRA adapter folder: one more run on the first generator "
                                                      "(repeatable).")
    p.add_argument("--embedder", action="append", help=f"Embedder of the index (repeatable; default "
                                                       f"{C.DEFAULT_EMBEDDER}).")
    p.add_argument("--mode", action="append", choices=["rag", "vanilla", "norag", "retrieval"],
                   help="rag: chat as it is; vanilla: retrieval and prompt without the answer guards; "
                        "norag: the generator alone; retrieval: retrieval figures only, no generation "
                        "(repeatable; default rag).")
    p.add_argument("--retrieval", action="append", choices=["dense", "hybrid"],
                   help="dense, or hybrid (BM25 + dense fusion) (repeatable; default: --hybrid's value).")
    p.add_argument("--prompt-style", action="append", choices=C.PROMPT_STYLES,
                   help="Prompt style to compare (repeatable; default --prompt's value).")
    p.add_argument("--limit", type=int, default=None,
                   help="Only the first N answerable and N unanswerable questions of each gold file.")
    p.add_argument("--out", type=Path, default=None,
                   help="Output folder: rows.jsonl (resumable), report.json, report.md (default <home>/eval).")
    p.add_argument("--json", action="store_true", help="Print the report as JSON.")
    _add_config_args(p, C.RAGConfig, ["top_k", "min_score", "max_new_tokens", "hybrid", "min_coverage",
                                      "min_answerable", "prompt"])
    _add_config_args(p, C.ChunkingConfig, ["chunk_size", "chunk_overlap"])
    _add_config_args(p, C.IngestConfig, ["clean_pages"])
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("compare", help="Two evaluations question by question: which answers became right, wrong "
                                       "or refused between the --out folders of two 'eval' runs.")
    p.add_argument("before", type=Path, help="--out folder (or report.json) of the earlier evaluation.")
    p.add_argument("after", type=Path, help="--out folder (or report.json) of the later evaluation.")
    p.add_argument("--run", nargs=2, metavar=("BEFORE", "AFTER"), default=(None, None),
                   help="Run label to take from each report (default: each report's first run).")
    p.add_argument("--json", action="store_true", help="Print the comparison as JSON.")
    p.set_defaults(func=cmd_compare)

    _add_train_parser(sub)
    _add_improve_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 partial failure, 2 error)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ws = C.Workspace(args.home) if args.home else C.Workspace()
    try:
        return args.func(args, ws)
    except OracleError as err:
        print(err.message(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(t("cli.interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
