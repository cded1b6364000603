""""Melhorar o Oráculo": one gated pipeline that fine-tunes the RAG parts in sequence and proves the gain.

One background job (kind ``improve``, :mod:`oracle.jobs`) runs four stages in order, each with
progress records, cancellable, and resumable at stage level (a finished stage is not redone):

1. ``pairs``: training questions from the documents, written by the strongest generator available
   (the teacher), each with the sentence that supports its answer quoted and verified verbatim; every
   rejection counted by reason (:mod:`oracle.improve.pairs`);
2. ``embedder``: embedder fine-tune, kept only when it beats the base on validation MRR@10; a winner is
   re-indexed into a new index, used only once complete;
3. ``generator``: LoRA of the fast chat model (the student) on RAFT examples whose targets carry their
   quote (Zhang et al. 2024, "RAFT", arXiv:2403.10131);
4. ``evaluate``: the chain before and after (:mod:`oracle.gold_eval`) on held-out generated questions,
   off-topic questions and any gold set of the user; promotion (new adapter and index become the chat's
   defaults, :mod:`oracle.defaults`) only when key-fact accuracy improves and abstention does not fall.

API for the app and the command line (plain data in, plain data out; nothing here imports gradio)::

    from oracle.improve import ImproveConfig, start, status, list_runs, rollback, data_summary

    data_summary(ws)            # {"text": "312 perguntas geradas, 18 avaliações válidas, 4 corrigidas",
                                #  "warnings": [...], "n_pairs", "n_valid", "n_corrected", ...}
    estimate_text(estimate(ws, cfg))   # "⏱️ **Tempo estimado de uma execução:** cerca de 2 h 10 min
                                       #  neste computador (...). É uma estimativa, ..."
    job_id = start(ws, ImproveConfig(max_chunks=20))   # queues the job; returns its id (= run id)
    status(ws, job_id)          # {"job": JobStatus, "stages": [{"name", "label", "state", "seconds",
                                #  "output"}], "current", "progress", "losses", "report"}
    jobs.cancel(ws, job_id); jobs.resume(ws, job_id)   # oracle.jobs: stage-level resume
    list_runs(ws)               # past runs with their before/after figures, newest first
    comparison(read_report(ws, run_id))   # the before/after table in plain Portuguese
    rollback(ws, run_id)        # the chat's defaults go back to what that run left

In-process (tests, notebooks): :func:`run_pipeline` with injectable :class:`Hooks` (teacher, evaluation)
and stage functions. Files: ``improve/<run_id>/`` (pairs, snapshot, evaluation rows, ``report.json``,
``report.md``), ``adapters/improve-<run_id>-lora/``, ``embedders/improve-<run_id>-embedder/`` and
``indexes/improve-<run_id>/`` (only when the embedder won), ``defaults.json``.
"""

from oracle.improve.config import STAGES, ImproveConfig, ImproveJob, strongest_generator, with_settings
from oracle.improve.estimate import RunEstimate, estimate, estimate_text
from oracle.improve.pairs import PairsReport, generate_pairs
from oracle.improve.runs import (
    comparison,
    data_summary,
    list_runs,
    read_report,
    rollback,
    run_jobs,
    run_pipeline,
    start,
    status,
)
from oracle.improve.stages import Hooks, RunContext, gate

__all__ = [
    "STAGES",
    "Hooks",
    "ImproveConfig",
    "ImproveJob",
    "PairsReport",
    "RunContext",
    "RunEstimate",
    "comparison",
    "data_summary",
    "estimate",
    "estimate_text",
    "gate",
    "generate_pairs",
    "list_runs",
    "read_report",
    "rollback",
    "run_jobs",
    "run_pipeline",
    "start",
    "status",
    "strongest_generator",
    "with_settings",
]
