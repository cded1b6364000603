"""Command line: ``python -m oracle <stage> ...``, one sub-command per stage, same core calls as the app.

Sub-commands::

    ingest FILES...      parse .txt/.pdf into the workspace (documents/)
    qa [--doc ID]...     generate question/answer pairs into data_qa/<doc_id>.qa.jsonl
    index [--doc ID]...  chunk, embed and add documents to indexes/<name>/
    ask QUESTION         answer from the index with numbered citations (streamed)
    rate ID valid|invalid  record a rating of an answer into data_qa/validated.jsonl or invalid.jsonl
    demo [FILES...]      the whole chain on the given files (default: the bundled example)

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
from typing import Sequence

from oracle import config as C
from oracle.errors import OracleError
from oracle.i18n import current_lang, t

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


def _add_config_args(parser: argparse.ArgumentParser, cls: type, names: Sequence[str]) -> None:
    """Expose dataclass fields as --options, with the field's help text and default."""
    from dataclasses import MISSING, fields

    for f in fields(cls):
        if f.name not in names:
            continue
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        kind = type(default)
        text = f.metadata.get("help", "").replace("%", "%%")  # argparse formats help with %
        option = "--" + f.name.replace("_", "-")
        if kind is bool:
            parser.add_argument(option, action=argparse.BooleanOptionalAction, default=default, help=text)
        else:
            parser.add_argument(option, type=kind, default=default,
                                help=f"{text} (default: {default})")


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
    from oracle.ingest import ingest_files

    cfg = _config(C.IngestConfig, args)
    result = ingest_files([Path(p) for p in args.files], workspace=ws, cfg=cfg, progress=_progress("ingest"))
    for doc in result.documents:
        print(t("cli.ingested", doc_id=doc.doc_id, name=doc.name, pages=len(doc.pages),
                chars=doc.n_chars, language=doc.language))
    for name, err in result.errors:
        print(t("cli.failed", name=name, message=err.message()), file=sys.stderr)
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
                        chunking=_config(C.ChunkingConfig, args), progress=_progress("index"))
    print(t("cli.index_done", name=args.name, n_chunks=len(index), dim=index.dim, embedder=index.embedder,
            seconds=time.perf_counter() - start, path=ws.index_dir(args.name)))
    return 0


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    lang = answer.language
    cited = answer.citations or []
    if cited:
        print("\n" + t("cli.sources", lang))
        for c in cited:
            print(f"  [{c.n}] {c.doc_name}, p. {c.page}: {c.snippet}")
    elif answer.sources:
        print("\n" + t("cli.retrieved", lang))
        for c in answer.sources:
            print(f"  [{c.n}] {c.doc_name}, p. {c.page} (score {c.score:.3f})")
    print("\n" + t("cli.answer_id", lang, answer_id=answer.answer_id, seconds=answer.elapsed_s))


def _ask(question: str, index, generator, rag_cfg, ws: C.Workspace, as_json: bool):
    from oracle.rag import stream_answer
    from oracle.schema import append_jsonl

    answer = None
    streamed: list[str] = []
    for piece in stream_answer(question, index, generator, cfg=rag_cfg):
        if isinstance(piece, str):
            streamed.append(piece)
            if not as_json:
                sys.stdout.write(piece)
                sys.stdout.flush()
        else:
            answer = piece
    if answer is None:  # pragma: no cover - stream_answer always ends with an Answer
        raise OracleError("err.generic", detail="no answer")
    append_jsonl(ws.answers, [answer])
    if not as_json and answer.text != "".join(streamed).strip():  # citations attributed after the stream
        print("\n\n" + answer.text)
    _print_answer(answer, as_json)
    return answer


def cmd_ask(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.index import load_index

    index = load_index(ws, args.name)
    _ask(args.question, index, _generator(args), _config(C.RAGConfig, args), ws, args.json)
    return 0


def cmd_rate(args: argparse.Namespace, ws: C.Workspace) -> int:
    from oracle.feedback import rate_answer
    from oracle.schema import Answer, read_jsonl

    answers = read_jsonl(ws.answers, Answer)
    if not answers:
        print(t("cli.no_answers"), file=sys.stderr)
        return 2
    if args.answer_id == "last":
        answer = answers[-1]
    else:
        matches = [a for a in answers if a.answer_id.startswith(args.answer_id)]
        if len(matches) != 1:
            print(t("cli.answer_not_found", answer_id=args.answer_id), file=sys.stderr)
            return 2
        answer = matches[0]
    rating = rate_answer(answer, args.verdict == "valid", ws, user=args.user,
                         corrected_answer=args.corrected, comment=args.comment)
    target = ws.validated if rating.valid else ws.invalid
    print(t("cli.rated", rating_id=rating.rating_id, path=target))
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
                       help="Generator: a bundled name (qwen2.5-coder-0.5b-instruct, smollm2-135m-instruct), "
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
    p.add_argument("--embedder", default=C.DEFAULT_EMBEDDER, help="Embedding model (bundled name, folder or hub id).")
    _add_config_args(p, C.ChunkingConfig, ["chunk_size", "chunk_overlap"])
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="Answer a question from the index, with citations.")
    p.add_argument("question")
    p.add_argument("--name", default=C.DEFAULT_INDEX, help="Index name.")
    p.add_argument("--json", action="store_true", help="Print the Answer as JSON.")
    generator_args(p)
    _add_config_args(p, C.RAGConfig, ["top_k", "min_score", "max_new_tokens", "temperature", "hybrid"])
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("rate", help="Rate an answer: valid -> validated.jsonl, invalid -> invalid.jsonl.")
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
