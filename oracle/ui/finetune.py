"""The "Avançado" part of the "Melhorar o Oráculo" tab (:mod:`oracle.ui.improve` builds the tab and
puts this in its collapsed accordion): the embedder or the generator fine-tuned alone on the
workspace's data, with every hyper-parameter.

Every long action is a background job of :mod:`oracle.jobs` (its own process, one at a time,
others queued): training (``lora``/``embedding``), the cost estimate (``estimate``: loads the
model and times two real steps), merging (``merge``) and re-indexing with a fine-tuned
embedder (``reindex``). A ``gr.Timer`` polls the selected job's files (``status.json``,
``log.jsonl``), so the live loss plot, progress bar and log survive a page reload; a
supervisor thread (:func:`oracle.jobs.start_supervisor`) starts queued jobs and enforces
cancel. Pushing to the Hub runs in the request (the token field is passed straight to
:func:`oracle.training.export.push_to_hub` and never stored).
"""

import html
import logging
import math
from pathlib import Path
from typing import Any

import gradio as gr

from oracle import jobs
from oracle.config import DEFAULT_INDEX
from oracle.errors import JobError
from oracle.i18n import current_lang, format_datetime, format_money, format_number
from oracle.ui import widgets
from oracle.ui.context import UIContext, guard

logger = logging.getLogger(__name__)

POLL_S = 2.0
LOG_LINES = 12


def _fmt(value: Any, digits: int = 4, lang: str | None = None) -> str:
    """A metric for the tab: ``digits`` significant digits with ``lang``'s decimal mark
    (``0.537`` -> ``"0,537"`` in Portuguese), ``"–"`` for None or NaN; other values as ``str``."""
    if value is None:
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        text = f"{value:.{digits}g}"
        return text.replace(".", ",") if current_lang(lang) == "pt" else text
    return str(value)


def qa_file_choices(ws) -> list[str]:
    from oracle.training.data import qa_files

    return [p.name for p in qa_files(ws)]


def job_choices(ctx: UIContext, lang: str) -> list[tuple[str, str]]:
    out = []
    for s in jobs.list_jobs(ctx.workspace):
        label = f"{format_datetime(s.created_at, lang)} · {s.kind} · {s.name or '-'} · {ctx.t('ui.ft.state.' + s.state, lang)}"
        out.append((label, s.job_id))
    return out


def jobs_table(ctx: UIContext, lang: str):
    headers = [ctx.t(f"ui.ft.col.{c}", lang) for c in ("job", "kind", "name", "state", "progress", "loss", "eval_loss", "created")]
    rows = []
    for s in jobs.list_jobs(ctx.workspace):
        rows.append([s.job_id, s.kind, s.name, ctx.t("ui.ft.state." + s.state, lang), f"{s.step}/{s.total or '?'}",
                     _fmt(s.loss, lang=lang), _fmt(s.eval_loss, lang=lang), format_datetime(s.created_at, lang, seconds=True)])
    return widgets.dataframe(rows, headers)


def runs_table(ctx: UIContext, lang: str):
    """Every run (:func:`oracle.training.card.list_runs`: ``adapters/`` and ``embedders/``) with its metrics."""
    from oracle.training.card import list_runs

    headers = [ctx.t(f"ui.ft.col.{c}", lang) for c in ("name", "kind", "base", "examples", "before", "after", "time", "cost")]
    rows = []
    for run in list_runs(ctx.workspace):
        m = run.metrics
        if run.kind == "embedding":
            before = f"MRR@10 {_fmt(m.get('before', {}).get('mrr@10'), 3, lang=lang)} · hit@1 {_fmt(m.get('before', {}).get('hit@1'), 3, lang=lang)}"
            after = f"MRR@10 {_fmt(m.get('after', {}).get('mrr@10'), 3, lang=lang)} · hit@1 {_fmt(m.get('after', {}).get('hit@1'), 3, lang=lang)}"
            if m.get("improved") is False:
                after += f" · ⚠️ {ctx.t('ui.ft.no_gain', lang)}"
            n = run.data.get("n_train_pairs")
        else:
            before = ctx.t("ui.ft.heldout_loss", lang, value=_fmt(m.get("eval_loss_before"), 4, lang=lang))
            after = ctx.t("ui.ft.heldout_loss", lang, value=_fmt(m.get("eval_loss"), 4, lang=lang))
            n = run.data.get("n_train")
        cost = run.cost or {}
        money = (f"{format_money(cost['brl'], lang)} ({format_money(cost.get('usd'), lang, 'US$')})"
                 if cost.get("brl") is not None else "–")  # fmt: skip
        rows.append([run.display_name, run.kind, run.base_model or "?", n,
                     before, after, widgets.format_seconds(run.wall_time_s), money])
    return widgets.dataframe(rows, headers)


def run_choices(ctx: UIContext, kind: str | None = None) -> list[str]:
    """Folder names of the runs (:func:`oracle.training.card.list_runs`), of ``kind`` if given."""
    from oracle.training.card import list_runs

    return [run.folder.name for run in list_runs(ctx.workspace, kind)]


PLOT_SERIES = ("loss", "eval_loss", "mrr@10")


def series_names(ctx: UIContext, lang: str | None) -> dict[str, str]:
    """The plot's legend in ``lang``: each key of :data:`PLOT_SERIES` in plain words
    (``ui.improve.series.<key>``: "erro no treino", ...), the same words as the main view's plot."""
    return {key: ctx.t(f"ui.improve.series.{key}", lang) for key in PLOT_SERIES}


def loss_frame(records: list[dict], names: dict[str, str] | None = None):
    """Long-format DataFrame for ``gr.LinePlot``: step (int), value (float), series (one of
    :data:`PLOT_SERIES`, or its name in ``names`` when given: the legend's words).

    gradio's plot builds its chart (axis types, colour of each series) once, from the first
    frame it gets, and later only swaps the data: a series missing then would never be drawn,
    and an empty frame of untyped columns would make both axes categorical for good. So the
    columns are always typed and every series is present: one without data yet has a single
    empty point (value NaN, which the chart skips)."""
    import pandas as pd

    rows = []
    for r in records:
        for key in PLOT_SERIES:
            if r.get(key) is not None and r.get("step") is not None:
                rows.append({"step": int(r["step"]), "value": float(r[key]), "series": key})
    present = {row["series"] for row in rows}
    rows += [{"step": 0, "value": math.nan, "series": key} for key in PLOT_SERIES if key not in present]
    if names:
        rows = [{**row, "series": names.get(row["series"], row["series"])} for row in rows]
    return pd.DataFrame({
        "step": pd.Series([r["step"] for r in rows], dtype="int64"),
        "value": pd.Series([r["value"] for r in rows], dtype="float64"),
        "series": pd.Series([r["series"] for r in rows], dtype="str"),
    })


def progress_block(ctx: UIContext, status: jobs.JobStatus | None, lang: str, title: str | None = None,
                   speed: bool = True) -> str:
    """The job's progress bar and state in words (``""`` for no job), after ``title`` (default
    ``"<kind> · <name>"``), with the training speed in tokens/s when ``speed``. The outer element carries ``data-job`` (job id), ``data-state``,
    ``data-done`` and ``data-total`` (optimizer steps), which the browser test and
    ``bench/app_finetune.py`` read."""
    if status is None:
        return ""
    parts = [title or f"{status.kind} · {status.name or status.job_id}", ctx.t("ui.ft.state." + status.state, lang)]
    if status.total:
        parts.append(ctx.t("ui.ft.count", lang, done=status.step, total=status.total))
    if speed and status.tokens_per_s:
        parts.append(f"{status.tokens_per_s:.0f} tokens/s")
    if status.state == jobs.RUNNING and status.eta_s is not None:
        parts.append(ctx.t("ui.task.eta", lang, eta=widgets.format_seconds(status.eta_s)))
    detail = status.error_message(lang) if status.state == jobs.FAILED else ""
    pct = round(100 * status.fraction)
    return (
        f'<div class="oracle-progress" data-job="{html.escape(status.job_id)}" data-state="{html.escape(status.state)}" '
        f'data-done="{status.step}" data-total="{status.total}"><progress max="100" value="{pct}"></progress> '
        f"<span>{html.escape(' · '.join(parts))}</span>"
        + (f'<div class="oracle-progress-detail">{html.escape(detail)}</div>' if detail else "")
        + "</div>"
    )


def embedding_notes(ctx: UIContext, metrics: dict, lang: str) -> str:
    """Markdown on how an embedding run chose its kept epoch (validation, or the last epoch and
    why) followed by the not-improved warning when it applies (:func:`not_improved_warning`);
    ``metrics`` is ``train.json``'s (:func:`oracle.training.embedding.train_embedder`)."""
    from oracle.training.embedding import MIN_TRAIN_FOR_VALIDATION, outcome

    o = outcome(metrics)
    parts = []
    if o["selection"] == "validation_mrr@10":
        parts.append(ctx.t("ui.ft.embedding_kept_val", lang, epoch=_fmt(o["kept_epoch"], 3, lang=lang),
                           n=metrics.get("n_val_queries", "?"), base=_fmt(o["val_before"], 3, lang=lang),
                           best=_fmt(o["val_best"], 3, lang=lang)))
    elif o["selection"] == "last_epoch":
        reason = ctx.t(f"train.no_val.{metrics.get('selection_reason') or 'no_evaluation'}", lang,
                       min=MIN_TRAIN_FOR_VALIDATION)
        parts.append(ctx.t("ui.ft.embedding_kept_last", lang, epoch=_fmt(o["kept_epoch"], 3, lang=lang), reason=reason))
    warning = not_improved_warning(ctx, metrics, lang)
    if warning:
        parts.append(warning)
    return "\n\n".join(parts)


def not_improved_warning(ctx: UIContext, metrics: dict, lang: str) -> str:
    """The warning that a tuned embedder did not beat the base model and re-indexing with it is
    not recommended, when ``metrics["improved"]`` is False; ``""`` otherwise (improved, or a run
    with no verdict)."""
    from oracle.training.embedding import outcome

    o = outcome(metrics)
    if o["improved"] is not False:
        return ""
    return ctx.t("ui.ft.embedding_not_improved", lang, test_before=_fmt(o["test_before"], 3, lang=lang),
                 test_after=_fmt(o["test_after"], 3, lang=lang), val_before=_fmt(o["val_before"], 3, lang=lang),
                 val_best=_fmt(o["val_best"], 3, lang=lang))


def reindex_warning(ctx: UIContext, embedder: str | None, lang: str) -> str:
    """Plain-text warning for re-indexing with ``embedder`` (a folder) when its run card
    (:class:`oracle.training.card.RunCard`) says the fine-tune did not improve on the base model;
    ``""`` for an improved run, a bundled or hub model, or a folder without a card."""
    from oracle.training.card import RunCard
    from oracle.training.embedding import outcome

    card = RunCard.load(embedder, missing_ok=True) if embedder else None
    if card is None or card.kind != "embedding":
        return ""
    o = outcome(card.metrics)
    if o["improved"] is not False:
        return ""
    return ctx.t("ui.ft.reindex_not_recommended", lang, name=card.name or Path(embedder).name,
                 test_before=_fmt(o["test_before"], 3, lang=lang), test_after=_fmt(o["test_after"], 3, lang=lang))


def result_markdown(ctx: UIContext, status: jobs.JobStatus | None, lang: str) -> str:
    """What a finished job produced, in words (estimate, adapter, metrics, merge, re-index). An
    embedding run also says which epoch was kept and how, and warns when it did not beat the
    base model; a re-index with such a model repeats the warning."""
    if status is None or status.state != jobs.COMPLETED:
        return ""
    r = status.result
    if status.kind == "estimate":
        return ctx.t("ui.ft.estimate_result", lang, steps=r.get("steps"), tokens=r.get("tokens"),
                     time=widgets.format_seconds(r.get("seconds")), tps=_fmt(r.get("tokens_per_s"), 3, lang=lang),
                     usd=format_number(r.get("usd", 0), lang, 3), brl=format_number(r.get("brl", 0), lang, 3),
                     rate=format_number(r.get("usd_brl"), lang, 4) if r.get("usd_brl") is not None else "?",
                     source=r.get("rate_source", "?"), n=r.get("n_train"))
    if status.kind == "lora":
        m = r.get("metrics", {})
        return ctx.t("ui.ft.lora_result", lang, name=r.get("name"), before=_fmt(m.get("eval_loss_before"), lang=lang),
                     after=_fmt(m.get("eval_loss"), lang=lang), time=widgets.format_seconds(r.get("wall_time_s")),
                     brl=format_number((r.get("cost") or {}).get("brl", 0), lang, 2))
    if status.kind == "embedding":
        m = r.get("metrics", {})
        b, a = m.get("before", {}), m.get("after", {})
        text = ctx.t("ui.ft.embedding_result", lang, name=r.get("name"),
                     before=" · ".join(f"{k} {_fmt(b.get(k), 3, lang=lang)}" for k in ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10")),
                     after=" · ".join(f"{k} {_fmt(a.get(k), 3, lang=lang)}" for k in ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10")))
        notes = embedding_notes(ctx, m, lang)
        return f"{text}\n\n{notes}" if notes else text
    if status.kind == "merge":
        return ctx.t("ui.ft.merge_result", lang, path=r.get("merged_dir"))
    if status.kind == "reindex":
        text = ctx.t("ui.ft.reindex_result", lang, index=r.get("index"), n=r.get("n_chunks"), embedder=r.get("embedder"))
        warning = reindex_warning(ctx, r.get("embedder"), lang)
        return f"{text}\n\n{warning}" if warning else text
    return ""


def job_signature(ws, job_id: str, extra: tuple[str, ...] = ()) -> str:
    """What a timer tick compares to know whether a job's view must be redrawn:
    ``<job>|<mtime_ns:size of status.json, log.jsonl and each of extra>|<job id:state,...>`` (the
    last part lists every job's state, so a job added or finished elsewhere changes it too)."""
    folder = jobs.job_dir(ws, job_id)
    parts = []
    for name in (jobs.STATUS_FILE, jobs.LOG_FILE, *extra):
        try:
            st = (folder / name).stat()
            parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            parts.append("-")
    states = ",".join(f"{s.job_id}:{s.state}" for s in jobs.list_jobs(ws))
    return f"{job_id}|{'|'.join(parts)}|{states}"


def poll_updates(outs: tuple, sig: str, last: str) -> tuple:
    """What a timer tick sends once the selected job's files changed: ``outs`` are the 8 fresh
    outputs of the tab's job view (job dropdown, progress, plot, log, jobs table, result, runs
    table, result dropdown), ``sig``/``last`` the new and the shown signatures
    (``<job>|<file stamps>|<job id:state,...>``). The two dropdowns are only re-sent when the
    set of jobs or a job's state changed (a finished run adds a result to export, merge or
    re-index); otherwise they are skipped so nothing the person opened or picked is reset.
    The job dropdown goes out with its choices only, never a value: a tick sent with the job
    selected before a click (an estimate) and answered after the click's own update (a training
    just started) would otherwise put the old job back and the page would follow it (seen in the
    browser test). Returns the 8 outputs followed by ``sig`` (the new ``seen`` state)."""
    same_jobs = sig.rpartition("|")[2] == (last or "").rpartition("|")[2]
    job = outs[0]
    if isinstance(job, gr.Dropdown):  # choices only: the person's (or the last click's) pick stays
        job = gr.Dropdown(choices=job.constructor_args.get("choices"))
    return (gr.skip() if same_jobs else job, *outs[1:7], gr.skip() if same_jobs else outs[7], sig)


def build(ctx: UIContext) -> None:
    """The per-stage form, jobs and results (call inside the tab's "Avançado" accordion). The
    controls that match a field of :class:`oracle.improve.ImproveConfig` start from the main button's
    config and are left in ``ctx.components["ft_settings"]`` (name -> component), so the main button
    runs with them (:func:`oracle.ui.improve.build_main`)."""
    from oracle.improve import ImproveConfig
    from oracle.training.data import GOLD_ORDERS
    from oracle.training.embedding import EmbedTrainConfig
    from oracle.training.lora import LoraTrainConfig

    ws = ctx.workspace
    jobs.start_supervisor(ws)
    improve_cfg = ctx.components.get("improve_config") or ImproveConfig()  # what the main button runs
    lora_defaults, emb_defaults = improve_cfg.lora, improve_cfg.embedding
    gr.Markdown(ctx.k("ui.ft.intro"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            kind = gr.Radio(choices=[(ctx.t("ui.ft.kind.embedding"), "embedding"), (ctx.t("ui.ft.kind.lora"), "lora")],
                            value="lora", label=ctx.k("ui.ft.kind"), info=ctx.k("ui.ft.kind_info"), elem_id="oracle-ft-kind")
            files = gr.Dropdown(choices=[], multiselect=True, label=ctx.k("ui.ft.files"), info=ctx.k("ui.ft.files_info"),
                                elem_id="oracle-ft-files")
            use_ratings = gr.Checkbox(value=improve_cfg.use_ratings, label=ctx.k("ui.ft.use_ratings"), info=ctx.k("ui.ft.use_ratings_info"),
                                      elem_id="oracle-ft-use-ratings")
            base = gr.Dropdown(choices=widgets.bundled_generators(), value=improve_cfg.student,
                               allow_custom_value=True, label=ctx.k("ui.ft.base"), info=ctx.k("ui.ft.base_info"),
                               elem_id="oracle-ft-base")
            name = gr.Textbox(label=ctx.k("ui.ft.name"), placeholder=ctx.k("ui.ft.name_placeholder"),
                              elem_id="oracle-ft-name")
            data_info = gr.Markdown(elem_id="oracle-ft-data")
        with gr.Column(scale=1):
            with gr.Group(visible=True) as lora_box:
                with gr.Row():
                    rank = gr.Number(lora_defaults.rank, precision=0, label=ctx.k("ui.ft.p.rank"), info=ctx.k("ui.ft.help.rank"), elem_id="oracle-ft-rank")
                    alpha = gr.Number(lora_defaults.alpha, precision=0, label=ctx.k("ui.ft.p.alpha"), info=ctx.k("ui.ft.help.alpha"), elem_id="oracle-ft-alpha")
                    dropout = gr.Number(lora_defaults.dropout, label=ctx.k("ui.ft.p.dropout"), info=ctx.k("ui.ft.help.dropout"))
                target = gr.Textbox(lora_defaults.target_modules, label=ctx.k("ui.ft.p.target"), info=ctx.k("ui.ft.help.target_modules"))
                with gr.Row():
                    lr = gr.Number(lora_defaults.learning_rate, label=ctx.k("ui.ft.p.lr"), info=ctx.k("ui.ft.help.learning_rate"), elem_id="oracle-ft-lr")
                    epochs = gr.Number(lora_defaults.epochs, label=ctx.k("ui.ft.p.epochs"), info=ctx.k("ui.ft.help.epochs"), elem_id="oracle-ft-epochs")
                    max_len = gr.Number(lora_defaults.max_seq_len, precision=0, label=ctx.k("ui.ft.p.max_len"), info=ctx.k("ui.ft.help.max_seq_len"), elem_id="oracle-ft-max-len")
                with gr.Row():
                    batch = gr.Number(lora_defaults.batch_size, precision=0, label=ctx.k("ui.ft.p.batch"), info=ctx.k("ui.ft.help.batch_size"), elem_id="oracle-ft-batch")
                    accum = gr.Number(lora_defaults.grad_accum, precision=0, label=ctx.k("ui.ft.p.accum"), info=ctx.k("ui.ft.help.grad_accum"), elem_id="oracle-ft-accum")
                    k_dist = gr.Number(lora_defaults.k_distractors, precision=0, label=ctx.k("ui.ft.p.k"), info=ctx.k("ui.ft.help.k_distractors"), elem_id="oracle-ft-k")
                with gr.Row():
                    p_no_gold = gr.Slider(0, 1, lora_defaults.p_no_gold, step=0.05, label=ctx.k("ui.ft.p.p_no_gold"), info=ctx.k("ui.ft.help.p_no_gold"))
                    self_check = gr.Slider(0, 1, lora_defaults.self_check, step=0.05, label=ctx.k("ui.ft.p.self_check"),
                                           info=ctx.k("ui.ft.help.self_check"), elem_id="oracle-ft-self-check")
                    gold_order = gr.Radio([(ctx.t(f"ui.ft.gold_order.{v}"), v) for v in GOLD_ORDERS],
                                          value=lora_defaults.gold_order, label=ctx.k("ui.ft.p.gold_order"),
                                          info=ctx.k("ui.ft.help.gold_order"), elem_id="oracle-ft-gold-order")
                    bf16 = gr.Radio([(ctx.t(f"ui.ft.bf16.{v}"), v) for v in ("auto", "on", "off")],
                                    value=lora_defaults.bf16, label=ctx.k("ui.ft.p.bf16"), info=ctx.k("ui.ft.help.bf16"),
                                    elem_id="oracle-ft-bf16")
            with gr.Group(visible=False) as emb_box:
                with gr.Row():
                    e_epochs = gr.Number(emb_defaults.epochs, label=ctx.k("ui.ft.p.epochs"), info=ctx.k("ui.ft.help.epochs"))
                    e_batch = gr.Number(emb_defaults.batch_size, precision=0, label=ctx.k("ui.ft.p.batch"), info=ctx.k("ui.ft.help.batch_size"))
                with gr.Row():
                    e_lr = gr.Number(emb_defaults.learning_rate, label=ctx.k("ui.ft.p.lr"), info=ctx.k("ui.ft.help.learning_rate"))
                    e_neg = gr.Number(emb_defaults.hard_negatives, precision=0, label=ctx.k("ui.ft.p.negatives"), info=ctx.k("ui.ft.help.hard_negatives"))
            eval_fraction = gr.Slider(0, 0.5, improve_cfg.eval_fraction, step=0.05, label=ctx.k("ui.ft.p.eval_fraction"), info=ctx.k("ui.ft.help.eval_fraction"),
                                      elem_id="oracle-ft-eval-fraction")
            with gr.Row():
                price = gr.Number(value=_cost_default("hourly_price_usd"), label=ctx.k("ui.ft.price"), info=ctx.k("ui.ft.price_info"))
                fx = gr.Number(value=_cost_default("fallback_usd_brl"), label=ctx.k("ui.ft.fx"), info=ctx.k("ui.ft.fx_info"))
    ctx.components["ft_settings"] = {
        "kind": kind, "base": base, "use_ratings": use_ratings, "eval_fraction": eval_fraction,
        "rank": rank, "alpha": alpha, "dropout": dropout, "target_modules": target, "learning_rate": lr,
        "epochs": epochs, "max_seq_len": max_len, "batch_size": batch, "grad_accum": accum, "k_distractors": k_dist,
        "p_no_gold": p_no_gold, "self_check": self_check, "gold_order": gold_order, "bf16": bf16, "embedding_epochs": e_epochs, "embedding_batch_size": e_batch,
        "embedding_learning_rate": e_lr, "hard_negatives": e_neg,
    }
    with gr.Row():
        estimate_btn = gr.Button(ctx.k("ui.ft.estimate"), elem_id="oracle-ft-estimate")
        start_btn = gr.Button(ctx.k("ui.ft.start"), variant="primary", elem_id="oracle-ft-start")
        cancel_btn = gr.Button(ctx.k("ui.ft.cancel"), variant="stop", elem_id="oracle-ft-cancel")
        resume_btn = gr.Button(ctx.k("ui.ft.resume"), elem_id="oracle-ft-resume")
    job = gr.Dropdown(choices=[], label=ctx.k("ui.ft.job"), info=ctx.k("ui.ft.job_info"), elem_id="oracle-ft-job")
    progress = gr.HTML(elem_id="oracle-ft-progress")
    result = gr.Markdown(elem_id="oracle-ft-result")
    plot = gr.LinePlot(value=loss_frame([], series_names(ctx, ctx.lang)), x="step", y="value", color="series",
                       label=ctx.k("ui.ft.plot"),
                       x_title=ctx.t("ui.improve.plot_x"), y_title=ctx.t("ui.improve.plot_y"),
                       color_title=ctx.t("ui.improve.plot_color"), elem_id="oracle-ft-plot")
    log = gr.Code(label=ctx.k("ui.ft.log"), language="json", lines=6, interactive=False, elem_id="oracle-ft-log")
    timer = gr.Timer(POLL_S, active=True)
    seen = gr.State("")  # signature of the job files shown last (see poll)
    with gr.Accordion(ctx.k("ui.ft.jobs"), open=False):
        jobs_df = gr.Dataframe(value=jobs_table(ctx, ctx.lang), interactive=False, wrap=True, elem_id="oracle-ft-jobs")
    gr.Markdown(ctx.k("ui.ft.runs_title"))
    runs_df = gr.Dataframe(value=runs_table(ctx, ctx.lang), interactive=False, wrap=True, elem_id="oracle-ft-runs")
    with gr.Accordion(ctx.k("ui.ft.export_title"), open=False):
        run = gr.Dropdown(choices=[], label=ctx.k("ui.ft.run"), allow_custom_value=False, elem_id="oracle-ft-run")
        with gr.Row():
            merge_btn = gr.Button(ctx.k("ui.ft.merge"))
            reindex_btn = gr.Button(ctx.k("ui.ft.reindex"))
        with gr.Row():
            fmt = gr.Radio(["alpaca", "sharegpt"], value="alpaca", label=ctx.k("ui.ft.format"))
            export_btn = gr.Button(ctx.k("ui.ft.export_data"))
            export_file = gr.File(label=ctx.k("ui.ft.export_file"), interactive=False)
        with gr.Row():
            repo = gr.Textbox(label=ctx.k("ui.ft.repo"), placeholder="usuario/oraculo-lora")
            token = gr.Textbox(label=ctx.k("ui.ft.token"), type="password", info=ctx.k("ui.ft.token_info"))
            private = gr.Checkbox(value=True, label=ctx.k("ui.ft.private"))
        push_btn = gr.Button(ctx.k("ui.ft.push"))
        export_msg = gr.Markdown(elem_id="oracle-ft-export-msg")

    # --- handlers --------------------------------------------------------------------

    def data_summary(file_names, ratings: bool, frac: float, lang: str) -> str:
        from oracle.training.data import load_examples, split_examples

        chosen = list(file_names or [])
        src = load_examples(ws, chosen if chosen else None, bool(ratings))
        train, held = split_examples(src.examples, float(frac or 0.0))
        return ctx.t("ui.ft.data_summary", lang, n=len(src.examples), ratings=src.n_ratings, train=len(train),
                     held=len(held), invalid=src.n_invalid, rejected=src.n_rejected)

    def lora_config(*values) -> LoraTrainConfig:
        """The LoRA fields of the form as a config (ConfigError now: before any job starts)."""
        keys = ("rank", "alpha", "dropout", "target_modules", "learning_rate", "epochs", "max_seq_len", "batch_size",
                "grad_accum", "k_distractors", "p_no_gold", "self_check", "gold_order", "bf16", "eval_fraction")
        cfg = dict(zip(keys, values))
        for k in ("rank", "alpha", "max_seq_len", "batch_size", "grad_accum", "k_distractors"):
            cfg[k] = int(cfg[k])
        return LoraTrainConfig.from_dict(cfg)

    def emb_config(e_ep, e_b, e_l, e_n, frac) -> EmbedTrainConfig:
        return EmbedTrainConfig(epochs=float(e_ep), batch_size=int(e_b), learning_rate=float(e_l),
                                hard_negatives=int(e_n), eval_fraction=float(frac))

    def cost_config(p, f):
        from oracle.training.cost import CostConfig

        return CostConfig(hourly_price_usd=float(p or 0.0), fallback_usd_brl=float(f or 0.0))

    lora_inputs = [rank, alpha, dropout, target, lr, epochs, max_len, batch, accum, k_dist, p_no_gold, self_check,
                   gold_order, bf16, eval_fraction]
    emb_inputs = [e_epochs, e_batch, e_lr, e_neg, eval_fraction]
    common = [kind, files, use_ratings, base, name]

    @guard
    def start(kind_v, file_names, ratings, base_v, name_v, *rest):
        from oracle.training.specs import EmbeddingJob, LoraJob

        *params, p, f, lang = rest
        lora_vals, emb_vals = params[: len(lora_inputs)], params[len(lora_inputs):]
        chosen = list(file_names or []) or None
        label = (name_v or "").strip() or None
        if kind_v == "embedding":
            spec = EmbeddingJob(base_embedder=base_v or None, name=label, files=chosen, use_ratings=bool(ratings),
                                index_name=DEFAULT_INDEX, config=emb_config(*emb_vals))
        else:
            spec = LoraJob(base_model=base_v, name=label, files=chosen, use_ratings=bool(ratings),
                           index_name=DEFAULT_INDEX, config=lora_config(*lora_vals), cost=cost_config(p, f))
        status = jobs.submit(ws, spec, name=label or "")
        return _job_outputs(status.job_id, lang)

    @guard
    def estimate(kind_v, file_names, ratings, base_v, name_v, *rest):
        *params, p, f, lang = rest
        if kind_v == "embedding":
            from oracle.training.embedding import estimate_embedding

            cfg = emb_config(*params[len(lora_inputs):])
            est = estimate_embedding(ws, cfg, list(file_names or []) or None, bool(ratings))
            return (gr.skip(),) * 5 + (ctx.t("ui.ft.estimate_embedding", lang, **est),) + (gr.skip(),) * 2
        from oracle.training.specs import EstimateJob

        spec = EstimateJob(base_model=base_v, files=list(file_names or []) or None, use_ratings=bool(ratings),
                           index_name=DEFAULT_INDEX, config=lora_config(*params[: len(lora_inputs)]),
                           cost=cost_config(p, f))
        status = jobs.submit(ws, spec, name=ctx.t("ui.ft.estimate", lang))
        return _job_outputs(status.job_id, lang)

    def _job_outputs(job_id: str | None, lang: str):
        status = jobs.get_job(ws, job_id) if job_id else None
        records = jobs.read_log(ws, job_id) if job_id else []
        tail = "\n".join(_log_line(r) for r in records[-LOG_LINES:])
        if status is not None and status.state == jobs.FAILED:
            tail += "\n" + jobs.process_tail(ws, job_id, 1500)
        return (gr.Dropdown(choices=job_choices(ctx, lang), value=job_id), progress_block(ctx, status, lang),
                loss_frame(records, series_names(ctx, lang)), tail, jobs_table(ctx, lang),
                result_markdown(ctx, status, lang),
                runs_table(ctx, lang), gr.Dropdown(choices=run_choices(ctx)))

    @guard
    def poll(job_id, last: str, lang: str):
        """Timer tick: refresh only when the job's files changed (no flicker, no reset of the
        person's selections); the job and result dropdowns keep their values. The job
        dropdown's labels (which carry each job's state) and the result dropdown's choices (a
        finished training run adds one) are refreshed when a job is added or changes state;
        only ``choices`` is sent, so the selected value stays."""
        if not job_id:
            return (gr.skip(),) * 8 + (last,)
        sig = job_signature(ws, job_id)
        if sig == last:
            return (gr.skip(),) * 8 + (last,)
        return poll_updates(_job_outputs(job_id, lang), sig, last)

    @guard
    def select(job_id, lang: str):
        if not job_id:
            return (gr.skip(),) * 8
        return _job_outputs(job_id, lang)

    @guard
    def cancel(job_id, lang: str):
        if not job_id:
            raise JobError(detail=ctx.t("ui.task.nothing_to_cancel", lang))
        jobs.cancel(ws, job_id)
        return _job_outputs(job_id, lang)

    @guard
    def resume(job_id, lang: str):
        if not job_id:
            raise JobError(detail=ctx.t("ui.ft.no_job", lang))
        jobs.resume(ws, job_id)
        return _job_outputs(job_id, lang)

    @guard
    def merge(run_name, lang: str):
        from oracle.training.card import find_run

        run = find_run(ws, run_name, "lora")
        if run is None or not run.is_generator_adapter:
            raise gr.Error(ctx.t("ui.ft.pick_adapter", lang), print_exception=False)
        from oracle.training.specs import MergeJob

        folder = run.path
        spec = MergeJob(adapter_dir=folder, output_dir=str(Path(folder).parent / f"{run_name}-merged"))
        status = jobs.submit(ws, spec, name=f"{run_name}-merged")
        return _job_outputs(status.job_id, lang)

    @guard
    def reindex(run_name, lang: str):
        from oracle.training.card import find_run

        run = find_run(ws, run_name, "embedding")
        if run is None or not run.is_embedder:
            raise gr.Error(ctx.t("ui.ft.pick_embedder", lang), print_exception=False)
        folder = run.path
        warning = reindex_warning(ctx, folder, lang)
        if warning:  # not recommended, still allowed: say so and go on
            gr.Warning(warning)
        from oracle.training.specs import ReindexJob

        status = jobs.submit(ws, ReindexJob(embedder=folder, index_name=DEFAULT_INDEX), name=DEFAULT_INDEX)
        return _job_outputs(status.job_id, lang)

    @guard
    def export_data(fmt_v, file_names, ratings, k, p_ng, frac, lang: str, progress=gr.Progress()):
        from oracle.training.data import export_dataset, hard_negative_index, prepare

        progress(0, desc=ctx.t("ui.ft.preparing", lang))
        data = prepare(ws, hard_negative_index(ws, DEFAULT_INDEX), list(file_names or []) or None, bool(ratings), float(frac),
                       int(k), float(p_ng))
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="oracle-export-"))
        path = folder / f"oracle-train.{fmt_v}.jsonl"
        n = export_dataset(data.train, path, fmt_v)
        Path(str(path) + ".lock").unlink(missing_ok=True)
        return str(path), ctx.t("ui.ft.exported", lang, n=n, held=len(data.eval), fmt=fmt_v)

    @guard
    def push(run_name, repo_id, token_v, private_v, lang: str, progress=gr.Progress()):
        from oracle.training.card import find_run
        from oracle.training.export import push_to_hub

        run = find_run(ws, run_name)
        folder = run.path if run is not None else None
        if not folder:
            raise gr.Error(ctx.t("ui.ft.pick_run", lang), print_exception=False)
        progress(0, desc=ctx.t("ui.ft.pushing", lang))
        url = push_to_hub(folder, (repo_id or "").strip(), token=(token_v or "").strip() or None, private=bool(private_v))
        return ctx.t("ui.ft.pushed", lang, url=url), ""  # clear the token field

    def on_kind(kind_v, lang: str):
        is_emb = kind_v == "embedding"
        choices = widgets.bundled_embedders() + run_choices(ctx, "embedding") if is_emb else widgets.bundled_generators()
        value = _index_embedder() if is_emb else improve_cfg.student
        return gr.Group(visible=not is_emb), gr.Group(visible=is_emb), gr.Dropdown(choices=choices, value=value)

    def _index_embedder() -> str | None:
        from oracle.index import index_stats

        try:
            return index_stats(ws, DEFAULT_INDEX).get("embedder") or widgets.default_embedder()
        except Exception:  # noqa: BLE001 - no index yet
            return widgets.default_embedder()

    @guard
    def on_load(lang: str, job_id: str | None = None):
        """Page load: follow the running job, else the newest. Tab shown again (``job_id``, the
        job the person follows): keep it. A late tab event must not swap the job under the
        person's eyes: re-choosing on show picked a finishing estimate whose status still said
        "running" over the training just started (seen in the browser test under load)."""
        listed = jobs.list_jobs(ws)
        if job_id and any(s.job_id == job_id for s in listed):
            current = job_id
        else:
            running = jobs.running_job(ws)
            current = running.job_id if running else (listed[0].job_id if listed else None)
        outs = _job_outputs(current, lang)
        return (*outs, gr.Dropdown(choices=qa_file_choices(ws)),
                data_summary(None, improve_cfg.use_ratings, improve_cfg.eval_fraction, lang))

    @guard
    def on_show(job_id: str | None, lang: str):
        return on_load(lang, job_id)

    extra = [price, fx, ctx.lang_state]
    job_outs = [job, progress, plot, log, jobs_df, result, runs_df, run]
    start_btn.click(start, inputs=[*common, *lora_inputs, *emb_inputs, *extra], outputs=job_outs, api_name="ft_start")
    estimate_btn.click(estimate, inputs=[*common, *lora_inputs, *emb_inputs, *extra], outputs=job_outs,
                       api_name="ft_estimate")
    cancel_btn.click(cancel, inputs=[job, ctx.lang_state], outputs=job_outs, api_name="ft_cancel")
    resume_btn.click(resume, inputs=[job, ctx.lang_state], outputs=job_outs, api_name="ft_resume")
    job.input(select, inputs=[job, ctx.lang_state], outputs=job_outs, api_name="ft_select", show_progress="hidden")
    timer.tick(poll, inputs=[job, seen, ctx.lang_state], outputs=[*job_outs, seen], api_name="ft_poll",
               show_progress="hidden", concurrency_limit=None)
    kind.change(on_kind, inputs=[kind, ctx.lang_state], outputs=[lora_box, emb_box, base], api_name="ft_kind")
    for comp in (files, use_ratings, eval_fraction):
        comp.change(guard(data_summary), inputs=[files, use_ratings, eval_fraction, ctx.lang_state], outputs=[data_info],
                    api_name=False, show_progress="hidden")
    merge_btn.click(merge, inputs=[run, ctx.lang_state], outputs=job_outs, api_name="ft_merge")
    reindex_btn.click(reindex, inputs=[run, ctx.lang_state], outputs=job_outs, api_name="ft_reindex")
    export_btn.click(export_data, inputs=[fmt, files, use_ratings, k_dist, p_no_gold, eval_fraction, ctx.lang_state],
                     outputs=[export_file, export_msg], api_name="ft_export")
    push_btn.click(push, inputs=[run, repo, token, private, ctx.lang_state], outputs=[export_msg, token], api_name="ft_push")
    ctx.on_load(on_load, [*job_outs, files, data_info], api_name="ft_load")
    ctx.on_show(on_show, [*job_outs, files, data_info], api_name="ft_show", inputs=[job])


def _cost_default(field_name: str) -> float:
    from oracle.training.cost import CostConfig

    return getattr(CostConfig(), field_name)


def _log_line(record: dict) -> str:
    keys = ("step", "total", "loss", "eval_loss", "mrr@10", "test_mrr@10", "tokens_per_s", "eta_s", "time")
    return ", ".join(f"{k}={_fmt(record.get(k))}" for k in keys if record.get(k) is not None)
