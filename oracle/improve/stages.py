"""The four stages of a "Melhorar o Oráculo" run, each a plain function ``stage(ctx) -> dict``.

Every stage takes a :class:`RunContext` and returns a JSON-ready output with ``"status"``:
``"completed"``, ``"skipped"`` (with ``"reason"``, an i18n key under ``improve.reason.``, and
``"params"``) or ``"cancelled"`` (the run stops; a resume runs the stage again, from its own
checkpoint when it has one). :data:`STAGE_FUNCTIONS` maps the names of
:data:`oracle.improve.config.STAGES` to them; :func:`oracle.improve.runs.run_pipeline` accepts
replacements (tests inject fakes), and :class:`Hooks` replaces the teacher and the evaluation.

1. :func:`stage_pairs`: training questions with verified quotes (:mod:`oracle.improve.pairs`), then
   the run's training snapshot (:func:`ensure_snapshot`).
2. :func:`stage_embedder`: embedder fine-tune (:func:`oracle.training.embedding.train_embedder`)
   gated on validation MRR@10 against the base model; on a win, a new index
   ``indexes/improve-<run_id>`` (:func:`oracle.training.embedding.reindex` with ``target_name``),
   complete before anything uses it.
3. :func:`stage_generator`: LoRA of the fast student (:func:`oracle.training.lora.train_lora`) on
   RAFT examples (:func:`oracle.training.data.prepare`: gold chunk among hard-negative
   distractors from the retriever now in use, sometimes no gold with the "not found" target)
   whose targets start with the verified quote (:func:`quoted_target`). RAFT: Zhang et al. 2024,
   arXiv:2403.10131; LoRA: Hu et al. 2021.
4. :func:`stage_evaluate`: the chain before and after (:func:`oracle.gold_eval.evaluate`) on the
   held-out generated questions, off-topic questions and the user's gold sets; promotion when
   key-fact accuracy improves and abstention does not fall (:func:`gate`).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from oracle.config import Workspace
from oracle.errors import OracleError
from oracle.improve.config import TARGET_STYLES, ImproveConfig, strongest_generator
from oracle.schema import iter_jsonl, now_iso, write_json_atomic, write_jsonl_atomic

logger = logging.getLogger(__name__)

SNAPSHOT_FILE = "train_pairs.jsonl"
DATA_FILES = "data_files.json"
"""Beside the snapshot: every file that fed the run (:func:`data_files`), written with it."""
HELDOUT_GOLD_FILE = "heldout.gold.jsonl"
CHECKPOINTS = "checkpoints"

QUOTE_FORMAT_VERSION = 2
"""Version of the quoted targets the model sees (:func:`quoted_target`): 1 put the quote line after
the answer, 2 puts it first (:data:`oracle.rag.QUOTE_LINE`)."""

OFFTOPIC_QUESTIONS: dict[str, tuple[str, ...]] = {
    "pt": (
        "Qual é a capital da Mongólia?",
        "Quem venceu a Copa do Mundo de futebol de 1970?",
        "Qual é a receita tradicional do bolo de cenoura com cobertura de chocolate?",
        "Quantas luas tem o planeta Netuno?",
        "Quem pintou o quadro Abaporu?",
        "Qual é a altura do Monte Everest em metros?",
        "Em que ano o homem pisou na Lua pela primeira vez?",
        "Qual é o maior osso do corpo humano?",
        "Como se faz um pão de queijo mineiro?",
        "Qual é a distância entre a Terra e o Sol?",
    ),
    "en": (
        "What is the capital of Mongolia?",
        "Who won the 1970 football World Cup?",
        "What is the traditional recipe for carrot cake with chocolate frosting?",
        "How many moons does Neptune have?",
        "Who painted the Mona Lisa?",
        "How tall is Mount Everest in metres?",
        "In which year did a person first walk on the Moon?",
        "What is the largest bone in the human body?",
        "How do you bake sourdough bread?",
        "What is the distance between the Earth and the Sun?",
    ),
}
"""Questions no user document answers: the unanswerable half of the before/after evaluation
(abstention = share answered "not found"). Written for this purpose; general knowledge only."""


@dataclass
class Hooks:
    """Replaceable parts of a run (tests, notebooks).

    Attributes:
        teacher: ``teacher(cfg) -> Generator`` writing the training questions (default:
            :func:`oracle.llm.get_generator` of :func:`oracle.improve.config.strongest_generator`).
        evaluate: ``evaluate(ctx, label, generator, adapter, index, gold_files, out_dir) -> figures``
            where ``figures`` is ``{"summary": {...}, "retrieval": {...}}`` as one run of
            :func:`oracle.gold_eval.evaluate` (default: that function).
        generators: ``{spec: generator}`` already loaded, handed to :func:`oracle.gold_eval.evaluate`.
    """

    teacher: Callable[[ImproveConfig], Any] | None = None
    evaluate: Callable[..., dict[str, Any]] | None = None
    generators: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    """What a stage gets.

    Attributes:
        workspace: the workspace.
        cfg: the run's parameters.
        run_id: the run's id (the job id when run as a job).
        run_dir: ``improve/<run_id>/``: pairs, snapshot, evaluation rows, reports.
        state_dir: where ``stages.json`` and the stages' checkpoints live (the job folder for a job).
        log: receives progress records (``{"stage", "step", "total", "loss", ..., "time"}``).
        should_stop: True when a cancel was asked.
        outputs: outputs of the stages finished so far, by name.
        hooks: replaceable parts.
    """

    workspace: Workspace
    cfg: ImproveConfig
    run_id: str
    run_dir: Path
    state_dir: Path
    log: Callable[[dict[str, Any]], None]
    should_stop: Callable[[], bool]
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    hooks: Hooks = field(default_factory=Hooks)

    def stage_log(self, stage: str) -> Callable[[dict[str, Any]], None]:
        """A ``log_fn`` for a training function that tags its records with ``stage``."""
        return lambda record: self.log({**record, "stage": stage})

    def progress(self, stage: str) -> Callable[[int, int, str], None]:
        """A :data:`~oracle.schema.ProgressCallback` that logs ``{"stage", "step", "total", "note",
        "eta_s"}``, ``eta_s`` the stage's seconds left at its rate so far (:class:`oracle.jobs.RateEta`)."""
        from oracle.jobs import RateEta

        eta = RateEta()

        def report(done: int, total: int, description: str = "") -> None:
            left = eta(done, total)
            if total and done != total and done % max(1, total // 50):
                return
            self.log({"stage": stage, "step": done, "total": total, "loss": None, "eval_loss": None,
                      "tokens_per_s": None, "eta_s": left, "time": now_iso(), "note": description})

        return report

    def completed(self, stage: str) -> dict[str, Any] | None:
        """The output of ``stage`` when it completed in this run (not skipped), else None."""
        out = self.outputs.get(stage)
        return out if out and out.get("status") == "completed" else None


def skipped(reason: str, **params: Any) -> dict[str, Any]:
    """A stage output saying it was skipped and why (i18n key ``improve.reason.<reason>``)."""
    return {"status": "skipped", "reason": reason, "params": params}


# --- 1. training questions --------------------------------------------------------------------------


def teacher_generator(ctx: RunContext) -> Any:
    """The generator that writes the pairs (``ctx.hooks.teacher`` or the strongest available)."""
    if ctx.hooks.teacher is not None:
        return ctx.hooks.teacher(ctx.cfg)
    from oracle.llm import get_generator

    spec = strongest_generator(ctx.cfg)
    kwargs = {"base_url": ctx.cfg.base_url} if ctx.cfg.base_url and spec.startswith("openai:") else {}
    return get_generator(spec, **kwargs)


def free_models() -> None:
    """Forget the models this process loaded (:func:`oracle.models.clear_cache`, and the llama.cpp
    ones: :func:`oracle.llm.release_llama_models`), so the teacher does not hold memory through the
    training stages; the chat and the evaluation reload what they need."""
    import gc

    from oracle import llm, models

    models.clear_cache()
    n = llm.release_llama_models()
    gc.collect()
    logger.info("models released after the training questions (%d llama.cpp)", n)


def stage_pairs(ctx: RunContext) -> dict[str, Any]:
    """Stage 1: :func:`oracle.improve.pairs.generate_pairs`, then :func:`oracle.improve.pairs.publish_pairs`
    (review shows them) and the training snapshot.

    Returns the :class:`~oracle.improve.pairs.PairsReport` fields plus ``"n_published"``, ``"status"``.
    """
    from oracle.improve.pairs import generate_pairs, load_pairs, publish_pairs

    index = None
    if ctx.cfg.round_trip_k > 0:  # the chat's index asks each question back (round-trip check)
        from oracle.errors import IndexNotFoundError
        from oracle.index import load_index

        try:
            index = load_index(ctx.workspace, ctx.cfg.index_name)
        except IndexNotFoundError:
            logger.warning("pairs: no index %r, no round-trip check", ctx.cfg.index_name)
    teacher = teacher_generator(ctx)
    try:
        report = generate_pairs(ctx.workspace, ctx.cfg, ctx.run_dir, teacher, ctx.run_id,
                                progress=ctx.progress("pairs"), should_stop=ctx.should_stop, index=index)
    finally:
        del teacher
        free_models()
    if report.status == "cancelled":
        return {"status": "cancelled", **report.to_dict()}
    n_published = publish_pairs(ctx.workspace, load_pairs(ctx.run_dir))
    snapshot = ensure_snapshot(ctx, fresh=True)
    return {**report.to_dict(), "status": "completed", "n_published": n_published,
            "n_training_pairs": sum(1 for _ in iter_jsonl(snapshot))}


def ensure_snapshot(ctx: RunContext, fresh: bool = False) -> Path:
    """``run_dir/train_pairs.jsonl``: the QA pairs this run trains and evaluates on, frozen once
    (so a resumed run sees the same data), written when missing or when ``fresh``.

    The pairs: with ``cfg.use_existing_pairs``, every pair of ``data_qa/*.qa.jsonl`` as review left
    it (this run's pairs were published there; a pair deleted in review stays out; a pair written by
    an earlier run keeps its quote when that run's ``pairs.jsonl`` is still there); without it, this
    run's pairs only. Minus pairs review rejected, minus unreviewed ones when ``cfg.reviewed_only``,
    and minus unreviewed ones whose quote does not state the answer
    (:func:`oracle.improve.pairs.quote_states_answer`: pairs kept by runs before that check).
    The files read are listed with the ratings files in ``run_dir/data_files.json`` (:func:`data_files`).
    """
    from oracle.improve.pairs import PAIRS_FILE, load_pairs, quote_states_answer

    path = ctx.run_dir / SNAPSHOT_FILE
    if path.exists() and not fresh:
        return path
    own = load_pairs(ctx.run_dir)
    quotes = {p["qa_id"]: p.get("quote", "") for p in own}
    read: list[tuple[Path, str]] = [(ctx.run_dir / PAIRS_FILE, "pairs")]
    for other in sorted((ctx.workspace.home / "improve").glob(f"*/{PAIRS_FILE}")):
        if other.parent != ctx.run_dir:
            read.append((other, "quotes"))
        for row in iter_jsonl(other):
            quotes.setdefault(row.get("qa_id"), row.get("quote", ""))
    rows: dict[str, dict[str, Any]] = {}
    if ctx.cfg.use_existing_pairs:  # this run's pairs are there too (published), as review left them
        for qa_path in sorted(ctx.workspace.data_qa.glob("*.qa.jsonl")):
            read.append((qa_path, "qa"))
            for row in iter_jsonl(qa_path):
                rows.setdefault(row.get("qa_id") or row.get("question", ""), row)
    else:
        rows = {row["qa_id"]: row for row in own}
    keep = []
    for key, row in rows.items():
        status = row.get("status", "generated")
        if status == "rejected" or (ctx.cfg.reviewed_only and status != "approved"):
            continue
        row = {**row, "quote": row.get("quote") or quotes.get(key, "")}
        if status != "approved" and not quote_states_answer(row):
            continue
        keep.append(row)
    ctx.run_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl_atomic(path, keep)
    write_json_atomic(ctx.run_dir / DATA_FILES, data_files(ctx, read))
    return path


def data_files(ctx: RunContext, read: list[tuple[Path, str]]) -> list[dict[str, Any]]:
    """Every file that fed the run: ``[{"path", "sha256", "role"}]`` for the files the snapshot was
    made from (``read``: ``(path, role)``, role ``pairs`` for this run's pairs, ``quotes`` for an
    earlier run's, ``qa`` for ``data_qa/*.qa.jsonl``) and, with ``cfg.use_ratings``, the ratings:
    ``validated.jsonl`` (role ``ratings``: answers rated valid train) and ``invalid.jsonl`` (role
    ``ratings_invalid``: a 👎 with a corrected answer trains on the correction, a later 👎 without
    one takes an answer out, :func:`oracle.feedback.current_ratings`; runs made before corrected
    👎 trained recorded it as ``ratings_excluded``).
    Missing files are left out."""
    from oracle.training.data import file_sha256

    if ctx.cfg.use_ratings:
        read = [*read, (ctx.workspace.validated, "ratings"), (ctx.workspace.invalid, "ratings_invalid")]
    return [{"path": str(p), "sha256": file_sha256(p), "role": role} for p, role in read if p.is_file()]


def pair_quotes(rows: Iterable[dict[str, Any]]) -> dict[str, str]:
    """``{question_key: quote}`` of the QA pairs ``rows`` that carry a quote."""
    from oracle.training.data import question_key

    return {question_key(r["question"]): r["quote"] for r in rows if r.get("quote")}


def pair_facts(rows: Iterable[dict[str, Any]]) -> dict[str, list[list[str]]]:
    """``{question_key: key facts}`` of the QA pairs ``rows`` (:func:`keyfacts_of`)."""
    from oracle.training.data import question_key

    return {question_key(r["question"]): keyfacts_of(r["question"], r["answer"], r.get("quote", "")) for r in rows}


def snapshot_quotes(ctx: RunContext) -> dict[str, str]:
    """``{question_key: quote}`` of the snapshot's pairs that carry a quote."""
    return pair_quotes(iter_jsonl(ensure_snapshot(ctx)))


# --- 2. embedder ------------------------------------------------------------------------------------


def _checkpoints(ctx: RunContext, stage: str) -> tuple[Path, bool]:
    """(checkpoint folder of ``stage``, resume: it holds a complete checkpoint)."""
    from oracle.training.lora import last_checkpoint

    folder = ctx.state_dir / CHECKPOINTS / stage
    return folder, last_checkpoint(folder) is not None


def stage_embedder(ctx: RunContext) -> dict[str, Any]:
    """Stage 2: fine-tune the index's embedder; keep it only when it beats the base on validation.

    Without validation questions (:func:`oracle.training.embedding.training_splits`: fewer than
    :data:`oracle.training.embedding.MIN_TRAIN_FOR_VALIDATION` training questions) nothing is trained.
    The tuned epoch is chosen on validation MRR@10 by :func:`oracle.training.embedding.train_embedder`;
    the gate here asks its best validation MRR@10 to beat the base model's by more than
    ``cfg.min_mrr_gain``. Without validation questions (too few pairs) the stage is skipped. A
    losing model folder is deleted. A winner is re-indexed into ``indexes/improve-<run_id>``
    (the chat's index is untouched until promotion).

    Returns:
        completed: ``{"model_dir", "embedder", "candidate_index", "val_before", "val_best",
        "test_before", "test_after", "n_pairs", "reindex_seconds"}``; skipped: reason ``no_examples``,
        ``no_validation`` or ``embedder_no_gain`` (``before``, ``best``, ``min_gain``).

    Raises:
        IndexNotFoundError: the chat's index does not exist.
    """
    from oracle.index import load_index
    from oracle.training.card import find_run, run_dir
    from oracle.training.embedding import outcome, reindex, train_embedder, training_splits

    ws, cfg = ctx.workspace, ctx.cfg
    index = load_index(ws, cfg.index_name)
    name = f"improve-{ctx.run_id}-embedder"
    saved = find_run(ws, name, "embedding")  # embedders/<name>, or adapters/<name> from an older version
    if saved is not None and saved.finished and saved.folder is not None:
        model_dir, info = saved.folder, saved.to_dict()  # a resume after the save reuses the saved model
    else:
        model_dir, info = run_dir(ws, "embedding", name), None
    if info is None:  # not trained yet
        splits = training_splits(ws, cfg.embedding, [str(ensure_snapshot(ctx))], cfg.use_ratings)
        if not splits.validation:  # nothing could prove a gain: do not spend the training
            return skipped("no_validation", n=0)
        ckpt, resume = _checkpoints(ctx, "embedder")
        try:
            result = train_embedder(ws, None, name, cfg.embedding, files=[str(ensure_snapshot(ctx))],
                                    use_ratings=cfg.use_ratings, index=index, log_fn=ctx.stage_log("embedder"),
                                    should_stop=ctx.should_stop, checkpoint_dir=ckpt, resume=resume)
        except OracleError as err:
            if err.key == "err.train.no_examples":
                return skipped("no_examples")
            raise
        if result.status == "cancelled":
            return {"status": "cancelled"}
        info = result.info
        model_dir = Path(result.model_dir or model_dir)
    metrics = info.get("metrics", {})
    verdict = outcome(metrics)
    before, best = verdict["val_before"], verdict["val_best"]
    figures = {"val_before": before, "val_best": best, "test_before": verdict["test_before"],
               "test_after": verdict["test_after"], "n_pairs": metrics.get("n_pairs"),
               "base_embedder": info.get("base_model")}
    if before is None or best is None:
        shutil.rmtree(model_dir, ignore_errors=True)
        return {**skipped("no_validation", n=metrics.get("n_val_queries", 0)), **figures}
    if best - before <= cfg.min_mrr_gain:
        shutil.rmtree(model_dir, ignore_errors=True)
        return {**skipped("embedder_no_gain", before=round(before, 4), best=round(best, 4),
                          min_gain=cfg.min_mrr_gain), **figures}
    candidate = f"improve-{ctx.run_id}"
    done = reindex(ws, cfg.index_name, str(model_dir), progress=ctx.progress("embedder"), target_name=candidate)
    return {"status": "completed", "model_dir": str(model_dir), "embedder": str(model_dir),
            "candidate_index": candidate, "reindex_seconds": done.get("seconds"), **figures}


# --- 3. generator --------------------------------------------------------------------------------------


def quoted_target(target: str, quote: str, positions: list[int], language: str) -> str:
    """A RAFT target that carries its quote: ``Trecho: "<quote>" [n]`` (:data:`oracle.rag.QUOTE_LINE`),
    then the answer on the next line, as RAFT's chain-of-thought answers quote before they conclude.

    Args:
        target: the answer as :func:`oracle.training.data.build_raft` made it (with its ``[n]``).
        quote: the verified sentence of the gold chunk ('' leaves ``target`` as is).
        positions: 1-based positions of the gold chunk(s) in the prompt.
        language: ``"pt"`` or ``"en"`` (prompt language).
    """
    if not quote:
        return target
    from oracle.rag import QUOTE_LINE, prompt_language

    marks = (" " + "".join(f"[{p}]" for p in positions)) if positions else ""
    line = QUOTE_LINE[prompt_language(language)].format(quote=quote.strip(), marks=marks)
    return f"{line}\n{target.strip()}"


def sentence_target(quote: str, positions: list[int]) -> str:
    """An extractive RAFT target: the verified quote (a sentence of the gold chunk that states the
    answer, :func:`oracle.grounding.quote_support`), then the gold chunk's ``[n]`` marks. Unlike the
    teacher's answer, often a bare value ("2 de julho de 2001"), the sentence keeps every fact it
    states ("…fundado em 2 de julho de 2001 na Noruega."), and copying it cannot invent one.

    Args:
        quote: the verified sentence, in characters as the chunk has it.
        positions: 1-based positions of the gold chunk(s) in the prompt.
    """
    marks = "".join(f"[{p}]" for p in positions)
    return f"{quote.strip()} {marks}".strip()


def add_quotes(examples: list[Any], quotes: dict[str, str], style: str = "quote_first") -> int:
    """Give each RAFT example (:class:`oracle.training.data.RaftExample`) whose gold chunk is in its
    context the quote of its question (``quotes``: ``{question_key: quote}``), in ``style``
    (:data:`oracle.improve.config.TARGET_STYLES`); returns how many. Examples without the gold
    chunk keep their "not found" target.

    Raises:
        ValueError: ``style`` is not one of :data:`oracle.improve.config.TARGET_STYLES`.
    """
    from oracle.training.data import question_key

    if style not in TARGET_STYLES:
        raise ValueError(f"target style {style!r} is not one of {TARGET_STYLES}")
    n = 0
    for ex in examples:
        quote = quotes.get(question_key(ex.question))
        if quote and not ex.dropped_gold and ex.gold_positions:
            if style == "sentence":
                ex.target = sentence_target(quote, ex.gold_positions)
            else:
                ex.target = quoted_target(ex.target, quote, ex.gold_positions, ex.language)
            n += 1
    return n


def current_index(ctx: RunContext) -> Any:
    """The retriever now in use for this run: the candidate index when the embedder stage won, else
    the chat's index."""
    from oracle.index import load_index

    won = ctx.completed("embedder")
    return load_index(ctx.workspace, won["candidate_index"] if won else ctx.cfg.index_name)


def distill(ctx: RunContext, examples: list[Any]) -> dict[str, Any]:
    """With ``cfg.distill``: the teacher answers the training examples' chat prompts and its answers
    that hold the pair's key facts become their targets (:func:`oracle.improve.distill.distill_targets`);
    the teacher is released afterwards. Returns the counts (:class:`~oracle.improve.distill.DistillStats`),
    or ``{"status": "cancelled"}`` when a cancel came in between."""
    from oracle.improve.distill import distill_targets

    facts = pair_facts(iter_jsonl(ensure_snapshot(ctx)))
    teacher = teacher_generator(ctx)
    try:
        stats = distill_targets(examples, teacher, facts, ctx.run_dir, progress=ctx.progress("generator"),
                                should_stop=ctx.should_stop)
    finally:
        del teacher
        free_models()
    if ctx.should_stop():
        return {"status": "cancelled"}
    return stats.to_dict()


def stage_generator(ctx: RunContext) -> dict[str, Any]:
    """Stage 3: LoRA adapter of ``cfg.student`` on RAFT examples built with the retriever now in use
    (with ``cfg.distill``, their targets are first the teacher's own answers where they hold the
    pair's key facts: :func:`distill`).

    Returns:
        completed: ``{"adapter", "adapter_dir", "student", "teacher", "n_train", "n_eval", "n_quoted",
        "metrics"}`` (``metrics`` of ``train.json``: eval loss before/after...), plus ``"distill"`` (its
        counts) with ``cfg.distill``; skipped: ``no_examples``.
    """
    from oracle.training.card import TRAIN_JSON, RunCard, run_dir
    from oracle.training.data import prepare
    from oracle.training.lora import device_name, train_lora

    ws, cfg = ctx.workspace, ctx.cfg
    name = f"improve-{ctx.run_id}-lora"
    adapter_dir = run_dir(ws, "lora", name)
    lcfg = cfg.lora.on_device(device_name())  # a GPU's batch sizes where settings were left as they are
    data = prepare(ws, current_index(ctx), [str(ensure_snapshot(ctx))], cfg.use_ratings, lcfg.eval_fraction,
                   lcfg.k_distractors, lcfg.p_no_gold, lcfg.seed, lcfg.max_examples, lcfg.cite_sources,
                   lcfg.gold_order)
    teacher = (ctx.outputs.get("pairs") or {}).get("teacher")
    card = RunCard.load(adapter_dir, missing_ok=True)
    distilled = distill(ctx, data.train) if cfg.distill and data.train and card is None else None
    if distilled is not None and distilled.get("status") == "cancelled":
        return distilled
    quotes = snapshot_quotes(ctx)
    n_quoted = add_quotes(data.train, quotes, cfg.target_style) + add_quotes(data.eval, quotes, cfg.target_style)
    figures = {"student": cfg.student, "teacher": teacher, "n_train": len(data.train), "n_eval": len(data.eval),
               "n_quoted": n_quoted, "n_no_gold": data.stats.get("raft_no_gold_train", 0)}
    if distilled is not None:
        figures["distill"] = distilled
    if card is not None and card.source == TRAIN_JSON:  # saved before a kill: reuse
        return {"status": "completed", "adapter": name, "adapter_dir": str(adapter_dir),
                "metrics": card.metrics, **figures}
    if not data.train:
        return {**skipped("no_examples"), **figures}
    ckpt, resume = _checkpoints(ctx, "generator")
    try:
        result = train_lora(ws, cfg.student, name, lcfg, data=data, log_fn=ctx.stage_log("generator"),
                            should_stop=ctx.should_stop, resume=resume, checkpoint_dir=ckpt)
    except OracleError as err:
        if err.key in ("err.train.no_examples", "err.train.too_long"):
            return {**skipped("no_examples"), **figures}
        raise
    if result.status == "cancelled":
        return {"status": "cancelled", **figures}
    return {"status": "completed", "adapter": name, "adapter_dir": result.adapter_dir,
            "metrics": result.info.get("metrics", {}), **figures}


# --- 4. before / after ---------------------------------------------------------------------------------


def keyfacts_of(question: str, answer: str, quote: str) -> list[list[str]]:
    """Key facts of a generated pair, for scoring answers to it: what the answer adds to the question
    and the source states. Its numbers that occur in the quote when it has any, else its two
    longest content words that occur in the quote (each fact a one-surface list; matching folds
    case and accents, :func:`oracle.grounding.contains_fact`). ``[]`` when none qualifies."""
    from oracle.grounding import contains_fact, content_words

    new = sorted(content_words(answer) - content_words(question), key=lambda w: (-len(w), w))
    in_quote = [w for w in new if contains_fact(quote or answer, w)]
    numbers = [w for w in in_quote if w.isdigit()]
    chosen = numbers[:2] if numbers else in_quote[:2]
    return [[w] for w in chosen]


def build_heldout_gold(ctx: RunContext, index: Any) -> tuple[Path, int, int]:
    """Write ``run_dir/heldout.gold.jsonl``: the snapshot's held-out questions (the ``eval`` side of
    :func:`oracle.training.data.split_of`, never trained on) whose chunk is in ``index``, at most
    ``cfg.eval_limit`` spread over the set, as gold items with :func:`keyfacts_of`; plus
    ``cfg.n_offtopic`` unanswerable questions (:data:`OFFTOPIC_QUESTIONS`).

    Returns:
        ``(path, n_answerable, n_unanswerable)``.
    """
    from oracle.gold_eval import GoldItem, spread
    from oracle.rag import prompt_language
    from oracle.training.data import split_of

    chunks = {c.chunk_id: c for c in index.chunks}
    items: list[GoldItem] = []
    langs: dict[str, int] = {}
    for row in iter_jsonl(ensure_snapshot(ctx)):
        if split_of(row["question"], ctx.cfg.eval_fraction) != "eval" or row.get("chunk_id") not in chunks:
            continue
        facts = keyfacts_of(row["question"], row["answer"], row.get("quote", ""))
        if not facts:
            continue
        chunk = chunks[row["chunk_id"]]
        lang = prompt_language(row.get("language"))
        langs[lang] = langs.get(lang, 0) + 1
        items.append(GoldItem(id=f"heldout-{row.get('qa_id', len(items))}", question=row["question"],
                              reference=row["answer"], keyfacts=facts, doc=chunk.doc_name,
                              page=chunk.page_start, evidence=(row.get("quote") or "")[:100] or None))
    if ctx.cfg.eval_limit:
        items = spread(items, ctx.cfg.eval_limit)
    lang = max(langs, key=langs.get) if langs else "pt"
    off = [GoldItem(id=f"offtopic-{i}", question=q, answerable=False, kind="offtopic")
           for i, q in enumerate(OFFTOPIC_QUESTIONS[lang][: ctx.cfg.n_offtopic])]
    path = ctx.run_dir / HELDOUT_GOLD_FILE
    write_jsonl_atomic(path, [i.to_dict() for i in items + off])
    return path, len(items), len(off)


class EvaluationStopped(Exception):
    """Raised inside an evaluation when a cancel is asked (after the current question, whose row is
    saved: a resume continues from the next one)."""


def default_evaluate(ctx: RunContext, label: str, generator: str, adapter: str | None, index: Any,
                     gold_files: list[str], out_dir: Path) -> dict[str, Any]:
    """One run of :func:`oracle.gold_eval.evaluate` (chat as it is: mode ``rag``) on ``index``, at most
    ``cfg.eval_limit`` answerable and as many unanswerable questions of each file; returns ``{"summary", "retrieval"}`` of that run (``rows.jsonl`` in ``out_dir`` makes it resumable)."""
    from oracle.gold_eval import EvalRun, evaluate

    run = EvalRun(label=label, generator=generator, adapter=adapter, mode="rag")
    report_progress = ctx.progress("evaluate")

    def progress(done: int, total: int, description: str = "") -> None:
        report_progress(done, total, description)
        if ctx.should_stop():
            raise EvaluationStopped()

    report = evaluate(gold_files, [run], out_dir=out_dir, workspace=ctx.workspace, index=index,
                      generators=ctx.hooks.generators or None, progress=progress, limit=ctx.cfg.eval_limit or None)
    first = report.runs[0]
    return {"summary": first["summary"], "retrieval": first.get("retrieval", {})}


def gate(before: dict[str, Any], after: dict[str, Any], min_keyfact_gain: float = 0.0,
         mrr_before: float | None = None, mrr_after: float | None = None) -> tuple[bool, str, dict]:
    """Promote or not, from two evaluation summaries (``keyfact_accuracy``, ``abstention``,
    ``n_unanswerable``; shares in [0, 1]) and, when the after chain searches a new index, the
    MRR@10 of each index on the same questions.

    Promotion needs ``after.keyfact_accuracy > before.keyfact_accuracy + min_keyfact_gain``;
    when there are unanswerable questions, ``after.abstention >= before.abstention``; and when both
    MRRs are given, ``mrr_after >= mrr_before``: a new index that ranks the right chunk lower than
    the chat's index is never promoted, whatever the answers gained (the embedder stage's own gate
    looks at its validation split only: on the Debian Edu manual that split gained in two runs while
    the gold set lost both times, and stage 4's questions once: bench/RESULTS.md, sessions 12 and 19).

    Returns:
        ``(promote, reason, params)``: reason ``promoted``, ``keyfacts_not_better``,
        ``abstention_fell`` or ``retrieval_fell`` (i18n ``improve.reason.<reason>``), params with
        the figures (``mrr_before`` and ``mrr_after`` when given).
    """
    kb, ka = float(before.get("keyfact_accuracy", 0.0)), float(after.get("keyfact_accuracy", 0.0))
    ab, aa = float(before.get("abstention", 0.0)), float(after.get("abstention", 0.0))
    params = {"before": round(kb, 4), "after": round(ka, 4), "abst_before": round(ab, 4), "abst_after": round(aa, 4)}
    compare_retrieval = mrr_before is not None and mrr_after is not None
    if compare_retrieval:
        params.update(mrr_before=round(float(mrr_before), 4), mrr_after=round(float(mrr_after), 4))
    if not ka > kb + min_keyfact_gain:
        return False, "keyfacts_not_better", params
    if (after.get("n_unanswerable") or before.get("n_unanswerable")) and aa < ab:
        return False, "abstention_fell", params
    if compare_retrieval and params["mrr_after"] < params["mrr_before"]:
        return False, "retrieval_fell", params
    return True, "promoted", params


def scores_bare_student(cfg: Any, current: Any, lora_trained: bool) -> bool:
    """Whether the before/after evaluation also scores ``cfg.student`` without its adapter: when an
    adapter was trained and the chat's chain (``current``: :class:`oracle.defaults.ChatDefaults`) is
    not already that bare student."""
    return lora_trained and not (cfg.student == current.generator and not current.adapter)


def stage_evaluate(ctx: RunContext) -> dict[str, Any]:
    """Stage 4: score the chain before and after on the same questions, then promote or keep.

    Before: the chat's defaults (:func:`oracle.defaults.read_defaults`: generator, adapter) on the
    chat's index. After: the student with the new adapter (else the current generator and adapter)
    on the candidate index (else the chat's). When the LoRA stage trained an adapter and the chat's
    chain is not already the bare student, the student without the adapter, on the chat's index,
    is scored too (``"student"``), so the report shows the adapter's own gain; the gate compares
    only before and after. Nothing new to try (both training stages skipped): no evaluation, not
    promoted. Promotion is :func:`oracle.improve.promotion.promote`.

    Returns:
        ``{"status", "promoted", "reason", "params", "before", "after", "student", "n_answerable",
        "n_unanswerable", "defaults_before", "defaults_after", "chains"}`` (``"student"`` as said
        above); ``"chains"`` names what was compared: ``{"before": {"generator", "adapter",
        "index"}, "after": {...}}`` plus ``"student"`` (adapter and index by name, adapter None for
        the bare model).
    """
    from oracle.defaults import read_defaults
    from oracle.improve.promotion import describe_defaults, promote
    from oracle.index import load_index

    ws, cfg = ctx.workspace, ctx.cfg
    current = read_defaults(ws)
    before_desc = describe_defaults(ws, current)
    lora, emb = ctx.completed("generator"), ctx.completed("embedder")
    if lora is None and emb is None:
        return {"status": "completed", "promoted": False, "reason": "nothing_new", "params": {},
                "defaults_before": before_desc, "defaults_after": before_desc}
    old_index = load_index(ws, cfg.index_name)
    new_index = load_index(ws, emb["candidate_index"]) if emb else old_index
    gold_path, n_ans, n_unans = build_heldout_gold(ctx, old_index)
    gold_files = [str(gold_path), *cfg.gold]
    evaluate = ctx.hooks.evaluate or default_evaluate
    old_adapter = str(ws.adapters / current.adapter) if current.adapter else None
    after_gen, after_adapter = (cfg.student, lora["adapter_dir"]) if lora else (current.generator, old_adapter)
    try:
        before = evaluate(ctx, "antes", current.generator, old_adapter, old_index, gold_files,
                          ctx.run_dir / "eval-before")
        student = None
        if scores_bare_student(cfg, current, lora is not None):
            if ctx.should_stop():
                return {"status": "cancelled"}
            student = evaluate(ctx, "aluno", cfg.student, None, old_index, gold_files, ctx.run_dir / "eval-student")
        if ctx.should_stop():
            return {"status": "cancelled"}
        after = evaluate(ctx, "depois", after_gen, after_adapter, new_index, gold_files, ctx.run_dir / "eval-after")
    except EvaluationStopped:
        return {"status": "cancelled"}
    mrr = {}
    if emb:  # a new index: it must rank the right chunks no lower than the chat's
        mrr = {"mrr_before": before.get("retrieval", {}).get("mrr@10"),
               "mrr_after": after.get("retrieval", {}).get("mrr@10")}
    ok, reason, params = gate(before["summary"], after["summary"], cfg.min_keyfact_gain, **mrr)
    chains = {"before": {"generator": current.generator, "adapter": current.adapter, "index": cfg.index_name},
              "after": {"generator": after_gen, "adapter": lora["adapter"] if lora else current.adapter,
                        "index": emb["candidate_index"] if emb else cfg.index_name}}
    out = {"status": "completed", "promoted": ok, "reason": reason, "params": params, "before": before,
           "after": after, "n_answerable": n_ans, "n_unanswerable": n_unans, "gold": gold_files,
           "defaults_before": before_desc, "defaults_after": before_desc, "chains": chains}
    if student is not None:
        out["student"] = student
        chains["student"] = {"generator": cfg.student, "adapter": None, "index": cfg.index_name}
    if ok:
        new = replace(current, generator=after_gen if lora else current.generator,
                      adapter=lora["adapter"] if lora else current.adapter,
                      embedder=emb["embedder"] if emb else current.embedder, run_id=ctx.run_id)
        out["defaults_after"] = promote(ws, cfg.index_name, new, emb["candidate_index"] if emb else None)
    return out


STAGE_FUNCTIONS: dict[str, Callable[[RunContext], dict[str, Any]]] = {
    "pairs": stage_pairs,
    "embedder": stage_embedder,
    "generator": stage_generator,
    "evaluate": stage_evaluate,
}
"""The stage functions by name, in :data:`oracle.improve.config.STAGES` order."""
