"""Long work that outlives a page: one job store, two executors.

* :mod:`oracle.jobs.store`: the files of every job under ``jobs/<job_id>/`` (``job.json``,
  ``status.json``, ``log.jsonl``...) and :class:`JobStatus`, the one status type by which any
  job or task is read (:func:`get_job`);
* :mod:`oracle.jobs.process`: jobs in their own process (fine-tuning, re-indexing), one at a
  time, others queued; kinds are known by name (:data:`KINDS`) and resolved to their runner in
  the worker (:mod:`oracle.training.run`), so nothing here imports the training code;
* :mod:`oracle.jobs.threads`: in-process tasks (QA generation, index builds) in a thread,
  writing the same :class:`JobStatus`;
* :mod:`oracle.jobs.spec`: :class:`JobSpec`, the base of the typed parameters of each job kind
  (the kinds' classes live beside their runners, :mod:`oracle.training.specs`).

A resource that two kinds of work write (an index) has one lock
(:func:`oracle.schema.resource_lock`, :func:`oracle.index.index_lock`): a build task and a
re-index job of the same index never interleave.

``from oracle import jobs`` gives the store and the process executor's public functions.
"""

from oracle.jobs.process import (
    CANCEL_GRACE_S,
    KINDS,
    WORKER,
    cancel,
    delete,
    new_job_id,
    reconcile,
    resume,
    running_job,
    start_next,
    start_supervisor,
    stop_supervisor,
    submit,
    wait,
)
from oracle.jobs.spec import JobSpec
from oracle.jobs.store import (
    ACTIVE_STATES,
    CANCEL_FLAG,
    CANCELLED,
    CHECKPOINTS,
    COMPLETED,
    FAILED,
    FINAL_STATES,
    INTERRUPTED,
    JOB_FILE,
    LOG_FILE,
    PROCESS_LOG,
    QUEUED,
    RUNNING,
    STATUS_FILE,
    TASK_RUNNER,
    JobStatus,
    RateEta,
    cancel_requested,
    get_job,
    has_checkpoint,
    job_dir,
    job_spec,
    list_jobs,
    log_record,
    parse_status,
    pid_alive,
    process_tail,
    read_log,
    read_status,
    update_status,
)

__all__ = [
    "ACTIVE_STATES",
    "CANCELLED",
    "CANCEL_FLAG",
    "CANCEL_GRACE_S",
    "CHECKPOINTS",
    "COMPLETED",
    "FAILED",
    "FINAL_STATES",
    "INTERRUPTED",
    "JOB_FILE",
    "KINDS",
    "LOG_FILE",
    "PROCESS_LOG",
    "QUEUED",
    "RUNNING",
    "STATUS_FILE",
    "TASK_RUNNER",
    "WORKER",
    "JobSpec",
    "JobStatus",
    "RateEta",
    "cancel",
    "cancel_requested",
    "delete",
    "get_job",
    "has_checkpoint",
    "job_dir",
    "job_spec",
    "list_jobs",
    "log_record",
    "new_job_id",
    "parse_status",
    "pid_alive",
    "process_tail",
    "read_log",
    "read_status",
    "reconcile",
    "resume",
    "running_job",
    "start_next",
    "start_supervisor",
    "stop_supervisor",
    "submit",
    "update_status",
    "wait",
]  # fmt: skip
