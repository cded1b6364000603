"""Retriever fine-tuning: the embedding model learns to put each question next to its chunk.

Training pairs are (generated question -> its source chunk), with a hard negative per pair:
the top chunk the current index retrieves for the question that is not the source
(:func:`oracle.training.data.mine_negatives`). The loss is sentence-transformers'
``MultipleNegativesRankingLoss`` (InfoNCE with in-batch negatives; Henderson et al., 2017,
"Efficient Natural Language Response Suggestion for Smart Reply"; van den Oord et al., 2018),
trained with ``SentenceTransformerTrainer`` and a no-duplicates batch sampler (a repeated chunk
in a batch would be a false negative). e5 models keep their ``query: ``/``passage: `` prompts
during training, evaluation and in the saved folder.

Three disjoint sets of questions, all by stable hashes of the normalised question
(:func:`oracle.training.data.question_key`):

- **test** (held-out): the same hash split as the generator's
  (:func:`oracle.training.data.split_of`, ``eval_fraction``). Scored only twice, with the base
  model before training and with the kept model after it; never used to choose anything.
- **validation**: ``val_fraction`` of the remaining (training) questions, by a hash with its
  own salt (:func:`split_validation`). Scored with the base model before training and after
  every epoch; the epoch with the best validation MRR@10 is the one kept
  (``load_best_model_at_end``), and the base model's validation MRR@10 is the bar it must
  beat. With fewer than :data:`MIN_TRAIN_FOR_VALIDATION` training questions there is no
  validation (too few to carve out) and the last epoch is kept; ``train.json`` says so.
- **train**: the rest, the (question, chunk) pairs the loss sees.

Scores come from ``InformationRetrievalEvaluator`` over every chunk of the index: hit@1/5/10
(``accuracy@k``), MRR@10 and nDCG@10. ``train.json`` records validation before/best, test
before/after, the kept epoch and ``improved`` (see :func:`train_embedder`). A tuned model that
did not improve is still saved (the person may want it) but flagged, and the app and the CLI
advise against re-indexing with it.

The result is a sentence-transformers folder ``embedders/<name>/`` (default name
``<base>-<time>-embedder``) with its run card ``train.json`` (:class:`oracle.training.card.RunCard`;
older versions wrote embedders under ``adapters/``, still read there). To use it, re-index (:func:`reindex`, one
click in the app, job kind ``"reindex"``): the chunks of ``indexes/<name>`` are embedded with
the new model into ``indexes/<name>.new``; only when that index is complete and saved is it
swapped in (the previous one stays as ``indexes/<name>.prev``), so chat keeps working on the
old index during the whole re-index. From the command line::

    python -c "from oracle.config import Workspace; from oracle.training.embedding import reindex; \\
               print(reindex(Workspace(), 'default', 'embedders/<name>'))"
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from oracle.config import DEFAULT_EMBEDDER, DEFAULT_INDEX, Workspace, to_dict
from oracle.errors import ConfigError, OracleError
from oracle.schema import ProgressCallback, Record, now_iso, replace_folder
from oracle.training.card import RunCard, find_run, new_card, run_dir
from oracle.training.data import (
    TrainExample,
    chunk_pool,
    load_examples,
    mine_negatives,
    question_key,
    split_examples,
)

logger = logging.getLogger(__name__)

EVAL_NAME = "heldout"  # the test (held-out) questions: measured before and after, never used to choose
VAL_NAME = "validation"  # questions carved out of the training side: choose the epoch
VAL_SALT = "oracle-embedder-validation-v1"  # independent of data.SPLIT_SALT
MIN_TRAIN_FOR_VALIDATION = 20  # fewer training questions: no validation, the last epoch is kept
KS = (1, 5, 10)


@dataclass
class EmbedTrainConfig(Record):
    """Hyper-parameters of an embedding fine-tune, with help text and validation."""

    epochs: float = field(default=3.0, metadata={"help": "Passes over the (question, chunk) pairs; the best epoch is kept."})
    batch_size: int = field(default=16, metadata={"help": "Pairs per batch: every other pair's chunk is a negative (bigger is better, costs memory)."})
    learning_rate: float = field(default=2e-5, metadata={"help": "Peak learning rate (AdamW, linear decay). 1e-5 to 5e-5."})
    warmup_ratio: float = field(default=0.1, metadata={"help": "Share of steps with a linear warm-up, in [0, 1)."})
    hard_negatives: int = field(default=1, metadata={"help": "Hard negatives per pair mined from the index (0 = in-batch only)."})
    eval_fraction: float = field(default=0.1, metadata={"help": "Share of questions held out for evaluation (same split as the generator); only measured before and after, never used to choose the epoch."})
    val_fraction: float = field(default=0.15, metadata={"help": "Share of the training questions set aside as validation to choose the best epoch (the base model's score is the bar). With fewer than 20 training questions there is no validation and the last epoch is kept."})
    max_seq_length: int = field(default=256, metadata={"help": "Longest input in tokens of the embedder's tokenizer."})
    max_examples: int = field(default=0, metadata={"help": "Use at most this many training pairs (0 = all)."})
    seed: int = field(default=42, metadata={"help": "Random seed."})
    bf16: str = field(default="auto", metadata={"help": "bf16 mixed precision: 'auto', 'on', 'off'."})

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "learning_rate", "max_seq_length"):
            if getattr(self, name) <= 0:
                raise ConfigError.positive(name, getattr(self, name))
        if self.batch_size < 2:
            raise ConfigError.at_least("batch_size", self.batch_size, 2)  # in-batch negatives
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError.out_of_range("warmup_ratio", self.warmup_ratio, "[0, 1)")
        if not 0.0 <= self.eval_fraction < 1.0:
            raise ConfigError.out_of_range("eval_fraction", self.eval_fraction, "[0, 1)")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError.out_of_range("val_fraction", self.val_fraction, "[0, 1)")
        for name in ("hard_negatives", "max_examples"):
            if getattr(self, name) < 0:
                raise ConfigError.non_negative(name, getattr(self, name))
        value = str(self.bf16).lower()
        value = {"true": "on", "false": "off"}.get(value, value)
        if value not in ("auto", "on", "off"):
            raise ConfigError.not_one_of("bf16", self.bf16, ("auto", "on", "off"))
        self.bf16 = value


@dataclass
class EmbedResult:
    """Outcome of :func:`train_embedder`: ``status`` "completed" (model in ``model_dir``) or
    "cancelled"; ``info`` is ``train.json`` (metrics: test ``before``/``after``, ``validation``,
    ``kept_epoch``, ``improved``; see :func:`train_embedder`)."""

    name: str
    status: str
    model_dir: str | None
    info: dict[str, Any]


def prompts_of(model: Any, name: str) -> tuple[str, str]:
    """(query prompt, document prompt) of an embedder: its own ``prompts`` (``query`` and
    ``document``/``passage``), else :func:`oracle.models.embedder_prompts` of ``name``."""
    own = dict(getattr(model, "prompts", None) or {})
    if not any(own.values()):
        from oracle import models

        own = models.embedder_prompts(name) or {}
    return own.get("query", "") or "", own.get("document", own.get("passage", "")) or ""


def ir_evaluator(examples: list[TrainExample], corpus: dict[str, str], query_prompt: str, doc_prompt: str,
                 name: str = EVAL_NAME, batch_size: int = 32):
    """``InformationRetrievalEvaluator`` over ``corpus`` (``{chunk_id: text}``) for examples with
    a gold chunk: hit@1/5/10 (``accuracy@k``), MRR@10, nDCG@10 by cosine similarity."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    queries, relevant = {}, {}
    for ex in examples:
        gold = {c for c in ex.gold_chunk_ids if c in corpus}
        if gold:
            queries[ex.example_id] = ex.question
            relevant[ex.example_id] = gold
    if not queries:
        return None
    return InformationRetrievalEvaluator(
        queries=queries, corpus=corpus, relevant_docs=relevant, accuracy_at_k=list(KS),
        precision_recall_at_k=[1], mrr_at_k=[10], ndcg_at_k=[10], map_at_k=[10], name=name,
        write_csv=False, batch_size=batch_size, query_prompt=query_prompt or None,
        corpus_prompt=doc_prompt or None, score_functions=None, main_score_function="cosine",
    )


def summarize_ir(metrics: dict[str, float], name: str = EVAL_NAME) -> dict[str, float]:
    """``{"hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10"}`` from the evaluator's output
    (keys like ``heldout_cosine_accuracy@1``, with or without an ``eval_`` prefix)."""
    out = {}
    for key, value in metrics.items():
        short = key.removeprefix("eval_").removeprefix(f"{name}_").removeprefix("cosine_")
        if short.startswith("accuracy@"):
            out["hit@" + short.split("@")[1]] = float(value)
        elif short in ("mrr@10", "ndcg@10"):
            out[short] = float(value)
    return out


def split_validation(
    examples: list[TrainExample], val_fraction: float
) -> tuple[list[TrainExample], list[TrainExample]]:
    """(train, validation) of the training-side examples, stable per question: a question goes to
    validation when a sha256 of :data:`VAL_SALT` and its :func:`~oracle.training.data.question_key`
    falls under ``val_fraction`` (the same scheme as :func:`oracle.training.data.split_of`, with
    its own salt, so it does not depend on ``eval_fraction``). Order is kept within each side.

    Args:
        examples: the training side of :func:`oracle.training.data.split_examples` (test
            questions must already be removed: this function only ever sees training ones).
        val_fraction: share of questions for validation, in ``[0, 1)``.

    Raises:
        ConfigError: ``val_fraction`` outside ``[0, 1)``.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError.out_of_range("val_fraction", val_fraction, "[0, 1)")
    train, val = [], []
    for ex in examples:
        digest = hashlib.sha256((VAL_SALT + "\x00" + question_key(ex.question)).encode("utf-8")).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
        (val if u < val_fraction else train).append(ex)
    return train, val


def epoch_scores(log_history: list[dict[str, Any]], name: str = VAL_NAME) -> list[dict[str, Any]]:
    """Per-evaluation scores from a trainer's ``state.log_history``:
    ``[{"epoch": float, "step": int, "hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10"}, ...]``
    for every record with ``eval_<name>_cosine_mrr@10``, in order."""
    key = f"eval_{name}_cosine_mrr@10"
    out = []
    for rec in log_history:
        if key in rec:
            out.append({"epoch": round(float(rec.get("epoch") or 0.0), 4), "step": int(rec.get("step") or 0),
                        **summarize_ir(rec, name)})
    return out


def outcome(metrics: dict[str, Any]) -> dict[str, Any]:
    """The verdict of an embedding fine-tune from its ``train.json`` ``metrics``:
    ``{"improved": bool | None, "beat_base_on_validation": bool | None, "test_before",
    "test_after", "val_before", "val_best": float | None (MRR@10), "kept_epoch": float | None,
    "selection": str | None}``. ``improved`` is None when the run has no verdict (no test
    questions, or a ``train.json`` from before validation existed)."""
    val = metrics.get("validation") or {}
    return {
        "improved": metrics.get("improved"),
        "beat_base_on_validation": metrics.get("beat_base_on_validation"),
        "test_before": (metrics.get("before") or {}).get("mrr@10"),
        "test_after": (metrics.get("after") or {}).get("mrr@10"),
        "val_before": (val.get("before") or {}).get("mrr@10"),
        "val_best": (val.get("best") or {}).get("mrr@10"),
        "kept_epoch": metrics.get("kept_epoch"),
        "selection": metrics.get("selection"),
    }


@dataclass
class EmbedSplits:
    """The questions of an embedding fine-tune (:func:`training_splits`).

    ``train``/``validation``/``test``: the three splits; ``n_train_questions``: the training
    side before validation was carved from it; ``skip_reason``: why there is no validation
    (``"val_fraction_0"``, ``"too_few_train_questions"``) or None; ``source``: what was read.
    """

    source: Any
    train: list[TrainExample]
    validation: list[TrainExample]
    test: list[TrainExample]
    n_train_questions: int
    skip_reason: str | None


def training_splits(
    workspace: Workspace, cfg: EmbedTrainConfig, files: Iterable[str | Path] | None = None, use_ratings: bool = True
) -> EmbedSplits:
    """The questions :func:`train_embedder` trains, validates and tests on: the held-out test
    split (:func:`oracle.training.data.split_examples`), validation carved from the training side
    when it has at least :data:`MIN_TRAIN_FOR_VALIDATION` questions, then ``train`` cut to
    ``cfg.max_examples`` (0: all)."""
    source = load_examples(workspace, files, use_ratings)
    train_ex, test_ex = split_examples(source.examples, cfg.eval_fraction)
    n_train_questions = len(train_ex)
    if cfg.val_fraction > 0 and n_train_questions >= MIN_TRAIN_FOR_VALIDATION:
        train_ex, val_ex = split_validation(train_ex, cfg.val_fraction)
        skip_reason = None
    else:
        val_ex = []
        skip_reason = "val_fraction_0" if cfg.val_fraction <= 0 else "too_few_train_questions"
    if cfg.max_examples:
        train_ex = train_ex[: cfg.max_examples]
    return EmbedSplits(source, train_ex, val_ex, test_ex, n_train_questions, skip_reason)


def estimate_embedding(
    workspace: Workspace,
    cfg: EmbedTrainConfig | None = None,
    files: Iterable[str | Path] | None = None,
    use_ratings: bool = True,
) -> dict[str, int]:
    """What an embedding fine-tune would do, without loading a model: ``{"n": training
    questions, "steps": optimizer steps}`` (the split and step arithmetic of
    :func:`train_embedder`; ``n`` counts questions, the pairs are those whose gold chunk
    still exists). The app and the command line show this one estimate."""
    cfg = cfg or EmbedTrainConfig()
    n = len(training_splits(workspace, cfg, files, use_ratings).train)
    return {"n": n, "steps": math.ceil(math.ceil(n / cfg.batch_size) * cfg.epochs)}  # the last batch counts


def build_pairs(
    examples: list[TrainExample],
    chunks: dict,
    index: Any | None,
    n_negatives: int,
    seed: int,
) -> dict[str, list[str]]:
    """Columns ``anchor`` (question), ``positive`` (gold chunk text) and ``negative_1..n`` (hard
    negatives from ``index``, random chunks when the index gives none) for every example whose
    gold chunk is in ``chunks``."""
    negatives = mine_negatives(examples, index, n_negatives) if (index is not None and n_negatives) else {}
    rng = random.Random(seed)
    pool = list(chunks.values())
    cols: dict[str, list[str]] = {"anchor": [], "positive": []}
    for i in range(n_negatives):
        cols[f"negative_{i + 1}"] = []
    for ex in examples:
        gold = [chunks[c] for c in ex.gold_chunk_ids if c in chunks]
        if not gold:
            continue
        gold_ids = {g.chunk_id for g in gold}
        negs = [c.text for c in negatives.get(ex.example_id, [])]
        while len(negs) < n_negatives and len(pool) > len(gold_ids):
            cand = rng.choice(pool)
            if cand.chunk_id not in gold_ids and cand.text != gold[0].text:
                negs.append(cand.text)
        if len(negs) < n_negatives:
            continue
        cols["anchor"].append(ex.question)
        cols["positive"].append(gold[0].text)
        for i in range(n_negatives):
            cols[f"negative_{i + 1}"].append(negs[i])
    return cols


def train_embedder(
    workspace: Workspace,
    base_embedder: str | None = None,
    name: str | None = None,
    cfg: EmbedTrainConfig | None = None,
    files: Iterable[str | Path] | None = None,
    use_ratings: bool = True,
    index_name: str | None = DEFAULT_INDEX,
    log_fn: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: ProgressCallback | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    index: Any | None = None,
) -> EmbedResult:
    """Fine-tune an embedder on (question -> source chunk) pairs and save it as a
    sentence-transformers folder under ``embedders/``.

    Args:
        workspace: data, index and output.
        base_embedder: model to start from: bundled name, folder, hub id or the name of a tuned
            embedder run (:func:`oracle.training.card.find_run`); default: the index's embedder,
            else the default.
        name: output folder name under ``embedders/`` (default ``<base>-<time>-embedder``).
        cfg: hyper-parameters.
        files, use_ratings: data (see :func:`oracle.training.data.load_examples`).
        index_name: the index giving the corpus and hard negatives (``index`` overrides it).
        log_fn, should_stop, progress: as in :func:`oracle.training.lora.train_lora`.
        checkpoint_dir: epoch checkpoints (default ``embedders/<name>/checkpoints``, removed at
            the end); ``resume`` continues from the newest.

    Returns:
        :class:`EmbedResult`. ``info["metrics"]`` (also in ``train.json``) has, each score a
        ``{"hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10"}`` dict of floats in [0, 1]:

        - ``before`` / ``after``: the test (held-out) questions with the base and the kept model
          (absent when there are no test questions);
        - ``validation``: ``{"before", "best", "epochs": [{"epoch", "step", ...scores}],
          "n_queries"}`` (None without validation);
        - ``selection``: ``"validation_mrr@10"`` or ``"last_epoch"``, with ``selection_reason``
          (None, ``"too_few_train_questions"``, ``"val_fraction_0"``, ``"no_validation_queries"``
          or ``"no_evaluation"``), ``kept_epoch`` (float) and ``kept_step``;
        - ``beat_base_on_validation``: best validation MRR@10 > the base model's (None without
          validation);
        - ``improved``: test MRR@10 after > before, and False whenever
          ``beat_base_on_validation`` is False (None without test questions). The model is saved
          either way.

    Raises:
        OracleError: ``err.train.no_examples`` (fewer than 2 training pairs).
        IndexNotFoundError: ``index_name`` does not exist and no ``index`` was given.
    """
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from oracle.training.lora import (
        _quiet,
        _versions,
        default_name,
        device_name,
        last_checkpoint,
        make_callback,
        sanitize_name,
        use_bf16,
    )

    t_start = time.time()
    cfg = cfg or EmbedTrainConfig()
    if index is None and index_name:
        from oracle.index import load_index

        index = load_index(workspace, index_name)
    base = base_embedder or (index.embedder if index is not None else DEFAULT_EMBEDDER)
    from oracle import models

    if not Path(base).expanduser().is_dir() and base not in getattr(models, "EMBEDDERS", {}):
        # a tuned embedder chosen by its run's name (the app's list of bases offers them so)
        run = find_run(workspace, base, "embedding")
        if run is not None and run.is_embedder:
            base = run.path
    name = sanitize_name(name) if name else default_name(base, "emb") + "-embedder"
    out_dir = run_dir(workspace, "embedding", name)
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir else out_dir / "checkpoints"
    device = device_name()
    bf16 = use_bf16(cfg.bf16, device)

    splits = training_splits(workspace, cfg, files, use_ratings)
    source, n_train_questions, skip_reason = splits.source, splits.n_train_questions, splits.skip_reason
    train_ex, val_ex, test_ex = splits.train, splits.validation, splits.test
    chunks = chunk_pool(workspace, index)
    cols = build_pairs(train_ex, chunks, index, cfg.hard_negatives, cfg.seed)
    if len(cols["anchor"]) < 2:
        raise OracleError("err.train.no_examples")

    from datasets import Dataset

    train_ds = Dataset.from_dict(cols)
    if Path(base).expanduser().is_dir():
        path = str(Path(base).expanduser())
    else:
        from oracle import models

        path = models.resolve_embedder(base)
    model = SentenceTransformer(path, device=device)
    model.max_seq_length = cfg.max_seq_length
    q_prompt, d_prompt = prompts_of(model, base)
    model.prompts = {k: v for k, v in {"query": q_prompt, "document": d_prompt}.items() if v}
    corpus = {cid: c.text for cid, c in chunks.items()}
    test_evaluator = ir_evaluator(test_ex, corpus, q_prompt, d_prompt, name=EVAL_NAME)
    val_evaluator = ir_evaluator(val_ex, corpus, q_prompt, d_prompt, name=VAL_NAME) if val_ex else None
    if val_ex and val_evaluator is None:
        skip_reason = "no_validation_queries"  # none of their chunks is in the index any more

    metrics: dict[str, Any] = {
        "n_pairs": len(cols["anchor"]),
        "n_eval_queries": len(test_evaluator.queries) if test_evaluator else 0,
        "n_val_queries": len(val_evaluator.queries) if val_evaluator else 0,
        "n_corpus": len(corpus),
    }
    # Scores of the base model. The validation score is the bar the tuned epochs must beat; the
    # test score is only reported (the "before" of before/after).
    val_before = summarize_ir(val_evaluator(model), VAL_NAME) if val_evaluator is not None else None
    if test_evaluator is not None:
        metrics["before"] = summarize_ir(test_evaluator(model), EVAL_NAME)
    if log_fn and (val_before is not None or "before" in metrics):
        # "mrr@10" is the curve the selection follows (validation); "test_mrr@10" is only reported
        log_fn({"step": 0, "total": None, "loss": None, "eval_loss": None, "tokens_per_s": None, "eta_s": None,
                "time": now_iso(), "mrr@10": (val_before or {}).get("mrr@10"),
                "test_mrr@10": metrics.get("before", {}).get("mrr@10")})

    column_prompts = {"anchor": q_prompt, "positive": d_prompt}
    column_prompts.update({f"negative_{i + 1}": d_prompt for i in range(cfg.hard_negatives)})
    steps_per_epoch = max(1, len(train_ds) // cfg.batch_size)
    best_metric = f"eval_{VAL_NAME}_cosine_mrr@10"
    select = val_evaluator is not None
    args = SentenceTransformerTrainingArguments(
        output_dir=str(ckpt_dir),
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        warmup_steps=cfg.warmup_ratio,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        prompts={k: v for k, v in column_prompts.items() if v} or None,
        eval_strategy="epoch" if select else "no",
        save_strategy="epoch",
        save_total_limit=2,
        load_best_model_at_end=select,
        metric_for_best_model=best_metric if select else None,
        greater_is_better=True,
        logging_steps=1,
        report_to="none",
        disable_tqdm=True,
        use_cpu=device == "cpu",
        bf16=bf16,
        seed=cfg.seed,
        dataloader_num_workers=0,
        dataloader_drop_last=False,
    )
    callback = make_callback(log_fn, should_stop, progress)
    # Only the validation evaluator goes to the trainer: the test questions never reach selection.
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=train_ds, loss=MultipleNegativesRankingLoss(model),
        evaluator=val_evaluator, callbacks=[callback],
    )
    _quiet(trainer)
    resume_from = last_checkpoint(ckpt_dir) if resume else None
    output = trainer.train(resume_from_checkpoint=resume_from)
    state = trainer.state
    metrics.update({"train_loss": output.training_loss, "steps": state.global_step,
                    "steps_per_epoch": steps_per_epoch, "best_checkpoint": state.best_model_checkpoint})
    history = epoch_scores(state.log_history, VAL_NAME) if select else []
    best = next((h for h in history if state.best_global_step is not None and h["step"] == state.best_global_step),
                None)
    if select and best is not None:
        metrics.update({"selection": "validation_mrr@10", "kept_epoch": best["epoch"], "kept_step": best["step"]})
        val_best = {k: v for k, v in best.items() if k not in ("epoch", "step")}
        beat = val_best.get("mrr@10", 0.0) > (val_before or {}).get("mrr@10", 0.0)
    else:  # no validation (or no evaluation happened): the last epoch is kept
        metrics.update({"selection": "last_epoch", "kept_epoch": round(float(state.epoch or 0.0), 4),
                        "kept_step": state.global_step})
        if select:
            skip_reason = "no_evaluation"
        val_best, beat = None, None
    metrics["selection_reason"] = skip_reason
    metrics["validation"] = {"before": val_before, "best": val_best, "epochs": history,
                             "n_queries": metrics["n_val_queries"]} if select else None
    metrics["beat_base_on_validation"] = beat
    card = new_card(
        "embedding", name, base, base_model_path=path,
        data={"files": source.files, "n_examples": len(source.examples), "n_train_pairs": len(cols["anchor"]),
              "n_train_questions": n_train_questions, "n_val": len(val_ex), "n_eval": len(test_ex),
              "hard_negatives": cfg.hard_negatives, "index": getattr(index, "name", None)},
        hyperparameters=to_dict(cfg), device=device, precision="bf16-autocast" if bf16 else "fp32",
        prompts=dict(model.prompts), metrics=metrics, versions=_versions(),
    )
    if callback.cancelled:
        return EmbedResult(name, "cancelled", None, card.to_dict())
    if test_evaluator is not None:
        metrics["after"] = summarize_ir(test_evaluator(model), EVAL_NAME)
        if log_fn:
            log_fn({"step": state.global_step, "total": state.max_steps, "loss": None, "eval_loss": None,
                    "tokens_per_s": None, "eta_s": 0, "time": now_iso(),
                    "test_mrr@10": metrics["after"].get("mrr@10")})
    gain = (metrics["after"].get("mrr@10", 0.0) > metrics["before"].get("mrr@10", 0.0)
            if test_evaluator is not None else None)
    # improved: better on the test questions, and (when there was validation) chosen honestly
    # over the base model; a tie is no improvement.
    metrics["improved"] = False if beat is False else gain
    card.wall_time_s = round(time.time() - t_start, 1)
    from oracle.training import cost

    card.cost = cost.run_cost(card.wall_time_s)
    _save_model(model, out_dir, card)
    if ckpt_dir.is_dir() and ckpt_dir.resolve() != out_dir.resolve():
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    logger.info("embedding: saved %s (kept epoch %s by %s); validation base %s best %s; test before %s after %s; "
                "improved %s", out_dir, metrics["kept_epoch"], metrics["selection"], val_before, val_best,
                metrics.get("before"), metrics.get("after"), metrics["improved"])
    if metrics["improved"] is False:
        logger.warning("embedding: %s did not beat the base model %s; re-indexing with it is not recommended",
                       name, base)
    return EmbedResult(name, "completed", str(out_dir), card.to_dict())


def _save_model(model: Any, out_dir: Path, card: RunCard) -> None:
    """``model.save`` + the run card (``train.json``, :meth:`RunCard.save`, written last) into a
    sibling staging folder, then swapped in whole (:func:`oracle.schema.replace_folder`) under the
    folder's lock."""
    def write(tmp: Path) -> None:
        model.save(str(tmp))
        card.save(tmp)

    replace_folder(out_dir, write)


def evaluate_embedder(
    workspace: Workspace,
    embedder: str,
    index_name: str = DEFAULT_INDEX,
    eval_fraction: float = 0.1,
    files: Iterable[str | Path] | None = None,
    use_ratings: bool = True,
) -> dict[str, float]:
    """Held-out retrieval metrics of any embedder over the chunks of ``indexes/<index_name>``
    (``{"hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "n_queries"}``), e.g. to compare the
    base and the fine-tuned model on the same questions."""
    from oracle import models
    from oracle.index import load_index

    index = load_index(workspace, index_name)
    source = load_examples(workspace, files, use_ratings)
    _, eval_ex = split_examples(source.examples, eval_fraction)
    model = models.load_embedder(embedder)
    q_prompt, d_prompt = prompts_of(model, embedder)
    evaluator = ir_evaluator(eval_ex, {c.chunk_id: c.text for c in index.chunks}, q_prompt, d_prompt)
    if evaluator is None:
        return {"n_queries": 0}
    return {**summarize_ir(evaluator(model)), "n_queries": len(evaluator.queries)}


def reindex(
    workspace: Workspace,
    index_name: str,
    embedder: str,
    progress: ProgressCallback | None = None,
    target_name: str | None = None,
) -> dict[str, Any]:
    """Re-embed every chunk of ``indexes/<index_name>`` with ``embedder`` and swap it in.

    The new index is built in memory and swapped in whole (:meth:`oracle.index.VectorIndex.save`);
    the old folder is kept as ``<index_name>.prev`` (replacing an older ``.prev``). Until that
    moment the old index serves chat unchanged; a kill at any step leaves the old or the new
    index loadable. The whole read-embed-save runs under :func:`oracle.index.index_lock`, so a
    build of the same index started meanwhile waits and its documents are kept. With
    ``target_name`` the new index is saved under that name instead and nothing is swapped (to
    compare two embedders side by side). The new index records ``embedder``'s relevance gate
    (:func:`oracle.models.embedder_min_score`; a fine-tuned folder inherits its base model's),
    not the old index's.

    Returns:
        ``{"index", "embedder", "n_chunks", "min_score", "seconds", "previous"}``.

    Raises:
        IndexNotFoundError: no index ``index_name``.
        ModelNotFoundError: the embedder cannot be loaded.
    """
    from oracle.index import VectorIndex, index_lock, load_index

    t0 = time.time()
    final_name = target_name or index_name
    final = workspace.index_dir(final_name)
    locks = sorted({workspace.index_dir(index_name), final})  # one order: two re-indexes never deadlock
    with contextlib.ExitStack() as held:
        for folder in locks:
            held.enter_context(index_lock(folder))
        old = load_index(workspace, index_name, cache=False)
        new = VectorIndex.create(embedder, name=final_name, chunking=old.chunking)
        new.add(list(old.chunks), progress=progress)
        previous = workspace.indexes / f"{final_name}.prev" if final.exists() else None
        new.save(final, previous=previous)
    logger.info("re-indexed %s with %s: %d chunks in %.1f s", final_name, embedder, len(new), time.time() - t0)
    return {"index": final_name, "embedder": embedder, "n_chunks": len(new), "min_score": new.min_score,
            "seconds": round(time.time() - t0, 1), "previous": str(previous) if previous else None}
