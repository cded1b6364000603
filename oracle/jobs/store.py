"""The job store: every job's files under ``jobs/<job_id>/`` and one status type to read them.

A job is a folder that says everything about it, so any process (the app after a reload, the
command line, a second app worker) can list, follow, cancel or resume it by reading files:

* ``job.json``: what to run (``kind``, ``params``, workspace); written once at submission;
  it is the ``--config`` of the process;
* ``status.json``: a :class:`JobStatus`: ``state`` (queued, running, completed, failed,
  cancelled; interrupted for an in-process task), pid, times, the latest
  step/total/loss/eval_loss/tokens_per_s/eta_s, result or error; rewritten atomically (under a
  file lock by :func:`update_status`);
* ``log.jsonl``: one JSON object per logged step: ``step, total, loss, eval_loss,
  tokens_per_s, eta_s, time`` (appended with :func:`oracle.schema.append_jsonl`);
* ``process.log``: the process's stdout/stderr (tracebacks land here, never in the UI);
* ``cancel``: present when a cancel was asked; the training callback checks it after every
  step, saves a checkpoint and stops (``TrainerCallback`` setting
  ``control.should_training_stop``, as LLaMA-Factory's abort flag);
* ``checkpoints/``: Trainer checkpoints; :func:`oracle.jobs.process.resume` continues from
  the newest.

In-process tasks (:mod:`oracle.jobs.threads`) write the same :class:`JobStatus` to their
``status.json`` (``"runner": "oracle.tasks"``, no ``job.json``); :func:`get_job` reads both, and
also the status files older versions wrote (a task's ``TaskStatus`` with ``task_id``/``done``,
state ``done``), so nothing on disk goes unread after an upgrade.
"""

from __future__ import annotations

import logging
import os
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

TASK_RUNNER = "oracle.tasks"
"""The ``runner`` recorded in the status file of an in-process task (:mod:`oracle.jobs.threads`; the value is kept
from before the move, so older status files still read)."""

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = "queued", "running", "completed", "failed", "cancelled"
INTERRUPTED = "interrupted"
"""An in-process task whose process ended under it (the app restarted); a job process that dies
becomes :data:`FAILED` instead (:func:`oracle.jobs.process.reconcile`), resumable from its checkpoint."""
ACTIVE_STATES = (QUEUED, RUNNING)
FINAL_STATES = (COMPLETED, FAILED, CANCELLED, INTERRUPTED)

_LEGACY_STATES = {"done": COMPLETED}
"""States that older versions wrote under another name (the thread executor's ``done``)."""


@dataclass
class JobStatus(Record):
    """Content of ``status.json``: where a job process or an in-process task stands.

    Attributes:
        job_id: ``<YYYYmmdd-HHMMSS>-<kind>-<6 hex>`` for a job process (sorts by submission
            time); ``<kind>-<12 hex>`` for an in-process task (``qa-…``, ``index-…``).
        kind: a job kind (``"lora"``, ``"embedding"``, ``"reindex"``, ``"estimate"``, ``"merge"``,
            ``"selftest"``, ``"improve"``) or a task kind (``"qa"``, ``"index"``, ``"eval"``).
        name: output name (adapter or index) or a label (a task's title).
        state: one of :data:`ACTIVE_STATES` or :data:`FINAL_STATES`.
        pid: process id while running (a task: the app process that runs its thread).
        step, total: units done and planned, 0 when unknown (a job: optimizer steps; a task:
            chunks or questions).
        loss, eval_loss, tokens_per_s, eta_s: latest values from the log (None until known);
            ``eta_s`` is in seconds.
        error: message of a failure (English; ``error_key``/``error_params`` translate an
            OracleError: :meth:`error_message`).
        result: what the job produced (paths, metrics), JSON data.
        resumable: a checkpoint exists (:func:`oracle.jobs.resume` continues from it).
        attempts: how many times it was started.
        key: a task's de-duplication key (two tasks with one key never run at once), "" for jobs.
        message: a task's last progress description.
        elapsed_s: seconds an in-process task has run (0.0 for job processes).
        updated_at: time of the last progress report of a task.
        runner: :data:`TASK_RUNNER` for an in-process task, ``""`` for a job process.
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
    key: str = ""
    message: str = ""
    elapsed_s: float = 0.0
    updated_at: str | None = None
    runner: str = ""

    @property
    def finished(self) -> bool:
        """True in a final state (completed, failed, cancelled, interrupted)."""
        return self.state in FINAL_STATES

    @property
    def fraction(self) -> float:
        """Progress in [0, 1] (1 when completed)."""
        if self.state == COMPLETED:
            return 1.0
        return min(1.0, self.step / self.total) if self.total else 0.0

    def error_message(self, lang: str | None = None) -> str:
        """The failure as a sentence in ``lang``: the translated OracleError when ``error_key`` is
        set (``error`` fills a missing ``{detail}``), else ``error`` as recorded; ``""`` when none."""
        if not self.error_key:
            return self.error or ""
        from oracle.i18n import t

        params = dict(self.error_params or {})
        params.setdefault("detail", self.error or "")
        return t(self.error_key, lang, **params)


# --- files ------------------------------------------------------------------------------


def job_dir(workspace: Workspace, job_id: str) -> Path:
    """``jobs/<job_id>/`` (not checked for existence). Raises JobError on a malformed id."""
    if not job_id or "/" in job_id or "\\" in job_id or job_id.startswith("."):
        raise JobError("err.job.bad_id", job_id=repr(job_id))
    return workspace.jobs / job_id


def _status_path(workspace: Workspace, job_id: str) -> Path:
    return job_dir(workspace, job_id) / STATUS_FILE


def _from_task(data: dict[str, Any]) -> JobStatus:
    """A ``status.json`` of the thread executor before it wrote :class:`JobStatus` (``TaskStatus``:
    ``task_id``, ``title``, ``done``/``total``, ``error`` as ``{"key", "params", "detail"}``)."""
    error = data.get("error") or {}
    return JobStatus(
        job_id=data["task_id"], kind=data.get("kind", ""), name=data.get("title", ""),
        state=_LEGACY_STATES.get(data.get("state"), data.get("state", QUEUED)),
        created_at=data.get("started_at") or now_iso(), queued_at=data.get("started_at") or now_iso(),
        started_at=data.get("started_at"), ended_at=data.get("finished_at"), pid=data.get("pid"),
        step=int(data.get("done") or 0), total=int(data.get("total") or 0), eta_s=data.get("eta_s"),
        error=error.get("detail") or (error.get("params") or {}).get("detail"),
        error_key=error.get("key"), error_params=dict(error.get("params") or {}),
        result=dict(data.get("result") or {}), key=data.get("key", ""), message=data.get("message", ""),
        elapsed_s=float(data.get("elapsed_s") or 0.0), updated_at=data.get("updated_at"),
        runner=data.get("runner", TASK_RUNNER),
    )  # fmt: skip


def parse_status(data: Any) -> JobStatus:
    """The :class:`JobStatus` in the content of a ``status.json``, whichever version wrote it
    (state ``done`` reads as ``completed``; an older task's ``TaskStatus`` is converted).

    Raises:
        ValueError, TypeError, KeyError: not a status (no ``job_id``/``task_id``, wrong types).
    """
    if not isinstance(data, dict):
        raise TypeError(f"a status is a JSON object, not {type(data).__name__}")
    if "job_id" not in data and "task_id" in data:
        return _from_task(data)
    status = JobStatus.from_dict(data)
    status.state = _LEGACY_STATES.get(status.state, status.state)
    return status


def read_status(path: Path) -> JobStatus:
    """Read one ``status.json`` (:func:`parse_status`).

    Raises:
        FileNotFoundError: no such file.
        JobError: the file is not a readable status.
    """
    try:
        return parse_status(read_json(path))
    except FileNotFoundError:
        raise
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
        raise JobError("err.job.bad_status", path=str(path), detail=str(err)) from None


def get_job(workspace: Workspace, job_id: str) -> JobStatus:
    """The status of a job process, or of an in-process task (``qa-…``, ``index-…``:
    :mod:`oracle.jobs.threads`); both are :class:`JobStatus`.

    Raises:
        JobError: no such job, or its status file cannot be read.
    """
    try:
        return read_status(_status_path(workspace, job_id))
    except FileNotFoundError:
        raise JobError("err.job.not_found", job_id=job_id) from None


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


class RateEta:
    """Seconds left of a task, from its rate since the first unit this process saw done.

    Call it with each ``(done, total)``. The first call records where the task starts (a resumed
    task starts counting from where it resumed); the clock then starts when the first unit is
    done, so that what comes before it (loading the teacher model before the first chunk of
    training questions, each later chunk ~11 s) is not read as the pace of every unit. Returns
    ``(total - done) / rate`` in seconds, rounded to 0.1 s, ``rate`` being the units done per
    second since that first unit; None until a second progress after it, or when ``total`` is
    unknown (0). Used by every job's progress: the in-process tasks (:mod:`oracle.jobs.threads`),
    the job processes' coarse progress (:mod:`oracle.training.run`) and the stages of "Melhorar o
    Oráculo".
    """

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._start: int | None = None  # units done when this process first saw the task
        self._first: tuple[float, int] | None = None  # (time, done) at the first unit done here

    def __call__(self, done: int, total: int) -> float | None:
        now, done = self._clock(), int(done)
        if self._start is None:
            self._start = done
            return None
        if self._first is None:
            if done > self._start:
                self._first = (now, done)
            return None
        t1, d1 = self._first
        if not total or done <= d1 or now <= t1:
            return None
        rate = (done - d1) / (now - t1)  # units per second
        return round(max(0, total - done) / rate, 1)


def log_record(workspace: Workspace, job_id: str, record: dict[str, Any]) -> None:
    """Append one progress record to ``log.jsonl`` and copy its latest values into ``status.json``
    (``eta_s`` whenever the record has the key: None says the time left is not known now, so a
    stage that starts does not show the last stage's)."""
    append_jsonl(job_dir(workspace, job_id) / LOG_FILE, [record])
    changes = {k: record[k] for k in ("step", "total", "tokens_per_s") if record.get(k) is not None}
    if "eta_s" in record:
        changes["eta_s"] = record["eta_s"]
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


STAGES_FILE = "stages.json"
"""Stage records of a staged job (:mod:`oracle.improve`): a stage recorded there is not redone on resume."""


def has_checkpoint(workspace: Workspace, job_id: str) -> bool:
    """True when ``checkpoints/`` holds a complete Trainer checkpoint (in any sub-folder: a staged
    job keeps one per stage), or a staged job recorded a stage in ``stages.json`` (a finished stage
    is not redone, an interrupted one continues from what it saved: its chunks, its checkpoint)."""
    folder = job_dir(workspace, job_id)
    root = folder / CHECKPOINTS
    if root.is_dir() and any((p / "trainer_state.json").exists() for p in root.glob("**/checkpoint-*")):
        return True
    try:
        stages = read_json(folder / STAGES_FILE).get("stages", {})
    except (OSError, ValueError, AttributeError):
        return False
    return any(isinstance(s, dict) and s.get("state") for s in stages.values())


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
