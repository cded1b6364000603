"""The thread executor: in-process background tasks (QA generation, indexing) whose status outlives the page.

A task is a function ``fn(progress) -> dict`` run in its own daemon thread. It reports through
the usual :data:`oracle.schema.ProgressCallback` (``progress(done, total, message)``); the
registry turns that into a :class:`TaskStatus` (done/total, message, seconds left) kept in
memory and written, throttled and atomically, to ``<workspace>/jobs/<task_id>/status.json``.
The app polls :meth:`TaskRegistry.get` (a ``gr.Timer``), so a reloaded page re-attaches to a
running task and still finds a finished one's result.

Training jobs run in separate processes (:mod:`oracle.jobs.process`) and share the ``jobs/``
folder (:mod:`oracle.jobs.store`); status files written here carry ``"runner": "oracle.tasks"``
and task ids start with the task kind (``qa-…``, ``index-…``); :func:`oracle.jobs.get_job`
reads them as a job's status. Work that writes an index holds that index's lock
(:func:`oracle.index.index_lock`), so a task and a job on the same index run one after the other.

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
from dataclasses import dataclass, field
from pathlib import Path

from oracle.config import Workspace
from oracle.errors import JobError, OracleError
from oracle.jobs.store import STATUS_FILE, TASK_RUNNER, job_dir, pid_alive
from oracle.schema import ProgressCallback, Record, json_safe, new_id, now_iso, read_json, write_json_atomic

logger = logging.getLogger(__name__)

RUNNER = TASK_RUNNER
ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("done", "failed", "cancelled", "interrupted")

TaskFn = Callable[[ProgressCallback], dict]
"""``fn(progress) -> result``: the work; ``result`` must be JSON-serialisable (it is written
to status.json)."""


class TaskCancelled(Exception):
    """Raised inside a task by its progress callback once :meth:`TaskRegistry.cancel` was called."""


@dataclass
class TaskStatus(Record):
    """Where a background task stands (the content of ``jobs/<task_id>/status.json``).

    Attributes:
        task_id: ``<kind>-<12 hex>``.
        kind: ``"qa"``, ``"index"``...
        key: tasks with the same key are not run twice at once (e.g. ``"index:default"``).
        state: ``queued`` | ``running`` | ``done`` | ``failed`` | ``cancelled`` | ``interrupted``.
        done, total: units of work finished and in all (chunks); ``total`` is 0 while unknown.
        message: the last progress description from the core.
        eta_s: estimated seconds left (None until two progress reports); from the rate
            since the first report.
        elapsed_s: seconds since the task started.
        result: what the task function returned (when ``done``).
        error: ``{"key", "params", "detail"}`` of the exception that ended it (when ``failed``).
        pid: process running the task.
    """

    task_id: str
    kind: str
    key: str = ""
    title: str = ""
    state: str = "queued"
    done: int = 0
    total: int = 0
    message: str = ""
    eta_s: float | None = None
    elapsed_s: float = 0.0
    started_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    finished_at: str | None = None
    result: dict = field(default_factory=dict)
    error: dict | None = None
    pid: int = field(default_factory=os.getpid)
    runner: str = RUNNER

    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def fraction(self) -> float:
        """done/total in [0, 1] (0 while total is unknown; 1 when done)."""
        if self.state == "done":
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    def error_message(self, lang: str | None = None) -> str:
        """The failure as a sentence in ``lang`` (an OracleError's own message when it was one)."""
        if not self.error:
            return ""
        from oracle.i18n import t

        key = self.error.get("key") or "err.generic"
        params = dict(self.error.get("params") or {})
        params.setdefault("detail", self.error.get("detail", ""))
        return t(key, lang, **params)


class TaskRegistry:
    """Runs and tracks background tasks of one workspace in this process (thread per task).

    Args:
        workspace: where status files go (``workspace.jobs``).
        write_interval_s: least seconds between two status writes while a task reports
            progress (the first, last and final states are always written).
    """

    def __init__(self, workspace: Workspace, write_interval_s: float = 0.5) -> None:
        self.workspace = workspace
        self.write_interval_s = write_interval_s
        self._lock = threading.RLock()
        self._live: dict[str, TaskStatus] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._mark_interrupted()

    # --- files ----------------------------------------------------------------------
    def _status_path(self, task_id: str) -> Path:
        """``jobs/<task_id>/status.json`` in the one job store (raises JobError on a malformed id)."""
        return job_dir(self.workspace, task_id) / STATUS_FILE

    def _write(self, status: TaskStatus) -> None:
        try:
            write_json_atomic(self._status_path(status.task_id), status)
        except OSError:
            logger.exception("could not write the status of task %s", status.task_id)

    def _read(self, path: Path) -> TaskStatus | None:
        try:
            data = read_json(path)
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("runner") != RUNNER:
            return None
        return TaskStatus.from_dict(data)

    def _mark_interrupted(self) -> None:
        """Tasks left 'running' by a process that is gone become 'interrupted'."""
        for path in sorted(self.workspace.jobs.glob(f"*/{STATUS_FILE}")):
            status = self._read(path)
            if status is None or status.state not in ACTIVE_STATES:
                continue
            if status.pid != os.getpid() and pid_alive(status.pid):
                continue
            status.state = "interrupted"
            status.finished_at = now_iso()
            status.eta_s = None
            self._write(status)

    # --- queries --------------------------------------------------------------------
    def get(self, task_id: str) -> TaskStatus:
        """The task's current status. Raises JobError when no such task exists."""
        with self._lock:
            live = self._live.get(task_id)
            if live is not None:
                return TaskStatus.from_dict(live.to_dict())
        try:
            status = self._read(self._status_path(task_id))
        except JobError:  # a malformed id
            status = None
        if status is None:
            raise JobError(detail=f"unknown task '{task_id}'")
        return status

    def list(self, kind: str | None = None) -> list[TaskStatus]:
        """Tasks of this workspace (live and on disk), newest first."""
        found: dict[str, TaskStatus] = {}
        for path in self.workspace.jobs.glob(f"*/{STATUS_FILE}"):
            status = self._read(path)
            if status is not None:
                found[status.task_id] = status
        with self._lock:
            for task_id, live in self._live.items():
                found[task_id] = TaskStatus.from_dict(live.to_dict())
        rows = [s for s in found.values() if kind is None or s.kind == kind]
        return sorted(rows, key=lambda s: (s.started_at, s.task_id), reverse=True)

    def latest(self, kind: str, key: str | None = None) -> TaskStatus | None:
        """The newest task of ``kind`` (and ``key`` when given), running or not; None if none."""
        for status in self.list(kind):
            if key is None or status.key == key:
                return status
        return None

    def running(self, key: str) -> TaskStatus | None:
        """The task with ``key`` still running in this process, if any."""
        with self._lock:
            for task_id, live in self._live.items():
                thread = self._threads.get(task_id)
                if live.key == key and live.state in ACTIVE_STATES and thread and thread.is_alive():
                    return TaskStatus.from_dict(live.to_dict())
        return None

    # --- control --------------------------------------------------------------------
    def start(self, kind: str, fn: TaskFn, key: str | None = None, title: str = "") -> TaskStatus:
        """Run ``fn(progress)`` in a new daemon thread and return its first status at once.

        When a task with the same ``key`` is still running, no new task starts: its status is
        returned instead (a second click attaches to the running work).
        """
        key = key or kind
        with self._lock:
            existing = self.running(key)
            if existing is not None:
                return existing
            status = TaskStatus(task_id=f"{kind}-{new_id()[:12]}", kind=kind, key=key, title=title)
            cancel = threading.Event()
            self._live[status.task_id] = status
            self._cancel[status.task_id] = cancel
            self._write(status)
            thread = threading.Thread(
                target=self._run, args=(status, fn, cancel), name=f"oracle-task-{status.task_id}", daemon=True
            )
            self._threads[status.task_id] = thread
            thread.start()
            return TaskStatus.from_dict(status.to_dict())

    def cancel(self, task_id: str) -> bool:
        """Ask a running task to stop at its next progress report. False if it is not running here."""
        with self._lock:
            event = self._cancel.get(task_id)
            live = self._live.get(task_id)
            if event is None or live is None or live.state not in ACTIVE_STATES:
                return False
            event.set()
            return True

    def wait(self, task_id: str, timeout_s: float | None = None) -> TaskStatus:
        """Block until the task ends (or ``timeout_s`` seconds pass); its status."""
        thread = self._threads.get(task_id)
        if thread is not None:
            thread.join(timeout_s)
        return self.get(task_id)

    # --- the thread -----------------------------------------------------------------
    def _run(self, status: TaskStatus, fn: TaskFn, cancel: threading.Event) -> None:
        t0 = time.monotonic()
        first: list[tuple[float, int]] = []
        last_write = [0.0]

        def progress(done: int, total: int, message: str = "") -> None:
            if cancel.is_set():
                raise TaskCancelled()
            now = time.monotonic()
            with self._lock:
                status.done, status.total = int(done), int(total)
                status.message = str(message or "")
                status.elapsed_s = round(now - t0, 1)
                status.updated_at = now_iso()
                if not first:
                    first.append((now, status.done))
                t1, d1 = first[0]
                if total and status.done > d1 and now > t1:
                    rate = (status.done - d1) / (now - t1)  # units per second
                    status.eta_s = round(max(0, total - status.done) / rate, 1)
                due = now - last_write[0] >= self.write_interval_s or (total and done >= total)
                snapshot = TaskStatus.from_dict(status.to_dict()) if due else None
            if snapshot is not None:
                last_write[0] = now
                self._write(snapshot)

        with self._lock:
            status.state = "running"
        self._write(status)
        try:
            result = fn(progress) or {}
            with self._lock:
                status.result = json_safe(dict(result))
                status.state = "done"
                status.eta_s = 0.0
                if status.total and status.done < status.total:
                    status.done = status.total
        except TaskCancelled:
            with self._lock:
                status.state = "cancelled"
                status.eta_s = None
        except OracleError as err:
            logger.warning("task %s failed: %s", status.task_id, err.message("en"))
            with self._lock:
                status.state = "failed"
                status.eta_s = None
                status.error = {"key": err.key, "params": json_safe(err.params), "detail": str(err)}
        except Exception as err:  # recorded, shown as a generic message
            logger.exception("task %s failed", status.task_id)
            with self._lock:
                status.state = "failed"
                status.eta_s = None
                status.error = {"key": "err.generic", "params": {"detail": f"{type(err).__name__}: {err}"}}
        finally:
            with self._lock:
                status.elapsed_s = round(time.monotonic() - t0, 1)
                status.finished_at = status.updated_at = now_iso()
                final = TaskStatus.from_dict(status.to_dict())
            self._write(final)


_REGISTRIES: dict[Path, TaskRegistry] = {}
_REGISTRIES_LOCK = threading.Lock()


def get_registry(workspace: Workspace) -> TaskRegistry:
    """The one registry of this process for ``workspace`` (created on first call)."""
    with _REGISTRIES_LOCK:
        registry = _REGISTRIES.get(workspace.home)
        if registry is None:
            registry = _REGISTRIES[workspace.home] = TaskRegistry(workspace)
        return registry
