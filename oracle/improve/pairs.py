"""Stage 1 of "Melhorar o Oráculo": training questions from the documents, each with its verified quote.

The teacher (:func:`oracle.improve.config.strongest_generator`) is asked, for chunks spread evenly
over every document (:func:`oracle.qa_generation.spread_chunks`; noise chunks such as tables of
contents and page headers are skipped by :func:`oracle.chunking.is_noise_chunk`), for
question/answer pairs that each carry the sentence of the chunk supporting the answer, copied
word for word (RAFT's quote; Zhang et al. 2024, "RAFT: Adapting Language Model to Domain Specific
RAG", arXiv:2403.10131). Replies are streamed, parsed, repaired and retried by
:func:`oracle.qa_generation.ask_pairs`. Through an OpenAI-compatible server the chunks are asked
``ImproveConfig.concurrency`` at a time (threads; the ``openai`` client is thread-safe); a local
model is asked one chunk at a time (it computes one reply at a time anyway).

A pair is kept only when it passes every check, in this order, and each rejection is counted by
its reason (:data:`REJECT_REASONS`):

1. ``no_quote``: no quote; ``quote_not_found``: the quote is not in the chunk verbatim after
   normalisation (case, accents, spaces and punctuation: words and numbers in order,
   :func:`oracle.grounding.verify_quote`);
2. the checks of :func:`oracle.qa_generation.reject_reason`: ``short_question`` and
   ``refers_to_text`` (the question cannot be understood alone), ``empty_answer``, ``trivial``,
   ``not_grounded``;
3. ``quote_unsupported``: the quote, although in the chunk, does not state the answer: less than
   :data:`MIN_QUOTE_SUPPORT` of what the answer adds to the question is in it, or one of the
   answer's numbers or names is not (:func:`oracle.grounding.quote_support`). Such a pair would
   teach the student to cite one sentence and answer from another;
4. ``echo``: the answer repeats the question (:func:`oracle.grounding.is_echo`);
5. ``language``: the question and answer are not in the document's language
   (:func:`oracle.rag.detect_question_language`; texts too short to classify pass);
6. ``duplicate``: the same question (:func:`oracle.qa_generation.normalize_question`) already
   exists in ``data_qa/`` or in this run.
7. ``not_retrieved`` (with ``ImproveConfig.round_trip_k`` > 0 and the chat's index): the chat's
   retriever, asked the question, does not find its passage (:func:`retrieves_own_passage`).

Chunks that yield no valid JSON after the retries are counted in ``invalid_reply``.

Files, in the run folder (``improve/<run_id>/``): ``pairs.jsonl`` (kept pairs: a
:class:`~oracle.schema.QAPair` plus ``quote`` and ``run_id``), ``pairs.rejected.jsonl`` (each dropped
pair with its reason, to see what the teacher got wrong) and ``pairs.done.jsonl`` (one line per
finished chunk with its counts). Both are appended chunk by chunk, so a cancelled or killed run
resumes after the last finished chunk. :func:`publish_pairs` then appends the kept pairs to
``data_qa/<doc_id>.qa.jsonl`` (status ``generated``), where the Perguntas e respostas tab shows them
for review.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oracle.config import QAConfig, Workspace
from oracle.improve.config import ImproveConfig
from oracle.schema import Chunk, ProgressCallback, QAPair, Record, append_jsonl, iter_jsonl, now_iso

logger = logging.getLogger(__name__)

PAIRS_FILE = "pairs.jsonl"
PAIRS_DONE_FILE = "pairs.done.jsonl"
REJECTED_FILE = "pairs.rejected.jsonl"

MIN_QUOTE_SUPPORT = 0.5
"""Least share of what an answer adds to its question that its quote must state
(:func:`oracle.grounding.quote_support`), for the pair to be kept."""

PROMPT_VERSION = 2
"""Version of :data:`PROMPTS` (the sentences the teacher sees); recorded in the run report.
Version 2 asks for the questions a user would ask and for full-sentence answers, with one
example of form: version 1's pairs were 71% "Qual/Quais" questions, and 39% of their answers
were three words or fewer ("msmtp", "3007"), where a person's answers had a median of 13 words
(bench/RESULTS.md, session 30)."""

REJECT_REASONS = ("invalid_reply", "no_quote", "quote_not_found", "short_question", "refers_to_text",
                  "empty_answer", "trivial", "not_grounded", "quote_unsupported", "echo", "language",
                  "duplicate", "not_retrieved")
"""Why a pair (or, for ``invalid_reply``, a whole chunk) was dropped; i18n ``improve.reject.<reason>``."""

PROMPTS: dict[str, dict[str, str]] = {
    "pt": {
        "system": ("Você cria dados de treino a partir de documentos. Responda somente com um objeto JSON válido, "
                   "sem nenhum texto antes ou depois."),
        "user": (
            "Texto:\n\"\"\"\n{text}\n\"\"\"\n\n"
            "Escreva exatamente {n} pares de pergunta e resposta em português sobre o texto acima.\n"
            "Regras:\n"
            "- Cada pergunta deve poder ser respondida somente com as informações do texto.\n"
            "- Cada pergunta deve se entender sozinha: não escreva \"segundo o texto\" nem \"no trecho\".\n"
            "- Faça as perguntas que um usuário deste documento faria com as próprias palavras: "
            "como fazer algo, por que, para que serve, quando, quanto, em que condições. "
            "Não pergunte o nome de uma seção, de uma tabela ou de uma lista.\n"
            "- Cada resposta é uma frase completa, com sujeito e verbo, que traz a informação pedida "
            "sem repetir a pergunta. Exemplo da forma (não do conteúdo): pergunta \"Como faço para "
            "cancelar a minha inscrição?\", resposta \"A inscrição é cancelada pelo formulário do "
            "portal, até o fim do prazo.\"\n"
            "- Em \"quote\", copie do texto, palavra por palavra, a frase que comprova a resposta.\n"
            "- Não repita perguntas.\n"
            "Formato (JSON, com exatamente {n} itens em \"pairs\"):\n{format}"
        ),
    },
    "en": {
        "system": ("You create training data from documents. Reply with one valid JSON object only, "
                   "with no text before or after it."),
        "user": (
            "Text:\n\"\"\"\n{text}\n\"\"\"\n\n"
            "Write exactly {n} question and answer pairs {language_clause} about the text above.\n"
            "Rules:\n"
            "- Each question must be answerable only from the information in the text.\n"
            "- Each question must stand on its own: do not write \"according to the text\" or \"in the passage\".\n"
            "- Ask the questions a user of this document would ask in their own words: how to do something, "
            "why, what for, when, how much, under which conditions. Do not ask for the name of a section, a "
            "table or a list.\n"
            "- Each answer is one full sentence, with subject and verb, that gives the information asked for "
            "without repeating the question. Example of the form (not of the content): question \"How do I "
            "cancel my registration?\", answer \"The registration is cancelled with the portal's form, until "
            "the deadline.\"\n"
            "- In \"quote\", copy word for word from the text the sentence that proves the answer.\n"
            "- Do not repeat questions.\n"
            "Format (JSON, with exactly {n} items in \"pairs\"):\n{format}"
        ),
    },
}


def pair_messages(chunk: Chunk, n: int, language: str | None = None) -> list[dict[str, str]]:
    """Chat messages asking for exactly ``n`` pairs ``{"question", "answer", "quote"}`` about ``chunk``
    (:func:`oracle.qa_generation.qa_messages` with this module's :data:`PROMPTS`: Portuguese for
    ``pt``/unknown languages, English otherwise, asking for the text's language)."""
    from oracle.qa_generation import qa_messages

    return qa_messages(chunk, n, language, prompts=PROMPTS, fields=("question", "answer", "quote"))


def quote_states_answer(pair: dict[str, Any]) -> bool:
    """True when the pair ``{"question", "answer", "quote"}`` has no quote, or its quote states at least
    :data:`MIN_QUOTE_SUPPORT` of what the answer adds to the question, with every number and name
    (:func:`oracle.grounding.quote_support`)."""
    from oracle.grounding import quote_support

    quote = (pair.get("quote") or "").strip()
    return not quote or quote_support(pair.get("answer", ""), quote, pair.get("question", "")) >= MIN_QUOTE_SUPPORT


def retrieves_own_passage(index: Any, pair: dict[str, Any], top_k: int) -> bool:
    """Round-trip consistency: True when the chat's retriever, asked the pair's question, puts the
    pair's own chunk (its ``chunk_id``), or a chunk holding its verified ``quote``
    (:func:`oracle.grounding.verify_quote`: the overlap of two chunks), among its ``top_k`` hits
    (:func:`oracle.rag.retrieve` with :class:`~oracle.config.RAGConfig`'s hybrid default).

    A generated question whose passage is not found by its own words is usually one that cannot
    be understood alone ("Qual é o nome do livro?", "Quantos programas foram listados?"); the
    filter is from Alberti et al. 2019, "Synthetic QA Corpora Generation with Roundtrip
    Consistency" (ACL), and Dai et al. 2022, "Promptagator" (arXiv:2209.11755). Costs one query
    embedding (tens of milliseconds on a CPU)."""
    from oracle import rag
    from oracle.config import RAGConfig
    from oracle.grounding import verify_quote

    quote = pair.get("quote") or ""  # verify_quote is False for an empty quote
    hits = rag.retrieve(index, pair.get("question", ""), RAGConfig(top_k=top_k))
    return any(hit.chunk.chunk_id == pair.get("chunk_id") or verify_quote(quote, hit.chunk.text)
               for hit in hits)


def pair_reject_reason(item: dict[str, Any], chunk: Chunk, language: str) -> str | None:
    """Why the pair ``item`` (``{"question", "answer", "quote"?}``) about ``chunk`` is dropped, one of
    :data:`REJECT_REASONS` but ``duplicate``/``invalid_reply``, or None when it is kept.

    ``language`` is the document's ISO 639-1 code; a pair whose question or answer (each of at
    least :data:`oracle.rag.QUESTION_MIN_LETTERS` letters, else not classified) is classified as
    another language is dropped."""
    from oracle import rag
    from oracle.grounding import is_echo, verify_quote
    from oracle.qa_generation import reject_reason

    question, answer = item.get("question", ""), item.get("answer", "")
    quote = (item.get("quote") or "").strip()
    if not quote:
        return "no_quote"
    if not verify_quote(quote, chunk.text):
        return "quote_not_found"
    reason = reject_reason(question, answer, chunk.text)
    if reason:
        return reason
    if not quote_states_answer(item):
        return "quote_unsupported"
    if is_echo(answer, question):
        return "echo"
    if language in rag.QUESTION_LANGUAGES:
        for text in (question, answer):
            if sum(ch.isalpha() for ch in text) >= rag.QUESTION_MIN_LETTERS and rag.detect_question_language(text) != language:
                return "language"
    return None


@dataclass
class PairsReport(Record):
    """What stage 1 did (over every session of a resumed run).

    Attributes:
        teacher: the generator spec that wrote the pairs.
        concurrency: requests in flight at once (1 for a local model).
        n_documents: documents read.
        n_chunks: chunks of those documents (noise already removed at chunking).
        n_noise: stored chunks skipped as noise (:func:`oracle.chunking.is_noise_chunk`).
        n_selected: chunks chosen for questions (spread over each document).
        n_done: chunks finished (this session and earlier ones).
        n_kept: pairs kept.
        rejections: ``{reason: count}`` over :data:`REJECT_REASONS` (zeros included).
        n_retries: extra generations after invalid replies (this session).
        n_tokens: tokens generated (this session, from the generator's ``last_stats``; approximate with
            concurrent requests, which share that attribute).
        seconds: wall time of this session, in seconds.
        status: ``"completed"`` or ``"cancelled"``.
        prompt_version: :data:`PROMPT_VERSION`.
    """

    teacher: str = ""
    concurrency: int = 1
    n_documents: int = 0
    n_chunks: int = 0
    n_noise: int = 0
    n_selected: int = 0
    n_done: int = 0
    n_kept: int = 0
    rejections: dict[str, int] = field(default_factory=dict)
    n_retries: int = 0
    n_tokens: int = 0
    seconds: float = 0.0
    status: str = "completed"
    prompt_version: int = PROMPT_VERSION

    @property
    def n_rejected(self) -> int:
        """Pairs dropped (chunks with invalid replies not counted)."""
        return sum(v for k, v in self.rejections.items() if k != "invalid_reply")


def is_concurrent(generator: Any) -> bool:
    """True for a generator that serves parallel requests (an OpenAI-compatible server)."""
    from oracle.llm import OpenAIGenerator

    return isinstance(generator, OpenAIGenerator) or bool(getattr(generator, "concurrent", False))


def candidate_chunks(workspace: Workspace, cfg: ImproveConfig) -> tuple[list[tuple[Any, Chunk]], int, int, int]:
    """The chunks that get questions: ``([(document, chunk)], n_documents, n_chunks, n_noise)``.

    Per document: its stored chunks (:func:`oracle.chunking.document_chunks`), minus noise, minus
    chunks that already have pairs in ``data_qa/`` when ``cfg.use_existing_pairs`` (those pairs are
    used as they are), then ``cfg.max_chunks`` of them spread evenly over the document
    (:func:`oracle.qa_generation.spread_chunks`; chunks under ``cfg.min_chunk_tokens`` tokens skipped).
    """
    from oracle.chunking import document_chunks, is_noise_chunk
    from oracle.ingest import list_documents
    from oracle.qa_generation import spread_chunks

    out: list[tuple[Any, Chunk]] = []
    docs = list_documents(workspace)
    n_chunks = n_noise = 0
    for doc in docs:
        chunks = document_chunks(workspace, doc)
        n_chunks += len(chunks)
        clean = [c for c in chunks if not is_noise_chunk(c.text)]
        n_noise += len(chunks) - len(clean)
        have = ({r.get("chunk_id") for r in iter_jsonl(workspace.qa_file(doc.doc_id))}
                if cfg.use_existing_pairs else set())
        chosen = spread_chunks(clean, have, None, cfg.min_chunk_tokens, cfg.max_chunks or len(clean)) or set()
        out.extend((doc, c) for c in clean if c.chunk_id in chosen)
    return out, len(docs), n_chunks, n_noise


def generate_pairs(
    workspace: Workspace,
    cfg: ImproveConfig,
    run_dir: str | Path,
    generator: Any,
    run_id: str = "",
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    index: Any | None = None,
) -> PairsReport:
    """Stage 1: write quote-verified QA pairs for the chosen chunks into ``run_dir/pairs.jsonl``.

    Args:
        workspace: documents, their chunks and ``data_qa/`` (for duplicates).
        cfg: chunks per document, pairs per chunk, retries, concurrency...
        run_dir: the run's folder (created); chunks listed in its ``pairs.done.jsonl`` are skipped.
        generator: the teacher (any :class:`oracle.llm.Generator`); its ``name`` is stored on each pair.
        run_id: stored on each pair.
        progress: ``progress(done, total, text)`` after each chunk (``total`` = chunks selected).
        should_stop: polled after each chunk; True stops (pending requests are abandoned) and the
            report's status is ``"cancelled"``.
        index: the chat's index (:class:`oracle.index.VectorIndex`); with ``cfg.round_trip_k`` > 0, a
            pair that passes every other check is dropped as ``not_retrieved`` when the index, asked
            its question, does not put its passage in that many hits (:func:`retrieves_own_passage`).
            None: no such check.

    Returns:
        A :class:`PairsReport` whose counts include earlier sessions of the same run.

    Raises:
        GenerationError: the teacher failed (server down, model missing); chunks finished before
            are kept and a rerun resumes after them.
    """
    from oracle.i18n import t
    from oracle.qa_generation import QAReport, ask_pairs, normalize_question

    start = time.perf_counter()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    pairs_path, done_path = run_dir / PAIRS_FILE, run_dir / PAIRS_DONE_FILE
    selected, n_docs, n_chunks, n_noise = candidate_chunks(workspace, cfg)
    done_rows = list(iter_jsonl(done_path))
    done = {r["chunk_id"] for r in done_rows if "chunk_id" in r}
    counts: Counter[str] = Counter({reason: 0 for reason in REJECT_REASONS})
    for row in done_rows:
        counts.update(row.get("rejections") or {})
    seen = {normalize_question(r.get("question", "")) for p in sorted(workspace.data_qa.glob("*.qa.jsonl"))
            for r in iter_jsonl(p)}
    kept_before = list(iter_jsonl(pairs_path))
    seen |= {normalize_question(r.get("question", "")) for r in kept_before}
    name = getattr(generator, "name", type(generator).__name__)
    workers = cfg.concurrency if is_concurrent(generator) else 1
    report = PairsReport(teacher=name, concurrency=workers, n_documents=n_docs, n_chunks=n_chunks, n_noise=n_noise,
                         n_selected=len(selected), n_kept=len(kept_before))
    todo = [(doc, c) for doc, c in selected if c.chunk_id not in done]
    n_done = len(selected) - len(todo)
    qa_cfg = QAConfig(pairs_per_chunk=cfg.pairs_per_chunk, max_retries=cfg.max_retries,
                      max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature)

    def ask(doc: Any, chunk: Chunk) -> tuple[list[dict], int, QAReport]:
        lang = chunk.language if chunk.language not in ("", "und") else doc.language
        own = QAReport()
        raw, n_bad = ask_pairs(generator, pair_messages(chunk, cfg.pairs_per_chunk, lang), qa_cfg, own, chunk.chunk_id)
        return raw, n_bad, own

    def finish(doc: Any, chunk: Chunk, raw: list[dict], n_bad: int, own: QAReport) -> None:
        nonlocal n_done
        lang = chunk.language if chunk.language not in ("", "und") else doc.language
        reasons: Counter[str] = Counter()
        kept: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        if not raw and n_bad:
            reasons["invalid_reply"] += 1
        for item in raw[: cfg.pairs_per_chunk]:
            reason = pair_reject_reason(item, chunk, (lang or "")[:2])
            key = normalize_question(item.get("question", ""))
            if reason is None and key in seen:
                reason = "duplicate"
            if reason is None and index is not None and cfg.round_trip_k > 0 and not retrieves_own_passage(
                    index, {**item, "chunk_id": chunk.chunk_id}, cfg.round_trip_k):
                reason = "not_retrieved"
            if reason:
                reasons[reason] += 1
                dropped.append({"chunk_id": chunk.chunk_id, "reason": reason, "question": item.get("question"),
                                "answer": item.get("answer"), "quote": item.get("quote")})
                continue
            seen.add(key)
            pair = QAPair(question=item["question"].strip(), answer=item["answer"].strip(), doc_id=doc.doc_id,
                          doc_name=chunk.doc_name or doc.name, chunk_id=chunk.chunk_id, page=chunk.page_start,
                          language=lang or "und", generator=name)
            kept.append({**pair.to_dict(), "quote": item["quote"].strip(), "run_id": run_id})
        append_jsonl(pairs_path, kept)  # pairs first, then the done mark: a crash between redoes the chunk
        append_jsonl(run_dir / REJECTED_FILE, dropped)
        append_jsonl(done_path, [{"chunk_id": chunk.chunk_id, "n_kept": len(kept), "rejections": dict(reasons),
                                  "n_bad_replies": n_bad, "created_at": now_iso()}])
        counts.update(reasons)
        report.n_kept += len(kept)
        report.n_retries += own.n_retries
        report.n_tokens += own.n_tokens
        n_done += 1
        if progress is not None:
            progress(n_done, len(selected), t("improve.pairs.progress", done=n_done, total=len(selected),
                                              pairs=report.n_kept))

    if progress is not None:
        progress(n_done, len(selected), t("improve.pairs.progress", done=n_done, total=len(selected),
                                          pairs=report.n_kept))
    cancelled = False
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="oracle-pairs") as pool:
        queue = list(todo)
        running: dict[Future, tuple[Any, Chunk]] = {}
        try:
            while queue or running:
                while queue and len(running) < workers and not cancelled:
                    doc, chunk = queue.pop(0)
                    running[pool.submit(ask, doc, chunk)] = (doc, chunk)
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    doc, chunk = running.pop(future)
                    finish(doc, chunk, *future.result())
                if should_stop is not None and should_stop():
                    cancelled = True
                    queue.clear()
        finally:
            for future in running:
                future.cancel()
    report.n_done = n_done
    report.rejections = {reason: int(counts.get(reason, 0)) for reason in REJECT_REASONS}
    report.seconds = round(time.perf_counter() - start, 3)
    report.status = "cancelled" if cancelled and n_done < len(selected) else "completed"
    logger.info("pairs: %d kept from %d chunks (%d selected), rejections %s, %.1f s, %d at a time",
                report.n_kept, n_done, len(selected), report.rejections, report.seconds, workers)
    return report


def load_pairs(run_dir: str | Path) -> list[dict[str, Any]]:
    """The kept pairs of a run (``pairs.jsonl``): QAPair dicts with ``quote`` and ``run_id``."""
    return list(iter_jsonl(Path(run_dir) / PAIRS_FILE))


def publish_pairs(workspace: Workspace, pairs: list[dict[str, Any]]) -> int:
    """Append ``pairs`` to their documents' ``data_qa/<doc_id>.qa.jsonl`` (skipping ``qa_id`` s already
    there), so review shows them. Returns the number of lines appended."""
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for pair in pairs:
        by_doc.setdefault(pair["doc_id"], []).append(pair)
    n = 0
    for doc_id, rows in by_doc.items():
        path = workspace.qa_file(doc_id)
        present = {r.get("qa_id") for r in iter_jsonl(path)}
        n += append_jsonl(path, [r for r in rows if r.get("qa_id") not in present])
    return n
