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

from oracle.config import DEFAULT_EMBEDDER, DEFAULT_GENERATOR, Workspace
from oracle.errors import GenerationError
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
    """``(label, value)``: bundled embedders, then fine-tuned embedders of the workspace (their folder)."""
    choices = [(name, name) for name in bundled_embedders()]
    for run in trained_runs(workspace, "embedding"):
        choices.append((f"{Path(run['path']).name} ({run.get('base_model', '?')})", run["path"]))
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

    choices = [(f"{ctx.t('ui.gen.local', lang)}: {name}", f"local:{name}") for name in bundled_generators()]
    for run in trained_runs(ctx.workspace, "merged"):
        choices.append((f"{ctx.t('ui.gen.merged', lang)}: {Path(run['path']).name}", f"local:{run['path']}"))
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


def trained_runs(workspace: Workspace, kind: str | None = None) -> list[dict[str, Any]]:
    """Finished fine-tuning runs of the workspace (``train.json`` of ``adapters/*``, newest first;
    :func:`oracle.training.lora.list_adapters`), optionally of one ``kind`` (``"lora"``,
    ``"embedding"``, ``"merged"``). ``[]`` when the training package is unavailable."""
    try:
        from oracle.training.lora import list_adapters as _list
    except ImportError:  # pragma: no cover - training is optional for the app
        return []
    try:
        runs = _list(workspace)
    except OSError:
        return []
    return [r for r in runs if kind is None or r.get("kind") == kind]


def list_adapters(workspace: Workspace) -> list[tuple[str, str]]:
    """``(label, folder name)`` of the LoRA adapters for the generator: runs of kind ``"lora"``
    (labelled with their base model) and any other folder with a peft ``adapter_config.json``."""
    out: list[tuple[str, str]] = []
    seen = set()
    for run in trained_runs(workspace, "lora"):
        name = Path(run["path"]).name
        base = run.get("base_model")
        out.append((f"{name} ({base})" if base else name, name))
        seen.add(name)
    for folder in sorted(workspace.adapters.iterdir()):
        if folder.name in seen or (folder / "train.json").is_file():
            continue  # listed above, or a run of another kind (e.g. an embedder)
        if (folder / "adapter_config.json").is_file():
            out.append((folder.name, folder.name))
    return out


def adapter_path(workspace: Workspace, name: str | None) -> str | None:
    """The folder of adapter ``name`` (None for none). Names with path separators are refused."""
    if not name:
        return None
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    path = workspace.adapters / name
    return str(path) if path.is_dir() else None


# --- documents --------------------------------------------------------------------


def doc_choices(workspace: Workspace) -> list[tuple[str, str]]:
    """``(name, doc_id)`` of every stored document, for dropdowns."""
    from oracle.ingest import list_documents

    return [(d.name, d.doc_id) for d in list_documents(workspace)]


# --- progress ---------------------------------------------------------------------


def format_seconds(seconds: float | None) -> str:
    """``"42 s"``, ``"3 min 05 s"``, ``"1 h 02 min"``; ``"?"`` for None."""
    if seconds is None:
        return "?"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {(seconds % 3600) // 60:02d} min"


def progress_html(ctx: UIContext, status: Any, lang: str) -> str:
    """A progress bar for a :class:`oracle.tasks.TaskStatus` (``""`` when there is none).

    The outer element carries ``data-state`` (``running``, ``done``...) and ``data-done`` /
    ``data-total``, which tests read."""
    if status is None:
        return ""
    state_text = ctx.t(f"ui.task.{status.state}", lang)
    parts = [state_text]
    if status.total:
        parts.append(ctx.t("ui.task.count", lang, done=status.done, total=status.total))
    if status.state == "running" and status.eta_s is not None:
        parts.append(ctx.t("ui.task.eta", lang, eta=format_seconds(status.eta_s)))
    if status.finished:
        parts.append(ctx.t("ui.task.elapsed", lang, elapsed=format_seconds(status.elapsed_s)))
    detail = status.message if status.state == "running" else ""
    if status.state == "failed":
        detail = status.error_message(lang)
    pct = round(100 * status.fraction)
    return (
        f'<div class="oracle-progress" data-state="{html.escape(status.state)}" '
        f'data-done="{status.done}" data-total="{status.total}">'
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
