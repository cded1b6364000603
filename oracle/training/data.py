"""Training data: QA pairs + ratings -> held-out split -> RAFT examples -> exports.

Sources (:func:`load_examples`):

* ``data_qa/<doc>.qa.jsonl``: generated (or reviewed) :class:`~oracle.schema.QAPair` lines;
  pairs whose ``status`` is ``"rejected"`` are left out;
* ``data_qa/validated.jsonl``: ratings marked valid (👍); the ``corrected_answer`` replaces the
  model's answer when one was given; the chunks the answer cited are its gold chunks;
* ``data_qa/invalid.jsonl``: ratings marked invalid (👎). One **with** a corrected answer trains
  as question -> correction: the wrong answer's citations are no evidence, so it has no gold
  chunk (no retriever pair, no evaluation of retrieval) and its RAFT context is the chunks chat
  retrieved for that answer (``context_chunk_ids``), the prompt the person saw answered wrongly.
  One without a correction never trains.

Ratings are read through :func:`oracle.feedback.current_ratings`: only the latest rating of an
answer counts, so an answer rated 👍 and later 👎 (without a correction) is left out, and one
rated 👎 and later 👍 trains as its 👍 says.

Held-out split (:func:`split_of`): a question goes to the evaluation split when a hash of its
normalised text falls under ``eval_fraction``. The split depends on the question alone, so it
is stable across runs, files and data sizes, the same question from two files lands on the
same side, and raising ``eval_fraction`` only moves questions *into* the held-out set.

RAFT (Retrieval-Augmented Fine-Tuning; Zhang et al., 2024, "RAFT: Adapting Language Model to
Domain Specific RAG", arXiv:2403.10131), :func:`build_raft`: every example's context is its
gold chunk placed at a random position among ``k`` distractor chunks; distractors are hard
negatives, the top chunks the index retrieves for the question that are not gold
(:func:`mine_negatives`), topped up with random chunks when the index gives too few. With
probability ``p_no_gold`` the gold chunk is left out and the target becomes the sentence RAG
chat says when the documents do not contain the answer (:data:`oracle.rag.NOT_FOUND`), so the model
learns to say so instead of inventing. A rating with no gold chunk (a 👎 with a correction, or a
👍 whose answer cited nothing) takes as context the chunks chat retrieved for it, in their order,
and is never turned into a "not found" target; with neither, it is skipped. The prompt of every
example is built by :func:`oracle.rag.build_messages`, the same function chat uses (train and
serve match).

Exports (:func:`export_dataset`): ``alpaca`` (``instruction``/``input``/``output``/``system``)
and ``sharegpt`` (``conversations`` of ``from``/``value`` + ``system``) JSONL, the two formats
LLaMA-Factory, axolotl and most trainers read.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol, Sequence

from oracle.config import Workspace
from oracle.errors import ConfigError
from oracle.i18n import DEFAULT_LANG
from oracle.schema import Chunk, Hit, Record, iter_jsonl, write_jsonl_atomic

logger = logging.getLogger(__name__)

SPLIT_SALT = "oracle-heldout-v1"
"""Mixed into the split hash; changing it reshuffles every held-out set (don't)."""

_CITE_RE = re.compile(r"\[(\d+)\]")

DEFAULT_P_NO_GOLD = 0.0
"""Share of RAFT examples built without their gold chunk, target "not found". 0 by default since
session 12: on the same 48 questions of the Ubuntu packaging guide, the 0.5B's adapter trained with
0.2 refused 11 of 30 answerable questions (the bare 0.5B 3) and found 30% of key facts; trained
with 0 it refused fewer (over-abstention 27% against 43%) and found 33%, while abstention on the
unanswerable questions stayed at 100% (the chat's guards refuse before and after the model;
bench/RESULTS.md, session 11). Not confirmed on a second document: on the Debian Edu manual an
adapter trained with 0 still refused 5 of 13 answerable questions (session 12)."""


# --- examples -------------------------------------------------------------------------


@dataclass
class TrainExample(Record):
    """One question with its reference answer and the chunk(s) that support it.

    Attributes:
        question: the question as asked.
        answer: the reference answer (a rating's corrected answer when one was given).
        gold_chunk_ids: chunk ids of the supporting chunk(s); empty when unknown (always for a
            👎 with a correction: the wrong answer's citations are no evidence). Only these make
            retriever pairs (question -> chunk) and retrieval metrics.
        language: ``"pt"``/``"en"`` (language of the prompt and of :data:`oracle.rag.NOT_FOUND`).
        source: ``"qa"`` (a generated pair) or ``"rating"`` (a rated answer: 👍, or 👎 with a
            correction).
        source_file: the file the example came from (name inside ``data_qa/``).
        citation_map: for ratings, ``{n: chunk_id}`` of the answer's ``[n]`` markers, used to
            renumber them when the chunks are reordered.
        context_chunk_ids: for ratings, the chunk ids chat retrieved and gave the model for the
            rated answer (:attr:`oracle.schema.Rating.retrieved_chunk_ids`), in rank order;
            ``[]`` for QA pairs and for ratings stored without them. :func:`build_raft` uses them
            as the whole context of an example that has no gold chunk; never retriever positives.
        example_id: 16 hex of sha256 of the normalised question (see :func:`question_key`).
    """

    question: str
    answer: str
    gold_chunk_ids: list[str] = field(default_factory=list)
    language: str = DEFAULT_LANG
    source: str = "qa"
    source_file: str = ""
    citation_map: dict[str, str] = field(default_factory=dict)
    context_chunk_ids: list[str] = field(default_factory=list)
    example_id: str = ""

    def __post_init__(self) -> None:
        if not self.example_id:
            self.example_id = hashlib.sha256(question_key(self.question).encode("utf-8")).hexdigest()[:16]


@dataclass
class ExampleSet:
    """What :func:`load_examples` found.

    Attributes:
        examples: de-duplicated examples (ratings first, then QA pairs, in file order).
        files: ``[{"path": str, "sha256": str, "n_examples": int}]`` for every file read
            (``train.json`` records them so a run can be traced to its data); ``n_examples`` is
            the examples the file gave (after de-duplication). ``invalid.jsonl`` gives its 👎
            ratings with a correction and also carries ``n_excluded`` (answers once rated valid
            whose latest rating, a 👎 without a correction, takes them out).
        n_rejected: QA pairs left out because review rejected them.
        n_invalid: answers once rated valid whose latest rating is 👎 without a correction (left
            out).
        n_corrected: answers whose latest rating is 👎 with a correction (examples, answer = the
            correction, no gold chunk), before de-duplication.
        n_duplicates: examples dropped because their question was already present.
    """

    examples: list[TrainExample] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    n_rejected: int = 0
    n_invalid: int = 0
    n_corrected: int = 0
    n_duplicates: int = 0

    @property
    def n_ratings(self) -> int:
        return sum(1 for e in self.examples if e.source == "rating")

    @property
    def n_qa(self) -> int:
        return sum(1 for e in self.examples if e.source == "qa")


def question_key(question: str) -> str:
    """Normalised question used for de-duplication and the split: NFC, case-folded, whitespace
    collapsed, trailing punctuation removed (``"  Qual é o IP? "`` -> ``"qual é o ip"``)."""
    text = unicodedata.normalize("NFC", question).casefold()
    text = " ".join(text.split())
    return text.rstrip(" ?!.;:¿¡")


def split_of(question: str, eval_fraction: float) -> str:
    """``"eval"`` or ``"train"`` for a question, from a hash of :func:`question_key`.

    Args:
        question: the question text.
        eval_fraction: share of questions held out, in ``[0, 1)``.

    Raises:
        ConfigError: ``eval_fraction`` outside ``[0, 1)``.
    """
    if not 0.0 <= eval_fraction < 1.0:
        raise ConfigError.out_of_range("eval_fraction", eval_fraction, "[0, 1)")
    digest = hashlib.sha256((SPLIT_SALT + "\x00" + question_key(question)).encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    return "eval" if u < eval_fraction else "train"


def split_examples(
    examples: Sequence[TrainExample], eval_fraction: float
) -> tuple[list[TrainExample], list[TrainExample]]:
    """(train, eval) by :func:`split_of`; order is kept within each side."""
    train, held = [], []
    for ex in examples:
        (held if split_of(ex.question, eval_fraction) == "eval" else train).append(ex)
    return train, held


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def question_language(question: str) -> str:
    """The prompt language chat would use for ``question`` (``"pt"`` or ``"en"``): detected from
    the question exactly as :func:`oracle.rag.stream_answer` does, so train and serve match."""
    from oracle import rag

    return rag.prompt_language(rag.detect_question_language(question))


def qa_files(workspace: Workspace) -> list[Path]:
    """The ``data_qa/*.qa.jsonl`` files of a workspace, sorted by name."""
    return sorted(workspace.data_qa.glob("*.qa.jsonl"))


def load_examples(
    workspace: Workspace,
    files: Iterable[str | Path] | None = None,
    use_ratings: bool = True,
) -> ExampleSet:
    """Read QA pairs and ratings into de-duplicated :class:`TrainExample` s.

    Args:
        workspace: the workspace whose ``data_qa/`` is read.
        files: QA files to use (paths, or names inside ``data_qa/``); default: every
            ``*.qa.jsonl``. An empty list means ratings only.
        use_ratings: also use the rated answers, by their latest rating
            (:func:`oracle.feedback.current_ratings`): 👍 (gold = the cited chunks, answer = the
            correction when given, else the model's answer) and 👎 with a correction (answer =
            the correction, no gold); 👎 without a correction is left out. Every rating example
            carries the chunks chat retrieved for it as ``context_chunk_ids``.

    Returns:
        An :class:`ExampleSet`. Ratings come first so that, when a question was both
        generated and rated, the person's answer wins.
    """
    out = ExampleSet()
    seen: set[str] = set()

    def add(ex: TrainExample) -> None:
        if not ex.question.strip() or not ex.answer.strip():
            return
        key = question_key(ex.question)
        if key in seen:
            out.n_duplicates += 1
            return
        seen.add(key)
        out.examples.append(ex)

    if use_ratings and (workspace.validated.exists() or workspace.invalid.exists()):
        from oracle.feedback import current_ratings, load_ratings, rating_key

        current = current_ratings(workspace)  # one rating per answer: the latest
        once_valid = {rating_key(r) for r in load_ratings(workspace, valid=True)}
        out.n_invalid = sum(1 for r in current if not r.valid and not r.corrected_answer
                            and rating_key(r) in once_valid)
        added = {True: 0, False: 0}  # examples kept, by the file their rating is in
        for rating in reversed(current):  # oldest first
            if not rating.valid and not rating.corrected_answer:
                continue  # 👎 without the right answer: nothing to learn from
            cites = rating.citations or []
            if rating.valid:
                gold = list(dict.fromkeys(c.chunk_id for c in cites if c.chunk_id))
            else:  # 👎 with a correction: what the wrong answer cited does not support the right one
                gold = []
                out.n_corrected += 1
            # a person's correction: its [n] markers (if any) are not the model's
            cmap = {} if rating.corrected_answer else {str(c.n): c.chunk_id for c in cites if c.chunk_id}
            before = len(out.examples)
            add(
                TrainExample(
                    question=rating.question,
                    answer=rating.reference_answer,
                    gold_chunk_ids=gold,
                    language=question_language(rating.question),
                    source="rating",
                    source_file=(workspace.validated if rating.valid else workspace.invalid).name,
                    citation_map=cmap,
                    context_chunk_ids=list(dict.fromkeys(c for c in rating.retrieved_chunk_ids or [] if c)),
                )
            )
            added[bool(rating.valid)] += len(out.examples) - before
        if workspace.validated.exists():
            out.files.append({"path": str(workspace.validated), "sha256": file_sha256(workspace.validated),
                              "n_examples": added[True]})
        if workspace.invalid.exists():  # its corrections train; a later 👎 without one takes an answer out
            out.files.append({"path": str(workspace.invalid), "sha256": file_sha256(workspace.invalid),
                              "n_examples": added[False], "n_excluded": out.n_invalid})

    paths = qa_files(workspace) if files is None else [
        Path(p) if Path(p).is_absolute() or Path(p).exists() else workspace.data_qa / str(p) for p in files
    ]
    for path in paths:
        n = 0
        for row in iter_jsonl(path):
            if row.get("status") == "rejected":
                out.n_rejected += 1
                continue
            before = len(out.examples)
            add(
                TrainExample(
                    question=row.get("question", ""),
                    answer=row.get("answer", ""),
                    gold_chunk_ids=[row["chunk_id"]] if row.get("chunk_id") else [],
                    language=question_language(row.get("question", "")),
                    source="qa",
                    source_file=path.name,
                )
            )
            n += len(out.examples) - before
        if path.exists():
            out.files.append({"path": str(path), "sha256": file_sha256(path), "n_examples": n})
    logger.info(
        "training examples: %d (%d ratings, %d of them corrected 👎), %d rejected, %d invalid, %d duplicates",
        len(out.examples), out.n_ratings, out.n_corrected, out.n_rejected, out.n_invalid, out.n_duplicates,
    )
    return out


# --- hard negatives ------------------------------------------------------------------


class Retriever(Protocol):
    """What :func:`mine_negatives` needs from an index (:class:`oracle.index.VectorIndex` fits):
    ``search_batch(queries, top_k) -> [[Hit]]`` best first."""

    def search_batch(self, queries: list[str], top_k: int = 4) -> list[list[Hit]]: ...


def mine_negatives(
    examples: Sequence[TrainExample],
    retriever: Retriever | None,
    n: int,
    depth: int | None = None,
    ranks: dict[str, int] | None = None,
) -> dict[str, list[Chunk]]:
    """Hard negatives: for each example, the top retrieved chunks that are not gold.

    Args:
        examples: the examples (their ``question`` is the query).
        retriever: an index; ``None`` returns ``{}`` (callers fall back to random chunks).
        n: negatives wanted per example.
        depth: how many hits to retrieve (default ``n + len(gold) + 2``).
        ranks: when given, filled with ``{example_id: r}``, ``r`` the number of its negatives the
            retriever ranks above its first gold chunk (``len(negatives)`` when no gold chunk is
            among the hits): where the chat would show the gold chunk among them
            (:func:`build_raft`'s ``gold_order="retrieved"``).

    Returns:
        ``{example_id: [Chunk]}``, at most ``n`` each, in rank order. Chunks whose text equals
        a gold chunk's text (duplicates in the corpus) are skipped: they are not negatives.
    """
    if retriever is None or not examples or n <= 0:
        return {}
    top_k = depth or n + max((len(e.gold_chunk_ids) for e in examples), default=1) + 2
    results = retriever.search_batch([e.question for e in examples], top_k=top_k)
    out: dict[str, list[Chunk]] = {}
    for ex, hits in zip(examples, results):
        gold = set(ex.gold_chunk_ids)
        gold_texts = {h.chunk.text for h in hits if h.chunk.chunk_id in gold}
        negs = [h.chunk for h in hits if h.chunk.chunk_id not in gold and h.chunk.text not in gold_texts]
        out[ex.example_id] = negs[:n]
        if ranks is not None:
            first = next((i for i, h in enumerate(hits) if h.chunk.chunk_id in gold), None)
            above = len(out[ex.example_id]) if first is None else sum(
                1 for h in hits[:first] if h.chunk.chunk_id not in gold and h.chunk.text not in gold_texts)
            ranks[ex.example_id] = min(above, len(out[ex.example_id]))
    return out


# --- RAFT ----------------------------------------------------------------------------


@dataclass
class RaftExample:
    """One training example in RAG form.

    Attributes:
        example: the source example.
        hits: the context chunks in prompt order (``[1]`` first), as chat would pass them to
            :func:`oracle.rag.build_messages`.
        target: the answer the model is trained to produce.
        gold_positions: 1-based positions of gold chunks in ``hits``; empty when the gold was
            dropped (the target is then :data:`oracle.rag.NOT_FOUND`) or unknown (a rating
            whose context is the chunks chat retrieved).
        dropped_gold: True when the gold chunk was deliberately left out (``p_no_gold``), or, in a
            self-check example, the context holds no gold chunk (target "Não").
        ending: the prompt's last line, :data:`oracle.rag.MESSAGE_ENDINGS`: ``"answer"`` (the
            chat's answer) or ``"judge"`` (a self-check example, :func:`self_check_examples`).
    """

    example: TrainExample
    hits: list[Hit]
    target: str
    gold_positions: list[int] = field(default_factory=list)
    dropped_gold: bool = False
    ending: str = "answer"

    @property
    def question(self) -> str:
        return self.example.question

    @property
    def language(self) -> str:
        return self.example.language

    def messages(self) -> list[dict[str, str]]:
        """The prompt, from :func:`oracle.rag.build_messages` (the chat prompt, no answer; the
        judge's prompt for a self-check example)."""
        from oracle import rag

        return rag.build_messages(self.example.question, self.hits, self.example.language, ending=self.ending)


@dataclass
class RaftStats:
    """Counts from :func:`build_raft`.

    Attributes:
        n_built: examples built.
        n_no_gold: built with the gold chunk left out (``p_no_gold``; target "not found").
        n_missing_gold: skipped: no gold chunk in the chunk pool (a QA pair without gold, or
            whose gold chunks are gone; a rating without gold none of whose retrieved chunks
            is left).
        n_no_context: ratings skipped because they have neither a gold (cited) chunk nor
            retrieved chunks.
        n_chat_context: built from the chunks chat retrieved (ratings without gold).
        n_random_distractors: distractors that had to be random (the index gave too few).
    """

    n_built: int = 0
    n_no_gold: int = 0
    n_missing_gold: int = 0
    n_no_context: int = 0
    n_chat_context: int = 0
    n_random_distractors: int = 0


def _renumber(answer: str, cmap: dict[str, str], position_of: dict[str, int]) -> str:
    """Rewrite ``[n]`` markers from the rating's numbering to the new chunk positions;
    markers whose chunk is no longer in the context are removed."""

    def sub(m: re.Match) -> str:
        cid = cmap.get(m.group(1))
        if cid is None:
            return m.group(0)
        pos = position_of.get(cid)
        return f"[{pos}]" if pos else ""

    text = _CITE_RE.sub(sub, answer)
    return re.sub(r" +([.,;:!?])", r"\1", re.sub(r"  +", " ", text)).strip()


def _with_citation(answer: str, positions: list[int]) -> str:
    """The answer ending with ``[p]`` markers of the gold positions, unless it cites already."""
    if not positions or _CITE_RE.search(answer):
        return answer
    marks = "".join(f"[{p}]" for p in positions)
    text = answer.rstrip()
    if text and text[-1] in ".!?":
        return f"{text[:-1]} {marks}{text[-1]}"
    return f"{text} {marks}"


def example_rng(seed: int, example_id: str) -> random.Random:
    """A ``random.Random`` for one example: same seed and example, same draws, in any order."""
    digest = hashlib.sha256(f"{seed}:{example_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


GOLD_ORDERS = ("random", "retrieved")
"""Where :func:`build_raft` puts the gold chunk among its distractors."""

DEFAULT_GOLD_ORDER = "retrieved"
"""Where the gold chunk goes by default: where the retriever ranks it, as the chat orders its sources
(random for an example without a rank). At RAFT's random position an adapter cited "[2]" or "[3]"
where the chat's "[1]" held the facts; in the retriever's order it found 38% of the blind held-out
set's key facts against 35%, and 42% of held-out 1's both (bench/RESULTS.md, session 29)."""


def build_raft(
    examples: Sequence[TrainExample],
    chunks: dict[str, Chunk],
    negatives: dict[str, list[Chunk]] | None = None,
    k_distractors: int = 3,
    p_no_gold: float = DEFAULT_P_NO_GOLD,
    seed: int = 42,
    cite: bool = True,
    gold_order: str = DEFAULT_GOLD_ORDER,
    ranks: dict[str, int] | None = None,
) -> tuple[list[RaftExample], RaftStats]:
    """RAFT examples: gold chunk among ``k_distractors`` distractors, where the retriever ranks it
    or at a random position (``gold_order``).

    Args:
        examples: from :func:`load_examples` (one split).
        chunks: every chunk available, ``{chunk_id: Chunk}`` (the index's chunks); gold
            chunks are looked up here and random distractors drawn from it.
        negatives: hard negatives per example id (:func:`mine_negatives`); missing or short
            lists are topped up with random chunks, preferring the gold's own document.
        k_distractors: distractor chunks per example (>= 0).
        p_no_gold: probability, in ``[0, 1]``, that the gold chunk is left out and the target
            is :data:`oracle.rag.NOT_FOUND` in the example's language (RAFT's 1 - P).
        seed: draws are made per example from ``(seed, example_id)``, so the same data and
            seed give the same examples whatever their order (resume relies on it).
        cite: end answers that cite nothing with ``[n]`` of the gold position(s), as chat's
            answers cite their sources.
        gold_order: :data:`GOLD_ORDERS`: ``"random"`` (RAFT's: the gold chunk at a random
            position) or ``"retrieved"``: where the retriever ranks it among the distractors
            (``ranks``, from :func:`mine_negatives`; random for an example without a rank, and
            for every one when ``ranks`` is None), as the chat orders its sources (default,
            :data:`DEFAULT_GOLD_ORDER`). An adapter trained with random positions cites "[2]" or "[3]"
            where the chat's "[1]" holds the facts (bench/RESULTS.md, session 29).
        ranks: ``{example_id: position}`` (0-based) for ``gold_order="retrieved"``.

    Returns:
        ``(examples, stats)``. Examples whose gold chunks are all missing from ``chunks`` are
        skipped (counted in ``stats.n_missing_gold``). An example with no gold but with
        ``context_chunk_ids`` (a 👎 with a correction; a 👍 that cited nothing) gets exactly
        those chunks as context, in their order (ids not in ``chunks`` left out; none left:
        skipped, counted in ``stats.n_missing_gold``), with no distractors and never a
        "not found" target (``stats.n_chat_context``). A rating with neither is skipped
        (``stats.n_no_context``): its context would be unrelated chunks. A QA pair without gold
        is skipped (``stats.n_missing_gold``).

    Raises:
        ConfigError: ``k_distractors < 0`` or ``p_no_gold`` outside ``[0, 1]``.
    """
    if k_distractors < 0:
        raise ConfigError.non_negative("k_distractors", k_distractors)
    if not 0.0 <= p_no_gold <= 1.0:
        raise ConfigError.out_of_range("p_no_gold", p_no_gold, "[0, 1]")
    if gold_order not in GOLD_ORDERS:
        raise ConfigError.not_one_of("gold_order", gold_order, GOLD_ORDERS)
    from oracle import rag

    negatives = negatives or {}
    pool = list(chunks.values())
    by_doc: dict[str, list[Chunk]] = {}
    for c in pool:
        by_doc.setdefault(c.doc_id, []).append(c)
    stats = RaftStats()
    out: list[RaftExample] = []
    for ex in examples:
        rng = example_rng(seed, ex.example_id)
        if not ex.gold_chunk_ids and ex.source != "rating":
            stats.n_missing_gold += 1
            continue
        if not ex.gold_chunk_ids:
            if not ex.context_chunk_ids:
                stats.n_no_context += 1  # random chunks would teach answering from unrelated text
                continue
            # what chat showed for this answer, as it showed it: the prompt the answer belongs to
            shown = [chunks[c] for c in dict.fromkeys(ex.context_chunk_ids) if c in chunks]
            if not shown:
                stats.n_missing_gold += 1
                continue
            hits = [Hit(chunk=c, score=1.0, rank=i + 1) for i, c in enumerate(shown)]
            position_of = {h.chunk.chunk_id: h.rank for h in hits}
            target = _renumber(ex.answer, ex.citation_map, position_of) if ex.citation_map else ex.answer
            out.append(RaftExample(ex, hits, target))
            stats.n_built += 1
            stats.n_chat_context += 1
            continue
        gold = [chunks[c] for c in ex.gold_chunk_ids if c in chunks]
        if not gold:
            stats.n_missing_gold += 1
            continue
        taken = {c.chunk_id for c in gold} | set(ex.gold_chunk_ids)
        gold_texts = {c.text for c in gold}
        distractors: list[Chunk] = []
        for c in negatives.get(ex.example_id, []):
            if len(distractors) >= k_distractors:
                break
            if c.chunk_id not in taken and c.text not in gold_texts:
                distractors.append(c)
                taken.add(c.chunk_id)
        if len(distractors) < k_distractors:
            same_doc = [c for d in {g.doc_id for g in gold} for c in by_doc.get(d, [])]
            for candidates in (same_doc, pool):
                cand = [c for c in candidates if c.chunk_id not in taken and c.text not in gold_texts]
                rng.shuffle(cand)
                for c in cand[: k_distractors - len(distractors)]:
                    distractors.append(c)
                    taken.add(c.chunk_id)
                    stats.n_random_distractors += 1
        drop = bool(gold) and rng.random() < p_no_gold
        context = list(distractors)
        if gold and not drop:
            at = (ranks or {}).get(ex.example_id) if gold_order == "retrieved" else None
            for g in gold:
                where = rng.randint(0, len(context))  # drawn in either order: same draws after it
                context.insert(min(at, len(context)) if at is not None else where, g)
                at = None if at is None else at + 1
        hits = [Hit(chunk=c, score=1.0, rank=i + 1) for i, c in enumerate(context)]
        position_of = {h.chunk.chunk_id: h.rank for h in hits}
        gold_positions = sorted(position_of[g.chunk_id] for g in gold if g.chunk_id in position_of)
        if drop:
            target = rag.not_found_sentence(ex.language)
            stats.n_no_gold += 1
        else:
            target = _renumber(ex.answer, ex.citation_map, position_of) if ex.citation_map else ex.answer
            if cite:
                target = _with_citation(target, gold_positions)
        out.append(RaftExample(ex, hits, target, gold_positions, drop))
        stats.n_built += 1
    return out, stats


SELF_CHECK_MAX_OVERLAP = 0.5
"""The most of an answer's own words (:func:`oracle.grounding.content_words` of the answer that the
question lacks) that the distractors of a "Não" self-check example may hold together: above it, they
may state the answer too (an overlapping window of the gold page), and the example says "Sim" with
its gold chunk instead, since a wrong "Não" teaches refusing answerable questions."""


def self_check_examples(examples: Sequence[RaftExample], share: float, seed: int = 42) -> list[RaftExample]:
    """Self-check examples for RAFT examples: the chat's judge prompt (:func:`oracle.rag.build_messages`
    with ``ending="judge"``: "do the sources above hold the information the question asks for? Answer
    only Sim or Não") with the first word of :data:`oracle.rag.YES_NO` as target, so an adapter keeps
    answering the question :func:`oracle.rag.answerable_probability` asks it. An adapter trained on
    answers alone gave the sources of answerable questions P(Sim) p50 0.46 against its base model's
    0.62 and refused 27 of 40 of them (bench/RESULTS.md, session 28). The answer-level check is
    Kadavath et al. 2022's "P(IK)"; training it into the RAG model follows Self-RAG's "is relevant"
    tokens (Asai et al. 2023, arXiv:2310.11511), here in the chat's own wording.

    Args:
        examples: built by :func:`build_raft`, with their final targets; only those whose gold chunk
            is in the context (``gold_positions``) give self-check examples.
        share: in ``[0, 1]``, the probability that such an example gives one.
        seed: draws per example from ``(seed, example_id)`` (:func:`example_rng`), apart from
            :func:`build_raft`'s, so the same data give the same examples.

    Returns:
        New examples (``ending="judge"``), about ``share * len(eligible)``: half "Sim", with the
        example's own context; half "Não", with its distractors alone (``dropped_gold``), unless
        they hold more than :data:`SELF_CHECK_MAX_OVERLAP` of the answer's words or there are
        none, then "Sim".

    Raises:
        ConfigError: ``share`` outside ``[0, 1]``.
    """
    if not 0.0 <= share <= 1.0:
        raise ConfigError.out_of_range("self_check", share, "[0, 1]")
    from oracle import rag
    from oracle.grounding import content_words

    out: list[RaftExample] = []
    if share == 0.0:
        return out
    for ex in examples:
        if ex.ending != "answer" or ex.dropped_gold or not ex.gold_positions:
            continue
        rng = example_rng(seed, "self-check:" + ex.example.example_id)
        if rng.random() >= share:
            continue
        yes, no = rag.YES_NO[rag.prompt_language(ex.language)]
        gold = set(ex.gold_positions)
        others = [h for h in ex.hits if h.rank not in gold]
        if rng.random() < 0.5 and others:
            asked = content_words(ex.example.answer) - content_words(ex.question)
            held = content_words(" ".join(h.chunk.text for h in others))
            overlap = len(asked & held) / len(asked) if asked else 1.0
            if overlap <= SELF_CHECK_MAX_OVERLAP:
                hits = [Hit(chunk=h.chunk, score=h.score, rank=i + 1) for i, h in enumerate(others)]
                out.append(RaftExample(ex.example, hits, no[0], [], True, "judge"))
                continue
        out.append(RaftExample(ex.example, list(ex.hits), yes[0], list(ex.gold_positions), False, "judge"))
    return out


# --- exports --------------------------------------------------------------------------

EXPORT_FORMATS = ("alpaca", "sharegpt")


def to_record(example: RaftExample, fmt: str) -> dict[str, Any]:
    """One RAFT example as an ``alpaca`` or ``sharegpt`` record (prompt from chat's builder).

    alpaca: ``{"system", "instruction", "input": "", "output"}`` (every user turn joined into
    ``instruction``); sharegpt: ``{"system", "conversations": [{"from": "human"|"gpt", "value"}]}``.

    Raises:
        ConfigError: unknown ``fmt``.
    """
    messages = example.messages()
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    turns = [m for m in messages if m["role"] != "system"]
    if fmt == "alpaca":
        user = "\n\n".join(m["content"] for m in turns if m["role"] == "user")
        return {"system": system, "instruction": user, "input": "", "output": example.target}
    if fmt == "sharegpt":
        role = {"user": "human", "assistant": "gpt"}
        conv = [{"from": role.get(m["role"], m["role"]), "value": m["content"]} for m in turns]
        conv.append({"from": "gpt", "value": example.target})
        return {"system": system, "conversations": conv}
    raise ConfigError.not_one_of("format", fmt, EXPORT_FORMATS)


def export_dataset(examples: Sequence[RaftExample], path: str | Path, fmt: str = "alpaca") -> int:
    """Write RAFT examples as JSONL in ``fmt`` (``"alpaca"`` or ``"sharegpt"``), atomically.

    Returns the number of lines written. Raises ConfigError on an unknown format.
    """
    records = [to_record(e, fmt) for e in examples]
    write_jsonl_atomic(path, records)
    return len(records)


# --- the whole recipe -------------------------------------------------------------------


@dataclass
class TrainingData:
    """Everything a fine-tuning run trains and evaluates on (see :func:`prepare`).

    ``train``/``eval`` are RAFT examples of the two splits; ``chunks`` the chunk pool;
    ``source`` what :func:`load_examples` read; ``stats`` the RAFT counts of both splits.
    """

    train: list[RaftExample]
    eval: list[RaftExample]
    train_examples: list[TrainExample]
    eval_examples: list[TrainExample]
    chunks: dict[str, Chunk]
    source: ExampleSet
    stats: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """JSON-ready description for ``train.json``: files with hashes, counts, RAFT stats."""
        return {
            "files": self.source.files,
            "n_examples": len(self.source.examples),
            "n_ratings": self.source.n_ratings,
            "n_rejected": self.source.n_rejected,
            "n_invalid_excluded": self.source.n_invalid,
            "n_corrected_invalid": self.source.n_corrected,
            "n_duplicates": self.source.n_duplicates,
            "n_train": len(self.train),
            "n_eval": len(self.eval),
            **self.stats,
        }


def hard_negative_index(workspace: Workspace, index_name: str | None) -> Any | None:
    """The index ``indexes/<index_name>`` for :func:`prepare` (hard negatives, chunks), or None
    when no name is given or it cannot be loaded (logged: random distractors are used then)."""
    if not index_name:
        return None
    from oracle.errors import OracleError
    from oracle.index import load_index

    try:
        return load_index(workspace, index_name)
    except OracleError as err:
        logger.warning("index %r unavailable (%s): stored chunks, random distractors", index_name, err)
        return None


def chunk_pool(workspace: Workspace, index: Any | None) -> dict[str, Chunk]:
    """``{chunk_id: Chunk}``: the stored chunks of every workspace document
    (:func:`oracle.chunking.document_chunks`, the ids QA pairs were generated from), plus the
    index's chunks when an index is given (documents indexed but not in the workspace)."""
    from oracle.chunking import document_chunks
    from oracle.ingest import list_documents

    pool = {c.chunk_id: c for c in index.chunks} if index is not None else {}
    for doc in list_documents(workspace):
        for chunk in document_chunks(workspace, doc):
            pool.setdefault(chunk.chunk_id, chunk)
    return pool


def prepare(
    workspace: Workspace,
    index: Any | None = None,
    files: Iterable[str | Path] | None = None,
    use_ratings: bool = True,
    eval_fraction: float = 0.1,
    k_distractors: int = 3,
    p_no_gold: float = DEFAULT_P_NO_GOLD,
    seed: int = 42,
    max_examples: int = 0,
    cite: bool = True,
    gold_order: str = DEFAULT_GOLD_ORDER,
) -> TrainingData:
    """Load, split, mine hard negatives with ``index`` and build RAFT examples for both splits.

    Args:
        workspace: where ``data_qa/`` lives.
        index: a loaded :class:`oracle.index.VectorIndex` (chunks + hard negatives); ``None``
            re-chunks the workspace documents and uses random distractors.
        files, use_ratings: see :func:`load_examples`.
        eval_fraction: held-out share (see :func:`split_of`).
        k_distractors, p_no_gold, seed, cite, gold_order: see :func:`build_raft`.
        max_examples: keep at most this many training examples (0 = all); the held-out set
            is not cut.

    Returns:
        :class:`TrainingData`.
    """
    source = load_examples(workspace, files, use_ratings)
    train_ex, eval_ex = split_examples(source.examples, eval_fraction)
    if max_examples and max_examples > 0:
        train_ex = train_ex[:max_examples]
    chunks = chunk_pool(workspace, index)
    ranks: dict[str, int] = {}
    negatives = mine_negatives(train_ex + eval_ex, index, k_distractors, ranks=ranks) if index is not None else {}
    train, st_train = build_raft(train_ex, chunks, negatives, k_distractors, p_no_gold, seed, cite, gold_order, ranks)
    held, st_eval = build_raft(eval_ex, chunks, negatives, k_distractors, p_no_gold, seed, cite, gold_order, ranks)
    missing = st_train.n_missing_gold + st_eval.n_missing_gold
    if missing:
        from oracle.chunking import gold_chunk_warning

        logger.warning("%s", gold_chunk_warning(missing, len(train_ex) + len(eval_ex), "en"))
    no_context = st_train.n_no_context + st_eval.n_no_context
    if no_context:
        logger.warning("%d rated answers skipped: neither a cited nor a retrieved chunk to train with", no_context)
    stats = {
        "raft_no_gold_train": st_train.n_no_gold,
        "raft_no_gold_eval": st_eval.n_no_gold,
        "missing_gold_chunk": missing,
        "no_context": no_context,
        "chat_context": st_train.n_chat_context + st_eval.n_chat_context,
        "random_distractors": st_train.n_random_distractors + st_eval.n_random_distractors,
        "hard_negatives": bool(negatives),
    }
    return TrainingData(train, held, train_ex, eval_ex, chunks, source, stats)
