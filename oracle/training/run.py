"""Entry point of a background job process: ``python -m oracle.training.run --config jobs/<id>/job.json``.

Started by :mod:`oracle.jobs` (never by hand, though it works by hand too). Reads the job
spec, rebuilds its typed parameters (:func:`oracle.training.specs.spec_from_params`: the same
dataclass the app or the command line submitted), marks the job running, calls the runner of
its ``kind`` with a ``log_fn`` that appends
to ``log.jsonl`` and a ``should_stop`` that checks the cancel flag, then writes the final
state (completed, cancelled, failed) and starts the next queued job. SIGTERM (the cancel
fallback) raises :class:`JobCancelled` in the main thread: the state becomes ``cancelled``
and the last saved checkpoint stays resumable.

Runners (``RUNNERS``): ``lora`` (:func:`oracle.training.lora.train_lora`), ``embedding``
(:func:`oracle.training.embedding.train_embedder`), ``reindex``
(:func:`oracle.training.embedding.reindex`), ``estimate``
(:func:`oracle.training.lora.estimate_lora`), ``merge``
(:func:`oracle.training.export.merge_adapter`), ``improve`` (:func:`oracle.improve.runs.run_job`: the
staged "Melhorar o Oráculo" pipeline), ``selftest`` (counts to ``steps``, sleeping
``sleep_s`` per step, with checkpoints: exercises the machinery in tests in a second). Each
runner gets a :class:`JobContext` and its kind's spec (:mod:`oracle.training.specs`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from oracle import jobs
from oracle.config import Workspace
from oracle.errors import OracleError
from oracle.schema import json_safe, now_iso, read_json, write_json_atomic
from oracle.training.specs import (
    EmbeddingJob,
    EstimateJob,
    ImproveJob,
    LoraJob,
    MergeJob,
    ReindexJob,
    SelftestJob,
    spec_from_params,
)

logger = logging.getLogger("oracle.training.run")


class JobCancelled(BaseException):
    """Raised by the SIGTERM handler; a BaseException so no ``except Exception`` swallows it."""


class JobContext:
    """What a runner gets besides its params: the workspace, the job folder, logging and cancel."""

    def __init__(self, workspace: Workspace, job_id: str, resume: bool) -> None:
        self.workspace = workspace
        self.job_id = job_id
        self.dir = jobs.job_dir(workspace, job_id)
        self.checkpoint_dir = self.dir / jobs.CHECKPOINTS
        self.resume = resume
        self._eta = jobs.RateEta()  # the time left of progress()

    def log(self, record: dict[str, Any]) -> None:
        jobs.log_record(self.workspace, self.job_id, record)

    def should_stop(self) -> bool:
        return jobs.cancel_requested(self.workspace, self.job_id)

    def progress(self, done: int, total: int, description: str = "") -> None:
        """A ProgressCallback that logs coarse progress (non-training work: re-indexing), with the
        seconds left (:class:`oracle.jobs.RateEta`)."""
        left = self._eta(done, total)
        if total and (done == total or done % max(1, total // 50) == 0):
            self.log({"step": done, "total": total, "loss": None, "eval_loss": None, "tokens_per_s": None,
                      "eta_s": left, "time": now_iso(), "note": description})


def _lora(ctx: JobContext, spec: LoraJob) -> dict[str, Any]:
    from oracle.training.lora import train_lora

    resume = ctx.resume and jobs.has_checkpoint(ctx.workspace, ctx.job_id)
    t0 = time.time()
    try:
        result = train_lora(
            ctx.workspace, spec.base_model, spec.name, spec.config, files=spec.files,
            use_ratings=spec.use_ratings, index_name=spec.index_name,
            log_fn=ctx.log, should_stop=ctx.should_stop, resume=resume, checkpoint_dir=ctx.checkpoint_dir,
            cost_cfg=spec.cost,
        )
    except JobCancelled:
        from oracle.training.lora import note_wall_time

        note_wall_time(ctx.checkpoint_dir, time.time() - t0)
        raise
    out = {"status": result.status, "adapter_dir": result.adapter_dir, "name": result.name,
           "metrics": result.info.get("metrics", {}), "cost": result.info.get("cost"),
           "wall_time_s": result.info.get("wall_time_s"), "base_model": spec.base_model}
    return out


def _embedding(ctx: JobContext, spec: EmbeddingJob) -> dict[str, Any]:
    from oracle.training.embedding import train_embedder

    result = train_embedder(
        ctx.workspace, spec.base_embedder, spec.name, spec.config, files=spec.files,
        use_ratings=spec.use_ratings, index_name=spec.index_name,
        log_fn=ctx.log, should_stop=ctx.should_stop, checkpoint_dir=ctx.checkpoint_dir,
        resume=ctx.resume and jobs.has_checkpoint(ctx.workspace, ctx.job_id),
    )
    return {"status": result.status, "model_dir": result.model_dir, "name": result.name,
            "metrics": result.info.get("metrics", {}), "wall_time_s": result.info.get("wall_time_s")}


def _reindex(ctx: JobContext, spec: ReindexJob) -> dict[str, Any]:
    from oracle.training.embedding import reindex

    return reindex(ctx.workspace, spec.index_name, spec.embedder, progress=ctx.progress, target_name=spec.target_name)


def _estimate(ctx: JobContext, spec: EstimateJob) -> dict[str, Any]:
    from oracle.training.lora import estimate_lora

    return estimate_lora(
        ctx.workspace, spec.base_model, spec.config, files=spec.files, use_ratings=spec.use_ratings,
        index_name=spec.index_name, cost_cfg=spec.cost,
    )


def _merge(ctx: JobContext, spec: MergeJob) -> dict[str, Any]:
    from oracle.training.export import merge_adapter

    return {"merged_dir": merge_adapter(spec.adapter_dir, spec.output_dir, base_model=spec.base_model)}


def _selftest(ctx: JobContext, spec: SelftestJob) -> dict[str, Any]:
    """Counts to ``steps``; "checkpoints" its step to ``checkpoints/checkpoint-<n>/trainer_state.json``
    so cancel/resume behave as in training; ``fail_at`` raises at that step."""
    total, sleep_s = int(spec.steps), float(spec.sleep_s)
    start = 0
    if ctx.resume:
        found = [int(x.name.split("-")[1]) for x in ctx.checkpoint_dir.glob("checkpoint-*")]
        start = max(found, default=0)
    for step in range(start + 1, total + 1):
        time.sleep(sleep_s)
        if spec.fail_at == step:
            raise RuntimeError(f"selftest failure at step {step}")
        ckpt = ctx.checkpoint_dir / f"checkpoint-{step}"
        ckpt.mkdir(parents=True, exist_ok=True)
        write_json_atomic(ckpt / "trainer_state.json", {"global_step": step})
        ctx.log({"step": step, "total": total, "loss": 1.0 / step, "eval_loss": None, "tokens_per_s": 100.0,
                 "eta_s": (total - step) * sleep_s, "time": now_iso()})
        if ctx.should_stop():
            return {"status": "cancelled", "step": step}
    return {"status": "completed", "step": total}


def _improve(ctx: JobContext, spec: ImproveJob) -> dict[str, Any]:
    from oracle.improve.runs import run_job

    return run_job(ctx, spec)


RUNNERS: dict[str, Callable[[JobContext, Any], dict[str, Any]]] = {
    "lora": _lora,
    "embedding": _embedding,
    "reindex": _reindex,
    "estimate": _estimate,
    "merge": _merge,
    "selftest": _selftest,
    "improve": _improve,
}
"""Job kind -> runner ``(ctx, spec) -> result``; ``spec`` is the kind's class in
:data:`oracle.training.specs.SPECS`, rebuilt from ``job.json``."""


def _on_sigterm(signum, frame):  # noqa: ANN001
    raise JobCancelled()


def main(argv: list[str] | None = None) -> int:
    """Run one job to its end; exit status 0 completed/cancelled, 1 failed, 2 bad arguments."""
    parser = argparse.ArgumentParser(prog="python -m oracle.training.run", description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="jobs/<id>/job.json written by oracle.jobs.submit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    config = Path(args.config)
    job = read_json(config)
    workspace = Workspace(job["home"])
    job_id = job["job_id"]
    status = jobs.get_job(workspace, job_id)
    resume = status.attempts > 1 or bool(job.get("params", {}).get("resume"))
    signal.signal(signal.SIGTERM, _on_sigterm)
    import os

    jobs.update_status(workspace, job_id, state=jobs.RUNNING, pid=os.getpid(), started_at=status.started_at or now_iso())
    ctx = JobContext(workspace, job_id, resume)
    logger.info("job %s (%s) starting%s", job_id, job["kind"], " (resume)" if resume else "")
    code = 0
    try:
        result = RUNNERS[job["kind"]](ctx, spec_from_params(job["kind"], job.get("params", {})))
        state = jobs.CANCELLED if result.get("status") == "cancelled" else jobs.COMPLETED
        jobs.update_status(workspace, job_id, state=state, result=result, ended_at=now_iso(), pid=None,
                           resumable=state == jobs.CANCELLED and jobs.has_checkpoint(workspace, job_id))
    except JobCancelled:
        logger.info("job %s: SIGTERM, stopping", job_id)
        jobs.update_status(workspace, job_id, state=jobs.CANCELLED, ended_at=now_iso(), pid=None,
                           resumable=jobs.has_checkpoint(workspace, job_id))
    except OracleError as err:
        logger.error("job %s failed: %s", job_id, err.message("en"))
        jobs.update_status(workspace, job_id, state=jobs.FAILED, ended_at=now_iso(), pid=None,
                           error=err.message("en"), error_key=err.key, error_params=json_safe(err.params),
                           resumable=jobs.has_checkpoint(workspace, job_id))
        code = 1
    except Exception as err:  # noqa: BLE001 - recorded, traceback to process.log
        traceback.print_exc()
        jobs.update_status(workspace, job_id, state=jobs.FAILED, ended_at=now_iso(), pid=None,
                           error=f"{type(err).__name__}: {err}"[:500],
                           resumable=jobs.has_checkpoint(workspace, job_id))
        code = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            jobs.start_next(workspace)
        except Exception:  # noqa: BLE001 - the supervisor will retry
            logger.exception("could not start the next job")
    return code


if __name__ == "__main__":
    sys.exit(main())
