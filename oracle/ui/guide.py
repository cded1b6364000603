"""The "Como começar" guide above the tabs, the notices of tabs that need an earlier step, and
the tab a reload comes back to.

The guide shows the five steps of :mod:`oracle.onboarding` (enviar → indexar → perguntar →
avaliar → melhorar) as buttons with their status ("✅ 1. Enviar · 2 documento(s)"); a click
opens the tab of that step. A sentence says what to do next. A tab that needs an earlier step
(the chat without an index...) shows a notice at its top with a button to the tab of that step.
Everything is computed by :func:`oracle.onboarding.getting_started` (file counts, no model)
and refreshed on page load, on every tab change and after the actions that change it
(:func:`after`).

The selected tab is kept in the browser (``localStorage`` through a ``gr.BrowserState``), so a
reload (the language switch reloads the page too) opens the tab the person was on.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from oracle.onboarding import STEPS, Progress, StepStatus, blocking_step, getting_started
from oracle.ui.context import UIContext

logger = logging.getLogger(__name__)

ICONS = {"done": "✅", "next": "👉", "todo": "⬜"}
"""Status icon of a step button."""

TAB_LABEL_KEYS = {
    "documents": "ui.tab.documents",
    "qa": "ui.tab.qa",
    "index": "ui.tab.index",
    "finetune": "ui.tab.finetune",
    "chat": "ui.tab.chat",
    "ratings": "ui.tab.ratings",
    "evaluation": "ui.tab.evaluation",
}


@dataclass
class Guide:
    """The guide's components (built by :func:`build_guide`, completed by :func:`tab_notice`).

    Attributes:
        steps: one button per step of :data:`oracle.onboarding.STEPS`.
        next_md: the "próximo passo" sentence.
        notices: tab id -> (row, markdown, button) of that tab's notice.
        events: events after which the guide is refreshed (:func:`after`).
    """

    steps: list[Any]
    next_md: Any
    notices: dict[str, tuple[Any, Any, Any]] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)

    @property
    def outputs(self) -> list:
        """Every component :func:`guide_updates` updates, in its order."""
        out = [*self.steps, self.next_md]
        for row, md, button in self.notices.values():
            out += [row, md, button]
        return out


def step_label(ctx: UIContext, status: StepStatus, lang: str) -> str:
    """The text of a step button: ``"✅ 1. Enviar · 2 documento(s)"``, ``"👉 2. Indexar"``."""
    from oracle.i18n import format_number

    number = STEPS.index(status.step) + 1
    label = f"{ICONS[status.state]} {number}. {ctx.t(f'ui.guide.step.{status.step}', lang)}"
    if status.step == "index" and status.partial and status.count:
        return (
            f"{label} · {ctx.t('ui.guide.count.index_partial', lang, n=format_number(status.partial, lang))}"
        )
    if status.count:
        return (
            f"{label} · {ctx.t(f'ui.guide.count.{status.step}', lang, n=format_number(status.count, lang))}"
        )
    return label


def next_text(ctx: UIContext, progress: Progress, lang: str) -> str:
    """What to do next, in one sentence (or that everything is done)."""
    step = progress.next_step
    if step is None:
        return ctx.t("ui.guide.all_done", lang)
    if step.step == "index" and step.partial and progress.has_index:
        return ctx.t("ui.guide.next.index_partial", lang, n=step.partial)
    return ctx.t(f"ui.guide.next.{step.step}", lang)


def notice_text(ctx: UIContext, status: StepStatus, lang: str) -> str:
    """A tab's notice for the earlier step it needs."""
    return ctx.t(f"ui.needs.{status.step}", lang)


def go_label(ctx: UIContext, tab: str, lang: str) -> str:
    """``"Ir para Índice →"``."""
    return ctx.t("ui.guide.go", lang, tab=ctx.t(TAB_LABEL_KEYS.get(tab, tab), lang))


def build_guide(ctx: UIContext) -> Guide:
    """The "Como começar" accordion (call it above the tabs); stored in ``ctx.components["guide"]``."""
    progress = getting_started(ctx.workspace)
    with gr.Accordion(ctx.k("ui.guide.title"), open=not progress.all_done, elem_id="oracle-guide"):
        with gr.Row(equal_height=True):
            steps = [
                gr.Button(
                    step_label(ctx, status, ctx.lang),
                    variant="primary" if status.state == "next" else "secondary",
                    size="sm",
                    min_width=120,
                    elem_id=f"oracle-step-{status.step}",
                    elem_classes=["oracle-step", f"oracle-step-{status.state}"],
                )
                for status in progress.steps
            ]
        next_md = gr.Markdown(next_text(ctx, progress, ctx.lang), elem_id="oracle-guide-next")
    guide = Guide(steps=steps, next_md=next_md)
    ctx.components["guide"] = guide
    return guide


def tab_notice(ctx: UIContext, tab_id: str) -> None:
    """A hidden notice at the top of tab ``tab_id`` (call it inside the tab, first), shown while
    the tab needs an earlier step (:func:`oracle.onboarding.blocking_step`)."""
    guide: Guide | None = ctx.components.get("guide")
    if guide is None:
        return
    progress = getting_started(ctx.workspace)
    blocked = blocking_step(progress, tab_id)
    with gr.Row(visible=blocked is not None, equal_height=True, elem_id=f"oracle-needs-{tab_id}",
                elem_classes=["oracle-needs"]) as row:  # fmt: skip
        md = gr.Markdown(notice_text(ctx, blocked, ctx.lang) if blocked else "")
        button = gr.Button(go_label(ctx, blocked.tab, ctx.lang) if blocked else "", size="sm", scale=0,
                           min_width=200, elem_id=f"oracle-needs-{tab_id}-go")  # fmt: skip
    guide.notices[tab_id] = (row, md, button)


def after(ctx: UIContext, event: Any) -> None:
    """Refresh the guide (and the tabs' notices) after ``event`` (an event listener's return
    value, e.g. ``button.click(...)``), once every tab is built."""
    guide: Guide | None = ctx.components.get("guide")
    if guide is not None and event is not None:
        guide.events.append(event)


def guide_updates(ctx: UIContext, guide: Guide, lang: str) -> list:
    """Updates of :attr:`Guide.outputs` for the workspace as it is now."""
    progress = getting_started(ctx.workspace)
    out: list = []
    for status in progress.steps:
        out.append(gr.Button(value=step_label(ctx, status, lang),
                             variant="primary" if status.state == "next" else "secondary",
                             elem_classes=["oracle-step", f"oracle-step-{status.state}"]))  # fmt: skip
    out.append(next_text(ctx, progress, lang))
    for tab_id in guide.notices:
        blocked = blocking_step(progress, tab_id)
        if blocked is None:
            out += [gr.Row(visible=False), gr.skip(), gr.skip()]
        else:
            out += [gr.Row(visible=True), notice_text(ctx, blocked, lang), go_label(ctx, blocked.tab, lang)]
    return out


def _storage(ctx: UIContext) -> tuple[str, str]:
    digest = hashlib.sha256(str(ctx.workspace.home).encode("utf-8")).hexdigest()
    return "oracle-tab-" + digest[:16], digest[16:48]


def wire(ctx: UIContext, tabs: Any, tab_blocks: dict[str, Any]) -> None:
    """Connect the guide once the tabs are built: step and notice buttons open their tab, the
    guide refreshes on load, on tab change and after :func:`after` events; the selected tab is
    remembered in the browser and opened again on reload.

    Args:
        ctx: the app's context (``ctx.components["guide"]`` from :func:`build_guide`).
        tabs: the ``gr.Tabs``.
        tab_blocks: tab id -> its ``gr.Tab``.
    """
    guide: Guide | None = ctx.components.get("guide")
    if guide is None:
        return
    outputs = guide.outputs
    hidden = {"api_visibility": "private", "show_progress": "hidden"}

    def refresh(lang: str):
        return guide_updates(ctx, guide, lang)

    def open_step(step: str):
        def go():
            progress = getting_started(ctx.workspace)
            return gr.Tabs(selected=progress.step(step).tab)

        return go

    def open_needed(tab_id: str):
        def go():
            blocked = blocking_step(getting_started(ctx.workspace), tab_id)
            return gr.Tabs(selected=blocked.tab) if blocked is not None else gr.skip()

        return go

    for step, button in zip(STEPS, guide.steps):
        button.click(open_step(step), inputs=None, outputs=[tabs], api_name=f"guide_open_{step}", queue=False,
                     **hidden)  # fmt: skip
    for tab_id, (_, _, button) in guide.notices.items():
        button.click(open_needed(tab_id), inputs=None, outputs=[tabs], api_name=f"guide_needs_{tab_id}",
                     queue=False, **hidden)  # fmt: skip

    ctx.on_load(refresh, outputs, api_name="guide_load")
    key, secret = _storage(ctx)
    remembered = gr.BrowserState("", storage_key=key, secret=secret)
    for tab_id, tab in tab_blocks.items():
        tab.select(lambda t=tab_id: t, inputs=None, outputs=[remembered], api_name=f"guide_remember_{tab_id}",
                   queue=False, **hidden)  # fmt: skip
        tab.select(
            refresh, inputs=[ctx.lang_state], outputs=outputs, api_name=f"guide_show_{tab_id}", **hidden
        )
    for i, event in enumerate(guide.events):
        event.then(refresh, inputs=[ctx.lang_state], outputs=outputs, api_name=f"guide_after_{i}", **hidden)

    def reopen(tab_id: str | None):
        """The tab saved in the browser, opened again when the page loads."""
        return gr.Tabs(selected=tab_id) if tab_id in tab_blocks else gr.skip()

    # once, on page load (the browser's value arrives with it); not on every change: opening the
    # tab fires its select, which saves the tab again, which would open it again, and so on
    ctx.on_load(lambda tab_id, lang: reopen(tab_id), [tabs], api_name="guide_reopen_tab", inputs=[remembered])
    ctx.components["remembered_tab"] = remembered
