"""Background jobs (fine-tuning, re-indexing) in their own process, one at a time, others queued.

A job is a folder ``jobs/<job_id>/`` that says everything about it, so any process (the app
after a reload, the command line, a second app worker) can list, follow, cancel or resume
it by reading files:

* ``job.json``: what to run (``kind``, ``params``, workspace); written once at submission;
  it is the ``--config`` of the process;
* ``status.json``: ``state`` (queued, running, completed, failed, cancelled), pid, times,
  the latest step/total/loss/eval_loss/tokens_per_s/eta_s, result or error; rewritten
  atomically under a file lock;
* ``log.jsonl``: one JSON object per logged step: ``step, total, loss, eval_loss,
  tokens_per_s, eta_s, time`` (appended with :func:`oracle.schema.append_jsonl`);
* ``process.log``: the process's stdout/stderr (tracebacks land here, never in the UI);
* ``cancel``: present when a cancel was asked; the training callback checks it after every
  step, saves a checkpoint and stops (``TrainerCallback`` setting
  ``control.should_training_stop``, as LLaMA-Factory's abort flag);
* ``checkpoints/``: Trainer checkpoints; :func:`resume` continues from the newest.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oracle.config import Workspace
from oracle.errors import JobError
from oracle.schema import Record, append_jsonl, file_lock, iter_jsonl, now_iso, read_json, write_json_atomic

logger = logging.getLogger(__name__)

JOB_FILE = "job.json"
STATUS_FILE = "status.json"
LOG_FILE = "log.jsonl"
PROCESS_LOG = "process.log"
CANCEL_FLAG = "cancel"
CHECKPOINTS = "checkpoints"

WORKER = "oracle.training.run"
"""The module a job process runs (``python -m oracle.training.run --config job.json``). It
resolves a job's ``kind`` to its runner (``oracle.training.run.RUNNERS``); this module only
knows the kinds by name, so it never imports the worker (no import cycle)."""
KINDS = ("lora", "embedding", "reindex", "estimate", "merge", "selftest")
"""The job kinds, by name: each has a runner in the worker's ``RUNNERS``."""
TASK_RUNNER = "oracle.tasks"
"""The ``runner`` recorded in the status file of an in-process task (:mod:`oracle.tasks`)."""

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = "queued", "running", "completed", "failed", "cancelled"
FINAL_STATES = (COMPLETED, FAILED, CANCELLED)
CANCEL_GRACE_S = 60.0
"""Seconds a running job has to honour its cancel flag before :func:`reconcile` sends SIGTERM."""

_PROCS: dict[int, subprocess.Popen] = {}  # children started by this process (reaped in reconcile)
_PROCS_LOCK = threading.Lock()


@dataclass
class JobStatus(Record):
    """Content of ``status.json``.

    Attributes:
        job_id: ``<YYYYmmdd-HHMMSS>-<kind>-<6 hex>`` (sorts by submission time).
        kind: ``"lora"``, ``"embedding"``, ``"reindex"``, ``"estimate"``, ``"merge"``, ``"selftest"``.
        name: output name (adapter or index) or a label.
        state: queued, running, completed, failed or cancelled.
        pid: process id while running.
        step, total: optimizer steps done and planned (0 when unknown).
        loss, eval_loss, tokens_per_s, eta_s: latest values from the log (None until known).
        error: message of a failed job (English; ``error_key``/``error_params`` let the UI
            translate an OracleError).
        result: what the job produced (paths, metrics).
        resumable: a checkpoint exists (:func:`resume` continues from it).
        attempts: how many times it was started.
    """

    job_id: str
    kind: str
    name: str = ""
    state: str = QUEUED
    created_at: str = field(default_factory=now_iso)
    queued_at: str = field(default_factory=now_iso)
    started_at: str | None = None
    ended_at: str | None = None
    pid: int | None = None
    step: int = 0
    total: int = 0
    loss: float | None = None
    eval_loss: float | None = None
    tokens_per_s: float | None = None
    eta_s: float | None = None
    error: str | None = None
    error_key: str | None = None
    error_params: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    resumable: bool = False
    attempts: int = 0
    cancel_requested_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def fraction(self) -> float:
        """Progress in [0, 1] (1 when completed)."""
        if self.state == COMPLETED:
            return 1.0
        return min(1.0, self.step / self.total) if self.total else 0.0


# --- files ------------------------------------------------------------------------------


def job_dir(workspace: Workspace, job_id: str) -> Path:
    """``jobs/<job_id>/`` (not checked for existence). Raises JobError on a malformed id."""
    if not job_id or "/" in job_id or "\\" in job_id or job_id.startswith("."):
        raise JobError(detail=f"invalid job id {job_id!r}")
    return workspace.jobs / job_id


def _status_path(workspace: Workspace, job_id: str) -> Path:
    return job_dir(workspace, job_id) / STATUS_FILE


_TASK_STATES = {"done": COMPLETED, "interrupted": FAILED}
"""Task states (:class:`oracle.tasks.TaskStatus`) that are named otherwise here; the rest are shared."""


def _from_task(data: dict[str, Any]) -> JobStatus:
    """A task's ``status.json`` (written by :mod:`oracle.tasks`) read as a :class:`JobStatus`."""
    error = data.get("error") or {}
    return JobStatus(
        job_id=data["task_id"], kind=data.get("kind", ""), name=data.get("title", ""),
        state=_TASK_STATES.get(data.get("state"), data.get("state", QUEUED)),
        created_at=data.get("started_at") or now_iso(), queued_at=data.get("started_at") or now_iso(),
        started_at=data.get("started_at"), ended_at=data.get("finished_at"), pid=data.get("pid"),
        step=int(data.get("done") or 0), total=int(data.get("total") or 0), eta_s=data.get("eta_s"),
        error=error.get("detail") or (error.get("params") or {}).get("detail"),
        error_key=error.get("key"), error_params=dict(error.get("params") or {}),
        result=dict(data.get("result") or {}),
    )  # fmt: skip


def get_job(workspace: Workspace, job_id: str) -> JobStatus:
    """The status of a job, or of an in-process task (``qa-…``, ``index-…``: :mod:`oracle.tasks`)
    read as a job (state ``done`` is ``completed``, ``interrupted`` is ``failed``; ``step``/``total``
    are the task's done/total units).

    Raises:
        JobError: no such job, or its status file cannot be read.
    """
    path = _status_path(workspace, job_id)
    try:
        data = read_json(path)
        if isinstance(data, dict) and data.get("runner") == TASK_RUNNER:
            return _from_task(data)
        return JobStatus.from_dict(data)
    except FileNotFoundError:
        raise JobError(detail=f"job {job_id!r} not found") from None
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise JobError(detail=f"job {job_id!r} has an unreadable status file ({err})") from None


def job_spec(workspace: Workspace, job_id: str) -> dict[str, Any]:
    """The ``job.json`` of a job (kind, params, home)."""
    return read_json(job_dir(workspace, job_id) / JOB_FILE)


def update_status(workspace: Workspace, job_id: str, **changes: Any) -> JobStatus:
    """Read-modify-write ``status.json`` under its lock; returns the new status."""
    path = _status_path(workspace, job_id)
    with file_lock(path):
        status = get_job(workspace, job_id)
        for key, value in changes.items():
            setattr(status, key, value)
        write_json_atomic(path, status)
    return status


def list_jobs(workspace: Workspace) -> list[JobStatus]:
    """Every job process (not the in-process tasks), newest first (unreadable folders are skipped)."""
    out = []
    for folder in workspace.jobs.iterdir():
        if folder.is_dir() and (folder / JOB_FILE).exists() and (folder / STATUS_FILE).exists():
            try:
                out.append(get_job(workspace, folder.name))
            except JobError:
                continue
    return sorted(out, key=lambda s: (s.created_at, s.job_id), reverse=True)


def read_log(workspace: Workspace, job_id: str, since: int = 0) -> list[dict[str, Any]]:
    """Log records of a job from line ``since`` on (0-based), in order."""
    path = job_dir(workspace, job_id) / LOG_FILE
    return [r for i, r in enumerate(iter_jsonl(path)) if i >= since]


def log_record(workspace: Workspace, job_id: str, record: dict[str, Any]) -> None:
    """Append one progress record to ``log.jsonl`` and copy its latest values into ``status.json``."""
    append_jsonl(job_dir(workspace, job_id) / LOG_FILE, [record])
    changes = {k: record[k] for k in ("step", "total", "tokens_per_s", "eta_s") if record.get(k) is not None}
    for k in ("loss", "eval_loss"):
        if record.get(k) is not None:
            changes[k] = record[k]
    if changes:
        update_status(workspace, job_id, **changes)


def process_tail(workspace: Workspace, job_id: str, max_chars: int = 4000) -> str:
    """The last ``max_chars`` characters of the job's ``process.log``."""
    path = job_dir(workspace, job_id) / PROCESS_LOG
    if not path.exists():
        return ""
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - max_chars * 4))
        return f.read().decode("utf-8", errors="replace")[-max_chars:]


def cancel_requested(workspace: Workspace, job_id: str) -> bool:
    """True when the job's cancel flag file exists (polled by the training callback)."""
    return (job_dir(workspace, job_id) / CANCEL_FLAG).exists()


def has_checkpoint(workspace: Workspace, job_id: str) -> bool:
    """True when ``checkpoints/`` holds a complete Trainer checkpoint."""
    root = job_dir(workspace, job_id) / CHECKPOINTS
    return root.is_dir() and any((p / "trainer_state.json").exists() for p in root.glob("checkpoint-*"))


# --- processes ----------------------------------------------------------------------------


def pid_alive(pid: int | None) -> bool:
    """True when a process ``pid`` exists (``os.kill(pid, 0)``; one of another user counts)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    root = str(Path(__file__).resolve().parent.parent)  # the folder that contains the oracle package
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
            update_status(workspace, nxt.job_id, state=FAILED, ended_at=now_iso(), error=f"could not start: {err}")
            raise JobError(detail=f"could not start job {nxt.job_id}: {err}") from err
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


def submit(workspace: Workspace, kind: str, params: dict[str, Any], name: str = "", start: bool = True) -> JobStatus:
    """Queue a job and start it when nothing else runs.

    Args:
        workspace: the workspace (its ``jobs/`` folder holds the job).
        kind: one of :data:`KINDS` (``"lora"``, ``"embedding"``, ``"reindex"``, ``"estimate"``,
            ``"merge"``, ``"selftest"``), resolved to its runner in the job process.
        params: JSON-ready arguments of the runner. Never put secrets here: ``job.json`` is a
            plain file.
        name: output name or label shown in lists.
        start: call :func:`start_next` now (False leaves it queued).

    Returns:
        The job's status (``queued`` or ``running``).

    Raises:
        JobError: unknown kind, or params that are not JSON.
    """
    if kind not in KINDS:
        raise JobError(detail=f"unknown job kind {kind!r}; known: {', '.join(sorted(KINDS))}")
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


def cancel(workspace: Workspace, job_id: str, force: bool = False) -> JobStatus:
    """Cancel a job: a queued one at once; a running one through its cancel flag (it saves a
    checkpoint and stops after the current step); ``force`` also sends SIGTERM now.

    :func:`reconcile` sends SIGTERM to a job that still runs :data:`CANCEL_GRACE_S` seconds
    after the flag. Cancelling a finished job does nothing.
    """
    status = get_job(workspace, job_id)
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
        JobError: the job is queued, running or completed.
    """
    status = get_job(workspace, job_id)
    if status.state not in (CANCELLED, FAILED):
        raise JobError(detail=f"job {job_id} is {status.state}; only cancelled or failed jobs can be resumed")
    (job_dir(workspace, job_id) / CANCEL_FLAG).unlink(missing_ok=True)
    update_status(workspace, job_id, state=QUEUED, pid=None, ended_at=None, error=None,
                  cancel_requested_at=None, queued_at=now_iso())
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
        raise JobError(detail=f"job {job_id} is {status.state}; cancel it first")
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
                    fresh.error = None if cancelled else "the process ended unexpectedly (see process.log)"
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
            raise JobError(detail=f"job {job_id} still {status.state} after {timeout_s:.0f} s")
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
                except Exception:  # noqa: BLE001 - the supervisor must never die
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
