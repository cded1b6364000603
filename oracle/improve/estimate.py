"""How long a "Melhorar o Oráculo" run will take, before it starts: work units times seconds per unit.

:func:`run_units` counts the work a run would do on this workspace with a given
:class:`~oracle.improve.config.ImproveConfig` (the same choices as the stages, without loading a
model): the chunks that get questions (:func:`oracle.improve.pairs.candidate_chunks`) and the pairs
asked for them, the training questions it would then have (existing pairs, the new ones expected
to be kept, ratings that train), the embedder's (question, chunk) pairs times epochs, the LoRA's example
passes (optimizer steps x batch x accumulation, counted as
:func:`oracle.training.cost.estimate` counts steps) and the answers of the before/after evaluation
(each question answered by the chain before and by the chain after).

:func:`unit_seconds` gives the seconds per unit of each stage. Where earlier runs of this workspace
recorded their stage times (``improve/<run>/report.json``: a stage's ``seconds`` and the units it
did), their totals divided by their units are used: the machine's own speed under its own load.
Otherwise :data:`DEFAULT_UNIT_SECONDS`, measured on the reference machine (2-core Xeon with AMX,
no GPU, loaded) by the runs of ``bench/RESULTS.md``.

:func:`estimate` puts both together and :func:`estimate_text` says it in plain words: "cerca de
2 h 10 min neste computador (...). É uma estimativa ...".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oracle.config import Workspace
from oracle.improve.config import STAGES, ImproveConfig
from oracle.schema import Record

DEFAULT_UNIT_SECONDS: dict[str, float] = {
    "pairs": 1007.0 / 20,
    "embedder": 210.0 / 90,
    "reindex": 78.0 / 159,
    "generator": 954.0 / 76,
    "evaluate": 559.0 / 44,
}
"""Seconds per unit on the reference machine (2-core Xeon with AMX, no GPU, load 3.5-6 unless said), from
``bench/RESULTS.md``:

* ``pairs``, per pair asked of the teacher: the bundled 1.5B wrote 10 chunks x 2 pairs in 16 min 47 s
  (section '"Melhorar o Oráculo" end to end on one real PDF'); a smaller teacher is faster, a server
  has no default (its speed is unknown until a run through it);
* ``embedder``, per (question, chunk) pair and epoch: 30 pairs x 3 epochs in 210 s (section "Fine-tuning
  on one real PDF, CPU, bundled models", ``bench/finetune_pdf.py``, load 5-10), evaluation included;
* ``reindex``, per chunk re-embedded when the tuned embedder wins: the index of 159 chunks (e5-small)
  was built in 78 s (the end-to-end section's ``index`` command; parsing included, so an upper bound);
* ``generator``, per training example pass (forward and backward, model loading and the held-out
  loss before and after spread over them): 19 steps x batch 1 x accumulation 4 of the 0.5B in 15 min
  54 s, quiet (section '"Melhorar o Oráculo" on one real PDF with the teacher on llama.cpp'; the
  first run, under load 3.5-6, took 33 min 25 s for 12 x 4: 3.3x slower per pass);
* ``evaluate``, per answer: 22 questions answered by both chains (44 answers) in 9 min 19 s.
"""

LLAMA_CPP_PAIR_SECONDS = 1953.0 / 200
"""Seconds per pair asked of a teacher on llama.cpp (``llamacpp:`` spec, the automatic teacher where
llama-cpp-python is installed: :func:`oracle.improve.config.teacher_engine`), on the reference
machine, quiet: the bundled 1.5B wrote 100 chunks x 2 pairs of the Ubuntu packaging guide in 32 min
33 s, 17,332 tokens (section '"Melhorar o Oráculo" on one real PDF with the teacher on llama.cpp')."""

DISTILL_ANSWER_SECONDS = 759.0 / 39
"""Seconds per training example the teacher answers when ``cfg.distill`` is on
(:mod:`oracle.improve.distill`): the 1.5B on llama.cpp answered 39 chat prompts of 4 chunks in 12 min
39 s on the reference machine, load 2-3.5 (section "The LoRA stage again, other recipes" of
``bench/RESULTS.md``)."""

KEPT_SHARE = 5 / 20
"""Share of asked pairs kept when no earlier run says (the 1.5B kept 5 of 20 in the run above)."""

ROUGH_STEPS = ((60, 1), (20 * 60, 60), (3600, 300), (math.inf, 600))
"""Rounding of a duration in the text: (below this many seconds, round to this many): 1 s under a
minute, 1 min under 20 min, 5 min under 1 h, 10 min above."""


@dataclass
class RunUnits(Record):
    """The work a run would do (:func:`run_units`).

    Attributes:
        n_chunks: chunks that get questions.
        n_asked: pairs asked of the teacher (``n_chunks`` x pairs per chunk).
        n_new: pairs expected to be kept (``n_asked`` x the kept share; 0 when only reviewed pairs
            train, since new pairs are not reviewed).
        n_questions: training questions in all: existing pairs, ``n_new``, ratings that train (👍,
            and 👎 with a correction).
        n_train: of them, on the training side of the held-out split.
        n_heldout: of them, held out.
        embedder_pair_epochs: (question, chunk) pairs x epochs of the embedder fine-tune; 0 when the
            stage is not chosen or would skip (fewer than
            :data:`oracle.training.embedding.MIN_TRAIN_FOR_VALIDATION` training questions).
        n_index_chunks: chunks of the chat's index (re-embedded when the tuned embedder wins).
        generator_passes: example passes of the LoRA (optimizer steps x batch x accumulation).
        n_distill: training examples the teacher answers first with ``cfg.distill`` (those with
            their gold chunk: a ``1 - p_no_gold`` share); 0 without.
        n_answers: answers of the before/after evaluation (questions x chains: before and after,
            plus the student without its adapter when a LoRA is trained and the chat's chain is
            not already the bare student); 0 when nothing is trained.
        kept_share: the share of asked pairs expected to be kept, in [0, 1].
    """

    n_chunks: int = 0
    n_asked: int = 0
    n_new: int = 0
    n_questions: int = 0
    n_train: int = 0
    n_heldout: int = 0
    embedder_pair_epochs: float = 0.0
    n_index_chunks: int = 0
    generator_passes: int = 0
    n_distill: int = 0
    n_answers: int = 0
    kept_share: float = KEPT_SHARE


@dataclass
class StageEstimate(Record):
    """One stage of :class:`RunEstimate`.

    Attributes:
        seconds: estimated wall time, seconds (None: unknown, see ``source``).
        units: work units (:class:`RunUnits`' figure for the stage).
        per_unit: seconds per unit used (None when unknown).
        source: ``"history"`` (earlier runs of this workspace), ``"default"``
            (:data:`DEFAULT_UNIT_SECONDS`), ``"none"`` (nothing to do) or ``"unknown"`` (a server
            teacher never timed here).
    """

    seconds: float | None = 0.0
    units: float = 0.0
    per_unit: float | None = None
    source: str = "none"


@dataclass
class RunEstimate(Record):
    """:func:`estimate`'s answer.

    Attributes:
        seconds: the run's estimated wall time, seconds (stages of unknown time not counted).
        stages: ``{stage: StageEstimate}`` for every stage of :data:`oracle.improve.config.STAGES`.
        units: the :class:`RunUnits` counted.
        source: ``"history"``, ``"default"``, ``"mixed"`` (some stages each) or ``"none"``.
        unknown_pairs: pairs a server teacher will write in a time not known yet (0 otherwise).
    """

    seconds: float = 0.0
    stages: dict[str, StageEstimate] = field(default_factory=dict)
    units: RunUnits = field(default_factory=RunUnits)
    source: str = "none"
    unknown_pairs: int = 0


def _bare(spec: str | None) -> str:
    """A generator spec without ``local:`` (the teacher's name in a report has it, the spec not)."""
    spec = str(spec or "")
    return spec[len("local:"):] if spec.startswith("local:") else spec


def _number(value: Any) -> float:
    try:
        out = float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return out if math.isfinite(out) and out > 0 else 0.0


def history(workspace: Workspace, teacher: str | None = None) -> dict[str, Any]:
    """Seconds and units of the stages that did work in earlier runs of ``workspace``.

    Reads every ``improve/<run>/report.json``; a stage counts when it completed (or, for the
    embedder, trained and lost the gate) and its units are known:

    * ``pairs``: chunks done x the run's pairs per chunk; only runs whose teacher is ``teacher``
      (when given; ``local:`` prefixes ignored), since teachers differ by far in speed;
    * ``embedder``: its training pairs x the run's epochs;
    * ``generator``: its optimizer steps x the run's batch x accumulation;
    * ``evaluate``: the questions of the evaluation x the chains scored (2, or 3 with the student
      without its adapter).

    Returns:
        ``{"seconds": {stage: s}, "units": {stage: u}, "asked": n, "kept": n}`` summed over runs
        (``asked``/``kept``: pairs asked and kept, for the kept share). Unreadable reports are skipped.
    """
    from oracle.improve.runs import REPORT_JSON, runs_root
    from oracle.schema import read_json

    seconds = dict.fromkeys(STAGES, 0.0)
    units = dict.fromkeys(STAGES, 0.0)
    asked = kept = 0.0
    for path in sorted(runs_root(workspace).glob(f"*/{REPORT_JSON}")):
        try:
            report = read_json(path)
        except (OSError, ValueError):
            continue
        config = report.get("config") or {}
        stages = report.get("stages") or {}

        def rec(name: str) -> tuple[dict[str, Any], dict[str, Any], float]:
            record = stages.get(name) or {}
            return record, record.get("output") or {}, _number(record.get("seconds"))

        record, out, secs = rec("pairs")
        same_teacher = teacher is None or _bare(out.get("teacher")) == _bare(teacher)
        if record.get("state") == "completed" and same_teacher:
            n = _number(out.get("n_done")) * _number(config.get("pairs_per_chunk") or 2)
            if n and secs:
                seconds["pairs"] += secs
                units["pairs"] += n
                asked += n
                kept += _number(out.get("n_kept"))
        record, out, secs = rec("embedder")
        trained = record.get("state") == "completed" or out.get("reason") == "embedder_no_gain"
        n = _number(out.get("n_pairs")) * _number((config.get("embedding") or {}).get("epochs") or 1)
        if trained and n and secs:
            seconds["embedder"] += secs
            units["embedder"] += n
        record, out, secs = rec("generator")
        lora = config.get("lora") or {}
        n = (_number((out.get("metrics") or {}).get("steps")) * _number(lora.get("batch_size") or 1)
             * _number(lora.get("grad_accum") or 1))
        if record.get("state") == "completed" and n and secs:
            seconds["generator"] += secs
            units["generator"] += n
        record, out, secs = rec("evaluate")
        summary = (out.get("before") or {}).get("summary") or {}
        n_questions = (_number(summary.get("n_answerable")) + _number(summary.get("n_unanswerable"))
                       or _number(out.get("n_answerable")) + _number(out.get("n_unanswerable")))
        if record.get("state") == "completed" and out.get("before") and n_questions and secs:
            seconds["evaluate"] += secs
            units["evaluate"] += (3 if out.get("student") else 2) * n_questions
    return {"seconds": seconds, "units": units, "asked": asked, "kept": kept}


def unit_seconds(workspace: Workspace, teacher: str | None = None,
                 past: dict[str, Any] | None = None) -> dict[str, tuple[float | None, str]]:
    """Seconds per unit of each stage and where the figure comes from (``past``: :func:`history`
    already read, else it is read here).

    Returns:
        ``{stage: (seconds_per_unit, source)}`` for the stages of
        :data:`oracle.improve.config.STAGES`: source ``"history"`` (:func:`history`: total seconds
        over total units of earlier runs), else ``"default"`` (:data:`DEFAULT_UNIT_SECONDS`; for the
        pairs of a ``llamacpp:`` teacher :data:`LLAMA_CPP_PAIR_SECONDS`), else, for the pairs of a
        server teacher (``openai:``) never timed here, ``(None, "unknown")``.
    """
    past = past if past is not None else history(workspace, teacher)
    out: dict[str, tuple[float | None, str]] = {}
    for stage in STAGES:
        if past["units"][stage] > 0:
            out[stage] = (past["seconds"][stage] / past["units"][stage], "history")
        elif stage == "pairs" and str(teacher or "").startswith("openai:"):
            out[stage] = (None, "unknown")
        elif stage == "pairs" and str(teacher or "").startswith("llamacpp:"):
            out[stage] = (LLAMA_CPP_PAIR_SECONDS, "default")
        else:
            out[stage] = (DEFAULT_UNIT_SECONDS[stage], "default")
    return out


def _gold_counts(path: str | Path, limit: int) -> int:
    """Questions of a gold set the evaluation answers: answerable and unanswerable, each at most
    ``limit`` (0: all), as :func:`oracle.gold_eval.evaluate` caps them."""
    from oracle.schema import iter_jsonl

    try:
        rows = list(iter_jsonl(Path(path)))
    except (OSError, ValueError):
        return 0
    n_ans = sum(1 for r in rows if r.get("answerable", True))
    n_un = len(rows) - n_ans
    cap = (lambda n: min(n, limit)) if limit else (lambda n: n)
    return cap(n_ans) + cap(n_un)


def evaluated_chains(workspace: Workspace, cfg: ImproveConfig, lora: bool) -> int:
    """Chains the before/after evaluation scores (:func:`oracle.improve.stages.stage_evaluate`):
    before and after, plus the student without its adapter
    (:func:`oracle.improve.stages.scores_bare_student`; ``lora``: an adapter is trained)."""
    from oracle.defaults import read_defaults
    from oracle.improve.stages import scores_bare_student

    return 3 if scores_bare_student(cfg, read_defaults(workspace), lora) else 2


def run_units(workspace: Workspace, cfg: ImproveConfig, kept_share: float = KEPT_SHARE) -> RunUnits:
    """The work a run with ``cfg`` would do on ``workspace`` now (see the module's docstring).

    Args:
        workspace: documents, ``data_qa/``, ratings, the chat's index.
        cfg: the run's parameters (stages chosen, sizes, hyper-parameters).
        kept_share: share of asked pairs expected to pass the checks, in [0, 1].

    Returns:
        A :class:`RunUnits`. Reads files only (chunks, QA pairs, ratings, index metadata, gold sets).
    """
    from oracle.feedback import rating_summary
    from oracle.improve.pairs import candidate_chunks
    from oracle.schema import iter_jsonl
    from oracle.training.embedding import MIN_TRAIN_FOR_VALIDATION

    units = RunUnits(kept_share=kept_share)
    if "pairs" in cfg.stages:
        units.n_chunks = len(candidate_chunks(workspace, cfg)[0])
        units.n_asked = units.n_chunks * cfg.pairs_per_chunk
        units.n_new = 0 if cfg.reviewed_only else round(units.n_asked * kept_share)
    existing = 0
    if cfg.use_existing_pairs:
        for path in sorted(workspace.data_qa.glob("*.qa.jsonl")):
            for row in iter_jsonl(path):
                status = row.get("status", "generated")
                existing += status == "approved" or (status != "rejected" and not cfg.reviewed_only)
    valid = rating_summary(workspace).n_training if cfg.use_ratings else 0  # 👍, and 👎 with a correction
    units.n_questions = existing + units.n_new + valid
    units.n_heldout = round(units.n_questions * cfg.eval_fraction)
    units.n_train = units.n_questions - units.n_heldout
    try:
        from oracle.index import index_stats

        units.n_index_chunks = int(index_stats(workspace, cfg.index_name).get("n_chunks") or 0)
    except Exception:  # noqa: BLE001 - no index yet: nothing to re-embed
        units.n_index_chunks = 0
    emb = cfg.embedding
    if "embedder" in cfg.stages and units.n_train >= MIN_TRAIN_FOR_VALIDATION:
        pairs = units.n_train - round(units.n_train * emb.val_fraction)
        if emb.max_examples:
            pairs = min(pairs, emb.max_examples)
        units.embedder_pair_epochs = float(pairs * emb.epochs)
    lora = cfg.lora
    n = min(units.n_train, lora.max_examples) if lora.max_examples else units.n_train
    if "generator" in cfg.stages and n > 0:
        examples = n + round(n * (1.0 - lora.p_no_gold) * lora.self_check)  # + self-check examples
        per_epoch = max(1, math.ceil(math.ceil(examples / lora.batch_size) / lora.grad_accum))
        steps = lora.max_steps if lora.max_steps > 0 else math.ceil(round(lora.epochs * per_epoch, 6))
        units.generator_passes = int(steps * lora.batch_size * lora.grad_accum)
        if cfg.distill:
            units.n_distill = round(n * (1.0 - lora.p_no_gold))
    if "evaluate" in cfg.stages and (units.generator_passes or units.embedder_pair_epochs):
        cap = (lambda k: min(k, cfg.eval_limit)) if cfg.eval_limit else (lambda k: k)
        questions = (cap(units.n_heldout) + cap(cfg.n_offtopic)
                     + sum(_gold_counts(g, cfg.eval_limit) for g in cfg.gold))
        units.n_answers = evaluated_chains(workspace, cfg, units.generator_passes > 0) * questions
    return units


def estimate(workspace: Workspace, cfg: ImproveConfig | None = None) -> RunEstimate:
    """How long a run with ``cfg`` would take on ``workspace``, stage by stage.

    Units from :func:`run_units` (with the kept share of earlier runs of the same teacher when there
    are any), seconds per unit from :func:`unit_seconds`; the embedder stage adds the re-index of
    the chat's index (it happens only when the tuned embedder wins: the estimate counts it), and the
    generator stage the teacher's answers of ``cfg.distill`` (:data:`DISTILL_ANSWER_SECONDS` each).

    Returns:
        A :class:`RunEstimate` (seconds are wall time on this machine, an estimate).
    """
    from oracle.improve.config import strongest_generator

    cfg = cfg or ImproveConfig()
    teacher = strongest_generator(cfg)
    past = history(workspace, teacher)
    share = past["kept"] / past["asked"] if past["asked"] else KEPT_SHARE
    units = run_units(workspace, cfg, kept_share=min(1.0, share))
    per = unit_seconds(workspace, teacher, past)
    work = {"pairs": units.n_asked, "embedder": units.embedder_pair_epochs,
            "generator": units.generator_passes, "evaluate": units.n_answers}
    result = RunEstimate(units=units)
    for stage in STAGES:
        seconds_per, source = per[stage]
        amount = float(work[stage])
        if not amount:
            result.stages[stage] = StageEstimate(0.0, 0.0, seconds_per, "none")
            continue
        if seconds_per is None:
            result.stages[stage] = StageEstimate(None, amount, None, source)
            result.unknown_pairs = units.n_asked
            continue
        seconds = amount * seconds_per
        if stage == "embedder" and source == "default":
            seconds += units.n_index_chunks * DEFAULT_UNIT_SECONDS["reindex"]
        if stage == "generator":
            seconds += units.n_distill * DISTILL_ANSWER_SECONDS
        result.stages[stage] = StageEstimate(round(seconds, 1), amount, seconds_per, source)
    result.seconds = round(sum(s.seconds or 0.0 for s in result.stages.values()), 1)
    sources = {s.source for s in result.stages.values() if s.source in ("history", "default")}
    result.source = "mixed" if len(sources) > 1 else (sources.pop() if sources else "none")
    return result


def rough_duration(seconds: float) -> str:
    """A duration rounded as an estimate deserves (:data:`ROUGH_STEPS`): ``"45 s"``, ``"12 min"``,
    ``"1 h 25 min"``, ``"3 h"``; the units read the same in Portuguese and English."""
    seconds = max(0.0, float(seconds))
    step = next(s for limit, s in ROUGH_STEPS if seconds < limit)
    total = int(max(step, round(seconds / step) * step))
    if total < 60:
        return f"{total} s"
    hours, minutes = divmod(total // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" if not minutes else f"{hours} h {minutes:02d} min"


def estimate_text(est: RunEstimate, lang: str | None = None) -> str:
    """The estimate in plain words (Markdown), e.g. "⏱️ **Tempo estimado de uma execução:** cerca
    de 2 h 10 min neste computador (perguntas de treino 1 h 25 min, respostas 35 min, antes e depois
    10 min). É uma estimativa, feita com os tempos das execuções anteriores."; for a server teacher
    never timed here, that its time is not counted; ``""`` when there is nothing to do."""
    from oracle.i18n import format_number, t

    if not est.seconds:
        n = format_number(est.unknown_pairs, lang)
        return t("improve.estimate.only_server", lang, n=n) if est.unknown_pairs else ""
    parts = [t("improve.estimate.part", lang, stage=t(f"improve.estimate.stage.{stage}", lang),
               time=rough_duration(rec.seconds or 0.0))
             for stage, rec in est.stages.items() if rec.seconds]
    where = "here" if est.source in ("history", "mixed") else "reference"
    text = t(f"improve.estimate.{where}", lang, time=rough_duration(est.seconds),
             parts=", ".join(parts))
    text += " " + t(f"improve.estimate.basis.{est.source if est.source != 'none' else 'default'}", lang)
    if est.unknown_pairs:
        text += " " + t("improve.estimate.unknown_pairs", lang, n=format_number(est.unknown_pairs, lang))
    return text
