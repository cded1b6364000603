"""The app's strings (``ui.*`` keys), registered into :func:`oracle.i18n.t` on import.

:mod:`oracle.ui` imports this package before any tab, so ``t("ui.…")`` and ``ctx.t("ui.…")``
resolve wherever the app runs; the core never names a ``ui.*`` key (tests/test_i18n.py).
The strings themselves are plain data in :mod:`oracle.ui.locales.strings`.
"""

from oracle.i18n import register
from oracle.ui.locales.strings import STRINGS

register(STRINGS)

__all__ = ["STRINGS"]
