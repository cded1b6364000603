"""Pieces several tabs share: the generator picker, document choices, progress bars, exports.

Only UI glue lives here; every function calls the core for the real work.
"""

import html
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from oracle import jobs
from oracle.config import DEFAULT_EMBEDDER, DEFAULT_GENERATOR, Workspace
from oracle.errors import GenerationError
from oracle.i18n import format_number, format_seconds  # format_seconds also used by the tabs
from oracle.ui.context import UIContext

logger = logging.getLogger(__name__)

OPENAI_CHOICE = "openai"
"""Value of the generator dropdown that shows the OpenAI-compatible fields."""


# --- models -----------------------------------------------------------------------


def bundled_generators() -> list[str]:
    """Names of the bundled generators (:data:`oracle.models.GENERATORS`), default first."""
    from oracle import models

    names = list(getattr(models, "GENERATORS", {}) or {})
    if DEFAULT_GENERATOR not in names:
        names.insert(0, DEFAULT_GENERATOR)
    return sorted(names, key=lambda n: (n != DEFAULT_GENERATOR, n))


def embedder_choices(workspace: Workspace) -> list[tuple[str, str]]:
    """``(label, value)``: bundled embedders, then fine-tuned embedders of the workspace (their folder,
    in ``embedders/`` or, from older versions, ``adapters/``: :func:`oracle.training.card.list_runs`)."""
    from oracle.training.card import list_runs

    choices = [(name, name) for name in bundled_embedders()]
    for run in list_runs(workspace, "embedding"):
        choices.append((f"{run.folder.name} ({run.base_model or '?'})", run.path))
    return choices


def bundled_embedders() -> list[str]:
    """Names of the bundled embedders (:data:`oracle.models.EMBEDDERS`), default first."""
    from oracle import models

    names = list(getattr(models, "EMBEDDERS", {}) or {})
    if DEFAULT_EMBEDDER not in names:
        names.insert(0, DEFAULT_EMBEDDER)
    return sorted(names, key=lambda n: (n != DEFAULT_EMBEDDER, n))


def default_generator() -> str:
    """``ORACLE_GENERATOR`` if set, else ``local:<DEFAULT_GENERATOR>``."""
    return os.environ.get("ORACLE_GENERATOR") or f"local:{DEFAULT_GENERATOR}"


def default_embedder() -> str:
    """``ORACLE_EMBEDDER`` if set, else :data:`oracle.config.DEFAULT_EMBEDDER`."""
    return os.environ.get("ORACLE_EMBEDDER") or DEFAULT_EMBEDDER


def generator_choices(ctx: UIContext, lang: str | None = None) -> list[tuple[str, str]]:
    """Dropdown choices ``(label, value)``: bundled local models, merged fine-tuned models of the
    workspace, the OpenAI-compatible endpoint, and one entry per prefix added with
    :func:`oracle.llm.register_generator`."""
    from oracle import llm

    from oracle import models

    choices = []
    for name in bundled_generators():
        profile = getattr(models.GENERATORS.get(name), "profile", "")
        suffix = f" ({ctx.t(f'ui.gen.profile.{profile}', lang)})" if profile else ""
        choices.append((f"{ctx.t('ui.gen.local', lang)}: {name}{suffix}", f"local:{name}"))
    from oracle.training.card import list_runs

    for run in list_runs(ctx.workspace, "merged"):
        choices.append((f"{ctx.t('ui.gen.merged', lang)}: {run.folder.name}", f"local:{run.path}"))
    choices.append((ctx.t("ui.gen.openai", lang), OPENAI_CHOICE))
    for prefix in llm.registered_prefixes():
        if prefix not in ("local", "openai"):
            choices.append((f"{prefix}", f"{prefix}:default"))
    default = ctx.components.get("default_generator") or default_generator()
    if default not in [v for _, v in choices]:
        choices.insert(0, (default, default))
    return choices


@dataclass
class GeneratorPicker:
    """The components that choose a generator: a dropdown, plus base URL / model / API key
    fields for an OpenAI-compatible server (shown only when that entry is chosen)."""

    choice: Any
    base_url: Any
    model: Any
    api_key: Any

    @property
    def inputs(self) -> list:
        return [self.choice, self.base_url, self.model, self.api_key]


def generator_picker(ctx: UIContext, name: str, label_key: str = "ui.gen.label") -> GeneratorPicker:
    """Build a :class:`GeneratorPicker` in the current layout (``name`` prefixes its api names).

    The key field is a password field; its value is only passed to the generator of one
    request (never stored, logged or written)."""
    default = ctx.components.get("default_generator") or default_generator()
    choice = gr.Dropdown(
        choices=generator_choices(ctx),
        value=default,
        label=ctx.k(label_key),
        info=ctx.k("ui.gen.info"),
        allow_custom_value=True,
        interactive=True,
    )
    with gr.Group(visible=default == OPENAI_CHOICE) as group:
        base_url = gr.Textbox(
            label=ctx.k("ui.gen.base_url"),
            value=os.environ.get("OPENAI_BASE_URL", ""),
            placeholder="https://api.openai.com/v1",
        )
        model = gr.Textbox(
            label=ctx.k("ui.gen.model"),
            value=os.environ.get("ORACLE_OPENAI_MODEL", ""),
            placeholder="gpt-4o-mini",
        )
        api_key = gr.Textbox(
            label=ctx.k("ui.gen.api_key"), info=ctx.k("ui.gen.api_key_info"), type="password", value=""
        )
    choice.change(
        lambda value: gr.Group(visible=value == OPENAI_CHOICE),
        inputs=[choice],
        outputs=[group],
        api_name=f"{name}_generator_fields",
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    return GeneratorPicker(choice, base_url, model, api_key)


def make_generator(
    choice: str, base_url: str = "", model: str = "", api_key: str = "", adapter: str | None = None
):
    """The generator a picker designates (:func:`oracle.llm.get_generator`).

    ``choice`` is a spec (``local:<name>``, ``fake:x``...) or :data:`OPENAI_CHOICE`, which
    uses ``model`` with ``base_url`` and ``api_key`` (blank: the ``OPENAI_*`` environment).

    Raises:
        GenerationError: no model named for the OpenAI-compatible endpoint; backend errors.
    """
    from oracle import llm

    choice = (choice or "").strip() or default_generator()
    adapter = adapter or None
    if choice == OPENAI_CHOICE:
        model = (model or "").strip()
        if not model:
            raise GenerationError("ui.err.openai_model", name=OPENAI_CHOICE)
        kw: dict[str, Any] = {}
        if (base_url or "").strip():
            kw["base_url"] = base_url.strip()
        if (api_key or "").strip():
            kw["api_key"] = api_key.strip()
        return llm.get_generator(f"openai:{model}", adapter=adapter, **kw)
    return llm.get_generator(choice, adapter=adapter)


@dataclass(frozen=True)
class GeneratorAdapter:
    """A LoRA adapter of the generator found in ``adapters/``, as the chat shows it.

    Attributes:
        name: folder name under ``adapters/`` (the chat dropdown's value).
        path: the folder (absolute).
        bases: the names the folder gives for its base model, most telling first
            (:func:`oracle.llm.adapter_base_models`: ``train.json`` ``base_model`` and
            ``base_model_path``, then peft's ``base_model_name_or_path``); ``()`` if unknown.
        created_at: the run card's ``created_at`` (ISO 8601), ``""`` when absent.
    """

    name: str
    path: str
    bases: tuple[str, ...] = ()
    created_at: str = ""

    @classmethod
    def of(cls, run: Any) -> "GeneratorAdapter":
        """From a :class:`oracle.training.card.RunCard` read from disk (its folder set)."""
        from oracle.llm import adapter_base_models

        folder = Path(run.folder)
        return cls(folder.name, str(folder.resolve()), tuple(adapter_base_models(folder)), run.created_at)

    @property
    def base_model(self) -> str | None:
        """The base model's name as recorded (``bases[0]``), or None."""
        return self.bases[0] if self.bases else None

    @property
    def label(self) -> str:
        """``"name (base)"``, e.g. ``"meu-adaptador (qwen2.5-coder-0.5b-instruct)"``; the base is
        shortened by :func:`oracle.llm.model_label` (a bundled model's cache folder shows as its
        bundled name, another folder as its last part); just ``name`` when the base is unknown."""
        from oracle.llm import model_label

        return f"{self.name} ({model_label(self.base_model)})" if self.base_model else self.name


def generator_adapters(workspace: Workspace) -> list[GeneratorAdapter]:
    """The generator's LoRA adapters (:func:`oracle.training.card.generator_adapters`), newest
    trained first, then those without a date by name. Embedders and merged models are left out."""
    from oracle.training.card import generator_adapters as _adapters

    return [GeneratorAdapter.of(run) for run in _adapters(workspace)]


def adapter_choices(workspace: Workspace) -> list[tuple[str, str]]:
    """``(label, folder name)`` of the generator's LoRA adapters (:func:`generator_adapters`),
    each labelled with its base model: ``("meu-adaptador (qwen2.5-coder-0.5b-instruct)",
    "meu-adaptador")``."""
    return [(a.label, a.name) for a in generator_adapters(workspace)]


def find_adapter(workspace: Workspace, name: str | None) -> GeneratorAdapter | None:
    """The generator adapter called ``name`` in ``adapters/``, or None (no name, a name with a
    path separator, or not a generator adapter: :func:`oracle.training.card.find_adapter`)."""
    from oracle.training.card import find_adapter as _find

    run = _find(workspace, name)
    return GeneratorAdapter.of(run) if run is not None else None


def local_model(choice: str | None) -> str | None:
    """The model of a generator dropdown value when it is a local one (``"local:<m>"`` or a bare
    name) -> ``<m>``; None for the OpenAI-compatible entry or another prefix (``"fake:x"``).
    A blank value means the default generator (:func:`default_generator`)."""
    from oracle import llm

    choice = (choice or "").strip() or default_generator()
    if choice == OPENAI_CHOICE:
        return None
    prefix, model = llm.split_spec(choice)
    return model if prefix == "local" else None


@dataclass(frozen=True)
class AdapterGenerator:
    """What the chat does with the generator when an adapter is chosen (:func:`generator_for_adapter`).

    Attributes:
        action: ``"keep"`` (the chosen generator is the adapter's base), ``"switch"`` (use
            ``generator`` instead), ``"unknown"`` (the adapter does not say its base: keep the
            generator), ``"unavailable"`` (its base is a folder that no longer exists: refuse).
        generator: the generator dropdown value to use (the given one unless ``"switch"``).
        base: the adapter's base model as recorded (None when unknown).
    """

    action: str
    generator: str
    base: str | None = None


def generator_for_adapter(
    choice: str | None, bases: Iterable[str], choices: Iterable[str] = ()
) -> AdapterGenerator:
    """Decide the generator for an adapter trained on ``bases`` while ``choice`` is selected.

    ``choice`` is kept when it is a local generator of the same model as any of ``bases``
    (:func:`oracle.llm.same_model`: a bundled name, its cache folder and its upstream hub id
    all match). Otherwise the generator switches to the first of ``choices`` (the dropdown's
    values) that is that model, else to ``local:<base>`` when the base is a bundled model, an
    existing folder or a hub id; a base folder that no longer exists gives ``"unavailable"``.

    Args:
        choice: the generator dropdown's value (``"local:<m>"``, ``"openai"``, ``"fake:x"``...).
        bases: names of the adapter's base model (:attr:`GeneratorAdapter.bases`).
        choices: the generator dropdown's values, to prefer an entry it already lists.
    """
    from oracle import llm

    bases = [b for b in bases if b]
    current = (choice or "").strip() or default_generator()
    if not bases:
        return AdapterGenerator("unknown", current, None)
    model = local_model(current)
    if model is not None and any(llm.same_model(model, b) for b in bases):
        return AdapterGenerator("keep", current, bases[0])
    for value in choices:
        other = local_model(value)
        if other is not None and any(llm.same_model(other, b) for b in bases):
            return AdapterGenerator("switch", value, bases[0])
    for base in bases:
        kind, _, ident = llm.model_identity(base).partition(":")
        if kind == "bundled":
            return AdapterGenerator("switch", f"local:{ident}", bases[0])
        if kind == "path" and Path(ident).is_dir():
            return AdapterGenerator("switch", f"local:{ident}", bases[0])
    for base in bases:
        if llm.model_identity(base).startswith("hub:"):
            return AdapterGenerator("switch", f"local:{base}", bases[0])
    return AdapterGenerator("unavailable", current, bases[0])


# --- documents --------------------------------------------------------------------


def doc_choices(workspace: Workspace) -> list[tuple[str, str]]:
    """``(name, doc_id)`` of every stored document, for dropdowns."""
    from oracle.ingest import list_documents

    return [(d.name, d.doc_id) for d in list_documents(workspace)]


# --- progress ---------------------------------------------------------------------


def progress_html(ctx: UIContext, status: jobs.JobStatus | None, lang: str,
                  count_key: str = "ui.task.count") -> str:
    """A progress bar for an in-process task's status (:mod:`oracle.jobs.threads`; ``""`` when
    there is none), its units counted with ``count_key`` (``{done} de {total} trechos``).

    The outer element carries ``data-state`` (``running``, ``completed``...) and ``data-done`` /
    ``data-total`` (the status's ``step``/``total``), which tests read."""
    if status is None:
        return ""
    state_text = ctx.t(f"ui.task.{status.state}", lang)
    parts = [state_text]
    if status.total:
        parts.append(ctx.t(count_key, lang, done=format_number(status.step, lang),
                           total=format_number(status.total, lang)))  # fmt: skip
    if status.state == jobs.RUNNING and status.eta_s is not None:
        parts.append(ctx.t("ui.task.eta", lang, eta=format_seconds(status.eta_s)))
    if status.finished:
        parts.append(ctx.t("ui.task.elapsed", lang, elapsed=format_seconds(status.elapsed_s)))
    detail = status.message if status.state == jobs.RUNNING else ""
    if status.state == jobs.FAILED:
        detail = status.error_message(lang)
    pct = round(100 * status.fraction)
    return (
        f'<div class="oracle-progress" data-state="{html.escape(status.state)}" '
        f'data-done="{status.step}" data-total="{status.total}">'
        f'<progress max="100" value="{pct}"></progress> '
        f"<span>{html.escape(' · '.join(parts))}</span>"
        + (f'<div class="oracle-progress-detail">{html.escape(detail)}</div>' if detail else "")
        + "</div>"
    )


# --- exports ----------------------------------------------------------------------


def export_copy(source: Path, name: str) -> str | None:
    """Copy ``source`` into a fresh temp folder as ``name`` and return the copy's path (gradio
    serves files from the temp dir); None when ``source`` does not exist."""
    if not source.is_file():
        return None
    folder = Path(tempfile.mkdtemp(prefix="oracle-export-"))
    target = folder / name
    target.write_bytes(source.read_bytes())
    return str(target)


def export_records(records: Iterable[Any], name: str) -> str:
    """Write records as JSONL into a fresh temp folder and return the file's path."""
    from oracle.schema import write_jsonl_atomic

    folder = Path(tempfile.mkdtemp(prefix="oracle-export-"))
    target = folder / name
    write_jsonl_atomic(target, list(records))
    Path(str(target) + ".lock").unlink(missing_ok=True)
    return str(target)


def dataframe(rows: list[list[Any]], headers: list[str]):
    """A pandas DataFrame for ``gr.Dataframe`` (headers in the session language)."""
    import pandas as pd

    return pd.DataFrame(rows, columns=headers)
