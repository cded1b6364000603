"""Tab "Índice": build or update the FAISS index, see its figures, try a search.

Building runs as a background task (:mod:`oracle.jobs.threads`, key ``"index:default"``) that calls
:func:`oracle.index.build_index` (incremental: only new chunks are embedded) and reports
chunks embedded / total; a ``gr.Timer`` polls it. The figures come from ``index.json``
(:func:`oracle.index.index_stats`) and the last build task (its wall time).
"""

import logging
import time

import gradio as gr

from oracle import jobs
from oracle.config import DEFAULT_INDEX, ChunkingConfig
from oracle.errors import JobError
from oracle.ui import guide, widgets
from oracle.ui.context import UIContext, guard

logger = logging.getLogger(__name__)

TASK_KEY = f"index:{DEFAULT_INDEX}"
SNIPPET_CHARS = 320


def stats_markdown(ctx: UIContext, lang: str) -> str:
    """The index's figures as Markdown (or a line saying there is no index yet): documents,
    chunks, model, last update (local time) and build time for everyone; the vector dimension
    and the chunking under a closed "Detalhes técnicos"."""
    from oracle.i18n import format_datetime, format_number
    from oracle.index import index_stats

    stats = index_stats(ctx.workspace, DEFAULT_INDEX)
    if not stats["exists"]:
        return ctx.t("ui.index.none", lang)
    last = ctx.tasks.latest("index", key=TASK_KEY)
    build_s = last.result.get("seconds") if last is not None and last.state == jobs.COMPLETED else None
    chunking = stats.get("chunking") or {}
    lines = [
        ctx.t("ui.index.stat.documents", lang, n=format_number(stats["n_documents"], lang)),
        ctx.t("ui.index.stat.chunks", lang, n=format_number(stats["n_chunks"], lang)),
        ctx.t("ui.index.stat.embedder", lang, name=stats["embedder"]),
        ctx.t("ui.index.stat.updated", lang, when=format_datetime(stats["updated_at"], lang)),
    ]
    if build_s is not None:
        lines.append(ctx.t("ui.index.stat.build_time", lang, time=widgets.format_seconds(build_s),
                           seconds=build_s, new=format_number(last.result.get("new_chunks", 0), lang)))  # fmt: skip
    details = [
        ctx.t("ui.index.stat.dim", lang, dim=stats["dim"]),
        ctx.t("ui.index.stat.chunking", lang, size=chunking.get("chunk_size", "?"),
              overlap=chunking.get("chunk_overlap", "?")),
    ]  # fmt: skip
    return (
        "\n".join(f"- {line}" for line in lines)
        + f"\n\n<details><summary>{ctx.t('ui.index.details', lang)}</summary>\n\n"
        + "\n".join(f"- {line}" for line in details)
        + "\n\n</details>"
    )


def relevance_level(score: float, gate: float | None, margin: float = 0.03) -> str:
    """A similarity score in words a person can use, measured against the index's relevance gate
    (the cosine below which the chat answers "not found", :func:`oracle.index.index_stats`'s
    ``min_score``): ``"high"`` at least ``margin`` above it, ``"medium"`` at or just above it,
    ``"low"`` below it. Raw cosines of one embedder all look alike (e5: ~0.8-0.9) and mean
    nothing across embedders; the gate is what gives them a meaning."""
    gate = 0.0 if gate is None else float(gate)
    if score >= gate + margin:
        return "high"
    return "medium" if score >= gate else "low"


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _hit_headers(ctx: UIContext, lang: str) -> list[str]:
    return [ctx.t(f"ui.index.col.{c}", lang) for c in ("rank", "relevance", "document", "pages", "text")]


def build(ctx: UIContext) -> None:
    ws = ctx.workspace
    gr.Markdown(ctx.k("ui.index.intro"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            embedder = gr.Dropdown(
                choices=widgets.embedder_choices(ws),
                value=ctx.components.get("default_embedder") or widgets.default_embedder(),
                label=ctx.k("ui.index.embedder"),
                info=ctx.k("ui.index.embedder_info"),
                allow_custom_value=True,
                elem_id="oracle-index-embedder",
            )
            docs = gr.Dropdown(
                label=ctx.k("ui.index.docs"), info=ctx.k("ui.index.docs_info"), choices=[],
                multiselect=True, allow_custom_value=True,
            )  # fmt: skip
        with gr.Column(scale=2):
            defaults = ChunkingConfig()
            chunk_size = gr.Slider(
                64, 1024, value=defaults.chunk_size, step=32, label=ctx.k("ui.index.chunk_size")
            )
            overlap = gr.Slider(0, 256, value=defaults.chunk_overlap, step=8, label=ctx.k("ui.index.overlap"))
            rebuild = gr.Checkbox(
                label=ctx.k("ui.index.rebuild"), info=ctx.k("ui.index.rebuild_info"), value=False
            )
    with gr.Row():
        build_btn = gr.Button(ctx.k("ui.index.build"), variant="primary", elem_id="oracle-index-build")
        cancel_btn = gr.Button(ctx.k("ui.task.cancel"))
    progress = gr.HTML(elem_id="oracle-index-progress")
    timer = gr.Timer(1.0, active=False)
    stats = gr.Markdown(elem_id="oracle-index-stats")
    task_status = gr.Markdown()

    gr.Markdown(ctx.k("ui.index.search_title"))
    with gr.Row():
        query = gr.Textbox(
            label=ctx.k("ui.index.query"), placeholder=ctx.k("ui.index.query_placeholder"), scale=4
        )
        top_k = gr.Slider(1, 20, value=5, step=1, label=ctx.k("ui.index.top_k"), scale=1)
    search_btn = gr.Button(ctx.k("ui.index.search"))
    hits = gr.Dataframe(
        value=widgets.dataframe([], _hit_headers(ctx, ctx.lang)), label=ctx.k("ui.index.hits"), interactive=False,
        wrap=True, column_widths=["5%", "11%", "20%", "10%", "54%"], elem_id="oracle-search-hits",
    )  # fmt: skip
    gr.Markdown(ctx.k("ui.index.hits_info"), elem_classes=["oracle-hint"])

    @guard
    def start(embedder_name, doc_ids, size, overlap_tokens, from_scratch, lang: str):
        from oracle.ingest import list_documents, load_document

        chunking = ChunkingConfig(chunk_size=int(size), chunk_overlap=int(overlap_tokens))
        doc_ids = [d for d in (doc_ids or []) if d]
        documents = [load_document(ws, d) for d in doc_ids] if doc_ids else list_documents(ws)
        if not documents:
            raise gr.Error(ctx.t("ui.index.no_documents", lang), print_exception=False)
        name = (embedder_name or "").strip() or widgets.default_embedder()

        def run(report) -> dict:
            from oracle.index import build_index, delete_index

            t0 = time.perf_counter()
            report(0, 0, ctx.t("ui.index.loading", lang, name=name))
            path = ws.index_dir(DEFAULT_INDEX)
            if from_scratch:
                delete_index(ws, DEFAULT_INDEX)
            rechunked = []  # documents split again with another chunk size: what that invalidated
            before = 0
            if (path / "index.json").is_file():
                from oracle.index import index_stats

                before = index_stats(ws, DEFAULT_INDEX)["n_chunks"]
            index = build_index(
                documents, ws, DEFAULT_INDEX, embedder=name, chunking=chunking, progress=report,
                on_rechunk=rechunked.append,
            )
            return {
                "rechunked": [r.message(lang) for r in rechunked if r.qa_invalidated],
                "n_chunks": len(index),
                "new_chunks": max(0, len(index) - before),
                "dim": index.dim,
                "embedder": index.embedder,
                "n_documents": len(index.documents()),
                "seconds": round(time.perf_counter() - t0, 2),
            }

        status = ctx.tasks.start("index", run, key=TASK_KEY, title=name)
        return widgets.progress_html(ctx, status, lang), gr.Timer(active=True)

    @guard
    def poll(lang: str):
        status = ctx.tasks.latest("index", key=TASK_KEY)
        html = widgets.progress_html(ctx, status, lang)
        if status is None or status.finished:
            for message in status.result.get("rechunked", []) if status is not None else []:
                gr.Warning(message)  # QA pairs whose gold chunk this build's chunk size removed
            return html, gr.Timer(active=False), stats_markdown(ctx, lang)
        return html, gr.skip(), gr.skip()

    @guard
    def cancel(lang: str):
        status = ctx.tasks.latest("index", key=TASK_KEY)
        if status is None or not ctx.tasks.cancel(status.job_id):
            raise JobError(detail=ctx.t("ui.task.nothing_to_cancel", lang))
        return ctx.t("ui.task.cancelling", lang)

    @guard
    def search(text: str, k: float, lang: str, progress=gr.Progress()):  # noqa: B008 - gradio's API
        from oracle.index import index_stats, load_index

        text = (text or "").strip()
        if not text:
            raise gr.Error(ctx.t("ui.index.empty_query", lang), print_exception=False)
        progress(0, desc=ctx.t("ui.index.searching", lang))
        index = load_index(ws, DEFAULT_INDEX)
        found = index.search(text, top_k=int(k))
        gate = index_stats(ws, DEFAULT_INDEX).get("min_score")
        rows = [[h.rank, ctx.t(f"ui.index.relevance.{relevance_level(float(h.score), gate)}", lang),
                 h.chunk.doc_name, h.chunk.pages_label, _snippet(h.chunk.text)] for h in found]  # fmt: skip
        return widgets.dataframe(rows, _hit_headers(ctx, lang))

    build_btn.click(
        start,
        inputs=[embedder, docs, chunk_size, overlap, rebuild, ctx.lang_state],
        outputs=[progress, timer],
        api_name="index_build",
    )
    polled = timer.tick(
        poll, inputs=[ctx.lang_state], outputs=[progress, timer, stats], api_name="index_status",
        show_progress="hidden", concurrency_limit=None,
    )  # fmt: skip
    guide.after(ctx, polled)  # the "Como começar" steps follow the build
    cancel_btn.click(cancel, inputs=[ctx.lang_state], outputs=[task_status], api_name="index_cancel")
    search_btn.click(search, inputs=[query, top_k, ctx.lang_state], outputs=[hits], api_name="search")
    query.submit(search, inputs=[query, top_k, ctx.lang_state], outputs=[hits], api_name="search_submit")

    def _embedder_value(set_value: bool = True):
        """Embedder choices (with the index's own embedder), selecting it on page load."""
        from oracle.index import index_stats

        current = index_stats(ws, DEFAULT_INDEX).get("embedder")
        choices = widgets.embedder_choices(ws)
        if current and current not in [v for _, v in choices]:
            choices.append((current, current))
        if current and set_value:
            return gr.Dropdown(choices=choices, value=current)
        return gr.Dropdown(choices=choices)

    @guard
    def on_load(lang: str):
        status = ctx.tasks.latest("index", key=TASK_KEY)
        running = status is not None and not status.finished
        return (
            gr.Dropdown(choices=widgets.doc_choices(ws)),
            _embedder_value(),
            widgets.progress_html(ctx, status, lang),
            gr.Timer(active=running),
            stats_markdown(ctx, lang),
            widgets.dataframe([], _hit_headers(ctx, lang)),
        )

    @guard
    def on_show(lang: str):
        return gr.Dropdown(choices=widgets.doc_choices(ws)), stats_markdown(ctx, lang), _embedder_value(False)

    ctx.on_load(on_load, [docs, embedder, progress, timer, stats, hits], api_name="index_load")
    ctx.on_show(on_show, [docs, stats, embedder], api_name="index_show")
