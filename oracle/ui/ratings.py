"""Tab "Avaliações": the rating that counts for each answer, filtered, and two JSONL downloads.

Reads :func:`oracle.feedback.current_ratings` (the latest rating of each answer, newest first)
and :func:`oracle.feedback.rating_summary` (the counts, and how many earlier ratings were
replaced). The downloads ``validated.jsonl`` and ``invalid.jsonl`` hold those current ratings,
written at refresh time; the append-only files in ``data_qa/`` keep the whole history.
"""

import logging

import gradio as gr

from oracle.ui import widgets
from oracle.ui.context import UIContext, guard

logger = logging.getLogger(__name__)

FILTERS = ("all", "valid", "invalid")
TEXT_CHARS = 200


def _short(text: str | None, limit: int = TEXT_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ratings_view(ctx: UIContext, which: str, search: str, limit: int, lang: str):
    """(counts markdown, table of the latest ``limit`` current ratings matching the filter and text)."""
    from oracle.feedback import current_ratings, rating_summary
    from oracle.i18n import format_datetime, format_number

    ratings = current_ratings(ctx.workspace)
    summary = rating_summary(ctx.workspace)
    counts = ctx.t(
        "ui.ratings.counts", lang, valid=format_number(summary.n_valid, lang),
        invalid=format_number(summary.n_invalid, lang), total=format_number(summary.n_current, lang),
    )  # fmt: skip
    if summary.n_replaced:
        counts += ctx.t("ui.ratings.replaced", lang, n=format_number(summary.n_replaced, lang))
    if which == "valid":
        ratings = [r for r in ratings if r.valid]
    elif which == "invalid":
        ratings = [r for r in ratings if not r.valid]
    needle = (search or "").strip().casefold()
    if needle:
        ratings = [
            r for r in ratings
            if needle in " ".join([r.question, r.answer, r.corrected_answer or "", r.comment or "", r.user]).casefold()
        ]  # fmt: skip
    rows = [
        [
            format_datetime(r.created_at, lang),
            ctx.display_user(r.user, lang),
            "👍" if r.valid else "👎",
            _short(r.question),
            _short(r.answer),
            _short(r.corrected_answer),
            _short(r.comment),
            r.model + (f" + {r.adapter}" if r.adapter else ""),
        ]
        for r in ratings[: max(1, int(limit))]
    ]
    return counts, widgets.dataframe(rows, _headers(ctx, lang))


def _headers(ctx: UIContext, lang: str) -> list[str]:
    cols = ("time", "user", "valid", "question", "answer", "corrected", "comment", "model")
    return [ctx.t(f"ui.ratings.col.{c}", lang) for c in cols]


def build(ctx: UIContext) -> None:
    ws = ctx.workspace
    counts = gr.Markdown(elem_id="oracle-ratings-counts")
    with gr.Row():
        which = gr.Radio(
            choices=[(ctx.t(f"ui.ratings.filter.{f}"), f) for f in FILTERS], value="all",
            label=ctx.k("ui.ratings.filter"), scale=2,
        )  # fmt: skip
        search = gr.Textbox(label=ctx.k("ui.ratings.search"), scale=3)
        limit = gr.Number(value=50, precision=0, minimum=1, label=ctx.k("ui.ratings.limit"), scale=1)
        refresh_btn = gr.Button(ctx.k("ui.refresh"), scale=1)
    table = gr.Dataframe(
        value=widgets.dataframe([], _headers(ctx, ctx.lang)),
        label=ctx.k("ui.ratings.table"),
        interactive=False,
        wrap=True,
        column_widths=["12%", "8%", "10%", "19%", "22%", "11%", "10%", "8%"],
        elem_id="oracle-ratings-table",
    )
    with gr.Row():
        valid_file = gr.DownloadButton(
            ctx.k("ui.ratings.download_valid"), value=None, elem_id="oracle-dl-valid"
        )
        invalid_file = gr.DownloadButton(
            ctx.k("ui.ratings.download_invalid"), value=None, elem_id="oracle-dl-invalid"
        )

    def _downloads():
        from oracle.feedback import current_ratings

        def export(valid: bool, name: str) -> str | None:
            ratings = current_ratings(ws, valid=valid)
            return widgets.export_records(ratings, name) if ratings else None

        valid, invalid = export(True, "validated.jsonl"), export(False, "invalid.jsonl")
        return (
            gr.DownloadButton(value=valid, interactive=valid is not None),
            gr.DownloadButton(value=invalid, interactive=invalid is not None),
        )

    @guard
    def show(which_value, search_value, limit_value, lang: str):
        c, t = ratings_view(ctx, which_value or "all", search_value, limit_value or 50, lang)
        return (c, t, *_downloads())

    @guard
    def labels(lang: str):
        choices = [(ctx.t(f"ui.ratings.filter.{f}", lang), f) for f in FILTERS]
        c, t = ratings_view(ctx, "all", "", 50, lang)
        return (gr.Radio(choices=choices), c, t, *_downloads())

    outputs = [counts, table, valid_file, invalid_file]
    inputs = [which, search, limit, ctx.lang_state]
    refresh_btn.click(show, inputs=inputs, outputs=outputs, api_name="ratings")
    which.change(show, inputs=inputs, outputs=outputs, api_name="ratings_filter")
    search.submit(show, inputs=inputs, outputs=outputs, api_name="ratings_search")
    ctx.on_load(labels, [which, *outputs], api_name="ratings_load")
    ctx.on_show(show, outputs, api_name="ratings_show", inputs=[which, search, limit])
