"""Tab "Documentos": upload several .pdf/.txt at once, see them in a table, delete one.

Each file is read alone (:func:`oracle.ingest.ingest_files`): a bad file gets its message
next to its name and the others go on. Type is decided by content and stored names are
sanitised by the core; the size limit is ``ORACLE_MAX_UPLOAD_MB`` (also gradio's
``max_file_size``). Deleting a document removes its chunks from every index.
"""

import logging
from pathlib import Path

import gradio as gr

from oracle.config import IngestConfig
from oracle.errors import JobError
from oracle.ui import guide, widgets
from oracle.ui.context import UIContext, guard

logger = logging.getLogger(__name__)

def documents_table(ctx: UIContext, lang: str):
    """DataFrame of stored documents: name, pages, chunks, language, status, QA pairs."""
    from oracle.chunking import document_chunks
    from oracle.index import index_stats
    from oracle.ingest import list_documents
    from oracle.schema import iter_jsonl

    ws = ctx.workspace
    stats = index_stats(ws)
    indexed = {d["doc_id"]: d.get("n_chunks", 0) for d in stats["documents"]}
    rows = []
    for doc in list_documents(ws):
        if doc.doc_id in indexed:
            chunks, status = indexed[doc.doc_id], ctx.t("ui.docs.status_indexed", lang)
        else:
            try:
                chunks = len(document_chunks(ws, doc))  # chunked once, kept for QA and the index
            except Exception:  # the table must render
                logger.exception("could not chunk %s", doc.doc_id)
                chunks = 0
            status = ctx.t("ui.docs.status_not_indexed", lang)
        n_qa = sum(1 for _ in iter_jsonl(ws.qa_file(doc.doc_id)))
        rows.append([doc.name, len(doc.pages), chunks, doc.language, status, n_qa])
    return widgets.dataframe(rows, _doc_headers(ctx, lang))


def _doc_headers(ctx: UIContext, lang: str) -> list[str]:
    return [ctx.t(f"ui.docs.col.{c}", lang) for c in ("name", "pages", "chunks", "language", "status", "qa")]


def _results_table(ctx: UIContext, rows: list[list[str]], lang: str):
    headers = [ctx.t("ui.docs.col.file", lang), ctx.t("ui.docs.col.result", lang)]
    return widgets.dataframe(rows, headers)


def build(ctx: UIContext) -> None:
    ws = ctx.workspace
    gr.Markdown(ctx.k("ui.docs.intro", limit=f"{ctx.max_upload_mb:g}"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            files = gr.File(
                label=ctx.k("ui.docs.files"),
                file_count="multiple",
                type="filepath",
                elem_id="oracle-upload-files",
                height=160,
            )
            upload_btn = gr.Button(ctx.k("ui.docs.upload"), variant="primary", elem_id="oracle-upload-btn")
        with gr.Column(scale=3):
            results = gr.Dataframe(
                value=_results_table(ctx, [], ctx.lang),
                label=ctx.k("ui.docs.results"),
                interactive=False,
                wrap=True,
                column_widths=["30%", "70%"],
                elem_id="oracle-upload-results",
            )
    table = gr.Dataframe(
        value=widgets.dataframe([], _doc_headers(ctx, ctx.lang)),
        label=ctx.k("ui.docs.table"),
        interactive=False,
        wrap=True,
        elem_id="oracle-documents-table",
    )
    with gr.Row():
        to_delete = gr.Dropdown(
            label=ctx.k("ui.docs.delete_choice"), choices=[], allow_custom_value=True, scale=3
        )
        delete_btn = gr.Button(ctx.k("ui.docs.delete"), variant="stop", scale=1, elem_id="oracle-delete-btn")
    # deleting asks first: the question names the document, "Sim, excluir" really deletes
    with gr.Row(visible=False, equal_height=True, elem_id="oracle-delete-confirm") as confirm_row:
        confirm_md = gr.Markdown()
        yes_btn = gr.Button(ctx.k("ui.docs.confirm_yes"), variant="stop", scale=0, min_width=140,
                            elem_id="oracle-delete-yes")  # fmt: skip
        no_btn = gr.Button(ctx.k("ui.docs.confirm_no"), scale=0, min_width=140, elem_id="oracle-delete-no")
    delete_status = gr.Markdown(elem_id="oracle-delete-status")
    history = gr.State([])  # this session's upload results, newest first

    def _choices_update(value=None):
        return gr.Dropdown(choices=widgets.doc_choices(ws), value=value)

    @guard
    def upload(paths: list[str] | None, previous: list | None, lang: str, progress=gr.Progress()):  # noqa: B008
        from oracle.ingest import ingest_files

        paths = [p for p in (paths or []) if p]
        if not paths:
            raise gr.Error(ctx.t("ui.docs.no_files", lang), print_exception=False)
        items = [(p, Path(p).name) for p in paths]

        def report(done: int, total: int, name: str = "") -> None:
            progress((done, total), desc=ctx.t("ui.docs.reading", lang, file=name), unit="files")

        result = ingest_files(items, ws, IngestConfig(max_file_mb=ctx.max_upload_mb), progress=report)
        rows = []
        for outcome in result.outcomes:  # one per upload, in upload order (names may repeat)
            if outcome.error is not None:
                rows.append([outcome.name, "❌ " + outcome.error.message(lang)])
                continue
            doc = outcome.document
            cell = "✅ " + ctx.t("ui.docs.ok", lang, pages=len(doc.pages), language=doc.language)
            for warning in outcome.warnings:  # e.g. a text file whose encoding was repaired
                cell += "\n⚠️ " + warning.message(lang)
            rows.append([outcome.name, cell])
        if result.errors and not result.documents:
            gr.Warning(ctx.t("ui.docs.none_ok", lang))
        rows += list(previous or [])  # earlier uploads stay listed, below the new ones
        return _results_table(ctx, rows, lang), documents_table(ctx, lang), _choices_update(), None, rows

    @guard
    def ask_delete(doc_id: str | None, lang: str):
        """First click on "Excluir documento": name the document and ask (nothing deleted yet)."""
        from oracle.ingest import load_document

        if not doc_id:
            raise gr.Error(ctx.t("ui.docs.pick_one", lang), print_exception=False)
        doc = load_document(ws, doc_id)
        return gr.Row(visible=True), ctx.t("ui.docs.confirm_delete", lang, name=doc.name), ""

    @guard
    def delete(doc_id: str | None, lang: str):
        from oracle.index import list_indexes, remove_document
        from oracle.ingest import delete_document, load_document

        if not doc_id:
            raise gr.Error(ctx.t("ui.docs.pick_one", lang), print_exception=False)
        if ctx.tasks.running("index:default") is not None:
            raise JobError(detail=ctx.t("ui.docs.wait_index", lang))
        doc = load_document(ws, doc_id)
        removed = 0
        for name in list_indexes(ws):
            removed += remove_document(ws, doc_id, name)
        delete_document(ws, doc_id)
        message = ctx.t("ui.docs.deleted", lang, name=doc.name, chunks=removed)
        return message, documents_table(ctx, lang), _choices_update(), gr.Row(visible=False)

    uploaded = upload_btn.click(
        upload,
        inputs=[files, history, ctx.lang_state],
        outputs=[results, table, to_delete, files, history],
        api_name="upload",
        concurrency_limit=1,
        concurrency_id="ingest",
    )
    delete_btn.click(
        ask_delete, inputs=[to_delete, ctx.lang_state], outputs=[confirm_row, confirm_md, delete_status],
        api_name="delete_document_ask", show_progress="hidden",
    )  # fmt: skip
    deleted = yes_btn.click(
        delete,
        inputs=[to_delete, ctx.lang_state],
        outputs=[delete_status, table, to_delete, confirm_row],
        api_name="delete_document",
        concurrency_id="ingest",
    )
    no_btn.click(lambda: gr.Row(visible=False), inputs=None, outputs=[confirm_row], api_name="delete_document_keep",
                 api_visibility="private", queue=False, show_progress="hidden")  # fmt: skip
    to_delete.change(lambda: gr.Row(visible=False), inputs=None, outputs=[confirm_row],
                     api_name="delete_document_changed", api_visibility="private", queue=False,
                     show_progress="hidden")  # fmt: skip
    guide.after(ctx, uploaded)
    guide.after(ctx, deleted)

    @guard
    def refresh(lang: str):
        return documents_table(ctx, lang), _choices_update()

    @guard
    def on_load(lang: str):
        return documents_table(ctx, lang), _choices_update(), _results_table(ctx, [], lang)

    ctx.on_load(on_load, [table, to_delete, results], api_name="documents_load")
    ctx.on_show(refresh, [table, to_delete], api_name="documents_show")
