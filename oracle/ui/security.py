"""Nothing about the app's API before login: the page and the schema routes.

With password login (``ORACLE_AUTH``), gradio 6 answers 401 on its API routes, but two
things still describe the whole API to a visitor who has not logged in:

- the login page: gradio renders ``frontend/index.html`` with
  ``window.gradio_api_info = {...}`` (every endpoint, its parameters and code snippets)
  whether or not the visitor is logged in (``gradio/routes.py``, ``main``);
- FastAPI's own ``/openapi.json``, public by default (gradio already turns off ``/docs``
  and ``/redoc``).

:func:`harden_launch_kwargs` turns off the second (``openapi_url=None``; gradio's own
``/gradio_api/openapi.json`` needs login) and installs :class:`HideApiInfoBeforeLogin`,
which blanks the first (``window.gradio_api_info = null``) in HTML answered to a visitor
who has not logged in. The page's script then asks ``/gradio_api/info`` when it needs the
schema, and that route answers only after login. Logged-in visitors get the page as gradio
renders it.
"""

from __future__ import annotations

import re
from typing import Any

from oracle.ui.html_rewrite import HtmlRewriteMiddleware

#: The script line gradio's page template writes (``templates/frontend/index.html``).
_API_INFO_RE = re.compile(rb"window\.gradio_api_info\s*=\s*.*?;\s*</script>", re.DOTALL)
_BLANK_API_INFO = b"window.gradio_api_info = null;</script>"


def _cookies(scope: dict[str, Any]) -> dict[str, str]:
    from starlette.requests import HTTPConnection

    return dict(HTTPConnection(scope).cookies)


def needs_login(scope: dict[str, Any]) -> bool:
    """True when the app behind this request has password login and the request's cookie
    holds no token gradio issued (the check of gradio's ``get_current_user``).

    ``scope["app"]`` is gradio's ``App`` (Starlette puts itself there before running
    middleware); apps without ``auth`` never need it.
    """
    app = scope.get("app")
    if getattr(app, "auth", None) is None:
        return False
    cookie_id = getattr(app, "cookie_id", "")
    cookies = _cookies(scope)
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return not (token and getattr(app, "tokens", {}).get(token) is not None)


def strip_api_info(html: bytes) -> bytes:
    """``html`` with the value of ``window.gradio_api_info`` replaced by ``null``."""
    return _API_INFO_RE.sub(_BLANK_API_INFO, html)


class HideApiInfoBeforeLogin(HtmlRewriteMiddleware):
    """ASGI middleware: in HTML answered to a GET from a visitor who has not logged in, the
    embedded API schema is blanked (:func:`strip_api_info`). Other responses (assets, JSON,
    streams) pass through untouched and unbuffered
    (:class:`oracle.ui.html_rewrite.HtmlRewriteMiddleware`)."""

    def applies(self, scope: dict[str, Any]) -> bool:
        return needs_login(scope)

    def rewrite(self, html: bytes) -> bytes:
        return strip_api_info(html)


def harden_launch_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Add to ``Blocks.launch`` keyword arguments (in place, and returned): in its
    ``app_kwargs`` (those of gradio's FastAPI app), no public ``/openapi.json`` and
    :class:`HideApiInfoBeforeLogin` after any middleware already listed."""
    from starlette.middleware import Middleware

    app_kwargs = kwargs.setdefault("app_kwargs", {})
    app_kwargs["openapi_url"] = None
    app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), Middleware(HideApiInfoBeforeLogin)]
    return kwargs
