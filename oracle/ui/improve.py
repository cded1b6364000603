"""The "Melhorar o Oráculo" tab: one button runs the whole gated pipeline.

The main view sits above a collapsed "Avançado" accordion holding :mod:`oracle.ui.finetune`
(where each stage still runs alone with all its hyper-parameters). What a domain expert sees:
the data in plain words with its warnings (:func:`oracle.improve.data_summary`), the button, the
run's stages with their state and time and a progress bar, the training loss, the before/after
table in plain Portuguese (:func:`oracle.improve.comparison`) with the promotion decision and its
reason, and the past runs with a rollback (:func:`oracle.improve.rollback`).

Every handler is a thin call into :mod:`oracle.improve` (``start``, ``status``, ``list_runs``,
``rollback``) or :mod:`oracle.jobs` (``cancel``, ``resume``: stage-level resume). A ``gr.Timer``
polls the followed run's files, so the view survives a page reload: the page re-attaches to the
running run, else the newest one.

The run's parameters: :class:`oracle.improve.ImproveConfig`'s defaults, or the config given to
:func:`oracle.ui.create_app` (``improve=``; ``ctx.components["improve_config"]``), with the settings
chosen under "Avançado" that map to its fields (:data:`ADVANCED_SETTINGS`: the controls start from
that config, so one place holds the settings) and the "only reviewed questions" checkbox applied
(:func:`run_config`, a call of :func:`oracle.improve.with_settings`). Before a run, the main view
says how long one would take (:func:`oracle.improve.estimate`, from the same config); the timer
computes it again when the followed run ends (:func:`run_ended`), since the run changed the data and
the measured stage times it stands on.
"""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from oracle import jobs
from oracle.i18n import format_datetime, format_number
from oracle.improve.runs import run_jobs
from oracle.jobs.store import STAGES_FILE
from oracle.ui import guide, widgets
from oracle.ui.context import UIContext, guard, ui_error

POLL_S = 2.0

STATE_ICONS = {"pending": "⏳", "running": "▶️", "completed": "✅", "skipped": "⏭️", "cancelled": "⏹️", "failed": "❌"}
"""Icon in front of a stage's state in the stage list."""

LOSS_SERIES = ("loss", "eval_loss", "mrr@10")
"""Series of the loss plot, named in plain words (``ui.improve.series.<key>``)."""

ADVANCED_SETTINGS: tuple[tuple[str, str], ...] = (
    ("max_chunks", "max_chunks"), ("round_trip_k", "round_trip_k"), ("eval_limit", "eval_limit"),
    ("use_ratings", "use_ratings"), ("eval_fraction", "eval_fraction"),
    ("rank", "lora.rank"), ("alpha", "lora.alpha"), ("dropout", "lora.dropout"),
    ("target_modules", "lora.target_modules"), ("learning_rate", "lora.learning_rate"), ("epochs", "lora.epochs"),
    ("max_seq_len", "lora.max_seq_len"), ("batch_size", "lora.batch_size"), ("grad_accum", "lora.grad_accum"),
    ("k_distractors", "lora.k_distractors"), ("p_no_gold", "lora.p_no_gold"), ("self_check", "lora.self_check"),
    ("gold_order", "lora.gold_order"),
    ("bf16", "lora.bf16"),
    ("embedding_epochs", "embedding.epochs"), ("embedding_batch_size", "embedding.batch_size"),
    ("embedding_learning_rate", "embedding.learning_rate"), ("hard_negatives", "embedding.hard_negatives"),
)
"""The "Avançado" controls (``ctx.components["ft_settings"]``: the run's size, from :func:`build_main`,
and the per-stage form of :func:`oracle.ui.finetune.build`) that feed the main button, and the
:class:`oracle.improve.ImproveConfig` field each one sets. The
"Modelo de partida" control also sets ``student`` when the kind chosen there is the generator
(``lora``); the QA files, the run's name and the prices have no field there."""


def run_config(base_cfg: Any, reviewed_only: bool, kind: str | None, base_model: str | None,
               values: dict[str, Any]) -> Any:
    """The config the main button runs: ``base_cfg`` (None: the defaults) with the "Avançado"
    ``values`` (``{control name: value}``, names of :data:`ADVANCED_SETTINGS`; missing or None ones
    leave the field as it is), the student from ``base_model`` when ``kind`` is ``"lora"``, and
    ``reviewed_only``.

    Raises:
        ConfigError, OracleError: a value out of range (:func:`oracle.improve.with_settings`).
    """
    from oracle.improve import ImproveConfig, with_settings

    settings = {path: values.get(name) for name, path in ADVANCED_SETTINGS}
    if kind == "lora" and base_model:
        settings["student"] = base_model
    settings["reviewed_only"] = bool(reviewed_only)
    return with_settings(base_cfg if base_cfg is not None else ImproveConfig(), settings)


def estimate_markdown(ws, cfg_or_error: Any, lang: str) -> str:
    """The time estimate of a run with that config (:func:`oracle.improve.estimate_text`), or, for
    an :class:`~oracle.errors.OracleError` (settings out of range), its message after ⚠️."""
    from oracle.errors import OracleError
    from oracle.improve import estimate, estimate_text

    if isinstance(cfg_or_error, OracleError):
        return f"⚠️ {cfg_or_error.message(lang)}"
    return estimate_text(estimate(ws, cfg_or_error), lang)


def _state_in(signature: str | None, job_id: str) -> str | None:
    """``job_id``'s state in a tick's signature (:func:`oracle.ui.finetune.job_signature`, whose
    last part is ``<job id>:<state>,...``); None when it is not listed there."""
    for item in (signature or "").rpartition("|")[2].split(","):
        listed, _, state = item.rpartition(":")
        if listed == job_id:
            return state
    return None


def run_ended(job_id: str, sig: str, last: str | None) -> bool:
    """Whether a timer tick must refresh what a run's end changes (the time estimate: the data
    counts and the measured stage times are new): ``sig``, the signature of the tick, shows
    ``job_id`` in a final state (:data:`oracle.jobs.FINAL_STATES`: completed, failed, cancelled,
    interrupted) and ``last``, the signature the page showed before, did not show it in that state
    (it was running, or the page had not seen it yet)."""
    state = _state_in(sig, job_id)
    return state in jobs.FINAL_STATES and state != _state_in(last, job_id)


def followed_job(ws, job_id: str | None = None) -> str | None:
    """The run the page follows: ``job_id`` when it still exists, else the running run, else the
    newest one; None when there was never a run."""
    listed = run_jobs(ws)
    if job_id and any(s.job_id == job_id for s in listed):
        return job_id
    pool = [s for s in listed if s.state in jobs.ACTIVE_STATES] or listed
    return pool[0].job_id if pool else None


def summary_markdown(ctx: UIContext, summary: dict[str, Any], lang: str) -> str:
    """:func:`oracle.improve.data_summary`'s text and warnings as Markdown (one ⚠️ line per warning)."""
    lines = [ctx.t("ui.improve.data", lang, text=summary["text"])]
    lines += [f"- ⚠️ {w}" for w in summary.get("warnings") or []]
    return "\n".join(lines)


def _pct(value: float | None, lang: str) -> str:
    return "–" if value is None else f"{format_number(100 * value, lang, 0)}%"


def _stage_result(ctx: UIContext, stage: dict[str, Any], view: dict[str, Any], lang: str) -> str:
    """What a stage produced, in words; for the running stage its progress bar and count."""
    from oracle.improve.runs import reason_text

    out = stage.get("output") or {}
    state = stage["state"]
    if state == "running" and view.get("current") == stage["name"]:
        prog = view.get("progress") or {}
        if not prog.get("total"):
            return ""
        done, total = int(prog.get("step") or 0), int(prog["total"])
        return (f'<progress max="{total}" value="{done}"></progress> '
                + html.escape(ctx.t("ui.improve.progress", lang, done=format_number(done, lang),
                                    total=format_number(total, lang))))
    if state == "failed":
        return html.escape(stage.get("error") or "")
    if state == "skipped" and out.get("reason"):
        return html.escape(reason_text(out["reason"], out.get("params"), lang))
    if state != "completed":
        return ""
    if stage["name"] == "pairs" and out.get("n_kept") is not None:
        dropped = sum((out.get("rejections") or {}).values())
        return html.escape(ctx.t("ui.improve.out.pairs", lang, kept=format_number(out["n_kept"], lang),
                                 dropped=format_number(dropped, lang)))
    if stage["name"] == "embedder" and out.get("val_before") is not None:
        return html.escape(ctx.t("ui.improve.out.embedder", lang, before=format_number(out["val_before"], lang, 3),
                                 after=format_number(out.get("val_best"), lang, 3)))
    if stage["name"] == "evaluate" and out.get("reason"):
        return html.escape(ctx.t("ui.improve.out.promoted" if out.get("promoted") else "ui.improve.out.kept", lang))
    if stage["name"] == "generator" and out.get("n_train") is not None:
        return html.escape(ctx.t("ui.improve.out.generator", lang, n=format_number(out["n_train"], lang)))
    return ""


def stages_html(ctx: UIContext, view: dict[str, Any] | None, lang: str) -> str:
    """The run's stages as a table: number and name, state (icon and word), time, result (a
    progress bar for the running stage). ``view`` is :func:`oracle.improve.status`; ``""`` for none.
    Rows carry ``data-stage`` and ``data-state``, which the browser test reads."""
    if not view:
        return ""
    head = "".join(f"<th>{html.escape(ctx.t(f'ui.improve.col.{c}', lang))}</th>" for c in ("stage", "state", "time", "result"))
    rows = []
    for n, stage in enumerate(view["stages"], 1):
        state = stage["state"]
        word = ctx.t(f"improve.state.{state}", lang)
        seconds = widgets.format_seconds(stage["seconds"]) if stage.get("seconds") is not None else "–"
        label = ctx.t(f"improve.stage.{stage['name']}", lang)  # the session's language, not the core's
        rows.append(
            f'<tr data-stage="{html.escape(stage["name"])}" data-state="{html.escape(state)}">'
            f"<td>{n}. {html.escape(label)}</td><td>{STATE_ICONS.get(state, '')} {html.escape(word)}</td>"
            f"<td>{html.escape(seconds)}</td><td>{_stage_result(ctx, stage, view, lang)}</td></tr>"
        )
    return (f'<div class="oracle-stages"><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def progress_title(ctx: UIContext, view: dict[str, Any], lang: str) -> str:
    """"Melhorar o Oráculo · etapa 3 de 4: Respostas (adaptador LoRA)" while a stage runs, else the
    plain name."""
    names = [s["name"] for s in view["stages"]]
    current = view.get("current")
    if current in names:
        stage = view["stages"][names.index(current)]
        return ctx.t("ui.improve.title", lang, n=names.index(current) + 1, total=len(names),
                     stage=ctx.t(f"improve.stage.{stage['name']}", lang))
    return ctx.t("ui.improve.title_done", lang)


def loss_records(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The training records of one stage for the plot: the generator's when it logged any, else the
    embedder's (their steps restart at each stage, so one stage is drawn)."""
    for stage in ("generator", "embedder"):
        found = [r for r in log if r.get("stage") == stage and any(r.get(k) is not None for k in LOSS_SERIES)]
        if found:
            return found
    return []


def decision_markdown(ctx: UIContext, report: dict[str, Any] | None, lang: str) -> str:
    """The promotion decision and its reason (``improve.reason.<reason>``), ``""`` before the
    evaluation stage decided."""
    from oracle.improve.runs import reason_text

    if not report or not report.get("reason"):
        return ""
    icon = "✅" if report.get("promoted") else "ℹ️"
    return f"{icon} " + reason_text(report["reason"], report.get("params"), lang)


def comparison_table(ctx: UIContext, report: dict[str, Any] | None, lang: str):
    """The before/after table (:func:`oracle.improve.comparison`) as a dataframe value; None when
    the run has no before/after figures yet."""
    from oracle.improve import comparison
    from oracle.improve.runs import comparison_headers

    if not report or not (report.get("before") and report.get("after")):
        return None
    return widgets.dataframe(comparison(report, lang), comparison_headers(report, lang))


def comparison_caption(ctx: UIContext, report: dict[str, Any] | None, lang: str) -> str:
    """"**Antes e depois** (N perguntas ...)": how many questions the table stands on, and which
    chains it compares (:func:`oracle.improve.runs.chains_text`)."""
    from oracle.improve.runs import chains_text

    ev = (((report or {}).get("stages") or {}).get("evaluate") or {}).get("output") or {}
    caption = ctx.t("ui.improve.comparison", lang, n=format_number(ev.get("n_answerable") or 0, lang),
                    m=format_number(ev.get("n_unanswerable") or 0, lang))
    chains = chains_text(report or {}, lang)
    return f"{caption}\n\n{chains}" if chains else caption


def _run_result(ctx: UIContext, run: dict[str, Any], lang: str) -> str:
    if run["state"] == "completed" and run.get("reason"):
        word = ctx.t("ui.improve.result.promoted" if run["promoted"] else "ui.improve.result.kept", lang)
    else:
        word = ctx.t(f"improve.state.{run['state'] or 'pending'}", lang)
    return f"✅ {word} · {ctx.t('ui.improve.result.in_use', lang)}" if run.get("current") else word


def runs_table(ctx: UIContext, runs: list[dict[str, Any]], lang: str):
    """Past runs (:func:`oracle.improve.list_runs`) with their figures: date (local time), result,
    key-fact accuracy, correct refusals and search MRR@10 before → after, time."""

    def arrow(before, after, fmt) -> str:
        return "–" if before is None and after is None else f"{fmt(before)} → {fmt(after)}"

    mrr = lambda v: "–" if v is None else format_number(v, lang, 3)
    pct = lambda v: _pct(v, lang)
    headers = [ctx.t(f"ui.improve.col.{c}", lang) for c in ("date", "result", "keyfacts", "abstention", "search", "time")]
    rows = [[format_datetime(r["created_at"], lang), _run_result(ctx, r, lang),
             arrow(r["keyfacts_before"], r["keyfacts_after"], pct),
             arrow(r["abstention_before"], r["abstention_after"], pct),
             arrow(r["mrr_before"], r["mrr_after"], mrr), widgets.format_seconds(r["seconds"])] for r in runs]
    return widgets.dataframe(rows, headers)


def rollback_choices(ctx: UIContext, runs: list[dict[str, Any]], lang: str) -> list[tuple[str, str]]:
    """``(label, run_id)`` of the runs one can go back to (their evaluation finished)."""
    return [(f"{format_datetime(r['created_at'], lang)} · {_run_result(ctx, r, lang)}", r["run_id"])
            for r in runs if r["state"] == "completed" and r.get("reason") not in (None, "cancelled")]


def build(ctx: UIContext) -> None:
    """The tab: the main view, then every per-stage control under a collapsed "Avançado"
    (:func:`oracle.ui.finetune.build`), whose settings the main button uses (:func:`build_main`)."""
    build_main(ctx)


def build_main(ctx: UIContext) -> None:
    """The main view: data, button, time estimate, stages, before/after, runs (see the module's
    docstring), then the "Avançado" accordion (:func:`oracle.ui.finetune.build`); the button and the
    estimate read the accordion's settings (:data:`ADVANCED_SETTINGS`)."""
    from oracle import improve
    from oracle.errors import OracleError
    from oracle.ui import finetune
    from oracle.ui.finetune import job_signature, loss_frame, progress_block, series_names

    ws = ctx.workspace
    series = lambda lang: series_names(ctx, lang)
    axes = lambda lang: {"x_title": ctx.t("ui.improve.plot_x", lang), "y_title": ctx.t("ui.improve.plot_y", lang),
                         "color_title": ctx.t("ui.improve.plot_color", lang)}
    gr.Markdown(ctx.k("ui.improve.intro"))
    data = gr.Markdown(elem_id="oracle-improve-data")
    base_cfg = ctx.components.get("improve_config")
    reviewed = gr.Checkbox(value=bool(getattr(base_cfg, "reviewed_only", False)), label=ctx.k("ui.improve.reviewed_only"),
                           info=ctx.k("ui.improve.reviewed_only_info"), elem_id="oracle-improve-reviewed")
    with gr.Row():
        start_btn = gr.Button(ctx.k("ui.improve.start"), variant="primary", scale=2, elem_id="oracle-improve-start")
        cancel_btn = gr.Button(ctx.k("ui.improve.cancel"), variant="stop", scale=1, elem_id="oracle-improve-cancel")
        resume_btn = gr.Button(ctx.k("ui.improve.resume"), scale=1, elem_id="oracle-improve-resume")
    estimate_md = gr.Markdown(elem_id="oracle-improve-estimate")
    # the run this page follows (re-chosen on page load); a hidden field rather than a State, so that
    # a program driving the page (gradio_client) can pass it too
    job = gr.Textbox(visible=False, elem_id="oracle-improve-job")
    seen = gr.State("")  # signature of its files shown last
    progress = gr.HTML(elem_id="oracle-improve-progress")
    stages = gr.HTML(elem_id="oracle-improve-stages")
    with gr.Column(visible=False) as result_box:
        caption = gr.Markdown(elem_id="oracle-improve-caption")
        table = gr.Dataframe(interactive=False, wrap=True, elem_id="oracle-improve-comparison")
    decision = gr.Markdown(elem_id="oracle-improve-decision")
    plot = gr.LinePlot(value=loss_frame([], series(ctx.lang)), x="step", y="value", color="series",
                       label=ctx.k("ui.improve.plot"), visible=False, elem_id="oracle-improve-plot", **axes(ctx.lang))
    gr.Markdown(ctx.k("ui.improve.runs"))
    runs_df = gr.Dataframe(interactive=False, wrap=True, elem_id="oracle-improve-runs")
    no_runs = gr.Markdown(ctx.k("ui.improve.no_runs"), elem_id="oracle-improve-no-runs")
    with gr.Row(equal_height=True):
        target = gr.Dropdown(choices=[], label=ctx.k("ui.improve.rollback_run"), info=ctx.k("ui.improve.rollback_info"),
                             scale=3, elem_id="oracle-improve-rollback-run")
        rollback_btn = gr.Button(ctx.k("ui.improve.rollback"), scale=1, elem_id="oracle-improve-rollback")
    rollback_msg = gr.Markdown(elem_id="oracle-improve-rollback-msg")
    timer = gr.Timer(POLL_S, active=True)
    with gr.Accordion(ctx.k("ui.improve.advanced"), open=False, elem_id="oracle-ft-advanced"):
        gr.Markdown(ctx.k("ui.improve.advanced_note"))
        size_cfg = base_cfg if base_cfg is not None else improve.ImproveConfig()
        with gr.Row():
            max_chunks = gr.Number(size_cfg.max_chunks, precision=0, minimum=0, label=ctx.k("ui.improve.max_chunks"),
                                   info=ctx.k("ui.improve.max_chunks_info"), elem_id="oracle-improve-max-chunks")
            round_trip_k = gr.Number(size_cfg.round_trip_k, precision=0, minimum=0,
                                     label=ctx.k("ui.improve.round_trip_k"),
                                     info=ctx.k("ui.improve.round_trip_k_info"),
                                     elem_id="oracle-improve-round-trip-k")
            eval_limit = gr.Number(size_cfg.eval_limit, precision=0, minimum=0, label=ctx.k("ui.improve.eval_limit"),
                                   info=ctx.k("ui.improve.eval_limit_info"), elem_id="oracle-improve-eval-limit")
        finetune.build(ctx)
    # the per-stage form left its controls there (finetune.build); the run's size joins them
    controls = {**ctx.components["ft_settings"], "max_chunks": max_chunks, "round_trip_k": round_trip_k,
                "eval_limit": eval_limit}
    names = [name for name, _ in ADVANCED_SETTINGS]
    settings_inputs = [reviewed, controls["kind"], controls["base"], *(controls[name] for name in names)]

    def config_from(reviewed_only: bool, kind: str, base_model: str, *values) -> Any:
        """:func:`run_config` of the values of ``settings_inputs``."""
        return run_config(base_cfg, reviewed_only, kind, base_model, dict(zip(names, values)))

    def view_outputs(job_id: str | None, lang: str) -> tuple:
        """Everything that shows the followed run and the list of runs (see ``view`` below)."""
        view = improve.status(ws, job_id) if job_id else None
        report = view["report"] if view else None
        records = loss_records(jobs.read_log(ws, job_id)) if job_id else []
        comp = comparison_table(ctx, report, lang)
        runs = improve.list_runs(ws)
        return (
            job_id or "",
            progress_block(ctx, view["job"], lang, title=progress_title(ctx, view, lang), speed=False) if view else "",
            stages_html(ctx, view, lang),
            gr.Column(visible=comp is not None),
            comparison_caption(ctx, report, lang),
            comp if comp is not None else gr.skip(),
            decision_markdown(ctx, report, lang),
            gr.LinePlot(value=loss_frame(records, series(lang)), visible=bool(records), **axes(lang)),
            gr.Dataframe(value=runs_table(ctx, runs, lang), visible=bool(runs)),
            gr.Markdown(visible=not runs),
            gr.Dropdown(choices=rollback_choices(ctx, runs, lang)),
            summary_markdown(ctx, improve.data_summary(ws, lang), lang),
        )

    view = [job, progress, stages, result_box, caption, table, decision, plot, runs_df, no_runs, target, data]

    @guard
    def start(reviewed_only: bool, *rest):
        *values, lang = rest
        try:
            cfg = config_from(reviewed_only, *values)
            job_id = improve.start(ws, cfg)
        except Exception as err:  # noqa: BLE001 - the session's language (guard cannot find it in *rest)
            raise ui_error(err, lang) from None
        return view_outputs(job_id, lang)

    def estimate_for(settings: list, lang: str) -> str:
        """The estimate for ``settings`` (values of ``settings_inputs``, as on the page); an
        invalid one says what to fix."""
        try:
            cfg = config_from(*settings)
        except OracleError as err:
            cfg = err
        return estimate_markdown(ws, cfg, lang)

    @guard
    def show_estimate(reviewed_only: bool, *rest):
        """The estimate for the settings now on the page (an invalid one says what to fix)."""
        *values, lang = rest
        return estimate_for([reviewed_only, *values], lang)

    @guard
    def cancel(job_id: str, lang: str):
        status = jobs.get_job(ws, job_id) if job_id else None
        if status is None or status.state not in (jobs.RUNNING, jobs.QUEUED):
            raise gr.Error(ctx.t("ui.improve.no_run_to_cancel", lang), print_exception=False)
        jobs.cancel(ws, job_id)
        return view_outputs(job_id, lang)

    @guard
    def resume(job_id: str, lang: str):
        if not job_id:
            raise gr.Error(ctx.t("ui.improve.no_run_to_resume", lang), print_exception=False)
        jobs.resume(ws, job_id)
        return view_outputs(job_id, lang)

    @guard
    def poll(job_id: str, last: str, lang: str, *settings):
        """Timer tick: refresh only when the run's files changed (nothing the person picked is reset
        otherwise). ``last`` is the signature shown before, ``settings`` the values of
        ``settings_inputs`` now on the page. When the run has just ended (:func:`run_ended`) the time
        estimate is computed again from those settings (the data and the measured stage times
        changed); the data summary is part of ``view``. Returns ``view``'s outputs, the estimate and
        the new signature."""
        if not job_id:
            return (gr.skip(),) * (len(view) + 1) + (last,)
        sig = job_signature(ws, job_id, extra=(STAGES_FILE,))
        if sig == last:
            return (gr.skip(),) * (len(view) + 1) + (last,)
        outs = view_outputs(job_id, lang)
        same_jobs = sig.rpartition("|")[2] == (last or "").rpartition("|")[2]
        keep = {view.index(target)} if same_jobs else set()  # the rollback choice stays while nothing finished
        estimate = estimate_for(settings, lang) if run_ended(job_id, sig, last) else gr.skip()
        return tuple(gr.skip() if i in keep else o for i, o in enumerate(outs)) + (estimate, sig)

    @guard
    def do_rollback(run_id: str | None, lang: str, progress=gr.Progress()):  # noqa: B008 - gradio's API
        if not run_id:
            raise gr.Error(ctx.t("ui.improve.pick_run", lang), print_exception=False)
        progress(0, desc=ctx.t("ui.improve.rolling_back", lang))
        now = improve.rollback(ws, run_id)
        run = next((r for r in improve.list_runs(ws) if r["run_id"] == run_id), {})
        message = ctx.t("ui.improve.rolled_back", lang, date=format_datetime(run.get("created_at"), lang),
                        generator=now.get("generator") or "–",
                        adapter=now.get("adapter") or ctx.t("ui.improve.no_adapter", lang))
        runs = improve.list_runs(ws)
        return (gr.Dataframe(value=runs_table(ctx, runs, lang), visible=bool(runs)),
                gr.Dropdown(choices=rollback_choices(ctx, runs, lang)), message)

    @guard
    def on_load(lang: str, job_id: str | None = None):
        return view_outputs(followed_job(ws, job_id), lang)

    @guard
    def on_show(job_id: str | None, lang: str):
        return on_load(lang, job_id)

    guide.after(ctx, start_btn.click(start, inputs=[*settings_inputs, ctx.lang_state], outputs=view,
                                     api_name="improve_start"))
    gr.on([c.change for c in settings_inputs], show_estimate, inputs=[*settings_inputs, ctx.lang_state],
          outputs=[estimate_md], api_name="improve_estimate", show_progress="hidden")
    cancel_btn.click(cancel, inputs=[job, ctx.lang_state], outputs=view, api_name="improve_cancel")
    resume_btn.click(resume, inputs=[job, ctx.lang_state], outputs=view, api_name="improve_resume")
    timer.tick(poll, inputs=[job, seen, ctx.lang_state, *settings_inputs], outputs=[*view, estimate_md, seen],
               api_name="improve_poll", show_progress="hidden", concurrency_limit=None)
    rollback_btn.click(do_rollback, inputs=[target, ctx.lang_state], outputs=[runs_df, target, rollback_msg],
                       api_name="improve_rollback")
    ctx.on_load(on_load, view, api_name="improve_load")
    ctx.on_show(on_show, view, api_name="improve_show", inputs=[job])
    ctx.on_load(show_estimate, [estimate_md], api_name="improve_estimate_load", inputs=settings_inputs)
    ctx.on_show(show_estimate, [estimate_md], api_name="improve_estimate_show", inputs=settings_inputs)
