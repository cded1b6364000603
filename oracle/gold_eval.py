"""Answer evaluation on gold sets: ``python -m oracle eval`` and the app's evaluation panel.

A gold set is a JSONL file, one :class:`GoldItem` per line (format: ``bench/gold/README.md``):
a question, a short reference answer, its key facts, the document and page that answer it,
and whether the documents answer it at all. :func:`evaluate` ingests the documents into an
evaluation workspace (cached), builds the index, answers every question through the same
:func:`oracle.rag.stream_answer` that chat uses, and scores each run:

* retrieval: hit@1, hit@5, MRR@10 on answerable questions, a chunk being relevant when it
  comes from the gold document and covers a gold page, or contains the gold evidence text
  (Voorhees 1999 for MRR);
* key-fact accuracy: share of answerable questions whose answer contains every key fact
  (:func:`oracle.grounding.keyfact_scores`), and the mean share of facts found;
* token F1 against the reference (SQuAD, :func:`oracle.evaluation.token_f1`);
* abstention: share of unanswerable questions answered "not found"; and over-abstention,
  the share of answerable questions answered "not found";
* unsupported answers: share of non-abstaining answers holding a number or name found in no
  source given to the model (:func:`oracle.grounding.unsupported_claims`);
* echo rate: share of answers to answerable questions that repeat the question
  (:func:`oracle.grounding.is_echo`);
* citation precision: share of citations whose quote occurs verbatim (after folding) in the
  cited chunk and whose chunk is relevant to the question (gold page or evidence);
* sentences cited: share of the sentences of the answers to answerable questions
  (:func:`oracle.rag.answer_sentences`) that carry a ``[n]``, so that a reader can check
  them; with citation precision it is the pair of ALCE (Gao et al. 2023, "Enabling Large
  Language Models to Generate Text with Citations"), whose citation recall asks an NLI model
  whether the cited passages entail the sentence: here only that a citation is there;
* faithfulness: :func:`oracle.grounding.faithfulness`, a judge-free approximation of RAGAS
  faithfulness (share of answer sentences supported by one source sentence, with no
  unsupported number or name);
* latency: first token and full answer, p50 and p95, seconds.

Runs (:class:`EvalRun`) differ by generator, adapter, retrieval settings or mode: ``"rag"``
(chat as it is), ``"vanilla"`` (retrieve, prompt, generate: no answer guards, no lexical
gate) and ``"norag"`` (the generator alone, no retrieval). Results are written as JSON and a
Markdown table with the runs side by side; per-question rows are appended to a JSONL as they
are produced, so an interrupted evaluation resumes where it stopped. Two reports compare
question by question (:func:`compare_reports`: which answers became right, wrong or refused).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Sequence

from oracle.config import ChunkingConfig, IngestConfig, RAGConfig, Workspace, to_dict
from oracle.errors import GoldError, OracleError
from oracle.grounding import (
    faithfulness,
    fold,
    is_echo,
    keyfact_scores,
    strip_citations,
    unsupported_claims,
    verify_quote,
)
from oracle.schema import Chunk, ProgressCallback, Record, append_jsonl, write_text_atomic

logger = logging.getLogger(__name__)

EVAL_VERSION = 1
"""Bumped when scoring changes; stored rows of another version are not reused."""

RunMode = Literal["rag", "vanilla", "norag", "retrieval"]


@dataclass
class GoldItem(Record):
    """One gold question (see ``bench/gold/README.md``).

    Attributes:
        id: stable id.
        question: the question.
        reference: a short correct answer.
        keyfacts: facts the answer must contain; each a list of acceptable surface strings.
        doc: file name of the document that answers it.
        page: PDF page(s) holding the answer, from 1; None for a .txt or an unanswerable question.
        evidence: a verbatim excerpt of the answering passage (≤ 100 characters), optional.
        answerable: False when the documents do not answer the question.
        kind: ``fact``, ``yesno``, ``procedure``, ``explanation`` or ``offtopic``.
    """

    id: str
    question: str
    reference: str = ""
    keyfacts: list[list[str]] = field(default_factory=list)
    doc: str = ""
    page: int | list[int] | None = None
    evidence: str | None = None
    answerable: bool = True
    kind: str = "fact"

    @property
    def pages(self) -> set[int]:
        if self.page is None:
            return set()
        return {int(p) for p in (self.page if isinstance(self.page, list) else [self.page])}

    def relevant(self, chunk: Chunk) -> bool:
        """True when ``chunk`` answers this item: same document and a gold page within the
        chunk's pages, or the evidence text inside the chunk (after :func:`oracle.grounding.fold`)."""
        if not self.answerable or chunk.doc_name != self.doc:
            return False
        if self.pages and any(chunk.page_start <= p <= chunk.page_end for p in self.pages):
            return True
        return bool(self.evidence) and fold(self.evidence) in fold(chunk.text)


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read a gold JSONL file.

    Raises:
        GoldError: the file is missing, a line is not a JSON object, or lacks ``id``/``question``,
            or an answerable item has neither ``page`` nor ``evidence``, or ``keyfacts`` is not a
            list of lists of strings.
    """
    path = Path(path)
    if not path.is_file():
        raise GoldError("gold.missing_file", where=str(path))
    items: list[GoldItem] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as e:
            raise GoldError("gold.not_json", where=f"{path.name}:{n}", why=e.msg) from None
        if not isinstance(data, dict) or not data.get("id") or not data.get("question"):
            raise GoldError("gold.needs_id", where=f"{path.name}:{n}")
        facts = data.get("keyfacts") or []
        if not (isinstance(facts, list) and all(isinstance(f, list) and all(isinstance(s, str) for s in f)
                                                for f in facts)):
            raise GoldError("gold.keyfacts", where=f"{path.name}:{n}")
        item = GoldItem.from_dict(data)
        if item.answerable and not item.doc:
            raise GoldError("gold.needs_doc", where=f"{path.name}:{n}")
        items.append(item)
    if not items:
        raise GoldError("gold.empty", where=path.name)
    return items


@dataclass
class EvalRun:
    """One configuration scored on the gold set.

    Attributes:
        label: the column name in reports (e.g. ``"rag 0.5b"``).
        generator: generator spec (:func:`oracle.llm.get_generator`).
        adapter: LoRA adapter folder, or None.
        mode: ``"rag"`` (chat as it is), ``"vanilla"`` (no answer guards, no lexical gate),
            ``"norag"`` (no retrieval) or ``"retrieval"`` (retrieval figures only, no generation).
        rag: retrieval and decoding settings.
        embedder: embedder of the index (None: the evaluation's default).
    """

    label: str
    generator: str
    adapter: str | None = None
    mode: RunMode = "rag"
    rag: RAGConfig = field(default_factory=RAGConfig)
    embedder: str | None = None

    def fingerprint(self) -> str:
        """Hex digest of everything that changes the answers (not the label)."""
        data = {"generator": self.generator, "adapter": self.adapter, "mode": self.mode,
                "rag": to_dict(self.rag), "embedder": self.embedder, "v": EVAL_VERSION}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# --- documents and index ------------------------------------------------------------------


def find_documents(items: Sequence[GoldItem], search: Sequence[str | Path]) -> dict[str, Path]:
    """The file of each document the gold set names, looked up by name in ``search`` folders.

    Raises:
        GoldError: a document is in none of the folders (the message lists them).
    """
    names = sorted({i.doc for i in items if i.doc})
    found: dict[str, Path] = {}
    for name in names:
        for folder in search:
            candidate = Path(folder) / name
            if candidate.is_file():
                found[name] = candidate
                break
        else:
            raise GoldError("gold.missing_doc", name=name, where=", ".join(str(s) for s in search))
    return found


def eval_workspace(root: Path, files: dict[str, Path], embedder: str, chunking: ChunkingConfig,
                   ingest: IngestConfig | None = None) -> Workspace:
    """The cached evaluation workspace for these documents, embedder and chunking:
    ``root/<16 hex>``, keyed on the files' sha256, the embedder name, the chunking config, the
    ingest, chunking and indexing code, and ``ingest.clean_pages`` when it is off."""
    import oracle.chunking
    import oracle.index
    import oracle.ingest

    h = hashlib.sha256()
    # a change of parsing, chunking or indexing code (how chunks and windows are embedded) rebuilds
    for module in (oracle.ingest, oracle.chunking, oracle.index):
        h.update(Path(module.__file__).read_bytes())
    for name in sorted(files):
        h.update(name.encode())
        h.update(hashlib.sha256(files[name].read_bytes()).digest())
    h.update(json.dumps([embedder, to_dict(chunking)], sort_keys=True).encode())
    if ingest is not None and not ingest.clean_pages:
        h.update(b"raw-pages")
    return Workspace(root / h.hexdigest()[:16])


def prepare_index(files: dict[str, Path], workspace: Workspace, embedder: str, chunking: ChunkingConfig,
                  progress: ProgressCallback | None = None, ingest: IngestConfig | None = None):
    """Ingest ``files`` into ``workspace`` and build its default index, unless already built
    (an index from before sentence windows existed is completed by :func:`build_index`).

    Returns:
        The :class:`oracle.index.VectorIndex`.
    """
    from oracle.index import build_index, load_index
    from oracle.ingest import ingest_file

    try:
        index = load_index(workspace)
        if index.windowed and {c.doc_name for c in index.chunks} >= set(files):
            return index
    except OracleError:
        pass
    docs = [ingest_file(path, workspace, cfg=ingest) for path in files.values()]
    return build_index(docs, workspace, embedder=embedder, chunking=chunking, progress=progress)


# --- one question ----------------------------------------------------------------------------


def _norag_messages(question: str, lang: str) -> list[dict]:
    from oracle.rag import NO_RAG_PROMPTS, not_found_sentence

    return [{"role": "system", "content": NO_RAG_PROMPTS[lang].format(not_found=not_found_sentence(lang))},
            {"role": "user", "content": question.strip()}]


def answer_one(item: GoldItem, run: EvalRun, index: Any, generator: Any) -> dict[str, Any]:
    """Answer ``item`` under ``run`` and time it.

    Returns:
        ``{"text", "first_token_s", "total_s", "abstained", "sources": [chunk_id],
        "citations": [{"chunk_id", "quote"}], "verdict"}``, seconds as floats.
    """
    from oracle import rag
    from oracle.schema import Answer

    start = time.perf_counter()
    first: float | None = None
    if run.mode == "norag":
        lang = rag.prompt_language(rag.detect_question_language(item.question))
        pieces = []
        for piece in generator.stream(_norag_messages(item.question, lang), max_new_tokens=run.rag.max_new_tokens,
                                      temperature=run.rag.temperature):
            if piece and first is None:
                first = time.perf_counter() - start
            pieces.append(piece)
        text = "".join(pieces).strip()
        total = time.perf_counter() - start
        return {"text": text, "first_token_s": first if first is not None else total, "total_s": total,
                "abstained": rag.is_abstention(text), "sources": [], "citations": [], "verdict": "",
                "generated": True}
    cfg = run.rag if run.mode == "rag" else replace(run.rag, guard=False)
    final: Answer | None = None
    for piece in rag.stream_answer(item.question, index, generator, cfg):
        if isinstance(piece, str):
            if piece and first is None:
                first = time.perf_counter() - start
        elif isinstance(piece, Answer):
            final = piece
    total = time.perf_counter() - start
    if final is None:  # pragma: no cover - stream_answer always ends with an Answer
        raise RuntimeError("stream_answer ended without an Answer")
    return {
        "text": final.text,
        "first_token_s": first if first is not None else total,
        "total_s": total,
        "abstained": (not final.grounded) or rag.is_abstention(final.text),
        "sources": [c.chunk_id for c in final.sources],
        "citations": [{"chunk_id": c.chunk_id, "quote": c.snippet} for c in final.citations],
        "verdict": final.verdict,
        "generated": bool(final.sources),
        "unsupported_guard": final.unsupported,
        "draft": final.draft,
        "p_answerable": final.p_answerable,
    }


def score_row(item: GoldItem, result: dict[str, Any], chunks: dict[str, Chunk]) -> dict[str, Any]:
    """Per-question scores of ``result`` (from :func:`answer_one`); ``chunks`` maps chunk ids to chunks."""
    text = strip_citations(result["text"])
    sources = [chunks[c].text for c in result["sources"] if c in chunks]
    all_facts, share = keyfact_scores(text, item.keyfacts) if item.answerable else (False, 0.0)
    abstained = bool(result["abstained"])
    from oracle import rag
    from oracle.evaluation import token_f1

    cites = []
    for c in result["citations"]:
        chunk = chunks.get(c["chunk_id"])
        cites.append(bool(chunk) and verify_quote(c["quote"], chunk.text) and item.relevant(chunk))
    claims_missing = [] if abstained else unsupported_claims(text, sources, item.question)
    sentences = [] if abstained else rag.answer_sentences(result["text"])
    return {
        "answerable": item.answerable,
        "keyfacts_all": bool(item.answerable and not abstained and all_facts),
        "keyfacts_share": share if (item.answerable and not abstained) else 0.0,
        "token_f1": token_f1(text, item.reference),
        "abstained": abstained,
        "unsupported": bool(claims_missing),
        "unsupported_claims": claims_missing,
        "echo": (not abstained) and is_echo(text, item.question),
        "faithfulness": None if abstained else faithfulness(text, sources),
        "citations_ok": sum(cites),
        "citations_n": len(cites),
        "sentences_n": len(sentences),
        "sentences_cited": sum(1 for s in sentences if rag.parse_citations(s)),
        "gold_in_sources": any(item.relevant(chunks[c]) for c in result["sources"] if c in chunks),
    }


# --- aggregation -------------------------------------------------------------------------------


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def retrieval_scores(items: Sequence[GoldItem], index: Any, hybrid: bool) -> dict[str, float]:
    """hit@1, hit@5 and MRR@10 of ``index`` on the answerable ``items``, by
    :func:`oracle.evaluation.retrieval_metrics` over the top 10 chunk ids, a chunk being relevant
    when :meth:`GoldItem.relevant` accepts it (gold sets name pages or evidence, not chunk ids)."""
    from oracle.evaluation import retrieval_metrics

    answerable = [i for i in items if i.answerable]
    if not answerable:
        return {"hit@1": 0.0, "hit@5": 0.0, "mrr@10": 0.0, "n_retrieval": 0}
    results = index.search_batch([i.question for i in answerable], top_k=10, hybrid=hybrid)
    rankings = [[hit.chunk.chunk_id for hit in hits] for hits in results]
    relevants = [{hit.chunk.chunk_id for hit in hits if item.relevant(hit.chunk)}
                 for item, hits in zip(answerable, results)]
    m = retrieval_metrics(rankings, relevants, ks=(1, 5, 10))
    return {"hit@1": m["hit@1"], "hit@5": m["hit@5"], "mrr@10": m["mrr@10"], "n_retrieval": len(answerable)}


def summarize(items: Sequence[GoldItem], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run's figures from its per-question ``rows`` (each ``{"id", "result", "scores"}``)."""
    by_id = {i.id: i for i in items}
    rows = [r for r in rows if r["id"] in by_id]
    ans = [r for r in rows if by_id[r["id"]].answerable]
    unans = [r for r in rows if not by_id[r["id"]].answerable]
    answered = [r for r in rows if not r["scores"]["abstained"]]

    def mean(values: Sequence[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    faith = [r["scores"]["faithfulness"] for r in answered if r["scores"]["faithfulness"] is not None]
    cites_n = sum(r["scores"]["citations_n"] for r in ans)
    sentences_n = sum(r["scores"].get("sentences_n", 0) for r in ans)
    # Latency of answers that reached the generator (a gated "not found" costs no generation).
    first = [r["result"]["first_token_s"] for r in rows if r["result"].get("generated", True)]
    total = [r["result"]["total_s"] for r in rows if r["result"].get("generated", True)]
    return {
        "n_answerable": len(ans),
        "n_unanswerable": len(unans),
        "keyfact_accuracy": mean([r["scores"]["keyfacts_all"] for r in ans]),
        "keyfact_share": mean([r["scores"]["keyfacts_share"] for r in ans]),
        "token_f1": mean([r["scores"]["token_f1"] for r in ans]),
        "abstention": mean([r["scores"]["abstained"] for r in unans]),
        "over_abstention": mean([r["scores"]["abstained"] for r in ans]),
        "unsupported": mean([r["scores"]["unsupported"] for r in answered]),
        "echo": mean([r["scores"]["echo"] for r in ans]),
        "citation_precision": (sum(r["scores"]["citations_ok"] for r in ans) / cites_n) if cites_n else 0.0,
        "n_citations": cites_n,
        "citation_coverage": (sum(r["scores"].get("sentences_cited", 0) for r in ans) / sentences_n
                              if sentences_n else 0.0),
        "faithfulness": mean(faith),
        "gold_in_sources": mean([r["scores"]["gold_in_sources"] for r in ans]),
        "first_token_p50": _pct(first, 0.5),
        "first_token_p95": _pct(first, 0.95),
        "answer_p50": _pct(total, 0.5),
        "answer_p95": _pct(total, 0.95),
    }


# --- the evaluation ------------------------------------------------------------------------------


@dataclass
class EvalReport:
    """Result of :func:`evaluate`: ``runs`` ``[{"label", "run", "summary", "retrieval"}]`` and
    the per-question ``rows`` by run label."""

    gold: list[str]
    runs: list[dict[str, Any]]
    rows: dict[str, list[dict[str, Any]]]
    created_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M:%S"))

    def to_json(self) -> str:
        return json.dumps({"gold": self.gold, "runs": self.runs, "rows": self.rows, "created_at": self.created_at},
                          ensure_ascii=False, indent=2, sort_keys=True)

    def markdown(self, lang: str = "en") -> str:
        return markdown_table(self.runs, lang)


#: (summary key, English header, Portuguese header, format)
COLUMNS: list[tuple[str, str, str, str]] = [
    ("hit@1", "hit@1", "hit@1", "{:.2f}"),
    ("hit@5", "hit@5", "hit@5", "{:.2f}"),
    ("mrr@10", "MRR@10", "MRR@10", "{:.3f}"),
    ("keyfact_accuracy", "key facts", "fatos-chave", "{:.0%}"),
    ("keyfact_share", "facts found", "fatos achados", "{:.0%}"),
    ("token_f1", "token F1", "F1", "{:.2f}"),
    ("abstention", "abstention", "recusas corretas", "{:.0%}"),
    ("over_abstention", "over-abstention", "recusas indevidas", "{:.0%}"),
    ("unsupported", "unsupported", "sem fonte", "{:.0%}"),
    ("echo", "echo", "eco", "{:.0%}"),
    ("citation_precision", "citation precision", "citações corretas", "{:.0%}"),
    ("citation_coverage", "sentences cited", "frases com fonte", "{:.0%}"),
    ("faithfulness", "faithfulness", "fidelidade", "{:.2f}"),
    ("first_token_p50", "1st token p50 s", "1º token p50 s", "{:.1f}"),
    ("answer_p50", "answer p50 s", "resposta p50 s", "{:.1f}"),
    ("answer_p95", "answer p95 s", "resposta p95 s", "{:.1f}"),
]


def markdown_table(runs: Sequence[dict[str, Any]], lang: str = "en") -> str:
    """Runs side by side: one row per run, one column per figure of :data:`COLUMNS`."""
    pt = lang.startswith("pt")
    head = ["run" if not pt else "execução"] + [(c[2] if pt else c[1]) for c in COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run in runs:
        figures = {**run.get("retrieval", {}), **run["summary"]}
        engine = run["run"].get("engine") or ""
        cells = [run["label"] + (f" ({engine})" if engine == "llama.cpp" and engine not in run["label"] else "")]
        for key, _en, _pt, fmt in COLUMNS:
            value = figures.get(key)
            cells.append("–" if value is None or (key.startswith(("hit", "mrr")) and run["run"]["mode"] == "norag")
                         else fmt.format(value))
        lines.append("| " + " | ".join(cells) + " |")
    n_a = runs[0]["summary"]["n_answerable"] if runs else 0
    n_u = runs[0]["summary"]["n_unanswerable"] if runs else 0
    note = (f"Perguntas com resposta nos documentos: {n_a}; sem resposta: {n_u}." if pt
            else f"Answerable questions: {n_a}; unanswerable: {n_u}.")
    return "\n".join(lines) + "\n\n" + note + "\n"


def _load_rows(path: Path, fingerprint: str) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill: that question is answered again
        if row.get("fingerprint") == fingerprint:
            rows[row["id"]] = row
    return rows


def spread(items: Sequence[GoldItem], n: int) -> list[GoldItem]:
    """``n`` items evenly spaced over ``items`` (all of them when ``n >= len(items)``), in order:
    a gold file is written document order, so its first items would all come from the first pages."""
    if n >= len(items):
        return list(items)
    if n <= 0:
        return []
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def _index_key(index: Any) -> str:
    """8 hex digits naming an index's content (embedder and chunk ids): stored answers are reused
    only on the same index."""
    h = hashlib.sha256(str(getattr(index, "embedder", "")).encode())
    for chunk in getattr(index, "chunks", []):
        h.update(chunk.chunk_id.encode())
    return h.hexdigest()[:8]


def warm_up(index: Any, generator: Any) -> None:
    """Load the embedder and the generator before timing (a first query pays model loading)."""
    if index is not None:
        index.search("aquecimento", top_k=1)
    generator.generate([{"role": "user", "content": "Olá"}], max_new_tokens=2)


def evaluate(
    gold: Sequence[str | Path],
    runs: Sequence[EvalRun],
    docs: Sequence[str | Path] = (),
    out_dir: str | Path | None = None,
    embedder: str | None = None,
    chunking: ChunkingConfig | None = None,
    limit: int | None = None,
    workspace: Workspace | None = None,
    progress: ProgressCallback | None = None,
    generators: dict[str, Any] | None = None,
    index: Any = None,
    ingest: IngestConfig | None = None,
) -> EvalReport:
    """Score each of ``runs`` on the gold files.

    Args:
        gold: gold JSONL files; their items are pooled (ids must be unique across files).
        runs: the configurations to compare.
        docs: folders holding the documents the gold items name (searched in order after the
            gold files' own folders).
        out_dir: where ``rows.jsonl`` (per question, appended as produced: a rerun resumes),
            ``report.json`` and ``report.md`` go; default ``<workspace>/eval``.
        embedder: embedder of the index (default: ``config.DEFAULT_EMBEDDER``; a run may override).
        chunking: chunking of the index (default ``ChunkingConfig()``).
        limit: score only ``limit`` answerable and ``limit`` unanswerable items of each gold
            file, evenly spaced over it (:func:`spread`; quick checks).
        workspace: the workspace whose ``eval/`` folder caches ingested documents and indexes.
        progress: ``progress(done, total, "run: question")``.
        generators: ``{spec: generator}`` already loaded (tests pass fakes here).
        index: an index to evaluate as it is (the app passes the chat's index): no document is
            looked up or ingested, and ``embedder``/``EvalRun.embedder`` are ignored.
        ingest: how documents are parsed (``clean_pages=False`` keeps running headers and tables
            of contents, to measure what cleaning changes).

    Returns:
        An :class:`EvalReport`; the same figures are written to ``out_dir``.

    Raises:
        GoldError: a gold file or a named document is missing or malformed.
        GenerationError, ModelNotFoundError: a generator cannot run.
    """
    from oracle.config import DEFAULT_EMBEDDER
    from oracle.llm import get_generator, split_spec

    workspace = workspace or Workspace()
    chunking = chunking or ChunkingConfig()
    items: list[GoldItem] = []
    for path in gold:
        loaded = load_gold(path)
        if limit:
            loaded = (spread([i for i in loaded if i.answerable], limit)
                      + spread([i for i in loaded if not i.answerable], limit))
        items.extend(loaded)
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise GoldError("gold.duplicate_ids", where=", ".join(str(g) for g in gold))
    files: dict[str, Path] = {}
    if index is None:
        search = [Path(p).parent for p in gold] + [Path(d) for d in docs]
        files = find_documents(items, search)
    out = Path(out_dir) if out_dir else workspace.home / "eval"
    out.mkdir(parents=True, exist_ok=True)
    rows_path = out / "rows.jsonl"
    indexes: dict[str, Any] = {}
    generators = dict(generators or {})
    report_runs: list[dict[str, Any]] = []
    report_rows: dict[str, list[dict[str, Any]]] = {}
    total = len(items) * len(runs)
    done = 0
    # Runs with an adapter run on transformers (peft); then every local run does, so that a base
    # against adapter comparison (the improve gate) measures the adapter, not the engine.
    same_engine = {"engine": "transformers"} if any(r.adapter for r in runs) else {}
    for run in runs:
        emb = run.embedder or embedder or DEFAULT_EMBEDDER
        if index is not None:
            emb = getattr(index, "embedder", emb)
            indexes.setdefault(emb, index)
        if emb not in indexes:
            ews = eval_workspace(workspace.home / "eval" / "cache", files, emb, chunking, ingest)
            indexes[emb] = prepare_index(files, ews, emb, chunking, ingest=ingest)
        run_index = indexes[emb]
        chunks = {c.chunk_id: c for c in run_index.chunks}
        if run.mode == "retrieval":
            report_runs.append({"label": run.label, "run": {"generator": "", "adapter": None, "mode": run.mode,
                                                            "embedder": emb, "rag": to_dict(run.rag)},
                                "summary": {"n_answerable": sum(i.answerable for i in items),
                                            "n_unanswerable": sum(not i.answerable for i in items)},
                                "retrieval": retrieval_scores(items, run_index, run.rag.hybrid)})
            report_rows[run.label] = []
            done += len(items)
            continue
        key = f"{run.generator}|{run.adapter}"
        generator = generators.get(key) or (generators.get(run.generator) if run.adapter is None else None)
        if generator is None:
            kw = same_engine if split_spec(run.generator)[0] == "local" else {}
            generator = generators[key] = get_generator(run.generator, adapter=run.adapter, **kw)
        engine = getattr(generator, "engine", "")
        fp = run.fingerprint() + "-" + _index_key(run_index) + ("-llama.cpp" if engine == "llama.cpp" else "")
        cached = _load_rows(rows_path, fp)
        if any(item.id not in cached for item in items):
            warm_up(run_index, generator)
        rows = []
        for item in items:
            row = cached.get(item.id)
            if row is None or row.get("question") != item.question:
                result = answer_one(item, run, run_index, generator)
                row = {"id": item.id, "question": item.question, "fingerprint": fp, "label": run.label,
                       "result": result}
                append_jsonl(rows_path, [row])
            row = {**row, "scores": score_row(item, row["result"], chunks)}
            rows.append(row)
            done += 1
            if progress is not None:
                progress(done, total, f"{run.label}: {item.question}")
        retrieval = {} if run.mode == "norag" else retrieval_scores(items, run_index, run.rag.hybrid)
        report_runs.append({"label": run.label, "run": {"generator": run.generator, "adapter": run.adapter,
                                                        "engine": engine, "mode": run.mode, "embedder": emb,
                                                        "rag": to_dict(run.rag)},
                            "summary": summarize(items, rows), "retrieval": retrieval})
        report_rows[run.label] = rows
    report = EvalReport(gold=[str(g) for g in gold], runs=report_runs, rows=report_rows)
    write_text_atomic(out / "report.json", report.to_json())
    write_text_atomic(out / "report.md", report.markdown())
    return report


# --- two runs, question by question ----------------------------------------------------------

#: What happened to one question in a run: an answerable one was answered with every key fact
#: (``"right"``), answered without them (``"wrong"``) or refused (``"refused"``); an unanswerable
#: one was refused (``"abstained"``) or answered (``"answered"``).
OUTCOMES = ("right", "wrong", "refused", "abstained", "answered")


def read_report(path: str | Path) -> dict[str, Any]:
    """The report :func:`evaluate` wrote: ``path`` is its ``out_dir`` or its ``report.json``.

    Returns:
        ``{"gold", "runs", "rows", "created_at"}`` as in :meth:`EvalReport.to_json`.

    Raises:
        GoldError: ``gold.no_report`` when there is no readable report there.
    """
    file = Path(path)
    if file.is_dir():
        file = file / "report.json"
    try:
        report = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldError("gold.no_report", where=str(file)) from exc
    if not isinstance(report, dict) or not isinstance(report.get("rows"), dict):
        raise GoldError("gold.no_report", where=str(file))
    return report


def outcome(row: dict[str, Any], answerable: bool) -> str:
    """One of :data:`OUTCOMES` for a report row (its ``scores``)."""
    scores = row["scores"]
    if not answerable:
        return "abstained" if scores["abstained"] else "answered"
    if scores["abstained"]:
        return "refused"
    return "right" if scores["keyfacts_all"] else "wrong"


def answerable_ids(report: dict[str, Any]) -> dict[str, bool]:
    """``{question id: answerable}`` of a report (:func:`read_report`): from its rows' scores, and
    for a report written before the scores said so, from the gold files it names, where they still
    exist (a question found in neither is left out)."""
    known: dict[str, bool] = {}
    unknown = False
    for rows in report["rows"].values():
        for row in rows:
            if "answerable" in row.get("scores", {}):
                known[row["id"]] = bool(row["scores"]["answerable"])
            else:
                unknown = True
    if not unknown:  # a current report: its gold files need not be read
        return known
    for path in report.get("gold", []):
        try:
            items = load_gold(path)
        except GoldError:
            continue
        for item in items:
            known.setdefault(item.id, item.answerable)
    return known


def _run_rows(report: dict[str, Any], label: str | None) -> tuple[str, dict[str, dict[str, Any]]]:
    """``(label, {question id: row})`` of run ``label`` of ``report`` (default: its first run).

    Raises:
        GoldError: ``gold.no_run`` when the report has no run of that label (or none at all).
    """
    labels = list(report["rows"])
    if not labels or (label is not None and label not in report["rows"]):
        raise GoldError("gold.no_run", label=label or "", labels=", ".join(labels) or "-")
    chosen = label if label is not None else labels[0]
    return chosen, {row["id"]: row for row in report["rows"][chosen]}


def compare_reports(before: dict[str, Any], after: dict[str, Any], label_before: str | None = None,
                    label_after: str | None = None) -> dict[str, Any]:
    """Two runs question by question: what changed between ``before`` and ``after``
    (:func:`read_report`), on the questions both answered.

    Args:
        before, after: two reports.
        label_before, label_after: the run of each report to compare (default: its first run).

    Returns:
        ``{"before": label, "after": label, "n": questions in both, "transitions": [{"before":
        outcome, "after": outcome, "n": count}], "changed": [{"id", "question", "before", "after",
        "before_text", "after_text", "before_p", "after_p"}]}``: outcomes of :data:`OUTCOMES`;
        ``transitions`` count every pair of outcomes, unchanged ones included, most frequent first;
        ``changed`` lists the questions whose outcome or answer text changed, in ``after``'s order;
        ``*_p`` the generator's own judgement of its sources (``p_answerable``) or None.
        Questions whose answerability is unknown (an old report whose gold file is gone) are left out.
    """
    name_b, rows_b = _run_rows(before, label_before)
    name_a, rows_a = _run_rows(after, label_after)
    answerable = {**answerable_ids(before), **answerable_ids(after)}
    counts: dict[tuple[str, str], int] = {}
    changed = []
    for qid, row_a in rows_a.items():
        row_b = rows_b.get(qid)
        if row_b is None or qid not in answerable:
            continue
        ob, oa = outcome(row_b, answerable[qid]), outcome(row_a, answerable[qid])
        counts[(ob, oa)] = counts.get((ob, oa), 0) + 1
        if ob != oa or row_b["result"]["text"] != row_a["result"]["text"]:
            changed.append({"id": qid, "question": row_a["question"], "before": ob, "after": oa,
                            "before_text": row_b["result"]["text"], "after_text": row_a["result"]["text"],
                            "before_p": row_b["result"].get("p_answerable"),
                            "after_p": row_a["result"].get("p_answerable")})
    transitions = [{"before": b, "after": a, "n": n}
                   for (b, a), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"before": name_b, "after": name_a, "n": sum(counts.values()), "transitions": transitions,
            "changed": changed}


def comparison_markdown(comparison: dict[str, Any], lang: str = "en", width: int = 100) -> str:
    """:func:`compare_reports` as Markdown: the transitions table, then each changed question with
    both answers cut to ``width`` characters."""
    from oracle.i18n import t

    def p(value: float | None) -> str:
        return "" if value is None else f" (P {value:.2f})"

    def name(o: str) -> str:
        return t(f"eval.outcome.{o}", lang)

    lines = [t("eval.compare.head", lang, n=comparison["n"], before=comparison["before"], after=comparison["after"]),
             "", f"| {t('eval.compare.before', lang)} | {t('eval.compare.after', lang)} | n |", "|---|---|---|"]
    lines += [f"| {name(x['before'])} | {name(x['after'])} | {x['n']} |" for x in comparison["transitions"]]
    for c in comparison["changed"]:
        lines += ["", f"**{c['id']}** {c['question']}",
                  f"- {t('eval.compare.before', lang)}: {name(c['before'])}{p(c['before_p'])}: "
                  f"{' '.join(c['before_text'].split())[:width]}",
                  f"- {t('eval.compare.after', lang)}: {name(c['after'])}{p(c['after_p'])}: "
                  f"{' '.join(c['after_text'].split())[:width]}"]
    return "\n".join(lines)
