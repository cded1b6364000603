"""Tab "Chat": questions answered from the index, streamed, with their sources; 👍/👎 ratings.

A question goes through :func:`oracle.feedback.stream_and_store` (:func:`oracle.rag.stream_answer`:
retrieve top-k, numbered sources, generate; the final answer stored on the server in
``data_qa/answers.jsonl``, as the CLI's ``ask`` does); pieces are streamed into the
``gr.Chatbot`` (messages format) and, at the end, the answer is re-rendered with its sources
(document, page, cited snippet) under it. Each answer of the session is kept in a ``gr.State``
so that 👍/👎 (buttons for the last answer, or the chatbot's own thumbs on any answer) can name
it: the rating goes through :func:`oracle.feedback.rate_stored_answer` with the answer's id,
so what is rated is the server's record of the answer, never the copy the browser holds. It
records who rated (Hugging Face OAuth user, ``launch(auth=...)`` user, else anonymous). Rating
an answer again replaces the earlier rating (:func:`oracle.feedback.current_ratings`).

The conversation survives a page reload: after each answer (and after "clear") the messages
and the answers the rating buttons need are saved in the browser's ``localStorage`` through a
``gr.BrowserState`` (:func:`history_to_store`), and put back when the tab's components mount
(:func:`history_from_store`). Only the question, the rendered answer and its
:class:`~oracle.schema.Answer` are stored: never the API key field. That copy only redraws the
conversation and names the answers; an answer the server no longer has cannot be rated
(:class:`~oracle.errors.AnswerNotFoundError`, said in the person's language).

The LoRA adapter dropdown lists the generator's adapters with their base model
(:func:`oracle.ui.widgets.adapter_choices`); choosing one whose base is not the selected generator
switches the generator to that base and says so (:func:`oracle.ui.widgets.generator_for_adapter`);
choosing a generator that does not fit the chosen adapter removes the adapter and says so. The
core refuses a mismatched pair anyway (:func:`oracle.llm.check_adapter_base`).
"""

import hashlib
import html
import logging
from typing import Any

import gradio as gr

from oracle.config import RAGConfig, Workspace
from oracle.errors import ModelNotFoundError
from oracle.schema import Answer, Citation, Retrieved
from oracle.ui import guide, widgets
from oracle.ui.context import UIContext, guard

logger = logging.getLogger(__name__)

SNIPPET_CHARS = 240

STORE_VERSION = 1
"""Format version of the conversation saved in the browser (:func:`history_to_store`)."""
MAX_STORED_MESSAGES = 100
"""Most chat messages (questions + answers) kept in the browser; older turns are dropped
(``localStorage`` holds about 5 MB per site)."""


def empty_store() -> dict[str, Any]:
    """The saved conversation of a new browser: ``{"version": 1, "messages": [], "answers": []}``."""
    return {"version": STORE_VERSION, "messages": [], "answers": []}


def storage_key(workspace: Workspace) -> str:
    """The ``localStorage`` key of the conversation: one per workspace folder, stable across
    server restarts (``"oracle-chat-"`` + 16 hex digits of the folder's sha256)."""
    return "oracle-chat-" + hashlib.sha256(str(workspace.home).encode("utf-8")).hexdigest()[:16]


def storage_secret(workspace: Workspace) -> str:
    """The ``gr.BrowserState`` encryption secret, stable across restarts so a saved conversation
    still opens after one. Gradio sends this secret to the page, so the encryption only keeps the
    stored text from being read at a glance; nothing secret is ever stored."""
    return hashlib.sha256(b"oracle-chat-secret:" + str(workspace.home).encode("utf-8")).hexdigest()[:32]


def message_text(content: Any) -> str:
    """A chatbot message's text: a string as is; gradio 6's list of parts (``[{"type": "text",
    "text": ...}, ...]``) or one such dict joined; anything else (files, components) -> ``""``."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        text = content.get("text")
        return text if isinstance(text, str) else ""
    if isinstance(content, (list, tuple)):
        return "".join(message_text(part) for part in content if isinstance(part, (dict, str)))
    return ""


def history_to_store(messages: Any, answers: Any, limit: int = MAX_STORED_MESSAGES) -> dict[str, Any]:
    """What the browser keeps of a conversation (the ``gr.BrowserState`` value).

    Args:
        messages: the chatbot's value, ``[{"role": "user" | "assistant", "content": str | parts}]``.
        answers: the session's answers, ``[{"index": int, "answer": Answer.to_dict()}]``, where
            ``index`` is the position of the answer's message in ``messages``.
        limit: most messages kept; the oldest turns are dropped (the kept part starts at a
            question) and the answers' indexes shifted to match.

    Returns:
        ``{"version": 1, "messages": [{"role", "content": str}], "answers": [{"index", "answer"}]}``:
        messages of other roles dropped, contents as plain text, answers whose message was
        dropped left out. Only chat text and answers: no setting, no API key.
    """
    kept: list[dict[str, str]] = []
    position: dict[int, int] = {}
    for i, m in enumerate(messages or []):
        if isinstance(m, dict) and m.get("role") in ("user", "assistant"):
            position[i] = len(kept)
            kept.append({"role": m["role"], "content": message_text(m.get("content"))})
    cut = max(0, len(kept) - max(0, int(limit)))
    while cut < len(kept) and kept[cut]["role"] != "user":
        cut += 1
    out_answers = []
    for entry in answers or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("answer"), dict):
            continue
        new = position.get(entry.get("index")) if isinstance(entry.get("index"), int) else None
        if new is None or new < cut:
            continue
        out_answers.append({"index": new - cut, "answer": entry["answer"]})
    return {"version": STORE_VERSION, "messages": kept[cut:], "answers": out_answers}


def history_from_store(stored: Any, limit: int = MAX_STORED_MESSAGES) -> tuple[list[dict], list[dict]]:
    """The chatbot messages and session answers to show again from a saved conversation.

    The value comes from the browser, so it is checked, not trusted: a value of another
    version or shape gives ``([], [])``; messages of other roles or shapes are dropped (the
    answers' indexes follow), contents become plain text (:func:`message_text`); an answer must
    point at an assistant message, once, and load as an :class:`~oracle.schema.Answer`.

    Returns:
        ``(messages, answers)`` in the shapes of :func:`history_to_store`'s arguments.
    """
    if not isinstance(stored, dict) or stored.get("version") != STORE_VERSION:
        return [], []
    raw = stored.get("messages")
    if not isinstance(raw, list):
        return [], []
    answers_raw = stored.get("answers")
    cleaned = history_to_store(raw, answers_raw if isinstance(answers_raw, list) else [], limit)
    messages = cleaned["messages"]
    answers, seen = [], set()
    for entry in cleaned["answers"]:
        i = entry["index"]
        if i in seen or messages[i]["role"] != "assistant":
            continue
        try:
            answer = Answer.from_dict(entry["answer"])
        except Exception as exc:  # noqa: BLE001 - a tampered or outdated entry: dropped
            logger.debug("saved answer %d dropped: %s", i, exc)
            continue
        if not isinstance(answer.question, str) or not isinstance(answer.text, str):
            continue
        seen.add(i)
        answers.append({"index": i, "answer": answer.to_dict()})
    return messages, answers


def feedback_values(messages: Any, answers: Any, verdicts: dict[str, bool]) -> list[str | None]:
    """The chatbot's 👍/👎 highlight (``gr.Chatbot(feedback_value=...)``): one entry per assistant
    message, in order, ``"Like"`` / ``"Dislike"`` when its answer was rated (``verdicts``:
    answer_id -> valid, the latest rating of each answer), else None.

    Args:
        messages: the chatbot's messages.
        answers: the session's answers, ``[{"index": int, "answer": Answer.to_dict()}]``.
        verdicts: from the workspace's ratings (:func:`oracle.feedback.rating_verdicts`).
    """
    ids = {e.get("index"): e["answer"].get("answer_id") for e in answers or []
           if isinstance(e, dict) and isinstance(e.get("answer"), dict)}  # fmt: skip
    out: list[str | None] = []
    for i, message in enumerate(messages or []):
        if isinstance(message, dict) and message.get("role") == "assistant":
            verdict = verdicts.get(ids.get(i) or "")
            out.append(None if verdict is None else ("Like" if verdict else "Dislike"))
    return out


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


CLAIM_MAX_CHARS = 40
"""An unsupported claim longer than this (a runaway number) is shown cut, with "…"."""


def render_answer(ctx: UIContext, answer: Answer, lang: str) -> str:
    """The answer's text followed by its sources: ``[n] document, p. X — “snippet”``.

    Cited sources are listed when the model cited any; otherwise every source it was given
    (under another heading); none when nothing relevant was found."""
    text = answer.text
    verdict = getattr(answer, "verdict", "")
    if verdict == "unsupported" and answer.unsupported:
        claims = ", ".join(f"“{html.escape(_snippet(c, CLAIM_MAX_CHARS))}”" for c in answer.unsupported)
        text += "\n\n" + ctx.t("ui.chat.verdict.unsupported", lang, claims=claims)
    elif verdict in ("quoted", "off_topic", "no_figure", "no_email", "unanswerable", "reconsidered"):
        text = ctx.t(f"ui.chat.verdict.{verdict}", lang) + "\n\n" + text
    sources: list[Citation] = answer.citations or answer.sources
    if not sources or not answer.grounded and not answer.citations:
        return text
    heading = ctx.t("ui.chat.sources" if answer.citations else "ui.chat.sources_consulted", lang)
    lines = [text, "", f"**{heading}**", ""]
    for c in sources:
        page = (ctx.t("ui.chat.page_printed", lang, page=c.page, label=c.page_label)
                if c.page_label and str(c.page_label) != str(c.page) else ctx.t("ui.chat.page", lang, page=c.page))
        snippet = html.escape(_snippet(c.snippet))
        mark = "" if (c.verified or not answer.citations) else f" ({ctx.t('ui.chat.unverified_quote', lang)})"
        lines.append(f"- **[{c.n}]** {html.escape(c.doc_name)}, {page} — “{snippet}”{mark}")
    return "\n".join(lines)


def reading_message(ctx: UIContext, retrieved: Retrieved, lang: str) -> str:
    """What the chat shows while the generator reads the sources (seconds of prefill on a CPU):
    their documents with their pages (:func:`oracle.rag.sources_label`: "edital.pdf, p. 1, 3;
    manual.pdf, p. 7")."""
    from oracle.rag import sources_label

    return ctx.t("ui.chat.reading", lang, sources=sources_label(retrieved.hits))


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


def promoted_choice(ctx: UIContext) -> tuple[str | None, str]:
    """``(generator value, adapter name)`` to pre-select from the workspace's chat defaults
    (:func:`oracle.defaults.read_defaults`, written by a "Melhorar o Oráculo" promotion or rollback).

    ``(None, "")`` when nothing was ever promoted (no ``run_id``), when :func:`oracle.ui.create_app`
    was given a generator (the caller pinned it) or when the promoted generator is a server one
    (``openai:``, whose fields the person fills): the app's own defaults stand. A bare name or
    folder becomes ``local:<it>``. The adapter is its folder name under ``adapters/`` when it is
    still there, else ``""``."""
    from oracle.defaults import read_defaults

    promoted = read_defaults(ctx.workspace)
    if not promoted.run_id or "default_generator" in ctx.components or promoted.generator.startswith("openai:"):
        return None, ""
    adapter = promoted.adapter if promoted.adapter and widgets.find_adapter(ctx.workspace, promoted.adapter) else ""
    spec = promoted.generator
    return (spec if spec.startswith("local:") else f"local:{spec}"), adapter


def slider_gate(workspace: Workspace, defaults: RAGConfig) -> float:
    """The relevance-gate slider's value (a cosine): ``defaults.min_score`` when the app was given
    one, else the gate recorded in the chat index's ``index.json`` (its embedder's default; see
    :func:`oracle.index.index_stats`), else, with no index yet, the default embedder's."""
    if defaults.min_score is not None:
        return float(defaults.min_score)
    from oracle.defaults import read_defaults
    from oracle.index import index_stats

    gate = index_stats(workspace, read_defaults(workspace).index).get("min_score")
    if gate is None:
        from oracle.config import DEFAULT_EMBEDDER
        from oracle.models import embedder_min_score

        gate = embedder_min_score(DEFAULT_EMBEDDER)
    return float(gate)


def build(ctx: UIContext) -> None:
    ws = ctx.workspace
    answers = gr.State([])
    saved = gr.BrowserState(empty_store(), storage_key=storage_key(ws), secret=storage_secret(ws))
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
                clear_btn = gr.Button(ctx.k("ui.chat.clear"), elem_id="oracle-chat-clear", scale=0, min_width=160)
            # the confirmation right under the buttons (and under the chat's own 👍/👎), naming the answer
            rating_status = gr.Markdown(elem_id="oracle-rating-status", elem_classes=["oracle-confirm"])
            gr.Markdown(ctx.k("ui.chat.rate_info"), elem_classes=["oracle-hint"])
            with gr.Accordion(ctx.k("ui.chat.correct_title"), open=False):
                corrected = gr.Textbox(label=ctx.k("ui.chat.corrected"), lines=3)
                comment = gr.Textbox(label=ctx.k("ui.chat.comment"), lines=2)
        with gr.Column(scale=2):
            picker = widgets.generator_picker(ctx, "chat")
            adapter = gr.Dropdown(
                choices=[(ctx.t("ui.chat.no_adapter"), "")] + widgets.adapter_choices(ws), value="",
                label=ctx.k("ui.chat.adapter"), info=ctx.k("ui.chat.adapter_info"), allow_custom_value=True,
                elem_id="oracle-chat-adapter",
            )  # fmt: skip
            adapter_status = gr.Markdown(elem_id="oracle-adapter-status")
            defaults = ctx.components.get("rag_defaults") or RAGConfig()
            top_k = gr.Slider(1, 10, value=defaults.top_k, step=1, label=ctx.k("ui.chat.top_k"),
                              info=ctx.k("ui.chat.top_k_info"))  # fmt: skip
            with gr.Accordion(ctx.k("ui.chat.advanced"), open=False):
                # The gate follows the index's embedder (index.json's min_score) unless the app was
                # started with an explicit one; the slider is refreshed on load / when the tab shows.
                min_score = gr.Slider(
                    -1.0, 1.0, value=slider_gate(ws, defaults), step=0.01,
                    label=ctx.k("ui.chat.min_score"), info=ctx.k("ui.chat.min_score_info"),
                )  # fmt: skip
                auto_gate = gr.State(slider_gate(ws, defaults))
                hybrid = gr.Checkbox(value=defaults.hybrid, label=ctx.k("ui.chat.hybrid"),
                                     info=ctx.k("ui.chat.hybrid_info"))  # fmt: skip
                max_tokens = gr.Slider(
                    32, 1024, value=defaults.max_new_tokens, step=32, label=ctx.k("ui.chat.max_tokens")
                )

    def _chosen_adapter(name: str | None) -> str | None:
        """The folder of the chosen generator adapter; None for none. Raises ModelNotFoundError."""
        if not name:
            return None
        found = widgets.find_adapter(ws, name)
        if found is None:
            raise ModelNotFoundError("err.adapter_not_found", name=name)
        return found.path

    @guard
    def ask(text, history, session_answers, choice, base_url, model, api_key, adapter_name, k, threshold,
            use_bm25, budget, lang: str):  # fmt: skip
        from oracle.feedback import stream_and_store
        from oracle.index import load_index

        text = (text or "").strip()
        if not text:
            raise gr.Error(ctx.t("ui.chat.empty_question", lang), print_exception=False)
        history = [m for m in (history or []) if isinstance(m, dict)]
        # Cheap checks first (nothing loads yet): an adapter on another base model is refused here.
        generator = widgets.make_generator(choice, base_url, model, api_key, _chosen_adapter(adapter_name))
        from oracle.defaults import read_defaults

        index = load_index(ws, read_defaults(ws).index)  # raises IndexNotFoundError before anything is shown
        cfg = RAGConfig(
            top_k=int(k), min_score=float(threshold), hybrid=bool(use_bm25), max_new_tokens=int(budget)
        )
        history.append({"role": "user", "content": text})
        history.append({"role": "assistant", "content": "⏳ " + ctx.t("ui.chat.working", lang)})
        yield history, gr.skip(), ""
        pieces: list[str] = []
        final: Answer | None = None
        for item in stream_and_store(text, index, generator, ws, cfg):  # the answer of record: on the server
            if isinstance(item, Answer):
                final = item
                continue
            if isinstance(item, Retrieved):  # the model reads them now: say which, until its first words
                history[-1] = {"role": "assistant", "content": "⏳ " + reading_message(ctx, item, lang)}
                yield history, gr.skip(), gr.skip()
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
        yield history, session_answers, gr.skip()  # the box may hold the next question, typed meanwhile

    def _rate(valid: bool, session_answers, message_index, fix, note, lang, request, profile):
        from oracle.feedback import rate_stored_answer

        answer = _answer_for(session_answers, message_index)
        if answer is None:
            raise gr.Error(ctx.t("ui.chat.nothing_to_rate", lang), print_exception=False)
        user = ctx.user(request, profile)
        # the server's record of the answer is rated (AnswerNotFoundError when it has none)
        rating = rate_stored_answer(ws, answer.answer_id, valid, user=user, corrected_answer=fix, comment=note)
        key = "ui.chat.rated_valid" if valid else "ui.chat.rated_invalid"
        question = rating.question if len(rating.question) <= 90 else rating.question[:89].rstrip() + "…"
        return ctx.t(key, lang, user=ctx.display_user(rating.user, lang), question=html.escape(question)), "", ""

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

    # --- adapter <-> generator ----------------------------------------------------------

    def _generator_label(choice: str | None, lang: str) -> str:
        from oracle.llm import model_label

        local = widgets.local_model(choice)
        if local is not None:
            return model_label(local)
        if (choice or "").strip() == widgets.OPENAI_CHOICE:
            return ctx.t("ui.chat.adapter_remote", lang)
        return str(choice)

    @guard
    def choose_adapter(name, choice, lang: str):
        """Adapter chosen -> (generator value, adapter value, status): keep, switch or refuse."""
        from oracle.llm import model_label

        choice = (choice or "").strip() or widgets.default_generator()
        if not name:
            return choice, "", ""
        found = widgets.find_adapter(ws, name)
        if found is None:
            return choice, "", "⚠️ " + ctx.t("err.adapter_not_found", lang, name=name)
        values = [value for _, value in widgets.generator_choices(ctx, lang)]
        decision = widgets.generator_for_adapter(choice, found.bases, values)
        base = model_label(decision.base) if decision.base else ""
        if decision.action == "unknown":
            return choice, name, ctx.t("ui.chat.adapter_base_unknown", lang, adapter=name)
        if decision.action == "unavailable":
            message = ctx.t("ui.chat.adapter_unavailable", lang, adapter=name, base=base, path=decision.base)
            return choice, "", message
        if decision.action == "keep":
            return choice, name, ctx.t("ui.chat.adapter_fits", lang, adapter=name, base=base)
        message = ctx.t("ui.chat.adapter_switched", lang, adapter=name, base=base,
                        previous=_generator_label(choice, lang))  # fmt: skip
        return decision.generator, name, message

    @guard
    def choose_generator(choice, name, lang: str):
        """Generator chosen by hand -> (adapter value, status): an adapter that does not fit goes."""
        from oracle.llm import model_label, same_model

        found = widgets.find_adapter(ws, name) if name else None
        if found is None or not found.bases:
            return name or "", ""
        local = widgets.local_model(choice)
        base = model_label(found.base_model)
        if local is not None and any(same_model(local, b) for b in found.bases):
            return name, ctx.t("ui.chat.adapter_fits", lang, adapter=name, base=base)
        target = _generator_label(choice, lang)
        message = ctx.t("ui.chat.adapter_removed", lang, adapter=name, base=base, model=target)
        return "", message

    # --- conversation kept in the browser -----------------------------------------------

    def save_history(history, session_answers):
        return history_to_store(history, session_answers)

    def restore_history(stored, history, lang: str):
        """Put a saved conversation back, unless this page already shows one (or none was saved)."""
        if [m for m in (history or []) if isinstance(m, dict)]:
            return gr.skip(), gr.skip()
        messages, restored = history_from_store(stored)
        if not messages:
            return gr.skip(), gr.skip()
        return messages, restored

    def restore_lit(stored, history, lang: str):
        """:func:`restore_history`, with the 👍/👎 given before the reload lit again (read from
        the workspace's ratings)."""
        messages, restored = restore_history(stored, history, lang)
        if not isinstance(messages, list):
            return messages, restored
        from oracle.feedback import rating_verdicts

        lit = feedback_values(messages, restored, rating_verdicts(ws))
        return gr.Chatbot(value=messages, feedback_value=lit), restored

    def show_feedback(history, session_answers):
        """Light the chatbot's 👍/👎 of every rated answer (also after the big buttons)."""
        from oracle.feedback import rating_verdicts

        return gr.Chatbot(feedback_value=feedback_values(history, session_answers, rating_verdicts(ws)))

    def clear():
        return [], [], "", empty_store()

    ask_inputs = [question, chatbot, answers, *picker.inputs, adapter, top_k, min_score, hybrid, max_tokens,
                  ctx.lang_state]  # fmt: skip
    save = {"fn": save_history, "inputs": [chatbot, answers], "outputs": [saved], "api_name": "chat_save",
            "api_visibility": "private", "show_progress": "hidden"}
    # The button and Enter are one event, so that a question sent while an answer is still being
    # written, either way, is asked when that answer ends ("always_last"; gradio's default,
    # "once", dropped it, and two separate events ran at once over the same conversation).
    asked = gr.on(
        [send_btn.click, question.submit], ask, inputs=ask_inputs, outputs=[chatbot, answers, question],
        api_name="ask", concurrency_id="chat", trigger_mode="always_last",
    )
    asked.success(**save)
    guide.after(ctx, asked)
    rate_inputs = [answers, corrected, comment, ctx.lang_state]
    rate_outputs = [rating_status, corrected, comment]
    for rated, name in (
        (up_btn.click(rate_up, inputs=rate_inputs, outputs=rate_outputs, api_name="rate_up"), "rate_up"),
        (down_btn.click(rate_down, inputs=rate_inputs, outputs=rate_outputs, api_name="rate_down"), "rate_down"),
        (chatbot.like(rate_message, inputs=rate_inputs, outputs=rate_outputs, api_name="rate_message"), "rate_message"),
    ):  # fmt: skip
        rated.success(show_feedback, inputs=[chatbot, answers], outputs=[chatbot], api_name=f"{name}_feedback",
                      api_visibility="private", show_progress="hidden", queue=False)  # fmt: skip
        guide.after(ctx, rated)
    clear_btn.click(
        clear, inputs=None, outputs=[chatbot, answers, rating_status, saved], api_name="chat_clear"
    )
    # The tab's components mount when the tab is first shown; the BrowserState then reads
    # localStorage and fires "change" (saving fires it too: the page then shows a conversation
    # already, and restore_history leaves it alone).
    saved.change(restore_history, inputs=[saved, chatbot, ctx.lang_state], outputs=[chatbot, answers],
                 api_name="chat_restore", show_progress="hidden", queue=False).then(
        show_feedback, inputs=[chatbot, answers], outputs=[chatbot], api_name="chat_restore_feedback",
        api_visibility="private", show_progress="hidden", queue=False,
    )  # fmt: skip
    adapter.input(choose_adapter, inputs=[adapter, picker.choice, ctx.lang_state],
                  outputs=[picker.choice, adapter, adapter_status], api_name="chat_adapter")  # fmt: skip
    picker.choice.input(choose_generator, inputs=[picker.choice, adapter, ctx.lang_state],
                        outputs=[adapter, adapter_status], api_name="chat_generator")  # fmt: skip

    def _adapter_choices(lang: str) -> Any:
        choices = [(ctx.t("ui.chat.no_adapter", lang), "")] + widgets.adapter_choices(ws)
        return gr.Dropdown(choices=choices)

    @guard
    def on_show(threshold, shown_gate, lang: str):
        # Follow the index's gate (it changes with a re-index) unless the user moved the slider.
        gate = slider_gate(ws, defaults)
        # half a slider step: the browser may round the value it was given
        moved = None not in (threshold, shown_gate) and abs(float(threshold) - float(shown_gate)) > 0.005
        if moved:
            slider, gate = gr.skip(), shown_gate
        else:
            slider = gr.Slider(value=gate)
        return _adapter_choices(lang), gr.Dropdown(choices=widgets.generator_choices(ctx, lang)), slider, gate

    @guard
    def on_load(threshold, shown_gate, lang: str):
        """Page load: as :func:`on_show`, and the generator and adapter a "Melhorar o Oráculo" run
        promoted are pre-selected (:func:`promoted_choice`); the person can still change them."""
        adapters, generators, slider, gate = on_show(threshold, shown_gate, lang)
        generator, adapter_name = promoted_choice(ctx)
        if generator is None:
            return adapters, generators, slider, gate
        choices = widgets.generator_choices(ctx, lang)
        if generator not in [v for _, v in choices]:
            choices.insert(0, (generator, generator))
        return (gr.Dropdown(choices=adapters.choices, value=adapter_name), gr.Dropdown(choices=choices, value=generator),
                slider, gate)

    ctx.on_load(on_load, [adapter, picker.choice, min_score, auto_gate], api_name="chat_load",
                inputs=[min_score, auto_gate])  # fmt: skip
    ctx.on_load(restore_lit, [chatbot, answers], api_name="chat_restore_load", inputs=[saved, chatbot])
    ctx.on_show(on_show, [adapter, picker.choice, min_score, auto_gate], api_name="chat_show",
                inputs=[min_score, auto_gate])  # fmt: skip
