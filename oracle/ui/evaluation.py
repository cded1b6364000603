"""Tab "Qualidade": score the chat on a gold set (questions whose answers are known).

A person uploads a gold JSONL (format: ``bench/gold/README.md``), checked at once with
:func:`oracle.gold_eval.load_gold`; picks the models and the modes to compare (RAG as in the
chat, RAG without guards, the model alone) and starts a background task (:mod:`oracle.jobs.threads`,
key ``"eval:default"``) that calls :func:`oracle.gold_eval.evaluate` on the chat's index, with
progress polled by a ``gr.Timer``. The uploaded file is copied to
``<workspace>/eval/<file stem>/``, where ``evaluate`` also writes ``rows.jsonl``,
``report.json`` and ``report.md``.

The result is read back from that ``report.json`` (the latest finished eval task names its
folder), so it shows again after a page reload: the runs side by side (one column per run,
one row per figure of :data:`oracle.gold_eval.COLUMNS`, formatted in the session language:
``"62%"``, ``"0,53"``), the two files to download, and the answers of one run question by
question.
"""

import logging
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr

from oracle import jobs
from oracle.config import DEFAULT_INDEX, RAGConfig
from oracle.errors import JobError, OracleError
from oracle.ui import widgets
from oracle.ui.context import UIContext, guard

logger = logging.getLogger(__name__)

TASK_KIND = "eval"
TASK_KEY = f"eval:{DEFAULT_INDEX}"
MODES = ("rag", "vanilla", "norag")
ANSWER_CHARS = 300
MAX_LIMIT = 100


# --- plain helpers (no gradio) ---------------------------------------------------------


def safe_stem(filename: str) -> str:
    """The folder name under ``<workspace>/eval/`` for a gold file: its stem with anything but
    letters, digits, ``.``, ``_`` and ``-`` replaced by ``-`` (``"gold"`` when nothing is left;
    ``"cache"``, the evaluation's own cache folder, becomes ``"cache-gold"``)."""
    return _folder_name(Path(filename or "").stem)


def _folder_name(text: str) -> str:
    name = re.sub(r"[^\w.-]+", "-", text or "").strip(".-") or "gold"
    return "cache-gold" if name == "cache" else name


def format_figure(value: Any, fmt: str, lang: str) -> str:
    """One figure as text: ``fmt`` (from :data:`oracle.gold_eval.COLUMNS`) applied, with a decimal
    comma in Portuguese (``0.53`` -> ``"0,53"``; ``0.62`` with ``"{:.0%}"`` -> ``"62%"``);
    ``"–"`` for None."""
    if value is None:
        return "–"
    text = fmt.format(value)
    return text.replace(".", ",") if lang == "pt" else text


def _when(created_at: str, lang: str) -> str:
    """``"2026-05-02 14:03:09"`` -> ``"02/05/2026 14:03"`` in Portuguese; as given otherwise."""
    try:
        stamp = time.strptime(created_at, "%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return str(created_at or "")
    return time.strftime("%d/%m/%Y %H:%M" if lang == "pt" else "%Y-%m-%d %H:%M", stamp)


def _short(text: str, limit: int = ANSWER_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _yes_no(ctx: UIContext, value: bool | None, lang: str) -> str:
    if value is None:
        return "–"
    return ctx.t("ui.eval.yes" if value else "ui.eval.no", lang)


def run_label(ctx: UIContext, mode: str, generator: str, lang: str) -> str:
    """A run's column name: ``"RAG · qwen2.5-0.5b-instruct"``, ``"Sem RAG · fake:x"``."""
    from oracle.llm import model_label

    local = widgets.local_model(generator)
    model = model_label(local) if local is not None else generator
    return ctx.t("ui.eval.run_label", lang, mode=ctx.t(f"ui.eval.short.{mode}", lang), model=model)


def summary_table(ctx: UIContext, report: dict[str, Any], lang: str):
    """The runs side by side: a row per figure of :data:`oracle.gold_eval.COLUMNS` (its header in
    ``lang``), a column per run; retrieval figures of a run without RAG are ``"–"``."""
    from oracle.gold_eval import COLUMNS

    runs = report.get("runs") or []
    rows = []
    for key, en, pt, fmt in COLUMNS:
        row = [pt if lang == "pt" else en]
        for run in runs:
            figures = {**(run.get("retrieval") or {}), **(run.get("summary") or {})}
            no_search = key.startswith(("hit", "mrr")) and (run.get("run") or {}).get("mode") == "norag"
            row.append("–" if no_search else format_figure(figures.get(key), fmt, lang))
        rows.append(row)
    headers = [ctx.t("ui.eval.col.measure", lang)] + [str(run.get("label", "?")) for run in runs]
    return widgets.dataframe(rows, headers)


def _question_headers(ctx: UIContext, lang: str) -> list[str]:
    cols = ("question", "expected", "answer", "keyfacts", "refused", "unsupported", "seconds")
    return [ctx.t(f"ui.eval.q.{c}", lang) for c in cols]


def questions_table(ctx: UIContext, report: dict[str, Any], label: str | None, lang: str):
    """The answers of run ``label`` (default: the first) question by question: question, what was
    expected (answer or refuse), the answer, key facts ✔/✘, refused, unsupported claim, seconds."""
    rows_by_run = report.get("rows") or {}
    runs = [r.get("label") for r in report.get("runs") or []]
    if label not in rows_by_run:
        label = runs[0] if runs else None
    from oracle.gold_eval import answerable_ids

    answerable = answerable_ids(report)
    rows = []
    for row in rows_by_run.get(label, []) if label else []:
        result, scores = row.get("result") or {}, row.get("scores") or {}
        ans = answerable.get(row.get("id"))
        refused = bool(scores.get("abstained"))
        facts = "–" if ans is False else ("✔" if scores.get("keyfacts_all") else "✘")  # refused -> ✘
        expected = "?" if ans is None else ctx.t("ui.eval.expect." + ("answer" if ans else "refuse"), lang)
        rows.append([
            row.get("question", ""),
            expected,
            _short(result.get("text", "")),
            facts,
            _yes_no(ctx, refused, lang),
            "–" if refused else _yes_no(ctx, bool(scores.get("unsupported")), lang),
            format_figure(result.get("total_s"), "{:.1f}", lang),
        ])  # fmt: skip
    return widgets.dataframe(rows, _question_headers(ctx, lang))


def latest_report(ctx: UIContext) -> dict[str, Any] | None:
    """The report of the newest finished evaluation (``<workspace>/eval/<stem>/report.json``,
    ``stem`` from its task's result), with ``"_dir"`` (the folder) added; None when there is none."""
    for status in ctx.tasks.list(TASK_KIND):
        if status.state != jobs.COMPLETED or not status.result.get("stem"):
            continue
        folder = ctx.workspace.home / "eval" / _folder_name(str(status.result["stem"]))
        try:
            from oracle.gold_eval import read_report

            report = read_report(folder)
        except OracleError:
            continue
        return {**report, "_dir": str(folder)}
    return None


def progress_html(ctx: UIContext, status: Any, lang: str) -> str:
    """:func:`oracle.ui.widgets.progress_html` counting answers instead of chunks."""
    return widgets.progress_html(ctx, status, lang, count_key="ui.eval.count")


def _markdown_file(report: dict[str, Any], lang: str) -> str:
    """``report.md`` in ``lang`` (:func:`oracle.gold_eval.markdown_table`) in a fresh temp folder."""
    from oracle.gold_eval import markdown_table

    folder = Path(tempfile.mkdtemp(prefix="oracle-export-"))
    target = folder / "report.md"
    target.write_text(markdown_table(report.get("runs") or [], lang), encoding="utf-8")
    return str(target)


# --- the tab ---------------------------------------------------------------------------


def _mode_choices(ctx: UIContext, lang: str | None = None) -> list[tuple[str, str]]:
    return [(ctx.t(f"ui.eval.mode.{m}", lang), m) for m in MODES]


def _generator_choices(ctx: UIContext, lang: str | None = None) -> list[tuple[str, str]]:
    """The chat's generator choices less the OpenAI-compatible entry (it needs fields this tab lacks)."""
    return [c for c in widgets.generator_choices(ctx, lang) if c[1] != widgets.OPENAI_CHOICE]


def build(ctx: UIContext) -> None:
    ws = ctx.workspace
    gr.Markdown(ctx.k("ui.eval.intro"))
    with gr.Accordion(ctx.k("ui.eval.glossary_title"), open=False):
        gr.Markdown(ctx.k("ui.eval.glossary"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            gold_file = gr.File(
                label=ctx.k("ui.eval.gold"), file_types=[".jsonl"], file_count="single", type="filepath",
                height=120, elem_id="oracle-eval-gold",
            )  # fmt: skip
            gold_info = gr.Markdown(elem_id="oracle-eval-gold-info")
        with gr.Column(scale=3):
            default = ctx.components.get("default_generator") or widgets.default_generator()
            generators = gr.Dropdown(
                choices=_generator_choices(ctx), value=[default], multiselect=True, allow_custom_value=True,
                label=ctx.k("ui.eval.generators"), info=ctx.k("ui.eval.generators_info"),
                elem_id="oracle-eval-generators",
            )  # fmt: skip
            modes = gr.CheckboxGroup(
                choices=_mode_choices(ctx), value=["rag"], label=ctx.k("ui.eval.modes"),
                info=ctx.k("ui.eval.modes_info"), elem_id="oracle-eval-modes",
            )  # fmt: skip
            limit = gr.Slider(
                0, MAX_LIMIT, value=0, step=1, label=ctx.k("ui.eval.limit"), info=ctx.k("ui.eval.limit_info"),
                elem_id="oracle-eval-limit",
            )  # fmt: skip
    with gr.Row():
        start_btn = gr.Button(ctx.k("ui.eval.start"), variant="primary", elem_id="oracle-eval-start")
        cancel_btn = gr.Button(ctx.k("ui.task.cancel"), elem_id="oracle-eval-cancel")
    progress = gr.HTML(elem_id="oracle-eval-progress")
    timer = gr.Timer(1.0, active=False)
    task_status = gr.Markdown()

    with gr.Column(visible=False, elem_id="oracle-eval-result") as result_box:
        gr.Markdown(ctx.k("ui.eval.results"))
        summary = gr.Markdown(elem_id="oracle-eval-summary")
        table = gr.Dataframe(
            value=widgets.dataframe([], [ctx.t("ui.eval.col.measure")]), label=ctx.k("ui.eval.table"),
            interactive=False, wrap=True, max_height=800, elem_id="oracle-eval-table",
        )  # fmt: skip
        with gr.Row():
            json_file = gr.DownloadButton(
                ctx.k("ui.eval.download_json"), value=None, elem_id="oracle-eval-dl-json"
            )
            md_file = gr.DownloadButton(ctx.k("ui.eval.download_md"), value=None, elem_id="oracle-eval-dl-md")
        run_choice = gr.Dropdown(choices=[], label=ctx.k("ui.eval.run"), elem_id="oracle-eval-run")
        questions = gr.Dataframe(
            value=widgets.dataframe([], _question_headers(ctx, ctx.lang)), label=ctx.k("ui.eval.questions"),
            interactive=False, wrap=True, column_widths=["24%", "8%", "36%", "8%", "8%", "8%", "8%"],
            elem_id="oracle-eval-questions",
        )  # fmt: skip

    def _result(lang: str) -> tuple:
        """Updates of the result components from the latest finished report (hidden when none)."""
        report = latest_report(ctx)
        if report is None:
            return (gr.Column(visible=False), *[gr.skip() for _ in range(6)])
        first = report["runs"][0] if report.get("runs") else {}
        summary_text = ctx.t(
            "ui.eval.summary", lang,
            answerable=(first.get("summary") or {}).get("n_answerable", 0),
            unanswerable=(first.get("summary") or {}).get("n_unanswerable", 0),
            gold=", ".join(Path(g).name for g in report.get("gold") or []),
            when=_when(report.get("created_at", ""), lang),
        )  # fmt: skip
        labels = [r["label"] for r in report.get("runs") or []]
        json_path = widgets.export_copy(Path(report["_dir"]) / "report.json", "report.json")
        return (
            gr.Column(visible=True),
            summary_text,
            summary_table(ctx, report, lang),
            gr.DownloadButton(value=json_path, interactive=json_path is not None),
            gr.DownloadButton(value=_markdown_file(report, lang), interactive=True),
            gr.Dropdown(choices=labels, value=labels[0] if labels else None),
            questions_table(ctx, report, labels[0] if labels else None, lang),
        )

    result_outputs = [result_box, summary, table, json_file, md_file, run_choice, questions]

    @guard
    def check_gold(path: str | None, lang: str):
        from oracle.errors import GoldError
        from oracle.gold_eval import load_gold

        if not path:
            return ""
        try:
            items = load_gold(path)
        except GoldError as err:
            return ctx.t("ui.eval.gold_bad", lang, message=err.message(lang))
        n_ans = sum(1 for i in items if i.answerable)
        return ctx.t("ui.eval.gold_ok", lang, name=Path(path).name, answerable=n_ans,
                     unanswerable=len(items) - n_ans)  # fmt: skip

    @guard
    def start(path: str | None, chosen, ticked, per_kind: float, lang: str):
        from oracle.gold_eval import EvalRun, load_gold
        from oracle.index import index_stats

        running = ctx.tasks.running(TASK_KEY)
        if running is not None:  # one evaluation at a time: follow the one under way
            note = ctx.t("ui.eval.already_running", lang)
            return progress_html(ctx, running, lang), gr.Timer(active=True), note
        if not path:
            raise gr.Error(ctx.t("ui.eval.no_gold", lang), print_exception=False)
        load_gold(path)  # a malformed file is refused here (GoldError), before any model loads
        specs = list(dict.fromkeys(s.strip() for s in (chosen or []) if s and s.strip()))
        if not specs:
            raise gr.Error(ctx.t("ui.eval.no_generator", lang), print_exception=False)
        run_modes = [m for m in MODES if m in (ticked or [])]
        if not run_modes:
            raise gr.Error(ctx.t("ui.eval.no_mode", lang), print_exception=False)
        if not index_stats(ws, DEFAULT_INDEX)["exists"]:
            raise gr.Error(ctx.t("ui.eval.no_index", lang), print_exception=False)
        rag = ctx.components.get("rag_defaults") or RAGConfig()
        runs = [EvalRun(label=run_label(ctx, mode, spec, lang), generator=spec, mode=mode, rag=rag)
                for spec in specs for mode in run_modes]  # fmt: skip
        stem = safe_stem(Path(path).name)
        out = ws.home / "eval" / stem
        out.mkdir(parents=True, exist_ok=True)
        gold = out / Path(path).name
        shutil.copyfile(path, gold)  # the upload lives in gradio's cache; the report names this copy
        limit_n = int(per_kind or 0) or None

        def run(report) -> dict:
            from oracle.gold_eval import evaluate
            from oracle.index import load_index

            t0 = time.perf_counter()
            report(0, 0, ctx.t("ui.eval.loading", lang))
            index = load_index(ws, DEFAULT_INDEX)
            result = evaluate(
                [gold], runs, out_dir=out, limit=limit_n, workspace=ws, progress=report, index=index
            )
            return {"stem": stem, "runs": [r["label"] for r in result.runs],
                    "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip

        status = ctx.tasks.start(TASK_KIND, run, key=TASK_KEY, title=gold.name)
        return progress_html(ctx, status, lang), gr.Timer(active=True), ""

    @guard
    def poll(lang: str):
        status = ctx.tasks.latest(TASK_KIND, key=TASK_KEY)
        bar = progress_html(ctx, status, lang)
        if status is None or status.finished:
            return (bar, gr.Timer(active=False), *_result(lang))
        return (bar, gr.skip(), *[gr.skip() for _ in result_outputs])

    @guard
    def cancel(lang: str):
        status = ctx.tasks.latest(TASK_KIND, key=TASK_KEY)
        if status is None or not ctx.tasks.cancel(status.job_id):
            raise JobError(detail=ctx.t("ui.task.nothing_to_cancel", lang))
        return ctx.t("ui.task.cancelling", lang)

    @guard
    def show_run(label: str | None, lang: str):
        report = latest_report(ctx)
        if report is None:
            return widgets.dataframe([], _question_headers(ctx, lang))
        return questions_table(ctx, report, label, lang)

    gold_file.upload(
        check_gold, inputs=[gold_file, ctx.lang_state], outputs=[gold_info], api_name="eval_gold"
    )
    gold_file.clear(
        lambda: "", inputs=None, outputs=[gold_info], api_name="eval_gold_clear", show_progress="hidden"
    )
    start_btn.click(
        start, inputs=[gold_file, generators, modes, limit, ctx.lang_state],
        outputs=[progress, timer, task_status], api_name="eval_start",
    )  # fmt: skip
    timer.tick(
        poll, inputs=[ctx.lang_state], outputs=[progress, timer, *result_outputs], api_name="eval_status",
        show_progress="hidden", concurrency_limit=None,
    )  # fmt: skip
    cancel_btn.click(cancel, inputs=[ctx.lang_state], outputs=[task_status], api_name="eval_cancel")
    run_choice.input(
        show_run, inputs=[run_choice, ctx.lang_state], outputs=[questions], api_name="eval_questions"
    )

    @guard
    def on_load(lang: str):
        status = ctx.tasks.latest(TASK_KIND, key=TASK_KEY)
        running = status is not None and not status.finished
        return (
            gr.Dropdown(choices=_generator_choices(ctx, lang)),
            gr.CheckboxGroup(choices=_mode_choices(ctx, lang)),
            progress_html(ctx, status, lang),
            gr.Timer(active=running),
            *_result(lang),
        )

    @guard
    def on_show(lang: str):
        return gr.Dropdown(choices=_generator_choices(ctx, lang))

    ctx.on_load(on_load, [generators, modes, progress, timer, *result_outputs], api_name="eval_load")
    ctx.on_show(on_show, [generators], api_name="eval_show")
