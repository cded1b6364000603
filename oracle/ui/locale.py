"""Gradio's own texts in the session's language, whatever the browser's language.

Gradio's page picks its locale from ``navigator.language`` once, when its scripts start, and
passes the translator to each component as it mounts ("Drop File Here", "Click to Upload",
the dataframe's "Drop CSV or TSV files here"...): a locale set later (``launch(js=...)``)
leaves mounted components in English. So the page itself is changed before gradio's
scripts run: :class:`LocaleMiddleware` puts a small script at the top of the ``<head>`` of the
HTML page, which makes ``navigator.language`` say ``pt-BR`` (or ``en`` for ``?lang=en``), the
language the Oráculo page is rendered in (:func:`oracle.ui.create_app` reads the same
``?lang=``).

The same script fixes what gradio 6 does not translate at all: the toast titles, built from
the message type ("Error", "Warning", "Info"), and the pressed 👍/👎 tooltips ("Liked") are
rewritten as they appear. :data:`GRADIO_PT`
adds Portuguese for the few gradio keys its ``pt-BR`` file lacks (``launch(i18n=...)``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from oracle.i18n import current_lang
from oracle.ui.html_rewrite import HtmlRewriteMiddleware

logger = logging.getLogger(__name__)

BROWSER_LOCALE = {"pt": "pt-BR", "en": "en"}
"""Oráculo language -> the gradio frontend locale used for it."""

TOAST_TITLES = {"Error": "Erro", "Warning": "Aviso", "Info": "Informação", "Success": "Sucesso"}
"""Gradio's toast titles (the message type, capitalised) -> Portuguese."""

LABELS = {"Liked": "Gostei (marcado)", "Disliked": "Não gostei (marcado)",
          "Reset to default value": "Voltar ao valor padrão"}
"""Tooltips (``title`` / ``aria-label``) gradio 6 hard-codes in English -> Portuguese: the
chatbot's 👍/👎 once pressed, and a slider's ↺ button (read aloud by screen readers)."""

GRADIO_PT: dict[str, Any] = {
    "common": {"anonymous": "anônimo"},
}
"""Portuguese for gradio frontend keys missing from its own ``pt-BR`` file (nested by key part)."""

_SCRIPT = """<script data-oracle-locale>(function () {
  var known = %(known)s, fallback = %(default)s, titles = %(titles)s, labels = %(labels)s;
  var asked = (new URLSearchParams(window.location.search).get("lang") || "").slice(0, 2).toLowerCase();
  var locale = known[asked] || known[fallback] || "en";
  window.__oracle_locale__ = locale;
  try {
    Object.defineProperty(Navigator.prototype, "language", {configurable: true, get: function () { return locale; }});
    Object.defineProperty(Navigator.prototype, "languages", {configurable: true, get: function () { return [locale]; }});
  } catch (e) { /* a browser that refuses: gradio follows the browser's language */ }
  document.documentElement.setAttribute("lang", locale);
  if (locale.slice(0, 2) !== "pt") return;
  function retitle(root) {
    var found = root.querySelectorAll ? root.querySelectorAll(".toast-title") : [];
    for (var i = 0; i < found.length; i++) {
      var node = found[i].firstChild;
      if (node && node.nodeType === 3) {
        var word = node.nodeValue.trim();
        if (titles[word]) node.nodeValue = node.nodeValue.replace(word, titles[word]);
      }
    }
  }
  function relabel(el) {
    ["title", "aria-label"].forEach(function (name) {
      var value = el.getAttribute && el.getAttribute(name);
      if (value && labels[value]) el.setAttribute(name, labels[value]);
    });
  }
  new MutationObserver(function (changes) {
    for (var i = 0; i < changes.length; i++) {
      var c = changes[i];
      if (c.type === "attributes") { relabel(c.target); continue; }
      if (c.type === "characterData") { retitle(document); continue; }
      for (var j = 0; j < c.addedNodes.length; j++) {
        var node = c.addedNodes[j];
        if (node.nodeType !== 1) continue;
        retitle(node);
        relabel(node);
        var inner = node.querySelectorAll ? node.querySelectorAll("[title], [aria-label]") : [];
        for (var k = 0; k < inner.length; k++) relabel(inner[k]);
      }
    }
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true,
                                        attributes: true, attributeFilter: ["title", "aria-label"]});
})();</script>"""


def locale_script(lang: str | None = None) -> str:
    """The ``<script>`` put first in the page's ``<head>``: the browser locale gradio will use
    (``pt-BR``, or ``en`` for ``?lang=en``; ``lang`` is the default, ``ORACLE_LANG``) and the
    toast-title rewriter."""
    return _SCRIPT % {
        "known": json.dumps(BROWSER_LOCALE),
        "default": json.dumps(current_lang(lang)),
        "titles": json.dumps(TOAST_TITLES, ensure_ascii=False),
        "labels": json.dumps(LABELS, ensure_ascii=False),
    }


def inject_head(html: bytes, script: str) -> bytes:
    """``html`` with ``script`` right after its ``<head>`` tag (unchanged when there is none)."""
    marker = b"<head>"
    at = html.find(marker)
    if at < 0:
        return html
    at += len(marker)
    return html[:at] + script.encode("utf-8") + html[at:]


class LocaleMiddleware(HtmlRewriteMiddleware):
    """ASGI middleware: HTML pages get :func:`locale_script` at the top of their ``<head>``.

    Only ``GET`` responses with ``Content-Type: text/html`` are touched (gradio's page
    and its login page); everything else streams through unchanged. ``Content-Length`` is
    fixed to the new size (:class:`oracle.ui.html_rewrite.HtmlRewriteMiddleware`).

    Args:
        app: the ASGI app (gradio's FastAPI app).
        lang: the default language (``ORACLE_LANG``); a page opened with ``?lang=`` follows that.
    """

    def __init__(self, app, lang: str | None = None) -> None:
        super().__init__(app)
        self.script = locale_script(lang)

    def rewrite(self, html: bytes) -> bytes:
        return inject_head(html, self.script)
