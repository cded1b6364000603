"""Tab "Chat": questions answered from the index, streamed, with their sources; 👍/👎 ratings.

A question goes through :func:`oracle.rag.stream_answer` (retrieve top-k, numbered sources,
generate); pieces are streamed into the ``gr.Chatbot`` (messages format) and, at the end, the
answer is re-rendered with its sources (document, page, cited snippet) under it. Each answer
of the session is kept in a ``gr.State`` so that 👍/👎 (buttons for the last answer, or the
chatbot's own thumbs on any answer) rate it through :func:`oracle.feedback.rate_answer`,
recording who rated (Hugging Face OAuth user, ``launch(auth=...)`` user, else anonymous).
"""

import html
import logging
from typing import Any

import gradio as gr

from oracle.config import DEFAULT_INDEX, RAGConfig
from oracle.schema import Answer, Citation
from oracle.ui import widgets
from oracle.ui.context import UIContext, guard

logger = logging.getLogger(__name__)

SNIPPET_CHARS = 240


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_answer(ctx: UIContext, answer: Answer, lang: str) -> str:
    """The answer's text followed by its sources: ``[n] document, p. X — “snippet”``.

    Cited sources are listed when the model cited any; otherwise every source it was given
    (under another heading); none when nothing relevant was found."""
    text = answer.text
    sources: list[Citation] = answer.citations or answer.sources
    if not sources or not answer.grounded and not answer.citations:
        return text
    heading = ctx.t("ui.chat.sources" if answer.citations else "ui.chat.sources_consulted", lang)
    lines = [text, "", f"**{heading}**", ""]
    for c in sources:
        page = ctx.t("ui.chat.page", lang, page=c.page)
        snippet = html.escape(_snippet(c.snippet))
        lines.append(f"- **[{c.n}]** {html.escape(c.doc_name)}, {page} — “{snippet}”")
    return "\n".join(lines)


def _answer_for(answers: list[dict] | None, message_index: int | None) -> Answer | None:
    """The Answer shown at chatbot message ``message_index`` (the last one when None)."""
    entries = list(answers or [])
    if not entries:
        return None
    if message_index is None:
        return Answer.from_dict(entries[-1]["answer"])
    for entry in entries:
        if entry.get("index") == message_index:
            return Answer.from_dict(entry["answer"])
    return None


def build(ctx: UIContext) -> None:
    ws = ctx.workspace
    answers = gr.State([])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                value=[],
                label=ctx.k("ui.chat.label"),
                height=480,
                placeholder=ctx.k("ui.chat.placeholder"),
                feedback_options=("Like", "Dislike"),
                elem_id="oracle-chatbot",
            )
            with gr.Row():
                question = gr.Textbox(
                    label=ctx.k("ui.chat.question"), placeholder=ctx.k("ui.chat.question_placeholder"),
                    scale=5, lines=1, elem_id="oracle-chat-question",
                )  # fmt: skip
                send_btn = gr.Button(
                    ctx.k("ui.chat.send"), variant="primary", scale=1, elem_id="oracle-chat-send"
                )
            with gr.Row():
                up_btn = gr.Button(ctx.k("ui.chat.good"), elem_id="oracle-rate-up")
                down_btn = gr.Button(ctx.k("ui.chat.bad"), elem_id="oracle-rate-down")
                clear_btn = gr.Button(ctx.k("ui.chat.clear"))
            with gr.Accordion(ctx.k("ui.chat.correct_title"), open=False):
                corrected = gr.Textbox(label=ctx.k("ui.chat.corrected"), lines=3)
                comment = gr.Textbox(label=ctx.k("ui.chat.comment"), lines=2)
            rating_status = gr.Markdown(elem_id="oracle-rating-status")
        with gr.Column(scale=2):
            picker = widgets.generator_picker(ctx, "chat")
            adapter = gr.Dropdown(
                choices=[(ctx.t("ui.chat.no_adapter"), "")], value="", label=ctx.k("ui.chat.adapter"),
                info=ctx.k("ui.chat.adapter_info"), allow_custom_value=True,
            )  # fmt: skip
            defaults = ctx.components.get("rag_defaults") or RAGConfig()
            top_k = gr.Slider(1, 10, value=defaults.top_k, step=1, label=ctx.k("ui.chat.top_k"))
            with gr.Accordion(ctx.k("ui.chat.advanced"), open=False):
                min_score = gr.Slider(
                    -1.0, 1.0, value=defaults.min_score, step=0.01,
                    label=ctx.k("ui.chat.min_score"), info=ctx.k("ui.chat.min_score_info"),
                )  # fmt: skip
                hybrid = gr.Checkbox(value=defaults.hybrid, label=ctx.k("ui.chat.hybrid"))
                max_tokens = gr.Slider(
                    32, 1024, value=defaults.max_new_tokens, step=32, label=ctx.k("ui.chat.max_tokens")
                )

    @guard
    def ask(text, history, session_answers, choice, base_url, model, api_key, adapter_name, k, threshold,
            use_bm25, budget, lang: str):  # fmt: skip
        from oracle.index import load_index
        from oracle.rag import stream_answer

        text = (text or "").strip()
        if not text:
            raise gr.Error(ctx.t("ui.chat.empty_question", lang), print_exception=False)
        history = [m for m in (history or []) if isinstance(m, dict)]
        index = load_index(ws, DEFAULT_INDEX)  # raises IndexNotFoundError before anything is shown
        generator = widgets.make_generator(
            choice, base_url, model, api_key, widgets.adapter_path(ws, adapter_name)
        )
        cfg = RAGConfig(
            top_k=int(k), min_score=float(threshold), hybrid=bool(use_bm25), max_new_tokens=int(budget)
        )
        history.append({"role": "user", "content": text})
        history.append({"role": "assistant", "content": "⏳ " + ctx.t("ui.chat.working", lang)})
        yield history, gr.skip(), ""
        pieces: list[str] = []
        final: Answer | None = None
        for item in stream_answer(text, index, generator, cfg):
            if isinstance(item, Answer):
                final = item
                continue
            pieces.append(item)
            history[-1] = {"role": "assistant", "content": "".join(pieces)}
            yield history, gr.skip(), gr.skip()
        if final is None:  # pragma: no cover - stream_answer always ends with an Answer
            return
        history[-1] = {"role": "assistant", "content": render_answer(ctx, final, lang)}
        session_answers = list(session_answers or []) + [
            {"index": len(history) - 1, "answer": final.to_dict()}
        ]
        yield history, session_answers, ""

    def _rate(valid: bool, session_answers, message_index, fix, note, lang, request, profile):
        from oracle.feedback import rate_answer

        answer = _answer_for(session_answers, message_index)
        if answer is None:
            raise gr.Error(ctx.t("ui.chat.nothing_to_rate", lang), print_exception=False)
        user = ctx.user(request, profile)
        rating = rate_answer(answer, valid, ws, user=user, corrected_answer=fix, comment=note)
        key = "ui.chat.rated_valid" if valid else "ui.chat.rated_invalid"
        return ctx.t(key, lang, user=rating.user), "", ""

    @guard
    def rate_up(session_answers, fix, note, lang: str, request: gr.Request, profile: gr.OAuthProfile | None):
        return _rate(True, session_answers, None, fix, note, lang, request, profile)

    @guard
    def rate_down(
        session_answers, fix, note, lang: str, request: gr.Request, profile: gr.OAuthProfile | None
    ):
        return _rate(False, session_answers, None, fix, note, lang, request, profile)

    @guard
    def rate_message(session_answers, fix, note, lang: str, data: gr.LikeData, request: gr.Request,
                     profile: gr.OAuthProfile | None):  # fmt: skip
        index = data.index if isinstance(data.index, int) else (data.index[0] if data.index else None)
        liked = data.liked
        if isinstance(liked, str):
            liked = liked.lower() in ("like", "true", "up")
        if liked is None:
            return gr.skip(), gr.skip(), gr.skip()
        if _answer_for(session_answers, index) is None:
            raise gr.Error(ctx.t("ui.chat.nothing_to_rate", lang), print_exception=False)
        return _rate(bool(liked), session_answers, index, fix, note, lang, request, profile)

    ask_inputs = [question, chatbot, answers, *picker.inputs, adapter, top_k, min_score, hybrid, max_tokens,
                  ctx.lang_state]  # fmt: skip
    send_btn.click(
        ask, inputs=ask_inputs, outputs=[chatbot, answers, question], api_name="ask", concurrency_id="chat"
    )
    question.submit(
        ask,
        inputs=ask_inputs,
        outputs=[chatbot, answers, question],
        api_name="ask_submit",
        concurrency_id="chat",
    )
    rate_inputs = [answers, corrected, comment, ctx.lang_state]
    rate_outputs = [rating_status, corrected, comment]
    up_btn.click(rate_up, inputs=rate_inputs, outputs=rate_outputs, api_name="rate_up")
    down_btn.click(rate_down, inputs=rate_inputs, outputs=rate_outputs, api_name="rate_down")
    chatbot.like(rate_message, inputs=rate_inputs, outputs=rate_outputs, api_name="rate_message")
    clear_btn.click(
        lambda: ([], [], ""), inputs=None, outputs=[chatbot, answers, rating_status], api_name="chat_clear"
    )

    def _adapter_choices(lang: str) -> Any:
        choices = [(ctx.t("ui.chat.no_adapter", lang), "")] + widgets.list_adapters(ws)
        return gr.Dropdown(choices=choices)

    @guard
    def on_show(lang: str):
        return _adapter_choices(lang), gr.Dropdown(choices=widgets.generator_choices(ctx, lang))

    ctx.on_load(on_show, [adapter, picker.choice], api_name="chat_load")
    ctx.on_show(on_show, [adapter, picker.choice], api_name="chat_show")
