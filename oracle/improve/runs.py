"""Running the stages, their records, the run reports, promotion, rollback and the job.

Files of a run ``improve/<run_id>/`` (the run id is the job id when it runs as a job):

* ``run.json``: the run's config (:meth:`ImproveConfig.to_dict`) and start time;
* ``pairs.jsonl``, ``pairs.done.jsonl``, ``train_pairs.jsonl``, ``heldout.gold.jsonl``,
  ``eval-before/``, ``eval-after/``: what the stages wrote;
* ``report.json`` and ``report.md``: the run's figures, rewritten after every stage.

``stages.json`` (in the job folder for a job, else in the run folder) records each stage's state
(``running``, ``completed``, ``skipped``, ``cancelled``, ``failed``), its times and its output: a
resumed run does not redo a stage that completed or was skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oracle.config import DEFAULT_INDEX, Workspace
from oracle.errors import OracleError
from oracle.improve.config import STAGES, ImproveConfig, ImproveJob
from oracle.improve.promotion import describe_defaults, install_index
from oracle.improve.stages import DATA_FILES, STAGE_FUNCTIONS, Hooks, RunContext
from oracle.jobs.store import STAGES_FILE
from oracle.schema import now_iso, read_json, write_json_atomic, write_text_atomic

logger = logging.getLogger(__name__)

RUNS_DIR = "improve"
RUN_FILE = "run.json"
REPORT_JSON = "report.json"
REPORT_MD = "report.md"
JOB_KIND = ImproveJob.kind

MIN_PAIRS = 50
"""Fewer training questions than this: :func:`data_summary` warns that a run will learn little."""


def runs_root(workspace: Workspace) -> Path:
    """``<home>/improve/`` (created)."""
    path = workspace.home / RUNS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_dir(workspace: Workspace, run_id: str) -> Path:
    """``<home>/improve/<run_id>/`` (not created). Raises OracleError on an id with a path separator."""
    if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
        raise OracleError("improve.err.no_run", run_id=run_id)
    return runs_root(workspace) / run_id


# --- stage records ------------------------------------------------------------------------------------


def read_stages(state_dir: Path) -> dict[str, dict[str, Any]]:
    """``{stage: {"state", "started_at", "ended_at", "seconds", "output", "error"}}`` from ``stages.json``."""
    try:
        data = read_json(Path(state_dir) / STAGES_FILE)
    except (OSError, ValueError):
        return {}
    return data.get("stages", {}) if isinstance(data, dict) else {}


def _write_stage(state_dir: Path, stage: str, **changes: Any) -> dict[str, dict[str, Any]]:
    stages = read_stages(state_dir)
    stages.setdefault(stage, {}).update(changes)
    write_json_atomic(Path(state_dir) / STAGES_FILE, {"stages": stages, "order": list(STAGES)})
    return stages


def run_pipeline(
    workspace: Workspace,
    cfg: ImproveConfig,
    run_id: str | None = None,
    state_dir: str | Path | None = None,
    log: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    hooks: Hooks | None = None,
    stage_functions: dict[str, Callable[[RunContext], dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the stages of :data:`oracle.improve.config.STAGES` in order.

    A stage recorded ``completed`` or ``skipped`` in ``stages.json`` is not run again; a stage not in
    ``cfg.stages`` is recorded ``skipped`` (reason ``not_selected``). Between stages, and inside them
    at their own steps, ``should_stop()`` ends the run as ``cancelled``; running it again with the
    same ``run_id`` and ``state_dir`` resumes.

    Args:
        workspace: the workspace.
        cfg: the parameters.
        run_id: the run's id (default: a new one, ``<YYYYmmdd-HHMMSS>-improve-<6 hex>``).
        state_dir: where ``stages.json`` and checkpoints go (default: the run folder).
        log: receives progress records (the job's ``log.jsonl``), each with ``"stage"``.
        should_stop: the cancel flag.
        hooks: the teacher and the evaluation, replaced (tests).
        stage_functions: stage functions replaced by name (tests).

    Returns:
        ``{"status": "completed"|"cancelled", "run_id", "run_dir", "promoted", "reason"}``.

    Raises:
        OracleError: a stage failed (its record says ``failed``; a resume runs it again).
    """
    from oracle.jobs import new_job_id

    run_id = run_id or new_job_id(JOB_KIND)
    folder = run_dir(workspace, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    state = Path(state_dir) if state_dir else folder
    state.mkdir(parents=True, exist_ok=True)
    if not (folder / RUN_FILE).exists():
        write_json_atomic(folder / RUN_FILE, {"run_id": run_id, "created_at": now_iso(), "config": cfg.to_dict(),
                                              "state_dir": str(state)})
    functions = {**STAGE_FUNCTIONS, **(stage_functions or {})}
    ctx = RunContext(workspace, cfg, run_id, folder, state, log or (lambda record: None),
                     should_stop or (lambda: False), hooks=hooks or Hooks())
    for stage, record in read_stages(state).items():
        if record.get("state") in ("completed", "skipped"):
            ctx.outputs[stage] = record.get("output") or {}
    for stage in STAGES:
        record = read_stages(state).get(stage, {})
        if record.get("state") in ("completed", "skipped"):
            continue
        if ctx.should_stop():
            return _stopped(ctx)
        if stage not in cfg.stages:
            out = {"status": "skipped", "reason": "not_selected", "params": {}}
            _write_stage(state, stage, state="skipped", output=out, started_at=now_iso(), ended_at=now_iso(),
                         seconds=0.0)
            ctx.outputs[stage] = out
            continue
        started = time.perf_counter()
        prior = float(record.get("seconds") or 0.0)  # a resumed stage adds its sessions
        _write_stage(state, stage, state="running", started_at=record.get("started_at") or now_iso(), error=None)
        ctx.log({"stage": stage, "event": "start", "step": 0, "total": 0, "loss": None, "eval_loss": None,
                 "tokens_per_s": None, "eta_s": None, "time": now_iso()})
        try:
            out = functions[stage](ctx)
        except BaseException as err:  # JobCancelled (SIGTERM) included: the record must not say "running"
            seconds = prior + time.perf_counter() - started
            message = err.message("en") if isinstance(err, OracleError) else f"{type(err).__name__}: {err}"[:500]
            cancelled = not isinstance(err, Exception)
            _write_stage(state, stage, state="cancelled" if cancelled else "failed", seconds=round(seconds, 3),
                         ended_at=now_iso(), error=None if cancelled else message)
            write_report(workspace, run_id, state)
            raise
        seconds = round(prior + time.perf_counter() - started, 3)
        status = out.get("status", "completed")
        _write_stage(state, stage, state=status, output=out, ended_at=now_iso(), seconds=seconds)
        ctx.log({"stage": stage, "event": status, "step": 0, "total": 0, "loss": None, "eval_loss": None,
                 "tokens_per_s": None, "eta_s": None, "time": now_iso(), "seconds": seconds})
        if status == "cancelled":
            return _stopped(ctx)
        ctx.outputs[stage] = out
        write_report(workspace, run_id, state)
    report = write_report(workspace, run_id, state)
    return {"status": "completed", "run_id": run_id, "run_dir": str(folder), "promoted": report["promoted"],
            "reason": report["reason"]}


def _stopped(ctx: RunContext) -> dict[str, Any]:
    write_report(ctx.workspace, ctx.run_id, ctx.state_dir)
    return {"status": "cancelled", "run_id": ctx.run_id, "run_dir": str(ctx.run_dir), "promoted": False,
            "reason": "cancelled"}


# --- rollback ---------------------------------------------------------------------------------------


def rollback(workspace: Workspace, run_id: str) -> dict[str, Any]:
    """Go back to the chat defaults a past run left (promoted or not): its generator and adapter,
    and its index's embedder (the index is re-embedded or swapped when that differs; documents
    added since are kept). One call, for the tab's "voltar a esta versão" button.

    Returns:
        The defaults now in force (:func:`describe_defaults`).

    Raises:
        OracleError: ``improve.err.no_run`` (no such run), ``improve.err.cannot_rollback`` (the run
            did not finish its evaluation, or its adapter folder was deleted).
    """
    from oracle.defaults import ChatDefaults, write_defaults

    report = read_report(workspace, run_id)
    after = ((report.get("stages") or {}).get("evaluate") or {}).get("output", {}).get("defaults_after")
    if not after:
        raise OracleError("improve.err.cannot_rollback", run_id=run_id)
    target = ChatDefaults.from_dict(after)
    if target.adapter and not (workspace.adapters / target.adapter).is_dir():
        raise OracleError("improve.err.cannot_rollback", run_id=run_id)
    stages = report.get("stages") or {}
    emb_out = (stages.get("embedder") or {}).get("output") or {}
    candidate = emb_out.get("candidate_index") if emb_out.get("embedder") == target.embedder else None
    install_index(workspace, target.index or DEFAULT_INDEX, target.embedder, candidate)
    target.run_id = run_id
    write_defaults(workspace, target)
    return describe_defaults(workspace, target)


# --- reports ----------------------------------------------------------------------------------------


def write_report(workspace: Workspace, run_id: str, state_dir: str | Path | None = None) -> dict[str, Any]:
    """(Re)write ``report.json`` and ``report.md`` of a run from its stage records; returns the report.

    ``report.json``: ``{"run_id", "created_at", "updated_at", "config", "state", "stages": {stage:
    {"state", "seconds", "output", "error"}}, "promoted", "reason", "params", "before", "after",
    "student_base" (the student without its adapter, when it was scored), "teacher", "student",
    "adapter", "embedder", "data_files"}``; shares in [0, 1], times in seconds;
    ``data_files``: every file that fed the run, with its sha256 (:func:`oracle.improve.stages.data_files`).
    """
    folder = run_dir(workspace, run_id)
    run = read_json(folder / RUN_FILE) if (folder / RUN_FILE).exists() else {"run_id": run_id}
    state = Path(state_dir) if state_dir else Path(run.get("state_dir") or folder)
    stages = read_stages(state)
    states = [stages.get(s, {}).get("state") for s in STAGES]
    overall = ("failed" if "failed" in states else "cancelled" if "cancelled" in states
               else "completed" if all(x in ("completed", "skipped") for x in states) else "running")
    out = lambda s: (stages.get(s) or {}).get("output") or {}
    ev = out("evaluate")
    report = {
        "run_id": run_id, "created_at": run.get("created_at"), "updated_at": now_iso(), "config": run.get("config"),
        "state": overall, "stages": stages, "promoted": bool(ev.get("promoted")),
        "reason": ev.get("reason") or ("cancelled" if overall == "cancelled" else None),
        "params": ev.get("params", {}), "before": (ev.get("before") or {}).get("summary"),
        "after": (ev.get("after") or {}).get("summary"),
        "retrieval_before": (ev.get("before") or {}).get("retrieval"),
        "retrieval_after": (ev.get("after") or {}).get("retrieval"),
        "student_base": (ev.get("student") or {}).get("summary"),
        "teacher": out("pairs").get("teacher"), "student": out("generator").get("student"),
        "adapter": out("generator").get("adapter"), "embedder": out("embedder").get("embedder"),
        "data_files": _data_files(folder),
    }
    write_json_atomic(folder / REPORT_JSON, report)
    write_text_atomic(folder / REPORT_MD, report_markdown(report))
    return report


def _data_files(folder: Path) -> list[dict[str, Any]]:
    """The run's ``data_files.json`` (``[]`` before its snapshot exists)."""
    try:
        return read_json(folder / DATA_FILES)
    except (OSError, ValueError):
        return []


def read_report(workspace: Workspace, run_id: str) -> dict[str, Any]:
    """``report.json`` of a run. Raises OracleError ``improve.err.no_run`` when there is none."""
    path = run_dir(workspace, run_id) / REPORT_JSON
    try:
        return read_json(path)
    except (OSError, ValueError):
        raise OracleError("improve.err.no_run", run_id=run_id) from None


PERCENT_REASONS = ("promoted", "keyfacts_not_better", "abstention_fell")
"""Reasons whose figures are shares, shown as percentages by their templates (``{before:.0%}``)."""


def reason_text(reason: str, params: dict[str, Any] | None = None, lang: str | None = None) -> str:
    """Why a stage was skipped or a run promoted or not, in words (i18n ``improve.reason.<reason>``).

    The figures of :data:`PERCENT_REASONS` are shares the template shows as percentages; any other
    number is written as people of ``lang`` write it (``0,537`` in Portuguese: three decimals at
    most, trailing zeros dropped, ``1.234`` for thousands).
    """
    from oracle.i18n import t

    params = dict(params or {})
    if reason not in PERCENT_REASONS:
        params = {k: _decimal(v, lang) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                  for k, v in params.items()}
    return t(f"improve.reason.{reason}", lang, **params)


def _decimal(value: float, lang: str | None) -> str:
    from oracle.i18n import format_number

    if float(value).is_integer():
        return format_number(value, lang, 0)
    return format_number(value, lang, 3).rstrip("0").rstrip(",.")  # 0,500 -> 0,5; 12,000 -> 12


def _pct(value: float | None, lang: str | None) -> str:
    from oracle.i18n import format_number

    return "–" if value is None else f"{format_number(100 * value, lang, 0)}%"


COMPARISON_ROWS = (("keyfact_accuracy", "improve.row.keyfacts"), ("unsupported", "improve.row.unsupported"),
                   ("abstention", "improve.row.abstention"), ("over_abstention", "improve.row.over_abstention"),
                   ("answer_p50", "improve.row.latency"))
"""The before/after table: summary key and its plain-words label (i18n)."""


def comparison_headers(report: dict[str, Any], lang: str | None = None) -> list[str]:
    """Column titles of :func:`comparison`: measure, before, [the student without its adapter,]
    after."""
    from oracle.i18n import t

    middle = [t("improve.report.student", lang)] if report.get("student_base") else []
    return [t("improve.report.measure", lang), t("improve.report.before", lang), *middle,
            t("improve.report.after", lang)]


def comparison(report: dict[str, Any], lang: str | None = None) -> list[list[str]]:
    """The before/after table in plain words: ``[[label, before, after], ...]``, or ``[[label,
    before, student, after], ...]`` when the run scored the student without its adapter
    (``student_base``; titles in :func:`comparison_headers`). Shares as percentages, latency in
    seconds, Brazilian number format in Portuguese."""
    from oracle.i18n import format_number, t

    before, after = report.get("before") or {}, report.get("after") or {}
    chains = [before, *([report["student_base"]] if report.get("student_base") else []), after]
    rows = []
    for key, label in COMPARISON_ROWS:
        if key == "answer_p50":
            fmt = lambda v: "–" if v is None else f"{format_number(v, lang, 1)} s"
        else:
            fmt = lambda v: _pct(v, lang)
        rows.append([t(label, lang), *(fmt(c.get(key)) for c in chains)])
    mb, ma = (report.get("retrieval_before") or {}).get("mrr@10"), (report.get("retrieval_after") or {}).get("mrr@10")
    mrr = [mb] * (len(chains) - 1) + [ma]  # the student without its adapter runs on the before index
    rows.append([t("improve.row.mrr", lang), *("–" if m is None else format_number(m, lang, 3) for m in mrr)])
    return rows


def report_markdown(report: dict[str, Any], lang: str | None = None) -> str:
    """The run report as Markdown, in ``lang`` (stages with their times and outcome, the data, the
    before/after table, the decision)."""
    from oracle.i18n import format_number, format_seconds, t

    lines = [f"# {t('improve.report.title', lang, run_id=report['run_id'])}", ""]
    lines.append(t(f"improve.state.{report['state']}", lang))
    header = f"| {t('improve.report.stage', lang)} | {t('improve.report.result', lang)} | {t('improve.report.time', lang)} |"
    lines += ["", header, "|---|---|---|"]
    for stage in STAGES:
        rec = (report.get("stages") or {}).get(stage) or {}
        out = rec.get("output") or {}
        result = t(f"improve.state.{rec.get('state') or 'pending'}", lang)
        if out.get("reason") and rec.get("state") == "skipped":
            result += ": " + reason_text(out["reason"], out.get("params"), lang)
        if rec.get("error"):
            result += f": {rec['error']}"
        lines.append(f"| {t(f'improve.stage.{stage}', lang)} | {result} | {format_seconds(rec.get('seconds'))} |")
    pairs = ((report.get("stages") or {}).get("pairs") or {}).get("output") or {}
    if pairs.get("rejections") is not None:
        lines += ["", t("improve.report.pairs", lang, kept=format_number(pairs.get("n_kept", 0), lang),
                        chunks=format_number(pairs.get("n_done", 0), lang), teacher=pairs.get("teacher", "?"))]
        for reason, n in sorted(pairs["rejections"].items(), key=lambda kv: -kv[1]):
            if n:
                lines.append(f"- {t(f'improve.reject.{reason}', lang)}: {format_number(n, lang)}")
    if report.get("before") and report.get("after"):
        headers = comparison_headers(report, lang)
        lines += ["", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in comparison(report, lang)]
        chains = chains_text(report, lang)
        if chains:
            lines += ["", chains]
    if report.get("reason"):
        lines += ["", reason_text(report["reason"], report.get("params"), lang)]
    return "\n".join(lines) + "\n"


def chains_text(report: dict[str, Any], lang: str | None = None) -> str:
    """What the before/after table compares, in plain words: "Antes: qwen2.5-coder-1.5b-instruct,
    índice default. Depois: qwen2.5-coder-0.5b-instruct + adaptador X, índice Y." ("" for a run
    whose evaluation did not record its chains)."""
    from oracle.i18n import t

    chains = (((report.get("stages") or {}).get("evaluate") or {}).get("output") or {}).get("chains")
    if not chains:
        return ""

    def one(chain: dict[str, Any]) -> str:
        text = str(chain.get("generator") or "?")
        if chain.get("adapter"):
            text += " + " + t("improve.report.adapter", lang, name=chain["adapter"])
        return text + ", " + t("improve.report.index", lang, name=chain.get("index") or "?")

    text = t("improve.report.chains", lang, before=one(chains["before"]), after=one(chains["after"]))
    if chains.get("student"):
        text += " " + t("improve.report.chains_student", lang, student=one(chains["student"]))
    return text


def list_runs(workspace: Workspace) -> list[dict[str, Any]]:
    """Past runs, newest first: ``[{"run_id", "created_at", "state", "promoted", "reason",
    "keyfacts_before", "keyfacts_after", "abstention_before", "abstention_after", "mrr_before",
    "mrr_after", "adapter", "embedder", "seconds", "current"}]`` (shares in [0, 1], ``seconds`` the
    stages' total; ``current``: its defaults are the chat's now). Unreadable folders are skipped."""
    from oracle.defaults import read_defaults

    current = read_defaults(workspace).run_id
    out = []
    for folder in runs_root(workspace).iterdir():
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        try:
            report = read_json(folder / REPORT_JSON)
        except (OSError, ValueError):
            continue
        before, after = report.get("before") or {}, report.get("after") or {}
        stages = report.get("stages") or {}
        out.append({
            "run_id": report.get("run_id", folder.name), "created_at": report.get("created_at") or "",
            "state": report.get("state"), "promoted": bool(report.get("promoted")), "reason": report.get("reason"),
            "keyfacts_before": before.get("keyfact_accuracy"), "keyfacts_after": after.get("keyfact_accuracy"),
            "abstention_before": before.get("abstention"), "abstention_after": after.get("abstention"),
            "mrr_before": (report.get("retrieval_before") or {}).get("mrr@10"),
            "mrr_after": (report.get("retrieval_after") or {}).get("mrr@10"),
            "adapter": report.get("adapter"), "embedder": report.get("embedder"),
            "seconds": round(sum(float((s or {}).get("seconds") or 0.0) for s in stages.values()), 1),
            "current": current == report.get("run_id", folder.name),
        })
    return sorted(out, key=lambda r: (r["created_at"], r["run_id"]), reverse=True)


# --- data summary -----------------------------------------------------------------------------------


def data_summary(workspace: Workspace, lang: str | None = None) -> dict[str, Any]:
    """What a run would learn from, in plain words, with warnings.

    Returns:
        ``{"n_pairs", "n_generated", "n_approved", "n_rejected", "n_valid", "n_invalid", "n_corrected",
        "text", "warnings": [str]}``. ``n_pairs`` counts the pairs of ``data_qa/`` not rejected in review
        (``n_generated`` of them not reviewed yet); ratings count one per answer, the latest
        (:func:`oracle.feedback.rating_summary`). ``text`` reads like "312 perguntas geradas, 18
        avaliações válidas, 4 corrigidas" ("corrigidas": latest rating carries a correction, 👍 or
        👎; every one trains on its correction). Warnings: fewer than :data:`MIN_PAIRS` questions, pairs not
        reviewed, no document.
    """
    from oracle.feedback import rating_summary
    from oracle.i18n import format_number, t, tn
    from oracle.ingest import list_documents
    from oracle.schema import iter_jsonl

    counts = {"generated": 0, "approved": 0, "rejected": 0}
    for path in sorted(workspace.data_qa.glob("*.qa.jsonl")):
        for row in iter_jsonl(path):
            status = row.get("status", "generated")
            counts[status if status in counts else "generated"] += 1
    ratings = rating_summary(workspace)
    n_pairs = counts["generated"] + counts["approved"]
    text = t("improve.summary", lang, pairs=tn("improve.summary.pairs", n_pairs, lang),
             valid=tn("improve.summary.valid", ratings.n_valid, lang),
             corrected=tn("improve.summary.corrected", ratings.n_corrected, lang))
    warnings = []
    if not list_documents(workspace):
        warnings.append(t("improve.warn.no_documents", lang))
    if n_pairs + ratings.n_training < MIN_PAIRS:  # ratings that train: 👍, and 👎 with a correction
        warnings.append(t("improve.warn.few_pairs", lang, n=format_number(n_pairs + ratings.n_training, lang),
                          min=format_number(MIN_PAIRS, lang)))
    if counts["generated"]:
        warnings.append(t("improve.warn.unreviewed", lang, n=format_number(counts["generated"], lang)))
    return {"n_pairs": n_pairs, "n_generated": counts["generated"], "n_approved": counts["approved"],
            "n_rejected": counts["rejected"], "n_valid": ratings.n_valid, "n_invalid": ratings.n_invalid,
            "n_corrected": ratings.n_corrected, "text": text, "warnings": warnings}


# --- the job ----------------------------------------------------------------------------------------


def run_jobs(workspace: Workspace) -> list:
    """The workspace's "Melhorar o Oráculo" jobs (:class:`oracle.jobs.JobStatus`), newest first."""
    from oracle import jobs

    return [s for s in jobs.list_jobs(workspace) if s.kind == JOB_KIND]


def start(workspace: Workspace, cfg: ImproveConfig | None = None) -> str:
    """Queue a run as a background job (kind ``improve``) and start it when nothing else runs.

    Returns:
        The job id (also the run id: ``improve/<job_id>/``).

    Raises:
        OracleError: ``improve.err.no_documents`` (nothing uploaded), ``err.index_not_found`` (no index
            to improve: build it in the Índice tab), ``improve.err.running`` (a run is already queued or
            running: a second click, or a second ``oracle improve``, would redo its hour of work
            after it), ``err.job`` (the job could not be queued).
    """
    from oracle import jobs
    from oracle.errors import IndexNotFoundError
    from oracle.i18n import format_datetime, t
    from oracle.index import list_indexes
    from oracle.ingest import list_documents

    cfg = cfg or ImproveConfig()
    if not list_documents(workspace):
        raise OracleError("improve.err.no_documents")
    if cfg.index_name not in list_indexes(workspace):
        raise IndexNotFoundError(name=cfg.index_name)
    active = [s for s in run_jobs(workspace) if s.state in jobs.ACTIVE_STATES]
    if active:
        raise OracleError("improve.err.running", job_id=active[0].job_id,
                          since=format_datetime(active[0].started_at or active[0].created_at))
    status = jobs.submit(workspace, ImproveJob(config=cfg), name=t("improve.job_name"))
    return status.job_id


def status(workspace: Workspace, job_id: str) -> dict[str, Any]:
    """Where a run stands, for the UI to poll.

    Returns:
        ``{"job": JobStatus, "stages": [{"name", "label", "state", "seconds", "output", "error"}],
        "current": stage name or None, "progress": {"step", "total", "note"} of the current stage,
        "losses": [{"stage", "step", "loss"}]`` (training loss records, for the plot),
        ``"report": report.json or None}``.

    Raises:
        JobError: no such job.
    """
    from oracle import jobs
    from oracle.i18n import t

    job = jobs.get_job(workspace, job_id)
    records = read_stages(jobs.job_dir(workspace, job_id))
    stages, current = [], None
    for name in STAGES:
        rec = records.get(name, {})
        state = rec.get("state") or "pending"
        if state == "running" and job.state == jobs.RUNNING:
            current = name
        stages.append({"name": name, "label": t(f"improve.stage.{name}"), "state": state,
                       "seconds": rec.get("seconds"), "output": rec.get("output"), "error": rec.get("error")})
    log = jobs.read_log(workspace, job_id)
    progress: dict[str, Any] = {}
    for rec in log:
        if rec.get("stage") == current and rec.get("total"):
            progress = {"step": rec.get("step"), "total": rec.get("total"), "note": rec.get("note")}
    losses = [{"stage": r["stage"], "step": r.get("step"), "loss": r["loss"]} for r in log
              if r.get("loss") is not None and r.get("stage")]
    try:
        report = read_report(workspace, job_id)
    except OracleError:
        report = None
    return {"job": job, "stages": stages, "current": current, "progress": progress, "losses": losses,
            "report": report}


def run_job(ctx: Any, spec: ImproveJob) -> dict[str, Any]:
    """The job runner (kind ``improve``, :mod:`oracle.training.run`): :func:`run_pipeline` of
    ``spec.config`` with the job's folder as state folder, its log and its cancel flag."""
    cfg = spec.config
    return run_pipeline(ctx.workspace, cfg, run_id=ctx.job_id, state_dir=ctx.dir, log=ctx.log,
                        should_stop=ctx.should_stop)

