"""The process executor: jobs (fine-tuning, re-indexing) in their own process, one at a time, others queued.

Each job's files and status live in :mod:`oracle.jobs.store`.

Processes are started with ``subprocess.Popen([sys.executable, "-m", "oracle.training.run",
"--config", <job.json>])``: an argument list, never ``shell=True``, in a new session so a
restart of the app does not kill them. One job runs at a time: :func:`start_next` picks the
oldest queued job under a file lock (``jobs/queue.lock``) when no job is running; it is called
at submission, by the finishing job process itself, and by :func:`reconcile` (which a small
supervisor thread in the app runs every few seconds, :func:`start_supervisor`). ``reconcile``
also notices processes that died without a word (killed, out of memory) and sends SIGTERM to a
job that ignored its cancel flag for ``grace_s`` seconds.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from oracle.config import Workspace
from oracle.errors import JobError
from oracle.i18n import t
from oracle.jobs.spec import JobSpec
from oracle.jobs.store import (
    CANCEL_FLAG,
    CANCELLED,
    COMPLETED,
    FAILED,
    JOB_FILE,
    PROCESS_LOG,
    QUEUED,
    RUNNING,
    STATUS_FILE,
    TASK_RUNNER,
    JobStatus,
    _status_path,
    cancel_requested,
    get_job,
    has_checkpoint,
    job_dir,
    list_jobs,
    pid_alive,
    update_status,
)
from oracle.schema import file_lock, now_iso, write_json_atomic

logger = logging.getLogger(__name__)

WORKER = "oracle.training.run"
"""The module a job process runs (``python -m oracle.training.run --config job.json``). It
resolves a job's ``kind`` to its runner (``oracle.training.run.RUNNERS``); this module only
knows the kinds by name, so it never imports the worker (no import cycle)."""
KINDS = ("lora", "embedding", "reindex", "estimate", "merge", "selftest", "improve")
"""The job kinds, by name: each has a spec class (``oracle.training.specs.SPECS``) and a runner
in the worker's ``RUNNERS``."""

CANCEL_GRACE_S = 60.0
"""Seconds a running job has to honour its cancel flag before :func:`reconcile` sends SIGTERM."""

_PROCS: dict[int, subprocess.Popen] = {}  # children started by this process (reaped in reconcile)
_PROCS_LOCK = threading.Lock()


def _alive(pid: int | None) -> bool:
    """True when ``pid`` runs a job process (not a zombie, not a recycled pid)."""
    if not pid:
        return False
    with _PROCS_LOCK:
        proc = _PROCS.get(pid)
    if proc is not None:
        if proc.poll() is not None:  # reaps our own child
            with _PROCS_LOCK:
                _PROCS.pop(pid, None)
            return False
        return True
    if not pid_alive(pid):
        return False
    proc_dir = Path(f"/proc/{pid}")
    if proc_dir.is_dir():
        try:
            stat = (proc_dir / "stat").read_text()
            if stat[stat.rfind(")") + 2:].startswith("Z"):
                return False
            cmdline = (proc_dir / "cmdline").read_bytes()
            return WORKER.encode() in cmdline
        except OSError:
            return False
    return True


def _spawn(workspace: Workspace, job_id: str) -> int:
    """Start the job process; returns its pid."""
    folder = job_dir(workspace, job_id)
    root = str(Path(__file__).resolve().parents[2])  # the folder that contains the oracle package
    env = dict(os.environ)
    env["ORACLE_HOME"] = str(workspace.home)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    cmd = [sys.executable, "-m", WORKER, "--config", str(folder / JOB_FILE)]
    # DO NOT use shell=True: the arguments are data (paths), never a command line.
    with open(folder / PROCESS_LOG, "ab") as out:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env,
            start_new_session=True, close_fds=True,
        )
    with _PROCS_LOCK:
        _PROCS[proc.pid] = proc
    logger.info("job %s: started pid %d", job_id, proc.pid)
    return proc.pid


def running_job(workspace: Workspace) -> JobStatus | None:
    """The job whose process is alive, if any."""
    for status in list_jobs(workspace):
        if status.state == RUNNING and _alive(status.pid):
            return status
    return None


def start_next(workspace: Workspace) -> JobStatus | None:
    """Start the oldest queued job if no job is running; returns it (or None).

    Runs under ``jobs/queue.lock`` so two callers never start two jobs.
    """
    with file_lock(workspace.jobs / "queue", timeout_s=30):
        jobs = list_jobs(workspace)
        for status in jobs:
            if status.state == RUNNING and _alive(status.pid):
                return None
        queued = sorted((s for s in jobs if s.state == QUEUED), key=lambda s: (s.queued_at, s.job_id))
        if not queued:
            return None
        nxt = queued[0]
        (job_dir(workspace, nxt.job_id) / CANCEL_FLAG).unlink(missing_ok=True)
        update_status(workspace, nxt.job_id, state=RUNNING, pid=None, started_at=now_iso(), ended_at=None,
                      error=None, error_key=None, error_params={}, attempts=nxt.attempts + 1,
                      cancel_requested_at=None)
        try:
            pid = _spawn(workspace, nxt.job_id)
        except OSError as err:
            failure = JobError("err.job.start_failed", job_id=nxt.job_id, detail=str(err))
            update_status(workspace, nxt.job_id, state=FAILED, ended_at=now_iso(), error=failure.message("en"),
                          error_key=failure.key, error_params=failure.params)
            raise failure from err
        path = _status_path(workspace, nxt.job_id)
        with file_lock(path):  # the child may already have written its pid, or even finished
            status = get_job(workspace, nxt.job_id)
            if status.state == RUNNING and status.pid is None:
                status.pid = pid
                write_json_atomic(path, status)
        return status


# --- public API ----------------------------------------------------------------------------


def new_job_id(kind: str) -> str:
    """``<YYYYmmdd-HHMMSS>-<kind>-<6 hex>``."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{kind}-{secrets.token_hex(3)}"


def submit(workspace: Workspace, spec: JobSpec, name: str = "", start: bool = True) -> JobStatus:
    """Queue a job and start it when nothing else runs.

    Args:
        workspace: the workspace (its ``jobs/`` folder holds the job).
        spec: the job's typed parameters, a :class:`~oracle.jobs.spec.JobSpec` whose ``kind`` is
            one of :data:`KINDS` (the classes: :mod:`oracle.training.specs`,
            :class:`oracle.improve.ImproveJob`). ``job.json`` gets its kind and
            :meth:`~oracle.jobs.spec.JobSpec.to_params`; the job process rebuilds the same
            class. Never put secrets in it: ``job.json`` is a plain file.
        name: output name or label shown in lists.
        start: call :func:`start_next` now (False leaves it queued).

    Returns:
        The job's status (``queued`` or ``running``).

    Raises:
        JobError: not a spec, an unknown kind, or parameters that are not JSON.
    """
    if not isinstance(spec, JobSpec):
        raise JobError(detail=f"a job is submitted as a JobSpec, not {type(spec).__name__}")
    kind = spec.kind
    if kind not in KINDS:
        raise JobError("err.job.unknown_kind", kind=kind, known=", ".join(sorted(KINDS)))
    params = spec.to_params()
    try:
        json.dumps(params)
    except (TypeError, ValueError) as err:
        raise JobError(detail=f"job parameters are not JSON: {err}") from None
    job_id = new_job_id(kind)
    folder = job_dir(workspace, job_id)
    folder.mkdir(parents=True)
    write_json_atomic(folder / JOB_FILE, {"job_id": job_id, "kind": kind, "name": name, "params": params,
                                          "home": str(workspace.home), "created_at": now_iso()})
    status = JobStatus(job_id=job_id, kind=kind, name=name)
    write_json_atomic(folder / STATUS_FILE, status)
    logger.info("job %s queued (%s)", job_id, kind)
    if start:
        start_next(workspace)
    return get_job(workspace, job_id)


def _process_job(workspace: Workspace, job_id: str) -> JobStatus:
    """:func:`get_job` of a job process. Raises JobError for an in-process task (its thread
    listens to its registry, :meth:`oracle.jobs.threads.TaskRegistry.cancel`, not to files)."""
    status = get_job(workspace, job_id)
    if status.runner == TASK_RUNNER:
        raise JobError("err.job.in_process", job_id=job_id)
    return status


def cancel(workspace: Workspace, job_id: str, force: bool = False) -> JobStatus:
    """Cancel a job: a queued one at once; a running one through its cancel flag (it saves a
    checkpoint and stops after the current step); ``force`` also sends SIGTERM now.

    :func:`reconcile` sends SIGTERM to a job that still runs :data:`CANCEL_GRACE_S` seconds
    after the flag. Cancelling a finished job does nothing.

    Raises:
        JobError: no such job, or an in-process task (cancel it through its registry).
    """
    status = _process_job(workspace, job_id)
    if status.finished:
        return status
    if status.state == QUEUED:
        return update_status(workspace, job_id, state=CANCELLED, ended_at=now_iso(),
                             resumable=has_checkpoint(workspace, job_id))
    (job_dir(workspace, job_id) / CANCEL_FLAG).write_text(now_iso(), encoding="utf-8")
    status = update_status(workspace, job_id, cancel_requested_at=time.time())
    if force:
        _terminate(status)
    return status


def _terminate(status: JobStatus) -> None:
    if status.pid and _alive(status.pid):
        logger.info("job %s: SIGTERM to pid %d", status.job_id, status.pid)
        try:
            os.kill(status.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def resume(workspace: Workspace, job_id: str) -> JobStatus:
    """Queue a cancelled or failed job again; it continues from its newest checkpoint (or
    starts over when it has none). The log keeps growing; step numbers continue.

    Raises:
        JobError: the job is queued, running or completed, or an in-process task.
    """
    status = _process_job(workspace, job_id)
    if status.state not in (CANCELLED, FAILED):
        key = "err.job.resume_completed" if status.state == COMPLETED else "err.job.resume_active"
        raise JobError(key, job_id=job_id, state=status.state)
    (job_dir(workspace, job_id) / CANCEL_FLAG).unlink(missing_ok=True)
    update_status(workspace, job_id, state=QUEUED, pid=None, ended_at=None, error=None, error_key=None,
                  error_params={}, cancel_requested_at=None, queued_at=now_iso())
    start_next(workspace)
    return get_job(workspace, job_id)


def delete(workspace: Workspace, job_id: str) -> None:
    """Remove a finished job's folder (its outputs in ``adapters/``/``indexes/`` stay).

    Raises:
        JobError: the job is queued or running (cancel it first).
    """
    import shutil

    status = get_job(workspace, job_id)
    if not status.finished:
        raise JobError("err.job.not_finished", job_id=job_id, state=status.state)
    shutil.rmtree(job_dir(workspace, job_id), ignore_errors=True)


def reconcile(workspace: Workspace, grace_s: float = CANCEL_GRACE_S) -> JobStatus | None:
    """Bring the files in line with reality, then start the next queued job.

    * a ``running`` job whose process is gone becomes ``cancelled`` (cancel flag present) or
      ``failed`` ("the process ended unexpectedly"), resumable when it left a checkpoint;
    * a job that was asked to cancel more than ``grace_s`` seconds ago gets SIGTERM.

    Returns the job started, if any.
    """
    with file_lock(workspace.jobs / "queue", timeout_s=30):  # start_next sets pids under this lock
        for status in list_jobs(workspace):
            if status.state != RUNNING:
                continue
            if not _alive(status.pid):
                path = _status_path(workspace, status.job_id)
                with file_lock(path):
                    fresh = get_job(workspace, status.job_id)
                    if fresh.state != RUNNING or fresh.pid != status.pid:
                        continue  # it finished (or restarted) meanwhile
                    cancelled = cancel_requested(workspace, status.job_id)
                    fresh.state = CANCELLED if cancelled else FAILED
                    fresh.ended_at = now_iso()
                    fresh.error = None if cancelled else t("err.job.process_died", "en")
                    fresh.error_key = None if cancelled else "err.job.process_died"
                    fresh.error_params = {}
                    fresh.resumable = has_checkpoint(workspace, status.job_id)
                    fresh.pid = None
                    write_json_atomic(path, fresh)
                logger.warning("job %s: process %s is gone; marked %s", status.job_id, status.pid, fresh.state)
            elif status.cancel_requested_at and time.time() - status.cancel_requested_at > grace_s:
                _terminate(status)
    return start_next(workspace)


def wait(workspace: Workspace, job_id: str, timeout_s: float = 600.0, poll_s: float = 0.5) -> JobStatus:
    """Block until the job is finished (calling :func:`reconcile` while waiting).

    Raises:
        JobError: still not finished after ``timeout_s`` seconds.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        reconcile(workspace)
        status = get_job(workspace, job_id)
        if status.finished:
            return status
        if time.monotonic() > deadline:
            raise JobError("err.job.wait_timeout", job_id=job_id, timeout_s=round(timeout_s), state=status.state)
        time.sleep(poll_s)


# --- supervisor -------------------------------------------------------------------------------

_SUPERVISORS: dict[str, tuple[threading.Thread, threading.Event]] = {}
_SUP_LOCK = threading.Lock()


def start_supervisor(workspace: Workspace, interval_s: float = 5.0) -> threading.Thread:
    """Start (once per workspace and process) a daemon thread that calls :func:`reconcile`
    every ``interval_s`` seconds: it starts queued jobs, reaps finished children, marks dead
    jobs and enforces cancel. The app calls this when it builds the fine-tuning tab;
    :func:`stop_supervisor` ends it."""
    key = str(workspace.home)
    with _SUP_LOCK:
        found = _SUPERVISORS.get(key)
        if found is not None and found[0].is_alive() and not found[1].is_set():
            return found[0]
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                try:
                    reconcile(workspace)
                except Exception:
                    logger.exception("job supervisor")
                stop.wait(interval_s)

        thread = threading.Thread(target=loop, name=f"oracle-jobs-{key}", daemon=True)
        thread.start()
        _SUPERVISORS[key] = (thread, stop)
        return thread


def stop_supervisor(workspace: Workspace, timeout_s: float = 10.0) -> None:
    """Stop the supervisor thread of ``workspace`` (if any) and wait for it."""
    with _SUP_LOCK:
        found = _SUPERVISORS.pop(str(workspace.home), None)
    if found is not None:
        found[1].set()
        found[0].join(timeout_s)
