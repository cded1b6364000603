"""Tab "Perguntas e respostas": generate QA pairs for chosen documents, review, export.

Generation runs as a background task (:mod:`oracle.jobs.threads`, key ``"qa"``: one at a time per
process) fed by :func:`oracle.qa_generation.generate_qa`'s progress callback; a ``gr.Timer``
polls it, so the bar (chunks done/total, time left) survives a page reload. Review edits
go back through :func:`oracle.qa_generation.save_qa`.
"""

import logging
from typing import Any

import gradio as gr

from oracle import jobs
from oracle.config import QAConfig
from oracle.errors import JobError
from oracle.ui import guide, widgets
from oracle.ui.context import UIContext, guard

logger = logging.getLogger(__name__)

TASK_KEY = "qa"
STATUSES = ("generated", "approved", "rejected")
DEFAULT_MAX_CHUNKS = 20


def status_label(ctx: UIContext, status: str, lang: str) -> str:
    return ctx.t(f"ui.qa.status.{status}", lang) if status in STATUSES else status


def parse_status(ctx: UIContext, label: Any) -> str | None:
    """Internal status of a table cell (a label in any language, or the internal name)."""
    text = str(label or "").strip().lower()
    for status in STATUSES:
        names = {status} | {ctx.t(f"ui.qa.status.{status}", lang).lower() for lang in ("pt", "en")}
        if text in names:
            return status
    return None


def qa_table(ctx: UIContext, doc_id: str | None, lang: str):
    """DataFrame of the QA pairs of ``doc_id`` (all documents when empty)."""
    from oracle.qa_generation import load_qa

    pairs = load_qa(ctx.workspace, doc_id or None)
    rows = [
        [p.qa_id, p.doc_name, p.page, p.question, p.answer, status_label(ctx, p.status, lang)] for p in pairs
    ]
    return widgets.dataframe(rows, _qa_headers(ctx, lang))


def _qa_headers(ctx: UIContext, lang: str) -> list[str]:
    return [ctx.t(f"ui.qa.col.{c}", lang) for c in ("id", "document", "page", "question", "answer", "status")]


def _rows(table: Any) -> list[list[Any]]:
    if table is None:
        return []
    if hasattr(table, "values"):
        return table.values.tolist()
    if isinstance(table, dict):
        return list(table.get("data") or [])
    return list(table)


def _edit_pairs(ctx: UIContext, change) -> int:
    """Apply ``change(pair) -> pair | None`` (None deletes) to every stored pair; save changed
    documents. Returns the number of pairs changed or deleted."""
    from oracle.qa_generation import load_qa, save_qa

    by_doc: dict[str, list] = {}
    for pair in load_qa(ctx.workspace):
        by_doc.setdefault(pair.doc_id, []).append(pair)
    n_changed = 0
    for doc_id, pairs in by_doc.items():
        kept, changed = [], False
        for pair in pairs:
            before = pair.to_dict()
            after = change(pair)
            if after is None:
                changed = True
                n_changed += 1
                continue
            if after.to_dict() != before:
                changed = True
                n_changed += 1
            kept.append(after)
        if changed:
            save_qa(ctx.workspace, doc_id, kept)
    return n_changed


def build(ctx: UIContext) -> None:
    ws = ctx.workspace
    gr.Markdown(ctx.k("ui.qa.intro"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            docs = gr.Dropdown(
                label=ctx.k("ui.qa.docs"),
                choices=[],
                multiselect=True,
                allow_custom_value=True,
                elem_id="oracle-qa-docs",
            )
            picker = widgets.generator_picker(ctx, "qa")
        with gr.Column(scale=2):
            pairs_per_chunk = gr.Slider(
                1, 5, value=QAConfig().pairs_per_chunk, step=1, label=ctx.k("ui.qa.pairs_per_chunk")
            )
            max_chunks = gr.Number(
                value=DEFAULT_MAX_CHUNKS, precision=0, minimum=0,
                label=ctx.k("ui.qa.max_chunks"), info=ctx.k("ui.qa.max_chunks_info"),
            )  # fmt: skip
    with gr.Row():
        generate_btn = gr.Button(ctx.k("ui.qa.generate"), variant="primary", elem_id="oracle-qa-generate")
        cancel_btn = gr.Button(ctx.k("ui.task.cancel"), variant="secondary")
    progress = gr.HTML(elem_id="oracle-qa-progress")
    timer = gr.Timer(1.0, active=False)
    shown_pairs = gr.State(0)  # how many stored pairs the table showed at the last poll

    gr.Markdown(ctx.k("ui.qa.review_title"))
    with gr.Row():
        filter_doc = gr.Dropdown(
            label=ctx.k("ui.qa.filter_doc"), choices=[], allow_custom_value=True, scale=3
        )
        refresh_btn = gr.Button(ctx.k("ui.refresh"), scale=1)
    table = gr.Dataframe(
        value=widgets.dataframe([], _qa_headers(ctx, ctx.lang)),
        column_widths=["0%", "16%", "8%", "36%", "28%", "12%"],  # the id column is hidden (CSS)
        label=ctx.k("ui.qa.table"),
        interactive=True,
        static_columns=[0, 1, 2],
        wrap=True,
        max_height=520,
        elem_id="oracle-qa-table",
    )
    with gr.Row(equal_height=True):
        # the pair's id travels in a hidden field; the person sees the question they clicked
        selected = gr.Textbox(label=ctx.k("ui.qa.selected"), visible=False, elem_id="oracle-qa-selected")
        selected_md = gr.Markdown(ctx.k("ui.qa.none_selected"), elem_id="oracle-qa-selected-text")
        approve_btn = gr.Button(ctx.k("ui.qa.approve"), scale=1)
        delete_btn = gr.Button(ctx.k("ui.qa.delete"), variant="stop", scale=1)
    with gr.Row():
        save_btn = gr.Button(ctx.k("ui.qa.save"), variant="primary")
        approve_all_btn = gr.Button(ctx.k("ui.qa.approve_all"))
    review_status = gr.Markdown()
    with gr.Row():
        approved_only = gr.Checkbox(label=ctx.k("ui.qa.approved_only"), value=False)
        export_btn = gr.Button(ctx.k("ui.qa.export"))
        export_file = gr.File(label=ctx.k("ui.qa.export_file"), interactive=False, height=90)

    # --- generation ---------------------------------------------------------------
    @guard
    def start(doc_ids, choice, base_url, model, api_key, n_pairs, n_chunks, lang: str):
        from oracle.ingest import load_document
        from oracle.qa_generation import generate_qa

        doc_ids = [d for d in (doc_ids or []) if d]
        if not doc_ids:
            raise gr.Error(ctx.t("ui.qa.pick_docs", lang), print_exception=False)
        documents = [load_document(ws, d) for d in doc_ids]
        generator = widgets.make_generator(choice, base_url, model, api_key)
        cfg = QAConfig(pairs_per_chunk=int(n_pairs or 1))
        limit = int(n_chunks or 0) or None

        def plan(doc) -> list:
            """The chunks this run will generate: not done before, long enough, at most ``limit``
            (so the progress total is exact and the time left is honest)."""
            from oracle.chunking import count_tokens, document_chunks
            from oracle.qa_generation import done_chunks

            done = done_chunks(ws, doc.doc_id)
            todo = [
                c for c in document_chunks(ws, doc)  # the stored chunks: the ids the index uses
                if c.chunk_id not in done and (c.n_tokens or count_tokens(c.text)) >= cfg.min_chunk_tokens
            ]  # fmt: skip
            return todo[:limit] if limit else todo

        def run(progress) -> dict:
            planned = [plan(doc) for doc in documents]
            total = sum(len(chunks) for chunks in planned)
            result = {"pairs": 0, "chunks": 0, "invalid": 0, "duplicates": 0, "rejected": 0, "documents": []}
            if total and callable(getattr(generator, "load", None)):  # local models load here, visibly
                progress(0, total, ctx.t("ui.qa.loading_model", lang, name=generator.name))
                generator.load()
            offset = 0
            for doc, chunks in zip(documents, planned):
                if not chunks:
                    continue

                def sub(done: int, n: int, message: str = "", base=offset, name=doc.name) -> None:
                    progress(base + min(done, n), total, f"{name}: {message}")

                report = generate_qa(doc, generator, ws, cfg, progress=sub, chunks=chunks)
                offset += len(chunks)
                result["pairs"] += report.n_pairs
                result["chunks"] += report.n_done
                result["invalid"] += report.n_invalid
                result["duplicates"] += report.n_duplicates
                result["rejected"] += report.n_rejected
                result["documents"].append(doc.doc_id)
            progress(total, total, "")
            return result

        title = ", ".join(d.name for d in documents)
        status = ctx.tasks.start("qa", run, key=TASK_KEY, title=title)
        return widgets.progress_html(ctx, status, lang), gr.Timer(active=True)

    @guard
    def poll(filter_value, shown, lang: str):
        """Progress bar; the table when the task ends, and while it runs each time new pairs
        were stored (``shown``: the number of stored pairs the table last showed)."""
        from oracle.onboarding import getting_started

        status = ctx.tasks.latest("qa")
        html = widgets.progress_html(ctx, status, lang)
        stored = getting_started(ws).n_qa_pairs
        if status is None or status.finished:
            if status is not None and status.state == jobs.COMPLETED:
                summary = ctx.t(
                    "ui.qa.done",
                    lang,
                    **{
                        k: status.result.get(k, 0)
                        for k in ("pairs", "chunks", "invalid", "duplicates", "rejected")
                    },
                )
                html += f"<p>{summary}</p>"
            return html, gr.Timer(active=False), qa_table(ctx, filter_value, lang), stored
        if stored != shown:  # new pairs: show them as they come
            return html, gr.skip(), qa_table(ctx, filter_value, lang), stored
        return html, gr.skip(), gr.skip(), stored

    @guard
    def cancel(lang: str):
        status = ctx.tasks.latest("qa")
        if status is None or not ctx.tasks.cancel(status.job_id):
            raise JobError(detail=ctx.t("ui.task.nothing_to_cancel", lang))
        return ctx.t("ui.task.cancelling", lang)

    generate_btn.click(
        start,
        inputs=[docs, *picker.inputs, pairs_per_chunk, max_chunks, ctx.lang_state],
        outputs=[progress, timer],
        api_name="qa_generate",
    )
    polled = timer.tick(
        poll, inputs=[filter_doc, shown_pairs, ctx.lang_state], outputs=[progress, timer, table, shown_pairs],
        api_name="qa_status", show_progress="hidden", concurrency_limit=None,
    )  # fmt: skip
    guide.after(ctx, polled)  # new pairs move the "Melhorar" step on to the Ajuste fino tab
    cancel_btn.click(cancel, inputs=[ctx.lang_state], outputs=[review_status], api_name="qa_cancel")

    # --- review -------------------------------------------------------------------
    @guard
    def show(filter_value, lang: str):
        return qa_table(ctx, filter_value, lang)

    def on_select(lang: str, evt: gr.SelectData):
        row = evt.row_value or []
        if not row:
            return gr.skip(), gr.skip()
        question = str(row[3]) if len(row) > 3 else ""
        return str(row[0]), ctx.t("ui.qa.selected_pair", lang, question=question)

    @guard
    def save(rows_value, filter_value, lang: str):
        edits: dict[str, tuple[str, str, str | None]] = {}
        for row in _rows(rows_value):
            if len(row) < 6 or not row[0]:
                continue
            edits[str(row[0])] = (
                str(row[3] or "").strip(),
                str(row[4] or "").strip(),
                parse_status(ctx, row[5]),
            )

        def change(pair):
            if pair.qa_id not in edits:
                return pair
            question, answer, status = edits[pair.qa_id]
            if not question or not answer:
                return None  # an emptied row is a deletion
            pair.question, pair.answer = question, answer
            if status:
                pair.status = status
            return pair

        n = _edit_pairs(ctx, change)
        return ctx.t("ui.qa.saved", lang, n=n), qa_table(ctx, filter_value, lang)

    def _set_status(qa_ids: set[str], status: str | None):
        def change(pair):
            if pair.qa_id not in qa_ids:
                return pair
            if status is None:
                return None
            pair.status = status
            return pair

        return change

    @guard
    def approve(qa_id, filter_value, lang: str):
        qa_id = (qa_id or "").strip()
        if not qa_id:
            raise gr.Error(ctx.t("ui.qa.pick_row", lang), print_exception=False)
        n = _edit_pairs(ctx, _set_status({qa_id}, "approved"))
        return ctx.t("ui.qa.approved_n", lang, n=n), qa_table(ctx, filter_value, lang)

    @guard
    def delete(qa_id, filter_value, lang: str):
        qa_id = (qa_id or "").strip()
        if not qa_id:
            raise gr.Error(ctx.t("ui.qa.pick_row", lang), print_exception=False)
        n = _edit_pairs(ctx, _set_status({qa_id}, None))
        return ctx.t("ui.qa.deleted_n", lang, n=n), qa_table(ctx, filter_value, lang), "", ctx.t("ui.qa.none_selected", lang)

    @guard
    def approve_all(rows_value, filter_value, lang: str):
        ids = {str(r[0]) for r in _rows(rows_value) if r and r[0]}
        n = _edit_pairs(ctx, _set_status(ids, "approved"))
        return ctx.t("ui.qa.approved_n", lang, n=n), qa_table(ctx, filter_value, lang)

    @guard
    def export(filter_value, only_approved: bool, lang: str):
        from oracle.qa_generation import load_qa

        pairs = load_qa(ws, filter_value or None)
        if only_approved:
            pairs = [p for p in pairs if p.status == "approved"]
        if not pairs:
            raise gr.Error(ctx.t("ui.qa.nothing_to_export", lang), print_exception=False)
        return widgets.export_records(pairs, "qa_pairs.jsonl")

    filter_doc.change(show, inputs=[filter_doc, ctx.lang_state], outputs=[table], api_name="qa_filter")
    refresh_btn.click(show, inputs=[filter_doc, ctx.lang_state], outputs=[table], api_name="qa_table")
    table.select(on_select, inputs=[ctx.lang_state], outputs=[selected, selected_md], api_name="qa_select",
                 show_progress="hidden")  # fmt: skip
    save_btn.click(
        save, inputs=[table, filter_doc, ctx.lang_state], outputs=[review_status, table], api_name="qa_save"
    )
    approve_btn.click(
        approve,
        inputs=[selected, filter_doc, ctx.lang_state],
        outputs=[review_status, table],
        api_name="qa_approve",
    )
    delete_btn.click(
        delete, inputs=[selected, filter_doc, ctx.lang_state], outputs=[review_status, table, selected, selected_md],
        api_name="qa_delete",
    )  # fmt: skip
    approve_all_btn.click(
        approve_all, inputs=[table, filter_doc, ctx.lang_state], outputs=[review_status, table],
        api_name="qa_approve_all",
    )  # fmt: skip
    export_btn.click(
        export,
        inputs=[filter_doc, approved_only, ctx.lang_state],
        outputs=[export_file],
        api_name="qa_export",
    )

    # --- page load / tab shown ----------------------------------------------------
    def _doc_updates(chosen=None):
        """Choices of both dropdowns; with a single document, it is chosen for generation."""
        choices = widgets.doc_choices(ws)
        if len(choices) == 1 and not [d for d in (chosen or []) if d]:
            generate = gr.Dropdown(choices=choices, value=[choices[0][1]])
        else:
            generate = gr.Dropdown(choices=choices)
        return generate, gr.Dropdown(choices=[("—", "")] + choices)

    @guard
    def on_load(lang: str):
        status = ctx.tasks.latest("qa")
        running = status is not None and not status.finished
        d1, d2 = _doc_updates()
        gen = gr.Dropdown(choices=widgets.generator_choices(ctx, lang))
        return (
            d1,
            d2,
            gen,
            widgets.progress_html(ctx, status, lang),
            gr.Timer(active=running),
            qa_table(ctx, "", lang),
        )

    @guard
    def on_show(chosen, lang: str):
        return (*_doc_updates(chosen), gr.Dropdown(choices=widgets.generator_choices(ctx, lang)))

    ctx.on_load(on_load, [docs, filter_doc, picker.choice, progress, timer, table], api_name="qa_load")
    ctx.on_show(on_show, [docs, filter_doc, picker.choice], api_name="qa_show", inputs=[docs])
