"""Evaluation: retrieval metrics, answer metrics, and the (embedder x generator) ablation matrix.

Retrieval (binary relevance; a query has one or more relevant chunk ids):

* hit@k: 1 when a relevant chunk is among the first ``k`` results (sentence-transformers
  calls it ``accuracy@k``);
* MRR@k: 1 / rank of the first relevant result within the first ``k``, else 0
  (Voorhees, 1999, TREC-8 QA);
* nDCG@k: DCG of the ranking / DCG of the ideal ranking, gains 1/log2(rank + 1)
  (Järvelin & Kekäläinen, 2002).

These are the formulas of sentence-transformers' ``InformationRetrievalEvaluator`` (its
``accuracy@k``, ``mrr@k``, ``ndcg@k``), which :mod:`oracle.training.embedding` runs to pick the
tuned embedder's epoch. Ours are kept for the rankings of our own search (FAISS + BM25 fusion +
sentence windows, :meth:`oracle.index.VectorIndex.search_batch`): the evaluator's public call
embeds and searches a corpus itself, and its ``compute_metrics`` only takes rankings through an
evaluator built around them (queries, a corpus, fake scores) while silently dropping queries
without a relevant id (here they count as misses). tests/test_evaluation.py feeds one hand-made
ranking to both and asserts the same hit@k, MRR@10 and nDCG@10, so the two cannot drift apart.

Answers (against a reference answer, after SQuAD normalisation: lower case, no punctuation,
no articles, collapsed spaces; the ``[n]`` citation markers are removed first):

* token F1: harmonic mean of token precision and recall over the bag of tokens
  (Rajpurkar et al., 2016, the official SQuAD v1.1 script);
* ROUGE-L F-measure: longest common subsequence (Lin, 2004), computed by Google's
  ``rouge-score`` package with a Unicode tokenizer (its default drops every non-ASCII letter,
  which would cut "não" into "n" + "o").

:func:`evaluate_generator` answers held-out questions through :func:`oracle.rag.answer`
(exactly what chat does) and scores them; :func:`ablation` runs it for each combination of
index (embedder) and generator (base or adapter).
"""

from __future__ import annotations

import logging
import math
import re
import string
import time
import unicodedata
from collections import Counter
from typing import Any, Iterable, Sequence

from oracle.schema import ProgressCallback

logger = logging.getLogger(__name__)

ARTICLES = {
    "en": {"a", "an", "the"},
    "pt": {"o", "a", "os", "as", "um", "uma", "uns", "umas"},
}
_CITE_RE = re.compile(r"\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\]")
_WORD_RE = re.compile(r"\w+", re.UNICODE)


# --- retrieval --------------------------------------------------------------------------


def hit_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """1.0 when any of ``relevant`` is in ``ranked[:k]``, else 0.0."""
    rel = set(relevant)
    return 1.0 if any(r in rel for r in ranked[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    """1 / (1-based rank of the first relevant id within ``ranked[:k]``), 0.0 if none."""
    rel = set(relevant)
    for i, r in enumerate(ranked[:k]):
        if r in rel:
            return 1.0 / (i + 1)
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k: ``sum(1/log2(i+2) for relevant hits at 0-based i < k)`` divided
    by the same sum for the ideal ranking (``min(k, len(relevant))`` hits on top); 0.0 when
    ``relevant`` is empty."""
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(ranked[:k]) if r in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(rel))))
    return dcg / ideal


def retrieval_metrics(
    rankings: Sequence[Sequence[str]], relevants: Sequence[Iterable[str]], ks: Sequence[int] = (1, 5, 10)
) -> dict[str, float]:
    """Mean hit@k for each ``k`` in ``ks``, MRR@K and nDCG@K with K = ``max(ks)``.

    Args:
        rankings: per query, the retrieved ids best first.
        relevants: per query, the relevant ids.
        ks: cut-offs for hit@k.

    Returns:
        ``{"hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "n_queries"}`` (keys follow ``ks``);
        all 0.0 for no query.

    Raises:
        ValueError: ``rankings`` and ``relevants`` differ in length.
    """
    if len(rankings) != len(relevants):
        raise ValueError(f"{len(rankings)} rankings but {len(relevants)} relevance sets")
    kmax = max(ks)
    n = len(rankings)
    out: dict[str, float] = {}
    for k in ks:
        out[f"hit@{k}"] = sum(hit_at_k(r, rel, k) for r, rel in zip(rankings, relevants)) / n if n else 0.0
    out[f"mrr@{kmax}"] = sum(reciprocal_rank(r, rel, kmax) for r, rel in zip(rankings, relevants)) / n if n else 0.0
    out[f"ndcg@{kmax}"] = sum(ndcg_at_k(r, rel, kmax) for r, rel in zip(rankings, relevants)) / n if n else 0.0
    out["n_queries"] = n
    return out


def evaluate_retriever(
    retriever: Any,
    queries: Sequence[tuple[str, Iterable[str]]],
    ks: Sequence[int] = (1, 5, 10),
    hybrid: bool = False,
) -> dict[str, float]:
    """:func:`retrieval_metrics` of an index (anything with ``search_batch(queries, top_k)``
    returning ``[[Hit]]``) on ``[(question, relevant chunk ids)]``."""
    if not queries:
        return retrieval_metrics([], [], ks)
    questions = [q for q, _ in queries]
    try:
        results = retriever.search_batch(questions, top_k=max(ks), hybrid=hybrid)
    except TypeError:
        results = retriever.search_batch(questions, top_k=max(ks))
    rankings = [[h.chunk.chunk_id for h in hits] for hits in results]
    return retrieval_metrics(rankings, [set(rel) for _, rel in queries], ks)


# --- answers ----------------------------------------------------------------------------


def normalize_answer(text: str, language: str = "pt") -> str:
    """SQuAD normalisation, Unicode-aware: drop ``[n]`` markers, lower-case, remove punctuation
    (every Unicode ``P*`` character and ASCII punctuation), remove articles of ``language``
    (English articles are always removed, as SQuAD does), collapse whitespace. Accents stay."""
    text = _CITE_RE.sub(" ", unicodedata.normalize("NFC", text)).lower()
    text = "".join(" " if (unicodedata.category(ch).startswith("P") or ch in string.punctuation) else ch for ch in text)
    articles = ARTICLES["en"] | ARTICLES.get((language or "pt")[:2], set())
    return " ".join(w for w in text.split() if w not in articles)


def answer_tokens(text: str, language: str = "pt") -> list[str]:
    """Tokens of :func:`normalize_answer` (whitespace split)."""
    return normalize_answer(text, language).split()


def token_f1(prediction: str, reference: str, language: str = "pt") -> float:
    """SQuAD token F1 in [0, 1]. Both empty -> 1.0; one empty -> 0.0."""
    pred, ref = answer_tokens(prediction, language), answer_tokens(reference, language)
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, reference: str, language: str = "pt") -> float:
    """1.0 when the normalised strings are equal."""
    return float(normalize_answer(prediction, language) == normalize_answer(reference, language))


class _UnicodeTokenizer:
    """rouge-score tokenizer: the tokens of :func:`normalize_answer`."""

    def __init__(self, language: str) -> None:
        self.language = language

    def tokenize(self, text: str) -> list[str]:
        return answer_tokens(text, self.language)


_SCORERS: dict[str, Any] = {}


def rouge_l(prediction: str, reference: str, language: str = "pt") -> float:
    """ROUGE-L F-measure in [0, 1] (``rouge_score.rouge_scorer.RougeScorer(["rougeL"])``) on the
    Unicode tokens of :func:`normalize_answer`, so accented words count as words."""
    from rouge_score import rouge_scorer

    scorer = _SCORERS.get(language)
    if scorer is None:
        scorer = _SCORERS[language] = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_UnicodeTokenizer(language))
    return float(scorer.score(reference, prediction)["rougeL"].fmeasure)


def answer_metrics(predictions: Sequence[str], references: Sequence[str], languages: Sequence[str] | None = None) -> dict[str, float]:
    """Mean ``token_f1``, ``rouge_l`` and ``exact_match`` over pairs; ``n``."""
    languages = languages or ["pt"] * len(predictions)
    n = len(predictions)
    if n == 0:
        return {"token_f1": 0.0, "rouge_l": 0.0, "exact_match": 0.0, "n": 0}
    return {
        "token_f1": sum(token_f1(p, r, lang) for p, r, lang in zip(predictions, references, languages)) / n,
        "rouge_l": sum(rouge_l(p, r, lang) for p, r, lang in zip(predictions, references, languages)) / n,
        "exact_match": sum(exact_match(p, r, lang) for p, r, lang in zip(predictions, references, languages)) / n,
        "n": n,
    }


def evaluate_generator(
    examples: Sequence[Any],
    index: Any,
    generator: Any,
    cfg: Any = None,
    progress: ProgressCallback | None = None,
    max_questions: int | None = None,
) -> dict[str, Any]:
    """Answer held-out questions through :func:`oracle.rag.answer` and score them.

    Args:
        examples: :class:`oracle.training.data.TrainExample` s (``question``, ``answer``,
            ``gold_chunk_ids``, ``language``), usually the held-out split.
        index: the :class:`oracle.index.VectorIndex` chat would use.
        generator: an :class:`oracle.llm.Generator` (base model or with an adapter).
        cfg: :class:`oracle.config.RAGConfig` (default settings when None).
        progress: ``progress(done, total, question)``.
        max_questions: score only the first ``n`` examples.

    Returns:
        ``{"token_f1", "rouge_l", "exact_match", "n", "not_found_rate", "gold_cited_rate",
        "gold_retrieved_rate", "seconds", "rows": [{"question", "reference", "answer",
        "token_f1", "rouge_l", "cited", "gold_retrieved"}]}`` where ``gold_cited_rate`` is the
        share of answers citing a gold chunk and ``gold_retrieved_rate`` the share where a gold
        chunk was among the sources given to the model.
    """
    from oracle import rag

    items = list(examples)[: max_questions or None]
    rows = []
    t0 = time.perf_counter()
    for i, ex in enumerate(items):
        ans = rag.answer(ex.question, index, generator, cfg)
        gold = set(getattr(ex, "gold_chunk_ids", []) or [])
        lang = getattr(ex, "language", "pt")
        rows.append({
            "question": ex.question,
            "reference": ex.answer,
            "answer": ans.text,
            "token_f1": token_f1(ans.text, ex.answer, lang),
            "rouge_l": rouge_l(ans.text, ex.answer, lang),
            "exact_match": exact_match(ans.text, ex.answer, lang),
            "grounded": ans.grounded,
            "cited": bool(gold & {c.chunk_id for c in ans.citations}),
            "gold_retrieved": bool(gold & {c.chunk_id for c in ans.sources}),
        })
        if progress is not None:
            progress(i + 1, len(items), ex.question)
    n = len(rows)

    def mean(key: str) -> float:
        return sum(float(r[key]) for r in rows) / n if n else 0.0

    return {
        "token_f1": mean("token_f1"),
        "rouge_l": mean("rouge_l"),
        "exact_match": mean("exact_match"),
        "not_found_rate": sum(1 for r in rows if not r["grounded"]) / n if n else 0.0,
        "gold_cited_rate": mean("cited"),
        "gold_retrieved_rate": mean("gold_retrieved"),
        "n": n,
        "seconds": round(time.perf_counter() - t0, 1),
        "rows": rows,
    }


def ablation(
    examples: Sequence[Any],
    indexes: dict[str, Any],
    generators: dict[str, Any],
    cfg: Any = None,
    max_questions: int | None = None,
    progress: ProgressCallback | None = None,
) -> list[dict[str, Any]]:
    """The ablation matrix: :func:`evaluate_generator` for every (index, generator) pair, plus
    each index's retrieval metrics on the same questions.

    Args:
        examples: held-out examples.
        indexes: ``{label: VectorIndex}`` (e.g. base embedder vs fine-tuned embedder).
        generators: ``{label: Generator}`` (e.g. base model vs LoRA adapter).

    Returns:
        One row per pair: ``{"index", "generator", "hit@1", "hit@5", "hit@10", "mrr@10",
        "ndcg@10", "token_f1", "rouge_l", "not_found_rate", "n"}`` (no per-question rows).
    """
    queries = [(ex.question, set(ex.gold_chunk_ids)) for ex in examples if ex.gold_chunk_ids]
    rows = []
    total = len(indexes) * len(generators)
    done = 0
    for ilabel, index in indexes.items():
        retrieval = evaluate_retriever(index, queries)
        for glabel, gen in generators.items():
            scores = evaluate_generator(examples, index, gen, cfg, max_questions=max_questions)
            scores.pop("rows", None)
            rows.append({"index": ilabel, "generator": glabel, **{k: v for k, v in retrieval.items() if k != "n_queries"},
                         **scores})
            done += 1
            if progress is not None:
                progress(done, total, f"{ilabel} x {glabel}")
    return rows
