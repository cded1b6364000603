"""The thread executor: in-process background tasks (QA generation, indexing) whose status outlives the page.

A task is a function ``fn(progress) -> dict`` run in its own daemon thread. It reports through
the usual :data:`oracle.schema.ProgressCallback` (``progress(done, total, message)``); the
registry turns that into the one status type of the job store, :class:`oracle.jobs.store.JobStatus`
(``step``/``total`` = the task's done/total units, ``message``, ``eta_s`` seconds left), kept in
memory and written, throttled and atomically, to ``<workspace>/jobs/<task_id>/status.json``.
The app polls :meth:`TaskRegistry.get` (a ``gr.Timer``), so a reloaded page re-attaches to a
running task and still finds a finished one's result.

Training jobs run in separate processes (:mod:`oracle.jobs.process`) and share the ``jobs/``
folder (:mod:`oracle.jobs.store`); status files written here carry ``"runner": "oracle.tasks"``
(:data:`~oracle.jobs.store.TASK_RUNNER`) and no ``job.json``, and task ids start with the task
kind (``qa-…``, ``index-…``); :func:`oracle.jobs.get_job` reads them as any job's status. Work
that writes an index holds that index's lock (:func:`oracle.index.index_lock`), so a task and a
job on the same index run one after the other.

Cancellation is cooperative: :meth:`TaskRegistry.cancel` sets a flag and the task's next
progress call raises :class:`TaskCancelled`, which ends the task with state ``cancelled``.
A task still ``running`` on disk whose process is gone (the app was restarted) is marked
``interrupted`` when a registry opens the workspace; QA generation resumes from where it
stopped when started again.

Nothing here imports gradio: the command line or a notebook can use it too.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from oracle.config import Workspace
from oracle.errors import JobError, OracleError
from oracle.jobs.store import (
    ACTIVE_STATES,
    CANCELLED,
    COMPLETED,
    FAILED,
    INTERRUPTED,
    RUNNING,
    STATUS_FILE,
    TASK_RUNNER,
    JobStatus,
    RateEta,
    job_dir,
    pid_alive,
    read_status,
)
from oracle.schema import ProgressCallback, json_safe, new_id, now_iso, write_json_atomic

logger = logging.getLogger(__name__)

TaskFn = Callable[[ProgressCallback], dict]
"""``fn(progress) -> result``: the work; ``result`` must be JSON-serialisable (it is written
to status.json)."""


class TaskCancelled(Exception):
    """Raised inside a task by its progress callback once :meth:`TaskRegistry.cancel` was called."""


class TaskRegistry:
    """Runs and tracks background tasks of one workspace in this process (thread per task).

    Every status it returns is a copy (a :class:`~oracle.jobs.store.JobStatus` with
    ``runner == TASK_RUNNER``): changing it changes nothing.

    Args:
        workspace: where status files go (``workspace.jobs``).
        write_interval_s: least seconds between two status writes while a task reports
            progress (the first, last and final states are always written).
    """

    def __init__(self, workspace: Workspace, write_interval_s: float = 0.5) -> None:
        self.workspace = workspace
        self.write_interval_s = write_interval_s
        self._lock = threading.RLock()
        self._live: dict[str, JobStatus] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._mark_interrupted()

    # --- files ----------------------------------------------------------------------
    def _status_path(self, task_id: str) -> Path:
        """``jobs/<task_id>/status.json`` in the one job store (raises JobError on a malformed id)."""
        return job_dir(self.workspace, task_id) / STATUS_FILE

    def _write(self, status: JobStatus) -> None:
        try:
            write_json_atomic(self._status_path(status.job_id), status)
        except OSError:
            logger.exception("could not write the status of task %s", status.job_id)

    @staticmethod
    def _read(path: Path) -> JobStatus | None:
        """The task status in ``path``; None when it is missing, unreadable or a job process's."""
        try:
            status = read_status(path)
        except (OSError, JobError):
            return None
        return status if status.runner == TASK_RUNNER else None

    def _mark_interrupted(self) -> None:
        """Tasks left 'running' by a process that is gone become 'interrupted'."""
        for path in sorted(self.workspace.jobs.glob(f"*/{STATUS_FILE}")):
            status = self._read(path)
            if status is None or status.state not in ACTIVE_STATES:
                continue
            if status.pid != os.getpid() and pid_alive(status.pid):
                continue
            status.state = INTERRUPTED
            status.ended_at = now_iso()
            status.eta_s = None
            self._write(status)

    # --- queries --------------------------------------------------------------------
    def get(self, task_id: str) -> JobStatus:
        """The task's current status. Raises JobError when no such task exists."""
        with self._lock:
            live = self._live.get(task_id)
            if live is not None:
                return _copy(live)
        try:
            status = self._read(self._status_path(task_id))
        except JobError:  # a malformed id
            status = None
        if status is None:
            raise JobError("err.job.not_found", job_id=task_id)
        return status

    def list(self, kind: str | None = None) -> list[JobStatus]:
        """Tasks of this workspace (live and on disk), newest first."""
        found: dict[str, JobStatus] = {}
        for path in self.workspace.jobs.glob(f"*/{STATUS_FILE}"):
            status = self._read(path)
            if status is not None:
                found[status.job_id] = status
        with self._lock:
            for task_id, live in self._live.items():
                found[task_id] = _copy(live)
        rows = [s for s in found.values() if kind is None or s.kind == kind]
        return sorted(rows, key=lambda s: (s.created_at, s.job_id), reverse=True)

    def latest(self, kind: str, key: str | None = None) -> JobStatus | None:
        """The newest task of ``kind`` (and ``key`` when given), running or not; None if none."""
        for status in self.list(kind):
            if key is None or status.key == key:
                return status
        return None

    def running(self, key: str) -> JobStatus | None:
        """The task with ``key`` still running in this process, if any."""
        with self._lock:
            for task_id, live in self._live.items():
                thread = self._threads.get(task_id)
                if live.key == key and live.state in ACTIVE_STATES and thread and thread.is_alive():
                    return _copy(live)
        return None

    # --- control --------------------------------------------------------------------
    def start(self, kind: str, fn: TaskFn, key: str | None = None, title: str = "") -> JobStatus:
        """Run ``fn(progress)`` in a new daemon thread and return its first status at once.

        Args:
            kind: the task kind, the start of its id (``"qa"`` gives ``qa-<12 hex>``).
            fn: the work (:data:`TaskFn`).
            key: de-duplication key (default ``kind``). When a task with the same ``key`` is
                still running, no new task starts: its status is returned instead (a second
                click attaches to the running work).
            title: a label, kept as the status's ``name``.
        """
        key = key or kind
        with self._lock:
            existing = self.running(key)
            if existing is not None:
                return existing
            now = now_iso()
            status = JobStatus(
                job_id=f"{kind}-{new_id()[:12]}", kind=kind, name=title, key=key, pid=os.getpid(), runner=TASK_RUNNER,
                created_at=now, queued_at=now, started_at=now, updated_at=now,
            )
            cancel = threading.Event()
            self._live[status.job_id] = status
            self._cancel[status.job_id] = cancel
            self._write(status)
            thread = threading.Thread(
                target=self._run, args=(status, fn, cancel), name=f"oracle-task-{status.job_id}", daemon=True
            )
            self._threads[status.job_id] = thread
            thread.start()
            return _copy(status)

    def cancel(self, task_id: str) -> bool:
        """Ask a running task to stop at its next progress report. False if it is not running here."""
        with self._lock:
            event = self._cancel.get(task_id)
            live = self._live.get(task_id)
            if event is None or live is None or live.state not in ACTIVE_STATES:
                return False
            event.set()
            return True

    def wait(self, task_id: str, timeout_s: float | None = None) -> JobStatus:
        """Block until the task ends (or ``timeout_s`` seconds pass); its status."""
        thread = self._threads.get(task_id)
        if thread is not None:
            thread.join(timeout_s)
        return self.get(task_id)

    # --- the thread -----------------------------------------------------------------
    def _run(self, status: JobStatus, fn: TaskFn, cancel: threading.Event) -> None:
        t0 = time.monotonic()
        eta = RateEta()
        last_write = [0.0]

        def progress(done: int, total: int, message: str = "") -> None:
            if cancel.is_set():
                raise TaskCancelled()
            now = time.monotonic()
            with self._lock:
                status.step, status.total = int(done), int(total)
                status.message = str(message or "")
                status.elapsed_s = round(now - t0, 1)
                status.updated_at = now_iso()
                left = eta(status.step, int(total))
                if left is not None:
                    status.eta_s = left
                due = now - last_write[0] >= self.write_interval_s or (total and done >= total)
                snapshot = _copy(status) if due else None
            if snapshot is not None:
                last_write[0] = now
                self._write(snapshot)

        with self._lock:
            status.state = RUNNING
        self._write(status)
        try:
            result = fn(progress) or {}
            with self._lock:
                status.result = json_safe(dict(result))
                status.state = COMPLETED
                status.eta_s = 0.0
                if status.total and status.step < status.total:
                    status.step = status.total
        except TaskCancelled:
            with self._lock:
                status.state = CANCELLED
                status.eta_s = None
        except OracleError as err:
            logger.warning("task %s failed: %s", status.job_id, err.message("en"))
            with self._lock:
                status.state = FAILED
                status.eta_s = None
                status.error = err.message("en")
                status.error_key, status.error_params = err.key, json_safe(err.params)
        except Exception as err:  # recorded, shown as a generic message
            logger.exception("task %s failed", status.job_id)
            detail = f"{type(err).__name__}: {err}"
            with self._lock:
                status.state = FAILED
                status.eta_s = None
                status.error, status.error_key = detail, "err.generic"
                status.error_params = {"detail": detail}
        finally:
            with self._lock:
                status.elapsed_s = round(time.monotonic() - t0, 1)
                status.ended_at = status.updated_at = now_iso()
                final = _copy(status)
            self._write(final)


def _copy(status: JobStatus) -> JobStatus:
    """An independent copy of ``status`` (callers never hold the registry's live object)."""
    return JobStatus.from_dict(status.to_dict())


_REGISTRIES: dict[Path, TaskRegistry] = {}
_REGISTRIES_LOCK = threading.Lock()


def get_registry(workspace: Workspace) -> TaskRegistry:
    """The one registry of this process for ``workspace`` (created on first call)."""
    with _REGISTRIES_LOCK:
        registry = _REGISTRIES.get(workspace.home)
        if registry is None:
            registry = _REGISTRIES[workspace.home] = TaskRegistry(workspace)
        return registry
