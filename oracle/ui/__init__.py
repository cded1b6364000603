"""The Gradio app: one module per tab, built by :func:`create_app`, launched by ``app.py``.

This package is the only place that imports gradio. Each tab module exposes
``build(ctx: UIContext) -> None`` and calls the core for every action; see
:mod:`oracle.ui.context` for what tabs share and the conventions they follow.

Usage (what ``app.py`` does)::

    from oracle.ui import create_app, launch_kwargs
    create_app().queue(default_concurrency_limit=2).launch(**launch_kwargs())

Environment: ``ORACLE_HOME`` (workspace), ``ORACLE_LANG`` (``pt`` default, or ``en``),
``ORACLE_MAX_UPLOAD_MB`` (upload limit, default 50), ``ORACLE_AUTH``
(``"user1:pass1,user2:pass2"``: password login), ``ORACLE_GENERATOR`` / ``ORACLE_EMBEDDER``
(default choices), ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` (read by gradio), and
``SPACE_ID`` + ``OAUTH_CLIENT_ID`` (set by Hugging Face Spaces with ``hf_oauth: true``: shows
the "Sign in with Hugging Face" button; needs ``gradio[oauth]``).

Nothing heavy happens here: no model is loaded until a person asks for one, so the page
is served within seconds of start.
"""

import importlib
import importlib.util
import logging
import os
from typing import Any

import gradio as gr

from oracle.config import IngestConfig, RAGConfig, Workspace
from oracle.i18n import current_lang, t
from oracle.jobs.threads import get_registry
from oracle.ui import locales  # noqa: F401  (registers the ui.* strings into oracle.i18n.t; first)
from oracle.ui import guide, security
from oracle.ui.context import UIContext, session_lang, translatable_components

logger = logging.getLogger(__name__)

LANGUAGE_CHOICES = [("Português (Brasil)", "pt"), ("English", "en")]

# (tab id, i18n key of its label, module under oracle.ui)
TABS = [
    ("documents", "ui.tab.documents", "documents"),
    ("qa", "ui.tab.qa", "qa"),
    ("index", "ui.tab.index", "index_tab"),
    ("finetune", "ui.tab.finetune", "improve"),  # "Melhorar o Oráculo"; its Avançado part is oracle.ui.finetune
    ("chat", "ui.tab.chat", "chat"),
    ("ratings", "ui.tab.ratings", "ratings"),
    ("evaluation", "ui.tab.evaluation", "evaluation"),
]

CSS = """
#oracle-header { align-items: center; }
.oracle-progress { display: flex; flex-wrap: wrap; align-items: center; gap: .5em; }
.oracle-progress progress { width: 16em; height: 1em; }
.oracle-progress-detail { width: 100%; opacity: .8; font-size: .9em; }
/* "Melhorar o Oráculo": the run's stages */
.oracle-stages table { width: 100%; border-collapse: collapse; }
.oracle-stages th, .oracle-stages td { padding: .3em .6em; text-align: left; border-bottom: 1px solid var(--border-color-primary); }
.oracle-stages progress { width: 8em; height: .9em; vertical-align: middle; }
/* "Como começar": the five steps as one row of buttons */
#oracle-guide .oracle-step { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
#oracle-guide .oracle-step-done { border-color: var(--color-green-300, #86efac); }
.oracle-needs { align-items: center; border: 1px solid var(--color-accent-soft); border-radius: var(--radius-lg);
                padding: .25em .75em; background: var(--background-fill-secondary); }
/* QA review table: the pair id is data, not for reading; rows are not added by hand */
#oracle-qa-table th[data-heading="0"], #oracle-qa-table [role="gridcell"][data-col="0"],
#oracle-qa-table td:first-child { display: none; }
#oracle-qa-table .add-row-button, #oracle-qa-table .cell-menu-button { display: none; }
/* table headers wrap between words, never inside one */
.table-wrap th .header { word-break: normal !important; overflow-wrap: normal !important; hyphens: manual; }
.oracle-hint { opacity: .8; font-size: .9em; }
#oracle-rating-status p { background: var(--color-accent-soft); border-radius: var(--radius-lg); padding: .5em .75em;
                          margin: 0; }
"""

# Language switch: reload the page with ?lang=<code> (labels are rendered on page load).
LANGUAGE_JS = """
(value) => {
    const url = new URL(window.location.href);
    url.searchParams.set("lang", value);
    window.location.assign(url.toString());
    return value;
}
"""


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    """``"user1:pass1,user2:pass2"`` -> ``[("user1", "pass1"), ("user2", "pass2")]``; None when blank.

    A password may contain ``:`` (the user name ends at the first one). Entries without a
    ``:`` or with an empty user or password are ignored (and logged, without the password).
    """
    if not value or not value.strip():
        return None
    pairs = []
    for entry in value.split(","):
        user, sep, password = entry.strip().partition(":")
        if sep and user.strip() and password:
            pairs.append((user.strip(), password))
        elif entry.strip():
            logger.warning("ORACLE_AUTH: ignoring an entry without 'user:password' (user %r)", user.strip())
    return pairs or None


def oauth_enabled() -> bool:
    """True on a Hugging Face Space with OAuth configured: ``SPACE_ID`` and ``OAUTH_CLIENT_ID`` set
    (the Space's README has ``hf_oauth: true``) and gradio's OAuth extra (``authlib``) installed."""
    if not (os.environ.get("SPACE_ID") and os.environ.get("OAUTH_CLIENT_ID")):
        return False
    if importlib.util.find_spec("authlib") is None:
        logger.warning("Hugging Face OAuth is configured but authlib is missing: pip install 'gradio[oauth]'")
        return False
    return True


def max_upload_mb() -> float:
    """The upload limit in MB (``ORACLE_MAX_UPLOAD_MB``, default 50); also the ingest limit."""
    return IngestConfig().max_file_mb


def launch_kwargs(lang: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``: upload limit (bytes), auth from ``ORACLE_AUTH``,
    theme and CSS (gradio 6 takes them at launch), no SSR (start fast, no Node needed), no run
    history (it would keep the API key typed in the page); gradio's own texts in the page's
    language (:mod:`oracle.ui.locale`: a middleware that sets the browser locale gradio reads,
    plus Portuguese for the gradio keys its ``pt-BR`` file lacks).

    Server name and port are left to gradio, which reads ``GRADIO_SERVER_NAME`` and
    ``GRADIO_SERVER_PORT``."""
    from starlette.middleware import Middleware

    from oracle.ui.locale import GRADIO_PT, LocaleMiddleware

    kwargs: dict[str, Any] = {
        "max_file_size": int(max_upload_mb() * 1024 * 1024),
        "css": CSS,
        "theme": gr.themes.Soft(),
        "ssr_mode": False,
        "show_error": False,
        # gradio 6 records every call's inputs in the browser (or a Hub bucket) by default:
        # that would store the OpenAI-compatible API key. Off.
        "run_history": False,
        "footer_links": ["api", "settings"],
        "i18n": gr.I18n(**{"pt-BR": GRADIO_PT}),
        "app_kwargs": {"middleware": [Middleware(LocaleMiddleware, lang=current_lang(lang))]},
    }
    # No public /openapi.json, and no API schema in the page before login (oracle.ui.security).
    security.harden_launch_kwargs(kwargs)
    auth = parse_auth(os.environ.get("ORACLE_AUTH"))
    if auth:
        kwargs["auth"] = auth
        kwargs["auth_message"] = t("ui.app.auth_message", lang)
    return kwargs


def _request_lang(request: gr.Request | None, default: str) -> str:
    value = None
    if request is not None:
        try:
            value = request.query_params.get("lang")
        except Exception:  # noqa: BLE001 - no query params on this request
            value = None
    return session_lang(value) if value else default


def _loader(fn, default_lang: str):
    """Wrap ``fn(*inputs, lang)`` as a page-load handler that reads ``?lang=`` from the request."""

    def load(request: gr.Request, *args):
        return fn(*args, _request_lang(request, default_lang))

    return load


def create_app(
    workspace: Workspace | None = None,
    lang: str | None = None,
    generator: str | None = None,
    embedder: str | None = None,
    rag: RAGConfig | None = None,
    improve: Any = None,
) -> gr.Blocks:
    """Build the Oráculo app (not launched).

    Args:
        workspace: where documents, QA pairs, indexes, adapters and ratings live
            (default ``Workspace()``: ``ORACLE_HOME``, ``/data`` on Spaces, else the cwd).
        lang: start-up language (default ``ORACLE_LANG``, else ``"pt"``); a page opened with
            ``?lang=en`` renders in English.
        generator: default generator spec of the QA and chat tabs (default
            ``ORACLE_GENERATOR``, else the bundled Qwen model), e.g. ``"local:smollm2-135m-instruct"``.
        embedder: default embedder of the index tab (default ``ORACLE_EMBEDDER``, else
            multilingual-e5-small).
        rag: defaults of the chat's retrieval settings (top-k, minimum similarity...);
            default ``RAGConfig()``.
        improve: the :class:`oracle.improve.ImproveConfig` the "Melhorar o Oráculo" button runs
            with (teacher, student, sizes...); default ``ImproveConfig()``.

    Returns:
        The ``gr.Blocks``; ``demo.oracle_ctx`` is its :class:`UIContext`.
    """
    ws = workspace or Workspace()
    ctx = UIContext(
        workspace=ws,
        lang=current_lang(lang),
        tasks=get_registry(ws),
        max_upload_mb=max_upload_mb(),
        oauth=oauth_enabled(),
    )
    if generator:
        ctx.components["default_generator"] = generator
    if embedder:
        ctx.components["default_embedder"] = embedder
    if rag is not None:
        ctx.components["rag_defaults"] = rag
    if improve is not None:
        ctx.components["improve_config"] = improve

    with gr.Blocks(title="Oráculo", analytics_enabled=False) as demo:
        ctx.demo = demo
        ctx.lang_state = gr.State(ctx.lang)
        with gr.Row(elem_id="oracle-header", equal_height=True):
            with gr.Column(scale=5):
                gr.Markdown(ctx.k("ui.app.header"))
            with gr.Column(scale=1, min_width=180):
                language = gr.Dropdown(
                    choices=LANGUAGE_CHOICES, value=ctx.lang, label=ctx.k("ui.app.language"),
                    elem_id="oracle-language",
                )  # fmt: skip
                if ctx.oauth:
                    gr.LoginButton()
        guide.build_guide(ctx)
        tab_blocks = {}
        with gr.Tabs(elem_id="oracle-tabs") as tabs:
            for tab_id, key, module_name in TABS:
                with gr.Tab(ctx.k(key), id=tab_id, elem_id=f"oracle-tab-{tab_id}") as tab:
                    ctx.tab = tab
                    tab_blocks[tab_id] = tab
                    guide.tab_notice(ctx, tab_id)
                    importlib.import_module(f"oracle.ui.{module_name}").build(ctx)
        ctx.tab = None
        ctx.components["tabs"] = tabs
        guide.wire(ctx, tabs, tab_blocks)

        translatables = translatable_components(demo)

        def page_load(request: gr.Request):
            session = _request_lang(request, ctx.lang)
            if session == ctx.lang:
                return [session, gr.skip()] + [gr.skip() for _ in translatables]
            updates = []
            for block, props in translatables:
                updates.append(gr.update(**{prop: key.render(session) for prop, key in props.items()}))
            return [session, gr.Dropdown(value=session)] + updates

        demo.load(
            page_load,
            inputs=None,
            outputs=[ctx.lang_state, language, *[b for b, _ in translatables]],
            api_name="page_load",
            show_progress="hidden",
        )
        for fn, outputs, api_name, inputs in ctx._loaders:
            demo.load(
                _loader(fn, ctx.lang),
                inputs=inputs,
                outputs=outputs,
                api_name=api_name,
                show_progress="hidden",
            )
        for tab, fn, outputs, api_name, inputs in ctx._shows:
            if tab is not None:
                tab.select(fn, inputs=[*inputs, ctx.lang_state], outputs=outputs, api_name=api_name,
                           show_progress="hidden")  # fmt: skip
        language.input(None, inputs=[language], outputs=None, js=LANGUAGE_JS, api_name="set_language")

    demo.oracle_ctx = ctx  # type: ignore[attr-defined]
    return demo
