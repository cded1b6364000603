"""What the tab modules of the app share: workspace, language, tasks, user, error handling.

Each tab module (``oracle.ui.documents``, ``qa``, ``index_tab``, ``chat``, ``ratings``,
``finetune``) exposes ``build(ctx: UIContext) -> None`` and is called inside its ``gr.Tab``
by :func:`oracle.ui.create_app`. A tab module:

- writes static text with :meth:`UIContext.k` (``gr.Button(ctx.k("ui.docs.upload"))``): the
  text is rendered in the start-up language and re-rendered in the session's language when
  the page loads with ``?lang=en`` (the language selector reloads the page with it);
- takes ``ctx.lang_state`` as an input of every event whose output has text, and builds
  dynamic text with ``ctx.t(key, lang)``;
- wraps its handlers in :func:`guard` so that an :class:`~oracle.errors.OracleError` reaches
  the person as ``gr.Error(err.message(lang))`` and anything else as a short generic message
  (the traceback goes to the log, never to the page);
- gives every event an ``api_name`` (tests drive the app with ``gradio_client``);
- runs work longer than a second off the request thread (:mod:`oracle.jobs.threads`, polled with a
  ``gr.Timer``) or reports it with ``gr.Progress``;
- registers components other tabs need in ``ctx.components`` (e.g. ``"doc_choices"``) and
  page-load refreshers with :meth:`UIContext.on_load`.
"""

import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

import gradio as gr

from oracle.config import Workspace
from oracle.errors import OracleError
from oracle.i18n import LANGUAGES, current_lang, t

logger = logging.getLogger(__name__)


class Key(str):
    """A translated string that remembers its i18n key, so the page can re-render it in another
    language. Behaves as the plain text in the start-up language."""

    key: str

    def __new__(cls, key: str, lang: str | None = None, **params: Any) -> Self:
        obj = super().__new__(cls, t(key, lang, **params))
        obj.key = key
        obj.params = params  # type: ignore[attr-defined]
        return obj

    def render(self, lang: str) -> str:
        return t(self.key, lang, **self.params)  # type: ignore[attr-defined]


# Component properties scanned for Key values when the page loads in another language.
TRANSLATABLE_PROPS = ("label", "info", "placeholder", "value")
# ``value`` is only translated for components whose value is display text.
_VALUE_IS_TEXT = (gr.Button, gr.DownloadButton, gr.Markdown, gr.HTML, gr.UploadButton)


@dataclass
class UIContext:
    """State shared by the tab modules while the Blocks are built (one per app).

    Attributes:
        workspace: the workspace every handler reads and writes (ORACLE_HOME).
        lang: the start-up language (``ORACLE_LANG``, default ``"pt"``); static labels are
            built in it.
        tasks: the process-wide registry of background tasks (QA generation, indexing).
        max_upload_mb: upload size limit in MB (``ORACLE_MAX_UPLOAD_MB``), also given to
            ``launch(max_file_size=...)``.
        oauth: True on a Hugging Face Space with OAuth (:func:`oracle.ui.oauth_enabled`): a
            ``gr.LoginButton`` is shown and handlers read ``gr.OAuthProfile``.
        lang_state: per-session language (``gr.State``), set from the ``?lang=`` query
            parameter when the page loads; pass it as an input to handlers that produce text.
        components: components shared between tabs, by name.
        demo: the ``gr.Blocks`` being built.
        tab: the ``gr.Tab`` whose ``build`` is running (for :meth:`on_show`).
    """

    workspace: Workspace
    lang: str = "pt"
    tasks: Any = None
    max_upload_mb: float = 50.0
    oauth: bool = False
    lang_state: Any = None
    demo: Any = None
    tab: Any = None
    components: dict[str, Any] = field(default_factory=dict)
    _loaders: list[tuple[Callable, list, str, list]] = field(default_factory=list)
    _shows: list[tuple[Any, Callable, list, str, list]] = field(default_factory=list)

    # --- text -----------------------------------------------------------------------
    def t(self, key: str, lang: str | None = None, **params: Any) -> str:
        """The string ``key`` in ``lang`` (default: the start-up language)."""
        return t(key, lang or self.lang, **params)

    def k(self, key: str, **params: Any) -> Key:
        """Static text for a component property (label, info, placeholder, button/markdown value):
        rendered now in the start-up language and again in the session language on page load."""
        return Key(key, self.lang, **params)

    # --- users ----------------------------------------------------------------------
    @staticmethod
    def user(request: gr.Request | None = None, profile: Any = None) -> str:
        """Who made a request: the Hugging Face OAuth user name, else the user name of
        ``launch(auth=...)``, else ``"anonymous"``."""
        if profile is not None:
            name = getattr(profile, "username", None) or getattr(profile, "name", None)
            if not name and isinstance(profile, dict):
                name = profile.get("preferred_username") or profile.get("name")
            if name:
                return str(name)
        if request is not None and getattr(request, "username", None):
            return str(request.username)
        return "anonymous"

    def display_user(self, name: str | None, lang: str | None = None) -> str:
        """A rating's user as shown on the page: the stored ``"anonymous"`` (or nothing) in the
        session's language (``"anônimo"``), any other name as is."""
        if not name or name == "anonymous":
            return self.t("ui.user.anonymous", lang)
        return name

    # --- page load ------------------------------------------------------------------
    def on_load(self, fn: Callable, outputs: list, api_name: str, inputs: list | None = None) -> None:
        """Run ``fn(*inputs, lang)`` when a page loads (``lang`` from the page's ``?lang=``) and put
        its return value(s) in ``outputs``: refresh tables, re-attach to running tasks."""
        self._loaders.append((fn, outputs, api_name, list(inputs or [])))

    def on_show(self, fn: Callable, outputs: list, api_name: str, inputs: list | None = None) -> None:
        """Run ``fn(*inputs, lang)`` each time the current tab is selected (refresh what other
        tabs changed)."""
        self._shows.append((self.tab, fn, outputs, api_name, list(inputs or [])))


def session_lang(value: Any) -> str:
    """A known language code from a query parameter or state value (``"pt"`` if unknown)."""
    value = (str(value) if value else "").lower()[:2]
    return value if value in LANGUAGES else current_lang()


def ui_error(err: BaseException, lang: str | None) -> gr.Error:
    """``gr.Error`` for any exception: an OracleError's own message, else a generic message (logged)."""
    if isinstance(err, gr.Error):
        return err
    if isinstance(err, OracleError):
        return gr.Error(err.message(lang), print_exception=False)
    logger.exception("unexpected error in a UI handler")
    return gr.Error(t("ui.err.unexpected", lang, detail=type(err).__name__), print_exception=False)


def _lang_from_call(sig: inspect.Signature, args: tuple, kwargs: dict) -> str | None:
    try:
        bound = sig.bind_partial(*args, **kwargs)
    except TypeError:
        return None
    value = bound.arguments.get("lang")
    return session_lang(value) if value else None


def guard(fn: Callable) -> Callable:
    """Decorate a UI handler: OracleError -> ``gr.Error`` in the session language (taken from the
    handler's ``lang`` parameter), other exceptions -> a generic ``gr.Error``; never a traceback.
    Works for plain functions and generator functions (streaming handlers); keeps the signature
    and type hints, so gradio still injects ``gr.Request``, ``gr.Progress``, ``gr.OAuthProfile``."""
    sig = inspect.signature(fn)

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any):
            try:
                yield from fn(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - turned into a user message
                raise ui_error(err, _lang_from_call(sig, args, kwargs)) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - turned into a user message
            raise ui_error(err, _lang_from_call(sig, args, kwargs)) from None

    return wrapper


def translatable_components(blocks: gr.Blocks) -> list[tuple[Any, dict[str, Key]]]:
    """Every block of ``blocks`` built with Key-valued properties: ``[(block, {prop: Key})]``.

    Read from the arguments the block was constructed with (gradio keeps them in
    ``_constructor_args``), since some components turn their value into a plain ``str``."""
    found = []
    for block in blocks.blocks.values():
        args: dict[str, Any] = {}
        for part in getattr(block, "_constructor_args", None) or []:
            args.update(part)
        for prop in TRANSLATABLE_PROPS:
            if prop not in args and isinstance(getattr(block, prop, None), Key):
                args[prop] = getattr(block, prop)
        props = {p: v for p, v in args.items() if p in TRANSLATABLE_PROPS and isinstance(v, Key)}
        if "value" in props and not isinstance(block, _VALUE_IS_TEXT):
            del props["value"]
        if props:
            found.append((block, props))
    return found
